//! CensoredNormal(mu, sigma, lower, upper).

use rand::Rng;

use super::censoring::{censored_rules, censoring_bound};
use super::{Normal, Dist, DistKind, Domain, Family, Support};
use crate::model::expr::Expr;

/// Normal(`mu`, `sigma`) censored to `[lower, upper]` (observed only; PyMC's
/// `pm.Censored(pm.Normal.dist(mu, sigma), lower, upper)`): a Tobit regression, or measurements
/// outside an instrument's range. A value beyond a bound is recorded as the bound.
///
/// `ln p(x) = ln F(lower)` at `x = lower`, `ln(1 − F(upper))` at `x = upper`, and the base's log
/// density in between. The bounds are data, one per observation or shared; `∓∞` means none.
/// Parameters are stored bounds first (`lower, upper, mu, sigma`). [`Censored`](super::Censored)
/// builds this family from a `Normal`.
///
/// ```
/// use exmc::prelude::*;
/// # fn main() -> exmc::Result<()> {
/// let mut m = Model::new();
/// let b = m.rv("b", Normal::new(0.0, 1.0))?;
/// let sigma = m.rv("sigma", HalfNormal::new(1.0))?;
/// // Hours worked (a Tobit model): no one works fewer than 0.
/// let x = m.data("x", vec![-1.2, 0.3, 0.8, -0.5, 1.6])?;
/// let hours = [0.0, 0.4, 1.1, 0.0, 2.3];
/// m.observe("hours", CensoredNormal::new(b * x, sigma, 0.0, f64::INFINITY), &hours)?;
/// # Ok(())
/// # }
/// ```
#[derive(Clone, Copy, Debug)]
pub struct CensoredNormal;

impl CensoredNormal {
    /// `CensoredNormal(mu, sigma, lower, upper)`.
    #[allow(clippy::new_ret_no_self)]
    pub fn new(mu: impl Into<Expr>, sigma: impl Into<Expr>, lower: impl Into<Expr>, upper: impl Into<Expr>) -> Dist {
        Dist {
            kind: DistKind::CensoredNormal,
            params: vec![censoring_bound(lower), censoring_bound(upper), mu.into(), sigma.into()],
        }
    }
}

impl Family for CensoredNormal {
    const NAME: &'static str = "censored_normal";
    const PARAMS: &'static [(&'static str, Domain)] =
        &[("lower", Domain::Bound), ("upper", Domain::Bound), ("mu", Domain::Real), ("sigma", Domain::Positive)];
    const SUPPORT: Support = Support::Censored;
    const WGSL: &'static str = include_str!("../../../shaders/dist/censored_normal.wgsl");
    const WGSL_NEEDS: &'static [DistKind] = &[DistKind::Normal];
    const EXAMPLES: &'static [&'static [f64]] = &[&[-1.0, 2.0, 0.5, 1.0], &[-(f32::MAX as f64), 1.0, 0.0, 2.0]];

    censored_rules!(Normal);
}
