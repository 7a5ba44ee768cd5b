//! Power-scaling sensitivity (Kallioinen, Paananen, Bürkner & Vehtari 2023; ArviZ 0.23.4's
//! `psens`, R's priorsense): how far the posterior of each quantity moves when the prior or
//! the likelihood is raised to a power `α` near 1, estimated from the draws alone.
//!
//! Raising a component `c` (the log prior or the log-likelihood, summed per draw) to the power
//! `α` multiplies the posterior by `exp((α − 1)c)`, so the power-scaled posterior is the draws
//! reweighted by those ratios, smoothed by PSIS ([`psis`]). A quantity's sensitivity is the
//! cumulative Jensen–Shannon distance ([`cjs_dist`]) between its weighted and unweighted
//! draws at `α = 1/(1 + δ)` and at `α = 1 + δ`, the larger over the draws and their negation,
//! summed and divided by `2 log₂(1 + δ)`: a derivative of the distance in `log₂ α`.
//!
//! Kallioinen et al.'s reading, at their threshold 0.05 ([`THRESHOLD`]; priorsense's rule,
//! [`Diagnosis::of`]): prior and likelihood sensitivities both at or above it say the two
//! disagree (a potential prior-data conflict); a prior sensitivity above it with a likelihood
//! sensitivity below it says the data say little about the quantity (a potential strong prior
//! or weak likelihood).

use rayon::prelude::*;

use super::loo::psis;

/// The default `δ` of the powers `1/(1 + δ)` and `1 + δ` (ArviZ's and priorsense's).
pub const DEFAULT_DELTA: f64 = 0.01;

/// priorsense's threshold of a sensitivity that matters.
pub const THRESHOLD: f64 = 0.05;

/// The cumulative Jensen–Shannon distance between the empirical distribution of `draws` and
/// that of the same draws weighted by `weights` (ArviZ's `_cjs_dist`; Nguyen & Vreeken 2015):
/// 0 for equal weights (to rounding), at most 1. NaN where every draw is the same value or the lengths
/// differ.
///
/// ```
/// use exmc::diagnostics::cjs_dist;
/// let x: Vec<f64> = (0..1000).map(|i| i as f64 / 999.0).collect();
/// // Equal weights: no distance, to the rounding of the weights' running sum.
/// assert!(cjs_dist(&x, &vec![1.0; 1000]) < 1e-6);
/// // Weight rising with x moves the distribution right.
/// let w: Vec<f64> = x.iter().map(|v| 1.0 + v).collect();
/// assert!(cjs_dist(&x, &w) > 0.05);
/// ```
pub fn cjs_dist(draws: &[f64], weights: &[f64]) -> f64 {
    if draws.len() < 2 || weights.len() != draws.len() {
        return f64::NAN;
    }
    cjs_in_order(draws, weights, &ascending(draws), false)
}

/// The indices of `draws` in ascending order.
fn ascending(draws: &[f64]) -> Vec<usize> {
    let mut order: Vec<usize> = (0..draws.len()).collect();
    order.sort_by(|&a, &b| draws[a].total_cmp(&draws[b]));
    order
}

/// [`cjs_dist`] with the draws' ascending `order` given; `negated`: of the negated draws
/// (whose ascending order is `order` reversed).
fn cjs_in_order(draws: &[f64], weights: &[f64], order: &[usize], negated: bool) -> f64 {
    let n = draws.len();
    let at = |i: usize| if negated { -draws[order[n - 1 - i]] } else { draws[order[i]] };
    let weight = |i: usize| if negated { weights[order[n - 1 - i]] } else { weights[order[i]] };
    let total: f64 = weights.iter().sum();
    let (mut cdf_q, mut p_int, mut q_int, mut pq, mut qp) = (0.0, 0.0, 0.0, 0.0, 0.0);
    for i in 0..n - 1 {
        let width = at(i + 1) - at(i);
        let cdf_p = (i + 1) as f64 / n as f64;
        cdf_q += weight(i) / total;
        p_int += cdf_p * width;
        q_int += cdf_q * width;
        let log2 = |x: f64| if x != 0.0 { x.log2() } else { 0.0 };
        let mid = log2(0.5 * (cdf_p + cdf_q));
        pq += width * cdf_p * (log2(cdf_p) - mid);
        qp += width * cdf_q * (log2(cdf_q) - mid);
    }
    let half = 0.5 / std::f64::consts::LN_2;
    let pq = (pq + half * (q_int - p_int)).max(0.0);
    let qp = (qp + half * (p_int - q_int)).max(0.0);
    ((pq + qp) / (p_int + q_int)).sqrt()
}

/// The normalised importance weights of the posterior with a component raised to the power
/// `alpha`, from the component's value at each draw (`(α − 1)·c`, smoothed by PSIS with a
/// relative efficiency of 1, as ArviZ's `psens`), and the Pareto k̂ of their tail.
pub fn power_scale_weights(component: &[f64], alpha: f64) -> (Vec<f64>, f64) {
    let mut log_w: Vec<f64> = component.iter().map(|c| (alpha - 1.0) * c).collect();
    let k = psis(&mut log_w, 1.0);
    let w: Vec<f64> = log_w.iter().map(|l| l.exp()).collect();
    let total: f64 = w.iter().sum();
    (w.iter().map(|x| x / total).collect(), k)
}

/// A component's power-scaling weights at `α = 1/(1 + δ)` and `α = 1 + δ`.
#[derive(Clone, Debug, PartialEq)]
pub struct PowerScaled {
    /// The `δ` of the two powers.
    pub delta: f64,
    /// Normalised weights of the draws at `α = 1/(1 + δ)`.
    pub lower: Vec<f64>,
    /// Normalised weights of the draws at `α = 1 + δ`.
    pub upper: Vec<f64>,
    /// The Pareto k̂ of the lower and the upper weights: above
    /// [`pareto_k_threshold`] the sensitivities from them are not to be trusted.
    pub pareto_k: [f64; 2],
}

impl PowerScaled {
    /// The weights of the component `component` (its value at each draw, in the order of the
    /// draws the sensitivities will read) at the two powers of `delta`.
    pub fn new(component: &[f64], delta: f64) -> PowerScaled {
        let (lower, k_lower) = power_scale_weights(component, 1.0 / (1.0 + delta));
        let (upper, k_upper) = power_scale_weights(component, 1.0 + delta);
        PowerScaled { delta, lower, upper, pareto_k: [k_lower, k_upper] }
    }

    /// The sensitivity of the quantity whose draws are `draws` to this component (ArviZ's
    /// `_powerscale_sens`): the distances at both powers, each the larger over the draws and
    /// their negation, summed and divided by `2 log₂(1 + δ)`.
    ///
    /// ```
    /// use exmc::diagnostics::PowerScaled;
    /// // A component that does not vary moves nothing.
    /// let x: Vec<f64> = (0..400).map(|i| (i as f64 * 0.37).sin()).collect();
    /// let flat = PowerScaled::new(&vec![-3.0; 400], 0.01);
    /// assert!(flat.sensitivity(&x) < 1e-4);
    /// ```
    pub fn sensitivity(&self, draws: &[f64]) -> f64 {
        let n = draws.len();
        if n < 2 || self.lower.len() != n || self.upper.len() != n {
            return f64::NAN;
        }
        let order = ascending(draws);
        let both =
            |w: &[f64]| cjs_in_order(draws, w, &order, false).max(cjs_in_order(draws, w, &order, true));
        (both(&self.lower) + both(&self.upper)) / (2.0 * (1.0 + self.delta).log2())
    }
}

/// priorsense's largest Pareto k̂ of reliable weights from `draws` draws:
/// `min(1 − 1/log₁₀ S, 0.7)`.
pub fn pareto_k_threshold(draws: usize) -> f64 {
    (1.0 - 1.0 / (draws as f64).log10()).min(0.7)
}

/// What a quantity's two sensitivities say, by priorsense's rule at `threshold`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Diagnosis {
    /// Neither sensitivity calls for attention (priorsense's `-`).
    Fine,
    /// Both at or above the threshold: prior and likelihood pull apart.
    PriorDataConflict,
    /// The prior's above the threshold, the likelihood's below: the data say little.
    StrongPriorWeakLikelihood,
}

impl Diagnosis {
    /// priorsense's rule: prior ≥ t and likelihood ≥ t is a conflict; prior > t and
    /// likelihood < t a strong prior or weak likelihood; anything else (NaN included) is fine.
    pub fn of(prior: f64, likelihood: f64, threshold: f64) -> Diagnosis {
        if prior >= threshold && likelihood >= threshold {
            Diagnosis::PriorDataConflict
        } else if prior > threshold && likelihood < threshold {
            Diagnosis::StrongPriorWeakLikelihood
        } else {
            Diagnosis::Fine
        }
    }

    /// priorsense's wording.
    pub fn as_str(self) -> &'static str {
        match self {
            Diagnosis::Fine => "-",
            Diagnosis::PriorDataConflict => "potential prior-data conflict",
            Diagnosis::StrongPriorWeakLikelihood => "potential strong prior / weak likelihood",
        }
    }
}

impl std::fmt::Display for Diagnosis {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One quantity's power-scaling sensitivities.
#[derive(Clone, Debug, PartialEq)]
pub struct SensitivityRow {
    /// The scalar's name (`theta[3]`), as in the summary.
    pub name: String,
    /// Sensitivity to power-scaling the prior.
    pub prior: f64,
    /// Sensitivity to power-scaling the likelihood.
    pub likelihood: f64,
    /// What the two say at the table's threshold.
    pub diagnosis: Diagnosis,
}

/// Power-scaling sensitivities of every quantity, with the weights' Pareto k̂ (priorsense's
/// `powerscale_sensitivity`).
#[derive(Clone, Debug, PartialEq)]
pub struct Sensitivity {
    /// The `δ` of the powers.
    pub delta: f64,
    /// The threshold of the diagnoses.
    pub threshold: f64,
    /// One row per scalar.
    pub rows: Vec<SensitivityRow>,
    /// The prior's weights' Pareto k̂ at `1/(1 + δ)` and `1 + δ`.
    pub prior_pareto_k: [f64; 2],
    /// The likelihood's weights' Pareto k̂ at `1/(1 + δ)` and `1 + δ`.
    pub likelihood_pareto_k: [f64; 2],
    /// The largest k̂ of reliable weights ([`pareto_k_threshold`]).
    pub pareto_k_threshold: f64,
    /// Weights too heavy-tailed to trust (Pareto k̂ above the limit), per component.
    pub warnings: Vec<String>,
}

impl Sensitivity {
    /// The sensitivities of each named quantity (`(name, draws)`, every quantity's draws in
    /// the order the components' values follow) to the prior and to the likelihood, whose
    /// values at each draw are `log_prior` and `log_likelihood` (each summed over its terms).
    ///
    /// ```
    /// use exmc::diagnostics::{Diagnosis, Sensitivity};
    /// // Draws of a normal posterior N(m, s²) from prior N(0, 1) and a likelihood of
    /// // precision 3: both components are quadratic in x.
    /// let (m, s) = (0.75, 0.5);
    /// let x: Vec<f64> = (1..=4000).map(|i| m + s * exmc::diagnostics::norm_ppf(i as f64 / 4001.0)).collect();
    /// let prior: Vec<f64> = x.iter().map(|x| -x * x / 2.0).collect();
    /// let lik: Vec<f64> = x.iter().map(|x| -3.0 * (x - 1.0) * (x - 1.0) / 2.0).collect();
    /// let s = Sensitivity::new(&[("x".to_string(), x)], &prior, &lik, 0.01, 0.05);
    /// assert!(s.rows[0].prior > 0.05 && s.rows[0].likelihood > 0.05);
    /// assert_eq!(s.rows[0].diagnosis, Diagnosis::PriorDataConflict);
    /// ```
    pub fn new(
        quantities: &[(String, Vec<f64>)],
        log_prior: &[f64],
        log_likelihood: &[f64],
        delta: f64,
        threshold: f64,
    ) -> Sensitivity {
        let prior = PowerScaled::new(log_prior, delta);
        let likelihood = PowerScaled::new(log_likelihood, delta);
        let rows: Vec<SensitivityRow> = quantities
            .par_iter()
            .map(|(name, draws)| {
                let (p, l) = (prior.sensitivity(draws), likelihood.sensitivity(draws));
                SensitivityRow {
                    name: name.clone(),
                    prior: p,
                    likelihood: l,
                    diagnosis: Diagnosis::of(p, l, threshold),
                }
            })
            .collect();
        let k_max = pareto_k_threshold(log_prior.len());
        let mut warnings = Vec::new();
        for (what, k, values) in
            [("prior", prior.pareto_k, log_prior), ("likelihood", likelihood.pareto_k, log_likelihood)]
        {
            // A component that does not vary gives equal weights (PSIS finds no tail: k̂ ∞).
            let constant = values.iter().all(|v| *v == values[0]);
            let worst = if k[0].is_nan() || k[1].is_nan() { f64::NAN } else { k[0].max(k[1]) };
            if !constant && (worst > k_max || worst.is_nan()) {
                warnings.push(format!(
                    "power-scaling the {what} gives weights of Pareto k̂ {worst:.2} (above {k_max:.2}): its sensitivities are unreliable; draw more or fit the power-scaled model"
                ));
            }
        }
        Sensitivity {
            delta,
            threshold,
            rows,
            prior_pareto_k: prior.pareto_k,
            likelihood_pareto_k: likelihood.pareto_k,
            pareto_k_threshold: k_max,
            warnings,
        }
    }
}

impl Sensitivity {
    /// The names of the quantities diagnosed `d`.
    pub fn flagged(&self, d: Diagnosis) -> Vec<&str> {
        self.rows.iter().filter(|r| r.diagnosis == d).map(|r| r.name.as_str()).collect()
    }
}

impl std::fmt::Display for Sensitivity {
    /// priorsense's table: one row per quantity, the settings and k̂, the warnings, then the
    /// quantities of each diagnosis.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let width = self.rows.iter().map(|r| r.name.chars().count()).max().unwrap_or(0).max(8);
        writeln!(f, "{:<width$} {:>10} {:>10}  diagnosis", "variable", "prior", "likelihood")?;
        for r in &self.rows {
            writeln!(f, "{:<width$} {:>10.3} {:>10.3}  {}", r.name, r.prior, r.likelihood, r.diagnosis)?;
        }
        write!(
            f,
            "power-scaling δ = {}, threshold {}; Pareto k̂: prior {:.2}/{:.2}, likelihood {:.2}/{:.2}",
            self.delta,
            self.threshold,
            self.prior_pareto_k[0],
            self.prior_pareto_k[1],
            self.likelihood_pareto_k[0],
            self.likelihood_pareto_k[1]
        )?;
        for w in &self.warnings {
            write!(f, "\nwarning: {w}")?;
        }
        for d in [Diagnosis::PriorDataConflict, Diagnosis::StrongPriorWeakLikelihood] {
            let names = self.flagged(d);
            if !names.is_empty() {
                write!(f, "\n{d}: {}", names.join(", "))?;
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// ArviZ's `_cjs_dist` written out with numpy's operations in order, for a small case
    /// worked by hand: draws 0, 1, 3 with weights 1, 1, 2.
    #[test]
    fn cjs_by_hand() {
        let (x, w) = ([3.0, 0.0, 1.0], [2.0, 1.0, 1.0]);
        let (bw, p, q) = ([1.0, 2.0], [1.0 / 3.0, 2.0 / 3.0], [0.25, 0.5]);
        let p_int: f64 = bw.iter().zip(&p).map(|(b, p)| b * p).sum();
        let q_int: f64 = bw.iter().zip(&q).map(|(b, q)| b * q).sum();
        let mid = |i: usize| (0.5 * (p[i] + q[i])).log2();
        let pq: f64 = (0..2).map(|i| bw[i] * p[i] * (p[i].log2() - mid(i))).sum::<f64>()
            + 0.5 / std::f64::consts::LN_2 * (q_int - p_int);
        let qp: f64 = (0..2).map(|i| bw[i] * q[i] * (q[i].log2() - mid(i))).sum::<f64>()
            + 0.5 / std::f64::consts::LN_2 * (p_int - q_int);
        let want = ((pq.max(0.0) + qp.max(0.0)) / (p_int + q_int)).sqrt();
        assert!((cjs_dist(&x, &w) - want).abs() < 1e-15, "{} vs {want}", cjs_dist(&x, &w));
        assert!(cjs_dist(&x, &w) > 0.0);
    }

    #[test]
    fn degenerate_inputs_are_nan() {
        assert!(cjs_dist(&[1.0], &[1.0]).is_nan());
        assert!(cjs_dist(&[1.0, 2.0], &[1.0]).is_nan());
        assert!(cjs_dist(&[2.0; 10], &[1.0; 10]).is_nan());
    }

    #[test]
    fn diagnoses_follow_priorsense() {
        assert_eq!(Diagnosis::of(0.05, 0.05, THRESHOLD), Diagnosis::PriorDataConflict);
        assert_eq!(Diagnosis::of(0.06, 0.01, THRESHOLD), Diagnosis::StrongPriorWeakLikelihood);
        // priorsense's `prior > threshold` for the second case: exactly at it is fine.
        assert_eq!(Diagnosis::of(0.05, 0.01, THRESHOLD), Diagnosis::Fine);
        assert_eq!(Diagnosis::of(0.01, 0.2, THRESHOLD), Diagnosis::Fine);
        assert_eq!(Diagnosis::of(f64::NAN, 0.2, THRESHOLD), Diagnosis::Fine);
        assert!((pareto_k_threshold(4000) - 0.7).abs() < 1e-15);
        assert!((pareto_k_threshold(100) - 0.5).abs() < 1e-15);
    }
}
