// Special functions over `real` (defined by prelude_f32.wgsl / prelude_f64.wgsl, which also
// provide ln_r, exp_r, neg_inf, pos_inf, nan_r, REAL_EPS, DIGAMMA_ASYMPTOTIC_MIN,
// NDTR_ASYMPTOTIC_BELOW).
// Everything here is written with real(...) literals and ln_r/exp_r, never log/exp directly.

// A log-density term and its partials: g.x = ∂/∂x, g.y/z/w = ∂/∂p0/p1/p2.
struct Lg {
    v: real,
    g: vec4<real>,
}

// The same for families with more than four arguments (value and up to seven parameters).
struct Lg8 {
    v: real,
    g: vec4<real>,
    h: vec4<real>,
}

const LN_2: real = 0.69314718055994530942;
// ln π
const LN_PI: real = 1.14472988584940017414;
// ln(2π)/2
const HALF_LN_2PI: real = 0.91893853320467274178;

// 2 atanh(s) = ln((1 + s)/(1 - s)) = 2s(1 + s²/3 + s⁴/5 + …) through s^25 (truncation < 1e-18
// for |s| ≤ 0.2). Shared by log1p_r and the f64 ln_r (prelude_f64.wgsl).
fn atanh2_series(s: real) -> real {
    let t = s * s;
    var p = real(1.0 / 25.0);
    p = p * t + real(1.0 / 23.0);
    p = p * t + real(1.0 / 21.0);
    p = p * t + real(1.0 / 19.0);
    p = p * t + real(1.0 / 17.0);
    p = p * t + real(1.0 / 15.0);
    p = p * t + real(1.0 / 13.0);
    p = p * t + real(1.0 / 11.0);
    p = p * t + real(1.0 / 9.0);
    p = p * t + real(1.0 / 7.0);
    p = p * t + real(1.0 / 5.0);
    p = p * t + real(1.0 / 3.0);
    return real(2.0) * s + real(2.0) * s * (t * p);
}

// ln(1 + x), x ≥ -1. For -0.3 < x < 0.5: ln(1 + x) = atanh2_series(s) with s = x/(2 + x),
// |s| ≤ 0.2. This range is where ln(1 + x) would lose digits (and GPU log is only ~2^-21
// absolute near 1); elsewhere ln(1 + x).
fn log1p_r(x: real) -> real {
    if (x > real(-0.3) && x < real(0.5)) {
        return atanh2_series(x / (real(2.0) + x));
    }
    return ln_r(real(1.0) + x);
}

// e^x - 1. For |x| < 0.5: Taylor series x Σ_{k=0}^{14} x^k/(k+1)! (truncation < 2e-18 relative);
// elsewhere e^x - 1 (no cancellation beyond a factor 2.6 there).
fn expm1_r(x: real) -> real {
    if (abs(x) < real(0.5)) {
        var p = real(1.0 / 1307674368000.0);
        p = p * x + real(1.0 / 87178291200.0);
        p = p * x + real(1.0 / 6227020800.0);
        p = p * x + real(1.0 / 479001600.0);
        p = p * x + real(1.0 / 39916800.0);
        p = p * x + real(1.0 / 3628800.0);
        p = p * x + real(1.0 / 362880.0);
        p = p * x + real(1.0 / 40320.0);
        p = p * x + real(1.0 / 5040.0);
        p = p * x + real(1.0 / 720.0);
        p = p * x + real(1.0 / 120.0);
        p = p * x + real(1.0 / 24.0);
        p = p * x + real(1.0 / 6.0);
        p = p * x + real(0.5);
        return x + x * (x * p);
    }
    return exp_r(x) - real(1.0);
}

// tanh x = sign(x) · (1 − e^(−2|x|)) / (1 + e^(−2|x|)) = −sign(x) · m / (2 + m), m = expm1(−2|x|):
// no overflow, exact near 0 (SPIR-V's tanh is 32-bit only).
fn tanh_r(x: real) -> real {
    let m = expm1_r(real(-2.0) * abs(x));
    let t = -m / (real(2.0) + m);
    return select(t, -t, x < real(0.0));
}

// The angle x wrapped into [−π, π], mirrors src/model/expr.rs: wrap_angle (2π in two parts,
// 6.28125 exact in either precision, and the rest; clamped, so rounding never leaves [−π, π]).
fn wrap_angle_r(x: real) -> real {
    let k = round(x * real(0.15915494309189535));
    let r = (x - k * real(6.28125)) - k * real(0.0019353071795864769253);
    return clamp(r, real(-3.14159265358979323846), real(3.14159265358979323846));
}

// softplus(x) = ln(1 + e^x) = max(x, 0) + ln(1 + e^-|x|): e^-|x| ≤ 1 never overflows and the
// log1p series keeps a tiny e^-|x| exact (softplus(-40) = e^-40, not 0).
fn softplus(x: real) -> real {
    return max(x, real(0.0)) + log1p_r(exp_r(-abs(x)));
}

// logistic(x) = 1/(1 + e^-x), as 1/(1 + e) for x ≥ 0 and e/(1 + e) for x < 0 with e = e^-|x|.
fn logistic(x: real) -> real {
    let e = exp_r(-abs(x));
    let r = real(1.0) / (real(1.0) + e);
    return select(e * r, r, x >= real(0.0));
}

// ln logistic(x) = -softplus(-x).
fn log_logistic(x: real) -> real {
    return -softplus(-x);
}

// ln(e^a + e^b) = max(a, b) + ln(1 + e^-|a - b|). Equal arguments (including both -inf or both
// +inf, where a - b is NaN) give a + ln 2; one -inf gives the other argument.
fn log_add_exp(a: real, b: real) -> real {
    if (a == b) {
        return a + LN_2;
    }
    return max(a, b) + log1p_r(exp_r(-abs(a - b)));
}

// ln Γ(x), x > 0. Lanczos approximation, g = 7, n = 9 (Godfrey's coefficients, as in Numerical
// Recipes 3rd ed. / Wikipedia): with z = x - 1, t = z + g + 1/2,
//   Γ(x) = √(2π) t^(z + 1/2) e^-t A(z),  A(z) = c0 + Σ_{i=1}^{8} c_i/(z + i),
// so ln Γ(x) = ln(2π)/2 + (x - 1/2)(ln t - 1) - g + ln A (relative error ~1e-15).
// x < 1/2 is shifted first, ln Γ(x) = ln Γ(x + 1) - ln x, where the series is most accurate.
// lgamma(0) = +inf.
fn lgamma(x_in: real) -> real {
    var x = x_in;
    var shift = real(0.0);
    if (x < real(0.5)) {
        shift = -ln_r(x);
        x = x + real(1.0);
    }
    let z = x - real(1.0);
    var a = real(0.99999999999980993);
    a = a + real(676.5203681218851) / (z + real(1.0));
    a = a + real(-1259.1392167224028) / (z + real(2.0));
    a = a + real(771.32342877765313) / (z + real(3.0));
    a = a + real(-176.61502916214059) / (z + real(4.0));
    a = a + real(12.507343278686905) / (z + real(5.0));
    a = a + real(-0.13857109526572012) / (z + real(6.0));
    a = a + real(9.9843695780195716e-6) / (z + real(7.0));
    a = a + real(1.5056327351493116e-7) / (z + real(8.0));
    let h = x - real(0.5);
    let t = h + real(7.0);
    return (HALF_LN_2PI - real(7.0)) + h * (ln_r(t) - real(1.0)) + ln_r(a) + shift;
}

// ψ(x) = d ln Γ(x)/dx, x > 0. Recurrence ψ(x) = ψ(x + 1) - 1/x until x ≥ DIGAMMA_ASYMPTOTIC_MIN
// (at most 10 steps, so non-positive input cannot loop forever), then the asymptotic series
//   ψ(x) ~ ln x - 1/(2x) - 1/(12x²) + 1/(120x⁴) - 1/(252x⁶) + 1/(240x⁸) - 1/(132x¹⁰)
//          + 691/(32760x¹²) - 1/(12x¹⁴)   (Abramowitz & Stegun 6.3.18).
fn digamma(x_in: real) -> real {
    var x = x_in;
    var acc = real(0.0);
    for (var i = 0; i < 10 && x < DIGAMMA_ASYMPTOTIC_MIN; i++) {
        acc = acc - real(1.0) / x;
        x = x + real(1.0);
    }
    let r = real(1.0) / x;
    let r2 = r * r;
    var s = real(1.0 / 12.0);
    s = real(691.0 / 32760.0) - r2 * s;
    s = real(1.0 / 132.0) - r2 * s;
    s = real(1.0 / 240.0) - r2 * s;
    s = real(1.0 / 252.0) - r2 * s;
    s = real(1.0 / 120.0) - r2 * s;
    s = real(1.0 / 12.0) - r2 * s;
    return acc + (ln_r(x) - real(0.5) * r - r2 * s);
}

// Whether x is a whole number ≥ 0 (the count supports).
fn is_count_r(x: real) -> bool {
    return x >= real(0.0) && x == floor(x) && x < pos_inf();
}

// ln Γ(a + x) - ln Γ(a) for a whole x ≥ 0 and a > 0: Σ_{j<x} ln(a + j) below 16 counts; from
// a = 10 Stirling's series for the difference, (a - 1/2) ln(1 + x/a) + x (ln(a + x) - 1)
// + S(a + x) - S(a), S(z) = 1/(12z) - 1/(360z³) + 1/(1260z⁵) - 1/(1680z⁷) (no cancellation of
// two large log-gammas); the log-gammas otherwise (src/model/dist/dirichlet_multinomial.rs).
fn stirling_rest(z: real) -> real {
    let r = real(1.0) / (z * z);
    return (real(1.0 / 12.0) - r * (real(1.0 / 360.0) - r * (real(1.0 / 1260.0) - r * real(1.0 / 1680.0)))) / z;
}

fn ln_rising(a: real, x: real) -> real {
    if (x < real(16.0)) {
        var s = real(0.0);
        for (var j = real(0.0); j < x; j += real(1.0)) {
            s += ln_r(a + j);
        }
        return s;
    }
    if (a >= real(10.0)) {
        return (a - real(0.5)) * log1p_r(x / a) + x * (ln_r(a + x) - real(1.0))
            + (stirling_rest(a + x) - stirling_rest(a));
    }
    return lgamma(a + x) - lgamma(a);
}

// T(z) = 1/(12z²) - 1/(120z⁴) + 1/(252z⁶) - 1/(240z⁸): ψ(z) ~ ln z - 1/(2z) - T(z).
fn digamma_rest(z: real) -> real {
    let r = real(1.0) / (z * z);
    return r * (real(1.0 / 12.0) - r * (real(1.0 / 120.0) - r * (real(1.0 / 252.0) - r * real(1.0 / 240.0))));
}

// ψ(a + x) - ψ(a), the partial of ln_rising in a, in the same three forms.
fn digamma_rising(a: real, x: real) -> real {
    if (x < real(16.0)) {
        var s = real(0.0);
        for (var j = real(0.0); j < x; j += real(1.0)) {
            s += real(1.0) / (a + j);
        }
        return s;
    }
    if (a >= real(10.0)) {
        return log1p_r(x / a) + x / (real(2.0) * a * (a + x)) - digamma_rest(a + x) + digamma_rest(a);
    }
    return digamma(a + x) - digamma(a);
}

// ln (n choose x) for whole numbers 0 ≤ x ≤ n.
fn ln_choose(n: real, x: real) -> real {
    return lgamma(n + real(1.0)) - lgamma(x + real(1.0)) - lgamma(n - x + real(1.0));
}

// The negative binomial's terms beyond -ln x! given la = ln α - ln(μ + α), lm = ln μ - ln(μ + α)
// and w = μ/(μ + α): value, ∂/∂ln μ and ∂/∂α (src/model/dist/negative_binomial.rs: nb_terms).
fn nb_terms(x: real, alpha: real, la: real, lm: real, w: real) -> vec3<real> {
    let v = lgamma(x + alpha) - lgamma(alpha) + alpha * la + select(real(0.0), x * lm, x > real(0.0));
    let d_log_mu = x - (x + alpha) * w;
    let d_alpha = digamma(x + alpha) - digamma(alpha) + la + w - x * (real(1.0) - w) / alpha;
    return vec3<real>(v, d_log_mu, d_alpha);
}

// A zero-inflated family's kernel from its base's kernel b at x (src/model/dist/zero_inflation.rs:
// kernel_grad): with probability psi a draw of the base, otherwise 0. At 0,
// ln((1 - ψ) + ψ e^b), with ∂/∂ψ = (e^b - 1)/p(0) and the base's partials weighted by the share
// w = ψ e^b/p(0) of zeros from the base; above 0, ln ψ + b. The base's partials move one place up.
// The caller checks the support.
fn zero_inflate(x: real, psi: real, b: Lg) -> Lg {
    if (x > real(0.0)) {
        return Lg(ln_r(psi) + b.v, vec4<real>(real(0.0), real(1.0) / psi, b.g.y, b.g.z));
    }
    let l = log_add_exp(log1p_r(-psi), ln_r(psi) + b.v);
    if (l == neg_inf()) {
        return Lg(l, vec4<real>());
    }
    let w = exp_r(ln_r(psi) + b.v - l);
    let gb = select(vec2<real>(), w * b.g.yz, w > real(0.0));
    return Lg(l, vec4<real>(real(0.0), expm1_r(b.v) * exp_r(-l), gb));
}

// Every hurdle's log mass at 0, ln(1 - ψ), with ∂/∂ψ = -1/(1 - ψ) in g.y (mirrors
// hurdle::at_zero).
fn hurdle_at_zero(psi: real) -> Lg {
    return Lg(log1p_r(-psi), vec4<real>(real(0.0), real(-1.0) / (real(1.0) - psi), real(0.0), real(0.0)));
}

// A hurdle over a base count family (mirrors hurdle::kernel_grad in
// src/model/dist/hurdle.rs): 0 with probability 1 - psi, else a draw of the base conditioned on
// being positive. At 0, ln(1 - ψ); above 0, ln ψ + b - ln(1 - e^b0) with b0 the base's kernel
// at 0 (ln p_b(0)), whose partials weigh in by 1/(e^-b0 - 1). The base's partials move one
// place up. A base with all its mass at 0 gives -inf above 0. The caller checks the support.
fn hurdle(x: real, psi: real, b: Lg, b0: Lg) -> Lg {
    if (x <= real(0.0)) {
        return hurdle_at_zero(psi);
    }
    if (b0.v != b0.v) {
        return Lg(b0.v, vec4<real>());
    }
    if (b0.v >= real(0.0)) {
        return Lg(neg_inf(), vec4<real>());
    }
    let r = real(1.0) / expm1_r(-b0.v);
    let g = b.g.yz + r * b0.g.yz;
    return Lg(ln_r(psi) + b.v - log1mexp_r(b0.v), vec4<real>(real(0.0), real(1.0) / psi, g));
}

// A hurdle over a continuous base (mirrors hurdle::continuous_lpdf_grad): a mass 1 - psi at 0
// beside psi times the base's density b above it; ∂/∂x is the base's, ∂/∂ψ in g.y, the base's
// partials one place up.
fn continuous_hurdle(x: real, psi: real, b: Lg) -> Lg {
    if (x == real(0.0)) {
        return hurdle_at_zero(psi);
    }
    if (b.v == neg_inf()) {
        return Lg(neg_inf(), vec4<real>());
    }
    return Lg(ln_r(psi) + b.v, vec4<real>(b.g.x, real(1.0) / psi, b.g.y, b.g.z));
}

// erfc(x), a port of FreeBSD msun's s_erf.c (libm's erfc on the host) without its
// exponent-splitting refinement (relative error ~x²·eps for 1.25 ≤ |x| < 28).
fn erfc_r(x: real) -> real {
    let ax = abs(x);
    if (ax < real(0.84375)) {
        let z = x * x;
        let r = real(1.28379167095512558561e-01) + z * (real(-3.25042107247001499370e-01) + z * (real(-2.84817495755985104766e-02)
            + z * (real(-5.77027029648944159157e-03) + z * real(-2.37630166566501626084e-05))));
        let s = real(1.0) + z * (real(3.97917223959155352819e-01) + z * (real(6.50222499887672944485e-02)
            + z * (real(5.08130628187576562776e-03) + z * (real(1.32494738004321644526e-04) + z * real(-3.96022827877536812320e-06)))));
        let y = r / s;
        if (x < real(0.25)) {
            return real(1.0) - (x + x * y);
        }
        return real(0.5) - (x * y + (x - real(0.5)));
    }
    if (ax < real(1.25)) {
        let s = ax - real(1.0);
        let p = real(-2.36211856075265944077e-03) + s * (real(4.14856118683748331666e-01) + s * (real(-3.72207876035701323847e-01)
            + s * (real(3.18346619901161753674e-01) + s * (real(-1.10894694282396677476e-01) + s * (real(3.54783043256182359371e-02)
            + s * real(-2.16637559486879084300e-03))))));
        let q = real(1.0) + s * (real(1.06420880400844228286e-01) + s * (real(5.40397917702171048937e-01) + s * (real(7.18286544141962662868e-02)
            + s * (real(1.26171219808761642112e-01) + s * (real(1.36370839120290507362e-02) + s * real(1.19844998467991074170e-02))))));
        let erx = real(8.45062911510467529297e-01);
        if (x >= real(0.0)) {
            return (real(1.0) - erx) - p / q;
        }
        return real(1.0) + (erx + p / q);
    }
    if (ax < real(28.0)) {
        if (x < real(-6.0)) {
            return real(2.0);
        }
        let s = real(1.0) / (ax * ax);
        var r: real;
        var q: real;
        if (ax < real(2.857142857142857)) {
            r = real(-9.86494403484714822705e-03) + s * (real(-6.93858572707181764372e-01) + s * (real(-1.05586262253232909814e+01)
                + s * (real(-6.23753324503260060396e+01) + s * (real(-1.62396669462573470355e+02) + s * (real(-1.84605092906711035994e+02)
                + s * (real(-8.12874355063065934246e+01) + s * real(-9.81432934416914548592e+00)))))));
            q = real(1.0) + s * (real(1.96512716674392571292e+01) + s * (real(1.37657754143519042600e+02) + s * (real(4.34565877475229228821e+02)
                + s * (real(6.45387271733267880336e+02) + s * (real(4.29008140027567833386e+02) + s * (real(1.08635005541779435134e+02)
                + s * (real(6.57024977031928170135e+00) + s * real(-6.04244152148580987438e-02))))))));
        } else {
            r = real(-9.86494292470009928597e-03) + s * (real(-7.99283237680523006574e-01) + s * (real(-1.77579549177547519889e+01)
                + s * (real(-1.60636384855821916062e+02) + s * (real(-6.37566443368389627722e+02) + s * (real(-1.02509513161107724954e+03)
                + s * real(-4.83519191608651397019e+02))))));
            q = real(1.0) + s * (real(3.03380607434824582924e+01) + s * (real(3.25792512996573918826e+02) + s * (real(1.53672958608443695994e+03)
                + s * (real(3.19985821950859553908e+03) + s * (real(2.55305040643316442583e+03) + s * (real(4.74528541206955367215e+02)
                + s * real(-2.24409524465858183362e+01)))))));
        }
        let e = exp_r(-ax * ax - real(0.5625) + r / q) / ax;
        if (x > real(0.0)) {
            return e;
        }
        return real(2.0) - e;
    }
    if (x > real(0.0)) {
        return real(0.0);
    }
    return real(2.0);
}

// 1 - 1/t² + 3/t⁴ - … (nine terms): Φ(t) = φ(t)/(-t) · ndtr_series(t) far in the left tail.
fn ndtr_series(t: real) -> real {
    return real(1.0) + ndtr_series_rest(t);
}

// ndtr_series(t) - 1 = -1/t² + 3/t⁴ - …, summed on its own (it keeps its digits where tiny).
fn ndtr_series_rest(t: real) -> real {
    let w = real(1.0) / (t * t);
    var s = real(0.0);
    for (var k = 8; k >= 1; k--) {
        s = -(real(2 * k - 1)) * w * (real(1.0) + s);
    }
    return s;
}

// ln Φ(t), mirrors log_ndtr in src/model/dist/normal_cdf.rs.
fn log_ndtr_r(t: real) -> real {
    let r = real(0.70710678118654752440);
    if (t > real(0.0)) {
        return log1p_r(real(-0.5) * erfc_r(t * r));
    }
    if (t > NDTR_ASYMPTOTIC_BELOW) {
        return ln_r(real(0.5) * erfc_r(-t * r));
    }
    if (!(t > neg_inf())) {
        return neg_inf();
    }
    return real(-0.5) * t * t - ln_r(-t) - HALF_LN_2PI + ln_r(ndtr_series(t));
}

// φ(t)/Φ(t), mirrors mills in src/model/dist/normal_cdf.rs.
fn mills_r(t: real) -> real {
    let r = real(0.70710678118654752440);
    let phi = exp_r(real(-0.5) * t * t - HALF_LN_2PI);
    if (t > real(0.0)) {
        return phi / (real(1.0) - real(0.5) * erfc_r(t * r));
    }
    if (t > NDTR_ASYMPTOTIC_BELOW) {
        return phi / (real(0.5) * erfc_r(-t * r));
    }
    return -t / ndtr_series(t);
}

// ln(1 - e^d) for d < 0.
fn log1mexp_r(d: real) -> real {
    if (d > -LN_2) {
        return ln_r(-expm1_r(d));
    }
    return log1p_r(-exp_r(d));
}

// ln Φ(z) (upper false) or ln(1 - Φ(z)) (upper true) of z = (x - mu)/sigma, with m its
// derivative in z: ∂/∂x = m/σ, ∂/∂μ = -m/σ, ∂/∂σ = -m z/σ (the censored normal's and
// log-normal's bound terms). Mirrors normal_tail_grad in src/model/dist/normal.rs and log_tail
// in src/model/dist/normal_cdf.rs.
fn gaussian_tail(x: real, mu: real, sigma: real, upper: bool) -> Lg {
    let inv_sigma = real(1.0) / sigma;
    let z = (x - mu) * inv_sigma;
    var v: real;
    var m: real;
    if (upper) {
        v = log_ndtr_r(-z);
        m = -mills_r(-z);
    } else {
        v = log_ndtr_r(z);
        m = mills_r(z);
    }
    return Lg(v, vec4<real>(m * inv_sigma, -m * inv_sigma, -m * z * inv_sigma, real(0.0)));
}

// A censored family's log density and partials (x, lower, upper, base…) from the base's term b:
// its value, its partial in its own argument (moved to `slot`: 0 for a value inside the bounds,
// 1 for the lower bound, 2 for the upper) and the base's parameters' partials after. Mirrors
// lpdf_grad in src/model/dist/censoring.rs.
fn censored_terms(b: Lg, slot: i32) -> Lg8 {
    var g = vec4<real>(real(0.0), real(0.0), real(0.0), b.g.y);
    g[slot] = b.g.x;
    return Lg8(b.v, g, vec4<real>(b.g.z, b.g.w, real(0.0), real(0.0)));
}

// censored_terms of a one-parameter base, whose four slots fit an Lg (CensoredExponential).
fn censored_terms3(b: Lg, slot: i32) -> Lg {
    let t = censored_terms(b, slot);
    return Lg(t.v, t.g);
}

// ln Z = ln(Φ(beta) - Φ(alpha)) with φ(alpha)/Z and φ(beta)/Z; `lo`/`hi` say whether each
// bound exists (a missing one's ratio is 0). Mirrors normal_mass in
// src/model/dist/normal_cdf.rs.
fn normal_mass_r(alpha: real, beta: real, lo: bool, hi: bool) -> vec3<real> {
    var lz = real(0.0);
    var ra = real(0.0);
    var rb = real(0.0);
    if (lo && !hi) {
        lz = log_ndtr_r(-alpha);
        ra = mills_r(-alpha);
    } else if (hi && !lo) {
        lz = log_ndtr_r(beta);
        rb = mills_r(beta);
    } else if (lo && hi) {
        if (alpha > real(0.0)) {
            let la = log_ndtr_r(-alpha);
            lz = la + log1mexp_r(log_ndtr_r(-beta) - la);
        } else {
            let lb = log_ndtr_r(beta);
            lz = lb + log1mexp_r(log_ndtr_r(alpha) - lb);
        }
        ra = exp_r(real(-0.5) * alpha * alpha - HALF_LN_2PI - lz);
        rb = exp_r(real(-0.5) * beta * beta - HALF_LN_2PI - lz);
    }
    return vec3<real>(lz, ra, rb);
}

// The ordinal families' ln(F(beta) - F(alpha)) and its partials in alpha, in beta, and their
// sum (formed without cancellation); `lo`/`hi` say which bounds exist (a missing one is passed
// as 0). Mirror the links in src/model/dist/ordered_logistic.rs and ordered_probit.rs.
fn ordinal_logistic_mass(alpha: real, beta: real, lo: bool, hi: bool) -> vec4<real> {
    let sa = logistic(alpha);
    let sb = logistic(-beta);
    if (lo && hi) {
        let q = real(1.0) / expm1_r(beta - alpha);
        return vec4<real>(-softplus(alpha) - softplus(-beta) + log1mexp_r(alpha - beta), -sa - q, sb + q, sb - sa);
    }
    if (lo) {
        return vec4<real>(-softplus(alpha), -sa, real(0.0), -sa);
    }
    if (hi) {
        return vec4<real>(-softplus(-beta), real(0.0), sb, sb);
    }
    return vec4<real>(real(0.0));
}

fn ordinal_probit_mass(alpha: real, beta: real, lo: bool, hi: bool) -> vec4<real> {
    let m = normal_mass_r(alpha, beta, lo, hi);
    var sum = m.z - m.y;
    if (lo && hi) {
        sum = m.y * expm1_r((alpha - beta) * (alpha + beta) * real(0.5));
    }
    return vec4<real>(m.x, -m.y, m.z, sum);
}

// Truncated normal: log density and partials (x, mu, sigma, lower) in g, upper in h.x, for x
// inside the bounds; `lo`/`hi` say which bounds exist. Mirrors truncated_normal in
// src/model/dist/normal_cdf.rs.
fn truncated_normal_terms(x: real, mu: real, sigma: real, lower: real, upper: real, lo: bool, hi: bool) -> Lg8 {
    let inv_sigma = real(1.0) / sigma;
    let z = (x - mu) * inv_sigma;
    let alpha = (lower - mu) * inv_sigma;
    let beta = (upper - mu) * inv_sigma;
    let mass = normal_mass_r(alpha, beta, lo, hi);
    let lz = mass.x;
    let ra = mass.y;
    let rb = mass.z;
    var at = real(0.0);
    var bt = real(0.0);
    if (lo) {
        at = alpha * ra;
    }
    if (hi) {
        bt = beta * rb;
    }
    return Lg8(
        -ln_r(sigma) - HALF_LN_2PI - real(0.5) * z * z - lz,
        vec4<real>(-z * inv_sigma, (z - ra + rb) * inv_sigma, (z * z - real(1.0) - at + bt) * inv_sigma, ra * inv_sigma),
        vec4<real>(-rb * inv_sigma, real(0.0), real(0.0), real(0.0)),
    );
}

// (ln(e^-x I0(x)), I1(x)/I0(x), 1 - I1(x)/I0(x)), mirrors src/model/dist/bessel.rs: the power
// series up to |x| = 20, Hankel's asymptotic series above (with 1 - I1/I0 summed as a series of
// its own there); each stops at a term below half an ulp of its sum. I0 is even and I1 odd: a
// negative x is |x|'s with ln I0 shifted by 2|x| and the ratio's sign turned.
fn ln_i0e_ratio(x_in: real) -> vec3<real> {
    let b = ln_i0e_ratio_nonneg(abs(x_in));
    if (x_in < real(0.0)) {
        return vec3<real>(b.x - real(2.0) * x_in, -b.y, real(2.0) - b.z);
    }
    return b;
}

fn ln_i0e_ratio_nonneg(x: real) -> vec3<real> {
    let eps = real(0.5) * REAL_EPS;
    if (x <= real(20.0)) {
        // s0 - 1 summed on its own: ln I0 = log1p(s0 - 1) keeps a small argument's digits.
        let t = real(0.25) * x * x;
        var a = real(1.0);
        var b = real(1.0);
        var s0m1 = real(0.0);
        var s1 = real(1.0);
        for (var k = real(1.0); k < real(60.0); k += real(1.0)) {
            a = a * t / (k * k);
            b = b * t / (k * (k + real(1.0)));
            s0m1 = s0m1 + a;
            s1 = s1 + b;
            if (a < eps * (real(1.0) + s0m1)) {
                break;
            }
        }
        let r = real(0.5) * x * s1 / (real(1.0) + s0m1);
        return vec3<real>(log1p_r(s0m1) - x, r, real(1.0) - r);
    }
    let u = real(1.0) / (real(8.0) * x);
    var a = real(1.0);
    var b = real(1.0);
    var s0 = real(1.0);
    var s1 = real(1.0);
    var d = real(0.0);
    for (var k = real(1.0); k < real(60.0); k += real(1.0)) {
        let odd = (real(2.0) * k - real(1.0)) * (real(2.0) * k - real(1.0));
        a = a * odd * u / k;
        b = b * (odd - real(4.0)) * u / k;
        s0 = s0 + a;
        s1 = s1 + b;
        d = d + (a - b);
        if (abs(a) < eps * s0 && abs(b) < eps * abs(s1) && abs(a - b) < eps * d) {
            break;
        }
    }
    return vec3<real>(ln_r(s0) - real(0.5) * ln_r(real(6.28318530717958647692) * x), s1 / s0, d / s0);
}
