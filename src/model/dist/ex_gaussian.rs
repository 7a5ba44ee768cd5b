//! ExGaussian(mu, sigma, nu): a normal plus an exponential.

use rand::Rng;

use super::normal_cdf::{ASYMPTOTIC_BELOW, log_ndtr, log_ndtr_plus_half_square, mills};
use super::{Dist, Domain, Family, Support, std_normal, std_uniform};
use crate::model::expr::Expr;

/// Exponentially modified Gaussian: the sum of a `Normal(mu, sigma)` and an independent
/// exponential of mean `nu > 0`, as PyMC's `ExGaussian(mu, sigma, nu)` and scipy's
/// `exponnorm(nu/sigma, loc=mu, scale=sigma)`; a common model of reaction times.
///
/// `log p(x) = −ln ν + (μ − x)/ν + σ²/(2ν²) + ln Φ(t)`, `t = (x − μ)/σ − σ/ν`. Where `ν` is
/// small against `σ` the last three terms are large and cancel; there (`t ≤ −20`) the density is
/// computed as `−ln ν − z²/2 + (ln Φ(t) + t²/2)`, `z = (x − μ)/σ`, with the bracket from
/// `ln Φ`'s asymptotic series. PyMC instead switches to the normal density when `ν < 0.05σ`.
#[derive(Clone, Copy, Debug)]
pub struct ExGaussian;

impl ExGaussian {
    /// `ExGaussian(mu, sigma, nu)`; each parameter may be a constant, a `Var` or an expression.
    #[allow(clippy::new_ret_no_self)]
    pub fn new(mu: impl Into<Expr>, sigma: impl Into<Expr>, nu: impl Into<Expr>) -> Dist {
        Dist { kind: super::DistKind::ExGaussian, params: vec![mu.into(), sigma.into(), nu.into()] }
    }
}

impl Family for ExGaussian {
    const NAME: &'static str = "ex_gaussian";
    const PARAMS: &'static [(&'static str, Domain)] =
        &[("mu", Domain::Real), ("sigma", Domain::Positive), ("nu", Domain::Positive)];
    const SUPPORT: Support = Support::Real;
    const WGSL: &'static str = include_str!("../../../shaders/dist/ex_gaussian.wgsl");
    const EXAMPLES: &'static [&'static [f64]] = &[&[0.0, 1.0, 1.0], &[0.5, 0.05, 0.3], &[-3.0, 2.0, 0.01]];

    fn moments(p: &[f64]) -> Option<(f64, f64)> {
        Some((p[0] + p[2], p[1] * p[1] + p[2] * p[2]))
    }

    fn lpdf(x: f64, p: &[f64]) -> f64 {
        let mut g = [0.0; 4];
        Self::lpdf_grad(x, p, &mut g)
    }

    /// With `m = φ(t)/Φ(t)`: `∂/∂x = −1/ν + m/σ`, `∂/∂μ = −∂/∂x`,
    /// `∂/∂σ = σ/ν² − m (z/σ + 1/ν)`, `∂/∂ν = −1/ν + (x − μ)/ν² − σ²/ν³ + mσ/ν²`; in the tail
    /// the same with `h' = m + t`: `∂/∂x = (h' − z)/σ`, `∂/∂σ = z²/σ − h'(z/σ + 1/ν)`,
    /// `∂/∂ν = −1/ν + h'σ/ν²`.
    fn lpdf_grad(x: f64, p: &[f64], g: &mut [f64]) -> f64 {
        if !Self::in_support(x, p) {
            g[..4].fill(0.0);
            return f64::NEG_INFINITY;
        }
        let (mu, sigma, nu) = (p[0], p[1], p[2]);
        let z = (x - mu) / sigma;
        let t = z - sigma / nu;
        let dt_sigma = -z / sigma - 1.0 / nu;
        if t > ASYMPTOTIC_BELOW {
            let m = mills(t);
            g[0] = -1.0 / nu + m / sigma;
            g[2] = sigma / (nu * nu) + m * dt_sigma;
            g[3] = -1.0 / nu + (x - mu) / (nu * nu) - sigma * sigma / nu.powi(3) + m * sigma / (nu * nu);
            g[1] = -g[0];
            -nu.ln() + (mu - x) / nu + 0.5 * (sigma / nu).powi(2) + log_ndtr(t)
        } else {
            let (h, dh) = log_ndtr_plus_half_square(t);
            g[0] = (dh - z) / sigma;
            g[2] = z * z / sigma + dh * dt_sigma;
            g[3] = -1.0 / nu + dh * sigma / (nu * nu);
            g[1] = -g[0];
            -nu.ln() - 0.5 * z * z + h
        }
    }

    /// `μ + σ z + ν e`, `z` standard normal, `e` standard exponential.
    fn sample<R: Rng + ?Sized>(p: &[f64], rng: &mut R) -> f64 {
        let e = -(1.0 - std_uniform(rng)).ln();
        p[0] + p[1] * std_normal(rng) + p[2] * e
    }
}
