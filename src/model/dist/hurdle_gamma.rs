//! HurdleGamma(psi, alpha, beta).

use rand::Rng;

use super::hurdle::continuous_hurdle_rules;
use super::{Dist, DistKind, Domain, Family, Gamma, Support};
use crate::model::expr::Expr;

/// Hurdle gamma distribution on `[0, ∞)` (observed only): with probability `psi ∈ [0, 1]` a
/// draw of Gamma(`alpha`, `beta`) (shape and rate), otherwise exactly 0 (PyMC's
/// `HurdleGamma(psi, alpha, beta)`): amounts that are often zero, such as daily rainfall or
/// spending.
///
/// `p(0) = 1 − ψ` (a point mass), and the density `ψ Gamma(x | α, β)` for `x > 0`.
///
/// ```
/// use exmc::prelude::*;
/// let mut m = Model::new();
/// let psi = m.rv("psi", Beta::new(2.0, 2.0))?;
/// let alpha = m.rv("alpha", Gamma::new(2.0, 1.0))?;
/// let beta = m.rv("beta", Gamma::new(2.0, 2.0))?;
/// let rain = [0.0, 0.0, 3.2, 0.0, 11.5, 0.4, 0.0, 6.1];
/// m.observe("rain", HurdleGamma::new(psi, alpha, beta), &rain)?;
/// # Ok::<(), exmc::Error>(())
/// ```
#[derive(Clone, Copy, Debug)]
pub struct HurdleGamma;

impl HurdleGamma {
    /// `HurdleGamma(psi, alpha, beta)`.
    #[allow(clippy::new_ret_no_self)]
    pub fn new(psi: impl Into<Expr>, alpha: impl Into<Expr>, beta: impl Into<Expr>) -> Dist {
        Dist { kind: DistKind::HurdleGamma, params: vec![psi.into(), alpha.into(), beta.into()] }
    }
}

impl Family for HurdleGamma {
    const NAME: &'static str = "hurdle_gamma";
    const PARAMS: &'static [(&'static str, Domain)] =
        &[("psi", Domain::Probability), ("alpha", Domain::Positive), ("beta", Domain::Positive)];
    const SUPPORT: Support = Support::ZeroOrPositive;
    const WGSL: &'static str = include_str!("../../../shaders/dist/hurdle_gamma.wgsl");
    const WGSL_NEEDS: &'static [DistKind] = &[DistKind::Gamma];
    const EXAMPLES: &'static [&'static [f64]] = &[&[0.6, 2.0, 0.5], &[0.1, 0.5, 3.0], &[0.95, 30.0, 10.0]];

    continuous_hurdle_rules!(Gamma);
}
