//! Gaussian kernel density estimate on a grid.

/// The density of `values` at `points` grid points spanning the data: a Gaussian kernel with
/// Silverman's bandwidth `0.9 · min(sd, IQR/1.34) · n^(-1/5)`, reflected at the smallest and
/// largest value (ArviZ's default `bound_correction`), so that a variable bounded there (a
/// scale near 0, a probability near 1) keeps its density up to the bound rather than leaking
/// it past. Returns `(xs, densities)`; empty for no finite values. A constant sample gets a
/// narrow spike.
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
    let (first, last) = (v[0], v[v.len() - 1]);
    // A constant sample: a spike of a small width, on a grid around it, not reflected.
    let reflect = last > first && spread > 0.0;
    let bw = if reflect { 0.9 * spread * n.powf(-0.2) } else { 1e-3 * scale };
    let (lo, hi) = if reflect { (first, last) } else { (first - 3.0 * bw, last + 3.0 * bw) };
    let step = (hi - lo) / (points - 1) as f64;
    let norm = 1.0 / (n * bw * (2.0 * std::f64::consts::PI).sqrt());
    let xs: Vec<f64> = (0..points).map(|i| lo + step * i as f64).collect();
    // Only draws within 8 bandwidths of `x` (or whose mirror image is) contribute: the sorted
    // draws bound each window.
    let reach = 8.0 * bw;
    let sum_at = |x: f64, d: &[f64], image: fn(f64, f64) -> f64, at: f64| {
        d.iter().map(|&d| (-0.5 * ((x - image(at, d)) / bw).powi(2)).exp()).sum::<f64>()
    };
    let ys = xs
        .iter()
        .map(|&x| {
            let from = v.partition_point(|&d| d < x - reach);
            let to = v.partition_point(|&d| d <= x + reach);
            let mut sum = sum_at(x, &v[from..to], |_, d| d, 0.0);
            if reflect {
                // The images 2·first − d (at or below `first`) and 2·last − d (at or above
                // `last`) of the draws near either end.
                let low = v.partition_point(|&d| d <= 2.0 * first - x + reach);
                let high = v.partition_point(|&d| d < 2.0 * last - x - reach);
                let mirror = |at: f64, d: f64| 2.0 * at - d;
                sum += sum_at(x, &v[..low], mirror, first) + sum_at(x, &v[high..], mirror, last);
            }
            norm * sum
        })
        .collect();
    (xs, ys)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// On standard-normal quantiles the estimate integrates to 1 and is close to the normal
    /// density (bias of order bw² at the mode), and on their absolute values to the
    /// half-normal's, up to its bound.
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
        // Half-normal quantiles: the grid starts at the smallest draw, and the density there
        // is the half-normal's 2φ(0) = 0.798 (reflected), not half of it (leaked below 0).
        let half: Vec<f64> = draws.iter().map(|d| d.abs()).collect();
        let (xs, ys) = kde(&half, 400);
        assert_eq!(xs[0], half.iter().copied().fold(f64::INFINITY, f64::min));
        let area: f64 = ys.iter().sum::<f64>() * (xs[1] - xs[0]);
        assert!((area - 1.0).abs() < 0.01, "area {area}");
        for (x, y) in xs.iter().zip(&ys).filter(|(x, _)| **x < 2.0) {
            let want = 2.0 * (-0.5 * x * x).exp() / (2.0 * std::f64::consts::PI).sqrt();
            assert!((y - want).abs() < 0.02, "at {x}: {y} vs {want}");
        }
        let (_, spike) = kde(&[2.0; 10], 11);
        assert!(spike.iter().all(|y| y.is_finite()));
    }
}
