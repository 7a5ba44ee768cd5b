// HalfCauchy(beta = p0), mirrors src/model/dist/half_cauchy.rs.
// ln p(x) = ln 2 - ln π - ln β - ln(1 + z²), z = x/β, on 0 < x < ∞ (-inf outside, zero partials).
// No kernel/normaliser split on the Rust side: kernel = lpdf, log_normalizer = 0.

fn half_cauchy_lpdf(x: real, p0: real) -> real {
    if (!(x > real(0.0) && x < pos_inf())) {
        return neg_inf();
    }
    let z = x / p0;
    return (LN_2 - LN_PI) - ln_r(p0) - log1p_r(z * z);
}

// ∂/∂x = -2z/((1 + z²)β), ∂/∂β = (z² - 1)/((1 + z²)β).
fn half_cauchy_lpdf_grad(x: real, p0: real) -> Lg {
    if (!(x > real(0.0) && x < pos_inf())) {
        return Lg(neg_inf(), vec4<real>());
    }
    let inv_beta = real(1.0) / p0;
    let z = x * inv_beta;
    let z2 = z * z;
    let inv_1pz2 = real(1.0) / (real(1.0) + z2);
    let v = (LN_2 - LN_PI) - ln_r(p0) - log1p_r(z2);
    return Lg(v, vec4<real>(
        real(-2.0) * z * inv_1pz2 * inv_beta,
        (z2 - real(1.0)) * inv_1pz2 * inv_beta,
        real(0.0),
        real(0.0),
    ));
}

fn half_cauchy_kernel_grad(x: real, p0: real) -> Lg {
    return half_cauchy_lpdf_grad(x, p0);
}

fn half_cauchy_log_normalizer_grad(p0: real) -> Lg {
    return Lg(real(0.0), vec4<real>());
}
