//! Exponential(lam), rate parameterisation.

use rand::Rng;
use rand_distr::{Distribution, Exp1};

use super::censoring::Cdf;
use super::logspace::log1mexp;
use super::{Dist, Domain, Family, Support};
use crate::model::expr::Expr;

/// Exponential distribution on `(0, ∞)` with rate `lam > 0` (mean `1/λ`), as PyMC's `lam`.
///
/// `log p(x) = ln λ - λx`.
#[derive(Clone, Copy, Debug)]
pub struct Exponential;

impl Exponential {
    /// `Exponential(lam)`; the parameter may be a constant, a `Var` or an expression.
    #[allow(clippy::new_ret_no_self)]
    pub fn new(lam: impl Into<Expr>) -> Dist {
        Dist { kind: super::DistKind::Exponential, params: vec![lam.into()] }
    }
}

impl Family for Exponential {
    const NAME: &'static str = "exponential";
    const PARAMS: &'static [(&'static str, Domain)] = &[("lam", Domain::Positive)];
    const SUPPORT: Support = Support::Positive;
    const WGSL: &'static str = include_str!("../../../shaders/dist/exponential.wgsl");
    const EXAMPLES: &'static [&'static [f64]] = &[&[0.2], &[30.0]];

    fn moments(p: &[f64]) -> Option<(f64, f64)> {
        Some((1.0 / p[0], 1.0 / (p[0] * p[0])))
    }

    fn median(p: &[f64]) -> Option<f64> {
        Some(std::f64::consts::LN_2 / p[0])
    }

    fn lpdf(x: f64, p: &[f64]) -> f64 {
        if !Self::in_support(x, p) {
            return f64::NEG_INFINITY;
        }
        let lam = p[0];
        lam.ln() - lam * x
    }

    fn lpdf_grad(x: f64, p: &[f64], g: &mut [f64]) -> f64 {
        if !Self::in_support(x, p) {
            g[..2].fill(0.0);
            return f64::NEG_INFINITY;
        }
        let lam = p[0];
        g[0] = -lam;
        g[1] = 1.0 / lam - x;
        lam.ln() - lam * x
    }

    fn sample<R: Rng + ?Sized>(p: &[f64], rng: &mut R) -> f64 {
        let e: f64 = Exp1.sample(rng);
        (e / p[0]).max(f64::MIN_POSITIVE)
    }
}

/// With `h = λx`: `ln(1 − F) = −h` (`∂/∂x = −λ`, `∂/∂λ = −x`) and `ln F = ln(1 − e^{−h})`
/// (`∂/∂x = λ r`, `∂/∂λ = x r`, `r = 1/(e^h − 1)`); no mass at or below 0.
impl Cdf for Exponential {
    fn log_cdf_grad(x: f64, p: &[f64], g: &mut [f64]) -> f64 {
        if x <= 0.0 {
            g[..2].fill(0.0);
            return f64::NEG_INFINITY;
        }
        let h = p[0] * x;
        let r = 1.0 / h.exp_m1();
        g[0] = p[0] * r;
        g[1] = x * r;
        log1mexp(-h)
    }

    fn log_sf_grad(x: f64, p: &[f64], g: &mut [f64]) -> f64 {
        if x <= 0.0 {
            g[..2].fill(0.0);
            return 0.0;
        }
        g[0] = -p[0];
        g[1] = -x;
        -p[0] * x
    }
}
