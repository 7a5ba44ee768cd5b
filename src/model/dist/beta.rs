//! Beta(alpha, beta).

use rand::Rng;
use rand_distr::Distribution;
use statrs::function::gamma::digamma;

use super::{Dist, Domain, Family, Support};
use crate::model::expr::Expr;

/// The largest `f64` below 1.
const ONE_BELOW: f64 = 1.0 - f64::EPSILON / 2.0;

/// Beta distribution on `(0, 1)` with shapes `alpha > 0` and `beta > 0`.
///
/// `log p(x) = (α - 1) ln x + (β - 1) ln(1 - x) - ln B(α, β)` with
/// `ln B(α, β) = lnΓ(α) + lnΓ(β) - lnΓ(α + β)`.
#[derive(Clone, Copy, Debug)]
pub struct Beta;

impl Beta {
    /// `Beta(alpha, beta)`; each parameter may be a constant, a `Var` or an expression.
    #[allow(clippy::new_ret_no_self)]
    pub fn new(alpha: impl Into<Expr>, beta: impl Into<Expr>) -> Dist {
        Dist { kind: super::DistKind::Beta, params: vec![alpha.into(), beta.into()] }
    }
}

/// `ln B(a, b)`.
pub(crate) fn ln_beta_fn(a: f64, b: f64) -> f64 {
    libm::lgamma(a) + libm::lgamma(b) - libm::lgamma(a + b)
}

impl Family for Beta {
    const NAME: &'static str = "beta";
    const PARAMS: &'static [(&'static str, Domain)] =
        &[("alpha", Domain::Positive), ("beta", Domain::Positive)];
    const SUPPORT: Support = Support::UnitInterval;
    const WGSL: &'static str = include_str!("../../../shaders/dist/beta.wgsl");
    const EXAMPLES: &'static [&'static [f64]] = &[&[0.5, 0.5], &[2.0, 8.0], &[0.1, 0.2]];

    fn moments(p: &[f64]) -> Option<(f64, f64)> {
        let (a, b) = (p[0], p[1]);
        Some((a / (a + b), a * b / ((a + b) * (a + b) * (a + b + 1.0))))
    }

    fn lpdf(x: f64, p: &[f64]) -> f64 {
        if !Self::in_support(x, p) {
            return f64::NEG_INFINITY;
        }
        let (alpha, beta) = (p[0], p[1]);
        (alpha - 1.0) * x.ln() + (beta - 1.0) * (-x).ln_1p() - ln_beta_fn(alpha, beta)
    }

    fn lpdf_grad(x: f64, p: &[f64], g: &mut [f64]) -> f64 {
        if !Self::in_support(x, p) {
            g[..3].fill(0.0);
            return f64::NEG_INFINITY;
        }
        let (alpha, beta) = (p[0], p[1]);
        let (ln_x, ln_1mx) = (x.ln(), (-x).ln_1p());
        let psi_ab = digamma(alpha + beta);
        g[0] = (alpha - 1.0) / x - (beta - 1.0) / (1.0 - x);
        g[1] = ln_x - digamma(alpha) + psi_ab;
        g[2] = ln_1mx - digamma(beta) + psi_ab;
        (alpha - 1.0) * ln_x + (beta - 1.0) * ln_1mx - ln_beta_fn(alpha, beta)
    }

    fn sample<R: Rng + ?Sized>(p: &[f64], rng: &mut R) -> f64 {
        let d = rand_distr::Beta::new(p[0], p[1]).expect("beta parameters in their domains");
        // Small shapes can round a draw to exactly 0 or 1; keep it inside the open support.
        d.sample(rng).clamp(f64::MIN_POSITIVE, ONE_BELOW)
    }
}
