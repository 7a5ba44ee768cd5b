//! ChiSquared(nu).

use rand::Rng;
use rand_distr::Distribution;
use statrs::function::gamma::digamma;

use super::{Dist, Domain, Family, Support};
use crate::model::expr::Expr;

/// Chi-squared distribution on `(0, ∞)` with `nu > 0` degrees of freedom, as PyMC's
/// `ChiSquared(nu)`: `Gamma(ν/2, 1/2)`.
///
/// `log p(x) = (ν/2 − 1) ln x − x/2 − (ν/2) ln 2 − lnΓ(ν/2)`.
#[derive(Clone, Copy, Debug)]
pub struct ChiSquared;

impl ChiSquared {
    /// `ChiSquared(nu)`; the parameter may be a constant, a `Var` or an expression.
    #[allow(clippy::new_ret_no_self)]
    pub fn new(nu: impl Into<Expr>) -> Dist {
        Dist { kind: super::DistKind::ChiSquared, params: vec![nu.into()] }
    }
}

impl Family for ChiSquared {
    const NAME: &'static str = "chi_squared";
    const PARAMS: &'static [(&'static str, Domain)] = &[("nu", Domain::Positive)];
    const SUPPORT: Support = Support::Positive;
    const WGSL: &'static str = include_str!("../../../shaders/dist/chi_squared.wgsl");
    const EXAMPLES: &'static [&'static [f64]] = &[&[1.0], &[0.3], &[40.0]];

    fn moments(p: &[f64]) -> Option<(f64, f64)> {
        Some((p[0], 2.0 * p[0]))
    }

    fn lpdf(x: f64, p: &[f64]) -> f64 {
        if !Self::in_support(x, p) {
            return f64::NEG_INFINITY;
        }
        let k = 0.5 * p[0];
        (k - 1.0) * x.ln() - 0.5 * x + Self::log_normalizer(p)
    }

    fn lpdf_grad(x: f64, p: &[f64], g: &mut [f64]) -> f64 {
        super::lpdf_grad_from_split::<Self>(x, p, g)
    }

    fn sample<R: Rng + ?Sized>(p: &[f64], rng: &mut R) -> f64 {
        let d = rand_distr::Gamma::new(0.5 * p[0], 2.0).expect("chi-squared parameter in its domain");
        d.sample(rng).max(f64::MIN_POSITIVE)
    }

    // The split, as Gamma's: `−(ν/2) ln 2 − lnΓ(ν/2)` is the normaliser.
    const NORMALIZER_PARAMS: &'static [usize] = &[0];

    fn log_normalizer(p: &[f64]) -> f64 {
        let k = 0.5 * p[0];
        -k * std::f64::consts::LN_2 - libm::lgamma(k)
    }

    /// `∂/∂ν = −(ln 2 + ψ(ν/2))/2`.
    fn log_normalizer_grad(p: &[f64], g: &mut [f64]) -> f64 {
        g[1] = -0.5 * (std::f64::consts::LN_2 + digamma(0.5 * p[0]));
        Self::log_normalizer(p)
    }

    /// Kernel `(ν/2 − 1) ln x − x/2`: `∂/∂x = (ν/2 − 1)/x − 1/2`, `∂/∂ν = ln(x)/2`.
    fn kernel_grad(x: f64, p: &[f64], g: &mut [f64]) -> f64 {
        if !Self::in_support(x, p) {
            g[..2].fill(0.0);
            return f64::NEG_INFINITY;
        }
        let k = 0.5 * p[0];
        let ln_x = x.ln();
        g[0] = (k - 1.0) / x - 0.5;
        g[1] = 0.5 * ln_x;
        (k - 1.0) * ln_x - 0.5 * x
    }
}
