//! CensoredLogNormal(mu, sigma, lower, upper).

use rand::Rng;

use super::censoring::{censored_rules, censoring_bound};
use super::{LogNormal, Dist, DistKind, Domain, Family, Support};
use crate::model::expr::Expr;

/// LogNormal(`mu`, `sigma`) censored to `[lower, upper]` (observed only; PyMC's
/// `pm.Censored(pm.LogNormal.dist(mu, sigma), lower, upper)`): concentrations below a detection
/// limit, or survival times. A value beyond a bound is recorded as the bound.
///
/// `ln p(x) = ln F(lower)` at `x = lower`, `ln(1 − F(upper))` at `x = upper`, and the base's log
/// density in between. The bounds are data, one per observation or shared; `∓∞` means none.
/// Parameters are stored bounds first (`lower, upper, mu, sigma`). [`Censored`](super::Censored)
/// builds this family from a `LogNormal`.
///
/// ```
/// use exmc::prelude::*;
/// # fn main() -> exmc::Result<()> {
/// let mut m = Model::new();
/// let mu = m.rv("mu", Normal::new(0.0, 2.0))?;
/// let sigma = m.rv("sigma", HalfNormal::new(1.0))?;
/// // Concentrations; 0.5 is the detection limit, below which the assay reports 0.5.
/// let conc = [0.5, 1.7, 0.5, 3.2, 0.9];
/// m.observe("conc", CensoredLogNormal::new(mu, sigma, 0.5, f64::INFINITY), &conc)?;
/// # Ok(())
/// # }
/// ```
#[derive(Clone, Copy, Debug)]
pub struct CensoredLogNormal;

impl CensoredLogNormal {
    /// `CensoredLogNormal(mu, sigma, lower, upper)`.
    #[allow(clippy::new_ret_no_self)]
    pub fn new(mu: impl Into<Expr>, sigma: impl Into<Expr>, lower: impl Into<Expr>, upper: impl Into<Expr>) -> Dist {
        Dist {
            kind: DistKind::CensoredLogNormal,
            params: vec![censoring_bound(lower), censoring_bound(upper), mu.into(), sigma.into()],
        }
    }
}

impl Family for CensoredLogNormal {
    const NAME: &'static str = "censored_log_normal";
    const PARAMS: &'static [(&'static str, Domain)] =
        &[("lower", Domain::Bound), ("upper", Domain::Bound), ("mu", Domain::Real), ("sigma", Domain::Positive)];
    const SUPPORT: Support = Support::Censored;
    const WGSL: &'static str = include_str!("../../../shaders/dist/censored_log_normal.wgsl");
    const WGSL_NEEDS: &'static [DistKind] = &[DistKind::LogNormal];
    const EXAMPLES: &'static [&'static [f64]] = &[&[0.5, 4.0, 0.5, 1.0], &[-(f32::MAX as f64), 5.0, 1.0, 0.3]];

    censored_rules!(LogNormal);
}
