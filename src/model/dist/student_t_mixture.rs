//! StudentTMixture(w, nu, mu, sigma): each value from one of `K` StudentT components.

use rand::Rng;

use super::mixture::mixture_rules;
use super::vector::{VecCode, VecFamily};
use super::{Dist, Domain, Support};
use crate::model::expr::Expr;

/// A mixture of `K` [`StudentT`](super::StudentT) components with weights `w` (a `K`-vector summing
/// to one, such as a Dirichlet draw): values from one of `K` Student-t's of degrees of freedom
/// `nu`, locations `mu` and scales `sigma` (robust clustering), each parameter per component (`K`
/// values) or shared (one). PyMC's `Mixture(w, comp_dists=StudentT.dist(nu, mu, sigma))`; also
/// [`Mixture::new`](super::Mixture::new)`(w, StudentT::new(…))`. Every element of the value is one
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
/// let mu = m.rv_vec("mu", Normal::new(vec![-2.0, 2.0], 1.0), 2)?;
/// m.ordered(mu)?;
/// let sigma = m.rv("sigma", HalfNormal::new(1.0))?;
/// m.observe("y", StudentTMixture::new(w, 4.0, mu, sigma), &[-2.1, -1.7, 2.2, 1.9, 9.4])?;
/// # Ok::<(), exmc::Error>(())
/// ```
#[derive(Clone, Copy, Debug)]
pub struct StudentTMixture;

impl StudentTMixture {
    /// `StudentTMixture(w, nu, mu, sigma)`.
    #[allow(clippy::new_ret_no_self)]
    pub fn new(w: impl Into<Expr>, nu: impl Into<Expr>, mu: impl Into<Expr>, sigma: impl Into<Expr>) -> Dist {
        Dist {
            kind: super::DistKind::StudentTMixture,
            params: vec![w.into(), nu.into(), mu.into(), sigma.into()],
        }
    }
}

impl VecFamily for StudentTMixture {
    const NAME: &'static str = "student_t_mixture";
    const PARAMS: &'static [(&'static str, Domain)] = &[
        ("w", Domain::Probability),
        ("nu", Domain::Positive),
        ("mu", Domain::Real),
        ("sigma", Domain::Positive),
    ];

    mixture_rules!(StudentT);
}
