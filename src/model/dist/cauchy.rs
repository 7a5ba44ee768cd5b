//! Cauchy(alpha, beta), location/scale.

use rand::Rng;
use rand_distr::Distribution;

use super::{Dist, Domain, Family, LN_PI, Support};
use crate::model::expr::Expr;

/// Cauchy distribution with location `alpha` and scale `beta > 0` (PyMC's names).
///
/// `log p(x) = -ln π - ln β - ln(1 + z²)` with `z = (x - α)/β`.
#[derive(Clone, Copy, Debug)]
pub struct Cauchy;

impl Cauchy {
    /// `Cauchy(alpha, beta)`; each parameter may be a constant, a `Var` or an expression.
    #[allow(clippy::new_ret_no_self)]
    pub fn new(alpha: impl Into<Expr>, beta: impl Into<Expr>) -> Dist {
        Dist { kind: super::DistKind::Cauchy, params: vec![alpha.into(), beta.into()] }
    }
}

impl Family for Cauchy {
    const NAME: &'static str = "cauchy";
    const PARAMS: &'static [(&'static str, Domain)] = &[("alpha", Domain::Real), ("beta", Domain::Positive)];
    const SUPPORT: Support = Support::Real;
    const WGSL: &'static str = include_str!("../../../shaders/dist/cauchy.wgsl");
    const EXAMPLES: &'static [&'static [f64]] = &[&[0.0, 1.0], &[5.0, 0.1]];

    fn median(p: &[f64]) -> Option<f64> {
        Some(p[0])
    }

    fn lpdf(x: f64, p: &[f64]) -> f64 {
        let (alpha, beta) = (p[0], p[1]);
        let z = (x - alpha) / beta;
        -LN_PI - beta.ln() - (z * z).ln_1p()
    }

    fn lpdf_grad(x: f64, p: &[f64], g: &mut [f64]) -> f64 {
        let (alpha, beta) = (p[0], p[1]);
        let inv_beta = 1.0 / beta;
        let z = (x - alpha) * inv_beta;
        let z2 = z * z;
        let inv_1pz2 = 1.0 / (1.0 + z2);
        let dz = 2.0 * z * inv_1pz2 * inv_beta; // shared by d/dx and d/dalpha
        g[0] = -dz;
        g[1] = dz;
        g[2] = (z2 - 1.0) * inv_1pz2 * inv_beta;
        -LN_PI - beta.ln() - z2.ln_1p()
    }

    fn sample<R: Rng + ?Sized>(p: &[f64], rng: &mut R) -> f64 {
        rand_distr::Cauchy::new(p[0], p[1]).expect("cauchy parameters in their domains").sample(rng)
    }
}
