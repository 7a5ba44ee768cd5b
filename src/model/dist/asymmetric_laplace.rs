//! AsymmetricLaplace(kappa, mu, b), the likelihood of Bayesian quantile regression.

use rand::Rng;

use super::{Dist, Domain, Family, Support, std_uniform};
use crate::model::expr::Expr;

/// Asymmetric Laplace distribution with asymmetry `kappa > 0`, location `mu` and rate `b > 0`,
/// as PyMC's `AsymmetricLaplace(kappa, mu, b)` and scipy's
/// `laplace_asymmetric(kappa, loc=mu, scale=1/b)`.
///
/// `log p(x) = ln b − ln(κ + 1/κ) − b κ (x − μ)` for `x ≥ μ` and `… + b (x − μ)/κ` below; `μ`
/// is the `κ²/(1 + κ²)` quantile. [`AsymmetricLaplace::quantile`] sets `κ = √(q/(1 − q))` so
/// that `μ` is the `q` quantile: the likelihood of Bayesian quantile regression.
#[derive(Clone, Copy, Debug)]
pub struct AsymmetricLaplace;

impl AsymmetricLaplace {
    /// `AsymmetricLaplace(kappa, mu, b)`; each parameter may be a constant, a `Var` or an
    /// expression.
    #[allow(clippy::new_ret_no_self)]
    pub fn new(kappa: impl Into<Expr>, mu: impl Into<Expr>, b: impl Into<Expr>) -> Dist {
        Dist { kind: super::DistKind::AsymmetricLaplace, params: vec![kappa.into(), mu.into(), b.into()] }
    }

    /// PyMC's `AsymmetricLaplace(q=q, mu=mu, b=b)`: `mu` is the `q` quantile (`0 < q < 1`),
    /// `κ = √(q/(1 − q))`. A `q` outside (0, 1) makes `κ` NaN, which validation reports as
    /// `kappa` out of its domain (model files name `q`).
    pub fn quantile(q: impl Into<Expr>, mu: impl Into<Expr>, b: impl Into<Expr>) -> Dist {
        Self::new(kappa_of_quantile(q.into()), mu, b)
    }
}

/// `κ = √(q/(1 − q))`: the asymmetry that makes the location the `q` quantile.
pub(crate) fn kappa_of_quantile(q: Expr) -> Expr {
    (q.clone() / (1.0 - q)).sqrt()
}

impl Family for AsymmetricLaplace {
    const NAME: &'static str = "asymmetric_laplace";
    const PARAMS: &'static [(&'static str, Domain)] =
        &[("kappa", Domain::Positive), ("mu", Domain::Real), ("b", Domain::Positive)];
    const SUPPORT: Support = Support::Real;
    const WGSL: &'static str = include_str!("../../../shaders/dist/asymmetric_laplace.wgsl");
    const EXAMPLES: &'static [&'static [f64]] = &[&[1.0, 0.0, 1.0], &[0.3, 2.0, 0.5], &[4.0, -10.0, 20.0]];

    /// Mean `μ + (1 − κ²)/(κb)`, variance `(1 + κ⁴)/(κ²b²)`.
    fn moments(p: &[f64]) -> Option<(f64, f64)> {
        let (k, mu, b) = (p[0], p[1], p[2]);
        Some((mu + (1.0 - k * k) / (k * b), (1.0 + k.powi(4)) / (k * k * b * b)))
    }

    /// Below `μ` where `κ ≥ 1` (mass `κ²/(1 + κ²) ≥ 1/2` there): `μ + (κ/b) ln((1 + κ²)/(2κ²))`;
    /// above it otherwise: `μ + ln(2/(1 + κ²))/(bκ)`.
    fn median(p: &[f64]) -> Option<f64> {
        let (k, mu, b) = (p[0], p[1], p[2]);
        let k2 = k * k;
        if k >= 1.0 {
            Some(mu + k / b * ((1.0 + k2) / (2.0 * k2)).ln())
        } else {
            Some(mu + (2.0 / (1.0 + k2)).ln() / (b * k))
        }
    }

    fn lpdf(x: f64, p: &[f64]) -> f64 {
        let mut g = [0.0; 4];
        Self::lpdf_grad(x, p, &mut g)
    }

    /// With `d = x − μ` and `c = ln(κ + 1/κ)`, `∂c/∂κ = 2κ/(1 + κ²) − 1/κ`: above `μ`,
    /// `∂/∂x = −bκ`, `∂/∂κ = −∂c/∂κ − bd`, `∂/∂b = 1/b − κd`; below, `∂/∂x = b/κ`,
    /// `∂/∂κ = −∂c/∂κ − bd/κ²`, `∂/∂b = 1/b + d/κ`; `∂/∂μ = −∂/∂x`; at `x = μ`, `∂/∂x` is the mean
    /// of the two sides, `b(1/κ − κ)/2`.
    fn lpdf_grad(x: f64, p: &[f64], g: &mut [f64]) -> f64 {
        if !Self::in_support(x, p) {
            g[..4].fill(0.0);
            return f64::NEG_INFINITY;
        }
        let (k, mu, b) = (p[0], p[1], p[2]);
        let d = x - mu;
        let c = (k * k).ln_1p() - k.ln();
        let dc = 2.0 * k / (1.0 + k * k) - 1.0 / k;
        let (v, dx, dk, db) = if d > 0.0 {
            (-b * k * d, -b * k, -dc - b * d, 1.0 / b - k * d)
        } else if d < 0.0 {
            (b * d / k, b / k, -dc - b * d / (k * k), 1.0 / b + d / k)
        } else {
            // At the kink, the mean of the two one-sided slopes (Laplace's 0).
            (0.0, 0.5 * b * (1.0 / k - k), -dc, 1.0 / b)
        };
        g[0] = dx;
        g[1] = dk;
        g[2] = -dx;
        g[3] = db;
        b.ln() - c + v
    }

    /// Above `μ` with probability `1/(1 + κ²)`, an exponential of rate `bκ`; below, one of
    /// rate `b/κ`.
    fn sample<R: Rng + ?Sized>(p: &[f64], rng: &mut R) -> f64 {
        let (k, mu, b) = (p[0], p[1], p[2]);
        let e = -(1.0 - std_uniform(rng)).ln();
        if std_uniform(rng) * (1.0 + k * k) < 1.0 { mu + e / (b * k) } else { mu - e * k / b }
    }
}
