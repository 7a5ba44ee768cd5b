//! GammaMixture(w, alpha, beta): each value from one of `K` Gamma components.

use rand::Rng;

use super::mixture::mixture_rules;
use super::vector::{VecCode, VecFamily};
use super::{Dist, Domain, Support};
use crate::model::expr::Expr;

/// A mixture of `K` [`Gamma`](super::Gamma) components with weights `w` (a `K`-vector summing to
/// one, such as a Dirichlet draw): positive values from one of `K` gammas of shapes `alpha` and
/// rates `beta`, each parameter per component (`K` values) or shared (one). PyMC's `Mixture(w,
/// comp_dists=Gamma.dist(alpha, beta))`; also [`Mixture::new`](super::Mixture::new)`(w,
/// Gamma::new(…))`. Every element of the value is one independent draw, an observation of its own
/// in the pointwise log-likelihood.
///
/// `log p(x) = ln Σₖ wₖ p(x | θₖ)`, a log-sum-exp per element. The components are not ordered:
/// order one parameter ([`Model::ordered`](crate::model::Model::ordered)) to break the `K!`
/// symmetric modes.
///
/// ```
/// use exmc::prelude::*;
/// let mut m = Model::new();
/// let w = m.rv("w", Dirichlet::new(vec![1.0, 1.0]))?;
/// let log_beta = m.rv_vec("log_beta", Normal::new(vec![-1.0, 1.0], 1.0), 2)?;
/// m.ordered(log_beta)?;
/// m.observe("y", GammaMixture::new(w, 4.0, log_beta.exp()), &[0.5, 2.3, 0.8, 9.1, 7.2])?;
/// # Ok::<(), exmc::Error>(())
/// ```
#[derive(Clone, Copy, Debug)]
pub struct GammaMixture;

impl GammaMixture {
    /// `GammaMixture(w, alpha, beta)`.
    #[allow(clippy::new_ret_no_self)]
    pub fn new(w: impl Into<Expr>, alpha: impl Into<Expr>, beta: impl Into<Expr>) -> Dist {
        Dist { kind: super::DistKind::GammaMixture, params: vec![w.into(), alpha.into(), beta.into()] }
    }
}

impl VecFamily for GammaMixture {
    const NAME: &'static str = "gamma_mixture";
    const PARAMS: &'static [(&'static str, Domain)] =
        &[("w", Domain::Probability), ("alpha", Domain::Positive), ("beta", Domain::Positive)];

    mixture_rules!(Gamma);
}
