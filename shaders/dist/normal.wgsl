// Normal(mu = p0, sigma = p1), mirrors src/model/dist/normal.rs.
// ln p(x) = -z²/2 - ln σ - ln(2π)/2, z = (x - μ)/σ. Support: the real line (not checked, as in Rust).
// Split (NORMALIZER_PARAMS = [sigma]): kernel = -z²/2, log_normalizer(σ) = -ln σ - ln(2π)/2.

fn normal_lpdf(x: real, p0: real, p1: real) -> real {
    let z = (x - p0) / p1;
    return real(-0.5) * z * z - ln_r(p1) - HALF_LN_2PI;
}

// ∂/∂x = -z/σ, ∂/∂μ = z/σ, ∂/∂σ = (z² - 1)/σ.
fn normal_lpdf_grad(x: real, p0: real, p1: real) -> Lg {
    let inv_sigma = real(1.0) / p1;
    let z = (x - p0) * inv_sigma;
    let dz = z * inv_sigma;
    let v = real(-0.5) * z * z - ln_r(p1) - HALF_LN_2PI;
    return Lg(v, vec4<real>(-dz, dz, (z * z - real(1.0)) * inv_sigma, real(0.0)));
}

// Kernel -z²/2: ∂/∂x = -z/σ, ∂/∂μ = z/σ, ∂/∂σ = z²/σ.
fn normal_kernel_grad(x: real, p0: real, p1: real) -> Lg {
    let inv_sigma = real(1.0) / p1;
    let z = (x - p0) * inv_sigma;
    let dz = z * inv_sigma;
    return Lg(real(-0.5) * z * z, vec4<real>(-dz, dz, z * z * inv_sigma, real(0.0)));
}

// -ln σ - ln(2π)/2; ∂/∂σ = -1/σ.
fn normal_log_normalizer_grad(p0: real, p1: real) -> Lg {
    return Lg(-ln_r(p1) - HALF_LN_2PI, vec4<real>(real(0.0), real(0.0), real(-1.0) / p1, real(0.0)));
}

// ln Φ(z) and ln(1 - Φ(z)) of z = (x - μ)/σ with their partials (censoring; special.wgsl:
// gaussian_tail), mirror the Cdf impl in src/model/dist/normal.rs.
fn normal_log_cdf_grad(x: real, p0: real, p1: real) -> Lg {
    return gaussian_tail(x, p0, p1, false);
}

fn normal_log_sf_grad(x: real, p0: real, p1: real) -> Lg {
    return gaussian_tail(x, p0, p1, true);
}
