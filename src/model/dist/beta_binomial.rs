//! BetaBinomial(alpha, beta, n).

use rand::Rng;
use rand_distr::Distribution;
use statrs::function::gamma::digamma;

use super::binomial::ln_choose;
use super::{Dist, DistKind, Domain, Family, Support};
use crate::model::expr::Expr;

/// Beta-binomial distribution on `{0, …, n}` (observed only): a binomial count of `n` trials
/// (data, a whole number) whose success probability is Beta(`alpha`, `beta`) distributed,
/// integrated out (PyMC's `BetaBinomial(alpha, beta, n)`): an overdispersed binomial.
///
/// `log p(x) = ln C(n, x) + ln B(x + α, n − x + β) − ln B(α, β)`; the binomial coefficient is a
/// normaliser of data, summed once where `x` and `n` are data.
///
/// ```
/// use exmc::prelude::*;
/// let mut m = Model::new();
/// let a = m.rv("a", HalfNormal::new(10.0))?;
/// let b = m.rv("b", HalfNormal::new(10.0))?;
/// m.observe("hits", BetaBinomial::new(a, b, 20.0), &[3.0, 11.0, 7.0, 19.0, 0.0])?;
/// # Ok::<(), exmc::Error>(())
/// ```
#[derive(Clone, Copy, Debug)]
pub struct BetaBinomial;

impl BetaBinomial {
    /// `BetaBinomial(alpha, beta, n)`.
    #[allow(clippy::new_ret_no_self)]
    pub fn new(alpha: impl Into<Expr>, beta: impl Into<Expr>, n: impl Into<Expr>) -> Dist {
        Dist { kind: DistKind::BetaBinomial, params: vec![alpha.into(), beta.into(), n.into()] }
    }
}

impl Family for BetaBinomial {
    const NAME: &'static str = "beta_binomial";
    const PARAMS: &'static [(&'static str, Domain)] =
        &[("alpha", Domain::Positive), ("beta", Domain::Positive), ("n", Domain::Count)];
    const SUPPORT: Support = Support::BoundedCount;
    const WGSL: &'static str = include_str!("../../../shaders/dist/beta_binomial.wgsl");
    const EXAMPLES: &'static [&'static [f64]] = &[&[2.0, 3.0, 10.0], &[0.3, 0.5, 40.0], &[50.0, 200.0, 500.0]];

    fn moments(p: &[f64]) -> Option<(f64, f64)> {
        let (a, b, n) = (p[0], p[1], p[2]);
        let s = a + b;
        Some((n * a / s, n * a * b * (s + n) / (s * s * (s + 1.0))))
    }

    fn lpdf(x: f64, p: &[f64]) -> f64 {
        Self::lpdf_grad(x, p, &mut [0.0; 4])
    }

    fn lpdf_grad(x: f64, p: &[f64], g: &mut [f64]) -> f64 {
        super::lpdf_grad_with_data_term::<Self>(x, p, g)
    }

    fn sample<R: Rng + ?Sized>(p: &[f64], rng: &mut R) -> f64 {
        let q = rand_distr::Beta::new(p[0], p[1]).map_or(f64::NAN, |d| d.sample(rng));
        rand_distr::Binomial::new(p[2] as u64, q).map_or(f64::NAN, |d| d.sample(rng) as f64)
    }

    const NORMALIZER_PARAMS: &'static [usize] = &[2];
    const NORMALIZER_READS_X: bool = true;

    fn log_normalizer_at(x: f64, p: &[f64]) -> f64 {
        ln_choose(p[2], x)
    }

    /// `ln Γ(x + α) + ln Γ(n − x + β) − ln Γ(n + α + β) − ln Γ(α) − ln Γ(β) + ln Γ(α + β)`;
    /// `∂/∂α = ψ(x + α) − ψ(n + α + β) − ψ(α) + ψ(α + β)`, and `β` alike with `n − x`.
    fn kernel_grad(x: f64, p: &[f64], g: &mut [f64]) -> f64 {
        g[..4].fill(0.0);
        if !Self::in_support(x, p) {
            return f64::NEG_INFINITY;
        }
        let (a, b, n) = (p[0], p[1], p[2]);
        let s = a + b;
        let lg = libm::lgamma;
        let common = digamma(s) - digamma(n + s);
        g[1] = digamma(x + a) - digamma(a) + common;
        g[2] = digamma(n - x + b) - digamma(b) + common;
        lg(x + a) + lg(n - x + b) - lg(n + s) - lg(a) - lg(b) + lg(s)
    }
}
