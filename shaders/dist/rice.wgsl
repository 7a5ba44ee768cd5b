// Rice(nu = p0, sigma = p1), mirrors src/model/dist/rice.rs.
// ln p(x) = ln x - 2 ln σ - (x - ν)²/(2σ²) + ln(e^-z I0(z)), z = xν/σ² (-inf for x ≤ 0, zero
// partials). Split (NORMALIZER_PARAMS = [sigma]): log_normalizer(σ) = -2 ln σ.

// Kernel, r = I1(z)/I0(z): ∂/∂x = 1/x + (rν - x)/σ², ∂/∂ν = (rx - ν)/σ²,
// ∂/∂σ = (x - ν)²/σ³ + 2(1 - r)z/σ.
fn rice_kernel_grad(x: real, p0: real, p1: real) -> Lg {
    if (!(x > real(0.0) && x < pos_inf())) {
        return Lg(neg_inf(), vec4<real>());
    }
    let s2 = p1 * p1;
    let z = x * p0 / s2;
    let b = ln_i0e_ratio(z);
    let d = x - p0;
    return Lg(ln_r(x) - real(0.5) * d * d / s2 + b.x, vec4<real>(
        real(1.0) / x + (b.y * p0 - x) / s2,
        (b.y * x - p0) / s2,
        d * d / (s2 * p1) + real(2.0) * b.z * z / p1,
        real(0.0),
    ));
}

fn rice_log_normalizer_grad(p0: real, p1: real) -> Lg {
    return Lg(real(-2.0) * ln_r(p1), vec4<real>(real(0.0), real(0.0), real(-2.0) / p1, real(0.0)));
}

fn rice_lpdf_grad(x: real, p0: real, p1: real) -> Lg {
    let k = rice_kernel_grad(x, p0, p1);
    if (!(k.v > neg_inf())) {
        return Lg(neg_inf(), vec4<real>());
    }
    let n = rice_log_normalizer_grad(p0, p1);
    return Lg(k.v + n.v, k.g + n.g);
}
