// HurdleNegativeBinomial(psi = p0, mu = p1, alpha = p2), mirrors
// src/model/dist/hurdle_negative_binomial.rs.
// p(0) = 1 - ψ, p(x) = ψ NB(x | μ, α)/(1 - NB(0 | μ, α)) for x > 0 (hurdle in special.wgsl).
// The kernel leaves out -ln x!.

fn hurdle_negative_binomial_kernel_grad(x: real, p0: real, p1: real, p2: real) -> Lg {
    if (!is_count_r(x)) {
        return Lg(neg_inf(), vec4<real>());
    }
    let b0 = negative_binomial_kernel_grad(real(0.0), p1, p2);
    return hurdle(x, p0, negative_binomial_kernel_grad(x, p1, p2), b0);
}

fn hurdle_negative_binomial_lpdf_grad(x: real, p0: real, p1: real, p2: real) -> Lg {
    let k = hurdle_negative_binomial_kernel_grad(x, p0, p1, p2);
    return Lg(k.v - lgamma(x + real(1.0)), k.g);
}

fn hurdle_negative_binomial_log_normalizer_grad(p0: real, p1: real, p2: real) -> Lg {
    return Lg(real(0.0), vec4<real>());
}
