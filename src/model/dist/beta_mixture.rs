//! BetaMixture(w, alpha, beta): each value from one of `K` Beta components.

use rand::Rng;

use super::mixture::mixture_rules;
use super::vector::{VecCode, VecFamily};
use super::{Dist, Domain, Support};
use crate::model::expr::Expr;

/// A mixture of `K` [`Beta`](super::Beta) components with weights `w` (a `K`-vector summing to one,
/// such as a Dirichlet draw): proportions from one of `K` betas of shapes `alpha` and `beta`, each
/// parameter per component (`K` values) or shared (one). PyMC's `Mixture(w,
/// comp_dists=Beta.dist(alpha, beta))`; also [`Mixture::new`](super::Mixture::new)`(w,
/// Beta::new(…))`. Every element of the value is one independent draw, an observation of its own in
/// the pointwise log-likelihood.
///
/// `log p(x) = ln Σₖ wₖ p(x | θₖ)`, a log-sum-exp per element. The components are not ordered:
/// order one parameter ([`Model::ordered`](crate::model::Model::ordered)) to break the `K!`
/// symmetric modes.
///
/// ```
/// use exmc::prelude::*;
/// let mut m = Model::new();
/// let w = m.rv("w", Dirichlet::new(vec![1.0, 1.0]))?;
/// let a = m.rv_vec("a", Gamma::new(2.0, 0.5), 2)?;
/// m.observe("y", BetaMixture::new(w, a, vec![6.0, 2.0]), &[0.1, 0.2, 0.8, 0.7, 0.15])?;
/// # Ok::<(), exmc::Error>(())
/// ```
#[derive(Clone, Copy, Debug)]
pub struct BetaMixture;

impl BetaMixture {
    /// `BetaMixture(w, alpha, beta)`.
    #[allow(clippy::new_ret_no_self)]
    pub fn new(w: impl Into<Expr>, alpha: impl Into<Expr>, beta: impl Into<Expr>) -> Dist {
        Dist { kind: super::DistKind::BetaMixture, params: vec![w.into(), alpha.into(), beta.into()] }
    }
}

impl VecFamily for BetaMixture {
    const NAME: &'static str = "beta_mixture";
    const PARAMS: &'static [(&'static str, Domain)] =
        &[("w", Domain::Probability), ("alpha", Domain::Positive), ("beta", Domain::Positive)];

    mixture_rules!(Beta);
}
