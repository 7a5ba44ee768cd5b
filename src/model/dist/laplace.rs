//! Laplace(mu, b).

use rand::Rng;

use super::{Dist, Domain, Family, Support, std_uniform};
use crate::model::expr::Expr;

/// Laplace (double exponential) distribution with location `mu` and scale `b > 0`.
///
/// `log p(x) = −ln(2b) − |x − μ|/b`.
#[derive(Clone, Copy, Debug)]
pub struct Laplace;

impl Laplace {
    /// `Laplace(mu, b)`.
    #[allow(clippy::new_ret_no_self)]
    pub fn new(mu: impl Into<Expr>, b: impl Into<Expr>) -> Dist {
        Dist { kind: super::DistKind::Laplace, params: vec![mu.into(), b.into()] }
    }
}

impl Family for Laplace {
    const NAME: &'static str = "laplace";
    const PARAMS: &'static [(&'static str, Domain)] = &[("mu", Domain::Real), ("b", Domain::Positive)];
    const SUPPORT: Support = Support::Real;
    const WGSL: &'static str = include_str!("../../../shaders/dist/laplace.wgsl");
    const EXAMPLES: &'static [&'static [f64]] = &[&[0.0, 1.0], &[-5.0, 0.1], &[100.0, 30.0]];

    fn moments(p: &[f64]) -> Option<(f64, f64)> {
        Some((p[0], 2.0 * p[1] * p[1]))
    }

    fn lpdf(x: f64, p: &[f64]) -> f64 {
        -(2.0 * p[1]).ln() - (x - p[0]).abs() / p[1]
    }

    /// `∂/∂x = −sign(x − μ)/b`, `∂/∂μ = sign(x − μ)/b`, `∂/∂b = −1/b + |x − μ|/b²`.
    fn lpdf_grad(x: f64, p: &[f64], g: &mut [f64]) -> f64 {
        let (mu, b) = (p[0], p[1]);
        let d = x - mu;
        let s = if d > 0.0 { 1.0 } else if d < 0.0 { -1.0 } else { 0.0 };
        g[0] = -s / b;
        g[1] = s / b;
        g[2] = (d.abs() / b - 1.0) / b;
        -(2.0 * b).ln() - d.abs() / b
    }

    fn sample<R: Rng + ?Sized>(p: &[f64], rng: &mut R) -> f64 {
        let u = std_uniform(rng) - 0.5;
        p[0] - p[1] * u.signum() * (-2.0 * u.abs()).ln_1p()
    }

    const NORMALIZER_PARAMS: &'static [usize] = &[1];

    fn log_normalizer(p: &[f64]) -> f64 {
        -(2.0 * p[1]).ln()
    }

    fn log_normalizer_grad(p: &[f64], g: &mut [f64]) -> f64 {
        g[2] = -1.0 / p[1];
        Self::log_normalizer(p)
    }

    fn kernel_grad(x: f64, p: &[f64], g: &mut [f64]) -> f64 {
        let v = Self::lpdf_grad(x, p, g);
        g[2] += 1.0 / p[1];
        v - Self::log_normalizer(p)
    }
}
