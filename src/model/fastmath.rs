//! `exp`, `ln` and `ln(1 + x)` written without branches or calls so that element loops over
//! them vectorise: restricted-domain forms for the logit likelihoods (DECISIONS 49) and general
//! ones for the interpreter's unary loops and the densities (DECISIONS 65). All share one `exp`
//! and one `log` kernel. [`cos_sin_turn`] (the cosine and sine of `2πu`) serves the momenta's
//! Box–Muller transform (DECISIONS 72).
//!
//! Both follow fdlibm (`exp`: Cody–Waite reduction and its rational approximation; `log1p`:
//! its minimax polynomial in `s = f/(2 + f)`), with the argument reduction done by arithmetic
//! and selects rather than branches. The tests below compare them with the platform's `exp` and
//! `ln_1p`: within 1 ulp. (A division-free Taylor `exp` measured no faster here: the loop is
//! bound by its arithmetic, not by the divider.) They give the same bits on every target: no fused multiply-adds, no
//! reassociation.

// fdlibm's constants, digits as published.
#![allow(clippy::excessive_precision)]

const LN2_HI: f64 = 6.931_471_803_691_238_164_90e-1;
const LN2_LO: f64 = 1.908_214_929_270_587_700_02e-10;
const INV_LN2: f64 = std::f64::consts::LOG2_E;
/// 1.5 · 2⁵²: adding it rounds to an integer, which then sits in the low mantissa bits.
const ROUND: f64 = 6_755_399_441_055_744.0;
/// Below this `exp` is held at `exp(-708) ≈ 3.3e-308` (the smallest result with a normal
/// scale factor): an absolute error under 3.3e-308.
const EXP_FLOOR: f64 = -708.0;

/// `eˣ` for `x ≤ 0` (NaN propagates; `x < -708` gives `exp(-708)`), within 1 ulp. For `x > 0`
/// the result is still correct up to `x ≈ 709`.
#[inline(always)]
pub fn exp_nonpositive(x: f64) -> f64 {
    let x = if x < EXP_FLOOR { EXP_FLOOR } else { x };
    let shifted = x * INV_LN2 + ROUND;
    let k = shifted - ROUND;
    let y = exp_reduced(x, k);
    // 2ᵏ from the integer in the low bits of `shifted` (two's complement, |k| < 1100).
    let scale = f64::from_bits(shifted.to_bits().wrapping_add(1023) << 52);
    y * scale
}

/// For `a ≥ 0` (NaN propagates): `(e, ln(1 + e), 1/(1 + e))` with `e = exp(−a)`, each within
/// 2 ulp. These give softplus and the logistic function: `softplus(±a) = max(±a, 0) +
/// ln(1 + e)`, `σ(a) = 1/(1 + e)`, `σ(−a) = e/(1 + e)`.
#[inline(always)]
pub fn softplus_parts(a: f64) -> (f64, f64, f64) {
    let e = exp_nonpositive(-a);
    (e, ln_1p_unit(e), 1.0 / (1.0 + e))
}

/// `ln(1 + t)` for `0 ≤ t ≤ 1` (NaN propagates), accurate for tiny `t` too: `t` itself, not
/// `1 + t`, enters the series.
#[inline(always)]
pub fn ln_1p_unit(t: f64) -> f64 {
    // Above √2 − 1, ln(1 + t) = ln 2 + ln(1 + (t − 1)/2); (t − 1)/2 is exact there.
    let big = t > std::f64::consts::SQRT_2 - 1.0;
    let f = if big { (t - 1.0) * 0.5 } else { t };
    let k = if big { 1.0 } else { 0.0 };
    log_kernel(k, f, 0.0)
}

/// `eˣ` over the whole line, within 1 ulp: `+∞` above `ln(f64::MAX)`, 0 below the smallest
/// subnormal's logarithm, subnormal results in between, NaN propagated.
#[inline(always)]
pub fn exp(x: f64) -> f64 {
    // Held where the result is already ∞ or 0, so that |k| ≤ 1077 below.
    let x = if x > 710.0 { 710.0 } else { x };
    let x = if x < -746.0 { -746.0 } else { x };
    let shifted = x * INV_LN2 + ROUND;
    let k = shifted - ROUND;
    let y = exp_reduced(x, k);
    // 2ᵏ as two normal factors 2^(k/2)·2^(k − k/2): the product with `y` rounds once, into
    // the subnormals or to ∞ where the result lies there.
    let ki = shifted.to_bits().wrapping_sub(ROUND.to_bits()) as i64;
    let k1 = ki >> 1;
    let s1 = f64::from_bits(((k1 + 1023) as u64) << 52);
    let s2 = f64::from_bits(((ki - k1 + 1023) as u64) << 52);
    y * s1 * s2
}

/// `e^(x − k ln 2)` for the integer `k` nearest `x / ln 2` (fdlibm's rational approximation).
#[inline(always)]
fn exp_reduced(x: f64, k: f64) -> f64 {
    let hi = x - k * LN2_HI;
    let lo = k * LN2_LO;
    let r = hi - lo;
    let t = r * r;
    let c = r - t
        * (1.666_666_666_666_660_190_37e-1
            + t * (-2.777_777_777_701_559_338_42e-3
                + t * (6.613_756_321_437_934_361_17e-5
                    + t * (-1.653_390_220_546_525_153_90e-6 + t * 4.138_136_797_057_238_460_39e-8))));
    1.0 - ((lo - (r * c) / (2.0 - c)) - hi)
}

/// `ln x` for every `x` (0 → −∞, negative → NaN, ∞ → ∞, subnormals exact), within 1 ulp.
#[inline(always)]
pub fn ln(x: f64) -> f64 {
    // Subnormals are scaled into the normals first (2⁵⁴, undone through `k`).
    let tiny = x < f64::MIN_POSITIVE;
    let xs = if tiny { x * TWO54 } else { x };
    let (k, f) = reduce(xs);
    let k = if tiny { k - 54.0 } else { k };
    let y = log_kernel(k, f, 0.0);
    let y = if x == 0.0 { f64::NEG_INFINITY } else { y };
    let y = if x >= 0.0 { y } else { f64::NAN };
    if x == f64::INFINITY { x } else { y }
}

/// `ln(1 + x)` for every `x` (−1 → −∞, below −1 → NaN, ∞ → ∞), within 1 ulp, accurate for
/// tiny `x`: near 0 `x` itself enters the series.
#[inline(always)]
pub fn ln_1p(x: f64) -> f64 {
    let u = 1.0 + x;
    let (k, f) = reduce(u);
    // ln(1 + x) − ln u: the rounding error of 1 + x, relative to u (fdlibm's correction).
    let c = if k >= 2.0 { 1.0 - (u - x) } else { x - (u - 1.0) };
    let c = if k < 54.0 { c / u } else { 0.0 };
    // With k = 0 (1 + x in [√2/2, √2)) the series takes x itself and needs no correction.
    let near = k == 0.0;
    let y = log_kernel(k, if near { x } else { f }, if near { 0.0 } else { c });
    let y = if x == -1.0 { f64::NEG_INFINITY } else { y };
    let y = if x >= -1.0 { y } else { f64::NAN };
    if x == f64::INFINITY { x } else { y }
}

/// 2⁵⁴, which lifts a subnormal into the normals.
const TWO54: f64 = 18_014_398_509_481_984.0;

/// `x = 2ᵏ(1 + f)` with `1 + f` in `[√2/2, √2)`, for a positive normal `x` (musl's bit
/// arithmetic, without branches).
#[inline(always)]
fn reduce(x: f64) -> (f64, f64) {
    const SQRT_HALF_HI: u64 = 0x3fe6_a09e_0000_0000;
    let bits = x.to_bits().wrapping_add(0x3ff0_0000_0000_0000 - SQRT_HALF_HI);
    let k = ((bits >> 52) as i64 - 0x3ff) as f64;
    let m = f64::from_bits((bits & 0x000f_ffff_ffff_ffff) + SQRT_HALF_HI);
    (k, m - 1.0)
}

/// `k ln 2 + ln(1 + f) + c` for `1 + f` in `[√2/2, √2)` (fdlibm's minimax polynomial in
/// `s = f/(2 + f)`; `c` a small correction).
#[inline(always)]
fn log_kernel(k: f64, f: f64, c: f64) -> f64 {
    let s = f / (2.0 + f);
    let z = s * s;
    let w = z * z;
    let t1 = w
        * (3.999_999_999_940_941_908e-1
            + w * (2.222_219_843_214_978_396e-1 + w * 1.531_383_769_920_937_332e-1));
    let t2 = z
        * (6.666_666_666_666_735_130e-1
            + w * (2.857_142_874_366_239_149e-1
                + w * (1.818_357_216_161_805_012e-1 + w * 1.479_819_860_511_658_591e-1)));
    let r = t2 + t1;
    let hfsq = 0.5 * f * f;
    k * LN2_HI - ((hfsq - (s * (hfsq + r) + (k * LN2_LO + c))) - f)
}

/// `(cos 2πu, sin 2πu)` for `u` in `[0, 1)`, each within 1 ulp of the platform's
/// `(2π·u).cos()` and `.sin()` plus the rounding of `2π·u` itself (which this avoids: the
/// reduction `4u − n` is exact). fdlibm's kernels on `[-π/4, π/4]`; the quadrant is chosen by
/// selects.
#[inline(always)]
pub fn cos_sin_turn(u: f64) -> (f64, f64) {
    // 2πu = n·π/2 + x with n = round(4u) and |x| ≤ π/4.
    let t = 4.0 * u;
    let n = (t + ROUND) - ROUND;
    let x = (t - n) * std::f64::consts::FRAC_PI_2;
    let z = x * x;
    let sin = {
        let r = 8.333_333_333_322_489_461_24e-3
            + z * (-1.984_126_982_985_794_931_34e-4
                + z * (2.755_731_370_707_006_767_89e-6
                    + z * (-2.505_076_025_340_686_341_95e-8 + z * 1.589_690_995_211_550_102_21e-10)));
        x + z * x * (-1.666_666_666_666_663_243_48e-1 + z * r)
    };
    let cos = {
        let w = z * z;
        let r = z
            * (4.166_666_666_666_660_190_37e-2
                + z * (-1.388_888_888_887_410_957_49e-3 + z * 2.480_158_728_947_672_941_78e-5))
            + w * w
                * (-2.755_731_435_139_066_330_35e-7
                    + z * (2.087_572_321_298_174_827_90e-9 + z * -1.135_964_755_778_819_482_65e-11));
        let hz = 0.5 * z;
        let one_minus = 1.0 - hz;
        one_minus + (((1.0 - one_minus) - hz) + z * r)
    };
    // n mod 4 (n is 0..=4): rotate (cos x, sin x) by n quarter turns.
    let q = (n as i64 & 3) as u8;
    let (a, b) = if q & 1 == 1 { (sin, cos) } else { (cos, sin) };
    let a = if q == 1 || q == 2 { -a } else { a };
    let b = if q >= 2 { -b } else { b };
    (a, b)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ulps(a: f64, b: f64) -> f64 {
        let spacing = f64::from_bits(b.abs().to_bits() + 1) - b.abs();
        ((a - b) / spacing).abs()
    }

    #[test]
    fn softplus_parts_within_two_ulp() {
        let mut worst: f64 = 0.0;
        for i in 0..=1_000_000 {
            let a = 40.0 * f64::from(i) / 1e6;
            let (e, lse, inv) = softplus_parts(a);
            let e0 = (-a).exp();
            worst = worst.max(ulps(e, e0)).max(ulps(lse, e0.ln_1p())).max(ulps(inv, 1.0 / (1.0 + e0)));
        }
        assert!(worst <= 2.0, "worst {worst} ulp");
        let (e, lse, inv) = softplus_parts(f64::NAN);
        assert!(e.is_nan() && lse.is_nan() && inv.is_nan());
        let (e, lse, inv) = softplus_parts(f64::INFINITY);
        assert!(e < 4e-308 && lse < 4e-308 && inv == 1.0);
    }

    #[test]
    fn exp_within_one_ulp_of_the_platform() {
        let mut worst: f64 = 0.0;
        for i in 0..=1_000_000 {
            let x = -708.0 * f64::from(i) / 1e6;
            worst = worst.max(ulps(exp_nonpositive(x), x.exp()));
        }
        for x in [0.0, -0.0, -1e-300, -1e-17, -5e-324, -0.5, -1.0] {
            assert!(ulps(exp_nonpositive(x), x.exp()) <= 1.0, "{x}");
        }
        assert!(worst <= 1.0, "worst {worst} ulp");
        assert!(exp_nonpositive(f64::NAN).is_nan());
        assert!(exp_nonpositive(f64::NEG_INFINITY) < 4e-308);
    }

    #[test]
    fn ln_1p_within_one_ulp_of_the_platform() {
        let mut worst: f64 = 0.0;
        for i in 1..=1_000_000 {
            let t = f64::from(i) / 1e6;
            worst = worst.max(ulps(ln_1p_unit(t), t.ln_1p()));
            let tiny = t * 1e-12;
            worst = worst.max(ulps(ln_1p_unit(tiny), tiny.ln_1p()));
        }
        assert!(worst <= 1.0, "worst {worst} ulp");
        assert_eq!(ln_1p_unit(0.0), 0.0);
        assert_eq!(ln_1p_unit(5e-324), 5e-324);
        assert!(ln_1p_unit(f64::NAN).is_nan());
    }

    /// Points spread over many binades: `±m·2^e` for a sweep of mantissas and exponents.
    fn wide(lo: i32, hi: i32) -> impl Iterator<Item = f64> {
        (lo..=hi).flat_map(|e| (0..2_000).map(move |i| (1.0 + f64::from(i) / 2_000.0) * 2f64.powi(e)))
    }

    #[test]
    fn general_exp_within_one_ulp_everywhere() {
        let mut worst: f64 = 0.0;
        for i in 0..=2_000_000 {
            let x = -745.0 + 1455.0 * f64::from(i) / 2e6;
            let want = x.exp();
            if want >= f64::MIN_POSITIVE && want.is_finite() {
                worst = worst.max(ulps(exp(x), want));
            } else {
                // Subnormal or overflowing results: the same value up to one subnormal step.
                assert!((exp(x) - want).abs() <= 5e-324 || exp(x) == want, "{x}");
            }
        }
        for x in wide(-60, 9).flat_map(|x| [x, -x]) {
            if x.abs() < 709.0 {
                worst = worst.max(ulps(exp(x), x.exp()));
            }
        }
        assert!(worst <= 1.0, "worst {worst} ulp");
        assert_eq!(exp(0.0), 1.0);
        assert_eq!(exp(710.0), f64::INFINITY);
        assert_eq!(exp(f64::INFINITY), f64::INFINITY);
        assert_eq!(exp(-746.0), 0.0);
        assert_eq!(exp(f64::NEG_INFINITY), 0.0);
        assert_eq!(exp(709.78), 709.78f64.exp());
        assert!(exp(f64::NAN).is_nan());
    }

    #[test]
    fn general_ln_within_one_ulp_everywhere() {
        let mut worst: f64 = 0.0;
        for x in wide(-1074, 1023) {
            if x.is_finite() {
                worst = worst.max(ulps(ln(x), x.ln()));
            }
        }
        for i in 1..=1_000_000 {
            let x = 0.5 + f64::from(i) / 1e6;
            worst = worst.max(ulps(ln(x), x.ln()));
        }
        assert!(worst <= 1.0, "worst {worst} ulp");
        assert_eq!(ln(1.0), 0.0);
        assert_eq!(ln(5e-324), 5e-324f64.ln());
        assert_eq!(ln(0.0), f64::NEG_INFINITY);
        assert_eq!(ln(f64::INFINITY), f64::INFINITY);
        assert!(ln(-1.0).is_nan() && ln(f64::NAN).is_nan() && ln(f64::NEG_INFINITY).is_nan());
    }

    /// Against the platform's `cos` and `sin` of the exactly reduced angle (`x` below), so that
    /// the comparison measures the kernels, not the rounding of `2πu`; and against
    /// `(2πu).cos()` within that rounding.
    #[test]
    fn cos_sin_turn_within_one_ulp() {
        let mut worst: f64 = 0.0;
        let mut worst_abs: f64 = 0.0;
        let n = 2_000_000;
        for i in 0..n {
            // Every 53-bit uniform's grid point pattern, and points near the quadrant edges.
            let u = (f64::from(i) + 0.5) / f64::from(n);
            for u in [u, (u * 8.0).round() / 8.0, ((u * 8.0).round() / 8.0 - f64::EPSILON / 4.0).max(0.0)] {
                let (c, s) = cos_sin_turn(u);
                let t = 4.0 * u;
                let k = t.round();
                let x = (t - k) * std::f64::consts::FRAC_PI_2;
                let (c0, s0) = match (k as i64) & 3 {
                    0 => (x.cos(), x.sin()),
                    1 => (-x.sin(), x.cos()),
                    2 => (-x.cos(), -x.sin()),
                    _ => (x.sin(), -x.cos()),
                };
                worst = worst.max(ulps(c, c0)).max(ulps(s, s0));
                let a = std::f64::consts::TAU * u;
                worst_abs = worst_abs.max((c - a.cos()).abs()).max((s - a.sin()).abs());
            }
        }
        assert!(worst <= 1.0, "worst {worst} ulp");
        assert!(worst_abs < 1e-15, "worst {worst_abs} absolute");
        assert_eq!(cos_sin_turn(0.0), (1.0, 0.0));
        assert_eq!(cos_sin_turn(0.25), (0.0, 1.0));
        assert_eq!(cos_sin_turn(0.5), (-1.0, 0.0));
    }

    #[test]
    fn general_ln_1p_within_one_ulp_everywhere() {
        let mut worst: f64 = 0.0;
        for x in wide(-1074, 1022) {
            worst = worst.max(ulps(ln_1p(x), x.ln_1p()));
            if x < 1.0 {
                worst = worst.max(ulps(ln_1p(-x), (-x).ln_1p()));
            }
        }
        for i in 1..1_000_000 {
            let x = -1.0 + 3.0 * f64::from(i) / 1e6;
            worst = worst.max(ulps(ln_1p(x), x.ln_1p()));
        }
        assert!(worst <= 1.0, "worst {worst} ulp");
        assert_eq!(ln_1p(0.0), 0.0);
        assert_eq!(ln_1p(5e-324), 5e-324);
        assert_eq!(ln_1p(-1.0), f64::NEG_INFINITY);
        assert_eq!(ln_1p(f64::INFINITY), f64::INFINITY);
        assert_eq!(ln_1p(f64::MAX), f64::MAX.ln_1p());
        assert!(ln_1p(-2.0).is_nan() && ln_1p(f64::NAN).is_nan());
    }
}
