//! ExponentialMixture(w, lam): each value from one of `K` Exponential components.

use rand::Rng;

use super::mixture::mixture_rules;
use super::vector::{VecCode, VecFamily};
use super::{Dist, Domain, Support};
use crate::model::expr::Expr;

/// A mixture of `K` [`Exponential`](super::Exponential) components with weights `w` (a `K`-vector
/// summing to one, such as a Dirichlet draw): positive values from one of `K` exponentials of rates
/// `lam`, each parameter per component (`K` values) or shared (one). PyMC's `Mixture(w,
/// comp_dists=Exponential.dist(lam))`; also [`Mixture::new`](super::Mixture::new)`(w,
/// Exponential::new(…))`. Every element of the value is one independent draw, an observation of its
/// own in the pointwise log-likelihood.
///
/// `log p(x) = ln Σₖ wₖ p(x | θₖ)`, a log-sum-exp per element. The components are not ordered:
/// order one parameter ([`Model::ordered`](crate::model::Model::ordered)) to break the `K!`
/// symmetric modes.
///
/// ```
/// use exmc::prelude::*;
/// let mut m = Model::new();
/// let w = m.rv("w", Dirichlet::new(vec![1.0, 1.0]))?;
/// let log_lam = m.rv_vec("log_lam", Normal::new(vec![-1.0, 1.0], 1.0), 2)?;
/// m.ordered(log_lam)?;
/// m.observe("y", ExponentialMixture::new(w, log_lam.exp()), &[0.1, 2.3, 0.05, 4.1, 0.2])?;
/// # Ok::<(), exmc::Error>(())
/// ```
#[derive(Clone, Copy, Debug)]
pub struct ExponentialMixture;

impl ExponentialMixture {
    /// `ExponentialMixture(w, lam)`.
    #[allow(clippy::new_ret_no_self)]
    pub fn new(w: impl Into<Expr>, lam: impl Into<Expr>) -> Dist {
        Dist { kind: super::DistKind::ExponentialMixture, params: vec![w.into(), lam.into()] }
    }
}

impl VecFamily for ExponentialMixture {
    const NAME: &'static str = "exponential_mixture";
    const PARAMS: &'static [(&'static str, Domain)] =
        &[("w", Domain::Probability), ("lam", Domain::Positive)];

    mixture_rules!(Exponential);
}
