//! ZeroInflatedBinomial(psi, n, p).

use rand::Rng;

use super::{Binomial, Dist, DistKind, Domain, Family, Support, zero_inflation};
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

    fn moments(p: &[f64]) -> Option<(f64, f64)> {
        zero_inflation::moments::<Binomial>(p)
    }

    fn lpdf(x: f64, p: &[f64]) -> f64 {
        Self::lpdf_grad(x, p, &mut [0.0; 4])
    }

    fn lpdf_grad(x: f64, p: &[f64], g: &mut [f64]) -> f64 {
        super::lpdf_grad_with_data_term::<Self>(x, p, g)
    }

    fn sample<R: Rng + ?Sized>(p: &[f64], rng: &mut R) -> f64 {
        zero_inflation::sample::<Binomial, R>(p, rng)
    }

    const NORMALIZER_PARAMS: &'static [usize] = &[1];
    const NORMALIZER_READS_X: bool = true;

    fn log_normalizer_at(x: f64, p: &[f64]) -> f64 {
        zero_inflation::log_normalizer_at::<Binomial>(x, p)
    }

    fn kernel_grad(x: f64, p: &[f64], g: &mut [f64]) -> f64 {
        zero_inflation::kernel_grad::<Binomial>(x, p, g)
    }
}
