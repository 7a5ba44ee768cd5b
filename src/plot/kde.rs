//! Gaussian kernel density estimate on a grid.

/// The density of `values` at `points` grid points spanning the data ± 3 bandwidths: a
/// Gaussian kernel with Silverman's bandwidth `0.9 · min(sd, IQR/1.34) · n^(-1/5)`. Returns
/// `(xs, densities)`; empty for no finite values. A constant sample gets a narrow spike.
pub fn kde(values: &[f64], points: usize) -> (Vec<f64>, Vec<f64>) {
    let mut v: Vec<f64> = values.iter().copied().filter(|x| x.is_finite()).collect();
    if v.is_empty() || points < 2 {
        return (Vec::new(), Vec::new());
    }
    v.sort_by(f64::total_cmp);
    let n = v.len() as f64;
    let mean = v.iter().sum::<f64>() / n;
    let sd = (v.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (n - 1.0).max(1.0)).sqrt();
    let q = |p: f64| v[((p * (n - 1.0)).round() as usize).min(v.len() - 1)];
    let iqr = q(0.75) - q(0.25);
    let spread = if iqr > 0.0 { sd.min(iqr / 1.34) } else { sd };
    let scale = v[v.len() - 1].abs().max(v[0].abs()).max(1.0);
    let bw = if spread > 0.0 { 0.9 * spread * n.powf(-0.2) } else { 1e-3 * scale };
    let (lo, hi) = (v[0] - 3.0 * bw, v[v.len() - 1] + 3.0 * bw);
    let step = (hi - lo) / (points - 1) as f64;
    let norm = 1.0 / (n * bw * (2.0 * std::f64::consts::PI).sqrt());
    let xs: Vec<f64> = (0..points).map(|i| lo + step * i as f64).collect();
    let ys = xs
        .iter()
        .map(|&x| {
            // Only draws within 8 bandwidths contribute: the sorted draws bound the window.
            let from = v.partition_point(|&d| d < x - 8.0 * bw);
            let to = v.partition_point(|&d| d <= x + 8.0 * bw);
            norm * v[from..to].iter().map(|&d| (-0.5 * ((x - d) / bw).powi(2)).exp()).sum::<f64>()
        })
        .collect();
    (xs, ys)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// On standard-normal quantiles the estimate integrates to 1 and is close to the normal
    /// density (bias of order bw² at the mode).
    #[test]
    fn recovers_a_normal_density() {
        let n = 4000;
        let draws: Vec<f64> =
            (0..n).map(|i| crate::diagnostics::norm_ppf((i as f64 + 0.5) / n as f64)).collect();
        let (xs, ys) = kde(&draws, 400);
        let dx = xs[1] - xs[0];
        let area: f64 = ys.iter().sum::<f64>() * dx;
        assert!((area - 1.0).abs() < 1e-3, "area {area}");
        for (x, y) in xs.iter().zip(&ys) {
            let want = (-0.5 * x * x).exp() / (2.0 * std::f64::consts::PI).sqrt();
            assert!((y - want).abs() < 0.01, "at {x}: {y} vs {want}");
        }
        assert!(kde(&[], 10).0.is_empty());
        let (_, spike) = kde(&[2.0; 10], 11);
        assert!(spike.iter().all(|y| y.is_finite()));
    }
}
