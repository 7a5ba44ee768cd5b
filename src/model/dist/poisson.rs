//! Poisson(mu) and its log form.

use rand::Rng;
use rand_distr::Distribution;

use super::{Dist, Domain, Family, PoissonLog, Support};
use crate::model::expr::Expr;

/// `−ln x!`, the data-only term of the count families.
pub(crate) fn neg_ln_factorial(x: f64) -> f64 {
    -libm::lgamma(x + 1.0)
}

/// Poisson distribution on `{0, 1, …}` with rate `mu > 0` (observed only).
///
/// `log p(x) = x ln μ − μ − ln x!`; `−ln x!` is a normaliser of data, summed once.
#[derive(Clone, Copy, Debug)]
pub struct Poisson;

impl Poisson {
    /// `Poisson(mu)`.
    #[allow(clippy::new_ret_no_self)]
    pub fn new(mu: impl Into<Expr>) -> Dist {
        Dist { kind: super::DistKind::Poisson, params: vec![mu.into()] }
    }
    /// Poisson with log-rate `log_mu` (Stan's `poisson_log`): [`PoissonLog`].
    pub fn log(log_mu: impl Into<Expr>) -> Dist {
        PoissonLog::new(log_mu)
    }
}

pub(crate) fn poisson_sample<R: Rng + ?Sized>(mu: f64, rng: &mut R) -> f64 {
    rand_distr::Poisson::new(mu).map(|d| d.sample(rng)).unwrap_or(0.0)
}

impl Family for Poisson {
    const NAME: &'static str = "poisson";
    const PARAMS: &'static [(&'static str, Domain)] = &[("mu", Domain::Positive)];
    const SUPPORT: Support = Support::Count;
    const WGSL: &'static str = include_str!("../../../shaders/dist/poisson.wgsl");
    const EXAMPLES: &'static [&'static [f64]] = &[&[3.5], &[0.05], &[400.0]];

    fn moments(p: &[f64]) -> Option<(f64, f64)> {
        Some((p[0], p[0]))
    }

    fn lpdf(x: f64, p: &[f64]) -> f64 {
        Self::lpdf_grad(x, p, &mut [0.0; 2])
    }

    fn lpdf_grad(x: f64, p: &[f64], g: &mut [f64]) -> f64 {
        super::lpdf_grad_with_data_term::<Self>(x, p, g)
    }

    fn sample<R: Rng + ?Sized>(p: &[f64], rng: &mut R) -> f64 {
        poisson_sample(p[0], rng)
    }

    const NORMALIZER_READS_X: bool = true;

    fn log_normalizer_at(x: f64, _p: &[f64]) -> f64 {
        neg_ln_factorial(x)
    }

    /// `x ln μ − μ`; `∂/∂μ = x/μ − 1`, and `−1` at `x = 0` even where `μ` underflowed to 0
    /// (`exp` of a very negative log rate), where `x/μ` is `0/0`.
    fn kernel_grad(x: f64, p: &[f64], g: &mut [f64]) -> f64 {
        g[..2].fill(0.0);
        if !Self::in_support(x, p) {
            return f64::NEG_INFINITY;
        }
        g[1] = if x > 0.0 { x / p[0] } else { 0.0 } - 1.0;
        let t = if x > 0.0 { x * p[0].ln() } else { 0.0 };
        t - p[0]
    }
}
