//! Predictive accuracy from pointwise log-likelihoods: WAIC (Watanabe 2010) and PSIS-LOO
//! (Vehtari, Gelman & Gabry 2017; Pareto smoothing as in Vehtari et al. 2024), computed as
//! ArviZ's `waic`, `loo` and `psislw` compute them, on the log scale (higher is better).
//!
//! The input is one slice per observation holding its log-likelihood at every posterior draw,
//! draws of all chains concatenated chain after chain (ArviZ's `__sample__` order).
//!
//! ```
//! use exmc::diagnostics::{loo, waic};
//! // Two observations, four draws each.
//! let ll = vec![vec![-1.0, -1.2, -0.9, -1.1], vec![-2.0, -2.5, -1.5, -2.2]];
//! let w = waic(&ll);
//! assert!(w.elpd < 0.0 && w.p > 0.0 && w.pointwise.len() == 2);
//! let l = loo(&ll, 1.0);
//! assert_eq!(l.pareto_k.len(), 2);
//! ```

/// Which criterion an [`Elpd`] holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Criterion {
    /// Pareto-smoothed importance-sampling leave-one-out cross-validation.
    Loo,
    /// The widely applicable information criterion.
    Waic,
}

/// An estimate of the expected log pointwise predictive density.
#[derive(Clone, Debug, PartialEq)]
pub struct Elpd {
    /// LOO or WAIC.
    pub criterion: Criterion,
    /// `elpd_loo` or `elpd_waic`: the sum of `pointwise`.
    pub elpd: f64,
    /// Its standard error, `sqrt(n · var(pointwise))`.
    pub se: f64,
    /// Effective number of parameters, `p_loo` or `p_waic`.
    pub p: f64,
    /// Per observation: `loo_i` or `waic_i`.
    pub pointwise: Vec<f64>,
    /// Posterior draws used.
    pub n_samples: usize,
    /// LOO: Pareto shape k̂ per observation (empty for WAIC).
    pub pareto_k: Vec<f64>,
    /// LOO: the k̂ above which importance sampling is unreliable for this sample size,
    /// `min(1 − 1/log10(S), 0.7)` (Vehtari et al. 2024). NaN for WAIC.
    pub good_k: f64,
    /// LOO: some k̂ exceeds `good_k`. WAIC: some observation's log-likelihood has posterior
    /// variance above 0.4.
    pub warning: bool,
}

impl Elpd {
    /// Observations whose k̂ exceeds [`Elpd::good_k`] (LOO only).
    pub fn bad_k(&self) -> Vec<usize> {
        self.pareto_k.iter().enumerate().filter(|(_, k)| **k > self.good_k).map(|(i, _)| i).collect()
    }
}

/// `ln Σ eˣ` without overflow.
pub fn logsumexp(x: &[f64]) -> f64 {
    let m = x.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    if !m.is_finite() {
        return m;
    }
    m + x.iter().map(|v| (v - m).exp()).sum::<f64>().ln()
}

fn se_of(pointwise: &[f64]) -> f64 {
    let n = pointwise.len() as f64;
    let mean = pointwise.iter().sum::<f64>() / n;
    let var = pointwise.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / n;
    (n * var).sqrt()
}

/// WAIC from per-observation log-likelihood draws (ArviZ's `waic`, log scale).
pub fn waic(log_lik: &[Vec<f64>]) -> Elpd {
    let n_samples = log_lik.first().map_or(0, Vec::len);
    let s = n_samples as f64;
    let mut warning = false;
    let mut p = 0.0;
    let pointwise: Vec<f64> = log_lik
        .iter()
        .map(|ll| {
            let lppd = logsumexp(ll) - s.ln();
            let mean = ll.iter().sum::<f64>() / s;
            let var = ll.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / s;
            warning |= var > 0.4;
            p += var;
            lppd - var
        })
        .collect();
    Elpd {
        criterion: Criterion::Waic,
        elpd: pointwise.iter().sum(),
        se: se_of(&pointwise),
        p,
        pointwise,
        n_samples,
        pareto_k: Vec::new(),
        good_k: f64::NAN,
        warning,
    }
}

/// PSIS-LOO from per-observation log-likelihood draws (ArviZ's `loo`, log scale). `reff` is
/// the relative efficiency of the draws, ESS / S (ArviZ's default: the mean over the
/// posterior's scalars of their mean-ESS, divided by S; 1 for independent draws).
pub fn loo(log_lik: &[Vec<f64>], reff: f64) -> Elpd {
    let n_samples = log_lik.first().map_or(0, Vec::len);
    let s = n_samples as f64;
    let good_k = (1.0 - 1.0 / s.log10()).min(0.7);
    let mut lppd = 0.0;
    let mut pareto_k = Vec::with_capacity(log_lik.len());
    let mut ratios = vec![0.0; n_samples];
    let pointwise: Vec<f64> = log_lik
        .iter()
        .map(|ll| {
            lppd += logsumexp(ll) - s.ln();
            ratios.iter_mut().zip(ll).for_each(|(r, &l)| *r = -l);
            let k = psis(&mut ratios, reff);
            pareto_k.push(k);
            ratios.iter_mut().zip(ll).for_each(|(w, &l)| *w += l);
            logsumexp(&ratios)
        })
        .collect();
    let elpd: f64 = pointwise.iter().sum();
    Elpd {
        criterion: Criterion::Loo,
        elpd,
        se: se_of(&pointwise),
        p: lppd - elpd,
        pointwise,
        n_samples,
        warning: pareto_k.iter().any(|&k| k > good_k),
        pareto_k,
        good_k,
    }
}

/// LOO-PIT values for continuous data (ArviZ's `loo_pit`): for each observation `i`, the
/// leave-one-out probability that a replicate is at most the observed value,
/// `min(1, Σ_{s: y_rep[i][s] ≤ y[i]} w_is)`, with the PSIS-LOO weights of its log-likelihood
/// draws. `y_rep` and `log_lik` hold one slice per observation (draws chain after chain).
/// Calibrated models give values close to uniform on [0, 1]. (ArviZ first smooths integer
/// data by random jittering; this does not.)
pub fn loo_pit(y: &[f64], y_rep: &[Vec<f64>], log_lik: &[Vec<f64>], reff: f64) -> Vec<f64> {
    y.iter()
        .zip(y_rep)
        .zip(log_lik)
        .map(|((&yi, rep), ll)| {
            let mut lw: Vec<f64> = ll.iter().map(|l| -l).collect();
            psis(&mut lw, reff);
            let below: Vec<f64> = lw.iter().zip(rep).filter(|(_, r)| **r <= yi).map(|(w, _)| *w).collect();
            if below.is_empty() { 0.0 } else { logsumexp(&below).exp().min(1.0) }
        })
        .collect()
}

/// Pareto-smoothed importance sampling of one observation's log importance ratios, in place:
/// on return they are the smoothed, truncated and normalised log weights. Returns the Pareto
/// shape k̂ (infinite when the tail has 4 draws or fewer). ArviZ's `psislw` for one vector.
pub fn psis(log_ratios: &mut [f64], reff: f64) -> f64 {
    let n = log_ratios.len();
    if n == 0 {
        return f64::NAN;
    }
    let tail_target = (n as f64 / 5.0).min(3.0 * (n as f64 / reff).sqrt()).ceil() as usize;
    // ArviZ's `x[argsort(x)[-tail_target - 1]]`: the (tail_target + 1)-th largest.
    let max = log_ratios.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    log_ratios.iter_mut().for_each(|x| *x -= max);
    let mut sorted: Vec<f64> = log_ratios.to_vec();
    sorted.sort_by(f64::total_cmp);
    let cut_at = n.saturating_sub(tail_target + 1);
    let cutoff = sorted[cut_at].max(f64::MIN_POSITIVE.ln());
    let exp_cutoff = cutoff.exp();
    let mut tail: Vec<usize> = (0..n).filter(|&i| log_ratios[i] > cutoff).collect();
    let k = if tail.len() <= 4 {
        f64::INFINITY
    } else {
        tail.sort_by(|&a, &b| log_ratios[a].total_cmp(&log_ratios[b]));
        let values: Vec<f64> = tail.iter().map(|&i| log_ratios[i].exp() - exp_cutoff).collect();
        let (k, sigma) = gpd_fit(&values);
        if k.is_finite() {
            let m = tail.len() as f64;
            for (j, &i) in tail.iter().enumerate() {
                let p = (j as f64 + 0.5) / m;
                log_ratios[i] = (gpd_inv(p, k, sigma) + exp_cutoff).ln().min(0.0);
            }
        }
        k
    };
    let total = logsumexp(log_ratios);
    log_ratios.iter_mut().for_each(|x| *x -= total);
    k
}

/// Zhang & Stephens' (2009) empirical-Bayes fit of a generalised Pareto distribution to sorted
/// exceedances, with the weakly informative prior on k of Vehtari et al.: `(k, sigma)`.
fn gpd_fit(x: &[f64]) -> (f64, f64) {
    const PRIOR_BS: f64 = 3.0;
    const PRIOR_K: f64 = 10.0;
    let n = x.len();
    let nf = n as f64;
    let m = 30 + (nf.sqrt() as usize);
    let quartile = x[((nf / 4.0 + 0.5) as usize).saturating_sub(1)];
    let last = x[n - 1];
    let b: Vec<f64> = (1..=m)
        .map(|j| (1.0 - (m as f64 / (j as f64 - 0.5)).sqrt()) / (PRIOR_BS * quartile) + 1.0 / last)
        .collect();
    let k_of = |b: f64| x.iter().map(|&v| (-b * v).ln_1p()).sum::<f64>() / nf;
    let len_scale: Vec<f64> = b
        .iter()
        .map(|&bj| {
            let k = k_of(bj);
            nf * ((-(bj / k)).ln() - k - 1.0)
        })
        .collect();
    let mut weights: Vec<f64> =
        len_scale.iter().map(|&li| 1.0 / len_scale.iter().map(|&lj| (lj - li).exp()).sum::<f64>()).collect();
    // Negligible weights are dropped, as ArviZ does.
    let keep: Vec<bool> = weights.iter().map(|&w| w >= 10.0 * f64::EPSILON).collect();
    let (mut b_kept, mut w_kept) = (Vec::with_capacity(m), Vec::with_capacity(m));
    for j in 0..m {
        if keep[j] {
            b_kept.push(b[j]);
            w_kept.push(weights[j]);
        }
    }
    weights = w_kept;
    let total: f64 = weights.iter().sum();
    let b_post: f64 = b_kept.iter().zip(&weights).map(|(b, w)| b * w / total).sum();
    let k_post = k_of(b_post);
    let sigma = -k_post / b_post;
    ((nf * k_post + PRIOR_K * 0.5) / (nf + PRIOR_K), sigma)
}

/// The generalised Pareto quantile function at `p` in (0, 1).
fn gpd_inv(p: f64, k: f64, sigma: f64) -> f64 {
    if sigma <= 0.0 {
        return f64::NAN;
    }
    if k.abs() < f64::EPSILON { -(-p).ln_1p() * sigma } else { (-k * (-p).ln_1p()).exp_m1() / k * sigma }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn logsumexp_is_stable() {
        assert!((logsumexp(&[1000.0, 1000.0]) - (1000.0 + 2f64.ln())).abs() < 1e-12);
        assert_eq!(logsumexp(&[f64::NEG_INFINITY; 3]), f64::NEG_INFINITY);
    }

    /// With equal log-likelihood draws, importance weights are uniform: LOO = WAIC = lppd,
    /// and p = 0.
    #[test]
    fn constant_likelihood_gives_no_effective_parameters() {
        let ll = vec![vec![-1.5; 100], vec![-0.5; 100]];
        let l = loo(&ll, 1.0);
        let w = waic(&ll);
        assert!((l.elpd + 2.0).abs() < 1e-12 && l.p.abs() < 1e-12, "{l:?}");
        assert!((w.elpd + 2.0).abs() < 1e-12 && w.p.abs() < 1e-12, "{w:?}");
    }
}
