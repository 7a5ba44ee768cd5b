//! HurdlePoisson(psi, mu).

use rand::Rng;

use super::{Dist, DistKind, Domain, Family, Poisson, Support};
use super::zero_inflation::wrapped_count_rules;
use crate::model::expr::Expr;

/// Hurdle Poisson distribution on `{0, 1, …}` (observed only): with probability
/// `psi ∈ [0, 1]` a draw of Poisson(`mu`) conditioned on being positive, otherwise 0 (PyMC's
/// `HurdlePoisson(psi, mu)`). Every zero comes from the hurdle: the zeros inform `psi` alone,
/// the positive counts both `psi` and `mu`.
///
/// `p(0) = 1 − ψ`, `p(x) = ψ μˣ e^{−μ} / (x! (1 − e^{−μ}))` for `x > 0`; `−ln x!` is a
/// normaliser of data, summed once.
///
/// ```
/// use exmc::prelude::*;
/// let mut m = Model::new();
/// let psi = m.rv("psi", Beta::new(1.0, 1.0))?;
/// let mu = m.rv("mu", Gamma::new(2.0, 0.5))?;
/// m.observe("visits", HurdlePoisson::new(psi, mu), &[0.0, 0.0, 3.0, 0.0, 5.0, 1.0])?;
/// # Ok::<(), exmc::Error>(())
/// ```
#[derive(Clone, Copy, Debug)]
pub struct HurdlePoisson;

impl HurdlePoisson {
    /// `HurdlePoisson(psi, mu)`.
    #[allow(clippy::new_ret_no_self)]
    pub fn new(psi: impl Into<Expr>, mu: impl Into<Expr>) -> Dist {
        Dist { kind: DistKind::HurdlePoisson, params: vec![psi.into(), mu.into()] }
    }
}

impl Family for HurdlePoisson {
    const NAME: &'static str = "hurdle_poisson";
    const PARAMS: &'static [(&'static str, Domain)] = &[("psi", Domain::Probability), ("mu", Domain::Positive)];
    const SUPPORT: Support = Support::Count;
    const WGSL: &'static str = include_str!("../../../shaders/dist/hurdle_poisson.wgsl");
    const WGSL_NEEDS: &'static [DistKind] = &[DistKind::Poisson];
    const EXAMPLES: &'static [&'static [f64]] = &[&[0.7, 3.5], &[0.3, 20.0], &[0.9, 0.05]];

    wrapped_count_rules!(hurdle, Poisson);
}
