//! NegativeBinomial(mu, alpha) (Stan's `neg_binomial_2`) and its log-mean form.

use rand::Rng;
use rand_distr::Distribution;
use statrs::function::gamma::digamma;

use super::poisson::neg_ln_factorial;
use super::{Dist, Domain, Family, NegativeBinomialLog, Support};
use crate::model::expr::Expr;

/// The terms of `log p(x)` beyond `−ln x!` given `ln α − ln(μ + α)` (`la`), `ln μ − ln(μ + α)`
/// (`lm`) and `w = μ/(μ + α)`; with the partials in `ln μ` (`d_log_mu`) and `α`.
pub(crate) fn nb_terms(x: f64, alpha: f64, la: f64, lm: f64, w: f64) -> (f64, f64, f64) {
    let v = libm::lgamma(x + alpha) - libm::lgamma(alpha) + alpha * la + if x > 0.0 { x * lm } else { 0.0 };
    // ∂/∂ln μ = x − (x + α) w;  ∂/∂α = ψ(x + α) − ψ(α) + ln α − ln(μ + α) + (μ − x)/(μ + α).
    let d_log_mu = x - (x + alpha) * w;
    let d_alpha = digamma(x + alpha) - digamma(alpha) + la + w - x * (1.0 - w) / alpha;
    (v, d_log_mu, d_alpha)
}

/// Negative binomial distribution on `{0, 1, …}` with mean `mu > 0` and dispersion
/// `alpha > 0` (variance `μ + μ²/α`; PyMC's `NegativeBinomial(mu, alpha)`, Stan's
/// `neg_binomial_2(mu, phi)`; observed only).
///
/// `log p(x) = ln Γ(x + α) − ln Γ(α) − ln x! + α ln(α/(μ + α)) + x ln(μ/(μ + α))`.
#[derive(Clone, Copy, Debug)]
pub struct NegativeBinomial;

impl NegativeBinomial {
    /// `NegativeBinomial(mu, alpha)`.
    #[allow(clippy::new_ret_no_self)]
    pub fn new(mu: impl Into<Expr>, alpha: impl Into<Expr>) -> Dist {
        Dist { kind: super::DistKind::NegativeBinomial, params: vec![mu.into(), alpha.into()] }
    }
    /// With log-mean `log_mu` (Stan's `neg_binomial_2_log`): [`NegativeBinomialLog`].
    pub fn log(log_mu: impl Into<Expr>, alpha: impl Into<Expr>) -> Dist {
        NegativeBinomialLog::new(log_mu, alpha)
    }
}

pub(crate) fn nb_sample<R: Rng + ?Sized>(mu: f64, alpha: f64, rng: &mut R) -> f64 {
    let rate = rand_distr::Gamma::new(alpha, mu / alpha).map(|d| d.sample(rng)).unwrap_or(mu);
    rand_distr::Poisson::new(rate).map(|d| d.sample(rng)).unwrap_or(0.0)
}

impl Family for NegativeBinomial {
    const NAME: &'static str = "negative_binomial";
    const PARAMS: &'static [(&'static str, Domain)] = &[("mu", Domain::Positive), ("alpha", Domain::Positive)];
    const SUPPORT: Support = Support::Count;
    const WGSL: &'static str = include_str!("../../../shaders/dist/negative_binomial.wgsl");
    const EXAMPLES: &'static [&'static [f64]] = &[&[4.0, 2.0], &[0.3, 0.5], &[50.0, 200.0]];

    fn moments(p: &[f64]) -> Option<(f64, f64)> {
        Some((p[0], p[0] + p[0] * p[0] / p[1]))
    }

    fn lpdf(x: f64, p: &[f64]) -> f64 {
        Self::lpdf_grad(x, p, &mut [0.0; 3])
    }

    fn lpdf_grad(x: f64, p: &[f64], g: &mut [f64]) -> f64 {
        super::lpdf_grad_with_data_term::<Self>(x, p, g)
    }

    fn sample<R: Rng + ?Sized>(p: &[f64], rng: &mut R) -> f64 {
        nb_sample(p[0], p[1], rng)
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
        let (mu, alpha) = (p[0], p[1]);
        let r = mu / alpha;
        let la = -r.ln_1p();
        let lm = mu.ln() - (mu + alpha).ln();
        let w = mu / (mu + alpha);
        let (v, d_log_mu, d_alpha) = nb_terms(x, alpha, la, lm, w);
        g[1] = d_log_mu / mu;
        g[2] = d_alpha;
        v
    }
}
