//! NegativeBinomialLog(log_mu, alpha) (Stan's `neg_binomial_2_log`).

use rand::Rng;

use super::negative_binomial::{nb_sample, nb_terms};
use super::poisson::neg_ln_factorial;
use super::{Dist, Domain, Family, Support};
use crate::model::expr::{Expr, logistic};

/// Negative binomial distribution with log-mean `log_mu` and dispersion `alpha > 0` (Stan's
/// `neg_binomial_2_log`; observed only), computed without forming `μ = e^η`.
#[derive(Clone, Copy, Debug)]
pub struct NegativeBinomialLog;

impl NegativeBinomialLog {
    /// `NegativeBinomial(mu = exp(log_mu), alpha)`.
    #[allow(clippy::new_ret_no_self)]
    pub fn new(log_mu: impl Into<Expr>, alpha: impl Into<Expr>) -> Dist {
        Dist { kind: super::DistKind::NegativeBinomialLog, params: vec![log_mu.into(), alpha.into()] }
    }
}

impl Family for NegativeBinomialLog {
    const NAME: &'static str = "negative_binomial_log";
    const PARAMS: &'static [(&'static str, Domain)] = &[("log_mu", Domain::Real), ("alpha", Domain::Positive)];
    const SUPPORT: Support = Support::Count;
    const WGSL: &'static str = include_str!("../../../shaders/dist/negative_binomial_log.wgsl");
    const EXAMPLES: &'static [&'static [f64]] = &[&[1.0, 2.0], &[-2.0, 0.5], &[4.0, 200.0]];

    fn moments(p: &[f64]) -> Option<(f64, f64)> {
        let mu = p[0].exp();
        Some((mu, mu + mu * mu / p[1]))
    }

    fn lpdf(x: f64, p: &[f64]) -> f64 {
        Self::lpdf_grad(x, p, &mut [0.0; 3])
    }

    fn lpdf_grad(x: f64, p: &[f64], g: &mut [f64]) -> f64 {
        super::lpdf_grad_with_data_term::<Self>(x, p, g)
    }

    fn sample<R: Rng + ?Sized>(p: &[f64], rng: &mut R) -> f64 {
        nb_sample(p[0].exp(), p[1], rng)
    }

    const NORMALIZER_READS_X: bool = true;

    fn log_normalizer_at(x: f64, _p: &[f64]) -> f64 {
        neg_ln_factorial(x)
    }

    fn kernel_grad(x: f64, p: &[f64], g: &mut [f64]) -> f64 {
        g[..3].fill(0.0);
        if !Self::in_support(x, p) {
            return f64::NEG_INFINITY;
        }
        let (eta, alpha) = (p[0], p[1]);
        let ln_alpha = alpha.ln();
        // ln(μ + α) = logaddexp(η, ln α).
        let l = eta.max(ln_alpha) + (-(eta - ln_alpha).abs()).exp().ln_1p();
        let w = logistic(eta - ln_alpha);
        let (v, d_log_mu, d_alpha) = nb_terms(x, alpha, ln_alpha - l, eta - l, w);
        g[1] = d_log_mu;
        g[2] = d_alpha;
        v
    }
}
