//! The modified Bessel functions of the first kind `I₀` and `I₁`, as the von Mises and Rice
//! densities need them: `ln(e^{−x} I₀(x))` and the ratio `I₁(x)/I₀(x)` (the derivative of
//! `ln I₀`), with `1 − I₁/I₀` kept without cancellation where the ratio nears 1.
//!
//! Below [`SERIES_MAX`] the power series `I₀ = Σ tᵏ/k!²` and `I₁ = (x/2) Σ tᵏ/(k!(k+1)!)`,
//! `t = x²/4` (positive terms, no cancellation); above it Hankel's asymptotic series
//! `I_ν(x) ≈ eˣ/√(2πx) Σ (−1)ᵏ aₖ(ν)/xᵏ`, whose smallest term there is below `e^{−2x} < 1e-17`.
//! Both stop at a term below half an ulp of the sum: at most 35 terms. The WGSL twin is
//! `ln_i0e_ratio` in `shaders/special.wgsl`.

/// Where the power series hands over to the asymptotic one.
pub(crate) const SERIES_MAX: f64 = 20.0;

/// `(ln(e^{−x} I₀(x)), I₁(x)/I₀(x), 1 − I₁(x)/I₀(x))` for `x ≥ 0`.
pub(crate) fn ln_i0e_ratio(x: f64) -> (f64, f64, f64) {
    let eps = 0.5 * f64::EPSILON;
    if x <= SERIES_MAX {
        let t = 0.25 * x * x;
        let (mut a, mut b, mut s0, mut s1) = (1.0, 1.0, 1.0, 1.0);
        for k in 1..60 {
            let k = k as f64;
            a *= t / (k * k);
            b *= t / (k * (k + 1.0));
            s0 += a;
            s1 += b;
            if a < eps * s0 {
                break;
            }
        }
        let r = 0.5 * x * s1 / s0;
        return (s0.ln() - x, r, 1.0 - r);
    }
    // Terms of I₀'s and I₁'s series in 1/(8x), and of their difference (S₀ − S₁ starts at
    // 4/(8x)), so that 1 − I₁/I₀ = (S₀ − S₁)/S₀ is not a difference of nearly equal numbers.
    let u = 1.0 / (8.0 * x);
    let (mut a, mut b, mut s0, mut s1, mut d) = (1.0, 1.0, 1.0, 1.0, 0.0);
    for k in 1..60 {
        let k = k as f64;
        let odd = (2.0 * k - 1.0) * (2.0 * k - 1.0);
        a *= odd * u / k;
        b *= (odd - 4.0) * u / k;
        s0 += a;
        s1 += b;
        d += a - b;
        if a.abs() < eps * s0 && b.abs() < eps * s1.abs() {
            break;
        }
    }
    let ln_i0e = s0.ln() - 0.5 * (std::f64::consts::TAU * x).ln();
    (ln_i0e, s1 / s0, d / s0)
}

/// `e^{−x} I₀(x)` and `e^{−x} I₁(x)` for `x ≥ 0`.
pub(crate) fn i0e_i1e(x: f64) -> (f64, f64) {
    let (l, r, _) = ln_i0e_ratio(x);
    let i0e = l.exp();
    (i0e, r * i0e)
}
