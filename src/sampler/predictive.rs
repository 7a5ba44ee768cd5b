//! Prior predictive sampling: ancestral draws of every free, deterministic and observed node,
//! on the host (each family's own sampler; the model's expressions evaluated in f64).

use rand::SeedableRng;
use rand::rngs::StdRng;

use super::trace::{Trace, TraceVar};
use crate::error::{Error, Result};
use crate::model::expr::ConstValue;
use crate::model::{Model, NodeKind, Shape};

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
    let order = model.topological_order()?;
    let nodes = model.nodes();
    let mut rng = StdRng::seed_from_u64(seed);
    let sampled: Vec<usize> = (0..nodes.len())
        .filter(|&i| !matches!(nodes[i].kind, NodeKind::Potential { .. } | NodeKind::Data { .. }))
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
    let fail = |name: &str, reason: String| Error::InvalidNode { node: name.to_string(), reason };
    for _ in 0..draws {
        for &i in &order {
            let node = &nodes[i];
            let lookup = |j: usize| values[j].clone();
            let value = match &node.kind {
                NodeKind::Data { values: data, .. } => {
                    ConstValue { values: data.to_vec(), vector: !matches!(node.shape, Shape::Scalar) }
                }
                NodeKind::Potential { .. } => continue,
                NodeKind::Deterministic { expr } => {
                    let v = expr
                        .eval_with(&lookup)
                        .ok_or_else(|| fail(&node.name, "cannot be evaluated".into()))?;
                    let n = node.len();
                    ConstValue { values: (0..n).map(|k| v.at(k)).collect(), vector: v.vector || n > 1 }
                }
                NodeKind::Free { dist, .. } | NodeKind::Observed { dist, .. } => {
                    let params: Vec<ConstValue> = dist
                        .params
                        .iter()
                        .map(|p| p.eval_with(&lookup))
                        .collect::<Option<_>>()
                        .ok_or_else(|| fail(&node.name, "a parameter cannot be evaluated".into()))?;
                    let n = node.len();
                    let mut out = vec![0.0; n];
                    if dist.kind.is_vector() {
                        let slices: Vec<&[f64]> = params.iter().map(|p| p.values.as_slice()).collect();
                        dist.kind.vec_sample(&slices, &mut out, &mut rng);
                    } else {
                        let mut p = vec![0.0; params.len()];
                        for (k, o) in out.iter_mut().enumerate() {
                            p.iter_mut().zip(&params).for_each(|(x, c)| *x = c.at(k));
                            *o = dist.kind.sample(&p, &mut rng);
                        }
                    }
                    if let Some(bad) = out.iter().find(|v| !v.is_finite()) {
                        return Err(fail(
                            &node.name,
                            format!(
                                "its {:?} prior predictive draw is {bad}: the family has no sampler (flat priors) or its parameters are outside their domain",
                                dist.kind
                            ),
                        ));
                    }
                    ConstValue { values: out, vector: !matches!(node.shape, Shape::Scalar) }
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
