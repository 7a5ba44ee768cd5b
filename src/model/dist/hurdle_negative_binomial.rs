//! HurdleNegativeBinomial(psi, mu, alpha).

use rand::Rng;

use super::{Dist, DistKind, Domain, Family, NegativeBinomial, Support};
use super::zero_inflation::wrapped_count_rules;
use crate::model::expr::Expr;

/// Hurdle negative binomial distribution on `{0, 1, …}` (observed only): with probability
/// `psi ∈ [0, 1]` a draw of NegativeBinomial(`mu`, `alpha`) (mean `μ`, variance `μ + μ²/α`)
/// conditioned on being positive, otherwise 0 (PyMC's `HurdleNegativeBinomial(psi, mu,
/// alpha)`).
///
/// `p(0) = 1 − ψ`, `p(x) = ψ NB(x | μ, α) / (1 − (α/(μ + α))^α)` for `x > 0`; `−ln x!` is a
/// normaliser of data, summed once.
///
/// ```
/// use exmc::prelude::*;
/// let mut m = Model::new();
/// let psi = m.rv("psi", Beta::new(2.0, 2.0))?;
/// let mu = m.rv("mu", Gamma::new(2.0, 0.2))?;
/// let alpha = m.rv("alpha", Exponential::new(0.5))?;
/// let counts = [0.0, 0.0, 12.0, 0.0, 3.0, 27.0, 0.0, 8.0];
/// m.observe("y", HurdleNegativeBinomial::new(psi, mu, alpha), &counts)?;
/// # Ok::<(), exmc::Error>(())
/// ```
#[derive(Clone, Copy, Debug)]
pub struct HurdleNegativeBinomial;

impl HurdleNegativeBinomial {
    /// `HurdleNegativeBinomial(psi, mu, alpha)`.
    #[allow(clippy::new_ret_no_self)]
    pub fn new(psi: impl Into<Expr>, mu: impl Into<Expr>, alpha: impl Into<Expr>) -> Dist {
        Dist { kind: DistKind::HurdleNegativeBinomial, params: vec![psi.into(), mu.into(), alpha.into()] }
    }
}

impl Family for HurdleNegativeBinomial {
    const NAME: &'static str = "hurdle_negative_binomial";
    const PARAMS: &'static [(&'static str, Domain)] =
        &[("psi", Domain::Probability), ("mu", Domain::Positive), ("alpha", Domain::Positive)];
    const SUPPORT: Support = Support::Count;
    const WGSL: &'static str = include_str!("../../../shaders/dist/hurdle_negative_binomial.wgsl");
    const WGSL_NEEDS: &'static [DistKind] = &[DistKind::NegativeBinomial];
    const EXAMPLES: &'static [&'static [f64]] = &[&[0.6, 4.0, 2.0], &[0.2, 30.0, 0.7], &[0.95, 0.4, 50.0]];

    wrapped_count_rules!(hurdle, NegativeBinomial);
}
