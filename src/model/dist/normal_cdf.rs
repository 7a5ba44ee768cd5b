//! The standard normal CDF on the log scale, for families that integrate a normal density
//! (SkewNormal): `ln Φ(t)` accurate in both tails, and the inverse Mills ratio `φ(t)/Φ(t)`,
//! its derivative. `shaders/special.wgsl` mirrors both (`log_ndtr_r`, `mills_r`).

use std::f64::consts::FRAC_1_SQRT_2;

use super::HALF_LN_2PI;

/// Below this, `ln Φ(t)` comes from its asymptotic series (Abramowitz & Stegun 26.2.12),
/// whose ninth term is below 10⁻¹⁶ of the sum there.
const ASYMPTOTIC_BELOW: f64 = -20.0;

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

/// `Σ (−1)ᵏ (2k−1)!! / t²ᵏ = 1 − 1/t² + 3/t⁴ − …`, nine terms, evaluated from the last:
/// `Φ(t) = φ(t)/(−t) · series(t)` far in the left tail.
fn series(t: f64) -> f64 {
    let w = 1.0 / (t * t);
    let mut s = 0.0;
    for k in (1..=8).rev() {
        s = -(2.0 * k as f64 - 1.0) * w * (1.0 + s);
    }
    1.0 + s
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
