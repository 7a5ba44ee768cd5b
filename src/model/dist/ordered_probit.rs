//! OrderedProbit(eta, cutpoints): an ordinal outcome from a latent normal variable.

use rand::Rng;

use super::normal_cdf::normal_mass;
use super::ordinal::{Link, ordinal_rules};
use super::vector::{VecCode, VecFamily};
use super::{Dist, Domain, Support, std_normal};
use crate::model::expr::Expr;

/// Ordinal outcomes `y ∈ {0, …, K − 1}` with `K − 1` increasing cut points `c` and a linear
/// predictor `eta` (one per observation, or one shared), through a latent standard normal:
/// `P(y = k) = Φ(cₖ − η) − Φ(cₖ₋₁ − η)` with `c₋₁ = −∞` and `c_{K−1} = ∞`. Stan's
/// `ordered_probit`, and PyMC's `OrderedProbit(eta, cutpoints)` at its default `sigma = 1`
/// (for another scale, divide `eta` and the cut points by it). Observed only; every
/// observation is one of its own in the pointwise log-likelihood.
///
/// The mass comes from `ln Φ` in the lower tail (by symmetry above 0), so outcomes far from
/// their predictor keep their digits. Give the cut points an increasing prior with
/// [`Model::ordered`](crate::model::Model::ordered).
///
/// ```
/// use exmc::prelude::*;
/// let mut m = Model::new();
/// let x = m.data("x", vec![-1.2, 0.3, 0.8, 1.9, -0.4, 0.1])?;
/// let beta = m.rv("beta", Normal::new(0, 2))?;
/// let cut = m.rv_vec("cutpoints", Normal::new(0, 3), 2)?;
/// m.ordered(cut)?;
/// m.observe("y", OrderedProbit::new(beta * x, cut), &[0.0, 1.0, 2.0, 2.0, 1.0, 0.0])?;
/// # Ok::<(), exmc::Error>(())
/// ```
#[derive(Clone, Copy, Debug)]
pub struct OrderedProbit;

impl OrderedProbit {
    /// `OrderedProbit(eta, cutpoints)`.
    #[allow(clippy::new_ret_no_self)]
    pub fn new(eta: impl Into<Expr>, cutpoints: impl Into<Expr>) -> Dist {
        Dist { kind: super::DistKind::OrderedProbit, params: vec![eta.into(), cutpoints.into()] }
    }
}

/// The standard normal: `ln(Φ(β) − Φ(α))` with `∂/∂α = −φ(α)/Z` and `∂/∂β = φ(β)/Z`
/// ([`normal_mass`], shared with the truncated normal). Their sum, `(φ(β) − φ(α))/Z`, is
/// `φ(α)/Z · expm1((α − β)(α + β)/2)`: two nearly equal ratios of a thin category do not
/// cancel.
struct ProbitLink;

impl Link for ProbitLink {
    const WGSL_MASS: &'static str = "ordinal_probit_mass";

    fn mass(alpha: f64, beta: f64, lo: bool, hi: bool) -> [f64; 4] {
        let (lz, ra, rb) = normal_mass(alpha, beta, lo, hi);
        let sum = if lo && hi { ra * ((alpha - beta) * (alpha + beta) * 0.5).exp_m1() } else { rb - ra };
        [lz, -ra, rb, sum]
    }

    fn draw<R: Rng + ?Sized>(rng: &mut R) -> f64 {
        std_normal(rng)
    }
}

impl VecFamily for OrderedProbit {
    const NAME: &'static str = "ordered_probit";
    const PARAMS: &'static [(&'static str, Domain)] = &[("eta", Domain::Real), ("cutpoints", Domain::Real)];

    ordinal_rules!(ProbitLink);
}
