//! Predictive sampling on the host (each family's own sampler; the model's expressions
//! evaluated in f64): the prior predictive, ancestral draws of every free, deterministic and
//! observed node; the posterior predictive, replicated observations at every posterior draw.

use rand::SeedableRng;
use rand::rngs::StdRng;

use super::fit::Fit;
use super::trace::{Trace, TraceVar};
use crate::error::{Error, Result};
use crate::model::bijector::first_not_increasing;
use crate::model::expr::ConstValue;
use crate::model::{DistKind, Model, NodeKind, Shape};

/// `draws` ancestral samples from the prior predictive distribution of `model` (PyMC's
/// `sample_prior_predictive`): every free node from its prior, every deterministic from those,
/// and every observed node replicated from its likelihood, with the observed data's shape and
/// name. Returned as a one-chain [`Trace`] (no sampler statistics), in model order. Potentials
/// have no generative form and are left out, as in PyMC.
///
/// ```
/// use exmc::prelude::*;
/// # fn main() -> exmc::Result<()> {
/// let mut m = Model::new();
/// let mu = m.rv("mu", Normal::new(0, 1))?;
/// m.observe("y", Normal::new(mu, 1), &[0.1, -0.4, 0.8])?;
/// let prior = prior_predictive(&m, 500, 1)?;
/// let y = prior.draws("y").expect("observed nodes are replicated");
/// assert_eq!(y.shape(), vec![1, 500, 3]);
/// # Ok(())
/// # }
/// ```
///
/// Fails, naming the node, when a family has no sampler (flat priors), a parameter cannot be
/// evaluated, or a draw is not finite.
pub fn prior_predictive(model: &Model, draws: usize, seed: u64) -> Result<Trace> {
    prior_draws(model, draws, seed, true)
}

/// [`prior_predictive`]; without `observed`, only the free nodes are traced, and the observed
/// nodes are not drawn but hold their data, as the posterior conditions on them (the prior of
/// the free nodes, from which sequential Monte Carlo starts).
pub(crate) fn prior_draws(model: &Model, draws: usize, seed: u64, observed: bool) -> Result<Trace> {
    crate::model::validate::vector_params(model, false)?;
    let order = model.topological_order()?;
    let nodes = model.nodes();
    let mut rng = StdRng::seed_from_u64(seed);
    let sampled: Vec<usize> = (0..nodes.len())
        .filter(|&i| !matches!(nodes[i].kind, NodeKind::Potential { .. } | NodeKind::Data { .. }))
        .filter(|&i| observed || matches!(nodes[i].kind, NodeKind::Free { .. }))
        .collect();
    let mut vars: Vec<TraceVar> = sampled
        .iter()
        .map(|&i| TraceVar {
            name: nodes[i].name.clone(),
            shape: nodes[i].shape.dims(),
            values: Vec::with_capacity(draws * nodes[i].len()),
            labels: nodes[i].labels.clone(),
        })
        .collect();
    let slot: Vec<Option<usize>> = (0..nodes.len()).map(|i| sampled.iter().position(|&s| s == i)).collect();
    let mut values: Vec<Option<ConstValue>> = vec![None; nodes.len()];
    for _ in 0..draws {
        for &i in &order {
            let node = &nodes[i];
            let lookup = |j: usize| values[j].clone();
            let value = match &node.kind {
                NodeKind::Data { values: data, .. } => {
                    ConstValue { values: data.to_vec(), vector: !matches!(node.shape, Shape::Scalar) }
                }
                NodeKind::Potential { .. } => continue,
                NodeKind::Observed { data, .. } if !observed => {
                    ConstValue { values: data.to_vec(), vector: !matches!(node.shape, Shape::Scalar) }
                }
                NodeKind::Deterministic { expr } => {
                    let v = expr
                        .eval_with(&lookup)
                        .ok_or_else(|| invalid(&node.name, "cannot be evaluated".into()))?;
                    let n = node.len();
                    ConstValue { values: (0..n).map(|k| v.at(k)).collect(), vector: v.vector || n > 1 }
                }
                NodeKind::Free { dist, .. } | NodeKind::Observed { dist, .. } => {
                    let params: Vec<ConstValue> = dist
                        .params
                        .iter()
                        .map(|p| p.eval_with(&lookup))
                        .collect::<Option<_>>()
                        .ok_or_else(|| invalid(&node.name, "a parameter cannot be evaluated".into()))?;
                    elementwise_lengths(&node.name, aligned(dist.kind, &params), node.len())?;
                    if dist.kind.is_vector() && dist.kind.one_row().is_none() {
                        check_fits(dist.kind, &node.name, node.len(), &params)?;
                    }
                    let mut out = draw_from(dist.kind, &params, node.len(), &mut rng);
                    if let NodeKind::Free { ordered: true, .. } = node.kind {
                        order_rows(dist.kind, &params, &mut out, node.shape.row_len(), &mut rng)
                            .map_err(|reason| invalid(&node.name, reason))?;
                    }
                    if let Some(bad) = out.iter().find(|v| !v.is_finite()) {
                        return Err(invalid(
                            &node.name,
                            format!(
                                "its {:?} prior predictive draw is {bad}: the family has no sampler (flat priors) or its parameters are outside their domain",
                                dist.kind
                            ),
                        ));
                    }
                    let vector = !matches!(node.shape, Shape::Scalar);
                    match &node.kind {
                        NodeKind::Observed { value: Some(v), .. } => {
                            transformed(&node.name, v, out, &lookup)?
                        }
                        _ => ConstValue { values: out, vector },
                    }
                }
            };
            if let Some(s) = slot[i] {
                vars[s].values.extend_from_slice(&value.values);
            }
            values[i] = Some(value);
        }
    }
    Ok(Trace { chains: 1, draws, vars, stats: vec![Vec::new()], warmup_stats: vec![Vec::new()] })
}

/// Replicated observations at every kept draw of `fit` (PyMC's `sample_posterior_predictive`):
/// for each chain and draw, every observed node of `model` is sampled from its likelihood with
/// the parameters at that draw. Returned as a [`Trace`] of the observed nodes (chains × draws ×
/// observations), named as in the model. `model` is the model that was fitted, or a copy with
/// new data ([`Model::set_data`]: new covariates, new group indices); an observed node then
/// takes the length its parameters broadcast to.
///
/// ```
/// use exmc::prelude::*;
/// # fn main() -> exmc::Result<()> {
/// let mut m = Model::new();
/// let x = m.data("x", vec![0.0, 1.0, 2.0])?;
/// let b = m.rv("b", Normal::new(0, 1))?;
/// m.observe("y", Normal::new(b * x, 0.5), &[0.1, 0.9, 2.2])?;
/// let fit = Sampler::new(&m).chains(2).warmup(200).draws(100).progress(false).run()?;
/// let rep = posterior_predictive(&m, &fit, 1)?;
/// assert_eq!(rep.draws("y").unwrap().shape(), vec![2, 100, 3]);
/// m.set_data("x", vec![3.0, 4.0])?; // predict at new points
/// let new = posterior_predictive(&m, &fit, 1)?;
/// assert_eq!(new.draws("y").unwrap().shape(), vec![2, 100, 2]);
/// # Ok(())
/// # }
/// ```
pub fn posterior_predictive(model: &Model, fit: &Fit, seed: u64) -> Result<Trace> {
    crate::model::validate::vector_params(model, true)?;
    let trace = &fit.trace;
    let nodes = model.nodes();
    let mut rng = StdRng::seed_from_u64(seed);
    let observed: Vec<usize> = observed_nodes(model).map(|(i, _)| i).collect();
    let mut outs: Vec<Option<TraceVar>> = vec![None; observed.len()];
    let row_counts = per_row_counts(model);
    for_each_draw(model, trace, |_, _, i, params, lookup| {
        let node = &nodes[i];
        let NodeKind::Observed { dist, value, .. } = &node.kind else { unreachable!("observed nodes only") };
        // A parameter with a value per element (new covariates) sets the length.
        let n = match row_counts[i] {
            Some(rows) => rows,
            None => aligned(dist.kind, params)
                .filter(|p| p.vector)
                .map(|p| p.values.len())
                .max()
                .unwrap_or(node.len()),
        };
        elementwise_lengths(&node.name, aligned(dist.kind, params), n)?;
        if dist.kind.is_vector() && row_counts[i].is_none() {
            // Parameters `set_data` changed must still fit the value (a multinomial's `n` has
            // a value per draw), else the family's sampler could not lay the draws out.
            check_fits(dist.kind, &node.name, n, params)?;
        }
        let mut out = draw_from(dist.kind, params, n, &mut rng);
        if let Some(v) = value {
            out = transformed(&node.name, v, out, lookup)?.values;
        }
        let n = out.len();
        let slot = observed.iter().position(|&o| o == i).expect("observed node");
        let var = outs[slot].get_or_insert_with(|| TraceVar {
            name: node.name.clone(),
            shape: if matches!(node.shape, Shape::Scalar) && n == 1 { Vec::new() } else { vec![n] },
            values: Vec::with_capacity(trace.chains * trace.draws * n),
            labels: node.labels.clone().filter(|l| l.len() == n),
        });
        if var.size() != n {
            return Err(invalid(
                &node.name,
                format!("its length changed between draws ({} → {n})", var.size()),
            ));
        }
        var.values.extend_from_slice(&out);
        Ok(())
    })?;
    Ok(Trace {
        chains: trace.chains,
        draws: trace.draws,
        vars: outs.into_iter().flatten().collect(),
        stats: vec![Vec::new(); trace.chains],
        warmup_stats: vec![Vec::new(); trace.chains],
    })
}

/// A transformed observation's draw at its data, and the inverse's log-Jacobian there.
fn inverse_at(
    node: &str,
    value: &crate::model::Expr,
    data: &[f64],
    lookup: &dyn Fn(usize) -> Option<ConstValue>,
) -> Result<(ConstValue, Option<ConstValue>)> {
    let measure = crate::model::measure::Measure::of(value).map_err(|reason| invalid(node, reason))?;
    let (x, log_jac) = measure.inverse(crate::model::Expr::data(data.to_vec()));
    let fail = || invalid(node, "its inverse cannot be evaluated at the data".into());
    let x = x.eval_with(lookup).ok_or_else(fail)?;
    let log_jac = log_jac.map(|j| j.eval_with(lookup).ok_or_else(fail)).transpose()?;
    Ok((x, log_jac))
}

/// A transformed observation's value at the draws `x` of its family.
fn transformed(
    node: &str,
    value: &crate::model::Expr,
    x: Vec<f64>,
    lookup: &dyn Fn(usize) -> Option<ConstValue>,
) -> Result<ConstValue> {
    let v = value
        .substitute_argument(&crate::model::Expr::data(x))
        .eval_with(lookup)
        .ok_or_else(|| invalid(node, "its value cannot be evaluated at the draw".into()))?;
    Ok(ConstValue { vector: true, ..v })
}

fn invalid(node: &str, reason: String) -> Error {
    Error::InvalidNode { node: node.to_string(), reason }
}

/// Most draws of a row tried before an ordered prior is declared too rarely increasing.
const ORDER_TRIES: usize = 10_000;

/// Makes each `row`-element row of the draw `out` of an ordered node a draw of the prior
/// restricted to increasing values. Where the row's elements are independent draws of one
/// law (a scalar family whose parameters are the same along the row), that is the sorted
/// row: the order statistics of exchangeable draws. Otherwise each row is drawn again until it
/// increases (rejection), and an `Err` says when [`ORDER_TRIES`] tries were not enough.
fn order_rows(
    kind: DistKind,
    params: &[ConstValue],
    out: &mut [f64],
    row: usize,
    rng: &mut StdRng,
) -> std::result::Result<(), String> {
    let n = out.len();
    for (r, values) in out.chunks_mut(row).enumerate() {
        let span = r * row..(r + 1) * row;
        let exchangeable =
            !kind.is_vector() && params.iter().all(|p| span.clone().all(|i| p.at(i) == p.at(span.start)));
        if exchangeable {
            values.sort_by(f64::total_cmp);
            continue;
        }
        // The first draw counts; a non-finite draw (parameters outside their domain) is left
        // for the caller's check to name.
        let mut tries = 1;
        while first_not_increasing(values).is_some() && values.iter().all(|v| v.is_finite()) {
            if tries == ORDER_TRIES {
                return Err(format!(
                    "its prior gave no increasing row {r} in {ORDER_TRIES} draws: the ordered \
                     prior's mass is too small to sample by rejection (give it means in order)"
                ));
            }
            tries += 1;
            if kind.is_vector() {
                // A vector family's row is one draw of the whole value's law.
                values.copy_from_slice(&draw_from(kind, params, n, rng)[span.clone()]);
            } else {
                let mut p = vec![0.0; params.len()];
                for (v, i) in values.iter_mut().zip(span.clone()) {
                    *v = draw_at(kind, params, i, &mut p, rng);
                }
            }
        }
    }
    Ok(())
}

/// [`DistKind::vec_check_fits`] with the parameters' values.
fn check_fits(kind: DistKind, node: &str, n: usize, params: &[ConstValue]) -> Result<()> {
    let lens: Vec<usize> = params.iter().map(|p| p.values.len()).collect();
    let consts: Vec<Option<&[f64]>> = params.iter().map(|p| Some(p.values.as_slice())).collect();
    kind.vec_check_fits(node, n, &lens, &consts)
}

/// `n` draws of family `kind` with parameters `params` (scalars broadcast; a vector family
/// draws its whole value at once).
fn draw_from(kind: DistKind, params: &[ConstValue], n: usize, rng: &mut StdRng) -> Vec<f64> {
    let mut out = vec![0.0; n];
    if kind.is_vector() {
        let slices: Vec<&[f64]> = params.iter().map(|p| p.values.as_slice()).collect();
        kind.vec_sample(&slices, &mut out, rng);
    } else {
        let mut p = vec![0.0; params.len()];
        for (k, o) in out.iter_mut().enumerate() {
            *o = draw_at(kind, params, k, &mut p, rng);
        }
    }
    out
}

/// One draw of scalar family `kind` at element `k` of its (broadcast) parameters, gathered
/// into the buffer `p`.
fn draw_at(kind: DistKind, params: &[ConstValue], k: usize, p: &mut [f64], rng: &mut StdRng) -> f64 {
    p.iter_mut().zip(params).for_each(|(x, c)| *x = c.at(k));
    kind.sample(p, rng)
}

/// The values of `model`'s nodes at the kept draws of a trace: free nodes take their traced
/// values, data and observed nodes their data, and deterministics their traced values, except
/// those that read data (directly or through other deterministics) or are not in the trace
/// with their length, which are evaluated, so they follow data replaced by
/// [`Model::set_data`] as PyMC recomputes them. A deterministic that cannot be evaluated (new
/// data it does not fit) has no value, an error only where something reads it; potentials
/// have none.
pub(crate) struct DrawValues<'a> {
    model: &'a Model,
    trace: &'a Trace,
    order: Vec<usize>,
    from_trace: Vec<Option<&'a TraceVar>>,
    /// Deterministics evaluated rather than read from the trace.
    evaluated: Vec<bool>,
}

impl<'a> DrawValues<'a> {
    /// Fails, naming the node, when a free node of `model` is not in `trace` with its length.
    pub(crate) fn new(model: &'a Model, trace: &'a Trace) -> Result<DrawValues<'a>> {
        let order = model.topological_order()?;
        let nodes = model.nodes();
        let from_trace: Vec<Option<&TraceVar>> = nodes.iter().map(|n| trace.var(&n.name)).collect();
        let whole = |t: &TraceVar| t.values.len() == trace.chains * trace.draws * t.size();
        for (node, t) in nodes.iter().zip(&from_trace) {
            let fits = t.is_some_and(|t| t.size() == node.len() && whole(t));
            if matches!(node.kind, NodeKind::Free { .. }) && !fits {
                return Err(invalid(
                    &node.name,
                    "is not in the fit's trace with this shape: was the fit made from this model?".into(),
                ));
            }
        }
        let mut evaluated = vec![false; nodes.len()];
        for &i in &order {
            let NodeKind::Deterministic { expr } = &nodes[i].kind else { continue };
            let traced = from_trace[i].is_some_and(|t| t.size() == nodes[i].len() && whole(t));
            let mut refs = Vec::new();
            expr.refs(&mut refs);
            let reads_data = refs
                .iter()
                .any(|r| matches!(nodes[r.index].kind, NodeKind::Data { .. }) || evaluated[r.index]);
            evaluated[i] = reads_data || !traced;
        }
        Ok(DrawValues { model, trace, order, from_trace, evaluated })
    }

    /// The nodes in topological order.
    pub(crate) fn order(&self) -> &[usize] {
        &self.order
    }

    /// Every node's value at `draw` of `chain` (`None` for potentials and for deterministics
    /// that cannot be evaluated).
    pub(crate) fn at(&self, chain: usize, draw: usize) -> Vec<Option<ConstValue>> {
        let nodes = self.model.nodes();
        let mut values: Vec<Option<ConstValue>> = vec![None; nodes.len()];
        for &i in &self.order {
            let node = &nodes[i];
            let vector = !matches!(node.shape, Shape::Scalar);
            values[i] = match (&node.kind, self.from_trace[i]) {
                (NodeKind::Deterministic { expr }, _) if self.evaluated[i] => {
                    expr.eval_with(&|j| values[j].clone())
                }
                (NodeKind::Free { .. } | NodeKind::Deterministic { .. }, Some(t)) => {
                    let size = t.size();
                    let at = (chain * self.trace.draws + draw) * size;
                    Some(ConstValue { values: t.values[at..at + size].to_vec(), vector })
                }
                (NodeKind::Data { values: data, .. }, _) => {
                    Some(ConstValue { values: data.to_vec(), vector })
                }
                (NodeKind::Observed { data, .. }, _) => Some(ConstValue { values: data.to_vec(), vector }),
                (NodeKind::Free { .. } | NodeKind::Deterministic { .. }, None) => {
                    unreachable!("checked by `new`")
                }
                (NodeKind::Potential { .. }, _) => None,
            };
        }
        values
    }
}

/// Walks every kept draw of `trace` (chain by chain) through `model` in topological order
/// ([`DrawValues`]), and for each observed node runs `visit(chain, draw, node, parameters)`
/// with its parameters evaluated.
fn for_each_draw(
    model: &Model,
    trace: &Trace,
    mut visit: impl FnMut(usize, usize, usize, &[ConstValue], &dyn Fn(usize) -> Option<ConstValue>) -> Result<()>,
) -> Result<()> {
    let draws = DrawValues::new(model, trace)?;
    let nodes = model.nodes();
    for chain in 0..trace.chains {
        for draw in 0..trace.draws {
            let values = draws.at(chain, draw);
            for &i in draws.order() {
                let NodeKind::Observed { dist, .. } = &nodes[i].kind else { continue };
                let params: Vec<ConstValue> = dist
                    .params
                    .iter()
                    .map(|p| p.eval_with(&|j| values[j].clone()))
                    .collect::<Option<_>>()
                    .ok_or_else(|| {
                        invalid(
                            &nodes[i].name,
                            "a parameter cannot be evaluated (an index out of range of new data, or data of \
                             a length the other terms do not fit?)"
                                .into(),
                        )
                    })?;
                visit(chain, draw, i, &params, &|j| values[j].clone())?;
            }
        }
    }
    Ok(())
}

/// The log prior density of every free node's value at every kept draw of `fit`
/// ([`compute_log_prior`](super::compute_log_prior); ArviZ's `log_prior` group, PyMC's
/// `compute_log_prior`): the layout of [`LogLikelihood`], with `nodes` the free nodes and
/// their terms (a scalar family's elements, a vector family's draws).
pub type LogPrior = LogLikelihood;

/// The log-likelihood of every observation at every kept draw of `fit` (and, as [`LogPrior`],
/// the log prior of every free node's terms: read "free node" and "term" below; the LOO
/// methods mean nothing for a prior).
#[derive(Clone, Debug, PartialEq)]
pub struct LogLikelihood {
    /// Chains.
    pub chains: usize,
    /// Kept draws per chain.
    pub draws: usize,
    /// Per observed node, in model order: its name and how many observations it holds.
    pub nodes: Vec<(String, usize)>,
    /// Per observation (the nodes' elements, or a vector family's draws, in order): its
    /// log-likelihood at each draw, chain after chain (the layout
    /// [`loo`](crate::diagnostics::loo) and [`waic`](crate::diagnostics::waic) take).
    pub values: Vec<Vec<f64>>,
}

/// Observed nodes with their index, in model order.
fn observed_nodes(model: &Model) -> impl Iterator<Item = (usize, &crate::model::Node)> {
    model.nodes().iter().enumerate().filter(|(_, n)| matches!(n.kind, NodeKind::Observed { .. }))
}

/// Per observed node, in model order: its name and how many observations it holds
/// ([`DistKind::observations`]) — the layout of [`LogLikelihood`].
pub(crate) fn observation_counts(model: &Model) -> Vec<(String, usize)> {
    node_terms(model, false).into_iter().map(|(_, name, count)| (name, count)).collect()
}

/// Per observed node (`free`: per free node), in model order: its index, its name and how
/// many pointwise terms its density has (a scalar family's elements, a vector family's draws:
/// [`DistKind::observations`]) — the layout of [`LogLikelihood`] and [`LogPrior`].
pub(crate) fn node_terms(model: &Model, free: bool) -> Vec<(usize, String, usize)> {
    model
        .nodes()
        .iter()
        .enumerate()
        .filter_map(|(i, n)| match &n.kind {
            NodeKind::Observed { dist, data, .. } if !free => {
                Some((i, n.name.clone(), term_count(model, dist, data.len())))
            }
            NodeKind::Free { dist, .. } if free => {
                Some((i, n.name.clone(), term_count(model, dist, n.len())))
            }
            _ => None,
        })
        .collect()
}

/// The pointwise terms of a density of `dist` over a value of `n` elements.
fn term_count(model: &Model, dist: &crate::model::Dist, n: usize) -> usize {
    let lens: Option<Vec<usize>> = dist.params.iter().map(|e| model.expr_shape(e).map(|s| s.len())).collect();
    match lens {
        Some(lens) => dist.kind.observations(n, &lens),
        None => 1,
    }
}

/// Every vector parameter of an elementwise family has `n` values (`Model::set_data` may have
/// changed some and not others; a vector of one value does not broadcast).
fn elementwise_lengths<'a>(
    node: &str,
    params: impl IntoIterator<Item = &'a ConstValue>,
    n: usize,
) -> Result<()> {
    match params.into_iter().find(|p| p.vector && p.values.len() != n) {
        Some(p) => Err(Error::ShapeMismatch {
            node: node.to_string(),
            detail: format!(
                "a parameter has {} values for {n} observations: set the data to match",
                p.values.len()
            ),
        }),
        None => Ok(()),
    }
}

/// The parameters with one value per element ([`DistKind::aligned_param`]).
fn aligned(kind: DistKind, params: &[ConstValue]) -> impl Iterator<Item = &ConstValue> {
    params.iter().enumerate().filter(move |&(j, _)| kind.aligned_param(j)).map(|(_, p)| p)
}

/// Per node, the rows of its parameter when its family takes a row per observation (its
/// matrix's rows, which `Model::set_data` may have changed since the model was built): worked
/// out once per call, not at every draw.
fn per_row_counts(model: &Model) -> Vec<Option<usize>> {
    let rows = |node: &crate::model::Node| {
        let dist = node.dist().filter(|d| d.kind.one_row().is_some())?;
        match model.expr_shape(dist.params.first()?)? {
            Shape::Matrix(r, _) => Some(r),
            _ => Some(node.len()),
        }
    };
    model.nodes().iter().map(rows).collect()
}

/// The pointwise log-likelihood of every observation of `model` at every kept draw of
/// `fit`, evaluated on the host in f64 (ArviZ's `log_likelihood` group). A vector family's
/// draw counts as one observation (a matrix's rows: an MvNormal's vectors, a multinomial's
/// counts), except where its elements are draws of their own (a categorical's draws, a
/// mixture's values: [`DistKind::observations`]).
/// Summed over observations it is the model's likelihood term at that draw.
///
/// ```
/// use exmc::prelude::*;
/// # fn main() -> exmc::Result<()> {
/// let mut m = Model::new();
/// let mu = m.rv("mu", Normal::new(0, 5))?;
/// m.observe("y", Normal::new(mu, 1), &[0.3, 1.1, -0.2, 0.8])?;
/// let fit = Sampler::new(&m).chains(2).warmup(300).draws(200).progress(false).run()?;
/// let ll = log_likelihood(&m, &fit)?;
/// let loo = ll.loo(&fit);
/// assert_eq!(loo.pareto_k.len(), 4);
/// # Ok(())
/// # }
/// ```
pub fn log_likelihood(model: &Model, fit: &Fit) -> Result<LogLikelihood> {
    crate::model::validate::vector_params(model, true)?;
    let nodes = model.nodes();
    let trace = &fit.trace;
    let total_draws = trace.chains * trace.draws;
    let names = observation_counts(model);
    // First observation of each observed node.
    let row_counts = per_row_counts(model);
    let mut first: Vec<Option<usize>> = vec![None; nodes.len()];
    let mut names_count = vec![0; nodes.len()];
    let mut at = 0;
    for ((i, _), (_, count)) in observed_nodes(model).zip(&names) {
        first[i] = Some(at);
        names_count[i] = *count;
        at += count;
    }
    let n_obs: usize = names.iter().map(|n| n.1).sum();
    let mut values = vec![Vec::with_capacity(total_draws); n_obs];
    // Data parameters in the form the family reads (an adjacency matrix's packed graph), made
    // once per node rather than once per draw (`None`: the parameter is read as it is).
    let mut prepared: std::collections::HashMap<(usize, usize), Option<Vec<f64>>> =
        std::collections::HashMap::new();
    for_each_draw(model, trace, |_, _, i, params, lookup| {
        let node = &nodes[i];
        let NodeKind::Observed { dist, data, value } = &node.kind else {
            unreachable!("observed nodes only")
        };
        let base = first[i].expect("observed");
        if !dist.kind.is_vector() {
            // A transformed observation: the family's density at the inverse, plus the
            // inverse's log-Jacobian.
            let (x, log_jac) = match value {
                Some(v) => inverse_at(&node.name, v, data, lookup)?,
                None => (ConstValue { values: data.clone(), vector: true }, None),
            };
            elementwise_lengths(&node.name, params, data.len())?;
            let mut p = vec![0.0; params.len()];
            for k in 0..data.len() {
                p.iter_mut().zip(params).for_each(|(x, c)| *x = c.at(k));
                let j = log_jac.as_ref().map_or(0.0, |j| j.at(k));
                values[base + k].push(dist.kind.lpdf(x.at(k), &p) + j);
            }
        } else if let Some(one) = dist.kind.one_row() {
            // Observation `k` with row `k` of the parameter.
            let rows = row_counts[i].unwrap_or(data.len());
            if rows != data.len() || data.is_empty() {
                return Err(Error::ShapeMismatch {
                    node: node.name.clone(),
                    detail: format!(
                        "{} observations for a parameter of {rows} rows: set the observed data too",
                        data.len()
                    ),
                });
            }
            let width = params[0].values.len() / rows;
            if width == 0 || width * rows != params[0].values.len() {
                return Err(Error::ShapeMismatch {
                    node: node.name.clone(),
                    detail: format!("{} parameter values are not {rows} rows", params[0].values.len()),
                });
            }
            for (k, (y, row)) in data.iter().zip(params[0].values.chunks(width)).enumerate() {
                values[base + k].push(one.vec_lpdf_grad(&[std::slice::from_ref(y), row], None));
            }
        } else if dist.kind.per_element_observations() {
            elementwise_lengths(&node.name, aligned(dist.kind, params), data.len())?;
            for (k, y) in data.iter().enumerate() {
                let mut args: Vec<&[f64]> = vec![std::slice::from_ref(y)];
                args.extend(params.iter().enumerate().map(|(j, p)| match p.values.len() {
                    n if n > 1 && dist.kind.aligned_param(j) => &p.values[k..=k],
                    _ => p.values.as_slice(),
                }));
                values[base + k].push(dist.kind.vec_lpdf_grad(&args, None));
            }
        } else {
            // One observation per draw (a matrix's rows), each with its own part of the
            // parameters the draws split.
            check_fits(dist.kind, &node.name, data.len(), params)?;
            let lens: Vec<usize> = params.iter().map(|p| p.values.len()).collect();
            let draws = dist.kind.observations(data.len(), &lens);
            if draws != names_count[i] {
                return Err(Error::ShapeMismatch {
                    node: node.name.clone(),
                    detail: format!(
                        "{} observations for parameters of these lengths, not {}: set the data to match",
                        draws, names_count[i]
                    ),
                });
            }
            let n = data.len();
            for r in 0..draws {
                let row = |v: &[f64]| -> Vec<f64> {
                    let w = v.len() / draws;
                    v[r * w..(r + 1) * w].to_vec()
                };
                let mut owned: Vec<Vec<f64>> = vec![row(data)];
                for (j, p) in params.iter().enumerate() {
                    let split = draws > 1 && dist.kind.vec_split_per_draw(j, p.values.len(), n, draws);
                    if split {
                        owned.push(row(&p.values));
                        continue;
                    }
                    let form = prepared.entry((i, j)).or_insert_with(|| {
                        model.data_value(&dist.params[j])?;
                        dist.kind.vec_prepare(j, &p.values)?.ok()
                    });
                    owned.push(form.clone().unwrap_or_else(|| p.values.clone()));
                }
                let args: Vec<&[f64]> = owned.iter().map(Vec::as_slice).collect();
                values[base + r].push(dist.kind.vec_lpdf_grad(&args, None));
            }
        }
        Ok(())
    })?;
    Ok(LogLikelihood { chains: trace.chains, draws: trace.draws, nodes: names, values })
}

impl LogLikelihood {
    /// PSIS-LOO with ArviZ's default relative efficiency (see [`relative_eff`]).
    pub fn loo(&self, fit: &Fit) -> crate::diagnostics::Elpd {
        crate::diagnostics::loo(&self.values, relative_eff(fit))
    }

    /// WAIC.
    pub fn waic(&self) -> crate::diagnostics::Elpd {
        crate::diagnostics::waic(&self.values)
    }

    /// LOO-PIT values of observed node `name` ([`loo_pit`](crate::diagnostics::loo_pit)):
    /// its data, its replicates in `ppc` (from [`posterior_predictive`] of the same fit) and
    /// these log-likelihood values, with [`relative_eff`] of `fit`. Close to uniform on [0, 1]
    /// for a calibrated model; a U shape says the predictions are too narrow, a hump too wide.
    ///
    /// ```
    /// use exmc::prelude::*;
    /// # fn main() -> exmc::Result<()> {
    /// let mut m = Model::new();
    /// let mu = m.rv("mu", Normal::new(0, 5))?;
    /// m.observe("y", Normal::new(mu, 1), &[0.3, 1.1, -0.2, 0.8])?;
    /// let fit = Sampler::new(&m).chains(2).warmup(300).draws(200).progress(false).run()?;
    /// let ppc = posterior_predictive(&m, &fit, 1)?;
    /// let pit = log_likelihood(&m, &fit)?.loo_pit(&m, &fit, &ppc, "y")?;
    /// assert!(pit.iter().all(|p| (0.0..=1.0).contains(p)));
    /// # Ok(())
    /// # }
    /// ```
    pub fn loo_pit(&self, model: &Model, fit: &Fit, ppc: &Trace, name: &str) -> Result<Vec<f64>> {
        let bad = |reason: String| Error::InvalidOption { option: "loo_pit", reason };
        let data = model
            .nodes()
            .iter()
            .find_map(|n| match &n.kind {
                NodeKind::Observed { data, .. } if n.name == name => Some(data.clone()),
                _ => None,
            })
            .ok_or_else(|| bad(format!("no observed node `{name}`")))?;
        let (start, count) = self
            .nodes
            .iter()
            .scan(0, |at, (n, c)| {
                let s = *at;
                *at += c;
                Some((n, s, *c))
            })
            .find(|(n, _, _)| *n == name)
            .map(|(_, s, c)| (s, c))
            .ok_or_else(|| bad(format!("the log-likelihood has no node `{name}`")))?;
        if count != data.len() {
            return Err(bad(format!(
                "`{name}` has {count} log-likelihood values for {} observations",
                data.len()
            )));
        }
        let rep = ppc.draws(name).ok_or_else(|| bad(format!("the replicates lack `{name}`")))?;
        if rep.shape() != [self.chains, self.draws, data.len()] && rep.shape() != [self.chains, self.draws] {
            return Err(bad(format!(
                "replicates of `{name}` have shape {:?}, not [{}, {}, {}] (replicate with the same fit and data)",
                rep.shape(),
                self.chains,
                self.draws,
                data.len()
            )));
        }
        let y_rep: Vec<Vec<f64>> =
            (0..data.len()).map(|i| rep.element(i).unwrap_or_default().concat()).collect();
        Ok(crate::diagnostics::loo_pit(&data, &y_rep, &self.values[start..start + count], relative_eff(fit)))
    }
}

/// ArviZ's default relative efficiency for PSIS-LOO: the mean over every traced scalar of its
/// mean-ESS, divided by the number of draws (1 for a single chain).
pub fn relative_eff(fit: &Fit) -> f64 {
    let trace = &fit.trace;
    if trace.chains <= 1 {
        return 1.0;
    }
    let ess: Vec<f64> = trace
        .scalars()
        .iter()
        .map(|(_, c)| crate::diagnostics::ess_mean(&c.iter().map(Vec::as_slice).collect::<Vec<_>>()))
        .collect();
    ess.iter().sum::<f64>() / ess.len().max(1) as f64 / (trace.chains * trace.draws) as f64
}
