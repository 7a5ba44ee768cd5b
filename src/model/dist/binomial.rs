//! Binomial(n, p) and its logit form.

use rand::Rng;
use rand_distr::Distribution;

use super::{BinomialLogit, Dist, Domain, Family, Support};
use crate::model::expr::Expr;

/// `ln (n choose x)`.
pub(crate) fn ln_choose(n: f64, x: f64) -> f64 {
    libm::lgamma(n + 1.0) - libm::lgamma(x + 1.0) - libm::lgamma(n - x + 1.0)
}

/// `x ln p + (n − x) ln(1 − p)` with `0 · ln 0 = 0`, and its derivative in `p`.
fn binomial_terms(x: f64, n: f64, p: f64) -> (f64, f64) {
    let (mut v, mut d) = (0.0, 0.0);
    if x > 0.0 {
        v += x * p.ln();
        d += x / p;
    }
    if n - x > 0.0 {
        v += (n - x) * (-p).ln_1p();
        d -= (n - x) / (1.0 - p);
    }
    (v, d)
}

/// Binomial distribution on `{0, …, n}`: `n` trials (data: a whole number) with success
/// probability `0 ≤ p ≤ 1` (observed only).
///
/// `log p(x) = ln C(n, x) + x ln p + (n − x) ln(1 − p)`; the binomial coefficient is a normaliser
/// of data, summed once where `x` and `n` are data.
#[derive(Clone, Copy, Debug)]
pub struct Binomial;

impl Binomial {
    /// `Binomial(n, p)`.
    #[allow(clippy::new_ret_no_self)]
    pub fn new(n: impl Into<Expr>, p: impl Into<Expr>) -> Dist {
        Dist { kind: super::DistKind::Binomial, params: vec![n.into(), p.into()] }
    }
    /// `Binomial(n, logit_p = l)`: [`BinomialLogit`].
    pub fn logit(n: impl Into<Expr>, l: impl Into<Expr>) -> Dist {
        BinomialLogit::new(n, l)
    }
}

impl Family for Binomial {
    const NAME: &'static str = "binomial";
    const PARAMS: &'static [(&'static str, Domain)] = &[("n", Domain::Count), ("p", Domain::Probability)];
    const SUPPORT: Support = Support::BoundedCount;
    const WGSL: &'static str = include_str!("../../../shaders/dist/binomial.wgsl");
    const EXAMPLES: &'static [&'static [f64]] = &[&[10.0, 0.3], &[1000.0, 0.999], &[3.0, 0.02]];

    fn moments(p: &[f64]) -> Option<(f64, f64)> {
        Some((p[0] * p[1], p[0] * p[1] * (1.0 - p[1])))
    }

    fn lpdf(x: f64, p: &[f64]) -> f64 {
        Self::lpdf_grad(x, p, &mut [0.0; 3])
    }

    fn lpdf_grad(x: f64, p: &[f64], g: &mut [f64]) -> f64 {
        super::lpdf_grad_with_data_term::<Self>(x, p, g)
    }

    fn sample<R: Rng + ?Sized>(p: &[f64], rng: &mut R) -> f64 {
        let d = rand_distr::Binomial::new(p[0] as u64, p[1]).expect("binomial parameters in their domains");
        d.sample(rng) as f64
    }

    const NORMALIZER_PARAMS: &'static [usize] = &[0];
    const NORMALIZER_READS_X: bool = true;

    fn log_normalizer_at(x: f64, p: &[f64]) -> f64 {
        ln_choose(p[0], x)
    }

    fn kernel_grad(x: f64, p: &[f64], g: &mut [f64]) -> f64 {
        g[..3].fill(0.0);
        if !Self::in_support(x, p) {
            return f64::NEG_INFINITY;
        }
        let (v, d) = binomial_terms(x, p[0], p[1]);
        g[2] = d;
        v
    }
}
