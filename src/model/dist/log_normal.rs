//! LogNormal(mu, sigma).

use rand::Rng;

use super::censoring::Cdf;
use super::normal::normal_tail_grad;
use super::{Dist, Domain, Family, HALF_LN_2PI, Support, std_normal};
use crate::model::expr::Expr;

/// Log-normal distribution on `(0, ∞)`: `ln x ~ Normal(mu, sigma)`, `sigma > 0`.
///
/// `log p(x) = -ln x - ln σ - ln(2π)/2 - z²/2` with `z = (ln x - μ)/σ`.
#[derive(Clone, Copy, Debug)]
pub struct LogNormal;

impl LogNormal {
    /// `LogNormal(mu, sigma)`; each parameter may be a constant, a `Var` or an expression.
    #[allow(clippy::new_ret_no_self)]
    pub fn new(mu: impl Into<Expr>, sigma: impl Into<Expr>) -> Dist {
        Dist { kind: super::DistKind::LogNormal, params: vec![mu.into(), sigma.into()] }
    }
}

impl Family for LogNormal {
    const NAME: &'static str = "log_normal";
    const PARAMS: &'static [(&'static str, Domain)] = &[("mu", Domain::Real), ("sigma", Domain::Positive)];
    const SUPPORT: Support = Support::Positive;
    const WGSL: &'static str = include_str!("../../../shaders/dist/log_normal.wgsl");
    const EXAMPLES: &'static [&'static [f64]] = &[&[0.0, 0.5], &[2.0, 1.0]];

    fn moments(p: &[f64]) -> Option<(f64, f64)> {
        let s2 = p[1] * p[1];
        Some(((p[0] + 0.5 * s2).exp(), s2.exp_m1() * (2.0 * p[0] + s2).exp()))
    }

    fn median(p: &[f64]) -> Option<f64> {
        Some(p[0].exp())
    }

    fn lpdf(x: f64, p: &[f64]) -> f64 {
        if !Self::in_support(x, p) {
            return f64::NEG_INFINITY;
        }
        let (mu, sigma) = (p[0], p[1]);
        let ln_x = x.ln();
        let z = (ln_x - mu) / sigma;
        -0.5 * z * z - ln_x - sigma.ln() - HALF_LN_2PI
    }

    fn lpdf_grad(x: f64, p: &[f64], g: &mut [f64]) -> f64 {
        super::lpdf_grad_from_split::<Self>(x, p, g)
    }

    fn sample<R: Rng + ?Sized>(p: &[f64], rng: &mut R) -> f64 {
        (p[0] + p[1] * std_normal(rng)).exp().max(f64::MIN_POSITIVE)
    }

    // The split, as Normal's: `−ln σ − ln(2π)/2` is the normaliser, so that a scale shared by
    // every observation costs one `ln` per gradient and its `1/σ` one division, not one each
    // per observation.
    super::normal::gaussian_scale_split!(kernel_grad_inv);
}

/// The kernel `−z²/2 − ln x` (`z = (ln x − μ)/σ`, −∞ outside the support) and its partials
/// given `1/σ`: `∂/∂x = −(1 + z/σ)/x`, `∂/∂μ = z/σ`, `∂/∂σ = z²/σ`.
#[inline(always)]
fn kernel_grad_inv(x: f64, mu: f64, inv_sigma: f64, g: &mut [f64]) -> f64 {
    if !(x > 0.0 && x < f64::INFINITY) {
        g[..3].fill(0.0);
        return f64::NEG_INFINITY;
    }
    let ln_x = x.ln();
    let z = (ln_x - mu) * inv_sigma;
    let dz = z * inv_sigma;
    g[0] = -(1.0 + dz) / x;
    g[1] = dz;
    g[2] = z * z * inv_sigma;
    -0.5 * z * z - ln_x
}

/// The normal's at `ln x`, with `∂/∂x` divided by `x`; no mass at or below 0.
fn log_normal_tail_grad(x: f64, p: &[f64], g: &mut [f64], upper: bool) -> f64 {
    if x <= 0.0 {
        g[..3].fill(0.0);
        return if upper { 0.0 } else { f64::NEG_INFINITY };
    }
    let v = normal_tail_grad(x.ln(), p, g, upper);
    g[0] /= x;
    v
}

impl Cdf for LogNormal {
    fn log_cdf_grad(x: f64, p: &[f64], g: &mut [f64]) -> f64 {
        log_normal_tail_grad(x, p, g, false)
    }

    fn log_sf_grad(x: f64, p: &[f64], g: &mut [f64]) -> f64 {
        log_normal_tail_grad(x, p, g, true)
    }
}
