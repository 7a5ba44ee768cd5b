//! Normal(mu, sigma).

use rand::Rng;

use super::censoring::Cdf;
use super::normal_cdf::log_tail;
use super::{Dist, Domain, Family, HALF_LN_2PI, Support, std_normal};
use crate::model::expr::Expr;

/// Normal distribution with location `mu` and scale `sigma > 0`.
///
/// `log p(x) = -ln σ - ln(2π)/2 - z²/2` with `z = (x - μ)/σ`.
#[derive(Clone, Copy, Debug)]
pub struct Normal;

impl Normal {
    /// `Normal(mu, sigma)`; each parameter may be a constant, a `Var` or an expression.
    #[allow(clippy::new_ret_no_self)]
    pub fn new(mu: impl Into<Expr>, sigma: impl Into<Expr>) -> Dist {
        Dist { kind: super::DistKind::Normal, params: vec![mu.into(), sigma.into()] }
    }
}

impl Family for Normal {
    const NAME: &'static str = "normal";
    const PARAMS: &'static [(&'static str, Domain)] = &[("mu", Domain::Real), ("sigma", Domain::Positive)];
    const SUPPORT: Support = Support::Real;
    const WGSL: &'static str = include_str!("../../../shaders/dist/normal.wgsl");
    const EXAMPLES: &'static [&'static [f64]] = &[&[1.5, 2.0], &[-100.0, 0.01]];

    fn moments(p: &[f64]) -> Option<(f64, f64)> {
        Some((p[0], p[1] * p[1]))
    }

    fn median(p: &[f64]) -> Option<f64> {
        Some(p[0])
    }

    fn lpdf(x: f64, p: &[f64]) -> f64 {
        let (mu, sigma) = (p[0], p[1]);
        let z = (x - mu) / sigma;
        -0.5 * z * z - sigma.ln() - HALF_LN_2PI
    }

    fn lpdf_grad(x: f64, p: &[f64], g: &mut [f64]) -> f64 {
        let (mu, sigma) = (p[0], p[1]);
        let inv_sigma = 1.0 / sigma;
        let z = (x - mu) * inv_sigma;
        let dz = z * inv_sigma; // shared by d/dx and d/dmu
        g[0] = -dz;
        g[1] = dz;
        g[2] = (z * z - 1.0) * inv_sigma;
        -0.5 * z * z - sigma.ln() - HALF_LN_2PI
    }

    fn sample<R: Rng + ?Sized>(p: &[f64], rng: &mut R) -> f64 {
        p[0] + p[1] * std_normal(rng)
    }

    gaussian_scale_split!(kernel_grad_inv);
}

/// The split of a family whose normaliser is its scale's `−ln σ − ln(2π)/2` (σ is parameter 1,
/// partial `−1/σ`) and whose kernel `$kernel(x, μ, 1/σ, g)` takes `1/σ`, shared over the
/// elements where σ is (`kernel_shared`). Normal and LogNormal use it.
macro_rules! gaussian_scale_split {
    ($kernel:path) => {
        const NORMALIZER_PARAMS: &'static [usize] = &[1];

        fn log_normalizer(p: &[f64]) -> f64 {
            -p[1].ln() - super::HALF_LN_2PI
        }

        fn log_normalizer_grad(p: &[f64], g: &mut [f64]) -> f64 {
            g[2] = -1.0 / p[1];
            Self::log_normalizer(p)
        }

        fn kernel_grad(x: f64, p: &[f64], g: &mut [f64]) -> f64 {
            $kernel(x, p[0], 1.0 / p[1], g)
        }

        fn kernel_shared(p: &[f64]) -> [f64; 2] {
            [1.0 / p[1], 0.0]
        }

        #[inline]
        fn kernel_grad_shared(x: f64, p: &[f64], shared: &[f64; 2], g: &mut [f64]) -> f64 {
            $kernel(x, p[0], shared[0], g)
        }
    };
}
pub(crate) use gaussian_scale_split;

/// The kernel `-z²/2` and its partials given `1/σ`.
#[inline(always)]
fn kernel_grad_inv(x: f64, mu: f64, inv_sigma: f64, g: &mut [f64]) -> f64 {
    let z = (x - mu) * inv_sigma;
    let dz = z * inv_sigma;
    g[0] = -dz;
    g[1] = dz;
    g[2] = z * z * inv_sigma;
    -0.5 * z * z
}

/// `ln Φ(z)` and `ln(1 − Φ(z))` of `z = (x − μ)/σ` with `m` their derivative in `z`:
/// `∂/∂x = m/σ`, `∂/∂μ = −m/σ`, `∂/∂σ = −m z/σ` (LogNormal's at `ln x`).
pub(crate) fn normal_tail_grad(x: f64, p: &[f64], g: &mut [f64], upper: bool) -> f64 {
    let inv_sigma = 1.0 / p[1];
    let z = (x - p[0]) * inv_sigma;
    let (v, m) = log_tail(z, upper);
    g[0] = m * inv_sigma;
    g[1] = -m * inv_sigma;
    g[2] = -m * z * inv_sigma;
    v
}

impl Cdf for Normal {
    fn log_cdf_grad(x: f64, p: &[f64], g: &mut [f64]) -> f64 {
        normal_tail_grad(x, p, g, false)
    }

    fn log_sf_grad(x: f64, p: &[f64], g: &mut [f64]) -> f64 {
        normal_tail_grad(x, p, g, true)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kernel_plus_normalizer_is_the_density() {
        for (x, mu, sigma) in [(0.3, -1.0, 0.5), (12.0, 2.0, 7.0), (-3.0, 0.0, 1e-3)] {
            let p = [mu, sigma];
            let (mut g, mut k) = ([0.0; 3], [0.0; 3]);
            let full = Normal::lpdf_grad(x, &p, &mut g);
            let kernel = Normal::kernel_grad(x, &p, &mut k);
            assert!((kernel + Normal::log_normalizer(&p) - full).abs() <= 1e-12 * full.abs().max(1.0));
            assert_eq!(g[..2], k[..2]);
            assert!((k[2] - 1.0 / sigma - g[2]).abs() <= 1e-12 * g[2].abs().max(1.0));
        }
    }
}
