//! Bernoulli(p) and its logit form.

use rand::Rng;

use super::{BernoulliLogit, Dist, Domain, Family, Support};
use crate::model::expr::Expr;

/// Bernoulli distribution on `{0, 1}` with success probability `0 ≤ p ≤ 1` (observed only).
///
/// `log p(x) = ln p` for `x = 1`, `ln(1 − p)` for `x = 0`.
#[derive(Clone, Copy, Debug)]
pub struct Bernoulli;

impl Bernoulli {
    /// `Bernoulli(p)`.
    #[allow(clippy::new_ret_no_self)]
    pub fn new(p: impl Into<Expr>) -> Dist {
        Dist { kind: super::DistKind::Bernoulli, params: vec![p.into()] }
    }
    /// `Bernoulli(logit_p = l)` (PyMC's keyword): [`BernoulliLogit`].
    pub fn logit(l: impl Into<Expr>) -> Dist {
        BernoulliLogit::new(l)
    }
}

impl Family for Bernoulli {
    const NAME: &'static str = "bernoulli";
    const PARAMS: &'static [(&'static str, Domain)] = &[("p", Domain::Probability)];
    const SUPPORT: Support = Support::Binary;
    const WGSL: &'static str = include_str!("../../../shaders/dist/bernoulli.wgsl");
    const EXAMPLES: &'static [&'static [f64]] = &[&[0.3], &[0.97], &[0.01]];

    fn moments(p: &[f64]) -> Option<(f64, f64)> {
        Some((p[0], p[0] * (1.0 - p[0])))
    }

    fn lpdf(x: f64, p: &[f64]) -> f64 {
        match x {
            1.0 => p[0].ln(),
            0.0 => (-p[0]).ln_1p(),
            _ => f64::NEG_INFINITY,
        }
    }

    fn lpdf_grad(x: f64, p: &[f64], g: &mut [f64]) -> f64 {
        g[0] = 0.0;
        g[1] = match x {
            1.0 => 1.0 / p[0],
            0.0 => -1.0 / (1.0 - p[0]),
            _ => 0.0,
        };
        Self::lpdf(x, p)
    }

    fn sample<R: Rng + ?Sized>(p: &[f64], rng: &mut R) -> f64 {
        f64::from(u8::from(super::std_uniform(rng) < p[0]))
    }
}
