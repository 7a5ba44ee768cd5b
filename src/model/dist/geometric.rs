//! Geometric(p), the number of trials up to the first success.

use rand::Rng;
use rand_distr::Distribution;

use super::{Dist, Domain, Family, Support, is_count};
use crate::model::expr::Expr;

/// Geometric distribution on `{1, 2, …}` with success probability `0 < p ≤ 1`, as PyMC's
/// `Geometric(p)` and scipy's `geom(p)`: the number of Bernoulli trials up to and including the
/// first success (observed only).
///
/// `log p(x) = ln p + (x − 1) ln(1 − p)`.
#[derive(Clone, Copy, Debug)]
pub struct Geometric;

impl Geometric {
    /// `Geometric(p)`; the parameter may be a constant, a `Var` or an expression.
    #[allow(clippy::new_ret_no_self)]
    pub fn new(p: impl Into<Expr>) -> Dist {
        Dist { kind: super::DistKind::Geometric, params: vec![p.into()] }
    }
}

impl Family for Geometric {
    const NAME: &'static str = "geometric";
    const PARAMS: &'static [(&'static str, Domain)] = &[("p", Domain::Probability)];
    const SUPPORT: Support = Support::Count;
    const WGSL: &'static str = include_str!("../../../shaders/dist/geometric.wgsl");
    const EXAMPLES: &'static [&'static [f64]] = &[&[0.5], &[0.02], &[0.97]];

    fn check_params(p: &[f64]) -> Result<(), &'static str> {
        if p[0] > 0.0 { Ok(()) } else { Err("p must be positive (no success ever comes at p = 0)") }
    }

    /// Counts from 1.
    fn in_fixed_support(x: f64) -> bool {
        is_count(x) && x >= 1.0
    }

    fn in_support(x: f64, _p: &[f64]) -> bool {
        Self::in_fixed_support(x)
    }

    fn moments(p: &[f64]) -> Option<(f64, f64)> {
        Some((1.0 / p[0], (1.0 - p[0]) / (p[0] * p[0])))
    }

    fn lpdf(x: f64, p: &[f64]) -> f64 {
        Self::lpdf_grad(x, p, &mut [0.0; 2])
    }

    /// `∂/∂p = 1/p − (x − 1)/(1 − p)`; the term in `ln(1 − p)` is 0 at `x = 1` (also at
    /// `p = 1`, where the first trial always succeeds).
    fn lpdf_grad(x: f64, p: &[f64], g: &mut [f64]) -> f64 {
        g[..2].fill(0.0);
        if !Self::in_support(x, p) {
            return f64::NEG_INFINITY;
        }
        let (q, k) = (p[0], x - 1.0);
        g[1] = 1.0 / q - if k > 0.0 { k / (1.0 - q) } else { 0.0 };
        q.ln() + if k > 0.0 { k * (-q).ln_1p() } else { 0.0 }
    }

    /// One plus the failures before the first success.
    fn sample<R: Rng + ?Sized>(p: &[f64], rng: &mut R) -> f64 {
        rand_distr::Geometric::new(p[0]).map_or(f64::NAN, |d| 1.0 + d.sample(rng) as f64)
    }
}
