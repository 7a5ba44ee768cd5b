//! Hurdles, shared by the hurdle families: a base family conditioned on being positive, mixed
//! with a point mass at zero. With probability `ψ` (PyMC's `psi`, the chance of clearing the
//! hurdle) a draw is positive, from the base conditioned on being positive; otherwise it is 0.
//! For a count base (truncated to `{1, 2, …}`):
//!
//! `p(0) = 1 − ψ`, `p(x) = ψ p_b(x) / (1 − p_b(0))` for `x > 0`;
//!
//! a continuous base on `(0, ∞)` ([`continuous_lpdf_grad`]) puts no mass at 0 and is not
//! truncated.
//!
//! Unlike zero inflation, every zero comes from the hurdle, so the zeros inform `ψ` alone.
//! The parameters are `[ψ, base parameters…]`, so the base's partials move one place up. The
//! base's data-only term (`−ln x!`) is 0 at `x = 0`, so it stays the hurdle family's
//! normaliser ([`zero_inflation::log_normalizer_at`](super::zero_inflation::log_normalizer_at)).
//! `shaders/special.wgsl` mirrors [`kernel_grad`] (`hurdle`) and [`continuous_lpdf_grad`]
//! (`continuous_hurdle`).

use rand::Rng;

use super::logspace::log1mexp;
use super::zero_inflation::base;
use super::{Family, std_uniform};

/// Every hurdle's log mass at 0, `ln(1 − ψ)`, with `∂/∂ψ = −1/(1 − ψ)` written to `g[1]`.
fn at_zero(psi: f64, g: &mut [f64]) -> f64 {
    g[1] = -1.0 / (1.0 - psi);
    (-psi).ln_1p()
}

/// The kernel of hurdle `B` at `x` with `p = [ψ, base…]`; writes `∂/∂ψ` to `g[1]` and the
/// base's partials to `g[2..]`.
///
/// At 0, `ln(1 − ψ)`. Above 0, `ln ψ + k_b(x) − ln(1 − e^{k_b(0)})`, where `k_b(0) = ln p_b(0)`
/// (the base's data term is 0 there); the truncation's partials are the base's at 0 times
/// `1/(e^{−k_b(0)} − 1)`. A base with all its mass at 0 has no positive draws: −∞ (NaN
/// parameters give NaN).
pub(crate) fn kernel_grad<B: Family>(x: f64, p: &[f64], g: &mut [f64]) -> f64 {
    let k = B::PARAMS.len();
    let n = k + 2;
    g[..n].fill(0.0);
    if !B::in_support(x, base::<B>(p)) {
        return f64::NEG_INFINITY;
    }
    let psi = p[0];
    if x == 0.0 {
        return at_zero(psi, g);
    }
    let (mut gx, mut g0) = ([0.0; 4], [0.0; 4]);
    let kx = B::kernel_grad(x, base::<B>(p), &mut gx);
    let k0 = B::kernel_grad(0.0, base::<B>(p), &mut g0);
    if k0.is_nan() {
        return f64::NAN;
    }
    if k0 >= 0.0 {
        return f64::NEG_INFINITY;
    }
    let r = 1.0 / (-k0).exp_m1();
    g[1] = 1.0 / psi;
    for j in 0..k {
        g[2 + j] = gx[1 + j] + r * g0[1 + j];
    }
    psi.ln() + kx - log1mexp(k0)
}

/// The log density of a hurdle over a continuous base `B` (HurdleGamma, HurdleLogNormal) at
/// `x` with `p = [ψ, base…]`: a mass `1 − ψ` at 0 beside `ψ` times the base's density above it
/// (the base puts no mass at 0, so nothing is truncated). Writes `∂/∂x` (the base's, above 0)
/// to `g[0]`, `∂/∂ψ` to `g[1]` and the base's partials to `g[2..]`. Its draws and moments are
/// zero inflation's ([`zero_inflation::sample`](super::zero_inflation::sample),
/// [`zero_inflation::moments`](super::zero_inflation::moments)): the same law when the base
/// has no mass at 0.
pub(crate) fn continuous_lpdf_grad<B: Family>(x: f64, p: &[f64], g: &mut [f64]) -> f64 {
    let k = B::PARAMS.len();
    g[..k + 2].fill(0.0);
    let psi = p[0];
    if x == 0.0 {
        return at_zero(psi, g);
    }
    let mut gb = [0.0; 4];
    let lb = B::lpdf_grad(x, base::<B>(p), &mut gb);
    if lb == f64::NEG_INFINITY {
        return lb;
    }
    g[0] = gb[0];
    g[1] = 1.0 / psi;
    g[2..k + 2].copy_from_slice(&gb[1..=k]);
    psi.ln() + lb
}

/// Rejection tries before a truncated draw walks the base's distribution function instead.
const REJECTIONS: usize = 1000;

/// Steps the walk takes at most: a draw beyond (a base whose positive mass lies this far out,
/// behind a mass at 0 above 0.995) is returned as this bound.
const WALK: f64 = 1_048_576.0;

/// The base's mass above 0, `1 − p_b(0)`, for base parameters `b`.
fn positive_mass<B: Family>(b: &[f64]) -> f64 {
    -(B::lpdf(0.0, b)).exp_m1()
}

/// One draw: 0 with probability `1 − ψ`, else a draw of the base conditioned on `x > 0`: the
/// base's draws until one is positive, or, where the base puts nearly all its mass at 0, the
/// inverse of the truncated distribution function walked up from 1.
pub(crate) fn sample<B: Family, R: Rng + ?Sized>(p: &[f64], rng: &mut R) -> f64 {
    if std_uniform(rng) >= p[0] {
        return 0.0;
    }
    let b = base::<B>(p);
    for _ in 0..REJECTIONS {
        let x = B::sample(b, rng);
        if x != 0.0 {
            return x;
        }
    }
    let positive = positive_mass::<B>(b);
    if !positive.is_finite() {
        return f64::NAN;
    }
    let target = std_uniform(rng) * positive;
    let mut total = 0.0;
    let mut x = 1.0;
    while x < WALK {
        let mass = B::lpdf(x, b).exp();
        if mass.is_nan() {
            return f64::NAN;
        }
        total += mass;
        if total >= target {
            break;
        }
        x += 1.0;
    }
    x
}

/// Mean `ψ m/(1 − p₀)` and variance `ψ (v + m²)/(1 − p₀) − mean²` from the base's `(m, v)` and
/// mass at 0, `p₀`.
pub(crate) fn moments<B: Family>(p: &[f64]) -> Option<(f64, f64)> {
    let (psi, b) = (p[0], base::<B>(p));
    let positive = positive_mass::<B>(b);
    if positive.is_nan() || positive <= 0.0 {
        return None;
    }
    B::moments(b).map(|(m, v)| {
        let mean = psi * m / positive;
        (mean, psi * (v + m * m) / positive - mean * mean)
    })
}

/// The [`Family`] items of a hurdle over a continuous base `$base` (HurdleGamma,
/// HurdleLogNormal): the density of [`continuous_lpdf_grad`], and zero inflation's draws and
/// moments (the same law, as the base puts no mass at 0).
macro_rules! continuous_hurdle_rules {
    ($base:ty) => {
        fn moments(p: &[f64]) -> Option<(f64, f64)> {
            super::zero_inflation::moments::<$base>(p)
        }

        fn lpdf(x: f64, p: &[f64]) -> f64 {
            Self::lpdf_grad(x, p, &mut [0.0; 5])
        }

        fn lpdf_grad(x: f64, p: &[f64], g: &mut [f64]) -> f64 {
            super::hurdle::continuous_lpdf_grad::<$base>(x, p, g)
        }

        fn sample<R: Rng + ?Sized>(p: &[f64], rng: &mut R) -> f64 {
            super::zero_inflation::sample::<$base, R>(p, rng)
        }
    };
}
pub(crate) use continuous_hurdle_rules;

#[cfg(test)]
mod tests {
    use rand::SeedableRng;
    use rand::rngs::StdRng;

    use super::super::{Family, NegativeBinomial, Poisson};

    /// Where the base's positive mass is too small for rejection, the walk of the truncated
    /// distribution function gives the same law: a Poisson of mean 1e-5 conditioned on being
    /// positive is 1 but for 1 draw in 2·10⁵; a negative binomial with `α = 10⁻⁴` (mass
    /// 8.5·10⁻⁴ above 0) mixes both paths, and its mean matches the truncated law's.
    #[test]
    fn truncated_draws_where_rejection_gives_up() {
        let mut rng = StdRng::seed_from_u64(5);
        assert!((0..200).all(|_| super::sample::<Poisson, _>(&[1.0, 1e-5], &mut rng) == 1.0));
        let p = [1.0, 0.5, 1e-4];
        let (mean, var) = super::moments::<NegativeBinomial>(&p).unwrap();
        let n = 4000;
        let draws: Vec<f64> = (0..n).map(|_| super::sample::<NegativeBinomial, _>(&p, &mut rng)).collect();
        assert!(draws.iter().all(|&x| x >= 1.0));
        let m = draws.iter().sum::<f64>() / n as f64;
        let se = (var / n as f64).sqrt();
        assert!((m - mean).abs() < 4.5 * se, "mean {m} vs {mean} ± {se}");
        // The truncated law's mean: μ / (1 − p_b(0)).
        let p0 = NegativeBinomial::lpdf(0.0, &p[1..]).exp();
        assert!((mean - 0.5 / (1.0 - p0)).abs() < 1e-9 * mean);
    }
}
