//! The tempering schedule and resampling of sequential Monte Carlo, as PyMC's `SMC_KERNEL`
//! has them.

use crate::diagnostics::logsumexp;

/// The bisection's width at which it stops, relative to the step from the last inverse
/// temperature (PyMC stops at an absolute `1e-6`).
const BISECTION_WIDTH: f64 = 1e-6;
/// Most halvings of the bisection (steps below `2⁻²⁰⁰` of the interval are not told apart).
const BISECTION_STEPS: usize = 200;

/// The next stage's inverse temperature from `beta` and the particles' log-likelihoods
/// `loglik` (PyMC's `update_beta_and_weights`): by bisection on `(beta, 2)`, the value at
/// which the importance weights `exp((β' − β) ℓ)` have an effective sample size
/// `⌊1/Σ w̃²⌋` of `⌊threshold · N⌋` (BDA3 eq. 10.4), taken as 1 where it reaches 1. The
/// bisection stops where the interval is `1e-6` of the step `β' − β`, not PyMC's absolute
/// `1e-6`: where the likelihood is sharp against the prior (a regression with vague priors)
/// the first step is far below `1e-6`, and PyMC's step leaves a handful of particles. Returns
/// the new value, the normalised weights, and the stage's increment of the log marginal
/// likelihood, `log(Σ exp((β' − β) ℓ) / N)`. A log-likelihood that is not a number counts as
/// `−∞` (the particle gets no weight).
pub(crate) fn next_beta(loglik: &[f64], beta: f64, threshold: f64) -> (f64, Vec<f64>, f64) {
    let n = loglik.len();
    let target = (n as f64 * threshold) as usize;
    let unnormalised = |next: f64| -> Vec<f64> {
        loglik.iter().map(|&l| if l.is_nan() { f64::NEG_INFINITY } else { (next - beta) * l }).collect()
    };
    let (mut low, mut up) = (beta, 2.0);
    let mut next = beta;
    for _ in 0..BISECTION_STEPS {
        if up - low <= BISECTION_WIDTH * (up - beta) {
            break;
        }
        next = (low + up) / 2.0;
        let lw = unnormalised(next);
        let total = logsumexp(&lw);
        let squares: Vec<f64> = lw.iter().map(|w| 2.0 * (w - total)).collect();
        let ess = (-logsumexp(&squares)).exp();
        // PyMC truncates the effective sample size to an integer (a NaN one counts as 0).
        let ess = if ess.is_finite() { ess as usize } else { 0 };
        match ess.cmp(&target) {
            std::cmp::Ordering::Equal => break,
            std::cmp::Ordering::Less => up = next,
            std::cmp::Ordering::Greater => low = next,
        }
    }
    let next = next.min(1.0);
    let lw = unnormalised(next);
    let total = logsumexp(&lw);
    let weights: Vec<f64> = lw.iter().map(|w| (w - total).exp()).collect();
    let sum: f64 = weights.iter().sum();
    (next, weights.iter().map(|w| w / sum).collect(), total - (n as f64).ln())
}

/// Systematic resampling (PyMC's `systematic_resampling`): `N` indices into `weights`
/// (normalised), the `i`-th at the cumulative weight reaching `(u + i) / N`, for one uniform
/// `u` in `[0, 1)`. Rounding that leaves the last cumulative sum below a point takes the last
/// particle of positive weight.
pub(crate) fn systematic_resampling(weights: &[f64], u: f64) -> Vec<usize> {
    let n = weights.len();
    let last = weights.iter().rposition(|&w| w > 0.0).unwrap_or(n.saturating_sub(1));
    let mut out = Vec::with_capacity(n);
    let (mut idx, mut accu) = (0, weights.first().copied().unwrap_or(0.0));
    for i in 0..n {
        let point = (u + i as f64) / n as f64;
        while point > accu && idx < last {
            idx += 1;
            accu += weights[idx];
        }
        out.push(idx);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ess(w: &[f64]) -> f64 {
        1.0 / w.iter().map(|w| w * w).sum::<f64>()
    }

    #[test]
    fn beta_halves_the_effective_sample_size() {
        let loglik: Vec<f64> = (0..1000).map(|i| -0.5 * ((i as f64 - 500.0) / 50.0).powi(2) * 40.0).collect();
        let (beta, w, _) = next_beta(&loglik, 0.0, 0.5);
        assert!(beta > 0.0 && beta < 1.0, "{beta}");
        assert_eq!(ess(&w) as usize, 500, "{}", ess(&w));
        assert!((w.iter().sum::<f64>() - 1.0).abs() < 1e-12);
        // From there on the next stage again halves it, relative to uniform weights.
        let (beta2, w2, _) = next_beta(&loglik, beta, 0.5);
        assert!(beta2 > beta);
        assert_eq!(ess(&w2) as usize, 500);
    }

    #[test]
    fn a_flat_likelihood_reaches_one_at_once() {
        let (beta, w, inc) = next_beta(&[-3.0; 10], 0.0, 0.5);
        assert_eq!(beta, 1.0);
        assert!(w.iter().all(|&w| (w - 0.1).abs() < 1e-15));
        // log mean exp(−3) = −3.
        assert!((inc + 3.0).abs() < 1e-12);
    }

    #[test]
    fn the_increment_is_the_log_mean_weight() {
        let loglik = [-1.0, -2.0, -0.5, -4.0, f64::NAN, f64::NEG_INFINITY];
        let (beta, w, inc) = next_beta(&loglik, 0.25, 0.5);
        let mean =
            loglik.iter().map(|&l| if l.is_nan() { 0.0 } else { ((beta - 0.25) * l).exp() }).sum::<f64>()
                / 6.0;
        assert!((inc - mean.ln()).abs() < 1e-12);
        assert_eq!(w[4], 0.0);
        assert_eq!(w[5], 0.0);
    }

    #[test]
    fn systematic_resampling_keeps_the_expected_counts() {
        let w = [0.1, 0.0, 0.45, 0.3, 0.15];
        let idx = systematic_resampling(&w, 0.37);
        let count = |k: usize| idx.iter().filter(|&&i| i == k).count();
        assert_eq!(idx.len(), 5);
        // Each count is ⌊N w⌋ or ⌈N w⌉.
        for (k, &wk) in w.iter().enumerate() {
            let expected = 5.0 * wk;
            assert!((count(k) as f64 - expected).abs() < 1.0, "{k}: {} vs {expected}", count(k));
        }
        assert_eq!(count(1), 0);
        // Sorted, as PyMC's are.
        assert!(idx.windows(2).all(|p| p[0] <= p[1]));
        // Weights whose sum rounds short of the last point: the last particle of positive
        // weight is taken, never one of weight 0 beyond it (without the guard, index 2).
        let w = [0.5, 0.5 - 4e-16, 0.0];
        assert!(w.iter().sum::<f64>() < 1.0 - 1e-16);
        let u = 1.0 - f64::EPSILON;
        assert!((u + 2.0) / 3.0 > w[0] + w[1], "the last point lies beyond the cumulative sum");
        assert_eq!(systematic_resampling(&w, u), vec![0, 1, 1]);
    }
}
