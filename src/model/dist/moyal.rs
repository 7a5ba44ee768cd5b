//! Moyal(mu, sigma), the energy loss of a charged particle.

use rand::Rng;

use super::{Dist, Domain, Family, HALF_LN_2PI, Support, std_normal};
use crate::model::expr::Expr;

/// Euler–Mascheroni constant plus `ln 2`: the standard Moyal's mean.
const MEAN_SHIFT: f64 = 0.577_215_664_901_532_9 + std::f64::consts::LN_2;
/// `ln` of the median of a χ²₁ variable (`2 erfinv(1/2)²`): the standard Moyal's median is its
/// negative.
const LN_CHI2_1_MEDIAN: f64 = -0.787_597_599_201_782_2;

/// Moyal distribution with location `mu` and scale `sigma > 0`, as PyMC's `Moyal(mu, sigma)`
/// and scipy's `moyal(loc=mu, scale=sigma)`: Landau's energy-loss curve in Moyal's closed form
/// (`e^{−z}` is χ²₁-distributed).
///
/// `log p(x) = −(z + e^{−z})/2 − ln σ − ln(2π)/2`, `z = (x − μ)/σ`.
#[derive(Clone, Copy, Debug)]
pub struct Moyal;

impl Moyal {
    /// `Moyal(mu, sigma)`; each parameter may be a constant, a `Var` or an expression.
    #[allow(clippy::new_ret_no_self)]
    pub fn new(mu: impl Into<Expr>, sigma: impl Into<Expr>) -> Dist {
        Dist { kind: super::DistKind::Moyal, params: vec![mu.into(), sigma.into()] }
    }
}

impl Family for Moyal {
    const NAME: &'static str = "moyal";
    const PARAMS: &'static [(&'static str, Domain)] = &[("mu", Domain::Real), ("sigma", Domain::Positive)];
    const SUPPORT: Support = Support::Real;
    const WGSL: &'static str = include_str!("../../../shaders/dist/moyal.wgsl");
    const EXAMPLES: &'static [&'static [f64]] = &[&[0.0, 1.0], &[-5.0, 0.1], &[100.0, 30.0]];

    fn moments(p: &[f64]) -> Option<(f64, f64)> {
        let s = p[1];
        Some((p[0] + MEAN_SHIFT * s, std::f64::consts::PI.powi(2) / 2.0 * s * s))
    }

    fn median(p: &[f64]) -> Option<f64> {
        Some(p[0] - p[1] * LN_CHI2_1_MEDIAN)
    }

    fn lpdf(x: f64, p: &[f64]) -> f64 {
        Self::lpdf_grad(x, p, &mut [0.0; 3])
    }

    fn lpdf_grad(x: f64, p: &[f64], g: &mut [f64]) -> f64 {
        super::lpdf_grad_from_split::<Self>(x, p, g)
    }

    /// `μ − σ ln(Z²)` for a standard normal `Z`.
    fn sample<R: Rng + ?Sized>(p: &[f64], rng: &mut R) -> f64 {
        let z = std_normal(rng).abs().max(f64::MIN_POSITIVE);
        p[0] - 2.0 * p[1] * z.ln()
    }

    // The split: `−ln σ − ln(2π)/2` is the normaliser.
    const NORMALIZER_PARAMS: &'static [usize] = &[1];

    fn log_normalizer(p: &[f64]) -> f64 {
        -p[1].ln() - HALF_LN_2PI
    }

    fn log_normalizer_grad(p: &[f64], g: &mut [f64]) -> f64 {
        g[2] = -1.0 / p[1];
        Self::log_normalizer(p)
    }

    /// Kernel `−(z + e^{−z})/2` with `d = 1 − e^{−z}`: `∂/∂x = −d/(2σ)`, `∂/∂μ = d/(2σ)`,
    /// `∂/∂σ = zd/(2σ)`.
    fn kernel_grad(x: f64, p: &[f64], g: &mut [f64]) -> f64 {
        if !Self::in_support(x, p) {
            g[..3].fill(0.0);
            return f64::NEG_INFINITY;
        }
        let (mu, sigma) = (p[0], p[1]);
        let z = (x - mu) / sigma;
        // 1 − e^{−z} without cancellation near z = 0.
        let d = -(-z).exp_m1();
        let h = 0.5 / sigma;
        g[0] = -d * h;
        g[1] = d * h;
        g[2] = z * d * h;
        -0.5 * (z + (-z).exp())
    }
}
