// Precision prelude for f64 kernels (needs naga's Capabilities::FLOAT64, i.e. wgpu's
// Features::SHADER_F64; no `enable` directive: naga 30 has none for f64 and rejects unknown ones).
// The generator emits exactly one prelude (this file or prelude_f32.wgsl) first.
//
// Why ln_r/exp_r are software here: naga lowers log/exp to GLSL.std.450 Log/Exp (SPIR-V), which
// are defined for 16/32-bit floats only; HLSL and MSL have no double transcendentals at all.
// Only IEEE-exact double operations (+ - * /, abs, round, comparisons, select, conversions,
// bitcast of f32) are used below; so are cos/sin (cos_sin_r) and atan (atan_r).
alias real = f64;

// Bit patterns read at run time (see prelude_f32.wgsl); f32 -> f64 conversion keeps inf/NaN.
var<private> REAL_INF_BITS: u32 = 0x7f800000u;
var<private> REAL_NAN_BITS: u32 = 0x7fc00000u;

fn pos_inf() -> real { return f64(bitcast<f32>(REAL_INF_BITS)); }
fn neg_inf() -> real { return -f64(bitcast<f32>(REAL_INF_BITS)); }
fn nan_r() -> real { return f64(bitcast<f32>(REAL_NAN_BITS)); }

// Machine epsilon, 2^-52.
const REAL_EPS: real = 2.220446049250313e-16;
// digamma: recurrence up to this argument, then the asymptotic series (truncation < 5e-17).
const DIGAMMA_ASYMPTOTIC_MIN: real = 10.0;
// ln Φ(t) switches to its asymptotic series below this (as on the host).
const NDTR_ASYMPTOTIC_BELOW: real = -20.0;

// ln 2 split as in fdlibm: LN2_HI has 32 significant bits, so k * LN2_HI is exact for |k| < 2^21.
const LN2_HI_F64: real = 6.93147180369123816490e-01;
const LN2_LO_F64: real = 1.90821492927058770002e-10;

// Builtins frexp/ldexp are avoided: naga types frexp's f64 exponent as i64 (SHADER_INT64, and
// invalid as a GLSL.std.450 FrexpStruct), and HLSL has no double ldexp. Powers of two are built
// exactly from f32 bit patterns instead (f32 -> f64 conversion is exact).

// 2^k for -126 ≤ k ≤ 127, exact.
fn pow2_f64(k: i32) -> real {
    return f64(bitcast<f32>(u32(k + 127) << 23u));
}

// m 2^k for m near 1 and |k| ≤ 1134 (which covers e^x's -1075 ≤ k ≤ 1024), with only a
// subnormal result rounded: m 2^(8q + r) is exact (|8q + r| ≤ 1016), then one product by 2^q
// with q = k / 9. No loops: LLVM's loop analysis (lavapipe) takes minutes over kernels that
// inline many of them.
fn scale2_f64(m: real, k: i32) -> real {
    if (abs(k) <= 126) {
        return m * pow2_f64(k);
    }
    let q = k / 9;
    let p = pow2_f64(q);
    let p2 = p * p;
    let p4 = p2 * p2;
    return (m * (p4 * p4) * pow2_f64(k - 9 * q)) * p;
}

// ln x. x = m 2^e with m in [√½, √2]: the binary exponent comes from the f32 image of x after
// exact scaling into f32's normal range. ln m = 2 atanh(s) with s = (m - 1)/(m + 1),
// |s| ≤ 0.1716, by atanh2_series (special.wgsl, through s^25);
// ln x = e ln 2 + ln m. x = 0 -> -inf, x < 0 or NaN -> NaN, +inf -> +inf.
fn ln_r(x: real) -> real {
    if (!(x > real(0.0))) {
        return select(nan_r(), neg_inf(), x == real(0.0));
    }
    if (x == pos_inf()) {
        return x;
    }
    var y = x;
    var e = 0;
    // Into [2^-64, 2^64) in exact binary steps, without loops (see scale2_f64).
    if (y >= real(0x1p64) || y < real(0x1p-64)) {
        if (y >= real(0x1p512)) { y = y * real(0x1p-512); e = e + 512; }
        if (y >= real(0x1p256)) { y = y * real(0x1p-256); e = e + 256; }
        if (y >= real(0x1p128)) { y = y * real(0x1p-128); e = e + 128; }
        if (y >= real(0x1p64)) { y = y * real(0x1p-64); e = e + 64; }
        if (y < real(0x1p-1000)) { y = y * real(0x1p500) * real(0x1p500); e = e - 1000; }
        if (y < real(0x1p-512)) { y = y * real(0x1p512); e = e - 512; }
        if (y < real(0x1p-256)) { y = y * real(0x1p256); e = e - 256; }
        if (y < real(0x1p-128)) { y = y * real(0x1p128); e = e - 128; }
        if (y < real(0x1p-64)) { y = y * real(0x1p64); e = e - 64; }
    }
    // f32 rounding can carry into the next binade; m then lies just below 1, still in range.
    let k = i32((bitcast<u32>(f32(y)) >> 23u) & 0xffu) - 127;
    var m = y * pow2_f64(-k);
    e = e + k;
    if (m > real(1.41421356237309504880)) {
        m = m * real(0.5);
        e = e + 1;
    }
    let ef = real(e);
    let f = m - real(1.0);
    let lm = atanh2_series(f / (real(2.0) + f));
    return ef * LN2_HI_F64 + (lm + ef * LN2_LO_F64);
}

// e^x. k = round(x / ln 2), r = x - k ln 2 (Cody-Waite, |r| ≤ 0.3466), e^r by its Taylor series
// through r^14/14! (truncation < 1e-19), e^x = 2^k e^r. Overflow -> +inf, underflow -> 0.
fn exp_r(x: real) -> real {
    if (x > real(709.782712893384)) {
        return pos_inf();
    }
    if (!(x >= real(-745.1332191019412))) {
        return select(x, real(0.0), x < real(0.0));
    }
    let k = round(x * real(1.4426950408889634));
    let r = (x - k * LN2_HI_F64) - k * LN2_LO_F64;
    var p = real(1.0 / 87178291200.0);
    p = p * r + real(1.0 / 6227020800.0);
    p = p * r + real(1.0 / 479001600.0);
    p = p * r + real(1.0 / 39916800.0);
    p = p * r + real(1.0 / 3628800.0);
    p = p * r + real(1.0 / 362880.0);
    p = p * r + real(1.0 / 40320.0);
    p = p * r + real(1.0 / 5040.0);
    p = p * r + real(1.0 / 720.0);
    p = p * r + real(1.0 / 120.0);
    p = p * r + real(1.0 / 24.0);
    p = p * r + real(1.0 / 6.0);
    p = p * r + real(0.5);
    p = p * r + real(1.0);
    p = p * r + real(1.0);
    return scale2_f64(p, i32(k));
}

// Random numbers (src/rng.rs). A uniform in [0, 1) from two words with all 53 bits the host
// uses, so f64 kernels draw the host's uniforms exactly.
fn unit2(a: u32, b: u32) -> real {
    return (f64(a >> 5u) * 67108864.0 + f64(b >> 6u)) * 1.1102230246251565e-16;
}
// cos and sin of t for |t| ≤ π/4 by their Taylor series (to t¹⁷ and t¹⁸, accurate to about
// 1e-16), turned by q quarter turns (q a whole number): (cos, sin) of t + qπ/2.
fn cos_sin_quadrant(t: real, q: real) -> vec2<real> {
    let t2 = t * t;
    let s = t * (1.0 + t2 * (-0.16666666666666666 + t2 * (0.008333333333333333 + t2 * (-0.0001984126984126984
        + t2 * (2.7557319223985893e-06 + t2 * (-2.505210838544172e-08 + t2 * (1.6059043836821613e-10
        + t2 * (-7.647163731819816e-13 + t2 * 2.8114572543455206e-15))))))));
    let c = 1.0 + t2 * (-0.5 + t2 * (0.041666666666666664 + t2 * (-0.001388888888888889
        + t2 * (2.48015873015873e-05 + t2 * (-2.755731922398589e-07 + t2 * (2.08767569878681e-09
        + t2 * (-1.1470745597729725e-11 + t2 * (4.779477332387385e-14 + t2 * -1.5619206968586225e-16))))))));
    switch (u32(q - 4.0 * floor(q * 0.25))) {
        case 0u: { return vec2<real>(c, s); }
        case 1u: { return vec2<real>(-s, c); }
        case 2u: { return vec2<real>(-c, -s); }
        default: { return vec2<real>(s, -c); }
    }
}
// (cos, sin) of 2πu for u in [0, 1), in software (SPIR-V's sin and cos are 32-bit): 4u splits
// into a quadrant q and t = (4u − q)·π/2 in [−π/4, π/4].
fn cos_sin_2pi(u: real) -> vec2<real> {
    let x = u * 4.0;
    let q = floor(x + 0.5);
    return cos_sin_quadrant((x - q) * 1.5707963267948966, q);
}
// (cos, sin) of x: q = round(2x/π) quarter turns and t = x − qπ/2 with π/2 in four parts
// (Cody–Waite), the first three of 24 bits, so that q·part is exact for |q| < 2²⁹ and t keeps
// its digits (absolute error about 1e-16) for |x| < 8e8. Beyond, the reduction would lose the
// angle's digits: NaN, as for ±inf and NaN.
fn cos_sin_r(x: real) -> vec2<real> {
    if (!(abs(x) < 8e8)) {
        return vec2<real>(nan_r(), nan_r());
    }
    let q = round(x * 0.63661977236758134308);
    let t = (((x - q * 1.5707963705062866) - q * -4.371138828673793e-08) - q * -1.7151245100058819e-15)
        - q * 1.0562999066987428e-23;
    return cos_sin_quadrant(t, q);
}
// atan x, a port of Cephes' atan.c: the argument reduced to |z| ≤ 0.66 (through π/2 − atan(1/x)
// above tan(3π/8), and π/4 + atan((x − 1)/(x + 1)) above 0.66), then a rational function of z².
fn atan_r(x: real) -> real {
    let a = abs(x);
    var y = real(0.0);
    var more = real(0.0);
    var z = a;
    if (a > real(2.41421356237309504880)) {
        y = real(1.57079632679489661923);
        more = real(6.123233995736765886130e-17);
        z = real(-1.0) / a;
    } else if (a > real(0.66)) {
        y = real(0.78539816339744830962);
        more = real(3.061616997868382943065e-17);
        z = (a - real(1.0)) / (a + real(1.0));
    }
    let zz = z * z;
    let p = (((real(-8.750608600031904122785e-1) * zz + real(-1.615753718733365076637e1)) * zz
        + real(-7.500855792314704667340e1)) * zz + real(-1.228866684490136173410e2)) * zz + real(-6.485021904942025371773e1);
    let q = ((((zz + real(2.485846490142306297962e1)) * zz + real(1.650270098316988542046e2)) * zz
        + real(4.328810604912902668951e2)) * zz + real(4.853903996359136964868e2)) * zz + real(1.945506571482613964425e2);
    let r = y + ((z * (zz * p / q) + z) + more);
    return select(r, -r, x < real(0.0));
}
// A step size sent as two f32 words: its f32 rounding and the f32 rounding of the rest, which
// together carry 48 bits.
fn step_size_r(hi: u32, lo: u32) -> real { return f64(bitcast<f32>(hi)) + f64(bitcast<f32>(lo)); }
