//! SkewStudentT(a, b, mu, sigma), Jones & Faddy's skewed t.

use rand::Rng;
use rand_distr::Distribution;
use statrs::function::gamma::digamma;

use super::beta::ln_beta_fn;
use super::{Dist, Domain, Family, Support};
use crate::model::expr::Expr;

use std::f64::consts::LN_2;

/// Jones & Faddy's (2003) skew-t distribution with shape parameters `a > 0` and `b > 0`,
/// location `mu` and scale `sigma > 0`, as PyMC's `SkewStudentT(a, b, mu, sigma)` and scipy's
/// `jf_skew_t(a, b, loc, scale)`: `a > b` skews it right, `a < b` left, and `a = b = ν/2` is
/// Student's t with `ν` degrees of freedom. Its left tail falls as `|t|^{-(2a+1)}`, its right
/// as `t^{-(2b+1)}`.
///
/// `log p(x) = −(a+b−1) ln 2 − ln B(a, b) − ln(a+b)/2 − ln σ + (a+½) ln(1 + t/s)
/// + (b+½) ln(1 − t/s)` with `t = (x − μ)/σ` and `s = √(a + b + t²)`; the factor that tends to
/// 0 in a tail is taken as `(a+b)/(s(s+|t|))`, so that it keeps its digits.
#[derive(Clone, Copy, Debug)]
pub struct SkewStudentT;

impl SkewStudentT {
    /// `SkewStudentT(a, b, mu, sigma)`; each parameter may be a constant, a `Var` or an
    /// expression.
    #[allow(clippy::new_ret_no_self)]
    pub fn new(a: impl Into<Expr>, b: impl Into<Expr>, mu: impl Into<Expr>, sigma: impl Into<Expr>) -> Dist {
        Dist { kind: super::DistKind::SkewStudentT, params: vec![a.into(), b.into(), mu.into(), sigma.into()] }
    }
}

/// The terms that read `a` and `b` only: `−(a+b−1) ln 2 − ln B(a, b) − ln(a+b)/2`.
fn log_norm(a: f64, b: f64) -> f64 {
    -(a + b - 1.0) * LN_2 - ln_beta_fn(a, b) - 0.5 * (a + b).ln()
}

impl Family for SkewStudentT {
    const NAME: &'static str = "skew_student_t";
    const PARAMS: &'static [(&'static str, Domain)] = &[
        ("a", Domain::Positive),
        ("b", Domain::Positive),
        ("mu", Domain::Real),
        ("sigma", Domain::Positive),
    ];
    const SUPPORT: Support = Support::Real;
    const WGSL: &'static str = include_str!("../../../shaders/dist/skew_student_t.wgsl");
    const EXAMPLES: &'static [&'static [f64]] =
        &[&[2.0, 3.0, 0.0, 1.0], &[1.5, 1.5, 2.0, 0.5], &[8.0, 2.0, -3.0, 2.0], &[1.2, 6.0, 0.0, 1.0]];
    // The Γ and ψ terms read `a` and `b` alone: evaluated once per density where both are
    // scalars.
    const NORMALIZER_PARAMS: &'static [usize] = &[0, 1];

    /// For `a, b > 1`: `E t = (a − b)√(a+b)/2 · Γ(a − ½)Γ(b − ½)/(Γ(a)Γ(b))` and
    /// `E t² = (a+b)((a − b)² + a + b − 2)/(4(a − 1)(b − 1))` (Jones & Faddy 2003).
    fn moments(p: &[f64]) -> Option<(f64, f64)> {
        let (a, b, mu, sigma) = (p[0], p[1], p[2], p[3]);
        if !(a > 1.0 && b > 1.0) {
            return None;
        }
        let lg = libm::lgamma;
        let m1 = (a - b) * (a + b).sqrt() / 2.0 * (lg(a - 0.5) + lg(b - 0.5) - lg(a) - lg(b)).exp();
        let m2 = (a + b) * ((a - b).powi(2) + a + b - 2.0) / (4.0 * (a - 1.0) * (b - 1.0));
        Some((mu + sigma * m1, sigma * sigma * (m2 - m1 * m1)))
    }

    fn lpdf(x: f64, p: &[f64]) -> f64 {
        Self::lpdf_grad(x, p, &mut [0.0; 5])
    }

    fn lpdf_grad(x: f64, p: &[f64], g: &mut [f64]) -> f64 {
        super::lpdf_grad_from_split::<Self>(x, p, g)
    }

    fn log_normalizer(p: &[f64]) -> f64 {
        log_norm(p[0], p[1])
    }

    /// `∂/∂a = −ln 2 − ψ(a) + ψ(a+b) − 1/(2(a+b))`, and `∂/∂b` likewise.
    fn log_normalizer_grad(p: &[f64], g: &mut [f64]) -> f64 {
        let (a, b) = (p[0], p[1]);
        let common = digamma(a + b) - 0.5 / (a + b) - LN_2;
        g[1] = common - digamma(a);
        g[2] = common - digamma(b);
        log_norm(a, b)
    }

    /// `−ln σ + (a+½) ln(1 + t/s) + (b+½) ln(1 − t/s)`. With `d` its derivative in `t`
    /// (`(a+½)(a+b)/(s²(s+t)) − (b+½)(s+t)/s²` for `t ≥ 0`, mirrored below 0): `∂/∂x = d/σ`,
    /// `∂/∂μ = −d/σ`, `∂/∂σ = −(1 + td)/σ`, `∂/∂a = ln(1 + t/s) − td/(2(a+b))` and
    /// `∂/∂b = ln(1 − t/s) − td/(2(a+b))` (`s` moves with `a` and `b`).
    fn kernel_grad(x: f64, p: &[f64], g: &mut [f64]) -> f64 {
        if !x.is_finite() {
            g[..5].fill(0.0);
            return f64::NEG_INFINITY;
        }
        let (a, b, mu, sigma) = (p[0], p[1], p[2], p[3]);
        let (ha, hb, ab) = (a + 0.5, b + 0.5, a + b);
        let t = (x - mu) / sigma;
        let r = t.abs();
        // `s` without overflowing `t²` (beyond 10¹⁵⁴).
        let s = if r > 1.0 { r * (1.0 + ab / r / r).sqrt() } else { (ab + r * r).sqrt() };
        // The factor that falls in the tail, `(a+b)/(s(s+|t|))`, and the one that rises,
        // `1 + |t|/s`, with the derivative of the log density in `t`.
        let (ln_small, ln_large) = (ab.ln() - s.ln() - (s + r).ln(), (r / s).ln_1p());
        let (toward, away) = (ab / s / s / (s + r), (1.0 + r / s) / s);
        let (ln_plus, ln_minus, d) = if t >= 0.0 {
            (ln_large, ln_small, ha * toward - hb * away)
        } else {
            (ln_small, ln_large, ha * away - hb * toward)
        };
        let td = t * d;
        g[1] = ln_plus - td / (2.0 * ab);
        g[2] = ln_minus - td / (2.0 * ab);
        g[0] = d / sigma;
        g[3] = -d / sigma;
        g[4] = -(1.0 + td) / sigma;
        -sigma.ln() + ha * ln_plus + hb * ln_minus
    }

    /// `t = √(a+b)(2y − 1)/(2√(y(1 − y)))` for `y ~ Beta(a, b)`, written with `y = gₐ/(gₐ + g_b)`
    /// for gamma draws `gₐ ~ Gamma(a)`, `g_b ~ Gamma(b)` as `√(a+b)(gₐ − g_b)/(2√gₐ√g_b)`, which
    /// keeps its digits where `y` is near 0 or 1.
    fn sample<R: Rng + ?Sized>(p: &[f64], rng: &mut R) -> f64 {
        let (Ok(ga), Ok(gb)) = (rand_distr::Gamma::new(p[0], 1.0), rand_distr::Gamma::new(p[1], 1.0)) else {
            return f64::NAN;
        };
        let (ya, yb): (f64, f64) = (ga.sample(rng), gb.sample(rng));
        let t = (p[0] + p[1]).sqrt() * (ya - yb) / (2.0 * ya.sqrt() * yb.sqrt());
        p[2] + p[3] * t
    }
}
