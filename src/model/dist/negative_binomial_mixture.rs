//! NegativeBinomialMixture(w, mu, alpha): each value from one of `K` NegativeBinomial components.

use rand::Rng;

use super::mixture::mixture_rules;
use super::vector::{VecCode, VecFamily};
use super::{Dist, Domain, Support};
use crate::model::expr::Expr;

/// A mixture of `K` [`NegativeBinomial`](super::NegativeBinomial) components with weights `w` (a
/// `K`-vector summing to one, such as a Dirichlet draw): counts from one of `K` negative binomials
/// of means `mu` and dispersions `alpha`, each parameter per component (`K` values) or shared
/// (one). PyMC's `Mixture(w, comp_dists=NegativeBinomial.dist(mu, alpha))`; also
/// [`Mixture::new`](super::Mixture::new)`(w, NegativeBinomial::new(…))`. Every element of the value
/// is one independent draw, an observation of its own in the pointwise log-likelihood.
///
/// `log p(x) = ln Σₖ wₖ p(x | θₖ)`, a log-sum-exp per element. The components are not ordered:
/// order one parameter ([`Model::ordered`](crate::model::Model::ordered)) to break the `K!`
/// symmetric modes.
///
/// ```
/// use exmc::prelude::*;
/// let mut m = Model::new();
/// let w = m.rv("w", Dirichlet::new(vec![1.0, 1.0]))?;
/// let log_mu = m.rv_vec("log_mu", Normal::new(vec![1.0, 3.0], 1.0), 2)?;
/// m.ordered(log_mu)?;
/// let alpha = m.rv("alpha", Exponential::new(0.2))?;
/// let y = [1.0, 3.0, 2.0, 14.0, 29.0, 0.0];
/// m.observe("y", NegativeBinomialMixture::new(w, log_mu.exp(), alpha), &y)?;
/// # Ok::<(), exmc::Error>(())
/// ```
#[derive(Clone, Copy, Debug)]
pub struct NegativeBinomialMixture;

impl NegativeBinomialMixture {
    /// `NegativeBinomialMixture(w, mu, alpha)`.
    #[allow(clippy::new_ret_no_self)]
    pub fn new(w: impl Into<Expr>, mu: impl Into<Expr>, alpha: impl Into<Expr>) -> Dist {
        Dist {
            kind: super::DistKind::NegativeBinomialMixture,
            params: vec![w.into(), mu.into(), alpha.into()],
        }
    }
}

impl VecFamily for NegativeBinomialMixture {
    const NAME: &'static str = "negative_binomial_mixture";
    const PARAMS: &'static [(&'static str, Domain)] =
        &[("w", Domain::Probability), ("mu", Domain::Positive), ("alpha", Domain::Positive)];

    mixture_rules!(NegativeBinomial);
}
