//! Uniform(lower, upper).

use rand::Rng;
use rand_distr::{Distribution, Open01};

use super::{Dist, Domain, Family, Support};
use crate::model::expr::Expr;

/// Continuous uniform distribution on `(lower, upper)`, `lower < upper`.
///
/// `log p(x) = -ln(upper - lower)` inside the interval, `-∞` outside.
#[derive(Clone, Copy, Debug)]
pub struct Uniform;

impl Uniform {
    /// `Uniform(lower, upper)`; each bound may be a constant, a `Var` or an expression.
    #[allow(clippy::new_ret_no_self)]
    pub fn new(lower: impl Into<Expr>, upper: impl Into<Expr>) -> Dist {
        Dist { kind: super::DistKind::Uniform, params: vec![lower.into(), upper.into()] }
    }
}

impl Family for Uniform {
    const NAME: &'static str = "uniform";
    const PARAMS: &'static [(&'static str, Domain)] = &[("lower", Domain::Real), ("upper", Domain::Real)];
    const SUPPORT: Support = Support::Interval;
    const WGSL: &'static str = include_str!("../../../shaders/dist/uniform.wgsl");
    const EXAMPLES: &'static [&'static [f64]] = &[&[-1.0, 3.0], &[1e3, 1e3 + 1e-3]];

    fn moments(p: &[f64]) -> Option<(f64, f64)> {
        Some((0.5 * (p[0] + p[1]), (p[1] - p[0]).powi(2) / 12.0))
    }

    fn check_params(p: &[f64]) -> Result<(), &'static str> {
        if p[0] >= p[1] {
            Err("lower must be less than upper")
        } else if !(p[1] - p[0]).is_finite() {
            // The density 1/(upper − lower) and the interval transform need the width.
            Err("upper − lower must be finite (the width overflows f64)")
        } else {
            Ok(())
        }
    }

    fn lpdf(x: f64, p: &[f64]) -> f64 {
        if !Self::in_support(x, p) {
            return f64::NEG_INFINITY;
        }
        -(p[1] - p[0]).ln()
    }

    fn lpdf_grad(x: f64, p: &[f64], g: &mut [f64]) -> f64 {
        if !Self::in_support(x, p) {
            g[..3].fill(0.0);
            return f64::NEG_INFINITY;
        }
        let width = p[1] - p[0];
        let inv_width = 1.0 / width;
        g[0] = 0.0;
        g[1] = inv_width;
        g[2] = -inv_width;
        -width.ln()
    }

    fn sample<R: Rng + ?Sized>(p: &[f64], rng: &mut R) -> f64 {
        let (lower, upper) = (p[0], p[1]);
        let u: f64 = Open01.sample(rng);
        let x = lower + (upper - lower) * u;
        // Rounding can land on a bound; the support is open, so fall back to the midpoint.
        if x > lower && x < upper { x } else { lower + 0.5 * (upper - lower) }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bounds_must_be_ordered_with_a_finite_width() {
        assert_eq!(Uniform::check_params(&[2.0, 1.0]), Err("lower must be less than upper"));
        assert!(Uniform::check_params(&[1.0, 1.0]).is_err());
        assert!(Uniform::check_params(&[-1e308, 1e308]).is_err());
        assert_eq!(Uniform::check_params(&[1.0, 2.0]), Ok(()));
    }
}
