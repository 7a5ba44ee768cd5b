//! Triangular(lower, c, upper).

use rand::Rng;

use super::{Dist, Domain, Family, Support, std_uniform};
use crate::model::expr::Expr;

/// Triangular distribution on `(lower, upper)` with its mode at `c`, `lower ≤ c ≤ upper`, as
/// PyMC's `Triangular(lower, c, upper)` and scipy's
/// `triang((c − lower)/(upper − lower), loc=lower, scale=upper − lower)`.
///
/// `log p(x) = ln 2 + ln(x − l) − ln(u − l) − ln(c − l)` below the mode and
/// `ln 2 + ln(u − x) − ln(u − l) − ln(u − c)` from it on. The parameters are stored
/// `[lower, upper, c]`, so that the support is [`Support::Interval`] with its bounds first (a free
/// triangular variable is `lower + (upper − lower)·logistic(u)`); the builder and model files
/// take PyMC's names and order.
#[derive(Clone, Copy, Debug)]
pub struct Triangular;

impl Triangular {
    /// `Triangular(lower, c, upper)`; each parameter may be a constant, a `Var` or an
    /// expression.
    #[allow(clippy::new_ret_no_self)]
    pub fn new(lower: impl Into<Expr>, c: impl Into<Expr>, upper: impl Into<Expr>) -> Dist {
        Dist { kind: super::DistKind::Triangular, params: vec![lower.into(), upper.into(), c.into()] }
    }
}

impl Family for Triangular {
    const NAME: &'static str = "triangular";
    const PARAMS: &'static [(&'static str, Domain)] =
        &[("lower", Domain::Real), ("upper", Domain::Real), ("c", Domain::Real)];
    const SUPPORT: Support = Support::Interval;
    const WGSL: &'static str = include_str!("../../../shaders/dist/triangular.wgsl");
    const EXAMPLES: &'static [&'static [f64]] = &[&[0.0, 1.0, 0.5], &[-2.0, 10.0, 9.5], &[5.0, 6.0, 5.01]];

    fn check_params(p: &[f64]) -> Result<(), &'static str> {
        if p[0] >= p[1] {
            Err("lower must be less than upper")
        } else if !(p[1] - p[0]).is_finite() {
            Err("upper − lower must be finite (the width overflows f64)")
        } else if !(p[0] <= p[2] && p[2] <= p[1]) {
            Err("c must lie in [lower, upper]")
        } else {
            Ok(())
        }
    }

    /// Mean `(l + u + c)/3`, variance `(l² + u² + c² − lu − lc − uc)/18`, written with the
    /// distances from `l` so that a far-off interval keeps its digits.
    fn moments(p: &[f64]) -> Option<(f64, f64)> {
        let (l, u, c) = (p[0], p[1], p[2]);
        let (a, b) = (u - l, c - l);
        Some((l + (a + b) / 3.0, (a * a + b * b - a * b) / 18.0))
    }

    fn median(p: &[f64]) -> Option<f64> {
        let (l, u, c) = (p[0], p[1], p[2]);
        Some(if 2.0 * c >= l + u {
            l + ((u - l) * (c - l) / 2.0).sqrt()
        } else {
            u - ((u - l) * (u - c) / 2.0).sqrt()
        })
    }

    fn lpdf(x: f64, p: &[f64]) -> f64 {
        Self::lpdf_grad(x, p, &mut [0.0; 4])
    }

    /// Below the mode: `∂/∂x = 1/(x − l)`, `∂/∂l = −1/(x − l) + 1/(u − l) + 1/(c − l)`,
    /// `∂/∂u = −1/(u − l)`, `∂/∂c = −1/(c − l)`; from it on: `∂/∂x = −1/(u − x)`,
    /// `∂/∂l = 1/(u − l)`, `∂/∂u = 1/(u − x) − 1/(u − l) − 1/(u − c)`, `∂/∂c = 1/(u − c)`.
    /// `−∞` with zero partials outside the support, and for a mode outside `[lower, upper]`
    /// (a random mode: PyMC's `check_parameters` gives `−∞` there too).
    fn lpdf_grad(x: f64, p: &[f64], g: &mut [f64]) -> f64 {
        g[..4].fill(0.0);
        if !(Self::in_support(x, p) && p[0] <= p[2] && p[2] <= p[1]) {
            return f64::NEG_INFINITY;
        }
        let (l, u, c) = (p[0], p[1], p[2]);
        let w = u - l;
        if x < c {
            let (dx, dc) = (x - l, c - l);
            g[0] = 1.0 / dx;
            g[1] = -1.0 / dx + 1.0 / w + 1.0 / dc;
            g[2] = -1.0 / w;
            g[3] = -1.0 / dc;
            std::f64::consts::LN_2 + (dx / (w * dc)).ln()
        } else {
            let (dx, dc) = (u - x, u - c);
            g[0] = -1.0 / dx;
            g[1] = 1.0 / w;
            g[2] = 1.0 / dx - 1.0 / w - 1.0 / dc;
            g[3] = 1.0 / dc;
            std::f64::consts::LN_2 + (dx / (w * dc)).ln()
        }
    }

    /// The inverse of the distribution function at a uniform draw; NaN for parameters outside
    /// their rules (a prior predictive draw of random bounds).
    fn sample<R: Rng + ?Sized>(p: &[f64], rng: &mut R) -> f64 {
        let (l, u, c) = (p[0], p[1], p[2]);
        if Self::check_params(p).is_err() {
            return f64::NAN;
        }
        let v = std_uniform(rng);
        let x = if v * (u - l) < c - l {
            l + (v * (u - l) * (c - l)).sqrt()
        } else {
            u - ((1.0 - v) * (u - l) * (u - c)).sqrt()
        };
        // A draw on a bound (v = 0, or rounding) moved inside the open interval (max and min:
        // a width of one ulp has no inside).
        x.max(l.next_up()).min(u.next_down())
    }
}
