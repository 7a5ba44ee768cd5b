//! HalfStudentT(nu, sigma).

use std::f64::consts::LN_2;

use rand::Rng;
use rand_distr::Distribution;
use statrs::function::gamma::digamma;

use super::{Dist, Domain, Family, LN_PI, Support};
use crate::model::expr::Expr;

/// `ln 2 + ln Γ((ν+1)/2) − ln Γ(ν/2) − ln(νπ)/2 − ln σ`.
fn log_norm(nu: f64, sigma: f64) -> f64 {
    LN_2 + libm::lgamma(0.5 * nu + 0.5) - libm::lgamma(0.5 * nu) - 0.5 * (nu.ln() + LN_PI) - sigma.ln()
}

/// Half Student-t distribution on `(0, ∞)` with `nu > 0` degrees of freedom and scale
/// `sigma > 0`: the absolute value of a `StudentT(nu, 0, sigma)` (PyMC's names).
///
/// `log p(x) = ln 2 + ln Γ((ν+1)/2) − ln Γ(ν/2) − ln(νπ)/2 − ln σ − (ν+1)/2 · ln(1 + z²/ν)`,
/// `z = x/σ`.
#[derive(Clone, Copy, Debug)]
pub struct HalfStudentT;

impl HalfStudentT {
    /// `HalfStudentT(nu, sigma)`.
    #[allow(clippy::new_ret_no_self)]
    pub fn new(nu: impl Into<Expr>, sigma: impl Into<Expr>) -> Dist {
        Dist { kind: super::DistKind::HalfStudentT, params: vec![nu.into(), sigma.into()] }
    }
}

impl Family for HalfStudentT {
    const NAME: &'static str = "half_student_t";
    const PARAMS: &'static [(&'static str, Domain)] = &[("nu", Domain::Positive), ("sigma", Domain::Positive)];
    const SUPPORT: Support = Support::Positive;
    const WGSL: &'static str = include_str!("../../../shaders/dist/half_student_t.wgsl");
    const EXAMPLES: &'static [&'static [f64]] = &[&[3.0, 1.0], &[30.0, 2.5], &[2.5, 0.01]];

    /// For ν > 2: mean `2σ √(ν/π) Γ((ν+1)/2) / (Γ(ν/2)(ν − 1))`, variance `σ²ν/(ν − 2) − mean²`.
    fn moments(p: &[f64]) -> Option<(f64, f64)> {
        let (nu, sigma) = (p[0], p[1]);
        (nu > 2.0).then(|| {
            let mean = 2.0 * sigma * (nu / std::f64::consts::PI).sqrt()
                * (libm::lgamma(0.5 * nu + 0.5) - libm::lgamma(0.5 * nu)).exp()
                / (nu - 1.0);
            (mean, sigma * sigma * nu / (nu - 2.0) - mean * mean)
        })
    }

    fn lpdf(x: f64, p: &[f64]) -> f64 {
        if !Self::in_support(x, p) {
            return f64::NEG_INFINITY;
        }
        let (nu, sigma) = (p[0], p[1]);
        let z = x / sigma;
        log_norm(nu, sigma) - (0.5 * nu + 0.5) * (z * z / nu).ln_1p()
    }

    /// With `w = (ν + 1)/(ν + z²)`: `∂/∂x = −wz/σ`, `∂/∂σ = (wz² − 1)/σ`,
    /// `∂/∂ν = (ψ((ν+1)/2) − ψ(ν/2) − 1/ν − ln(1 + z²/ν) + wz²/ν)/2`.
    fn lpdf_grad(x: f64, p: &[f64], g: &mut [f64]) -> f64 {
        if !Self::in_support(x, p) {
            g[..3].fill(0.0);
            return f64::NEG_INFINITY;
        }
        let (nu, sigma) = (p[0], p[1]);
        let inv_sigma = 1.0 / sigma;
        let z = x * inv_sigma;
        let z2 = z * z;
        let half_nu = 0.5 * nu;
        let log1p_t = (z2 / nu).ln_1p();
        let w = (nu + 1.0) / (nu + z2);
        g[0] = -w * z * inv_sigma;
        g[1] = 0.5 * (digamma(half_nu + 0.5) - digamma(half_nu) - 1.0 / nu - log1p_t + w * z2 / nu);
        g[2] = (w * z2 - 1.0) * inv_sigma;
        log_norm(nu, sigma) - (half_nu + 0.5) * log1p_t
    }

    fn sample<R: Rng + ?Sized>(p: &[f64], rng: &mut R) -> f64 {
        let t = rand_distr::StudentT::new(p[0]).expect("half_student_t parameters in their domains");
        (p[1] * t.sample(rng)).abs().max(f64::MIN_POSITIVE)
    }
}
