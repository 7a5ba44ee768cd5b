//! HurdleLogNormal(psi, mu, sigma).

use rand::Rng;

use super::hurdle::continuous_hurdle_rules;
use super::{Dist, DistKind, Domain, Family, LogNormal, Support};
use crate::model::expr::Expr;

/// Hurdle log-normal distribution on `[0, ∞)` (observed only): with probability `psi ∈ [0, 1]` a
/// draw of LogNormal(`mu`, `sigma`), otherwise exactly 0 (PyMC's
/// `HurdleLogNormal(psi, mu, sigma)`).
///
/// `p(0) = 1 − ψ` (a point mass), and the density `ψ LogNormal(x | μ, σ)` for `x > 0`.
///
/// ```
/// use exmc::prelude::*;
/// let mut m = Model::new();
/// let psi = m.rv("psi", Beta::new(2.0, 2.0))?;
/// let mu = m.rv("mu", Normal::new(1.0, 1.0))?;
/// let sigma = m.rv("sigma", HalfNormal::new(1.0))?;
/// let rain = [0.0, 0.0, 3.2, 0.0, 11.5, 0.4, 0.0, 6.1];
/// m.observe("rain", HurdleLogNormal::new(psi, mu, sigma), &rain)?;
/// # Ok::<(), exmc::Error>(())
/// ```
#[derive(Clone, Copy, Debug)]
pub struct HurdleLogNormal;

impl HurdleLogNormal {
    /// `HurdleLogNormal(psi, mu, sigma)`.
    #[allow(clippy::new_ret_no_self)]
    pub fn new(psi: impl Into<Expr>, mu: impl Into<Expr>, sigma: impl Into<Expr>) -> Dist {
        Dist { kind: DistKind::HurdleLogNormal, params: vec![psi.into(), mu.into(), sigma.into()] }
    }
}

impl Family for HurdleLogNormal {
    const NAME: &'static str = "hurdle_log_normal";
    const PARAMS: &'static [(&'static str, Domain)] =
        &[("psi", Domain::Probability), ("mu", Domain::Real), ("sigma", Domain::Positive)];
    const SUPPORT: Support = Support::ZeroOrPositive;
    const WGSL: &'static str = include_str!("../../../shaders/dist/hurdle_log_normal.wgsl");
    const WGSL_NEEDS: &'static [DistKind] = &[DistKind::LogNormal];
    const EXAMPLES: &'static [&'static [f64]] = &[&[0.6, 1.0, 0.5], &[0.1, -1.0, 1.2], &[0.95, 3.0, 0.2]];

    continuous_hurdle_rules!(LogNormal);
}
