//! The pointwise log-likelihood and log prior as compiled programs, evaluated for every kept
//! draw in batch on a backend (the CPU executor over threads, or one GPU dispatch per batch of
//! draws).
//!
//! The compiler lowers the model with [`Target::Pointwise`]: inputs are the constrained free
//! values of a draw followed by one weight per observation, and the log density is
//! `Σ_k w_k ℓ_k`. Reverse mode then gives `∂/∂w_k = ℓ_k`: the gradient entries of the weights
//! are the log-likelihood of each observation, so any backend that evaluates a log density
//! and its gradient evaluates the pointwise log-likelihood, with no kernel of its own. The log
//! prior is the same with [`Target::PointwisePrior`]: one weight per free node's term.

use super::BackendChoice;
use super::batch::BatchEval;
use super::fit::Fit;
use super::predictive::{LogLikelihood, LogPrior, node_terms};
use crate::compile::lower::{Target, lower};
use crate::compile::{PointMap, Program, autodiff};
use crate::error::{Error, Result};
use crate::model::Model;

/// The pointwise log-likelihood of every observation at every kept draw of `fit`, from the
/// compiled program evaluated on `backend` (`Auto` as for sampling, falling back to the CPU
/// for a program the GPU kernel cannot hold). The layout is
/// [`log_likelihood`](super::log_likelihood)'s, whose host walk in f64 it matches (to f32
/// rounding on a GPU without f64). Observations count as there: a scalar family's elements and
/// the draws of a categorical or a mixture one by one, another vector family's draws (a
/// matrix's rows) one by one.
///
/// ```
/// use exmc::prelude::*;
/// use exmc::sampler::compute_log_likelihood;
/// # fn main() -> exmc::Result<()> {
/// let mut m = Model::new();
/// let mu = m.rv("mu", Normal::new(0, 5))?;
/// m.observe("y", Normal::new(mu, 1), &[0.3, 1.1, -0.2])?;
/// let fit = Sampler::new(&m).chains(2).warmup(200).draws(100).progress(false).run()?;
/// let ll = compute_log_likelihood(&m, &fit, BackendChoice::Cpu)?;
/// let host = log_likelihood(&m, &fit)?;
/// assert!((ll.values[2][7] - host.values[2][7]).abs() < 1e-12);
/// # Ok(())
/// # }
/// ```
pub fn compute_log_likelihood(model: &Model, fit: &Fit, backend: BackendChoice) -> Result<LogLikelihood> {
    pointwise_terms(model, fit, backend, Target::Pointwise, node_terms(model, false), "observations")
}

/// The log prior density of every free node's value at every kept draw of `fit` (PyMC's
/// `compute_log_prior`, ArviZ's `log_prior` group): each free node's density as the model
/// writes it at the draw's constrained values, with no log-Jacobians, likelihoods or
/// potentials (a node non-centred for sampling is given by its own value), from the compiled
/// program evaluated on `backend` as [`compute_log_likelihood`] does. Terms are a scalar
/// family's elements and a vector family's draws (an MvNormal's vector, a Dirichlet's
/// simplex); summed they are the model's log prior at that draw.
///
/// ```
/// use exmc::prelude::*;
/// use exmc::sampler::compute_log_prior;
/// # fn main() -> exmc::Result<()> {
/// let mut m = Model::new();
/// let mu = m.rv("mu", Normal::new(0, 5))?;
/// let sigma = m.rv("sigma", HalfNormal::new(2))?;
/// m.observe("y", Normal::new(mu, sigma), &[0.3, 1.1, -0.2])?;
/// let fit = Sampler::new(&m).chains(2).warmup(200).draws(100).progress(false).run()?;
/// let lp = compute_log_prior(&m, &fit, BackendChoice::Cpu)?;
/// assert_eq!(lp.nodes, vec![("mu".to_string(), 1), ("sigma".to_string(), 1)]);
/// let s = fit.trace.var("sigma").unwrap().values[7];
/// let half_normal = (2.0 / std::f64::consts::PI).sqrt().ln() - 2f64.ln() - s * s / 8.0;
/// assert!((lp.values[1][7] - half_normal).abs() < 1e-12);
/// # Ok(())
/// # }
/// ```
pub fn compute_log_prior(model: &Model, fit: &Fit, backend: BackendChoice) -> Result<LogPrior> {
    pointwise_terms(model, fit, backend, Target::PointwisePrior, node_terms(model, true), "prior terms")
}

/// The weights' gradient entries of a pointwise `target`'s program at every kept draw: one
/// row per term, `nodes` giving each node's model index, name and count in model order. The
/// program emits the terms in topological order (which differs where a node refers to one
/// written after it); they are returned in model order, checked against the program's count.
fn pointwise_terms(
    model: &Model,
    fit: &Fit,
    backend: BackendChoice,
    target: Target,
    nodes: Vec<(usize, String, usize)>,
    what: &str,
) -> Result<LogLikelihood> {
    let (prog, map) = lower(model, target)?;
    let n_terms = prog.dim - map.dim;
    let counted: usize = nodes.iter().map(|n| n.2).sum();
    if counted != n_terms {
        return Err(Error::Backend {
            backend: "compiler",
            reason: format!("the pointwise program has {n_terms} {what} where the model counts {counted}"),
        });
    }
    // Where each node's terms start among the program's (topological) terms.
    let mut rank = vec![0; model.nodes().len()];
    for (r, &i) in model.topological_order()?.iter().enumerate() {
        rank[i] = r;
    }
    let mut by_topo: Vec<&(usize, String, usize)> = nodes.iter().collect();
    by_topo.sort_by_key(|(i, ..)| rank[*i]);
    let mut program_start = vec![0; model.nodes().len()];
    let mut at = 0;
    for (i, _, count) in by_topo {
        program_start[*i] = at;
        at += count;
    }
    let order: Vec<usize> =
        nodes.iter().flat_map(|(i, _, count)| program_start[*i]..program_start[*i] + count).collect();
    let nodes: Vec<(String, usize)> = nodes.into_iter().map(|(_, name, count)| (name, count)).collect();
    let (chains, draws) = (fit.trace.chains, fit.trace.draws);
    if n_terms == 0 {
        return Ok(LogLikelihood { chains, draws, nodes, values: Vec::new() });
    }
    let prog = autodiff::differentiate(prog);
    let mut values: Vec<Vec<f64>> = (0..n_terms)
        .map(|_| {
            let mut row = Vec::new();
            crate::mem::try_reserve(&mut row, chains * draws, || format!("the pointwise {what}"))?;
            Ok(row)
        })
        .collect::<Result<_>>()?;
    let dim = prog.dim;
    evaluate(&prog, fit, &map, n_terms, backend, |_, grads| {
        for g in grads.chunks(dim) {
            for (row, &k) in values.iter_mut().zip(&order) {
                row.push(g[map.dim + k]);
            }
        }
    })?;
    Ok(LogLikelihood { chains, draws, nodes, values })
}

/// The model's likelihood term (every observed node's log density, summed; no priors,
/// Jacobians or potentials) at every kept draw of `fit`, chain after chain, from a compiled
/// program on `backend` that evaluates each node's density over its whole data at once — the
/// value the pointwise log-likelihood sums to.
pub fn likelihood_term(model: &Model, fit: &Fit, backend: BackendChoice) -> Result<Vec<f64>> {
    let (prog, map) = lower(model, Target::Likelihood)?;
    let prog = autodiff::differentiate(prog);
    let mut out = Vec::with_capacity(fit.trace.chains * fit.trace.draws);
    evaluate(&prog, fit, &map, 0, backend, |logp, _| out.extend_from_slice(logp))?;
    Ok(out)
}

/// Draws per evaluated chunk: the inputs and gradients held at once are this many draws'.
const CHUNK: usize = 4096;

/// Chunk `range`'s program inputs, draw-major: the constrained free values of each kept draw
/// in the program's order, then `weights` ones.
fn inputs(fit: &Fit, map: &PointMap, weights: usize, range: std::ops::Range<usize>) -> Result<Vec<f64>> {
    let t = &fit.trace;
    let dim = map.dim + weights;
    let mut points = crate::mem::try_filled(
        crate::mem::check_len(crate::mem::product(&[range.len(), dim]), || {
            "the pointwise program's inputs".into()
        })?,
        1.0,
        || "the pointwise program's inputs".into(),
    )?;
    for e in &map.entries {
        let var = t.var(&e.name).filter(|v| v.size() == e.len).ok_or_else(|| Error::InvalidOption {
            option: "fit",
            reason: format!(
                "the trace has no variable `{}` of {} values (a fit of another model?)",
                e.name, e.len
            ),
        })?;
        for (row, s) in range.clone().enumerate() {
            points[row * dim + e.offset..row * dim + e.offset + e.len]
                .copy_from_slice(&var.values[s * e.len..(s + 1) * e.len]);
        }
    }
    Ok(points)
}

/// Evaluates a differentiated program at every kept draw of `fit` ([`inputs`] with `weights`
/// ones), [`CHUNK`] draws at a time, handing `take` each chunk's log densities and
/// gradients (draw-major), in draw order.
fn evaluate(
    prog: &Program,
    fit: &Fit,
    map: &PointMap,
    weights: usize,
    backend: BackendChoice,
    mut take: impl FnMut(&[f64], &[f64]),
) -> Result<()> {
    let dim = prog.dim.max(1);
    let draws = fit.trace.chains * fit.trace.draws;
    let batch = BatchEval::new(prog, backend, false)?;
    for start in (0..draws).step_by(CHUNK) {
        let points = inputs(fit, map, weights, start..(start + CHUNK).min(draws))?;
        debug_assert_eq!(points.len() % dim, 0);
        let (logp, grad) = batch.run(&points)?;
        take(&logp, &grad);
    }
    Ok(())
}
