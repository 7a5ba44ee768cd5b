// SkewStudentT(a = p0, b = p1, mu = p2, sigma = p3), mirrors src/model/dist/skew_student_t.rs.
// ln p(x) = -(a+b-1) ln 2 - ln B(a, b) - ln(a+b)/2 - ln σ + (a+½) ln(1 + t/s) + (b+½) ln(1 - t/s),
// t = (x - μ)/σ, s = √(a + b + t²); the factor that falls in a tail taken as (a+b)/(s(s+|t|)).
// Split (NORMALIZER_PARAMS = [a, b]): the kernel from -ln σ on, the normaliser the Γ terms.
// Partials in Lg8: g = (x, a, b, μ), h.x = σ.

fn skew_student_t_kernel_grad(x: real, p0: real, p1: real, p2: real, p3: real) -> Lg8 {
    if (!(abs(x) < pos_inf())) {
        return Lg8(neg_inf(), vec4<real>(), vec4<real>());
    }
    let ha = p0 + real(0.5);
    let hb = p1 + real(0.5);
    let ab = p0 + p1;
    let t = (x - p2) / p3;
    let r = abs(t);
    // s without overflowing t².
    var s = sqrt(ab + r * r);
    if (r > real(1.0)) {
        s = r * sqrt(real(1.0) + ab / r / r);
    }
    let ln_small = ln_r(ab) - ln_r(s) - ln_r(s + r);
    let ln_large = log1p_r(r / s);
    let toward = ab / s / s / (s + r);
    let away = (real(1.0) + r / s) / s;
    var ln_plus = ln_large;
    var ln_minus = ln_small;
    var d = ha * toward - hb * away;
    if (t < real(0.0)) {
        ln_plus = ln_small;
        ln_minus = ln_large;
        d = ha * away - hb * toward;
    }
    let td = t * d;
    let v = -ln_r(p3) + ha * ln_plus + hb * ln_minus;
    return Lg8(v, vec4<real>(d / p3, ln_plus - td / (real(2.0) * ab), ln_minus - td / (real(2.0) * ab), -d / p3),
        vec4<real>(-(real(1.0) + td) / p3, real(0.0), real(0.0), real(0.0)));
}

// ∂/∂a = -ln 2 - ψ(a) + ψ(a+b) - 1/(2(a+b)), ∂/∂b likewise.
fn skew_student_t_log_normalizer_grad(p0: real, p1: real, p2: real, p3: real) -> Lg8 {
    let ab = p0 + p1;
    let v = -(ab - real(1.0)) * LN_2 - (lgamma(p0) + lgamma(p1) - lgamma(ab)) - real(0.5) * ln_r(ab);
    let psi_ab = digamma(ab) - real(0.5) / ab - LN_2;
    return Lg8(v, vec4<real>(real(0.0), psi_ab - digamma(p0), psi_ab - digamma(p1), real(0.0)), vec4<real>());
}

fn skew_student_t_lpdf_grad(x: real, p0: real, p1: real, p2: real, p3: real) -> Lg8 {
    let k = skew_student_t_kernel_grad(x, p0, p1, p2, p3);
    if (k.v == neg_inf()) {
        return k;
    }
    let n = skew_student_t_log_normalizer_grad(p0, p1, p2, p3);
    return Lg8(k.v + n.v, k.g + n.g, k.h + n.h);
}
