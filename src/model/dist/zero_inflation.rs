//! Zero inflation, shared by the zero-inflated families: a base count family mixed with a
//! point mass at zero. With probability `ψ` (PyMC's `psi`) a draw comes from the base
//! family, otherwise it is 0:
//!
//! `p(0) = (1 − ψ) + ψ p_b(0)`, `p(x) = ψ p_b(x)` for `x > 0`.
//!
//! The parameters are `[ψ, base parameters…]`, so the base's partials move one place up.
//! The base's data-only term (`−ln x!`, `ln C(n, x)`) is 0 at `x = 0`, so it stays the
//! zero-inflated family's normaliser. `shaders/special.wgsl` mirrors [`kernel_grad`]
//! (`zero_inflate`).

use rand::Rng;

use super::logspace::log_add_exp;
use super::{Family, std_uniform};

/// The base's parameters within `p = [ψ, base…]` (a padded `p` may run on).
pub(super) fn base<B: Family>(p: &[f64]) -> &[f64] {
    &p[1..=B::PARAMS.len()]
}

/// The kernel of zero-inflated `B` at `x` with `p = [ψ, base…]`; writes `∂/∂ψ` to `g[1]` and
/// the base's partials to `g[2..]`.
///
/// At 0, `ln((1 − ψ) + ψ e^{k_b})` with `∂/∂ψ = (e^{k_b} − 1)/p(0)` and the base's partials
/// weighted by `w = ψ e^{k_b}/p(0)`, the share of the zeros that come from the base.
pub(crate) fn kernel_grad<B: Family>(x: f64, p: &[f64], g: &mut [f64]) -> f64 {
    let k = B::PARAMS.len();
    let n = k + 2;
    g[..n].fill(0.0);
    if !B::in_support(x, base::<B>(p)) {
        return f64::NEG_INFINITY;
    }
    let psi = p[0];
    let mut gb = [0.0; 4];
    let kb = B::kernel_grad(x, base::<B>(p), &mut gb);
    if x > 0.0 {
        g[1] = 1.0 / psi;
        g[2..n].copy_from_slice(&gb[1..=k]);
        return psi.ln() + kb;
    }
    let l = log_add_exp((-psi).ln_1p(), psi.ln() + kb);
    if l == f64::NEG_INFINITY {
        return l;
    }
    g[1] = kb.exp_m1() * (-l).exp();
    let w = (psi.ln() + kb - l).exp();
    // No zeros from the base (its mass at 0 is 0, or underflows): its partials do not count.
    // At such a boundary (a binomial's p = 1) the one-sided partial is dropped; a parameter
    // reaches it only through a saturated transform, whose own derivative there is 0.
    if w > 0.0 {
        g[2..n].iter_mut().zip(&gb[1..]).for_each(|(g, d)| *g = w * d);
    }
    l
}

/// The base's data-only term at `x` (`−ln x!`, `ln C(n, x)`): 0 at `x = 0`, so it is the
/// zero-inflated family's too. The wrapper relies on it: a base family's `kernel_grad` is its
/// log density less a term of `x` and data alone, with no normaliser of its parameters.
pub(crate) fn log_normalizer_at<B: Family>(x: f64, p: &[f64]) -> f64 {
    B::log_normalizer_at(x, base::<B>(p))
}

/// One draw: 0 with probability `1 − ψ`, else a draw of the base.
pub(crate) fn sample<B: Family, R: Rng + ?Sized>(p: &[f64], rng: &mut R) -> f64 {
    if std_uniform(rng) < p[0] { B::sample(base::<B>(p), rng) } else { 0.0 }
}

/// Mean `ψ m` and variance `ψ v + ψ (1 − ψ) m²` from the base's `(m, v)`.
pub(crate) fn moments<B: Family>(p: &[f64]) -> Option<(f64, f64)> {
    let psi = p[0];
    B::moments(base::<B>(p)).map(|(m, v)| (psi * m, psi * v + psi * (1.0 - psi) * m * m))
}

/// The [`Family`] items a family wrapping a base count family shares (the zero-inflated and
/// hurdle families): `$wrapper` (`zero_inflation` or `hurdle`) gives the kernel, the sampler
/// and the moments over the base `$base`, whose data-only term is the normaliser.
macro_rules! wrapped_count_rules {
    ($wrapper:ident, $base:ty) => {
        fn moments(p: &[f64]) -> Option<(f64, f64)> {
            super::$wrapper::moments::<$base>(p)
        }

        fn lpdf(x: f64, p: &[f64]) -> f64 {
            Self::lpdf_grad(x, p, &mut [0.0; 5])
        }

        fn lpdf_grad(x: f64, p: &[f64], g: &mut [f64]) -> f64 {
            super::lpdf_grad_with_data_term::<Self>(x, p, g)
        }

        fn sample<R: Rng + ?Sized>(p: &[f64], rng: &mut R) -> f64 {
            super::$wrapper::sample::<$base, R>(p, rng)
        }

        const NORMALIZER_READS_X: bool = true;

        fn log_normalizer_at(x: f64, p: &[f64]) -> f64 {
            super::zero_inflation::log_normalizer_at::<$base>(x, p)
        }

        fn kernel_grad(x: f64, p: &[f64], g: &mut [f64]) -> f64 {
            super::$wrapper::kernel_grad::<$base>(x, p, g)
        }
    };
}
pub(crate) use wrapped_count_rules;
