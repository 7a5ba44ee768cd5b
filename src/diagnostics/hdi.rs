//! Highest density interval (ArviZ 0.23.4 `_hdi`, unimodal, non-circular).

/// Narrowest interval holding `floor(prob · n)` + 1 sorted draws
/// (`az.hdi(values, hdi_prob=prob)`): after sorting, the window
/// `[s[i], s[i + k]]` with `k = floor(prob · n)` of minimum width, the first one
/// on ties.
///
/// Returns `(NaN, NaN)` where ArviZ would raise (empty input, `prob` outside
/// `(0, 1]`, `k = n`) and also when any value is NaN.
pub fn hdi(values: &[f64], prob: f64) -> (f64, f64) {
    let nan = (f64::NAN, f64::NAN);
    let n = values.len();
    if n == 0 || !(prob > 0.0 && prob <= 1.0) || values.iter().any(|x| x.is_nan()) {
        return nan;
    }
    let mut s = values.to_vec();
    s.sort_by(|a, b| a.total_cmp(b));
    let k = (prob * n as f64).floor() as usize;
    if k >= n {
        return nan;
    }
    let mut best = 0;
    let mut best_width = f64::INFINITY;
    for i in 0..n - k {
        let w = s[i + k] - s[i];
        // np.argmin: first minimum; a NaN width (inf - inf) wins, as in NumPy
        if w.is_nan() {
            best = i;
            break;
        }
        if w < best_width {
            best_width = w;
            best = i;
        }
    }
    (s[best], s[best + k])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn simple_interval() {
        let v = [5.0, 1.0, 2.0, 2.5, 3.0, 10.0, 2.2, 2.8, 2.6, 2.4];
        // k = floor(0.5 * 10) = 5; az.hdi gives [2.0, 2.8] (first of the 0.8-wide windows)
        assert_eq!(hdi(&v, 0.5), (2.0, 2.8));
        assert!(hdi(&[], 0.94).0.is_nan());
        assert_eq!(hdi(&[1.0], 0.94), (1.0, 1.0));
        assert!(hdi(&v, 1.0).0.is_nan());
        assert!(hdi(&v, 0.0).1.is_nan());
    }
}
