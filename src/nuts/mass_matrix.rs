//! Diagonal mass-matrix estimation: Welford variance with Stan's regularisation.

/// Running mean and variance per coordinate.
#[derive(Clone, Debug, Default)]
pub struct Welford {
    n: f64,
    mean: Vec<f64>,
    m2: Vec<f64>,
}

impl Welford {
    /// Empty estimator for dimension `d`.
    pub fn new(d: usize) -> Welford {
        Welford { n: 0.0, mean: vec![0.0; d], m2: vec![0.0; d] }
    }

    /// Adds one sample.
    pub fn add(&mut self, q: &[f64]) {
        self.n += 1.0;
        // One division per sample rather than per coordinate.
        let w = 1.0 / self.n;
        for ((m, s), &x) in self.mean.iter_mut().zip(&mut self.m2).zip(q) {
            let delta = x - *m;
            *m += delta * w;
            *s += delta * (x - *m);
        }
    }

    /// Prefetches both buffers (see [`crate::mem::prefetch`]).
    pub fn prefetch(&self) {
        crate::mem::prefetch(&self.mean);
        crate::mem::prefetch(&self.m2);
    }

    /// Means per coordinate.
    pub fn mean(&self) -> &[f64] {
        &self.mean
    }

    /// Adds every sample `other` has seen (Chan et al.'s pairwise update): the pooled
    /// estimator of both sample sets.
    pub fn merge(&mut self, other: &Welford) {
        if other.n == 0.0 {
            return;
        }
        if self.n == 0.0 {
            *self = other.clone();
            return;
        }
        let n = self.n + other.n;
        for i in 0..self.mean.len().min(other.mean.len()) {
            let delta = other.mean[i] - self.mean[i];
            self.mean[i] += delta * other.n / n;
            self.m2[i] += other.m2[i] + delta * delta * self.n * other.n / n;
        }
        self.n = n;
    }

    /// Samples seen since the last restart.
    pub fn count(&self) -> usize {
        self.n as usize
    }

    /// Stan's regularised variance: `n/(n+5)·var + 1e-3·5/(n+5)` with the sample variance.
    pub fn regularized_variance(&self) -> Vec<f64> {
        let n = self.n;
        self.m2.iter().map(|m2| (n / (n + 5.0)) * (m2 / (n - 1.0)) + 1e-3 * (5.0 / (n + 5.0))).collect()
    }

    /// Sample variances (`n - 1` denominator).
    pub fn variance(&self) -> Vec<f64> {
        self.m2.iter().map(|m2| m2 / (self.n - 1.0)).collect()
    }

    /// Forgets all samples (keeping the buffers).
    pub fn restart(&mut self) {
        self.n = 0.0;
        self.mean.fill(0.0);
        self.m2.fill(0.0);
    }
}

/// nutpie's diagonal estimate from draws and gradients, `sqrt(var(x) / var(∇logp))`, written
/// into `out` (resized to the dimension): exact for Gaussians and usable after a handful of
/// draws. Non-finite or zero ratios fall back to 1; results are clamped to `[1e-10, 1e10]`.
pub fn draw_gradient_metric(draws: &Welford, grads: &Welford, out: &mut Vec<f64>) {
    out.resize(draws.m2.len(), 0.0);
    let scale = (grads.n - 1.0) / (draws.n - 1.0);
    for ((o, sx), sg) in out.iter_mut().zip(&draws.m2).zip(&grads.m2) {
        *o = bounded_ratio((sx * scale / sg).sqrt());
    }
}

/// [`draw_gradient_metric`] over the draws of two windows, each held as four slots of
/// `out.len()` values (Welford estimators: the draws' means and sums of squared deviations,
/// then the gradients'), with as many draws as gradients in each: the windows' sums are
/// merged (Chan et al.: `M2 = M2ₐ + M2ᵦ + δ²·nₐnᵦ/(nₐ + nᵦ)`, `cross` being the last
/// factor), so the counts cancel in the ratio.
///
/// A warmup draw of nutpie's schedule calls this for every chain, so it is written for the
/// vector units: one division per coordinate and a bound that selects rather than branches.
pub(crate) fn merged_draw_gradient_ratio(cross: f64, (a, b): (&[f64], &[f64]), out: &mut [f64]) {
    let d = out.len();
    let (amx, asx, amg, asg) = (&a[..d], &a[d..2 * d], &a[2 * d..3 * d], &a[3 * d..4 * d]);
    let (bmx, bsx, bmg, bsg) = (&b[..d], &b[d..2 * d], &b[2 * d..3 * d], &b[3 * d..4 * d]);
    for i in 0..d {
        let (dx, dg) = (bmx[i] - amx[i], bmg[i] - amg[i]);
        let sx = asx[i] + bsx[i] + dx * dx * cross;
        let sg = asg[i] + bsg[i] + dg * dg * cross;
        out[i] = bounded_ratio((sx / sg).sqrt());
    }
}

/// A draw-and-gradient ratio `sd(x) / sd(∇)` as an inverse mass element: clamped to
/// `[1e-10, 1e10]`, 1 where it is not finite or not positive. Written to select rather than
/// branch (a NaN fails both comparisons), so loops over coordinates vectorise.
#[inline]
pub fn bounded_ratio(r: f64) -> f64 {
    if r > 0.0 && r < f64::INFINITY { r.clamp(1e-10, 1e10) } else { 1.0 }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_two_pass_variance_with_regularisation() {
        let xs = [1.0, 4.0, 2.5, -1.0, 3.0, 0.5];
        let mut w = Welford::new(1);
        xs.iter().for_each(|&x| w.add(&[x]));
        let n = xs.len() as f64;
        let mean = xs.iter().sum::<f64>() / n;
        let var = xs.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (n - 1.0);
        let want = n / (n + 5.0) * var + 1e-3 * 5.0 / (n + 5.0);
        assert!((w.regularized_variance()[0] - want).abs() < 1e-14);
    }

    #[test]
    fn merged_estimators_equal_the_pooled_one() {
        let xs: Vec<f64> = (0..50).map(|i| ((i * 37) % 11) as f64 * 0.3 - 1.0).collect();
        let (mut a, mut b, mut all) = (Welford::new(1), Welford::new(1), Welford::new(1));
        for (i, &x) in xs.iter().enumerate() {
            if i < 17 {
                a.add(&[x])
            } else {
                b.add(&[x])
            }
            all.add(&[x]);
        }
        a.merge(&b);
        assert_eq!(a.count(), 50);
        assert!((a.mean()[0] - all.mean()[0]).abs() < 1e-14);
        assert!((a.variance()[0] - all.variance()[0]).abs() < 1e-13);
    }
}
