//! Normal(mu, sigma) truncated above at `upper`.

use rand::Rng;

use super::normal_cdf::{sample_truncated_normal, truncated_normal, truncated_normal_moments};
use super::{Domain, Family, Support, std_uniform};

/// Normal(`mu`, `sigma`) truncated above at `upper`: support `(−∞, upper)` (built by
/// [`TruncatedNormal::upper`](super::TruncatedNormal::upper)). Parameters are stored bound first:
/// `upper, mu, sigma`.
#[derive(Clone, Copy, Debug)]
pub struct TruncatedNormalUpper;

impl Family for TruncatedNormalUpper {
    const NAME: &'static str = "truncated_normal_upper";
    const PARAMS: &'static [(&'static str, Domain)] =
        &[("upper", Domain::Real), ("mu", Domain::Real), ("sigma", Domain::Positive)];
    const SUPPORT: Support = Support::Below;
    const WGSL: &'static str = include_str!("../../../shaders/dist/truncated_normal_upper.wgsl");
    const EXAMPLES: &'static [&'static [f64]] = &[&[1.0, 0.0, 1.0], &[-2.0, 0.0, 1.0], &[-9.0, 0.0, 1.0], &[0.0, -3.0, 0.5]];

    fn moments(p: &[f64]) -> Option<(f64, f64)> {
        Some(truncated_normal_moments(p[1], p[2], (f64::NEG_INFINITY, p[0]), false, true))
    }

    fn lpdf(x: f64, p: &[f64]) -> f64 {
        if !Self::in_support(x, p) {
            return f64::NEG_INFINITY;
        }
        truncated_normal(x, p[1], p[2], (f64::NEG_INFINITY, p[0]), false, true).0
    }

    fn lpdf_grad(x: f64, p: &[f64], g: &mut [f64]) -> f64 {
        if !Self::in_support(x, p) {
            g[..4].fill(0.0);
            return f64::NEG_INFINITY;
        }
        let (v, d) = truncated_normal(x, p[1], p[2], (f64::NEG_INFINITY, p[0]), false, true);
        g[..4].copy_from_slice(&[d[0], d[4], d[1], d[2]]);
        v
    }

    fn sample<R: Rng + ?Sized>(p: &[f64], rng: &mut R) -> f64 {
        sample_truncated_normal(p[1], p[2], f64::NEG_INFINITY, p[0], std_uniform(rng))
    }
}
