// Gamma(alpha = p0, beta = p1), shape/rate, mirrors src/model/dist/gamma.rs.
// ln p(x) = α ln β - ln Γ(α) + (α - 1) ln x - βx on 0 < x < ∞ (-inf outside, zero partials).
// Split (NORMALIZER_PARAMS = [alpha]): kernel = α ln β + (α - 1) ln x - βx,
// log_normalizer(α) = -ln Γ(α).

fn gamma_lpdf(x: real, p0: real, p1: real) -> real {
    if (!(x > real(0.0) && x < pos_inf())) {
        return neg_inf();
    }
    return p0 * ln_r(p1) - lgamma(p0) + (p0 - real(1.0)) * ln_r(x) - p1 * x;
}

// ∂/∂x = (α - 1)/x - β, ∂/∂α = ln β - ψ(α) + ln x, ∂/∂β = α/β - x.
fn gamma_lpdf_grad(x: real, p0: real, p1: real) -> Lg {
    if (!(x > real(0.0) && x < pos_inf())) {
        return Lg(neg_inf(), vec4<real>());
    }
    let alpha = p0;
    let beta = p1;
    let ln_x = ln_r(x);
    let ln_beta = ln_r(beta);
    let v = alpha * ln_beta - lgamma(alpha) + (alpha - real(1.0)) * ln_x - beta * x;
    return Lg(v, vec4<real>(
        (alpha - real(1.0)) / x - beta,
        ln_beta - digamma(alpha) + ln_x,
        alpha / beta - x,
        real(0.0),
    ));
}

// Kernel: ∂/∂x = (α - 1)/x - β, ∂/∂α = ln β + ln x, ∂/∂β = α/β - x.
fn gamma_kernel_grad(x: real, p0: real, p1: real) -> Lg {
    if (!(x > real(0.0) && x < pos_inf())) {
        return Lg(neg_inf(), vec4<real>());
    }
    let alpha = p0;
    let beta = p1;
    let ln_x = ln_r(x);
    let ln_beta = ln_r(beta);
    let v = alpha * ln_beta + (alpha - real(1.0)) * ln_x - beta * x;
    return Lg(v, vec4<real>((alpha - real(1.0)) / x - beta, ln_beta + ln_x, alpha / beta - x, real(0.0)));
}

// -ln Γ(α); ∂/∂α = -ψ(α).
fn gamma_log_normalizer_grad(p0: real, p1: real) -> Lg {
    return Lg(-lgamma(p0), vec4<real>(real(0.0), -digamma(p0), real(0.0), real(0.0)));
}
