//! OrderedLogistic(eta, cutpoints): an ordinal outcome from a latent logistic variable.

use rand::Rng;

use super::categorical::category;
use super::normal_cdf::log1mexp;
use super::vector::{VecCode, VecFamily, add_at, at};
use super::{Dist, Domain, Support, std_uniform};
use crate::model::expr::{Expr, logistic, softplus};

/// Ordinal outcomes `y ∈ {0, …, K − 1}` with `K − 1` increasing cut points `c` and a linear
/// predictor `eta` (one per observation, or one shared): PyMC's `OrderedLogistic(eta,
/// cutpoints)` and Stan's `ordered_logistic`. `P(y > k) = σ(η − cₖ)`, so
/// `P(y = k) = σ(η − cₖ₋₁) − σ(η − cₖ)` with `c₋₁ = −∞` and `c_{K−1} = ∞`. Observed only; every
/// observation is one of its own in the pointwise log-likelihood.
///
/// Give the cut points an increasing prior with [`Model::ordered`](crate::model::Model::ordered)
/// (PyMC's `transform=ordered`). Constant cut points must increase; random ones that do not give
/// a log density of −∞, as in PyMC.
///
/// ```
/// use exmc::prelude::*;
/// let mut m = Model::new();
/// let x = m.data("x", vec![-1.2, 0.3, 0.8, 1.9, -0.4, 0.1])?;
/// let beta = m.rv("beta", Normal::new(0, 2))?;
/// let cut = m.rv_vec("cutpoints", Normal::new(vec![-1.0, 0.0, 1.0], 3), 3)?;
/// m.ordered(cut)?;
/// m.observe("y", OrderedLogistic::new(beta * x, cut), &[0.0, 1.0, 3.0, 3.0, 1.0, 2.0])?;
/// # Ok::<(), exmc::Error>(())
/// ```
#[derive(Clone, Copy, Debug)]
pub struct OrderedLogistic;

impl OrderedLogistic {
    /// `OrderedLogistic(eta, cutpoints)`.
    #[allow(clippy::new_ret_no_self)]
    pub fn new(eta: impl Into<Expr>, cutpoints: impl Into<Expr>) -> Dist {
        Dist { kind: super::DistKind::OrderedLogistic, params: vec![eta.into(), cutpoints.into()] }
    }
}

impl VecFamily for OrderedLogistic {
    const NAME: &'static str = "ordered_logistic";
    const PARAMS: &'static [(&'static str, Domain)] = &[("eta", Domain::Real), ("cutpoints", Domain::Real)];
    const SUPPORT: Support = Support::Category;
    const MATRIX_PARAMS: bool = false;
    const ALIGNED_PARAMS: &'static [usize] = &[0];

    fn value_len(_lens: &[usize], _consts: &[Option<&[f64]>]) -> Result<usize, String> {
        Err("an ordered logistic is observed only: the data give its length".into())
    }

    fn accepts_len(n: usize, lens: &[usize], _consts: &[Option<&[f64]>]) -> Result<(), String> {
        if n == 0 {
            return Err("no observations".into());
        }
        if lens[0] != 1 && lens[0] != n {
            return Err(format!("`eta` has {} values for {n} observations: give one per observation or one", lens[0]));
        }
        Ok(())
    }

    fn check_params(p: &[Option<&[f64]>]) -> Result<(), String> {
        match p[1].and_then(|c| c.windows(2).position(|w| w[1] <= w[0]).map(|i| (c, i))) {
            Some((c, i)) => Err(format!(
                "the cut points must increase: cutpoints[{}] = {} follows cutpoints[{i}] = {}",
                i + 1,
                c[i + 1],
                c[i]
            )),
            None => Ok(()),
        }
    }

    fn check_value(x: &[f64], lens: &[usize], _p: Option<&[&[f64]]>) -> Result<(), (usize, String)> {
        let k = lens[1] + 1;
        match x.iter().position(|&y| category(y, k).is_none()) {
            Some(i) => Err((i, format!("categories are whole numbers in 0..{k} ({} cut points)", lens[1]))),
            None => Ok(()),
        }
    }

    /// Per observation with `a = η − cₖ₋₁` and `b = η − cₖ`: `ln σ(a) + ln σ(−b) + ln(1 − e^{−d})`
    /// with `d = cₖ − cₖ₋₁ > 0` (the difference of two logistics without cancellation), the
    /// first or second term alone at the ends. `∂/∂η = σ(−a) − σ(b)`, `∂/∂cₖ₋₁ = −σ(−a) − q`
    /// and `∂/∂cₖ = σ(b) + q` with `q = 1/(e^d − 1)`.
    fn lpdf_grad(args: &[&[f64]], grads: Option<&mut [Vec<f64>]>) -> f64 {
        let (y, eta, c) = (args[0], args[1], args[2]);
        let last = c.len();
        let mut grads = grads;
        let mut lp = 0.0;
        for (i, &yi) in y.iter().enumerate() {
            let Some(k) = category(yi, last + 1) else { return f64::NAN };
            let e = at(eta, i);
            // (ln p, ∂/∂η, the lower cut point's partial, the upper's).
            let (l, de, lower, upper) = if k == 0 {
                let b = e - c[0];
                let s = logistic(b);
                (-softplus(b), -s, None, Some((0, s)))
            } else if k == last {
                let a = e - c[last - 1];
                let s = logistic(-a);
                (-softplus(-a), s, Some((last - 1, -s)), None)
            } else {
                let (a, b, d) = (e - c[k - 1], e - c[k], c[k] - c[k - 1]);
                if d <= 0.0 {
                    return f64::NEG_INFINITY;
                }
                let (sa, sb, q) = (logistic(-a), logistic(b), 1.0 / d.exp_m1());
                (-softplus(-a) - softplus(b) + log1mexp(-d), sa - sb, Some((k - 1, -sa - q)), Some((k, sb + q)))
            };
            lp += l;
            if let Some(g) = grads.as_deref_mut() {
                add_at(&mut g[1], i, de);
                for (j, v) in lower.into_iter().chain(upper) {
                    g[2][j] += v;
                }
            }
        }
        lp
    }

    fn wgsl(c: &VecCode) -> String {
        let (n, last) = (c.lens[0], c.lens[2]);
        let (lp, i) = (c.n("lp"), c.n("i"));
        let cut = |e: &str| (c.arg)(2, e);
        format!(
            "{{ var {lp} = real(0.0); for (var {i} = 0u; {i} < {n}u; {i}++) {{ \
             let y = min(u32({y}), {last}u); let e = {eta}; \
             if (y == 0u) {{ let b = e - {c0}; let s = logistic(b); {lp} -= softplus(b); {g0} }} \
             else if (y == {last}u) {{ let a = e - {cl}; let s = logistic(-a); {lp} += log_logistic(a); {gl} }} \
             else {{ let a = e - {cy1}; let b = e - {cy}; let d = {cy} - {cy1}; \
             if (d <= real(0.0)) {{ {lp} = neg_inf(); }} else {{ \
             let sa = logistic(-a); let sb = logistic(b); let q = real(1.0) / expm1_r(d); \
             {lp} += log_logistic(a) + log_logistic(-b) + log1mexp_r(-d); {gm} }} }} }} \
             {out} = {lp}; }}",
            y = c.a(0, &i),
            eta = c.a(1, &i),
            c0 = cut("0u"),
            cl = cut(&format!("{}u", last - 1)),
            cy1 = cut("y - 1u"),
            cy = cut("y"),
            g0 = [c.add(1, &i, "-s"), c.add(2, "0u", "s")].concat(),
            gl = [c.add(1, &i, "s"), c.add(2, &format!("{}u", last - 1), "-s")].concat(),
            gm = [c.add(1, &i, "sa - sb"), c.add(2, "y - 1u", "-sa - q"), c.add(2, "y", "sb + q")].concat(),
            out = c.out,
        )
    }

    /// `y` counts the cut points below a logistic draw around `η`: `P(y > k) = σ(η − cₖ)`.
    fn sample<R: Rng + ?Sized>(p: &[&[f64]], out: &mut [f64], rng: &mut R) {
        let (eta, c) = (p[0], p[1]);
        for (i, v) in out.iter_mut().enumerate() {
            let u = std_uniform(rng);
            let z = at(eta, i) + (u / (1.0 - u)).ln();
            *v = c.iter().filter(|&&ck| z > ck).count() as f64;
        }
    }
}
