//! Categorical(p): one category out of `K`, by probabilities.

use rand::Rng;

use super::vector::{VecCode, VecFamily};
use super::{Dist, Domain, Support, std_uniform};
use crate::model::expr::Expr;

/// Categorical distribution over `{0, …, K − 1}` with probabilities `p` (a `K`-vector shared
/// by every observation; normalised to sum to one, as PyMC does). Observed only.
///
/// `log p(y) = ln p_y − ln Σₖ pₖ`. A category may have probability zero (`p` is non-negative,
/// not all zero). Where `p` is constant, observing such a category is a model error naming
/// the observation, rather than a log density of −∞; a random `p` is not checked.
#[derive(Clone, Copy, Debug)]
pub struct Categorical;

impl Categorical {
    /// `Categorical(p)`.
    #[allow(clippy::new_ret_no_self)]
    pub fn new(p: impl Into<Expr>) -> Dist {
        Dist { kind: super::DistKind::Categorical, params: vec![p.into()] }
    }

    /// `Categorical(softmax(logits))`.
    pub fn logit(logits: impl Into<Expr>) -> Dist {
        Dist { kind: super::DistKind::CategoricalLogit, params: vec![logits.into()] }
    }
}

/// The shape and data rules both categorical forms share: observed only, any number of
/// observations, each a category `0..K` of the parameter's length. `probabilities`: the
/// parameter is the probabilities, whose zeros data must not observe.
macro_rules! categorical_rules {
    ($probabilities:literal) => {
        fn value_len(_lens: &[usize], _consts: &[Option<&[f64]>]) -> Result<usize, String> {
            Err("a categorical is observed only: the data give its length".into())
        }

        fn accepts_len(n: usize, lens: &[usize], _consts: &[Option<&[f64]>]) -> Result<(), String> {
            super::categorical::accepts_len(n, lens)
        }

        fn check_value(x: &[f64], lens: &[usize], p: &[Option<&[f64]>]) -> Result<(), (usize, String)> {
            let weights = if $probabilities { p[0] } else { None };
            super::categorical::check_categories(x, lens, weights)
        }
    };
}
pub(crate) use categorical_rules;

/// Observations are categories `0..K` with `K ≥ 2` the parameter's length, and none of a
/// category whose constant probability (`weights`, when given) is zero.
pub(crate) fn check_categories(x: &[f64], lens: &[usize], weights: Option<&[f64]>) -> Result<(), (usize, String)> {
    let k = lens[0];
    if k < 2 {
        return Err((0, format!("a categorical needs at least 2 categories, not {k}")));
    }
    if let Some(i) = x.iter().position(|&y| category(y, k).is_none()) {
        return Err((i, format!("categories are whole numbers in 0..{k}")));
    }
    let Some(w) = weights else { return Ok(()) };
    match x.iter().position(|&y| w[y as usize] == 0.0) {
        Some(i) => Err((i, format!("category {} has probability 0 in `p`", x[i]))),
        None => Ok(()),
    }
}

/// Any number of observations; the length comes from the data.
pub(crate) fn accepts_len(n: usize, lens: &[usize]) -> Result<(), String> {
    if lens[0] < 2 {
        return Err(format!("a categorical needs at least 2 categories, not {}", lens[0]));
    }
    if n == 0 { Err("no observations".into()) } else { Ok(()) }
}

/// The category of observation `y` when it is one of `0..k`.
pub(crate) fn category(y: f64, k: usize) -> Option<usize> {
    (super::is_count(y) && y < k as f64).then_some(y as usize)
}

/// One draw from unnormalised probabilities `p`.
pub(crate) fn draw<R: Rng + ?Sized>(p: &[f64], rng: &mut R) -> f64 {
    let total: f64 = p.iter().sum();
    let mut u = std_uniform(rng) * total;
    for (k, &pk) in p.iter().enumerate() {
        if u < pk {
            return k as f64;
        }
        u -= pk;
    }
    // Rounding left `u` past the last weight: the last category that can occur.
    p.iter().rposition(|&pk| pk > 0.0).unwrap_or(p.len() - 1) as f64
}

impl VecFamily for Categorical {
    const NAME: &'static str = "categorical";
    const PARAMS: &'static [(&'static str, Domain)] = &[("p", Domain::NonNegative)];
    const SUPPORT: Support = Support::Category;

    categorical_rules!(true);

    fn check_params(p: &[Option<&[f64]>]) -> Result<(), String> {
        match p[0] {
            Some(p) if p.iter().all(|&v| v == 0.0) => Err("the probabilities `p` are all zero".into()),
            _ => Ok(()),
        }
    }

    fn lpdf_grad(args: &[&[f64]], grads: Option<&mut [Vec<f64>]>) -> f64 {
        let (y, p) = (args[0], args[1]);
        let total: f64 = p.iter().sum();
        let mut lp = -(y.len() as f64) * total.ln();
        let mut grads = grads;
        for &yi in y {
            let Some(c) = category(yi, p.len()) else { return f64::NAN };
            lp += p[c].ln();
            if let Some(g) = grads.as_deref_mut() {
                g[1][c] += 1.0 / p[c];
            }
        }
        if let Some(g) = grads {
            let d = y.len() as f64 / total;
            g[1].iter_mut().for_each(|v| *v -= d);
        }
        lp
    }

    fn wgsl(c: &VecCode) -> String {
        let (n, k) = (c.lens[0], c.lens[1]);
        let (lp, tot, i) = (c.n("lp"), c.n("tot"), c.n("i"));
        let p = |e: &str| (c.arg)(1, e);
        format!(
            "{{ var {tot} = real(0.0); for (var {i} = 0u; {i} < {k}u; {i}++) {{ {tot} += {pk}; }} \
             var {lp} = -real({n}.0) * ln_r({tot}); \
             for (var {i} = 0u; {i} < {n}u; {i}++) {{ let y = min(u32({y}), {km1}u); {lp} += ln_r({py}); {gy} }} \
             {gk} {out} = {lp}; }}",
            pk = p(&i),
            km1 = k - 1,
            y = c.a(0, &i),
            py = p("y"),
            gy = c.add(1, "y", &format!("real(1.0) / {}", p("y"))),
            gk = if c.wants(1) {
                format!("for (var {i} = 0u; {i} < {k}u; {i}++) {{ {} }}", c.add(1, &i, &format!("-real({n}.0) / {tot}")))
            } else {
                String::new()
            },
            out = c.out,
        )
    }

    fn sample<R: Rng + ?Sized>(p: &[&[f64]], out: &mut [f64], rng: &mut R) {
        out.iter_mut().for_each(|v| *v = draw(p[0], rng));
    }
}
