//! Wald(mu, lam), the inverse Gaussian.

use rand::Rng;

use super::{Dist, Domain, Family, HALF_LN_2PI, Support, std_normal, std_uniform};
use crate::model::expr::Expr;

/// Wald (inverse Gaussian) distribution on `(0, ∞)` with mean `mu > 0` and shape `lam > 0`, as
/// PyMC's `Wald(mu, lam)` and scipy's `invgauss(mu/lam, scale=lam)`: the first passage time of
/// a Brownian motion with drift, a common model of reaction times.
///
/// `log p(x) = ln(λ)/2 − ln(2π)/2 − 3 ln(x)/2 − λ(x − μ)²/(2μ²x)`.
#[derive(Clone, Copy, Debug)]
pub struct Wald;

impl Wald {
    /// `Wald(mu, lam)`; each parameter may be a constant, a `Var` or an expression.
    #[allow(clippy::new_ret_no_self)]
    pub fn new(mu: impl Into<Expr>, lam: impl Into<Expr>) -> Dist {
        Dist { kind: super::DistKind::Wald, params: vec![mu.into(), lam.into()] }
    }
}

impl Family for Wald {
    const NAME: &'static str = "wald";
    const PARAMS: &'static [(&'static str, Domain)] = &[("mu", Domain::Positive), ("lam", Domain::Positive)];
    const SUPPORT: Support = Support::Positive;
    const WGSL: &'static str = include_str!("../../../shaders/dist/wald.wgsl");
    const EXAMPLES: &'static [&'static [f64]] = &[&[1.0, 1.0], &[0.5, 20.0], &[30.0, 2.0]];

    fn moments(p: &[f64]) -> Option<(f64, f64)> {
        Some((p[0], p[0].powi(3) / p[1]))
    }

    fn lpdf(x: f64, p: &[f64]) -> f64 {
        if !Self::in_support(x, p) {
            return f64::NEG_INFINITY;
        }
        let (mu, lam) = (p[0], p[1]);
        let r = (x - mu) / mu;
        0.5 * lam.ln() - HALF_LN_2PI - 1.5 * x.ln() - 0.5 * lam * r * r / x
    }

    fn lpdf_grad(x: f64, p: &[f64], g: &mut [f64]) -> f64 {
        super::lpdf_grad_from_split::<Self>(x, p, g)
    }

    /// Michael, Schucany & Haas (1976): `y = z²`, `w = μy/(2λ)`, the smaller root
    /// `x = μ/(1 + w + √(w(w + 2)))` (no cancellation), kept with probability `μ/(μ + x)`,
    /// otherwise `μ²/x`.
    fn sample<R: Rng + ?Sized>(p: &[f64], rng: &mut R) -> f64 {
        let (mu, lam) = (p[0], p[1]);
        let z = std_normal(rng);
        let w = mu * z * z / (2.0 * lam);
        let x = mu / (1.0 + w + (w * (w + 2.0)).sqrt());
        let x = if std_uniform(rng) * (mu + x) <= mu { x } else { mu * mu / x };
        x.clamp(f64::MIN_POSITIVE, f64::MAX)
    }

    // The split: `ln(λ)/2 − ln(2π)/2` is the normaliser.
    const NORMALIZER_PARAMS: &'static [usize] = &[1];

    fn log_normalizer(p: &[f64]) -> f64 {
        0.5 * p[1].ln() - HALF_LN_2PI
    }

    fn log_normalizer_grad(p: &[f64], g: &mut [f64]) -> f64 {
        g[2] = 0.5 / p[1];
        Self::log_normalizer(p)
    }

    /// Kernel `−3 ln(x)/2 − λ r²/(2x)`, `r = (x − μ)/μ`: `∂/∂x = −3/(2x) − λ r (x + μ)/(2μx²)`
    /// (`λ/(2x²) − λ/(2μ²)` without the cancellation), `∂/∂μ = λ(x − μ)/μ³`, `∂/∂λ = −r²/(2x)`.
    fn kernel_grad(x: f64, p: &[f64], g: &mut [f64]) -> f64 {
        if !Self::in_support(x, p) {
            g[..3].fill(0.0);
            return f64::NEG_INFINITY;
        }
        let (mu, lam) = (p[0], p[1]);
        let r = (x - mu) / mu;
        let half_r2_x = 0.5 * r * r / x;
        g[0] = -1.5 / x - 0.5 * lam * r * (x + mu) / (mu * x * x);
        g[1] = lam * r / (mu * mu);
        g[2] = -half_r2_x;
        -1.5 * x.ln() - lam * half_r2_x
    }
}
