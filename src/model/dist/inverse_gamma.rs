//! InverseGamma(alpha, beta).

use rand::Rng;
use rand_distr::Distribution;
use statrs::function::gamma::digamma;

use super::{Dist, Domain, Family, Support};
use crate::model::expr::Expr;

/// Inverse-gamma distribution on `(0, ∞)` with shape `alpha > 0` and scale `beta > 0` (the
/// reciprocal of a `Gamma(alpha, beta)` variable; PyMC's and Stan's parameterisation).
///
/// `log p(x) = α ln β − ln Γ(α) − (α + 1) ln x − β/x`.
#[derive(Clone, Copy, Debug)]
pub struct InverseGamma;

impl InverseGamma {
    /// `InverseGamma(alpha, beta)`.
    #[allow(clippy::new_ret_no_self)]
    pub fn new(alpha: impl Into<Expr>, beta: impl Into<Expr>) -> Dist {
        Dist { kind: super::DistKind::InverseGamma, params: vec![alpha.into(), beta.into()] }
    }
}

impl Family for InverseGamma {
    const NAME: &'static str = "inverse_gamma";
    const PARAMS: &'static [(&'static str, Domain)] = &[("alpha", Domain::Positive), ("beta", Domain::Positive)];
    const SUPPORT: Support = Support::Positive;
    const WGSL: &'static str = include_str!("../../../shaders/dist/inverse_gamma.wgsl");
    const EXAMPLES: &'static [&'static [f64]] = &[&[3.0, 2.0], &[10.0, 0.5], &[2.5, 40.0]];

    fn moments(p: &[f64]) -> Option<(f64, f64)> {
        let (a, b) = (p[0], p[1]);
        (a > 2.0).then(|| (b / (a - 1.0), b * b / ((a - 1.0) * (a - 1.0) * (a - 2.0))))
    }

    fn lpdf(x: f64, p: &[f64]) -> f64 {
        if !Self::in_support(x, p) {
            return f64::NEG_INFINITY;
        }
        let (a, b) = (p[0], p[1]);
        a * b.ln() - libm::lgamma(a) - (a + 1.0) * x.ln() - b / x
    }

    /// `∂/∂x = −(α + 1)/x + β/x²`, `∂/∂α = ln β − ψ(α) − ln x`, `∂/∂β = α/β − 1/x`.
    fn lpdf_grad(x: f64, p: &[f64], g: &mut [f64]) -> f64 {
        if !Self::in_support(x, p) {
            g[..3].fill(0.0);
            return f64::NEG_INFINITY;
        }
        let (a, b) = (p[0], p[1]);
        let (ln_x, ln_b, inv_x) = (x.ln(), b.ln(), 1.0 / x);
        g[0] = (-(a + 1.0) + b * inv_x) * inv_x;
        g[1] = ln_b - digamma(a) - ln_x;
        g[2] = a / b - inv_x;
        a * ln_b - libm::lgamma(a) - (a + 1.0) * ln_x - b * inv_x
    }

    fn sample<R: Rng + ?Sized>(p: &[f64], rng: &mut R) -> f64 {
        let d = rand_distr::Gamma::new(p[0], 1.0).expect("inverse_gamma parameters in their domains");
        (p[1] / d.sample(rng)).min(f64::MAX)
    }
}
