//! DiscreteWeibull(q, beta), the discrete analogue of the Weibull (Nakagawa & Osaki 1975).

use rand::Rng;

use super::logspace::log1mexp;
use super::{Dist, Domain, Family, Support, is_count, std_uniform};
use crate::model::expr::Expr;

/// Most terms [`DiscreteWeibull`]'s moments sum before giving up (`q` near 1 with a small
/// `β` has a tail too long to sum).
const MAX_TERMS: usize = 1_000_000;

/// Discrete Weibull distribution on `{0, 1, 2, …}` with `0 < q < 1` and shape `β > 0`, as
/// PyMC's `DiscreteWeibull(q, beta)`: `P(X ≥ x) = q^{x^β}`, so that
/// `P(x) = q^{x^β} − q^{(x+1)^β}` (observed only). `β = 1` is the geometric number of failures
/// before a success of probability `1 − q`.
///
/// `log p(x) = x^β ln q + ln(1 − e^r)` with `r = ((x+1)^β − x^β) ln q`, the difference taken as
/// `x^β expm1(β ln(1 + 1/x))` so that it keeps its digits for large `x`.
#[derive(Clone, Copy, Debug)]
pub struct DiscreteWeibull;

impl DiscreteWeibull {
    /// `DiscreteWeibull(q, beta)`; the parameters may be constants, `Var`s or expressions.
    #[allow(clippy::new_ret_no_self)]
    pub fn new(q: impl Into<Expr>, beta: impl Into<Expr>) -> Dist {
        Dist { kind: super::DistKind::DiscreteWeibull, params: vec![q.into(), beta.into()] }
    }
}

/// `(x^β, (x+1)^β − x^β, ln(x + 1))` for a count `x` (`0^β` is 0 for every `β > 0`).
fn powers(x: f64, beta: f64) -> (f64, f64, f64) {
    let l1 = x.ln_1p();
    if x == 0.0 {
        return (0.0, 1.0, l1);
    }
    let u = (beta * x.ln()).exp();
    (u, u * (beta * (1.0 / x).ln_1p()).exp_m1(), l1)
}

impl Family for DiscreteWeibull {
    const NAME: &'static str = "discrete_weibull";
    const PARAMS: &'static [(&'static str, Domain)] =
        &[("q", Domain::Probability), ("beta", Domain::Positive)];
    const SUPPORT: Support = Support::Count;
    const WGSL: &'static str = include_str!("../../../shaders/dist/discrete_weibull.wgsl");
    const EXAMPLES: &'static [&'static [f64]] = &[&[0.5, 1.0], &[0.9, 0.6], &[0.05, 2.5]];

    fn check_params(p: &[f64]) -> Result<(), &'static str> {
        if p[0] > 0.0 && p[0] < 1.0 { Ok(()) } else { Err("q must lie strictly between 0 and 1") }
    }

    /// `E X = Σ_{x ≥ 1} q^{x^β}` and `E X² = Σ_{x ≥ 1} (2x − 1) q^{x^β}`, summed until the terms
    /// fall below 10⁻¹⁷ of the sums; `None` where that takes more than 10⁶ terms.
    fn moments(p: &[f64]) -> Option<(f64, f64)> {
        let (ln_q, beta) = (p[0].ln(), p[1]);
        let (mut mean, mut second) = (0.0, 0.0);
        for x in 1..=MAX_TERMS {
            let x = x as f64;
            let tail = ((beta * x.ln()).exp() * ln_q).exp();
            mean += tail;
            second += (2.0 * x - 1.0) * tail;
            if (2.0 * x - 1.0) * tail <= 1e-17 * second {
                return Some((mean, second - mean * mean));
            }
        }
        None
    }

    /// The least `x` with `P(X ≤ x) = 1 − q^{(x+1)^β} ≥ 1/2`.
    fn median(p: &[f64]) -> Option<f64> {
        Some(quantile(0.5, p))
    }

    fn lpdf(x: f64, p: &[f64]) -> f64 {
        Self::lpdf_grad(x, p, &mut [0.0; 3])
    }

    /// With `u = x^β`, `v = (x+1)^β`, `Δ = v − u` and `m = e^r − 1`, `r = Δ ln q`:
    /// `∂/∂q = (v + Δ/m)/q` and `∂/∂β = ln q (v ln(x+1) + (Δ ln(x+1) + u ln(1 + 1/x))/m)`
    /// (0 at `x = 0`), written so that no two large terms cancel (the weights of `u` and `v`,
    /// `−1/m` and `1 + 1/m`, are each about `1/|r|`). −∞ with zero partials where `x^β`
    /// overflows (the mass underflows far below the smallest double).
    fn lpdf_grad(x: f64, p: &[f64], g: &mut [f64]) -> f64 {
        g[..3].fill(0.0);
        if !Self::in_support(x, p) {
            return f64::NEG_INFINITY;
        }
        let (q, beta) = (p[0], p[1]);
        let ln_q = q.ln();
        let (u, du, l1) = powers(x, beta);
        let v = u + du;
        if !v.is_finite() {
            return f64::NEG_INFINITY;
        }
        let r = du * ln_q;
        let em1 = r.exp_m1();
        g[1] = (v + du / em1) / q;
        if x > 0.0 {
            g[2] = ln_q * (v * l1 + (du * l1 + u * (1.0 / x).ln_1p()) / em1);
        }
        u * ln_q + log1mexp(r)
    }

    fn sample<R: Rng + ?Sized>(p: &[f64], rng: &mut R) -> f64 {
        if Self::check_params(p).is_err() || p[1].is_nan() || p[1] <= 0.0 {
            return f64::NAN;
        }
        quantile(std_uniform(rng), p)
    }
}

/// The least count `x` with `P(X ≤ x) ≥ u`: `⌈(ln(1 − u)/ln q)^{1/β} − 1⌉`, at least 0.
fn quantile(u: f64, p: &[f64]) -> f64 {
    let t = ((-u).ln_1p() / p[0].ln()).powf(1.0 / p[1]) - 1.0;
    let x = t.ceil().max(0.0);
    // Where rounding put `t` a hair above a whole number, the count below may already reach `u`.
    if x >= 1.0 && is_count(x) && 1.0 - (x.powf(p[1]) * p[0].ln()).exp() >= u { x - 1.0 } else { x }
}
