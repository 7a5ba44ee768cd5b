//! Pareto(alpha, m), a power-law tail above `m`.

use rand::Rng;

use super::{Dist, Domain, Family, Support, std_uniform};
use crate::model::expr::Expr;

/// Pareto (type I) distribution on `(m, ∞)` with shape `alpha > 0` and scale `m > 0`, as
/// PyMC's `Pareto(alpha, m)` and scipy's `pareto(alpha, scale=m)`.
///
/// `log p(x) = ln α + α ln m − (α + 1) ln x`. The parameters are stored as `[m, alpha]`: the
/// lower bound of the support comes first ([`Support::Above`]), so a free Pareto variable is
/// sampled as `m + eᵘ`. Model files name them (`alpha`, `m`).
#[derive(Clone, Copy, Debug)]
pub struct Pareto;

impl Pareto {
    /// `Pareto(alpha, m)` in PyMC's order; each parameter may be a constant, a `Var` or an
    /// expression.
    #[allow(clippy::new_ret_no_self)]
    pub fn new(alpha: impl Into<Expr>, m: impl Into<Expr>) -> Dist {
        Dist { kind: super::DistKind::Pareto, params: vec![m.into(), alpha.into()] }
    }
}

impl Family for Pareto {
    const NAME: &'static str = "pareto";
    const PARAMS: &'static [(&'static str, Domain)] = &[("m", Domain::Positive), ("alpha", Domain::Positive)];
    const SUPPORT: Support = Support::Above;
    const WGSL: &'static str = include_str!("../../../shaders/dist/pareto.wgsl");
    const EXAMPLES: &'static [&'static [f64]] = &[&[1.0, 3.0], &[0.01, 5.0], &[100.0, 1.5]];

    /// Finite for `α > 2`: mean `αm/(α − 1)`, variance `αm²/((α − 1)²(α − 2))`.
    fn moments(p: &[f64]) -> Option<(f64, f64)> {
        let (m, a) = (p[0], p[1]);
        (a > 2.0).then(|| (a * m / (a - 1.0), a * m * m / ((a - 1.0).powi(2) * (a - 2.0))))
    }

    fn median(p: &[f64]) -> Option<f64> {
        Some(p[0] * 2f64.powf(1.0 / p[1]))
    }

    fn lpdf(x: f64, p: &[f64]) -> f64 {
        let mut g = [0.0; 3];
        Self::lpdf_grad(x, p, &mut g)
    }

    /// As `ln α − α ln(x/m) − ln x` with `ln(x/m) = ln_1p((x − m)/m)` (no cancellation of
    /// `α ln m` against `α ln x`): `∂/∂x = −(α + 1)/x`, `∂/∂m = α/m`, `∂/∂α = 1/α − ln(x/m)`.
    fn lpdf_grad(x: f64, p: &[f64], g: &mut [f64]) -> f64 {
        if !Self::in_support(x, p) {
            g[..3].fill(0.0);
            return f64::NEG_INFINITY;
        }
        let (m, a) = (p[0], p[1]);
        let ln_ratio = ((x - m) / m).ln_1p();
        g[0] = -(a + 1.0) / x;
        g[1] = a / m;
        g[2] = 1.0 / a - ln_ratio;
        a.ln() - a * ln_ratio - x.ln()
    }

    /// `m u^{−1/α}`, `u` in `(0, 1]`.
    fn sample<R: Rng + ?Sized>(p: &[f64], rng: &mut R) -> f64 {
        let u = 1.0 - std_uniform(rng);
        // At least the next number above m: the support is open.
        (p[0] * (-u.ln() / p[1]).exp()).clamp(p[0] * (1.0 + f64::EPSILON), f64::MAX)
    }
}
