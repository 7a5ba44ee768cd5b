//! Kumaraswamy(a, b) on the unit interval.

use rand::Rng;

use super::{Dist, Domain, Family, Support, std_uniform};
use crate::model::expr::Expr;

/// Kumaraswamy distribution on `(0, 1)` with shapes `a > 0` and `b > 0`, as PyMC's
/// `Kumaraswamy(a, b)`: a beta-like density whose CDF `1 − (1 − xᵃ)ᵇ` has a closed form
/// (`xᵃ` is `Beta(1, b)`).
///
/// `log p(x) = ln a + ln b + (a − 1) ln x + (b − 1) ln(1 − xᵃ)`.
#[derive(Clone, Copy, Debug)]
pub struct Kumaraswamy;

impl Kumaraswamy {
    /// `Kumaraswamy(a, b)`; each parameter may be a constant, a `Var` or an expression.
    #[allow(clippy::new_ret_no_self)]
    pub fn new(a: impl Into<Expr>, b: impl Into<Expr>) -> Dist {
        Dist { kind: super::DistKind::Kumaraswamy, params: vec![a.into(), b.into()] }
    }
}

/// `E[Xⁿ] = b B(1 + n/a, b)`.
fn raw_moment(n: f64, a: f64, b: f64) -> f64 {
    let r = 1.0 + n / a;
    (b.ln() + libm::lgamma(r) + libm::lgamma(b) - libm::lgamma(r + b)).exp()
}

impl Family for Kumaraswamy {
    const NAME: &'static str = "kumaraswamy";
    const PARAMS: &'static [(&'static str, Domain)] = &[("a", Domain::Positive), ("b", Domain::Positive)];
    const SUPPORT: Support = Support::UnitInterval;
    const WGSL: &'static str = include_str!("../../../shaders/dist/kumaraswamy.wgsl");
    const EXAMPLES: &'static [&'static [f64]] = &[&[2.0, 5.0], &[0.5, 0.5], &[10.0, 1.5]];

    fn moments(p: &[f64]) -> Option<(f64, f64)> {
        let (a, b) = (p[0], p[1]);
        let m1 = raw_moment(1.0, a, b);
        Some((m1, raw_moment(2.0, a, b) - m1 * m1))
    }

    fn median(p: &[f64]) -> Option<f64> {
        Some((1.0 - 0.5f64.powf(1.0 / p[1])).powf(1.0 / p[0]))
    }

    fn lpdf(x: f64, p: &[f64]) -> f64 {
        let mut g = [0.0; 3];
        Self::lpdf_grad(x, p, &mut g)
    }

    /// With `xᵃ = e^{a ln x}` and `1 − xᵃ = −expm1(a ln x)` (no cancellation near 1), and
    /// `r = xᵃ/(1 − xᵃ)`: `∂/∂x = ((a − 1) − (b − 1) a r)/x`, `∂/∂a = 1/a + ln x − (b − 1) r ln x`,
    /// `∂/∂b = 1/b + ln(1 − xᵃ)`.
    fn lpdf_grad(x: f64, p: &[f64], g: &mut [f64]) -> f64 {
        if !Self::in_support(x, p) {
            g[..3].fill(0.0);
            return f64::NEG_INFINITY;
        }
        let (a, b) = (p[0], p[1]);
        // As the WGSL: `ln x` from `ln_1p(x − 1)` above 1/2 (the f32 hardware `log`'s
        // absolute error would be magnified by `1/(1 − xᵃ)` through `expm1`).
        let ln_x = if x > 0.5 { (x - 1.0).ln_1p() } else { x.ln() };
        let xa = (a * ln_x).exp();
        let one_minus = -(a * ln_x).exp_m1();
        let ratio = xa / one_minus;
        let ln_one_minus = one_minus.ln();
        g[0] = ((a - 1.0) - (b - 1.0) * a * ratio) / x;
        g[1] = 1.0 / a + ln_x - (b - 1.0) * ratio * ln_x;
        g[2] = 1.0 / b + ln_one_minus;
        a.ln() + b.ln() + (a - 1.0) * ln_x + (b - 1.0) * ln_one_minus
    }

    /// The inverse CDF, `(1 − (1 − u)^{1/b})^{1/a}`, through `expm1` and `ln_1p`, kept inside
    /// the open interval.
    fn sample<R: Rng + ?Sized>(p: &[f64], rng: &mut R) -> f64 {
        let (a, b) = (p[0], p[1]);
        let u = std_uniform(rng);
        let w = -((-u).ln_1p() / b).exp_m1();
        (w.ln() / a).exp().clamp(f64::MIN_POSITIVE, 1.0 - f64::EPSILON / 2.0)
    }
}
