//! CensoredExponential(lam, lower, upper).

use rand::Rng;

use super::censoring::{censored_rules, censoring_bound};
use super::{Exponential, Dist, DistKind, Domain, Family, Support};
use crate::model::expr::Expr;

/// Exponential(`lam`) censored to `[lower, upper]` (observed only; PyMC's
/// `pm.Censored(pm.Exponential.dist(lam), lower, upper)`): survival times with a constant hazard. A
/// value beyond a bound is recorded as the bound.
///
/// `ln p(x) = ln F(lower)` at `x = lower`, `ln(1 − F(upper))` at `x = upper`, and the base's log
/// density in between. The bounds are data, one per observation or shared; `∓∞` means none.
/// Parameters are stored bounds first (`lower, upper, lam`). [`Censored`](super::Censored) builds
/// this family from an `Exponential`.
///
/// ```
/// use exmc::prelude::*;
/// # fn main() -> exmc::Result<()> {
/// let mut m = Model::new();
/// let lam = m.rv("lam", Gamma::new(2.0, 2.0))?;
/// // Times to failure; the test stopped at 5 for the units still running.
/// let t = [0.7, 5.0, 2.2, 5.0, 1.4];
/// m.observe("t", CensoredExponential::new(lam, f64::NEG_INFINITY, 5.0), &t)?;
/// # Ok(())
/// # }
/// ```
#[derive(Clone, Copy, Debug)]
pub struct CensoredExponential;

impl CensoredExponential {
    /// `CensoredExponential(lam, lower, upper)`.
    #[allow(clippy::new_ret_no_self)]
    pub fn new(lam: impl Into<Expr>, lower: impl Into<Expr>, upper: impl Into<Expr>) -> Dist {
        Dist {
            kind: DistKind::CensoredExponential,
            params: vec![censoring_bound(lower), censoring_bound(upper), lam.into()],
        }
    }
}

impl Family for CensoredExponential {
    const NAME: &'static str = "censored_exponential";
    const PARAMS: &'static [(&'static str, Domain)] =
        &[("lower", Domain::Bound), ("upper", Domain::Bound), ("lam", Domain::Positive)];
    const SUPPORT: Support = Support::Censored;
    const WGSL: &'static str = include_str!("../../../shaders/dist/censored_exponential.wgsl");
    const WGSL_NEEDS: &'static [DistKind] = &[DistKind::Exponential];
    const EXAMPLES: &'static [&'static [f64]] = &[&[0.5, 3.0, 0.5], &[-(f32::MAX as f64), 10.0, 0.2]];

    censored_rules!(Exponential);
}
