// StudentT(nu = p0, mu = p1, sigma = p2), mirrors src/model/dist/student_t.rs.
// ln p(x) = ln Γ((ν+1)/2) - ln Γ(ν/2) - ln(νπ)/2 - ln σ - (ν+1)/2 · ln(1 + z²/ν), z = (x - μ)/σ.
// Support: the real line (not checked, as in Rust).
// No kernel/normaliser split on the Rust side: kernel = lpdf, log_normalizer = 0.

fn student_t_lpdf(x: real, p0: real, p1: real, p2: real) -> real {
    let half_nu = real(0.5) * p0;
    let z = (x - p1) / p2;
    let log_norm = lgamma(half_nu + real(0.5)) - lgamma(half_nu) - real(0.5) * (ln_r(p0) + LN_PI) - ln_r(p2);
    return log_norm - (half_nu + real(0.5)) * log1p_r(z * z / p0);
}

// With w = (ν + 1)/(ν + z²): ∂/∂x = -wz/σ, ∂/∂μ = wz/σ, ∂/∂σ = (wz² - 1)/σ,
// ∂/∂ν = (ψ((ν+1)/2) - ψ(ν/2) - 1/ν - ln(1 + z²/ν) + wz²/ν)/2.
fn student_t_lpdf_grad(x: real, p0: real, p1: real, p2: real) -> Lg {
    let nu = p0;
    let inv_sigma = real(1.0) / p2;
    let z = (x - p1) * inv_sigma;
    let z2 = z * z;
    let half_nu = real(0.5) * nu;
    let log1p_t = log1p_r(z2 / nu);
    let w = (nu + real(1.0)) / (nu + z2);
    let dz = w * z * inv_sigma;
    let log_norm = lgamma(half_nu + real(0.5)) - lgamma(half_nu) - real(0.5) * (ln_r(nu) + LN_PI) - ln_r(p2);
    let v = log_norm - (half_nu + real(0.5)) * log1p_t;
    return Lg(v, vec4<real>(
        -dz,
        real(0.5) * (digamma(half_nu + real(0.5)) - digamma(half_nu) - real(1.0) / nu - log1p_t + w * z2 / nu),
        dz,
        (w * z2 - real(1.0)) * inv_sigma,
    ));
}

fn student_t_kernel_grad(x: real, p0: real, p1: real, p2: real) -> Lg {
    return student_t_lpdf_grad(x, p0, p1, p2);
}

fn student_t_log_normalizer_grad(p0: real, p1: real, p2: real) -> Lg {
    return Lg(real(0.0), vec4<real>());
}
