// InverseGamma(alpha = p0, beta = p1), mirrors src/model/dist/inverse_gamma.rs. x > 0.
// ln p(x) = α ln β - ln Γ(α) - (α + 1) ln x - β/x.

fn inverse_gamma_lpdf_grad(x: real, p0: real, p1: real) -> Lg {
    if (!(x > real(0.0) && x < pos_inf())) {
        return Lg(neg_inf(), vec4<real>());
    }
    let ln_x = ln_r(x);
    let ln_b = ln_r(p1);
    let inv_x = real(1.0) / x;
    let v = p0 * ln_b - lgamma(p0) - (p0 + real(1.0)) * ln_x - p1 * inv_x;
    return Lg(v, vec4<real>((-(p0 + real(1.0)) + p1 * inv_x) * inv_x, ln_b - digamma(p0) - ln_x, p0 / p1 - inv_x, real(0.0)));
}

fn inverse_gamma_kernel_grad(x: real, p0: real, p1: real) -> Lg {
    return inverse_gamma_lpdf_grad(x, p0, p1);
}

fn inverse_gamma_log_normalizer_grad(p0: real, p1: real) -> Lg {
    return Lg(real(0.0), vec4<real>());
}
