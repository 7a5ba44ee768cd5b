//! TruncatedNormal(mu, sigma, lower, upper): both bounds.

use rand::Rng;

use super::normal_cdf::{sample_truncated_normal, truncated_normal, truncated_normal_moments};
use super::{Dist, Domain, Family, Support, std_uniform};
use crate::model::expr::Expr;

/// Normal(`mu`, `sigma`) truncated to `(lower, upper)` (PyMC's `TruncatedNormal`, Stan's
/// `normal(mu, sigma) T[lower, upper]`); the bounds may be expressions of other parameters.
/// One-sided forms: [`TruncatedNormal::lower`] and [`TruncatedNormal::upper`].
///
/// `log p(x) = −ln σ − ln(2π)/2 − z²/2 − ln(Φ(β) − Φ(α))`, `z = (x − μ)/σ`,
/// `α = (lower − μ)/σ`, `β = (upper − μ)/σ`. Parameters are stored bounds first
/// (`lower, upper, mu, sigma`), as every interval family's are.
#[derive(Clone, Copy, Debug)]
pub struct TruncatedNormal;

impl TruncatedNormal {
    /// `TruncatedNormal(mu, sigma, lower, upper)`.
    #[allow(clippy::new_ret_no_self)]
    pub fn new(mu: impl Into<Expr>, sigma: impl Into<Expr>, lower: impl Into<Expr>, upper: impl Into<Expr>) -> Dist {
        Dist {
            kind: super::DistKind::TruncatedNormal,
            params: vec![lower.into(), upper.into(), mu.into(), sigma.into()],
        }
    }

    /// Normal(`mu`, `sigma`) truncated below at `lower`: support `(lower, ∞)`.
    pub fn lower(mu: impl Into<Expr>, sigma: impl Into<Expr>, lower: impl Into<Expr>) -> Dist {
        Dist { kind: super::DistKind::TruncatedNormalLower, params: vec![lower.into(), mu.into(), sigma.into()] }
    }

    /// Normal(`mu`, `sigma`) truncated above at `upper`: support `(−∞, upper)`.
    pub fn upper(mu: impl Into<Expr>, sigma: impl Into<Expr>, upper: impl Into<Expr>) -> Dist {
        Dist { kind: super::DistKind::TruncatedNormalUpper, params: vec![upper.into(), mu.into(), sigma.into()] }
    }
}

impl Family for TruncatedNormal {
    const NAME: &'static str = "truncated_normal";
    const PARAMS: &'static [(&'static str, Domain)] = &[
        ("lower", Domain::Real),
        ("upper", Domain::Real),
        ("mu", Domain::Real),
        ("sigma", Domain::Positive),
    ];
    const SUPPORT: Support = Support::Interval;
    const WGSL: &'static str = include_str!("../../../shaders/dist/truncated_normal.wgsl");
    const EXAMPLES: &'static [&'static [f64]] =
        &[&[-1.0, 2.0, 0.0, 1.0], &[3.0, 3.5, 0.0, 1.0], &[-9.0, -8.0, 0.0, 1.0], &[0.0, 100.0, 1.0, 5.0]];

    fn check_params(p: &[f64]) -> Result<(), &'static str> {
        if p[0] < p[1] { Ok(()) } else { Err("lower must be below upper") }
    }

    fn moments(p: &[f64]) -> Option<(f64, f64)> {
        Some(truncated_normal_moments(p[2], p[3], (p[0], p[1]), true, true))
    }

    fn lpdf(x: f64, p: &[f64]) -> f64 {
        if !Self::in_support(x, p) {
            return f64::NEG_INFINITY;
        }
        truncated_normal(x, p[2], p[3], (p[0], p[1]), true, true).0
    }

    fn lpdf_grad(x: f64, p: &[f64], g: &mut [f64]) -> f64 {
        if !Self::in_support(x, p) {
            g[..5].fill(0.0);
            return f64::NEG_INFINITY;
        }
        let (v, d) = truncated_normal(x, p[2], p[3], (p[0], p[1]), true, true);
        g[..5].copy_from_slice(&[d[0], d[3], d[4], d[1], d[2]]);
        v
    }

    fn sample<R: Rng + ?Sized>(p: &[f64], rng: &mut R) -> f64 {
        sample_truncated_normal(p[2], p[3], p[0], p[1], std_uniform(rng))
    }
}
