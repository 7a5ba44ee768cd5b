//! Initial points: uniform in (-2, 2) on the unconstrained scale (Stan), or user values given
//! in the constrained space and mapped through the inverse transforms.

use std::collections::HashMap;

use crate::backend::cpu::Executor;
use crate::compile::{Compiled, PointEntry};
use crate::error::{Error, Result};
use crate::model::expr::ConstValue;
use crate::model::{Expr, Shape, Support, Transform};
use crate::rng::{ChainRng, Purpose};

/// Maximum attempts to find a finite starting point (Stan's 100).
pub const MAX_INIT_TRIES: usize = 100;

fn logit(p: f64) -> f64 {
    (p / (1.0 - p)).ln()
}

/// Maps user initial values (constrained space) into a partial unconstrained vector; returns
/// which coordinates were set. Bounds that depend on other nodes are evaluated at those nodes'
/// given values (0 on the unconstrained scale where none is given), so give every node a
/// bound reads to start exactly at the given value.
pub fn user_values(compiled: &Compiled, values: &HashMap<String, Vec<f64>>) -> Result<(Vec<f64>, Vec<bool>)> {
    let pm = &compiled.pointmap;
    for name in values.keys() {
        if pm.entry(name).is_none() {
            return Err(Error::InvalidOption {
                option: "init",
                reason: format!("`{name}` is not a free variable"),
            });
        }
    }
    let mut u = vec![0.0; pm.dim];
    let mut set = vec![false; pm.dim];
    let constrain = Executor::new(compiled.constrain.clone());
    for e in &pm.entries {
        let Some(x) = values.get(&e.name) else { continue };
        if x.len() != e.value_len {
            return Err(Error::InvalidOption {
                option: "init",
                reason: format!("`{}` needs {} values, got {}", e.name, e.value_len, x.len()),
            });
        }
        if let Transform::Vector(b) = &e.transform {
            let inside = b.inverse(x).ok_or_else(|| Error::InvalidOption {
                option: "init",
                reason: format!("`{}` is outside the support of its distribution", e.name),
            })?;
            u[e.offset..e.offset + e.len].copy_from_slice(&inside);
            set[e.offset..e.offset + e.len].fill(true);
            continue;
        }
        let bounds = interval_bounds(compiled, &constrain, e, &u)?;
        for (i, &xi) in x.iter().enumerate() {
            let ui = match (&e.transform, bounds.as_slice()) {
                (Transform::Identity, _) => xi,
                (Transform::Log, _) => xi.ln(),
                (Transform::Circular, _) if Support::Circular.contains_fixed(xi) => xi,
                (Transform::Logit, _) => logit(xi),
                (Transform::LogitInterval { .. }, [a, b]) => logit((xi - a.at(i)) / (b.at(i) - a.at(i))),
                (Transform::LowerBound { .. }, [a]) => (xi - a.at(i)).ln(),
                (Transform::UpperBound { .. }, [b]) => (b.at(i) - xi).ln(),
                _ => f64::NAN,
            };
            if !ui.is_finite() {
                return Err(Error::InvalidOption {
                    option: "init",
                    reason: format!(
                        "`{}` = {xi} is outside the support",
                        Shape::element_name(&e.name, &e.shape.dims(), None, i)
                    ),
                });
            }
            u[e.offset + i] = ui;
            set[e.offset + i] = true;
        }
    }
    Ok((u, set))
}

/// Bounds of an entry's transform (none, one or two), evaluated at the partially filled `u`.
fn interval_bounds(
    compiled: &Compiled,
    constrain: &Executor,
    e: &PointEntry,
    u: &[f64],
) -> Result<Vec<ConstValue>> {
    let bounds = e.transform.bounds();
    if bounds.is_empty() {
        return Ok(Vec::new());
    }
    let mut ws = constrain.workspace();
    constrain.run(&mut ws, u, &mut []);
    let nodes = compiled.model.nodes();
    let lookup = |i: usize| -> Option<ConstValue> {
        let name = &nodes.get(i)?.name;
        let (_, v) = compiled.constrain.outputs.iter().find(|(n, _)| n == name)?;
        let values = constrain.value(&ws, *v).to_vec();
        Some(ConstValue { vector: nodes[i].shape != Shape::Scalar, values })
    };
    let eval = |x: &Expr| {
        x.eval_with(&lookup).ok_or_else(|| Error::InvalidOption {
            option: "init",
            reason: format!("bounds of `{}` cannot be evaluated", e.name),
        })
    };
    bounds.into_iter().map(eval).collect()
}

/// Largest |log density| at which f32 kernels still resolve energy differences to a quarter
/// of a nat (2²², where an f32 spacing is 0.25 or 0.5).
pub const F32_LOGP_LIMIT: f64 = 4_194_304.0;

/// Most uphill steps taken to bring an f32 chain's start inside [`F32_LOGP_LIMIT`].
const MAX_UPHILL: usize = 500;

/// Starting points that f32 kernels can work from. Where a chain's log density at its start is
/// beyond [`F32_LOGP_LIMIT`] (earnings models at Stan's uniform(−2, 2) start: −2·10⁸, where one
/// f32 spacing is 16 nats and every energy difference is noise, so step-size adaptation
/// collapses and the chain never leaves), the start is moved uphill in f64 on the host —
/// normalised gradient steps with a doubling/halving step length, user-given coordinates kept
/// — until it is inside, and given to the backend again. Chains already inside are untouched;
/// the host evaluates nothing for them.
pub(crate) fn f32_safe_starts(
    backend: &mut dyn crate::backend::Backend,
    logp_grad: &crate::compile::Program,
    starts: &[(Vec<f64>, f64)],
    set: &[bool],
    metric: super::MetricInit,
) {
    let far: Vec<usize> =
        (0..starts.len()).filter(|&c| starts[c].1.is_nan() || starts[c].1.abs() > F32_LOGP_LIMIT).collect();
    if far.is_empty() {
        return;
    }
    let exec = Executor::new(logp_grad.clone());
    let moved: Vec<(usize, Vec<f64>)> = far.iter().map(|&c| (c, uphill(&exec, &starts[c].0, set))).collect();
    for ((chain, _), result) in moved.iter().zip(backend.set_positions(&moved)) {
        match result {
            Some((_, g)) if metric == super::MetricInit::Gradient => {
                backend.set_inv_mass(*chain, &super::gradient_metric(&g))
            }
            Some(_) => {}
            // Not finite in f32 there (an overflow): keep the start that was.
            None => {
                backend.set_position(*chain, &starts[*chain].0);
            }
        }
    }
}

/// `u` moved uphill until `|log p| ≤ F32_LOGP_LIMIT` (see [`f32_safe_starts`]).
fn uphill(exec: &Executor, u: &[f64], set: &[bool]) -> Vec<f64> {
    let mut ws = exec.workspace();
    let (mut g, mut gc) = (vec![0.0; u.len()], vec![0.0; u.len()]);
    let mut u = u.to_vec();
    let mut lp = exec.run(&mut ws, &u, &mut g);
    let mut step = 1.0f64;
    for _ in 0..MAX_UPHILL {
        if !lp.is_finite() || lp.abs() <= F32_LOGP_LIMIT {
            break;
        }
        g.iter_mut().zip(set).filter(|(_, s)| **s).for_each(|(x, _)| *x = 0.0);
        let norm = g.iter().map(|x| x * x).sum::<f64>().sqrt();
        if !(norm > 0.0 && norm.is_finite()) {
            break;
        }
        loop {
            let cand: Vec<f64> = u.iter().zip(&g).map(|(x, d)| x + step * d / norm).collect();
            let lc = exec.run(&mut ws, &cand, &mut gc);
            if lc.is_finite() && lc > lp && gc.iter().all(|x| x.is_finite()) {
                (u, lp) = (cand, lc);
                std::mem::swap(&mut g, &mut gc);
                step *= 2.0;
                break;
            }
            step /= 2.0;
            if step < 1e-12 {
                return u;
            }
        }
    }
    u
}

/// Candidate initial point number `attempt`: user coordinates kept, the rest uniform in (-2, 2).
pub fn candidate(rng: &ChainRng, attempt: usize, base: &[f64], set: &[bool]) -> Vec<f64> {
    let mut u = base.to_vec();
    for (k, (ui, &fixed)) in u.iter_mut().zip(set).enumerate() {
        if !fixed {
            *ui = 4.0 * rng.uniform(attempt as u64, k as u32, Purpose::Init) - 2.0;
        }
    }
    u
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::prelude::*;
    use crate::rewrite::RewriteOptions;

    /// Far from the data's scale (earnings in dollars, a scale starting near 1) the log
    /// density is −10⁹; the uphill steps bring it inside the f32 limit, keeping a user-set
    /// coordinate.
    #[test]
    fn uphill_reaches_the_f32_limit() {
        let mut m = Model::new();
        let b0 = m.rv("b0", Flat::new()).unwrap();
        let sigma = m.rv("sigma", HalfFlat::new()).unwrap();
        let fixed = m.rv("fixed", Normal::new(0.0, 1.0)).unwrap();
        let y: Vec<f64> = (0..50).map(|i| 20_000.0 + 300.0 * i as f64).collect();
        m.observe("y", Normal::new(b0 + fixed, sigma), &y).unwrap();
        let compiled = crate::compile::compile(&m, RewriteOptions::default()).unwrap();
        let exec = Executor::new(compiled.logp_grad.clone());
        let start = vec![0.3, -0.5, 0.25];
        let mut ws = exec.workspace();
        let mut g = vec![0.0; 3];
        assert!(exec.run(&mut ws, &start, &mut g) < -1e9);
        let set = [false, false, true];
        let u = super::uphill(&exec, &start, &set);
        let lp = exec.run(&mut ws, &u, &mut g);
        assert!(lp.is_finite() && lp.abs() <= super::F32_LOGP_LIMIT, "{lp} at {u:?}");
        assert_eq!(u[2], 0.25, "a user-set coordinate stays");
    }

    #[test]
    fn user_values_map_back_through_every_transform() {
        let mut m = Model::new();
        let a = m.rv("a", Normal::new(0.0, 1.0)).unwrap();
        m.rv("s", HalfNormal::new(1.0)).unwrap();
        m.rv_vec("p", Beta::new(2.0, 2.0), 2).unwrap();
        m.rv("u", Uniform::new(a, a.exp() + 3.0)).unwrap();
        let compiled = crate::compile::compile(&m, RewriteOptions::default()).unwrap();
        let given: HashMap<String, Vec<f64>> = [
            ("a".to_string(), vec![0.7]),
            ("s".to_string(), vec![2.5]),
            ("p".to_string(), vec![0.2, 0.9]),
            ("u".to_string(), vec![1.1]),
        ]
        .into();
        let (u, set) = user_values(&compiled, &given).unwrap();
        assert!(set.iter().all(|&s| s));
        let exec = Executor::new(compiled.constrain.clone());
        let mut ws = exec.workspace();
        exec.run(&mut ws, &u, &mut []);
        for (name, v) in &exec.program().outputs {
            let got = exec.value(&ws, *v);
            for (g, w) in got.iter().zip(&given[name]) {
                assert!((g - w).abs() < 1e-12, "{name}: {g} vs {w}");
            }
        }
        // Outside the support, and unknown names, are typed errors.
        let bad: HashMap<String, Vec<f64>> =
            [("a".to_string(), vec![0.7]), ("u".to_string(), vec![0.5])].into();
        assert!(user_values(&compiled, &bad).is_err(), "0.5 < lower bound 0.7");
        let unknown: HashMap<String, Vec<f64>> = [("zz".to_string(), vec![0.5])].into();
        assert!(matches!(user_values(&compiled, &unknown), Err(Error::InvalidOption { option: "init", .. })));
    }
}
