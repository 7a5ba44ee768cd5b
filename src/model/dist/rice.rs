//! Rice(nu, sigma), the length of a bivariate normal vector.

use rand::Rng;

use super::bessel::{i0e_i1e, ln_i0e_ratio};
use super::{Dist, Domain, Family, Support, std_normal};
use crate::model::expr::Expr;

/// Rice distribution on `(0, ∞)` with noncentrality `nu ≥ 0` and scale `sigma > 0`, as PyMC's
/// `Rice(nu, sigma)` and scipy's `rice(nu/sigma, scale=sigma)`: the length of a bivariate
/// normal vector at distance `ν` from the origin with standard deviation `σ` per coordinate
/// (magnitudes of noisy signals, MRI; `ν = 0` is the Rayleigh distribution).
///
/// `log p(x) = ln x − 2 ln σ − (x − ν)²/(2σ²) + ln(e^{−z} I₀(z))`, `z = xν/σ²`: the
/// exponentially scaled Bessel function keeps `−(x² + ν²)/(2σ²) + ln I₀(z)` from cancelling
/// where the signal is far above the noise.
#[derive(Clone, Copy, Debug)]
pub struct Rice;

impl Rice {
    /// `Rice(nu, sigma)`; each parameter may be a constant, a `Var` or an expression.
    #[allow(clippy::new_ret_no_self)]
    pub fn new(nu: impl Into<Expr>, sigma: impl Into<Expr>) -> Dist {
        Dist { kind: super::DistKind::Rice, params: vec![nu.into(), sigma.into()] }
    }
}

impl Family for Rice {
    const NAME: &'static str = "rice";
    const PARAMS: &'static [(&'static str, Domain)] = &[("nu", Domain::NonNegative), ("sigma", Domain::Positive)];
    const SUPPORT: Support = Support::Positive;
    const WGSL: &'static str = include_str!("../../../shaders/dist/rice.wgsl");
    const EXAMPLES: &'static [&'static [f64]] = &[&[1.0, 1.0], &[0.0, 2.0], &[20.0, 0.5]];

    /// Mean `σ √(π/2) ((1 + 2a) e^{−a}I₀(a) + 2a e^{−a}I₁(a))` with `a = ν²/(4σ²)` (the Laguerre
    /// form), variance `2σ² + ν² − mean²`.
    fn moments(p: &[f64]) -> Option<(f64, f64)> {
        let (nu, sigma) = (p[0], p[1]);
        let a = nu * nu / (4.0 * sigma * sigma);
        let (i0e, i1e) = i0e_i1e(a);
        let mean = sigma * std::f64::consts::FRAC_PI_2.sqrt() * ((1.0 + 2.0 * a) * i0e + 2.0 * a * i1e);
        Some((mean, 2.0 * sigma * sigma + nu * nu - mean * mean))
    }

    fn lpdf(x: f64, p: &[f64]) -> f64 {
        Self::lpdf_grad(x, p, &mut [0.0; 3])
    }

    fn lpdf_grad(x: f64, p: &[f64], g: &mut [f64]) -> f64 {
        super::lpdf_grad_from_split::<Self>(x, p, g)
    }

    /// `√((ν + σ z₁)² + (σ z₂)²)`.
    fn sample<R: Rng + ?Sized>(p: &[f64], rng: &mut R) -> f64 {
        let (a, b) = (p[0] + p[1] * std_normal(rng), p[1] * std_normal(rng));
        a.hypot(b)
    }

    // The split: `−2 ln σ` is the normaliser.
    const NORMALIZER_PARAMS: &'static [usize] = &[1];

    fn log_normalizer(p: &[f64]) -> f64 {
        -2.0 * p[1].ln()
    }

    fn log_normalizer_grad(p: &[f64], g: &mut [f64]) -> f64 {
        g[2] = -2.0 / p[1];
        Self::log_normalizer(p)
    }

    /// Kernel `ln x − (x − ν)²/(2σ²) + ln(e^{−z}I₀(z))` with `r = I₁(z)/I₀(z)`:
    /// `∂/∂x = 1/x + (rν − x)/σ²`, `∂/∂ν = (rx − ν)/σ²`,
    /// `∂/∂σ = (x − ν)²/σ³ + 2(1 − r)z/σ`.
    fn kernel_grad(x: f64, p: &[f64], g: &mut [f64]) -> f64 {
        if !Self::in_support(x, p) {
            g[..3].fill(0.0);
            return f64::NEG_INFINITY;
        }
        let (nu, sigma) = (p[0], p[1]);
        let s2 = sigma * sigma;
        let z = x * nu / s2;
        let (ln_i0e, r, one_minus_r) = ln_i0e_ratio(z);
        let d = x - nu;
        g[0] = 1.0 / x + (r * nu - x) / s2;
        g[1] = (r * x - nu) / s2;
        g[2] = d * d / (s2 * sigma) + 2.0 * one_minus_r * z / sigma;
        x.ln() - 0.5 * d * d / s2 + ln_i0e
    }
}
