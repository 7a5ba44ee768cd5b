//! SkewNormal(mu, sigma, alpha).

use std::f64::consts::{FRAC_2_PI, LN_2};

use rand::Rng;

use super::normal_cdf::{log_ndtr, mills};
use super::{Dist, Domain, Family, HALF_LN_2PI, Support, std_normal};
use crate::model::expr::Expr;

/// Skew-normal distribution (Azzalini) with location `mu`, scale `sigma > 0` and shape
/// `alpha` (PyMC's and scipy's parameterisation; `alpha = 0` is the Normal).
///
/// `log p(x) = ln 2 − ln σ − ln(2π)/2 − z²/2 + ln Φ(αz)`, `z = (x − μ)/σ`.
#[derive(Clone, Copy, Debug)]
pub struct SkewNormal;

impl SkewNormal {
    /// `SkewNormal(mu, sigma, alpha)`.
    #[allow(clippy::new_ret_no_self)]
    pub fn new(mu: impl Into<Expr>, sigma: impl Into<Expr>, alpha: impl Into<Expr>) -> Dist {
        Dist { kind: super::DistKind::SkewNormal, params: vec![mu.into(), sigma.into(), alpha.into()] }
    }
}

impl Family for SkewNormal {
    const NAME: &'static str = "skew_normal";
    const PARAMS: &'static [(&'static str, Domain)] =
        &[("mu", Domain::Real), ("sigma", Domain::Positive), ("alpha", Domain::Real)];
    const SUPPORT: Support = Support::Real;
    const WGSL: &'static str = include_str!("../../../shaders/dist/skew_normal.wgsl");
    const EXAMPLES: &'static [&'static [f64]] = &[&[0.0, 1.0, 0.0], &[1.5, 2.0, 4.0], &[-3.0, 0.5, -10.0]];

    /// With `δ = α/√(1+α²)`: mean `μ + σδ√(2/π)`, variance `σ²(1 − 2δ²/π)`.
    fn moments(p: &[f64]) -> Option<(f64, f64)> {
        let (mu, sigma, alpha) = (p[0], p[1], p[2]);
        let delta = alpha / alpha.hypot(1.0);
        Some((mu + sigma * delta * FRAC_2_PI.sqrt(), sigma * sigma * (1.0 - FRAC_2_PI * delta * delta)))
    }

    fn lpdf(x: f64, p: &[f64]) -> f64 {
        let (mu, sigma, alpha) = (p[0], p[1], p[2]);
        let z = (x - mu) / sigma;
        LN_2 - sigma.ln() - HALF_LN_2PI - 0.5 * z * z + log_ndtr(alpha * z)
    }

    /// With `m = φ(αz)/Φ(αz)` and `d = −z + αm`: `∂/∂x = d/σ = −∂/∂μ`,
    /// `∂/∂σ = (z² − αmz − 1)/σ`, `∂/∂α = zm`.
    fn lpdf_grad(x: f64, p: &[f64], g: &mut [f64]) -> f64 {
        let (mu, sigma, alpha) = (p[0], p[1], p[2]);
        let inv_sigma = 1.0 / sigma;
        let z = (x - mu) * inv_sigma;
        let t = alpha * z;
        let m = mills(t);
        let d = -z + alpha * m;
        g[0] = d * inv_sigma;
        g[1] = -d * inv_sigma;
        g[2] = (z * z - t * m - 1.0) * inv_sigma;
        g[3] = z * m;
        LN_2 - sigma.ln() - HALF_LN_2PI - 0.5 * z * z + log_ndtr(t)
    }

    /// Azzalini's representation: `u₀, v ~ N(0, 1)`, `u₁ = δu₀ + √(1−δ²)v`, `x = μ + σ·sign(u₀)u₁`.
    fn sample<R: Rng + ?Sized>(p: &[f64], rng: &mut R) -> f64 {
        let (mu, sigma, alpha) = (p[0], p[1], p[2]);
        let delta = alpha / alpha.hypot(1.0);
        let (u0, v) = (std_normal(rng), std_normal(rng));
        let u1 = delta * u0 + (1.0 - delta * delta).sqrt() * v;
        mu + sigma * if u0 >= 0.0 { u1 } else { -u1 }
    }
}
