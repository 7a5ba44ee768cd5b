//! CensoredWeibull(alpha, beta, lower, upper).

use rand::Rng;

use super::censoring::{censored_rules, censoring_bound};
use super::{Weibull, Dist, DistKind, Domain, Family, Support};
use crate::model::expr::Expr;

/// Weibull(`alpha`, `beta`) censored to `[lower, upper]` (observed only; PyMC's
/// `pm.Censored(pm.Weibull.dist(alpha, beta), lower, upper)`): survival times, the usual
/// accelerated-failure-time model. A value beyond a bound is recorded as the bound.
///
/// `ln p(x) = ln F(lower)` at `x = lower`, `ln(1 − F(upper))` at `x = upper`, and the base's log
/// density in between. The bounds are data, one per observation or shared; `∓∞` means none.
/// Parameters are stored bounds first (`lower, upper, alpha, beta`). [`Censored`](super::Censored)
/// builds this family from a `Weibull`.
///
/// ```
/// use exmc::prelude::*;
/// # fn main() -> exmc::Result<()> {
/// let mut m = Model::new();
/// let alpha = m.rv("alpha", Gamma::new(2.0, 1.0))?;
/// let beta = m.rv("beta", HalfNormal::new(10.0))?;
/// // Survival times; subjects 2 and 4 left the study (at 6.0 and 3.5) still alive.
/// let t = [2.3, 6.0, 4.4, 3.5, 7.9];
/// let upper = [f64::INFINITY, 6.0, f64::INFINITY, 3.5, f64::INFINITY];
/// m.observe("t", CensoredWeibull::new(alpha, beta, f64::NEG_INFINITY, &upper[..]), &t)?;
/// # Ok(())
/// # }
/// ```
#[derive(Clone, Copy, Debug)]
pub struct CensoredWeibull;

impl CensoredWeibull {
    /// `CensoredWeibull(alpha, beta, lower, upper)`.
    #[allow(clippy::new_ret_no_self)]
    pub fn new(alpha: impl Into<Expr>, beta: impl Into<Expr>, lower: impl Into<Expr>, upper: impl Into<Expr>) -> Dist {
        Dist {
            kind: DistKind::CensoredWeibull,
            params: vec![censoring_bound(lower), censoring_bound(upper), alpha.into(), beta.into()],
        }
    }
}

impl Family for CensoredWeibull {
    const NAME: &'static str = "censored_weibull";
    const PARAMS: &'static [(&'static str, Domain)] =
        &[("lower", Domain::Bound), ("upper", Domain::Bound), ("alpha", Domain::Positive), ("beta", Domain::Positive)];
    const SUPPORT: Support = Support::Censored;
    const WGSL: &'static str = include_str!("../../../shaders/dist/censored_weibull.wgsl");
    const WGSL_NEEDS: &'static [DistKind] = &[DistKind::Weibull];
    const EXAMPLES: &'static [&'static [f64]] = &[&[0.5, 3.0, 1.5, 2.0], &[-(f32::MAX as f64), 8.0, 0.7, 4.0]];

    censored_rules!(Weibull);
}
