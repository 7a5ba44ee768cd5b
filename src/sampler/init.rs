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
/// which coordinates were set. Values are taken in the model's order, so what a variable's
/// bounds, location or scale read (earlier nodes) is already at its given value: give every
/// node those read to start exactly at the given value (the rest are at 0 on the
/// unconstrained scale there, and drawn at random afterwards). A variable that automatic
/// non-centring rewrote is given by its own value too: its standardised draw is solved for
/// at its place in that order.
pub fn user_values(compiled: &Compiled, values: &HashMap<String, Vec<f64>>) -> Result<(Vec<f64>, Vec<bool>)> {
    user_values_with(compiled, &Executor::new(compiled.constrain.clone()), values)
}

/// [`user_values`] with the model's constraining program already made (`constrain`: an
/// executor of `compiled.constrain`), for many sets of values.
pub(crate) fn user_values_with(
    compiled: &Compiled,
    constrain: &Executor,
    values: &HashMap<String, Vec<f64>>,
) -> Result<(Vec<f64>, Vec<bool>)> {
    let pm = &compiled.pointmap;
    let bad = |reason: String| Error::InvalidOption { option: "init", reason };
    for name in values.keys() {
        if pm.entry(name).is_none() && !compiled.noncentered.contains(name) {
            return Err(bad(format!("`{name}` is not a free variable")));
        }
    }
    let mut u = vec![0.0; pm.dim];
    let mut set = vec![false; pm.dim];
    // In the model's order (a node reads only earlier ones); the rewrite appends the
    // standardised draws at the end, so one given directly is set at its variable's place.
    let mut placed: Vec<&str> = Vec::new();
    for node in compiled.model.nodes() {
        let name = node.name.as_str();
        if compiled.noncentered.iter().any(|n| n == name) {
            let z = standardised_draw(compiled, name)?;
            placed.push(&z.name);
            match (values.get(name), values.get(&z.name)) {
                (Some(_), Some(_)) => {
                    return Err(bad(format!(
                        "give `{name}` or its standardised draw `{}`, not both",
                        z.name
                    )));
                }
                (Some(x), None) => noncentered_value(compiled, constrain, (name, z), x, (&mut u, &mut set))?,
                (None, Some(x)) => entry_value(compiled, constrain, z, x, (&mut u, &mut set))?,
                (None, None) => {}
            }
        } else if let (Some(e), Some(x)) = (pm.entry(name), values.get(name))
            && !placed.contains(&name)
        {
            entry_value(compiled, constrain, e, x, (&mut u, &mut set))?;
        }
    }
    Ok((u, set))
}

/// Sets a free variable's unconstrained coordinates from its constrained values `x`.
fn entry_value(
    compiled: &Compiled,
    constrain: &Executor,
    e: &PointEntry,
    x: &[f64],
    (u, set): (&mut [f64], &mut [bool]),
) -> Result<()> {
    let bad = |reason: String| Error::InvalidOption { option: "init", reason };
    if x.len() != e.value_len {
        return Err(bad(format!("`{}` needs {} values, got {}", e.name, e.value_len, x.len())));
    }
    if let Transform::Vector(b) = &e.transform {
        let inside = b
            .inverse(x)
            .filter(|v| v.iter().all(|x| x.is_finite()))
            .ok_or_else(|| bad(format!("`{}` is outside the support of its distribution", e.name)))?;
        u[e.offset..e.offset + e.len].copy_from_slice(&inside);
        set[e.offset..e.offset + e.len].fill(true);
        return Ok(());
    }
    let bounds = interval_bounds(compiled, constrain, e, u)?;
    for (i, &xi) in x.iter().enumerate() {
        let ui = unconstrained_of(&e.transform, xi, &bounds_at(&bounds, i));
        if !ui.is_finite() {
            let element = Shape::element_name(&e.name, &e.shape.dims(), None, i);
            return Err(bad(format!("`{element}` = {xi} is outside the support")));
        }
        u[e.offset + i] = ui;
        set[e.offset + i] = true;
    }
    Ok(())
}

/// A scalar transform's inverse at `xi`, with the transform's bounds at that element (none, one
/// or two, in [`Transform::bounds`] order); NaN where `xi` is outside the support, and for a
/// vector transform (whose inverse maps the whole vector).
fn unconstrained_of(t: &Transform, xi: f64, bounds: &[f64]) -> f64 {
    match (t, bounds) {
        (Transform::Identity, _) => xi,
        (Transform::Log, _) => xi.ln(),
        (Transform::Circular, _) if Support::Circular.contains_fixed(xi) => xi,
        (Transform::Logit, _) => logit(xi),
        (Transform::LogitInterval { .. }, &[a, b]) => logit((xi - a) / (b - a)),
        (Transform::LowerBound { .. }, &[a]) => (xi - a).ln(),
        (Transform::UpperBound { .. }, &[b]) => (b - xi).ln(),
        _ => f64::NAN,
    }
}

/// Element `i` of each bound (a scalar bound serves every element).
fn bounds_at(bounds: &[ConstValue], i: usize) -> Vec<f64> {
    bounds.iter().map(|b| b.at(i)).collect()
}

/// Whether the constrained values `x` of a free variable map back to finite unconstrained
/// coordinates wherever that can be told without the model's other values (a value that
/// rounded onto its support's edge cannot start a chain); bounds that read other nodes are
/// not checked.
pub(crate) fn maps_back(e: &PointEntry, x: &[f64]) -> bool {
    if let Transform::Vector(b) = &e.transform {
        return x.iter().all(|v| v.is_finite())
            && b.inverse(x).is_some_and(|v| v.iter().all(|x| x.is_finite()));
    }
    let Some(bounds) = e.transform.bounds().into_iter().map(Expr::eval_const).collect::<Option<Vec<_>>>()
    else {
        return x.iter().all(|v| v.is_finite());
    };
    x.iter()
        .enumerate()
        .all(|(i, &v)| v.is_finite() && unconstrained_of(&e.transform, v, &bounds_at(&bounds, i)).is_finite())
}

/// The constraining program's output for the node `name`.
fn output_of(compiled: &Compiled, name: &str) -> Option<usize> {
    compiled.constrain.outputs.iter().find(|(n, _)| n == name).map(|(_, v)| *v)
}

/// The standardised draw behind the non-centred `name`: the free node its value reads that the
/// rewrite appended (after every node of the model, so the last one read).
fn standardised_draw<'c>(compiled: &'c Compiled, name: &str) -> Result<&'c PointEntry> {
    let nodes = compiled.model.nodes();
    let expr = nodes.iter().find(|n| n.name == name).and_then(|n| match &n.kind {
        crate::model::NodeKind::Deterministic { expr } => Some(expr),
        _ => None,
    });
    let mut refs = Vec::new();
    if let Some(e) = expr {
        e.refs(&mut refs);
    }
    refs.iter().map(|r| r.index).max().and_then(|i| compiled.pointmap.entry(&nodes.get(i)?.name)).ok_or_else(
        || Error::InvalidOption {
            option: "init",
            reason: format!("`{name}` has no standardised draw to start from"),
        },
    )
}

/// Sets the unconstrained coordinates of `z`, the standardised draw behind the non-centred
/// `name`, so that `name` equals `x`. The value is affine in those coordinates (`μ + σz`,
/// `μ + Lz`, `σz` on the zero-sum plane). A block-diagonal map (a normal's blocks of one, a
/// multivariate normal's rows) is tried first, from `k + 3` evaluations for blocks of `k`;
/// otherwise the map is evaluated at each unit vector and the least-squares system solved by
/// a QR factorisation. Either way the result is evaluated
/// again and must give `x`; a value the map cannot reach (off the zero-sum plane) is refused.
fn noncentered_value(
    compiled: &Compiled,
    constrain: &Executor,
    (name, z): (&str, &PointEntry),
    x: &[f64],
    (u, set): (&mut [f64], &mut [bool]),
) -> Result<()> {
    let bad = |reason: String| Error::InvalidOption { option: "init", reason: format!("`{name}` {reason}") };
    let output = output_of(compiled, name).ok_or_else(|| bad("is not in the constrained values".into()))?;
    let n = compiled.model.nodes().iter().find(|n| n.name == name).map_or(0, |n| n.len());
    if x.len() != n {
        return Err(bad(format!("needs {n} values, got {}", x.len())));
    }
    if let Some(v) = x.iter().find(|v| !v.is_finite()) {
        return Err(bad(format!("has the value {v}, which is not finite")));
    }
    let mut ws = constrain.workspace();
    let mut at = |coords: &[f64]| {
        u[z.offset..z.offset + z.len].copy_from_slice(coords);
        constrain.run(&mut ws, u, &mut []);
        constrain.value(&ws, output).to_vec()
    };
    let b = at(&vec![0.0; z.len]);
    let scale = x.iter().zip(&b).fold(f64::MIN_POSITIVE, |m, (x, b)| m.max(x.abs() + b.abs()));
    let reaches = |value: Vec<f64>| value.iter().zip(x).all(|(a, b)| (a - b).abs() <= 1e-8 * scale);
    // Block-diagonal maps (a normal's blocks of 1, a multivariate normal's rows of `k`): the
    // block size from the first coordinate's reach, then one evaluation per position within a
    // block (that coordinate of every block at once) and a small solve per block.
    if z.len == n && n > 0 {
        let mut e0 = vec![0.0; n];
        e0[0] = 1.0;
        let first = at(&e0);
        let k = 1 + (0..n).rev().find(|&i| first[i] != b[i]).unwrap_or(0);
        if n % k == 0 && k <= MAX_NONCENTERED_INIT {
            let combs: Vec<Vec<f64>> = (0..k)
                .map(|j| {
                    let comb: Vec<f64> = (0..n).map(|i| f64::from(u8::from(i % k == j))).collect();
                    at(&comb).iter().zip(&b).map(|(a, b)| a - b).collect()
                })
                .collect();
            let coords: Option<Vec<f64>> = (0..n / k)
                .map(|blk| {
                    let rows = blk * k..(blk + 1) * k;
                    let columns: Vec<Vec<f64>> = combs.iter().map(|c| c[rows.clone()].to_vec()).collect();
                    let r: Vec<f64> = rows.map(|i| x[i] - b[i]).collect();
                    least_squares(columns, &r)
                })
                .collect::<Option<Vec<Vec<f64>>>>()
                .map(|c| c.concat());
            if let Some(coords) = coords
                && reaches(at(&coords))
            {
                set[z.offset..z.offset + z.len].fill(true);
                return Ok(());
            }
        }
    }
    if z.len > MAX_NONCENTERED_INIT {
        return Err(bad(format!(
            "is not block-diagonal in its standardised draw and has {} coordinates: give the draw `{}` instead \
             (at most {MAX_NONCENTERED_INIT} are solved for)",
            z.len, z.name
        )));
    }
    let columns: Vec<Vec<f64>> = (0..z.len)
        .map(|j| {
            let mut e = vec![0.0; z.len];
            e[j] = 1.0;
            at(&e).iter().zip(&b).map(|(a, b)| a - b).collect()
        })
        .collect();
    let r: Vec<f64> = x.iter().zip(&b).map(|(x, b)| x - b).collect();
    let coords = least_squares(columns, &r)
        .ok_or_else(|| bad("cannot be solved for: its scale is not positive".into()))?;
    if !reaches(at(&coords)) {
        return Err(bad(if z.len < n {
            "cannot take these values: they are off the zero-sum plane".into()
        } else {
            "cannot be solved for to 1e-8 of its values (its scale is too ill-conditioned)".into()
        }));
    }
    set[z.offset..z.offset + z.len].fill(true);
    Ok(())
}

/// Most coordinates of a non-centred variable's standardised draw that [`user_values`] solves
/// for by a dense system (`n` evaluations and `n²` numbers), when its map is not diagonal.
const MAX_NONCENTERED_INIT: usize = 2048;

/// The least-squares solution of `A c = r` (`A` by columns) by modified Gram–Schmidt QR
/// (the conditioning of `A`, not of `AᵀA`); `None` where a column is dependent on the others
/// or not finite.
fn least_squares(mut q: Vec<Vec<f64>>, r: &[f64]) -> Option<Vec<f64>> {
    let n = q.len();
    let dot = |a: &[f64], b: &[f64]| a.iter().zip(b).map(|(x, y)| x * y).sum::<f64>();
    let mut rr = vec![0.0; n * n];
    let mut rhs = r.to_vec();
    let mut c = vec![0.0; n];
    for j in 0..n {
        for k in 0..j {
            let (head, tail) = q.split_at_mut(j);
            let d = dot(&head[k], &tail[0]);
            rr[k * n + j] = d;
            tail[0].iter_mut().zip(&head[k]).for_each(|(v, w)| *v -= d * w);
        }
        let norm = dot(&q[j], &q[j]).sqrt();
        if !(norm > 0.0 && norm.is_finite()) {
            return None;
        }
        rr[j * n + j] = norm;
        q[j].iter_mut().for_each(|v| *v /= norm);
        // The right-hand side projected as Gram–Schmidt goes (modified: against the updated
        // residual).
        c[j] = dot(&q[j], &rhs);
        rhs.iter_mut().zip(&q[j]).for_each(|(v, w)| *v -= c[j] * w);
    }
    for i in (0..n).rev() {
        c[i] = (c[i] - (i + 1..n).map(|k| rr[i * n + k] * c[k]).sum::<f64>()) / rr[i * n + i];
    }
    c.iter().all(|v| v.is_finite()).then_some(c)
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
        let v = output_of(compiled, &nodes.get(i)?.name)?;
        let values = constrain.value(&ws, v).to_vec();
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

/// A start's user values: a point on the unconstrained scale and which of its coordinates
/// the user gave (the rest are drawn).
pub(crate) type Given = (Vec<f64>, Vec<bool>);

/// Attempts at a start whose user-given coordinates are `set`: one where they are all given
/// (the same point every time), [`MAX_INIT_TRIES`] otherwise.
pub(crate) fn tries_for(set: &[bool]) -> usize {
    if set.iter().all(|&s| s) { 1 } else { MAX_INIT_TRIES }
}

/// The user's values for start `id` (a chain, a Pathfinder path) among `given`: the one pair
/// shared by all starts, or the start's own (see [`super::Init::unconstrained`]).
pub(crate) fn given_for(given: &[Given], id: usize) -> (&[f64], &[bool]) {
    let (base, set) = &given[if given.len() == 1 { 0 } else { id }];
    (base, set)
}

/// Starting points that f32 kernels can work from. Where a chain's log density at its start is
/// beyond [`F32_LOGP_LIMIT`] (earnings models at Stan's uniform(−2, 2) start: −2·10⁸, where one
/// f32 spacing is 16 nats and every energy difference is noise, so step-size adaptation
/// collapses and the chain never leaves), the start is moved uphill in f64 on the host —
/// normalised gradient steps with a doubling/halving step length, user-given coordinates kept
/// — until it is inside, and given to the backend again. Chains already inside are untouched;
/// the host evaluates nothing for them.
/// `sets` holds each chain's user-given coordinates.
pub(crate) fn f32_safe_starts(
    backend: &mut dyn crate::backend::Backend,
    logp_grad: &crate::compile::Program,
    starts: &[(Vec<f64>, f64)],
    sets: &[&[bool]],
    metric: super::MetricInit,
) {
    let far: Vec<usize> =
        (0..starts.len()).filter(|&c| starts[c].1.is_nan() || starts[c].1.abs() > F32_LOGP_LIMIT).collect();
    if far.is_empty() {
        return;
    }
    let exec = Executor::new(logp_grad.clone());
    let moved: Vec<(usize, Vec<f64>)> =
        far.iter().map(|&c| (c, uphill(&exec, &starts[c].0, sets[c]))).collect();
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
        assert_round_trip(&compiled, &given, 1e-12);
        // Outside the support, and unknown names, are typed errors.
        let bad: HashMap<String, Vec<f64>> =
            [("a".to_string(), vec![0.7]), ("u".to_string(), vec![0.5])].into();
        assert!(user_values(&compiled, &bad).is_err(), "0.5 < lower bound 0.7");
        let unknown: HashMap<String, Vec<f64>> = [("zz".to_string(), vec![0.5])].into();
        assert!(matches!(user_values(&compiled, &unknown), Err(Error::InvalidOption { option: "init", .. })));
    }

    /// Every given value set, and the constrained values at the mapped point equal to them
    /// within `tol` (relative above 1).
    fn assert_round_trip(compiled: &Compiled, given: &HashMap<String, Vec<f64>>, tol: f64) {
        let (u, set) = user_values(compiled, given).unwrap();
        assert!(set.iter().all(|&s| s));
        let exec = Executor::new(compiled.constrain.clone());
        let mut ws = exec.workspace();
        exec.run(&mut ws, &u, &mut []);
        for (name, want) in given {
            let (_, v) = exec.program().outputs.iter().find(|(n, _)| n == name).unwrap();
            for (g, w) in exec.value(&ws, *v).iter().zip(want) {
                assert!((g - w).abs() <= tol * w.abs().max(1.0), "{name}: {g} vs {w}");
            }
        }
    }

    /// Variables that automatic non-centring rewrote (normal, multivariate normal, zero-sum)
    /// are given by their own values: the standardised draws are solved for at the given
    /// location and scale, and the constrained values come back exactly.
    #[test]
    fn noncentred_values_map_back_through_their_draws() {
        let mut m = Model::new();
        let mu = m.rv("mu", Normal::new(0.0, 5.0)).unwrap();
        let tau = m.rv("tau", HalfNormal::new(2.0)).unwrap();
        m.rv_vec("theta", Normal::new(mu, tau), 3).unwrap();
        let chol = m.data("chol", vec![1.5, 0.0, -0.6, 0.8]).unwrap();
        m.rv_vec("v", MvNormal::new(Expr::from(vec![1.0, -1.0]) + mu, chol), 2).unwrap();
        m.rv_vec("zs", ZeroSumNormal::new(tau), 4).unwrap();
        let compiled = crate::compile::compile(&m, RewriteOptions::default()).unwrap();
        assert_eq!(compiled.noncentered.len(), 3, "{:?}", compiled.noncentered);
        let given: HashMap<String, Vec<f64>> = [
            ("mu".to_string(), vec![0.3]),
            ("tau".to_string(), vec![1.7]),
            ("theta".to_string(), vec![-1.0, 0.5, 4.0]),
            ("v".to_string(), vec![2.0, -3.0]),
            ("zs".to_string(), vec![1.0, -2.0, 0.25, 0.75]),
        ]
        .into();
        assert_round_trip(&compiled, &given, 1e-12);
        // Off the zero-sum plane, and a wrong length, are refused naming the variable.
        let mut off = given.clone();
        off.insert("zs".to_string(), vec![1.0, 1.0, 1.0, 1.0]);
        let err = user_values(&compiled, &off).unwrap_err().to_string();
        assert!(err.contains("`zs` cannot take these values"), "{err}");
        off.insert("zs".to_string(), vec![1.0]);
        let err = user_values(&compiled, &off).unwrap_err().to_string();
        assert!(err.contains("`zs` needs 4 values, got 1"), "{err}");
        off.insert("zs".to_string(), vec![f64::NAN, 0.0, 0.0, 0.0]);
        let err = user_values(&compiled, &off).unwrap_err().to_string();
        assert!(err.contains("`zs` has the value NaN, which is not finite"), "{err}");
        let mut both = given.clone();
        both.insert("theta_z".to_string(), vec![0.0; 3]);
        let err = user_values(&compiled, &both).unwrap_err().to_string();
        assert!(err.contains("give `theta` or its standardised draw `theta_z`, not both"), "{err}");
    }

    /// A bound that reads a non-centred variable is evaluated at its given value, and a
    /// non-centred variable's bounded scale (Uniform(0, 10)) is at its given value when the
    /// variable is solved for; an ill-conditioned Cholesky factor still reproduces its value;
    /// a long normal vector and a multivariate normal of many rows take the block-diagonal
    /// path, beyond the dense limit.
    #[test]
    fn noncentred_values_bounds_conditioning_and_length() {
        let mut m = Model::new();
        let mu = m.rv("mu", Normal::new(0.0, 5.0)).unwrap();
        let tau = m.rv("tau", HalfNormal::new(2.0)).unwrap();
        let theta = m.rv_vec("theta", Normal::new(mu, tau), 2).unwrap();
        m.rv("y", Uniform::new(theta.get(0), theta.get(0) + 10.0)).unwrap();
        let chol = m.data("chol", vec![1e3, 0.0, 999.9, 0.05]).unwrap();
        m.rv_vec("v", MvNormal::new(0.0, chol), 2).unwrap();
        m.rv_vec("long", Normal::new(mu, tau), 3000).unwrap();
        let bounded = m.rv("bounded", Uniform::new(0.0, 10.0)).unwrap();
        m.rv_vec("scaled", Normal::new(mu, bounded), 2).unwrap();
        let corr = m.data("corr", vec![1.0, 0.0, 0.6, 0.8]).unwrap();
        m.rv_vec("rows", MvNormal::new(vec![0.5, -0.5], corr * bounded), 2 * 1100).unwrap();
        let compiled = crate::compile::compile(&m, RewriteOptions::default()).unwrap();
        let long: Vec<f64> = (0..3000).map(|i| (i as f64).sin() * 3.0).collect();
        let given: HashMap<String, Vec<f64>> = [
            ("mu".to_string(), vec![0.3]),
            ("tau".to_string(), vec![1.7]),
            ("theta".to_string(), vec![20.0, -1.0]),
            ("y".to_string(), vec![25.0]),
            ("v".to_string(), vec![1500.0, 1499.97]),
            ("long".to_string(), long),
            ("bounded".to_string(), vec![3.0]),
            ("scaled".to_string(), vec![4.0, -2.0]),
            ("rows".to_string(), (0..2200).map(|i| (i as f64 * 0.37).cos() * 5.0).collect()),
        ]
        .into();
        assert_eq!(compiled.noncentered.len(), 5, "{:?}", compiled.noncentered);
        assert_round_trip(&compiled, &given, 1e-9);
    }

    /// Values on their support's edge (rounded there) do not map back; values inside do.
    #[test]
    fn edge_values_do_not_map_back() {
        let mut m = Model::new();
        m.rv("p", Beta::new(2.0, 2.0)).unwrap();
        m.rv("s", HalfNormal::new(1.0)).unwrap();
        m.rv_vec("w", Dirichlet::new(vec![1.0, 1.0, 1.0]), 3).unwrap();
        m.rv("u", Uniform::new(1.0, 2.0)).unwrap();
        let compiled = crate::compile::compile(&m, RewriteOptions::default()).unwrap();
        let entry = |n: &str| compiled.pointmap.entry(n).unwrap();
        for (name, inside, edge) in [
            ("p", vec![0.999], vec![1.0]),
            ("s", vec![1e-300], vec![0.0]),
            ("w", vec![0.2, 0.3, 0.5], vec![0.0, 0.5, 0.5]),
            ("u", vec![1.5], vec![2.0]),
        ] {
            assert!(maps_back(entry(name), &inside), "{name} {inside:?}");
            assert!(!maps_back(entry(name), &edge), "{name} {edge:?}");
            assert!(!maps_back(entry(name), &vec![f64::NAN; inside.len()]), "{name} NaN");
        }
    }
}
