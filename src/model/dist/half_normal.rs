//! HalfNormal(sigma).

use std::f64::consts::LN_2;

use rand::Rng;

use super::{Dist, Domain, Family, HALF_LN_2PI, Support, std_normal};
use crate::model::expr::Expr;

/// Half-normal distribution on `(0, ∞)` with scale `sigma > 0` (the absolute value of a
/// `Normal(0, sigma)`).
///
/// `log p(x) = ln 2 - ln σ - ln(2π)/2 - x²/(2σ²)`.
#[derive(Clone, Copy, Debug)]
pub struct HalfNormal;

impl HalfNormal {
    /// `HalfNormal(sigma)`; the parameter may be a constant, a `Var` or an expression.
    #[allow(clippy::new_ret_no_self)]
    pub fn new(sigma: impl Into<Expr>) -> Dist {
        Dist { kind: super::DistKind::HalfNormal, params: vec![sigma.into()] }
    }
}

impl Family for HalfNormal {
    const NAME: &'static str = "half_normal";
    const PARAMS: &'static [(&'static str, Domain)] = &[("sigma", Domain::Positive)];
    const SUPPORT: Support = Support::Positive;
    const WGSL: &'static str = include_str!("../../../shaders/dist/half_normal.wgsl");
    const EXAMPLES: &'static [&'static [f64]] = &[&[0.5], &[20.0]];

    fn moments(p: &[f64]) -> Option<(f64, f64)> {
        Some((p[0] * (2.0 / std::f64::consts::PI).sqrt(), p[0] * p[0] * (1.0 - 2.0 / std::f64::consts::PI)))
    }

    fn lpdf(x: f64, p: &[f64]) -> f64 {
        if !Self::in_support(x, p) {
            return f64::NEG_INFINITY;
        }
        let sigma = p[0];
        let z = x / sigma;
        -0.5 * z * z - sigma.ln() + (LN_2 - HALF_LN_2PI)
    }

    fn lpdf_grad(x: f64, p: &[f64], g: &mut [f64]) -> f64 {
        if !Self::in_support(x, p) {
            g[..2].fill(0.0);
            return f64::NEG_INFINITY;
        }
        let sigma = p[0];
        let inv_sigma = 1.0 / sigma;
        let z = x * inv_sigma;
        g[0] = -z * inv_sigma;
        g[1] = (z * z - 1.0) * inv_sigma;
        -0.5 * z * z - sigma.ln() + (LN_2 - HALF_LN_2PI)
    }

    fn sample<R: Rng + ?Sized>(p: &[f64], rng: &mut R) -> f64 {
        (p[0] * std_normal(rng).abs()).max(f64::MIN_POSITIVE)
    }
}
