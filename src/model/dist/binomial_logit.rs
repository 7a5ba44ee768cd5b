//! BinomialLogit(n, logit_p).

use rand::Rng;

use super::binomial::ln_choose;
use super::{Binomial, Dist, Domain, Family, Support};
use crate::model::expr::{Expr, logistic, softplus};
use crate::model::fastmath;

/// Binomial distribution on `{0, …, n}` with log-odds `logit_p` (Stan's `binomial_logit`;
/// observed only).
///
/// `log p(x) = ln C(n, x) + x l − n softplus(l)`.
#[derive(Clone, Copy, Debug)]
pub struct BinomialLogit;

impl BinomialLogit {
    /// `Binomial(n, logit_p = l)`.
    #[allow(clippy::new_ret_no_self)]
    pub fn new(n: impl Into<Expr>, l: impl Into<Expr>) -> Dist {
        Dist { kind: super::DistKind::BinomialLogit, params: vec![n.into(), l.into()] }
    }
}

impl Family for BinomialLogit {
    const NAME: &'static str = "binomial_logit";
    const PARAMS: &'static [(&'static str, Domain)] = &[("n", Domain::Count), ("logit_p", Domain::Real)];
    const SUPPORT: Support = Support::BoundedCount;
    const WGSL: &'static str = include_str!("../../../shaders/dist/binomial_logit.wgsl");
    const EXAMPLES: &'static [&'static [f64]] = &[&[10.0, -0.8], &[500.0, 4.0], &[1.0, 0.0]];

    fn moments(p: &[f64]) -> Option<(f64, f64)> {
        let q = logistic(p[1]);
        Some((p[0] * q, p[0] * q * (1.0 - q)))
    }

    fn lpdf(x: f64, p: &[f64]) -> f64 {
        if !Self::in_support(x, p) {
            return f64::NEG_INFINITY;
        }
        ln_choose(p[0], x) + x * p[1] - p[0] * softplus(p[1])
    }

    /// `∂/∂l = x − n σ(l)`.
    fn lpdf_grad(x: f64, p: &[f64], g: &mut [f64]) -> f64 {
        super::lpdf_grad_with_data_term::<Self>(x, p, g)
    }

    fn sample<R: Rng + ?Sized>(p: &[f64], rng: &mut R) -> f64 {
        Binomial::sample(&[p[0], logistic(p[1])], rng)
    }

    const NORMALIZER_PARAMS: &'static [usize] = &[0];
    const NORMALIZER_READS_X: bool = true;

    fn log_normalizer_at(x: f64, p: &[f64]) -> f64 {
        ln_choose(p[0], x)
    }

    /// `x l − n softplus(l)` and `∂/∂l = x − n σ(l)`, without branches (selects only) and
    /// with [`fastmath`]'s functions, so that the CPU interpreter's element loop vectorises.
    #[inline]
    fn kernel_grad(x: f64, p: &[f64], g: &mut [f64]) -> f64 {
        let (n, l) = (p[0], p[1]);
        let (e, ln_1p_e, inv) = fastmath::softplus_parts(l.abs());
        let sigma = if l >= 0.0 { inv } else { e * inv };
        let softplus = l.max(0.0) + ln_1p_e;
        let valid = Self::in_support(x, p);
        g[0] = 0.0;
        g[1] = 0.0;
        g[2] = if valid { x - n * sigma } else { 0.0 };
        if valid { x * l - n * softplus } else { f64::NEG_INFINITY }
    }
}
