// Cauchy(alpha = p0, beta = p1), location/scale, mirrors src/model/dist/cauchy.rs.
// ln p(x) = -ln π - ln β - ln(1 + z²), z = (x - α)/β. Support: the real line (not checked, as in Rust).
// No kernel/normaliser split on the Rust side: kernel = lpdf, log_normalizer = 0.

fn cauchy_lpdf(x: real, p0: real, p1: real) -> real {
    let z = (x - p0) / p1;
    return -LN_PI - ln_r(p1) - log1p_r(z * z);
}

// ∂/∂x = -2z/((1 + z²)β), ∂/∂α = 2z/((1 + z²)β), ∂/∂β = (z² - 1)/((1 + z²)β).
fn cauchy_lpdf_grad(x: real, p0: real, p1: real) -> Lg {
    let inv_beta = real(1.0) / p1;
    let z = (x - p0) * inv_beta;
    let z2 = z * z;
    let inv_1pz2 = real(1.0) / (real(1.0) + z2);
    let dz = real(2.0) * z * inv_1pz2 * inv_beta;
    let v = -LN_PI - ln_r(p1) - log1p_r(z2);
    return Lg(v, vec4<real>(-dz, dz, (z2 - real(1.0)) * inv_1pz2 * inv_beta, real(0.0)));
}

fn cauchy_kernel_grad(x: real, p0: real, p1: real) -> Lg {
    return cauchy_lpdf_grad(x, p0, p1);
}

fn cauchy_log_normalizer_grad(p0: real, p1: real) -> Lg {
    return Lg(real(0.0), vec4<real>());
}
