// ChiSquared(nu = p0), mirrors src/model/dist/chi_squared.rs.
// ln p(x) = (ν/2 - 1) ln x - x/2 - (ν/2) ln 2 - ln Γ(ν/2) on 0 < x < ∞ (-inf outside, zero
// partials). Split (NORMALIZER_PARAMS = [nu]): kernel (ν/2 - 1) ln x - x/2,
// log_normalizer(ν) = -(ν/2) ln 2 - ln Γ(ν/2).

// Kernel: ∂/∂x = (ν/2 - 1)/x - 1/2, ∂/∂ν = ln(x)/2.
fn chi_squared_kernel_grad(x: real, p0: real) -> Lg {
    if (!(x > real(0.0) && x < pos_inf())) {
        return Lg(neg_inf(), vec4<real>());
    }
    let k = real(0.5) * p0;
    let ln_x = ln_r(x);
    return Lg((k - real(1.0)) * ln_x - real(0.5) * x, vec4<real>((k - real(1.0)) / x - real(0.5), real(0.5) * ln_x, real(0.0), real(0.0)));
}

// ∂/∂ν = -(ln 2 + ψ(ν/2))/2.
fn chi_squared_log_normalizer_grad(p0: real) -> Lg {
    let k = real(0.5) * p0;
    return Lg(-k * LN_2 - lgamma(k), vec4<real>(real(0.0), real(-0.5) * (LN_2 + digamma(k)), real(0.0), real(0.0)));
}

fn chi_squared_lpdf_grad(x: real, p0: real) -> Lg {
    let k = chi_squared_kernel_grad(x, p0);
    if (!(k.v > neg_inf())) {
        return Lg(neg_inf(), vec4<real>());
    }
    let n = chi_squared_log_normalizer_grad(p0);
    return Lg(k.v + n.v, k.g + n.g);
}
