// StudentT(nu = p0, mu = p1, sigma = p2), mirrors src/model/dist/student_t.rs.
// ln p(x) = ln Γ((ν+1)/2) - ln Γ(ν/2) - ln(νπ)/2 - ln σ - (ν+1)/2 · ln(1 + z²/ν), z = (x - μ)/σ.
// Split (NORMALIZER_PARAMS = [nu]): kernel -ln σ - (ν+1)/2 · ln(1 + z²/ν), log_normalizer(ν)
// the Γ terms. Support: the real line (not checked, as in Rust).

fn student_t_lpdf(x: real, p0: real, p1: real, p2: real) -> real {
    let half_nu = real(0.5) * p0;
    let z = (x - p1) / p2;
    let log_norm = lgamma(half_nu + real(0.5)) - lgamma(half_nu) - real(0.5) * (ln_r(p0) + LN_PI) - ln_r(p2);
    return log_norm - (half_nu + real(0.5)) * log1p_r(z * z / p0);
}

// With w = (ν + 1)/(ν + z²): ∂/∂x = -wz/σ, ∂/∂μ = wz/σ, ∂/∂σ = (wz² - 1)/σ,
// ∂/∂ν (kernel) = (wz²/ν - ln(1 + z²/ν))/2.
fn student_t_kernel_grad(x: real, p0: real, p1: real, p2: real) -> Lg {
    let nu = p0;
    let inv_sigma = real(1.0) / p2;
    let z = (x - p1) * inv_sigma;
    let z2 = z * z;
    let log1p_t = log1p_r(z2 / nu);
    let w = (nu + real(1.0)) / (nu + z2);
    let dz = w * z * inv_sigma;
    let v = -ln_r(p2) - (real(0.5) * nu + real(0.5)) * log1p_t;
    return Lg(v, vec4<real>(
        -dz,
        real(0.5) * (w * z2 / nu - log1p_t),
        dz,
        (w * z2 - real(1.0)) * inv_sigma,
    ));
}

// ∂/∂ν (normaliser) = (ψ((ν+1)/2) - ψ(ν/2) - 1/ν)/2.
fn student_t_log_normalizer_grad(p0: real, p1: real, p2: real) -> Lg {
    let half_nu = real(0.5) * p0;
    let v = lgamma(half_nu + real(0.5)) - lgamma(half_nu) - real(0.5) * (ln_r(p0) + LN_PI);
    return Lg(v, vec4<real>(real(0.0), real(0.5) * (digamma(half_nu + real(0.5)) - digamma(half_nu) - real(1.0) / p0), real(0.0), real(0.0)));
}

fn student_t_lpdf_grad(x: real, p0: real, p1: real, p2: real) -> Lg {
    let k = student_t_kernel_grad(x, p0, p1, p2);
    let n = student_t_log_normalizer_grad(p0, p1, p2);
    return Lg(k.v + n.v, k.g + n.g);
}
