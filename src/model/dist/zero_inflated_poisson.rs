//! ZeroInflatedPoisson(psi, mu).

use rand::Rng;

use super::{Dist, DistKind, Domain, Family, Poisson, Support};
use super::zero_inflation::wrapped_count_rules;
use crate::model::expr::Expr;

/// Zero-inflated Poisson distribution on `{0, 1, …}` (observed only): with probability
/// `psi ∈ [0, 1]` a draw of Poisson(`mu`), otherwise 0 (PyMC's
/// `ZeroInflatedPoisson(psi, mu)`).
///
/// `p(0) = (1 − ψ) + ψ e^{−μ}`, `p(x) = ψ μˣ e^{−μ} / x!` for `x > 0`; `−ln x!` is a
/// normaliser of data, summed once.
///
/// ```
/// use exmc::prelude::*;
/// let mut m = Model::new();
/// let psi = m.rv("psi", Beta::new(1.0, 1.0))?;
/// let mu = m.rv("mu", Gamma::new(2.0, 0.5))?;
/// m.observe("fish", ZeroInflatedPoisson::new(psi, mu), &[0.0, 0.0, 3.0, 0.0, 5.0, 2.0])?;
/// # Ok::<(), exmc::Error>(())
/// ```
#[derive(Clone, Copy, Debug)]
pub struct ZeroInflatedPoisson;

impl ZeroInflatedPoisson {
    /// `ZeroInflatedPoisson(psi, mu)`.
    #[allow(clippy::new_ret_no_self)]
    pub fn new(psi: impl Into<Expr>, mu: impl Into<Expr>) -> Dist {
        Dist { kind: DistKind::ZeroInflatedPoisson, params: vec![psi.into(), mu.into()] }
    }
}

impl Family for ZeroInflatedPoisson {
    const NAME: &'static str = "zero_inflated_poisson";
    const PARAMS: &'static [(&'static str, Domain)] = &[("psi", Domain::Probability), ("mu", Domain::Positive)];
    const SUPPORT: Support = Support::Count;
    const WGSL: &'static str = include_str!("../../../shaders/dist/zero_inflated_poisson.wgsl");
    const WGSL_NEEDS: &'static [DistKind] = &[DistKind::Poisson];
    const EXAMPLES: &'static [&'static [f64]] = &[&[0.7, 3.5], &[0.1, 20.0], &[0.98, 0.05]];

    wrapped_count_rules!(zero_inflation, Poisson);
}
