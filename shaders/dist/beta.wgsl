// Beta(alpha = p0, beta = p1), mirrors src/model/dist/beta.rs.
// ln p(x) = (α - 1) ln x + (β - 1) ln(1 - x) - ln B(α, β), ln B = ln Γ(α) + ln Γ(β) - ln Γ(α + β),
// on 0 < x < 1 (-inf outside, zero partials).
// No kernel/normaliser split on the Rust side: kernel = lpdf, log_normalizer = 0.

fn beta_lpdf(x: real, p0: real, p1: real) -> real {
    if (!(x > real(0.0) && x < real(1.0))) {
        return neg_inf();
    }
    let ln_b = lgamma(p0) + lgamma(p1) - lgamma(p0 + p1);
    return (p0 - real(1.0)) * ln_r(x) + (p1 - real(1.0)) * log1p_r(-x) - ln_b;
}

// ∂/∂x = (α - 1)/x - (β - 1)/(1 - x), ∂/∂α = ln x - ψ(α) + ψ(α + β),
// ∂/∂β = ln(1 - x) - ψ(β) + ψ(α + β).
fn beta_lpdf_grad(x: real, p0: real, p1: real) -> Lg {
    if (!(x > real(0.0) && x < real(1.0))) {
        return Lg(neg_inf(), vec4<real>());
    }
    let alpha = p0;
    let beta = p1;
    let ln_x = ln_r(x);
    let ln_1mx = log1p_r(-x);
    let psi_ab = digamma(alpha + beta);
    let ln_b = lgamma(alpha) + lgamma(beta) - lgamma(alpha + beta);
    let v = (alpha - real(1.0)) * ln_x + (beta - real(1.0)) * ln_1mx - ln_b;
    return Lg(v, vec4<real>(
        (alpha - real(1.0)) / x - (beta - real(1.0)) / (real(1.0) - x),
        ln_x - digamma(alpha) + psi_ab,
        ln_1mx - digamma(beta) + psi_ab,
        real(0.0),
    ));
}

fn beta_kernel_grad(x: real, p0: real, p1: real) -> Lg {
    return beta_lpdf_grad(x, p0, p1);
}

fn beta_log_normalizer_grad(p0: real, p1: real) -> Lg {
    return Lg(real(0.0), vec4<real>());
}
