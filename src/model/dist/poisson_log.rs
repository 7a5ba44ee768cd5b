//! PoissonLog(log_mu).

use rand::Rng;

use super::poisson::{neg_ln_factorial, poisson_sample};
use super::{Dist, Domain, Family, Support};
use crate::model::expr::Expr;

/// Poisson distribution on `{0, 1, …}` with log-rate `log_mu` (Stan's `poisson_log`; observed
/// only).
///
/// `log p(x) = x η − e^η − ln x!`.
#[derive(Clone, Copy, Debug)]
pub struct PoissonLog;

impl PoissonLog {
    /// `Poisson(mu = exp(log_mu))`.
    #[allow(clippy::new_ret_no_self)]
    pub fn new(log_mu: impl Into<Expr>) -> Dist {
        Dist { kind: super::DistKind::PoissonLog, params: vec![log_mu.into()] }
    }
}

impl Family for PoissonLog {
    const NAME: &'static str = "poisson_log";
    const PARAMS: &'static [(&'static str, Domain)] = &[("log_mu", Domain::Real)];
    const SUPPORT: Support = Support::Count;
    const WGSL: &'static str = include_str!("../../../shaders/dist/poisson_log.wgsl");
    const EXAMPLES: &'static [&'static [f64]] = &[&[1.2], &[-3.0], &[6.0]];

    fn moments(p: &[f64]) -> Option<(f64, f64)> {
        Some((p[0].exp(), p[0].exp()))
    }

    fn lpdf(x: f64, p: &[f64]) -> f64 {
        Self::lpdf_grad(x, p, &mut [0.0; 2])
    }

    fn lpdf_grad(x: f64, p: &[f64], g: &mut [f64]) -> f64 {
        super::lpdf_grad_with_data_term::<Self>(x, p, g)
    }

    fn sample<R: Rng + ?Sized>(p: &[f64], rng: &mut R) -> f64 {
        poisson_sample(p[0].exp(), rng)
    }

    const NORMALIZER_READS_X: bool = true;

    fn log_normalizer_at(x: f64, _p: &[f64]) -> f64 {
        neg_ln_factorial(x)
    }

    /// `x η − e^η`; `∂/∂η = x − e^η`.
    fn kernel_grad(x: f64, p: &[f64], g: &mut [f64]) -> f64 {
        g[..2].fill(0.0);
        if !Self::in_support(x, p) {
            return f64::NEG_INFINITY;
        }
        let mu = p[0].exp();
        g[1] = x - mu;
        x * p[0] - mu
    }
}
