//! OrderedLogistic(eta, cutpoints): an ordinal outcome from a latent logistic variable.

use rand::Rng;

use super::logspace::log1mexp;
use super::ordinal::{Link, ordinal_rules};
use super::vector::{VecCode, VecFamily};
use super::{Dist, Domain, Support};
use crate::model::expr::{Expr, logistic, softplus};

/// Ordinal outcomes `y ∈ {0, …, K − 1}` with `K − 1` increasing cut points `c` and a linear
/// predictor `eta` (one per observation, or one shared): PyMC's `OrderedLogistic(eta,
/// cutpoints)` and Stan's `ordered_logistic`. `P(y > k) = σ(η − cₖ)`, so
/// `P(y = k) = σ(η − cₖ₋₁) − σ(η − cₖ)` with `c₋₁ = −∞` and `c_{K−1} = ∞`. Observed only; every
/// observation is one of its own in the pointwise log-likelihood.
///
/// Give the cut points an increasing prior with [`Model::ordered`](crate::model::Model::ordered)
/// (PyMC's `transform=ordered`). Constant cut points must increase; random ones that do not give
/// a log density of −∞, as in PyMC.
///
/// ```
/// use exmc::prelude::*;
/// let mut m = Model::new();
/// let x = m.data("x", vec![-1.2, 0.3, 0.8, 1.9, -0.4, 0.1])?;
/// let beta = m.rv("beta", Normal::new(0, 2))?;
/// let cut = m.rv_vec("cutpoints", Normal::new(vec![-1.0, 0.0, 1.0], 3), 3)?;
/// m.ordered(cut)?;
/// m.observe("y", OrderedLogistic::new(beta * x, cut), &[0.0, 1.0, 3.0, 3.0, 1.0, 2.0])?;
/// # Ok::<(), exmc::Error>(())
/// ```
#[derive(Clone, Copy, Debug)]
pub struct OrderedLogistic;

impl OrderedLogistic {
    /// `OrderedLogistic(eta, cutpoints)`.
    #[allow(clippy::new_ret_no_self)]
    pub fn new(eta: impl Into<Expr>, cutpoints: impl Into<Expr>) -> Dist {
        Dist { kind: super::DistKind::OrderedLogistic, params: vec![eta.into(), cutpoints.into()] }
    }
}

/// The standard logistic: `ln(σ(β) − σ(α)) = ln σ(−α) + ln σ(β) + ln(1 − e^{α − β})`, the
/// difference without cancellation; with `q = 1/(e^{β − α} − 1)`, `∂/∂α = −σ(α) − q` and
/// `∂/∂β = σ(−β) + q`, whose sum `σ(−β) − σ(α)` is formed without `q`.
struct LogisticLink;

impl Link for LogisticLink {
    const WGSL_MASS: &'static str = "ordinal_logistic_mass";

    fn mass(alpha: f64, beta: f64, lo: bool, hi: bool) -> [f64; 4] {
        let (sa, sb) = (logistic(alpha), logistic(-beta));
        match (lo, hi) {
            (true, true) => {
                let q = 1.0 / (beta - alpha).exp_m1();
                [-softplus(alpha) - softplus(-beta) + log1mexp(alpha - beta), -sa - q, sb + q, sb - sa]
            }
            (true, false) => [-softplus(alpha), -sa, 0.0, -sa],
            (false, true) => [-softplus(-beta), 0.0, sb, sb],
            (false, false) => [0.0; 4],
        }
    }

    fn draw<R: Rng + ?Sized>(rng: &mut R) -> f64 {
        super::std_logistic(rng)
    }
}

impl VecFamily for OrderedLogistic {
    const NAME: &'static str = "ordered_logistic";
    const PARAMS: &'static [(&'static str, Domain)] = &[("eta", Domain::Real), ("cutpoints", Domain::Real)];

    ordinal_rules!(LogisticLink);
}
