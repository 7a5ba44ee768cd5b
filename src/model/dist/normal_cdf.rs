//! The standard normal CDF on the log scale, for families that integrate a normal density
//! (SkewNormal, TruncatedNormal, OrderedProbit, ExGaussian): `ln Φ(t)` accurate in both tails,
//! and the inverse Mills ratio `φ(t)/Φ(t)`, its derivative. `shaders/special.wgsl` mirrors both
//! (`log_ndtr_r`, `mills_r`).

use std::f64::consts::FRAC_1_SQRT_2;

use super::HALF_LN_2PI;
use super::logspace::log1mexp;

/// Below this, `ln Φ(t)` comes from its asymptotic series (Abramowitz & Stegun 26.2.12),
/// whose ninth term is below 10⁻¹⁶ of the sum there.
pub(crate) const ASYMPTOTIC_BELOW: f64 = -20.0;

/// `ln Φ(t)`: `ln(1 − Q(t))` through `ln_1p` for t > 0 (no cancellation near 0), `ln(erfc/2)`
/// on (−20, 0], and `−t²/2 − ln(−t) − ln(2π)/2 + ln Σ (−1)ᵏ (2k−1)!! / t²ᵏ` below.
pub(crate) fn log_ndtr(t: f64) -> f64 {
    if t > 0.0 {
        (-0.5 * libm::erfc(t * FRAC_1_SQRT_2)).ln_1p()
    } else if t > ASYMPTOTIC_BELOW {
        (0.5 * libm::erfc(-t * FRAC_1_SQRT_2)).ln()
    } else if t.is_finite() {
        -0.5 * t * t - (-t).ln() - HALF_LN_2PI + series(t).ln()
    } else {
        f64::NEG_INFINITY
    }
}

/// `ln Φ(t) + t²/2` and its derivative `φ(t)/Φ(t) + t` in the left tail (`t ≤
/// ASYMPTOTIC_BELOW`), where `ln Φ(t)` is near `−t²/2`: `−ln(−t) − ln(2π)/2 + ln series(t)` and
/// `t (series(t) − 1)/series(t)` (`series(t) − 1` summed on its own, so that it keeps its
/// digits where it is tiny), without the two large terms that cancel (ExGaussian).
pub(crate) fn log_ndtr_plus_half_square(t: f64) -> (f64, f64) {
    let r = series_rest(t);
    (-(-t).ln() - HALF_LN_2PI + r.ln_1p(), t * r / (1.0 + r))
}

/// `Σ (−1)ᵏ (2k−1)!! / t²ᵏ = 1 − 1/t² + 3/t⁴ − …`, nine terms, evaluated from the last:
/// `Φ(t) = φ(t)/(−t) · series(t)` far in the left tail.
fn series(t: f64) -> f64 {
    1.0 + series_rest(t)
}

/// `series(t) − 1 = −1/t² + 3/t⁴ − …`.
fn series_rest(t: f64) -> f64 {
    let w = 1.0 / (t * t);
    let mut s = 0.0;
    for k in (1..=8).rev() {
        s = -(2.0 * k as f64 - 1.0) * w * (1.0 + s);
    }
    s
}

/// The inverse Mills ratio `φ(t)/Φ(t) = d ln Φ(t)/dt`: `φ(t)/Φ(t)` directly where Φ comes
/// from erfc, and `−t / series(t)` in the left tail (no cancellation of two huge logs).
pub(crate) fn mills(t: f64) -> f64 {
    let phi = (-0.5 * t * t - HALF_LN_2PI).exp();
    if t > 0.0 {
        phi / (1.0 - 0.5 * libm::erfc(t * FRAC_1_SQRT_2))
    } else if t > ASYMPTOTIC_BELOW {
        phi / (0.5 * libm::erfc(-t * FRAC_1_SQRT_2))
    } else {
        -t / series(t)
    }
}

/// `ln Φ(z)` (`upper` false) or `ln(1 − Φ(z)) = ln Φ(−z)` (`upper` true), with its derivative
/// in `z`: the censored normal and log-normal's bound terms.
pub(crate) fn log_tail(z: f64, upper: bool) -> (f64, f64) {
    if upper { (log_ndtr(-z), -mills(-z)) } else { (log_ndtr(z), mills(z)) }
}

/// `ln Z = ln(Φ(β) − Φ(α))` for `α < β`, with `φ(α)/Z` and `φ(β)/Z`; `lo`/`hi` say whether
/// each bound exists (a missing one is ∓∞ and its ratio 0). Two-sided masses are formed in
/// the lower tail (by symmetry when `α > 0`), where `ln Φ` keeps its digits.
pub(crate) fn normal_mass(alpha: f64, beta: f64, lo: bool, hi: bool) -> (f64, f64, f64) {
    let phi_over = |t: f64, lz: f64| (-0.5 * t * t - HALF_LN_2PI - lz).exp();
    match (lo, hi) {
        (true, false) => (log_ndtr(-alpha), mills(-alpha), 0.0),
        (false, true) => (log_ndtr(beta), 0.0, mills(beta)),
        (false, false) => (0.0, 0.0, 0.0),
        (true, true) => {
            let lz = if alpha > 0.0 {
                let la = log_ndtr(-alpha);
                la + log1mexp(log_ndtr(-beta) - la)
            } else {
                let lb = log_ndtr(beta);
                lb + log1mexp(log_ndtr(alpha) - lb)
            };
            (lz, phi_over(alpha, lz), phi_over(beta, lz))
        }
    }
}

/// The truncation terms shared by the density and the moments: `ln Z`, `r_a = φ(α)/Z`,
/// `r_b = φ(β)/Z`, and `α r_a`, `β r_b` (0 for a missing bound, whose α or β is infinite).
struct Mass {
    lz: f64,
    ra: f64,
    rb: f64,
    at: f64,
    bt: f64,
}

impl Mass {
    fn new(mu: f64, inv_sigma: f64, bounds: (f64, f64), lo: bool, hi: bool) -> Mass {
        let (alpha, beta) = ((bounds.0 - mu) * inv_sigma, (bounds.1 - mu) * inv_sigma);
        let (lz, ra, rb) = normal_mass(alpha, beta, lo, hi);
        let at = if lo { alpha * ra } else { 0.0 };
        let bt = if hi { beta * rb } else { 0.0 };
        Mass { lz, ra, rb, at, bt }
    }
}

/// Log density of a normal truncated to `(lower, upper)` (either bound may be missing: `lo`,
/// `hi`) and its partials `[x, mu, sigma, lower, upper]`, for `x` inside the bounds.
/// `log p = −ln σ − ln(2π)/2 − z²/2 − ln Z`; with `r_a = φ(α)/Z`, `r_b = φ(β)/Z`:
/// `∂μ = (z − r_a + r_b)/σ`, `∂σ = (z² − 1 − α r_a + β r_b)/σ`, `∂lower = r_a/σ`,
/// `∂upper = −r_b/σ`.
pub(crate) fn truncated_normal(
    x: f64,
    mu: f64,
    sigma: f64,
    bounds: (f64, f64),
    lo: bool,
    hi: bool,
) -> (f64, [f64; 5]) {
    let inv_sigma = 1.0 / sigma;
    let z = (x - mu) * inv_sigma;
    let Mass { lz, ra, rb, at, bt } = Mass::new(mu, inv_sigma, bounds, lo, hi);
    let v = -sigma.ln() - HALF_LN_2PI - 0.5 * z * z - lz;
    (
        v,
        [
            -z * inv_sigma,
            (z - ra + rb) * inv_sigma,
            (z * z - 1.0 - at + bt) * inv_sigma,
            ra * inv_sigma,
            -rb * inv_sigma,
        ],
    )
}

/// Mean and variance of a normal truncated to `(lower, upper)`:
/// `μ + σ(r_a − r_b)` and `σ²(1 + α r_a − β r_b − (r_a − r_b)²)`.
pub(crate) fn truncated_normal_moments(
    mu: f64,
    sigma: f64,
    bounds: (f64, f64),
    lo: bool,
    hi: bool,
) -> (f64, f64) {
    let Mass { ra, rb, at, bt, .. } = Mass::new(mu, 1.0 / sigma, bounds, lo, hi);
    (mu + sigma * (ra - rb), sigma * sigma * (1.0 + at - bt - (ra - rb).powi(2)))
}

/// A draw from a normal truncated to `(lower, upper)` by the inverse CDF at `u ∈ (0, 1)`,
/// computed in the lower tail (reflected when the interval lies right of the mean), where Φ
/// and `erfc⁻¹` are accurate; where the interval's mass underflows (beyond ~37 sd) the tail is
/// its exponential limit, `exp(b·(y − b))` below `b`.
pub(crate) fn sample_truncated_normal(mu: f64, sigma: f64, lower: f64, upper: f64, u: f64) -> f64 {
    let (mut a, mut b) = ((lower - mu) / sigma, (upper - mu) / sigma);
    let flip = a > 0.0;
    if flip {
        (a, b) = (-b, -a);
    }
    let ndtr = |t: f64| 0.5 * libm::erfc(-t * FRAC_1_SQRT_2);
    let (pa, pb) = (ndtr(a), ndtr(b));
    let mut y = if pb > pa {
        let p = pa + u * (pb - pa);
        -std::f64::consts::SQRT_2 * statrs::function::erf::erfc_inv(2.0 * p)
    } else {
        // b ≪ 0: density ∝ exp(b(y − b)) on (a, b), an exponential of rate −b, truncated at a.
        let rate = -b;
        let span = (b - a).min(f64::MAX);
        b + (-u * -(-rate * span).exp_m1()).ln_1p() / rate
    };
    // Rounding at a bound: step inside.
    if y <= a {
        y = a.next_up();
    } else if y >= b {
        y = b.next_down();
    }
    if flip {
        y = -y;
    }
    mu + sigma * y
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_known_values_and_its_derivative() {
        // scipy.special.log_ndtr at these points.
        for (t, want) in [
            (0.0, -std::f64::consts::LN_2),
            (1.0, -0.1727537790234499),
            (-1.0, -1.8410216450092634),
            (-10.0, -53.23128515051248),
            (-19.9, -201.91716770733265),
            (-20.1, -205.92711840194826),
            (-40.0, -804.6084420137539),
            (8.0, -6.220960574271742e-16),
        ] {
            let got = log_ndtr(t);
            assert!((got - want).abs() <= 1e-14 * want.abs().max(1e-300) + 1e-300, "{t}: {got} vs {want}");
        }
        for t in [-45.0, -20.0, -3.0, 0.0, 0.7, 5.0] {
            let h = 1e-6 * f64::max(1.0, f64::abs(t));
            let fd = (log_ndtr(t + h) - log_ndtr(t - h)) / (2.0 * h);
            assert!((mills(t) - fd).abs() <= 1e-7 * fd.abs().max(1e-3), "{t}: {} vs {fd}", mills(t));
        }
    }
}
