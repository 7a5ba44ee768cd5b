//! LogNormalMixture(w, mu, sigma): each value from one of `K` LogNormal components.

use rand::Rng;

use super::mixture::mixture_rules;
use super::vector::{VecCode, VecFamily};
use super::{Dist, Domain, Support};
use crate::model::expr::Expr;

/// A mixture of `K` [`LogNormal`](super::LogNormal) components with weights `w` (a `K`-vector
/// summing to one, such as a Dirichlet draw): positive values from one of `K` log-normals of
/// log-scale means `mu` and scales `sigma`, each parameter per component (`K` values) or shared
/// (one). PyMC's `Mixture(w, comp_dists=LogNormal.dist(mu, sigma))`; also
/// [`Mixture::new`](super::Mixture::new)`(w, LogNormal::new(…))`. Every element of the value is one
/// independent draw, an observation of its own in the pointwise log-likelihood.
///
/// `log p(x) = ln Σₖ wₖ p(x | θₖ)`, a log-sum-exp per element. The components are not ordered:
/// order one parameter ([`Model::ordered`](crate::model::Model::ordered)) to break the `K!`
/// symmetric modes.
///
/// ```
/// use exmc::prelude::*;
/// let mut m = Model::new();
/// let w = m.rv("w", Dirichlet::new(vec![1.0, 1.0]))?;
/// let mu = m.rv_vec("mu", Normal::new(vec![0.0, 2.0], 1.0), 2)?;
/// m.ordered(mu)?;
/// let sigma = m.rv("sigma", HalfNormal::new(1.0))?;
/// m.observe("y", LogNormalMixture::new(w, mu, sigma), &[0.9, 1.2, 7.5, 8.1, 1.1])?;
/// # Ok::<(), exmc::Error>(())
/// ```
#[derive(Clone, Copy, Debug)]
pub struct LogNormalMixture;

impl LogNormalMixture {
    /// `LogNormalMixture(w, mu, sigma)`.
    #[allow(clippy::new_ret_no_self)]
    pub fn new(w: impl Into<Expr>, mu: impl Into<Expr>, sigma: impl Into<Expr>) -> Dist {
        Dist { kind: super::DistKind::LogNormalMixture, params: vec![w.into(), mu.into(), sigma.into()] }
    }
}

impl VecFamily for LogNormalMixture {
    const NAME: &'static str = "log_normal_mixture";
    const PARAMS: &'static [(&'static str, Domain)] =
        &[("w", Domain::Probability), ("mu", Domain::Real), ("sigma", Domain::Positive)];

    mixture_rules!(LogNormal);
}
