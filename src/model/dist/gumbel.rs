//! Gumbel(mu, beta), the distribution of maxima.

use rand::Rng;

use super::{Dist, Domain, Family, Support, std_uniform};
use crate::model::expr::Expr;

/// Euler–Mascheroni constant: the standard Gumbel's mean.
const EULER_GAMMA: f64 = 0.577_215_664_901_532_9;

/// Gumbel (type I extreme value) distribution of maxima with location `mu` and scale
/// `beta > 0`, as PyMC's and scipy's `gumbel_r`.
///
/// `log p(x) = −ln β − z − e^{−z}`, `z = (x − μ)/β`.
#[derive(Clone, Copy, Debug)]
pub struct Gumbel;

impl Gumbel {
    /// `Gumbel(mu, beta)`; each parameter may be a constant, a `Var` or an expression.
    #[allow(clippy::new_ret_no_self)]
    pub fn new(mu: impl Into<Expr>, beta: impl Into<Expr>) -> Dist {
        Dist { kind: super::DistKind::Gumbel, params: vec![mu.into(), beta.into()] }
    }
}

impl Family for Gumbel {
    const NAME: &'static str = "gumbel";
    const PARAMS: &'static [(&'static str, Domain)] = &[("mu", Domain::Real), ("beta", Domain::Positive)];
    const SUPPORT: Support = Support::Real;
    const WGSL: &'static str = include_str!("../../../shaders/dist/gumbel.wgsl");
    const EXAMPLES: &'static [&'static [f64]] = &[&[0.0, 1.0], &[-5.0, 0.1], &[100.0, 30.0]];

    fn moments(p: &[f64]) -> Option<(f64, f64)> {
        let b = p[1];
        Some((p[0] + EULER_GAMMA * b, std::f64::consts::PI.powi(2) / 6.0 * b * b))
    }

    fn median(p: &[f64]) -> Option<f64> {
        Some(p[0] - p[1] * std::f64::consts::LN_2.ln())
    }

    fn lpdf(x: f64, p: &[f64]) -> f64 {
        if !Self::in_support(x, p) {
            return f64::NEG_INFINITY;
        }
        let z = (x - p[0]) / p[1];
        -p[1].ln() - z - (-z).exp()
    }

    fn lpdf_grad(x: f64, p: &[f64], g: &mut [f64]) -> f64 {
        super::lpdf_grad_from_split::<Self>(x, p, g)
    }

    /// `μ − β ln(−ln u)`.
    fn sample<R: Rng + ?Sized>(p: &[f64], rng: &mut R) -> f64 {
        let u = std_uniform(rng).max(f64::MIN_POSITIVE);
        p[0] - p[1] * (-u.ln()).ln()
    }

    // The split: `−ln β` is the normaliser, one `ln` per gradient for a shared scale.
    const NORMALIZER_PARAMS: &'static [usize] = &[1];

    fn log_normalizer(p: &[f64]) -> f64 {
        -p[1].ln()
    }

    fn log_normalizer_grad(p: &[f64], g: &mut [f64]) -> f64 {
        g[2] = -1.0 / p[1];
        Self::log_normalizer(p)
    }

    /// Kernel `−z − e^{−z}`: `∂/∂x = (e^{−z} − 1)/β`, `∂/∂μ = (1 − e^{−z})/β`,
    /// `∂/∂β = z (1 − e^{−z})/β`.
    fn kernel_grad(x: f64, p: &[f64], g: &mut [f64]) -> f64 {
        if !Self::in_support(x, p) {
            g[..3].fill(0.0);
            return f64::NEG_INFINITY;
        }
        let (mu, beta) = (p[0], p[1]);
        let z = (x - mu) / beta;
        let e = (-z).exp();
        // 1 − e^{−z} without cancellation near z = 0.
        let d = -(-z).exp_m1();
        g[0] = -d / beta;
        g[1] = d / beta;
        g[2] = z * d / beta;
        -z - e
    }
}
