//! Logistic(mu, s).

use rand::Rng;

use super::{Dist, Domain, Family, Support};
use crate::model::expr::{Expr, softplus};

/// Logistic distribution with location `mu` and scale `s > 0`.
///
/// `log p(x) = −z − ln s − 2 softplus(−z)` with `z = (x − μ)/s`.
#[derive(Clone, Copy, Debug)]
pub struct Logistic;

impl Logistic {
    /// `Logistic(mu, s)`.
    #[allow(clippy::new_ret_no_self)]
    pub fn new(mu: impl Into<Expr>, s: impl Into<Expr>) -> Dist {
        Dist { kind: super::DistKind::Logistic, params: vec![mu.into(), s.into()] }
    }
}

impl Family for Logistic {
    const NAME: &'static str = "logistic";
    const PARAMS: &'static [(&'static str, Domain)] = &[("mu", Domain::Real), ("s", Domain::Positive)];
    const SUPPORT: Support = Support::Real;
    const WGSL: &'static str = include_str!("../../../shaders/dist/logistic.wgsl");
    const EXAMPLES: &'static [&'static [f64]] = &[&[0.0, 1.0], &[3.0, 0.2], &[-40.0, 15.0]];

    fn moments(p: &[f64]) -> Option<(f64, f64)> {
        Some((p[0], p[1] * p[1] * std::f64::consts::PI * std::f64::consts::PI / 3.0))
    }

    fn lpdf(x: f64, p: &[f64]) -> f64 {
        if !Self::in_support(x, p) {
            return f64::NEG_INFINITY;
        }
        let z = (x - p[0]) / p[1];
        -z - p[1].ln() - 2.0 * softplus(-z)
    }

    /// With `t = tanh(z/2)`: `∂/∂x = −t/s`, `∂/∂μ = t/s`, `∂/∂s = (zt − 1)/s`.
    fn lpdf_grad(x: f64, p: &[f64], g: &mut [f64]) -> f64 {
        if !Self::in_support(x, p) {
            g[..3].fill(0.0);
            return f64::NEG_INFINITY;
        }
        let (mu, s) = (p[0], p[1]);
        let z = (x - mu) / s;
        let t = (0.5 * z).tanh();
        g[0] = -t / s;
        g[1] = t / s;
        g[2] = (z * t - 1.0) / s;
        -z - s.ln() - 2.0 * softplus(-z)
    }

    fn sample<R: Rng + ?Sized>(p: &[f64], rng: &mut R) -> f64 {
        p[0] + p[1] * super::std_logistic(rng)
    }

    const NORMALIZER_PARAMS: &'static [usize] = &[1];

    fn log_normalizer(p: &[f64]) -> f64 {
        -p[1].ln()
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
