//! Weibull(alpha, beta).

use rand::Rng;

use super::censoring::Cdf;
use super::logspace::log1mexp;
use super::{Dist, Domain, Family, Support, std_uniform};
use crate::model::expr::Expr;

/// Weibull distribution on `(0, ∞)` with shape `alpha > 0` and scale `beta > 0` (PyMC's and
/// Stan's parameterisation).
///
/// `log p(x) = ln α − ln β + (α − 1) ln(x/β) − (x/β)^α`.
#[derive(Clone, Copy, Debug)]
pub struct Weibull;

impl Weibull {
    /// `Weibull(alpha, beta)`.
    #[allow(clippy::new_ret_no_self)]
    pub fn new(alpha: impl Into<Expr>, beta: impl Into<Expr>) -> Dist {
        Dist { kind: super::DistKind::Weibull, params: vec![alpha.into(), beta.into()] }
    }
}

impl Family for Weibull {
    const NAME: &'static str = "weibull";
    const PARAMS: &'static [(&'static str, Domain)] = &[("alpha", Domain::Positive), ("beta", Domain::Positive)];
    const SUPPORT: Support = Support::Positive;
    const WGSL: &'static str = include_str!("../../../shaders/dist/weibull.wgsl");
    const EXAMPLES: &'static [&'static [f64]] = &[&[1.5, 2.0], &[0.7, 1.0], &[8.0, 50.0]];

    fn moments(p: &[f64]) -> Option<(f64, f64)> {
        let (a, b) = (p[0], p[1]);
        let g1 = libm::tgamma(1.0 + 1.0 / a);
        let g2 = libm::tgamma(1.0 + 2.0 / a);
        Some((b * g1, b * b * (g2 - g1 * g1)))
    }

    fn median(p: &[f64]) -> Option<f64> {
        Some(p[1] * std::f64::consts::LN_2.powf(1.0 / p[0]))
    }

    fn lpdf(x: f64, p: &[f64]) -> f64 {
        let mut g = [0.0; 3];
        Self::lpdf_grad(x, p, &mut g)
    }

    /// With `t = x/β`: `∂/∂x = (α − 1 − αt^α)/x`, `∂/∂α = 1/α + (1 − t^α) ln t`,
    /// `∂/∂β = α(t^α − 1)/β`.
    fn lpdf_grad(x: f64, p: &[f64], g: &mut [f64]) -> f64 {
        if !Self::in_support(x, p) {
            g[..3].fill(0.0);
            return f64::NEG_INFINITY;
        }
        let (a, b) = (p[0], p[1]);
        let l = x.ln() - b.ln();
        let ta = (a * l).exp();
        g[0] = (a - 1.0 - a * ta) / x;
        g[1] = 1.0 / a + (1.0 - ta) * l;
        g[2] = a * (ta - 1.0) / b;
        a.ln() - b.ln() + (a - 1.0) * l - ta
    }

    fn sample<R: Rng + ?Sized>(p: &[f64], rng: &mut R) -> f64 {
        let u = std_uniform(rng);
        (p[1] * (-(-u).ln_1p()).powf(1.0 / p[0])).clamp(f64::MIN_POSITIVE, f64::MAX)
    }
}

/// Below this `α ln(x/β)`, `ln F = ln(1 − e^{−u})` is `α ln(x/β) − u/2` to `O(u²)`, and
/// stays finite where `u = (x/β)^α` underflows.
const SMALL_U_BELOW: f64 = -30.0;

/// With `u = (x/β)^α` and `∂u = u (α/x, ln(x/β), −α/β)`: `ln(1 − F) = −u`, whose partials
/// are `−∂u`, and `ln F = ln(1 − e^{−u})`, whose partials are `q (α/x, ln(x/β), −α/β)` with
/// `q = u/(e^u − 1)` (0 where `u` overflows, `1 − u/2` where it is tiny); no mass at or below
/// 0.
fn weibull_tail_grad(x: f64, p: &[f64], g: &mut [f64], upper: bool) -> f64 {
    if x <= 0.0 {
        g[..3].fill(0.0);
        return if upper { 0.0 } else { f64::NEG_INFINITY };
    }
    let (a, b) = (p[0], p[1]);
    let l = x.ln() - b.ln();
    let al = a * l;
    let u = al.exp();
    // The value, and the factor `q` of `(α/x, l, −α/β)` in the partials.
    let (v, q) = if upper {
        (-u, -u)
    } else if al < SMALL_U_BELOW {
        (al - 0.5 * u, 1.0 - 0.5 * u)
    } else if u.is_infinite() {
        (0.0, 0.0)
    } else {
        (log1mexp(-u), u / u.exp_m1())
    };
    g[0] = q * a / x;
    g[1] = q * l;
    g[2] = -q * a / b;
    v
}

impl Cdf for Weibull {
    fn log_cdf_grad(x: f64, p: &[f64], g: &mut [f64]) -> f64 {
        weibull_tail_grad(x, p, g, false)
    }

    fn log_sf_grad(x: f64, p: &[f64], g: &mut [f64]) -> f64 {
        weibull_tail_grad(x, p, g, true)
    }
}
