//! The modified Bessel functions of the first kind `I₀` and `I₁`, as the von Mises and Rice
//! densities need them: `ln(e^{−x} I₀(x))` and the ratio `I₁(x)/I₀(x)` (the derivative of
//! `ln I₀`), with `1 − I₁/I₀` kept without cancellation where the ratio nears 1 (the asymptotic
//! range; below `x = 20` the ratio is at most 0.975 and `1 − r` loses under two digits).
//!
//! Below [`SERIES_MAX`] the power series `I₀ = Σ tᵏ/k!²` and `I₁ = (x/2) Σ tᵏ/(k!(k+1)!)`,
//! `t = x²/4` (positive terms, no cancellation); above it Hankel's asymptotic series
//! `I_ν(x) ≈ eˣ/√(2πx) Σ (−1)ᵏ aₖ(ν)/xᵏ`, whose smallest term there is below `e^{−2x} < 1e-17`.
//! Both stop at a term below half an ulp of the sum (of `1 − I₁/I₀` too): at most 34 terms.
//! The WGSL twin is `ln_i0e_ratio` in `shaders/special.wgsl`.

/// Where the power series hands over to the asymptotic one.
pub(crate) const SERIES_MAX: f64 = 20.0;

/// `(ln(e^{−x} I₀(x)), I₁(x)/I₀(x), 1 − I₁(x)/I₀(x))`. `I₀` is even and `I₁` odd, so a
/// negative `x` (a Rice noncentrality drawn below 0) is `|x|`'s with `ln I₀` shifted by `2|x|`
/// and the ratio's sign turned.
pub(crate) fn ln_i0e_ratio(x: f64) -> (f64, f64, f64) {
    if x < 0.0 {
        let (l, r, one_minus_r) = ln_i0e_ratio(-x);
        return (l - 2.0 * x, -r, 2.0 - one_minus_r);
    }
    let eps = 0.5 * f64::EPSILON;
    if x <= SERIES_MAX {
        // `s0 − 1` is summed on its own: `ln I₀ = ln_1p(s0 − 1)` keeps a small argument's digits.
        let t = 0.25 * x * x;
        let (mut a, mut b, mut s0m1, mut s1) = (1.0, 1.0, 0.0, 1.0);
        for k in 1..60 {
            let k = k as f64;
            a *= t / (k * k);
            b *= t / (k * (k + 1.0));
            s0m1 += a;
            s1 += b;
            if a < eps * (1.0 + s0m1) {
                break;
            }
        }
        let r = 0.5 * x * s1 / (1.0 + s0m1);
        return (s0m1.ln_1p() - x, r, 1.0 - r);
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
        if a.abs() < eps * s0 && b.abs() < eps * s1.abs() && (a - b).abs() < eps * d {
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

#[cfg(test)]
mod tests {
    use super::ln_i0e_ratio;

    /// Against mpmath's `besseli` at 50 digits: every value within 2e-15 relative, on both
    /// series and either side of the switch, and for negative arguments.
    #[test]
    fn matches_mpmath() {
        #[allow(clippy::excessive_precision)]
        let cases: [(f64, f64, f64, f64); 11] = [
            (0.0, 0.0, 0.0, 1.0),
            (1e-8, -9.999999975e-9, 4.99999999999999994e-9, 0.999999995),
            (0.5, -0.438450280814518696, 0.242499612580801945, 0.757500387419198055),
            (5.0, -1.69531822417746657, 0.893383137044085222, 0.106616862955914778),
            (19.9, -2.40785018137864801, 0.974541465857931201, 0.0254585341420687987),
            (20.1, -2.41291612321102027, 0.974798247598246588, 0.0252017524017534122),
            (100.0, -3.22026731005741628, 0.994987373005168766, 0.00501262699483123441),
            (1e4, -5.524096218567699, 0.99994999874987498, 0.0000500012501250195353),
            (1e6, -7.82669368718674729, 0.999999499999875, 5.00000125000125e-7),
            (-3.0, 4.58530762181342092, -0.809985293956504527, 1.80998529395650453),
            (-50.0, 97.1275755018718046, -0.989948967378497753, 1.98994896737849775),
        ];
        for (x, l, r, omr) in cases {
            let got = ln_i0e_ratio(x);
            for (what, g, w) in [("ln i0e", got.0, l), ("ratio", got.1, r), ("1 - ratio", got.2, omr)] {
                // 1 − r below the switch is a subtraction: r/(1 − r) ≈ 40 ulps of r at 20 are
                // about two digits of 1 − r.
                let tol = if what == "1 - ratio" && x.abs() <= 20.0 { 5e-14 } else { 2e-15 };
                assert!((g - w).abs() <= tol * w.abs().max(1e-300), "{what}({x}) = {g:e}, mpmath {w:e}");
            }
        }
    }
}
