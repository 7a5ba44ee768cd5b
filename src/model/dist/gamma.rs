//! Gamma(alpha, beta), shape/rate parameterisation.

use rand::Rng;
use rand_distr::Distribution;
use statrs::function::gamma::digamma;

use super::{Dist, Domain, Family, Support};
use crate::model::expr::Expr;

/// Gamma distribution on `(0, ∞)` with shape `alpha > 0` and rate `beta > 0` (mean `α/β`), as
/// PyMC and Stan.
///
/// `log p(x) = α ln β - lnΓ(α) + (α - 1) ln x - βx`.
#[derive(Clone, Copy, Debug)]
pub struct Gamma;

impl Gamma {
    /// `Gamma(alpha, beta)`; each parameter may be a constant, a `Var` or an expression.
    #[allow(clippy::new_ret_no_self)]
    pub fn new(alpha: impl Into<Expr>, beta: impl Into<Expr>) -> Dist {
        Dist { kind: super::DistKind::Gamma, params: vec![alpha.into(), beta.into()] }
    }
}

impl Family for Gamma {
    const NAME: &'static str = "gamma";
    const PARAMS: &'static [(&'static str, Domain)] =
        &[("alpha", Domain::Positive), ("beta", Domain::Positive)];
    const SUPPORT: Support = Support::Positive;
    const WGSL: &'static str = include_str!("../../../shaders/dist/gamma.wgsl");
    const EXAMPLES: &'static [&'static [f64]] = &[&[0.3, 2.0], &[1.0, 1.0], &[5.0, 0.5]];

    fn moments(p: &[f64]) -> Option<(f64, f64)> {
        Some((p[0] / p[1], p[0] / (p[1] * p[1])))
    }

    fn lpdf(x: f64, p: &[f64]) -> f64 {
        if !Self::in_support(x, p) {
            return f64::NEG_INFINITY;
        }
        let (alpha, beta) = (p[0], p[1]);
        alpha * beta.ln() - libm::lgamma(alpha) + (alpha - 1.0) * x.ln() - beta * x
    }

    fn lpdf_grad(x: f64, p: &[f64], g: &mut [f64]) -> f64 {
        super::lpdf_grad_from_split::<Self>(x, p, g)
    }

    fn sample<R: Rng + ?Sized>(p: &[f64], rng: &mut R) -> f64 {
        let d = rand_distr::Gamma::new(p[0], 1.0 / p[1]).expect("gamma parameters in their domains");
        // A tiny shape can underflow to 0; keep the draw inside the open support.
        d.sample(rng).max(f64::MIN_POSITIVE)
    }

    // The split: `−lnΓ(α)` is the normaliser, so that a shape shared by every observation (a
    // scalar, or a constant) costs one `lgamma` and one `digamma` per gradient, not one each
    // per observation.
    const NORMALIZER_PARAMS: &'static [usize] = &[0];

    fn log_normalizer(p: &[f64]) -> f64 {
        -libm::lgamma(p[0])
    }

    /// `∂/∂α = −ψ(α)`.
    fn log_normalizer_grad(p: &[f64], g: &mut [f64]) -> f64 {
        g[1] = -digamma(p[0]);
        Self::log_normalizer(p)
    }

    /// `α ln β + (α − 1) ln x − βx`; `∂/∂α = ln β + ln x`.
    fn kernel_grad(x: f64, p: &[f64], g: &mut [f64]) -> f64 {
        if !Self::in_support(x, p) {
            g[..3].fill(0.0);
            return f64::NEG_INFINITY;
        }
        let (alpha, beta) = (p[0], p[1]);
        let (ln_x, ln_beta) = (x.ln(), beta.ln());
        g[0] = (alpha - 1.0) / x - beta;
        g[1] = ln_beta + ln_x;
        g[2] = alpha / beta - x;
        alpha * ln_beta + (alpha - 1.0) * ln_x - beta * x
    }
}
