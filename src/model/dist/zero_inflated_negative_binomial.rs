//! ZeroInflatedNegativeBinomial(psi, mu, alpha).

use rand::Rng;

use super::{Dist, DistKind, Domain, Family, NegativeBinomial, Support, zero_inflation};
use crate::model::expr::Expr;

/// Zero-inflated negative binomial distribution on `{0, 1, …}` (observed only): with
/// probability `psi ∈ [0, 1]` a draw of NegativeBinomial(`mu`, `alpha`) (mean `μ`, variance
/// `μ + μ²/α`), otherwise 0 (PyMC's `ZeroInflatedNegativeBinomial(psi, mu, alpha)`).
///
/// `p(0) = (1 − ψ) + ψ (α/(μ + α))^α`, `p(x) = ψ NB(x | μ, α)` for `x > 0`; `−ln x!` is a
/// normaliser of data, summed once.
///
/// ```
/// use exmc::prelude::*;
/// let mut m = Model::new();
/// let psi = m.rv("psi", Beta::new(2.0, 2.0))?;
/// let mu = m.rv("mu", Gamma::new(2.0, 0.2))?;
/// let alpha = m.rv("alpha", Exponential::new(0.5))?;
/// let counts = [0.0, 0.0, 12.0, 0.0, 3.0, 27.0, 0.0, 8.0];
/// m.observe("y", ZeroInflatedNegativeBinomial::new(psi, mu, alpha), &counts)?;
/// # Ok::<(), exmc::Error>(())
/// ```
#[derive(Clone, Copy, Debug)]
pub struct ZeroInflatedNegativeBinomial;

impl ZeroInflatedNegativeBinomial {
    /// `ZeroInflatedNegativeBinomial(psi, mu, alpha)`.
    #[allow(clippy::new_ret_no_self)]
    pub fn new(psi: impl Into<Expr>, mu: impl Into<Expr>, alpha: impl Into<Expr>) -> Dist {
        Dist { kind: DistKind::ZeroInflatedNegativeBinomial, params: vec![psi.into(), mu.into(), alpha.into()] }
    }
}

impl Family for ZeroInflatedNegativeBinomial {
    const NAME: &'static str = "zero_inflated_negative_binomial";
    const PARAMS: &'static [(&'static str, Domain)] =
        &[("psi", Domain::Probability), ("mu", Domain::Positive), ("alpha", Domain::Positive)];
    const SUPPORT: Support = Support::Count;
    const WGSL: &'static str = include_str!("../../../shaders/dist/zero_inflated_negative_binomial.wgsl");
    const WGSL_NEEDS: &'static [DistKind] = &[DistKind::NegativeBinomial];
    const EXAMPLES: &'static [&'static [f64]] = &[&[0.6, 4.0, 2.0], &[0.2, 30.0, 0.7], &[0.95, 0.4, 50.0]];

    fn moments(p: &[f64]) -> Option<(f64, f64)> {
        zero_inflation::moments::<NegativeBinomial>(p)
    }

    fn lpdf(x: f64, p: &[f64]) -> f64 {
        Self::lpdf_grad(x, p, &mut [0.0; 4])
    }

    fn lpdf_grad(x: f64, p: &[f64], g: &mut [f64]) -> f64 {
        super::lpdf_grad_with_data_term::<Self>(x, p, g)
    }

    fn sample<R: Rng + ?Sized>(p: &[f64], rng: &mut R) -> f64 {
        zero_inflation::sample::<NegativeBinomial, R>(p, rng)
    }

    const NORMALIZER_READS_X: bool = true;

    fn log_normalizer_at(x: f64, p: &[f64]) -> f64 {
        zero_inflation::log_normalizer_at::<NegativeBinomial>(x, p)
    }

    fn kernel_grad(x: f64, p: &[f64], g: &mut [f64]) -> f64 {
        zero_inflation::kernel_grad::<NegativeBinomial>(x, p, g)
    }
}
