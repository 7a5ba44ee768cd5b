//! VonMises(mu, kappa), the circular normal.

use std::f64::consts::{PI, TAU};

use rand::Rng;

use super::bessel::ln_i0e_ratio;
use super::{Dist, Domain, Family, Support, std_normal, std_uniform};
use crate::model::expr::{Expr, wrap_angle};

/// `ln(2π)`.
const LN_2PI: f64 = 1.837_877_066_409_345_5;

/// Von Mises distribution of angles in `[−π, π]` with mean direction `mu` and concentration
/// `kappa > 0`, as PyMC's `VonMises(mu, kappa)` and scipy's `vonmises(kappa, loc=mu)`.
///
/// `log p(x) = κ cos(x − μ) − ln(2π) − ln I₀(κ)`, computed as `−2κ sin²((x − μ)/2) − ln(2π) −
/// ln(e^{−κ} I₀(κ))`: the two terms of size `κ` cancel exactly, so a concentrated
/// distribution keeps its digits (in f32 kernels above all). A free von Mises variable lives
/// on the real line and is wrapped into `[−π, π]` ([`Support::Circular`], PyMC's circular
/// transform): its density is periodic, so every turn maps to the same angle. Its moments are those of the
/// angle as a number in `[−π, π]` (computed by quadrature), not circular ones.
#[derive(Clone, Copy, Debug)]
pub struct VonMises;

impl VonMises {
    /// `VonMises(mu, kappa)`; each parameter may be a constant, a `Var` or an expression.
    #[allow(clippy::new_ret_no_self)]
    pub fn new(mu: impl Into<Expr>, kappa: impl Into<Expr>) -> Dist {
        Dist { kind: super::DistKind::VonMises, params: vec![mu.into(), kappa.into()] }
    }
}

impl Family for VonMises {
    const NAME: &'static str = "von_mises";
    const PARAMS: &'static [(&'static str, Domain)] = &[("mu", Domain::Real), ("kappa", Domain::Positive)];
    const SUPPORT: Support = Support::Circular;
    const WGSL: &'static str = include_str!("../../../shaders/dist/von_mises.wgsl");
    const EXAMPLES: &'static [&'static [f64]] = &[&[0.0, 2.0], &[2.8, 30.0], &[-1.0, 0.3]];

    /// `E[X]` and `Var X` of the angle in `[−π, π]` by the trapezoidal rule on 20,000 steps,
    /// with weights `exp(κ(cos(x − μ) − 1))` normalised by their own sum.
    fn moments(p: &[f64]) -> Option<(f64, f64)> {
        const STEPS: usize = 20_000;
        let h = TAU / STEPS as f64;
        let (mut m0, mut m1, mut m2) = (0.0, 0.0, 0.0);
        for i in 0..=STEPS {
            let x = -PI + h * i as f64;
            let w = if i == 0 || i == STEPS { 0.5 } else { 1.0 } * (p[1] * ((x - p[0]).cos() - 1.0)).exp();
            m0 += w;
            m1 += w * x;
            m2 += w * x * x;
        }
        let (m1, m2) = (m1 / m0, m2 / m0);
        Some((m1, m2 - m1 * m1))
    }

    fn lpdf(x: f64, p: &[f64]) -> f64 {
        Self::lpdf_grad(x, p, &mut [0.0; 3])
    }

    fn lpdf_grad(x: f64, p: &[f64], g: &mut [f64]) -> f64 {
        super::lpdf_grad_from_split::<Self>(x, p, g)
    }

    /// Best and Fisher's rejection sampler as NumPy's `vonmises` (a uniform angle below
    /// `κ = 1e-8`, a wrapped normal above `1e6`), wrapped into `[−π, π]` around `μ`; NaN for a
    /// concentration that is not positive or a mean that is not finite.
    fn sample<R: Rng + ?Sized>(p: &[f64], rng: &mut R) -> f64 {
        let (mu, kappa) = (p[0], p[1]);
        if !(kappa > 0.0 && mu.is_finite()) {
            return f64::NAN;
        }
        if kappa < 1e-8 {
            return PI * (2.0 * std_uniform(rng) - 1.0);
        }
        if kappa > 1e6 {
            return wrap_angle(mu + std_normal(rng) / kappa.sqrt());
        }
        let s = if kappa < 1e-5 {
            1.0 / kappa + kappa
        } else {
            let r = 1.0 + (1.0 + 4.0 * kappa * kappa).sqrt();
            let rho = (r - (2.0 * r).sqrt()) / (2.0 * kappa);
            (1.0 + rho * rho) / (2.0 * rho)
        };
        let w = loop {
            let z = (PI * std_uniform(rng)).cos();
            let w = (1.0 + s * z) / (s + z);
            let y = kappa * (s - w);
            let v = std_uniform(rng);
            if y * (2.0 - y) - v > 0.0 || (y / v).ln() + 1.0 - y >= 0.0 {
                break w;
            }
        };
        let angle = w.clamp(-1.0, 1.0).acos();
        let angle = if std_uniform(rng) < 0.5 { -angle } else { angle };
        wrap_angle(angle + mu)
    }

    // The split: `−ln(2π) − ln(e^{−κ} I₀(κ))` is the normaliser, one series per gradient for a
    // shared concentration.
    const NORMALIZER_PARAMS: &'static [usize] = &[1];

    fn log_normalizer(p: &[f64]) -> f64 {
        -LN_2PI - ln_i0e_ratio(p[1]).0
    }

    /// `∂/∂κ = 1 − I₁(κ)/I₀(κ)`, summed without cancellation where the ratio nears 1.
    fn log_normalizer_grad(p: &[f64], g: &mut [f64]) -> f64 {
        let (ln_i0e, _, one_minus_r) = ln_i0e_ratio(p[1]);
        g[2] = one_minus_r;
        -LN_2PI - ln_i0e
    }

    /// Kernel `κ (cos(x − μ) − 1) = −2κ s²` with `s = sin((x − μ)/2)`, `c = cos((x − μ)/2)`:
    /// `∂/∂x = −κ sin(x − μ) = −2κ s c`, `∂/∂μ = 2κ s c`, `∂/∂κ = −2 s²`.
    fn kernel_grad(x: f64, p: &[f64], g: &mut [f64]) -> f64 {
        if !Self::in_support(x, p) {
            g[..3].fill(0.0);
            return f64::NEG_INFINITY;
        }
        let (s, c) = (0.5 * (x - p[0])).sin_cos();
        let two_s2 = 2.0 * s * s;
        g[0] = -2.0 * p[1] * s * c;
        g[1] = 2.0 * p[1] * s * c;
        g[2] = -two_s2;
        -p[1] * two_s2
    }
}
