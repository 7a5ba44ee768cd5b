//! Censoring, shared by the censored families (PyMC's `pm.Censored(dist, lower, upper)`): a
//! base family whose values below `lower` are recorded as `lower` and above `upper` as
//! `upper`. An observation at a bound says only that the value lies beyond it, so it weighs
//! the base's mass there:
//!
//! `ln p(x) = ln F(lower)` at `x = lower`, `ln(1 − F(upper))` at `x = upper`, and the base's
//! `ln f(x)` in between,
//!
//! with `F` the base's distribution function ([`Cdf`]). Survival times cut off by the end of a
//! study (right-censored), measurements below a detection limit (left-censored) and Tobit
//! regressions are written this way. The bounds are data, per observation or shared, and
//! `∓∞` where there is none ([`censoring_bound`]). The parameters are
//! `[lower, upper, base parameters…]`, bounds first as every interval family's are, so the
//! base's partials move two places up. `shaders/special.wgsl` mirrors [`lpdf_grad`]
//! (`censored_terms`).

use rand::Rng;

use super::{Dist, DistKind, Family};
use crate::error::{Error, Result};
use crate::model::expr::Expr;

/// A base family's distribution function on the log scale, for censoring.
pub(crate) trait Cdf: Family {
    /// `ln F(x) = ln P(X ≤ x)`; writes `∂/∂x` to `g[0]` and `∂/∂p[i]` to `g[1 + i]`.
    fn log_cdf_grad(x: f64, p: &[f64], g: &mut [f64]) -> f64;

    /// `ln(1 − F(x)) = ln P(X > x)`, the survival function; the same layout.
    fn log_sf_grad(x: f64, p: &[f64], g: &mut [f64]) -> f64;
}

/// Each base family with its censored family.
const BASES: [(DistKind, DistKind); 4] = [
    (DistKind::Normal, DistKind::CensoredNormal),
    (DistKind::LogNormal, DistKind::CensoredLogNormal),
    (DistKind::Exponential, DistKind::CensoredExponential),
    (DistKind::Weibull, DistKind::CensoredWeibull),
];

/// The base's parameters: `p` without the bounds.
fn base(p: &[f64]) -> &[f64] {
    &p[2..]
}

/// The log density of base `B` censored to `[p[0], p[1]]` at `x`, with `p = [lower, upper,
/// base…]`: `ln F(lower)` at the lower bound (its `∂/∂x` is `∂/∂lower`, in `g[1]`),
/// `ln(1 − F(upper))` at the upper one (`∂/∂upper`, in `g[2]`), the base's log density in
/// between (`∂/∂x` in `g[0]`), and −∞ outside. The base's partials go to `g[3..]`.
pub(crate) fn lpdf_grad<B: Cdf>(x: f64, p: &[f64], g: &mut [f64]) -> f64 {
    let k = B::PARAMS.len();
    g[..k + 3].fill(0.0);
    let (lower, upper) = (p[0], p[1]);
    if !(x.is_finite() && x >= lower && x <= upper) {
        return f64::NEG_INFINITY;
    }
    let mut gb = [0.0; 4];
    let (value, slot) = if x == lower {
        (B::log_cdf_grad(lower, base(p), &mut gb), 1)
    } else if x == upper {
        (B::log_sf_grad(upper, base(p), &mut gb), 2)
    } else {
        (B::lpdf_grad(x, base(p), &mut gb), 0)
    };
    g[slot] = gb[0];
    g[3..k + 3].copy_from_slice(&gb[1..=k]);
    value
}

/// Whether `x` is a value of base `B` censored to `[p[0], p[1]]`: the upper bound, the lower
/// bound where the base has mass below it (not a positive base's bound at or below 0), or a
/// value of the base's support between them. The bases' supports are fixed, so this reads
/// the bounds alone (validation checks data against constant bounds this way).
pub(crate) fn in_support<B: Family>(x: f64, p: &[f64]) -> bool {
    let inside = x > p[0] && x < p[1] && B::SUPPORT.contains_fixed(x);
    x.is_finite() && ((x == p[0] && B::SUPPORT.contains_fixed(x)) || x == p[1] || inside)
}

/// One draw: the base's, moved to the nearer bound when beyond it.
pub(crate) fn sample<B: Family, R: Rng + ?Sized>(p: &[f64], rng: &mut R) -> f64 {
    B::sample(base(p), rng).max(p[0]).min(p[1])
}

/// The median: the base's, moved to the nearer bound when beyond it (censoring moves no mass
/// across the median unless the median is censored).
pub(crate) fn median<B: Family>(p: &[f64]) -> Option<f64> {
    B::median(base(p)).map(|m| m.max(p[0]).min(p[1]))
}

/// The [`Family`] items of base `$base` censored to `[lower, upper]`.
macro_rules! censored_rules {
    ($base:ty) => {
        fn check_params(p: &[f64]) -> Result<(), &'static str> {
            if p[0] < p[1] { Ok(()) } else { Err("lower must be below upper") }
        }

        fn in_support(x: f64, p: &[f64]) -> bool {
            super::censoring::in_support::<$base>(x, p)
        }

        fn median(p: &[f64]) -> Option<f64> {
            super::censoring::median::<$base>(p)
        }

        fn lpdf(x: f64, p: &[f64]) -> f64 {
            Self::lpdf_grad(x, p, &mut [0.0; 7])
        }

        fn lpdf_grad(x: f64, p: &[f64], g: &mut [f64]) -> f64 {
            super::censoring::lpdf_grad::<$base>(x, p, g)
        }

        fn sample<R: Rng + ?Sized>(p: &[f64], rng: &mut R) -> f64 {
            super::censoring::sample::<$base, R>(p, rng)
        }
    };
}
pub(crate) use censored_rules;

/// A censoring bound as the censored families store it: `−∞` (no lower bound) becomes
/// `−f32::MAX` and `∞` becomes `f32::MAX`, values beyond every observation both backends can
/// hold, so that every constant stays finite. A constant expression is evaluated first; in one
/// that reads nodes, the constants written in it are mapped. The density is the same: an observation strictly inside the bounds
/// never reads them.
pub fn censoring_bound(bound: impl Into<Expr>) -> Expr {
    let finite = |v: f64| if v.is_infinite() { v.signum() * f32::MAX as f64 } else { v };
    let bound: Expr = bound.into();
    // A constant bound (`2 · where(alive, t, inf)`) is evaluated first, so that ∞ passes
    // through its arithmetic; otherwise the constants written in it are mapped.
    match bound.eval_const() {
        Some(c) if c.vector => Expr::data(c.values.into_iter().map(finite).collect::<Vec<_>>()),
        Some(c) => Expr::constant(finite(c.values[0])),
        None => bound.map_constants(finite),
    }
}

/// PyMC's `pm.Censored(dist, lower, upper)`: values of `dist` below `lower` are recorded as
/// `lower` and above `upper` as `upper`.
///
/// The bounds are data (a number or a vector, one per observation); `f64::NEG_INFINITY` and
/// `f64::INFINITY` mean no bound, as `None` does in PyMC. The base may be a Normal (a Tobit
/// regression), LogNormal, Exponential or Weibull (survival times); each has its own family
/// ([`CensoredNormal`](super::CensoredNormal), …). Censored values can only be observed.
///
/// ```
/// use exmc::prelude::*;
/// # fn main() -> exmc::Result<()> {
/// let mut m = Model::new();
/// let log_scale = m.rv("log_scale", Normal::new(1.0, 1.0))?;
/// let alpha = m.rv("alpha", Gamma::new(2.0, 1.0))?;
/// // Survival times; the last two subjects were still alive when the study ended at 10.
/// let time = [2.3, 7.1, 4.4, 10.0, 10.0];
/// let end = [f64::INFINITY, f64::INFINITY, f64::INFINITY, 10.0, 10.0];
/// let dist = Censored::new(Weibull::new(alpha, log_scale.exp()), f64::NEG_INFINITY, &end[..])?;
/// m.observe("time", dist, &time)?;
/// # Ok(())
/// # }
/// ```
pub struct Censored;

impl Censored {
    /// `dist` censored to `[lower, upper]`; a typed error for a base without a censored
    /// family.
    #[allow(clippy::new_ret_no_self)]
    pub fn new(dist: Dist, lower: impl Into<Expr>, upper: impl Into<Expr>) -> Result<Dist> {
        let Some(&(_, kind)) = BASES.iter().find(|(b, _)| *b == dist.kind) else {
            return Err(Error::InvalidExpression(format!(
                "Censored: no censored form of {} (Normal, LogNormal, Exponential and Weibull have one)",
                dist.kind.name()
            )));
        };
        let mut params = vec![censoring_bound(lower), censoring_bound(upper)];
        params.extend(dist.params);
        Ok(Dist { kind, params })
    }
}

#[cfg(test)]
mod tests {
    use rand::SeedableRng;
    use rand::rngs::StdRng;

    use super::super::{DistKind, Family, Normal, Weibull};
    use super::*;

    /// The share of draws at each bound is the base's mass beyond it, `F(lower)` and
    /// `1 − F(upper)`, within 5 binomial standard errors, for every censored family's examples.
    #[test]
    fn draws_pile_up_at_the_bounds_with_the_base_mass_beyond() {
        let n = 20_000;
        for &kind in DistKind::SCALAR.iter().filter(|k| k.support() == super::super::Support::Censored) {
            for (i, p) in kind.examples().iter().enumerate() {
                let mut rng = StdRng::seed_from_u64(11 + i as u64);
                let draws: Vec<f64> = (0..n).map(|_| kind.sample(p, &mut rng)).collect();
                for (bound, at) in [(p[0], 0), (p[1], 1)] {
                    let want = kind.lpdf(bound, p).exp();
                    let got = draws.iter().filter(|&&x| x == bound).count() as f64 / n as f64;
                    let se = (want * (1.0 - want) / n as f64).sqrt().max(1.0 / n as f64);
                    assert!(
                        (got - want).abs() < 5.0 * se,
                        "{} {p:?} bound {at}: {got} vs {want}",
                        kind.name()
                    );
                }
            }
        }
    }

    /// At a bound the value is the bound, so `∂/∂lower` (and `∂/∂upper`) is the derivative of
    /// `ln F` (`ln(1 − F)`) along the bound and the value together: checked by central
    /// differences of the density with both moved, for every censored family's examples and
    /// bounds placed where the base has mass on both sides.
    #[test]
    fn a_bound_partial_is_the_distribution_function_derivative() {
        for &kind in DistKind::SCALAR.iter().filter(|k| k.support() == super::super::Support::Censored) {
            for p in kind.examples() {
                let m = kind.median(p).unwrap();
                for (slot, at) in [(1, 0.6 * m), (2, 1.7 * m)] {
                    let mut q = p.to_vec();
                    q[0] = if slot == 1 { at } else { -(f32::MAX as f64) };
                    q[1] = if slot == 2 { at } else { f32::MAX as f64 };
                    let mut g = vec![0.0; q.len() + 1];
                    kind.lpdf_grad(at, &q, &mut g);
                    let h = 1e-6 * at.abs().max(1e-3);
                    let moved = |d: f64| {
                        let mut r = q.clone();
                        r[slot - 1] = at + d;
                        kind.lpdf(at + d, &r)
                    };
                    let fd = (moved(h) - moved(-h)) / (2.0 * h);
                    assert!(
                        (fd - g[slot]).abs() < 1e-6 * g[slot].abs().max(1.0),
                        "{} {q:?}: {fd} vs {}",
                        kind.name(),
                        g[slot]
                    );
                    assert_eq!(g[0], 0.0);
                }
            }
        }
    }

    /// A Weibull's `ln F` at a bound far below its scale is `α ln(x/β)` to first order, finite
    /// where `(x/β)^α` underflows, with partials `(α/x, ln(x/β), −α/β)`; the two sides of the
    /// switch to that form agree.
    #[test]
    fn a_weibull_lower_bound_far_below_the_scale_stays_finite() {
        let (a, b) = (8.0f64, 1.0f64);
        for al in [-50.0f64, -800.0, -5000.0] {
            let x = (al / a).exp() * b;
            let p = [x, f32::MAX as f64, a, b];
            let mut g = [0.0; 5];
            let v = DistKind::CensoredWeibull.lpdf_grad(x, &p, &mut g);
            let l = (x / b).ln();
            assert!((v - a * l).abs() < 1e-9 * v.abs(), "{al}: {v} vs {}", a * l);
            for (got, want) in [(g[1], a / x), (g[3], l), (g[4], -a / b)] {
                assert!((got - want).abs() < 1e-9 * want.abs(), "{al}: {got} vs {want}");
            }
        }
        // Just past the switch, the first-order form is the exact `ln(1 − e^{−u})`.
        let al = -30.0 - 1e-9;
        let x = (al / a).exp() * b;
        let u = al.exp();
        let exact = (-(-u).exp_m1()).ln();
        let got = DistKind::CensoredWeibull.lpdf(x, &[x, f32::MAX as f64, a, b]);
        assert!((got - exact).abs() < 1e-13 * exact.abs(), "{got} vs {exact}");
    }

    #[test]
    fn infinite_bounds_are_stored_finite_and_unsupported_bases_are_typed_errors() {
        let d = Censored::new(Normal::new(0.0, 1.0), f64::NEG_INFINITY, vec![1.0, f64::INFINITY]).unwrap();
        assert_eq!(d.kind, DistKind::CensoredNormal);
        assert_eq!(d.params[0].eval_const().unwrap().values, vec![-(f32::MAX as f64)]);
        assert_eq!(d.params[1].eval_const().unwrap().values, vec![1.0, f32::MAX as f64]);
        // ∞ passes through a constant bound's arithmetic before it is stored.
        let doubled = censoring_bound(Expr::data(vec![1.0, f64::INFINITY]) * 2.0);
        assert_eq!(doubled.eval_const().unwrap().values, vec![2.0, f32::MAX as f64]);
        let e = Censored::new(super::super::Gamma::new(2.0, 1.0), 0.0, 5.0).unwrap_err();
        assert!(e.to_string().contains("no censored form of gamma"), "{e}");
        // A value strictly inside never reads the bounds: the density is the base's.
        let p = [-(f32::MAX as f64), 4.0, 1.5, 2.0];
        let x = 1.3;
        let want = Weibull::lpdf(x, &p[2..]);
        assert_eq!(DistKind::CensoredWeibull.lpdf(x, &p), want);
    }
}
