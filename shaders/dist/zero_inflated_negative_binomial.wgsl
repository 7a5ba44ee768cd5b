// ZeroInflatedNegativeBinomial(psi = p0, mu = p1, alpha = p2), mirrors
// src/model/dist/zero_inflated_negative_binomial.rs.
// p(0) = (1 - ψ) + ψ NB(0 | μ, α), p(x) = ψ NB(x | μ, α) for x > 0 (zero_inflate in
// special.wgsl). The kernel leaves out -ln x!.

fn zero_inflated_negative_binomial_kernel_grad(x: real, p0: real, p1: real, p2: real) -> Lg {
    if (!is_count_r(x)) {
        return Lg(neg_inf(), vec4<real>());
    }
    return zero_inflate(x, p0, negative_binomial_kernel_grad(x, p1, p2));
}

fn zero_inflated_negative_binomial_lpdf_grad(x: real, p0: real, p1: real, p2: real) -> Lg {
    let k = zero_inflated_negative_binomial_kernel_grad(x, p0, p1, p2);
    return Lg(k.v - lgamma(x + real(1.0)), k.g);
}

fn zero_inflated_negative_binomial_log_normalizer_grad(p0: real, p1: real, p2: real) -> Lg {
    return Lg(real(0.0), vec4<real>());
}
