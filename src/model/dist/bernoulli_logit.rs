//! BernoulliLogit(logit_p).

use rand::Rng;

use super::{Dist, Domain, Family, Support};
use crate::model::expr::{Expr, logistic, softplus};
use crate::model::fastmath;

/// Bernoulli distribution on `{0, 1}` with log-odds `logit_p` (Stan's `bernoulli_logit`;
/// observed only).
///
/// `log p(x) = ln σ(l)` for `x = 1`, `ln σ(−l)` for `x = 0`, computed as `−softplus(∓l)`.
#[derive(Clone, Copy, Debug)]
pub struct BernoulliLogit;

impl BernoulliLogit {
    /// `Bernoulli(logit_p = l)`.
    #[allow(clippy::new_ret_no_self)]
    pub fn new(l: impl Into<Expr>) -> Dist {
        Dist { kind: super::DistKind::BernoulliLogit, params: vec![l.into()] }
    }
}

impl Family for BernoulliLogit {
    const NAME: &'static str = "bernoulli_logit";
    const PARAMS: &'static [(&'static str, Domain)] = &[("logit_p", Domain::Real)];
    const SUPPORT: Support = Support::Binary;
    const WGSL: &'static str = include_str!("../../../shaders/dist/bernoulli_logit.wgsl");
    const EXAMPLES: &'static [&'static [f64]] = &[&[0.0], &[3.0], &[-6.0]];

    fn moments(p: &[f64]) -> Option<(f64, f64)> {
        let q = logistic(p[0]);
        Some((q, q * (1.0 - q)))
    }

    fn lpdf(x: f64, p: &[f64]) -> f64 {
        match x {
            1.0 => -softplus(-p[0]),
            0.0 => -softplus(p[0]),
            _ => f64::NEG_INFINITY,
        }
    }

    /// `∂/∂l = x − σ(l)`. One `exp` and one `ln(1 + ·)` per point: with `e = exp(−|l|)`,
    /// `softplus(±l) = max(±l, 0) + ln(1 + e)` and `σ(l) = 1/(1 + e)` or `e/(1 + e)`. Written
    /// without branches (selects only) and with [`fastmath`]'s functions, so that the CPU
    /// interpreter's element loop vectorises.
    #[inline]
    fn lpdf_grad(x: f64, p: &[f64], g: &mut [f64]) -> f64 {
        let l = p[0];
        let (e, ln_1p_e, inv) = fastmath::softplus_parts(l.abs());
        let sigma = if l >= 0.0 { inv } else { e * inv };
        // ln p = −softplus(−l) for x = 1, −softplus(l) for x = 0.
        let signed = if x == 1.0 { -l } else { l };
        let lp = -(signed.max(0.0) + ln_1p_e);
        let valid = x == 0.0 || x == 1.0;
        g[0] = 0.0;
        g[1] = if valid { x - sigma } else { 0.0 };
        if valid { lp } else { f64::NEG_INFINITY }
    }

    fn sample<R: Rng + ?Sized>(p: &[f64], rng: &mut R) -> f64 {
        f64::from(u8::from(super::std_uniform(rng) < logistic(p[0])))
    }
}
