// HalfNormal(sigma = p0), mirrors src/model/dist/half_normal.rs.
// ln p(x) = ln 2 - ln σ - ln(2π)/2 - z²/2, z = x/σ, on 0 < x < ∞ (-inf outside, zero partials).
// No kernel/normaliser split on the Rust side: kernel = lpdf, log_normalizer = 0.

fn half_normal_lpdf(x: real, p0: real) -> real {
    if (!(x > real(0.0) && x < pos_inf())) {
        return neg_inf();
    }
    let z = x / p0;
    return real(-0.5) * z * z - ln_r(p0) + (LN_2 - HALF_LN_2PI);
}

// ∂/∂x = -z/σ, ∂/∂σ = (z² - 1)/σ.
fn half_normal_lpdf_grad(x: real, p0: real) -> Lg {
    if (!(x > real(0.0) && x < pos_inf())) {
        return Lg(neg_inf(), vec4<real>());
    }
    let inv_sigma = real(1.0) / p0;
    let z = x * inv_sigma;
    let v = real(-0.5) * z * z - ln_r(p0) + (LN_2 - HALF_LN_2PI);
    return Lg(v, vec4<real>(-z * inv_sigma, (z * z - real(1.0)) * inv_sigma, real(0.0), real(0.0)));
}

fn half_normal_kernel_grad(x: real, p0: real) -> Lg {
    return half_normal_lpdf_grad(x, p0);
}

fn half_normal_log_normalizer_grad(p0: real) -> Lg {
    return Lg(real(0.0), vec4<real>());
}
