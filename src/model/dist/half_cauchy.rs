//! HalfCauchy(beta).

use std::f64::consts::{FRAC_PI_2, LN_2};

use rand::Rng;
use rand_distr::{Distribution, Open01};

use super::{Dist, Domain, Family, LN_PI, Support};
use crate::model::expr::Expr;

/// Half-Cauchy distribution on `(0, ∞)` with scale `beta > 0` (the absolute value of a
/// `Cauchy(0, beta)`).
///
/// `log p(x) = ln 2 - ln π - ln β - ln(1 + (x/β)²)`.
#[derive(Clone, Copy, Debug)]
pub struct HalfCauchy;

impl HalfCauchy {
    /// `HalfCauchy(beta)`; the parameter may be a constant, a `Var` or an expression.
    #[allow(clippy::new_ret_no_self)]
    pub fn new(beta: impl Into<Expr>) -> Dist {
        Dist { kind: super::DistKind::HalfCauchy, params: vec![beta.into()] }
    }
}

impl Family for HalfCauchy {
    const NAME: &'static str = "half_cauchy";
    const PARAMS: &'static [(&'static str, Domain)] = &[("beta", Domain::Positive)];
    const SUPPORT: Support = Support::Positive;
    const WGSL: &'static str = include_str!("../../../shaders/dist/half_cauchy.wgsl");
    const EXAMPLES: &'static [&'static [f64]] = &[&[1.0], &[0.01]];

    fn median(p: &[f64]) -> Option<f64> {
        Some(p[0])
    }

    const NORMALIZER_PARAMS: &'static [usize] = &[0];

    fn lpdf(x: f64, p: &[f64]) -> f64 {
        if !Self::in_support(x, p) {
            return f64::NEG_INFINITY;
        }
        let z = x / p[0];
        Self::log_normalizer(p) - (z * z).ln_1p()
    }

    fn lpdf_grad(x: f64, p: &[f64], g: &mut [f64]) -> f64 {
        super::lpdf_grad_from_split::<Self>(x, p, g)
    }

    fn log_normalizer(p: &[f64]) -> f64 {
        (LN_2 - LN_PI) - p[0].ln()
    }

    fn log_normalizer_grad(p: &[f64], g: &mut [f64]) -> f64 {
        g[1] = -1.0 / p[0];
        Self::log_normalizer(p)
    }

    /// `-ln(1 + z²)` with `z = x/β`: `∂/∂x = -2z/((1 + z²)β)`, `∂/∂β = 2z²/((1 + z²)β)`
    /// (the normaliser's `-1/β` excluded); `-inf` with zero partials outside the support.
    #[inline(always)]
    fn kernel_grad(x: f64, p: &[f64], g: &mut [f64]) -> f64 {
        if !Self::in_support(x, p) {
            g[..2].fill(0.0);
            return f64::NEG_INFINITY;
        }
        let inv_beta = 1.0 / p[0];
        let z = x * inv_beta;
        let z2 = z * z;
        let w = 2.0 * inv_beta / (1.0 + z2);
        g[0] = -z * w;
        g[1] = z2 * w;
        -z2.ln_1p()
    }

    fn sample<R: Rng + ?Sized>(p: &[f64], rng: &mut R) -> f64 {
        // Inverse CDF: F(x) = (2/π) atan(x/β), with u in the open interval (0, 1).
        let u: f64 = Open01.sample(rng);
        (p[0] * (FRAC_PI_2 * u).tan()).max(f64::MIN_POSITIVE)
    }
}
