//! LogitNormal(mu, sigma) on the unit interval.

use rand::Rng;

use super::{Dist, Domain, Family, HALF_LN_2PI, Support, std_normal};
use crate::model::expr::{Expr, logistic};

/// Logit-normal distribution on `(0, 1)`: `logit(x) ~ Normal(mu, sigma)`, as PyMC's
/// `LogitNormal(mu, sigma)`.
///
/// `log p(x) = −ln σ − ln(2π)/2 − z²/2 − ln x − ln(1 − x)`, `z = (logit(x) − μ)/σ`. Its moments
/// have no closed form (they are computed by quadrature); its median is `logistic(μ)`.
#[derive(Clone, Copy, Debug)]
pub struct LogitNormal;

impl LogitNormal {
    /// `LogitNormal(mu, sigma)`; each parameter may be a constant, a `Var` or an expression.
    #[allow(clippy::new_ret_no_self)]
    pub fn new(mu: impl Into<Expr>, sigma: impl Into<Expr>) -> Dist {
        Dist { kind: super::DistKind::LogitNormal, params: vec![mu.into(), sigma.into()] }
    }
}

impl Family for LogitNormal {
    const NAME: &'static str = "logit_normal";
    const PARAMS: &'static [(&'static str, Domain)] = &[("mu", Domain::Real), ("sigma", Domain::Positive)];
    const SUPPORT: Support = Support::UnitInterval;
    const WGSL: &'static str = include_str!("../../../shaders/dist/logit_normal.wgsl");
    const EXAMPLES: &'static [&'static [f64]] = &[&[0.0, 1.0], &[2.0, 0.3], &[-1.0, 3.0]];

    /// `E[X]` and `E[X²]` by the trapezoidal rule over `z ∈ [−12, 12]` of
    /// `logistic(μ + σz)ᵏ φ(z)` (2,400 steps; for a smooth integrand that decays as a Gaussian
    /// the rule converges geometrically, and the truncated tails weigh below 10⁻³²).
    fn moments(p: &[f64]) -> Option<(f64, f64)> {
        const STEPS: usize = 2400;
        let h = 24.0 / STEPS as f64;
        let (mut m1, mut m2) = (0.0, 0.0);
        for i in 0..=STEPS {
            let z = -12.0 + h * i as f64;
            let w = if i == 0 || i == STEPS { 0.5 } else { 1.0 } * (-0.5 * z * z - HALF_LN_2PI).exp();
            let x = logistic(p[0] + p[1] * z);
            m1 += w * x;
            m2 += w * x * x;
        }
        let (m1, m2) = (m1 * h, m2 * h);
        Some((m1, m2 - m1 * m1))
    }

    fn median(p: &[f64]) -> Option<f64> {
        Some(logistic(p[0]))
    }

    fn lpdf(x: f64, p: &[f64]) -> f64 {
        let mut g = [0.0; 3];
        Self::lpdf_grad(x, p, &mut g)
    }

    fn lpdf_grad(x: f64, p: &[f64], g: &mut [f64]) -> f64 {
        super::lpdf_grad_from_split::<Self>(x, p, g)
    }

    /// `logistic(μ + σ z)`, kept inside the open interval.
    fn sample<R: Rng + ?Sized>(p: &[f64], rng: &mut R) -> f64 {
        logistic(p[0] + p[1] * std_normal(rng)).clamp(f64::MIN_POSITIVE, 1.0 - f64::EPSILON / 2.0)
    }

    // The split, as Normal's: `−ln σ − ln(2π)/2` is the normaliser.
    const NORMALIZER_PARAMS: &'static [usize] = &[1];

    fn log_normalizer(p: &[f64]) -> f64 {
        -p[1].ln() - HALF_LN_2PI
    }

    fn log_normalizer_grad(p: &[f64], g: &mut [f64]) -> f64 {
        g[2] = -1.0 / p[1];
        Self::log_normalizer(p)
    }

    /// Kernel `−z²/2 − ln x − ln(1 − x)`: `∂/∂x = −(z/σ)/(x(1 − x)) − 1/x + 1/(1 − x)`,
    /// `∂/∂μ = z/σ`, `∂/∂σ = z²/σ`.
    fn kernel_grad(x: f64, p: &[f64], g: &mut [f64]) -> f64 {
        if !Self::in_support(x, p) {
            g[..3].fill(0.0);
            return f64::NEG_INFINITY;
        }
        let (mu, sigma) = (p[0], p[1]);
        let (ln_x, ln_1mx) = (x.ln(), (-x).ln_1p());
        let z = (ln_x - ln_1mx - mu) / sigma;
        let dz = z / sigma;
        g[0] = -dz / (x * (1.0 - x)) - 1.0 / x + 1.0 / (1.0 - x);
        g[1] = dz;
        g[2] = z * dz;
        -0.5 * z * z - ln_x - ln_1mx
    }
}
