//! ZeroInflatedBinomial(psi, n, p).

use rand::Rng;

use super::{Binomial, Dist, DistKind, Domain, Family, Support};
use super::zero_inflation::wrapped_count_rules;
use crate::model::expr::Expr;

/// Zero-inflated binomial distribution on `{0, …, n}` (observed only): with probability
/// `psi ∈ [0, 1]` a draw of Binomial(`n`, `p`), otherwise 0 (PyMC's
/// `ZeroInflatedBinomial(psi, n, p)`; `n` is data, a whole number).
///
/// `p(0) = (1 − ψ) + ψ (1 − p)ⁿ`, `p(x) = ψ C(n, x) pˣ (1 − p)ⁿ⁻ˣ` for `x > 0`; the binomial
/// coefficient is a normaliser of data, summed once where `x` and `n` are data.
///
/// ```
/// use exmc::prelude::*;
/// let mut m = Model::new();
/// let psi = m.rv("psi", Beta::new(2.0, 2.0))?;
/// let p = m.rv("p", Beta::new(1.0, 1.0))?;
/// m.observe("y", ZeroInflatedBinomial::new(psi, 10.0, p), &[0.0, 4.0, 0.0, 6.0, 5.0])?;
/// # Ok::<(), exmc::Error>(())
/// ```
#[derive(Clone, Copy, Debug)]
pub struct ZeroInflatedBinomial;

impl ZeroInflatedBinomial {
    /// `ZeroInflatedBinomial(psi, n, p)`.
    #[allow(clippy::new_ret_no_self)]
    pub fn new(psi: impl Into<Expr>, n: impl Into<Expr>, p: impl Into<Expr>) -> Dist {
        Dist { kind: DistKind::ZeroInflatedBinomial, params: vec![psi.into(), n.into(), p.into()] }
    }
}

impl Family for ZeroInflatedBinomial {
    const NAME: &'static str = "zero_inflated_binomial";
    const PARAMS: &'static [(&'static str, Domain)] =
        &[("psi", Domain::Probability), ("n", Domain::Count), ("p", Domain::Probability)];
    const SUPPORT: Support = Support::BoundedCount;
    const WGSL: &'static str = include_str!("../../../shaders/dist/zero_inflated_binomial.wgsl");
    const WGSL_NEEDS: &'static [DistKind] = &[DistKind::Binomial];
    const EXAMPLES: &'static [&'static [f64]] = &[&[0.7, 10.0, 0.3], &[0.3, 200.0, 0.9], &[0.9, 3.0, 0.05]];

    const NORMALIZER_PARAMS: &'static [usize] = &[1];

    wrapped_count_rules!(zero_inflation, Binomial);
}
