//! StudentT(nu, mu, sigma).

use rand::Rng;
use rand_distr::Distribution;
use statrs::function::gamma::digamma;

use super::{Dist, Domain, Family, LN_PI, Support};
use crate::model::expr::Expr;
use crate::model::fastmath;

/// Student's t distribution with `nu > 0` degrees of freedom, location `mu` and scale
/// `sigma > 0`.
///
/// `log p(x) = lnΓ((ν+1)/2) - lnΓ(ν/2) - ln(νπ)/2 - ln σ - (ν+1)/2 · ln(1 + z²/ν)` with
/// `z = (x - μ)/σ`.
#[derive(Clone, Copy, Debug)]
pub struct StudentT;

impl StudentT {
    /// `StudentT(nu, mu, sigma)`; each parameter may be a constant, a `Var` or an expression.
    #[allow(clippy::new_ret_no_self)]
    pub fn new(nu: impl Into<Expr>, mu: impl Into<Expr>, sigma: impl Into<Expr>) -> Dist {
        Dist { kind: super::DistKind::StudentT, params: vec![nu.into(), mu.into(), sigma.into()] }
    }
}

/// The terms of the log density that read `ν` only (the normaliser the backends hoist when
/// `ν` is a scalar): `lnΓ((ν+1)/2) - lnΓ(ν/2) - ln(νπ)/2`.
fn log_norm_nu(nu: f64) -> f64 {
    libm::lgamma(0.5 * nu + 0.5) - libm::lgamma(0.5 * nu) - 0.5 * (nu.ln() + LN_PI)
}

impl Family for StudentT {
    const NAME: &'static str = "student_t";
    const PARAMS: &'static [(&'static str, Domain)] =
        &[("nu", Domain::Positive), ("mu", Domain::Real), ("sigma", Domain::Positive)];
    const SUPPORT: Support = Support::Real;
    const WGSL: &'static str = include_str!("../../../shaders/dist/student_t.wgsl");
    const EXAMPLES: &'static [&'static [f64]] = &[&[0.5, 1.0, 2.0], &[1.0, 0.0, 1.0], &[2.0, -3.0, 1.0], &[5.0, 2.0, 0.5], &[30.0, 0.0, 3.0]];
    // The Γ and ψ terms read ν alone: with a scalar ν (a stochastic-volatility model's, whose
    // scale varies per observation) they are evaluated once per density, not per element.
    const NORMALIZER_PARAMS: &'static [usize] = &[0];

    fn moments(p: &[f64]) -> Option<(f64, f64)> {
        (p[0] > 2.0).then(|| (p[1], p[2] * p[2] * p[0] / (p[0] - 2.0)))
    }

    fn median(p: &[f64]) -> Option<f64> {
        Some(p[1])
    }

    #[inline(always)]
    fn lpdf(x: f64, p: &[f64]) -> f64 {
        let (nu, mu, sigma) = (p[0], p[1], p[2]);
        let z = (x - mu) / sigma;
        log_norm_nu(nu) - fastmath::ln(sigma) - (0.5 * nu + 0.5) * fastmath::ln_1p(z * z / nu)
    }

    fn lpdf_grad(x: f64, p: &[f64], g: &mut [f64]) -> f64 {
        super::lpdf_grad_from_split::<Self>(x, p, g)
    }

    fn log_normalizer(p: &[f64]) -> f64 {
        log_norm_nu(p[0])
    }

    fn log_normalizer_grad(p: &[f64], g: &mut [f64]) -> f64 {
        let half_nu = 0.5 * p[0];
        g[1] = 0.5 * (digamma(half_nu + 0.5) - digamma(half_nu) - 1.0 / p[0]);
        log_norm_nu(p[0])
    }

    /// `-ln σ - (ν+1)/2 · ln(1 + z²/ν)`; with `w = (ν + 1)/(ν + z²)`: `∂/∂x = -wz/σ`,
    /// `∂/∂μ = wz/σ`, `∂/∂σ = (wz² - 1)/σ`, `∂/∂ν = (wz²/ν - ln(1 + z²/ν))/2`.
    #[inline(always)]
    fn kernel_grad(x: f64, p: &[f64], g: &mut [f64]) -> f64 {
        let (nu, mu, sigma) = (p[0], p[1], p[2]);
        let inv_sigma = 1.0 / sigma;
        let z = (x - mu) * inv_sigma;
        let z2 = z * z;
        let log1p_t = fastmath::ln_1p(z2 / nu);
        let w = (nu + 1.0) / (nu + z2);
        let dz = w * z * inv_sigma; // shared by d/dx and d/dmu
        g[0] = -dz;
        g[1] = 0.5 * (w * z2 / nu - log1p_t);
        g[2] = dz;
        g[3] = (w * z2 - 1.0) * inv_sigma;
        -fastmath::ln(sigma) - (0.5 * nu + 0.5) * log1p_t
    }

    fn sample<R: Rng + ?Sized>(p: &[f64], rng: &mut R) -> f64 {
        let t = rand_distr::StudentT::new(p[0]).expect("student_t parameters in their domains");
        p[1] + p[2] * t.sample(rng)
    }
}
