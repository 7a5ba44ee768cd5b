//! Power-scaling sensitivity of a fit (priorsense's `powerscale_sensitivity`, ArviZ's
//! `psens`): the log prior and the log-likelihood at every draw, summed over the nodes chosen,
//! and the sensitivities of every traced scalar to each (see
//! [`Sensitivity`](crate::diagnostics::Sensitivity)).

use super::BackendChoice;
use super::fit::Fit;
use super::pointwise::{compute_log_likelihood, compute_log_prior};
use super::predictive::{LogLikelihood, LogPrior, node_terms};
use crate::diagnostics::{DEFAULT_DELTA, Sensitivity, THRESHOLD};
use crate::error::{Error, Result};
use crate::model::Model;

/// The smallest `δ` taken: the distance between equal weights is ~1e-8 from rounding, which
/// divided by `2 log₂(1 + δ)` would read as a sensitivity of ~0.07 at `δ = 1e-7`.
pub const MIN_DELTA: f64 = 1e-4;

/// What [`power_scaling_sensitivity`] scales and how.
#[derive(Clone, Debug, PartialEq)]
pub struct SensitivityOptions {
    /// The `δ` of the powers `1/(1 + δ)` and `1 + δ` (default 0.01, priorsense's and ArviZ's;
    /// from [`MIN_DELTA`] to 1).
    pub delta: f64,
    /// The sensitivity that calls for attention in the diagnoses (default 0.05).
    pub threshold: f64,
    /// The free nodes whose priors are scaled (priorsense's `prior_selection`, ArviZ's
    /// `component_var_names`); `None`: every free node.
    pub prior: Option<Vec<String>>,
    /// The observed nodes whose likelihoods are scaled; `None`: every observed node.
    pub likelihood: Option<Vec<String>>,
    /// Where the log densities are evaluated (default the CPU backend, in f64).
    pub backend: BackendChoice,
}

impl SensitivityOptions {
    /// Checks these options for `model` and `fit` before anything is evaluated: `delta` and
    /// `threshold`, at least 2 draws, a free and an observed node, and the nodes named (errors
    /// name the option, or [`Error::NoFreeVariables`] and `model`).
    pub fn check(&self, model: &Model, fit: &Fit) -> Result<()> {
        check(fit, self)?;
        let names = |free: bool| -> Vec<&str> {
            node_terms(model, free).into_iter().map(|(i, ..)| model.nodes()[i].name.as_str()).collect()
        };
        check_names(&names(true), self.prior.as_deref(), "prior", "free")?;
        check_names(&names(false), self.likelihood.as_deref(), "likelihood", "observed")
    }
}

impl Default for SensitivityOptions {
    fn default() -> Self {
        SensitivityOptions {
            delta: DEFAULT_DELTA,
            threshold: THRESHOLD,
            prior: None,
            likelihood: None,
            backend: BackendChoice::Cpu,
        }
    }
}

/// The power-scaling sensitivity of every traced scalar of `fit` (free variables and
/// deterministics, named as in the summary) to the prior and to the likelihood of `model`
/// (Kallioinen et al. 2023): how far each posterior moves, by the cumulative Jensen–Shannon
/// distance, when the chosen priors or likelihoods are raised to a power near 1, estimated by
/// Pareto-smoothed importance weights on the draws, with no refit. Equal to ArviZ's
/// `az.psens(idata, component=...)` on the same draws, with priorsense's diagnoses.
///
/// The prior is each chosen free node's density as the model writes it, at the constrained
/// draws ([`compute_log_prior`]); potentials belong to neither component.
///
/// ```
/// use exmc::prelude::*;
/// use exmc::sampler::{SensitivityOptions, power_scaling_sensitivity};
/// # fn main() -> exmc::Result<()> {
/// let mut m = Model::new();
/// // A prior far from the data: the two pull apart.
/// let mu = m.rv("mu", Normal::new(5, 0.5))?;
/// m.observe("y", Normal::new(mu, 1), &[0.3, 1.1, -0.2, 0.8, 0.1, -0.5])?;
/// let fit = Sampler::new(&m).chains(4).warmup(500).draws(1000).seed(3).progress(false).run()?;
/// let s = power_scaling_sensitivity(&m, &fit, &SensitivityOptions::default())?;
/// assert_eq!(s.rows[0].name, "mu");
/// assert_eq!(s.rows[0].diagnosis, exmc::diagnostics::Diagnosis::PriorDataConflict);
/// println!("{s}");
/// # Ok(())
/// # }
/// ```
pub fn power_scaling_sensitivity(
    model: &Model,
    fit: &Fit,
    options: &SensitivityOptions,
) -> Result<Sensitivity> {
    options.check(model, fit)?;
    let prior = compute_log_prior(model, fit, options.backend)?;
    let likelihood = compute_log_likelihood(model, fit, options.backend)?;
    sensitivity_from_terms(fit, &prior, &likelihood, options)
}

/// [`power_scaling_sensitivity`] from the pointwise log prior and log-likelihood of `fit`'s
/// draws already at hand (from [`compute_log_prior`], and [`compute_log_likelihood`] or
/// [`log_likelihood`](super::log_likelihood)); `options.backend` is not read.
pub fn sensitivity_from_terms(
    fit: &Fit,
    log_prior: &LogPrior,
    log_likelihood: &LogLikelihood,
    options: &SensitivityOptions,
) -> Result<Sensitivity> {
    check(fit, options)?;
    let draws = fit.trace.chains * fit.trace.draws;
    for (terms, what) in [(log_prior, "log prior"), (log_likelihood, "log-likelihood")] {
        if terms.chains * terms.draws != draws || terms.values.iter().any(|t| t.len() != draws) {
            return Err(Error::invalid_option(
                "fit",
                format!(
                    "the {what} is of {} chains × {} draws, the fit of {draws} draws",
                    terms.chains, terms.draws
                ),
            ));
        }
    }
    let prior = component_sum(log_prior, options.prior.as_deref(), "prior", "free")?;
    let likelihood = component_sum(log_likelihood, options.likelihood.as_deref(), "likelihood", "observed")?;
    // A draw where a component is not finite has no posterior density: not the fit's draws.
    for (sum, what) in [(&prior, "log prior"), (&likelihood, "log-likelihood")] {
        let bad = sum.iter().filter(|v| !v.is_finite()).count();
        if bad > 0 {
            return Err(Error::invalid_option(
                "fit",
                format!("the {what} is not finite at {bad} draws (draws of another model or other data?)"),
            ));
        }
    }
    let quantities: Vec<(String, Vec<f64>)> =
        fit.trace.scalars().into_iter().map(|(name, chains)| (name, chains.concat())).collect();
    Ok(Sensitivity::new(&quantities, &prior, &likelihood, options.delta, options.threshold))
}

/// The nodes of a component, `known`, and the ones `chosen` of them: at least one known, and
/// every chosen one known (errors name `option`, or the model where it has no such node).
fn check_names(known: &[&str], chosen: Option<&[String]>, option: &'static str, kind: &str) -> Result<()> {
    if known.is_empty() {
        return Err(match kind {
            "free" => Error::NoFreeVariables,
            _ => Error::invalid_option("model", format!("has no {kind} node: nothing to power-scale")),
        });
    }
    if let Some(chosen) = chosen {
        if chosen.is_empty() {
            return Err(Error::invalid_option(option, "names no node"));
        }
        if let Some(bad) = chosen.iter().find(|c| !known.contains(&c.as_str())) {
            return Err(Error::invalid_option(
                option,
                format!("`{bad}` is not one of the model's {kind} nodes ({})", known.join(", ")),
            ));
        }
    }
    Ok(())
}

/// The options' numbers, and draws enough.
fn check(fit: &Fit, options: &SensitivityOptions) -> Result<()> {
    if !(MIN_DELTA..=1.0).contains(&options.delta) {
        return Err(Error::invalid_option(
            "delta",
            format!(
                "must be in [{MIN_DELTA}, 1], not {} (below, the weights' rounding outweighs the distance)",
                options.delta
            ),
        ));
    }
    if !(options.threshold.is_finite() && options.threshold >= 0.0) {
        return Err(Error::invalid_option(
            "threshold",
            format!("must be finite and not negative, not {}", options.threshold),
        ));
    }
    let draws = fit.trace.chains * fit.trace.draws;
    if draws < 2 {
        return Err(Error::invalid_option("fit", format!("{draws} draws: power-scaling needs at least 2")));
    }
    Ok(())
}

/// The terms of the chosen nodes (all by default) summed at each draw; an unknown name, or no
/// node at all, is an error naming `option`.
fn component_sum(
    terms: &LogLikelihood,
    chosen: Option<&[String]>,
    option: &'static str,
    kind: &str,
) -> Result<Vec<f64>> {
    let known: Vec<&str> = terms.nodes.iter().map(|(n, _)| n.as_str()).collect();
    check_names(&known, chosen, option, kind)?;
    let total = terms.nodes.iter().try_fold(0usize, |t, n| t.checked_add(n.1));
    if total != Some(terms.values.len()) {
        return Err(Error::invalid_option(
            "fit",
            format!("the {kind} nodes' term counts do not add up to the {} values held", terms.values.len()),
        ));
    }
    let mut sum = vec![0.0; terms.chains * terms.draws];
    let mut start = 0;
    for (name, count) in &terms.nodes {
        if chosen.is_none_or(|c| c.iter().any(|c| c == name)) {
            for term in &terms.values[start..start + count] {
                sum.iter_mut().zip(term).for_each(|(s, v)| *s += v);
            }
        }
        start += count;
    }
    Ok(sum)
}
