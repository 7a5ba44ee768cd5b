// ZeroInflatedPoisson(psi = p0, mu = p1), mirrors src/model/dist/zero_inflated_poisson.rs.
// p(0) = (1 - ψ) + ψ e^-μ, p(x) = ψ Poisson(x | μ) for x > 0 (zero_inflate in special.wgsl).
// The kernel leaves out -ln x!.

fn zero_inflated_poisson_kernel_grad(x: real, p0: real, p1: real) -> Lg {
    if (!is_count_r(x)) {
        return Lg(neg_inf(), vec4<real>());
    }
    return zero_inflate(x, p0, poisson_kernel_grad(x, p1));
}

fn zero_inflated_poisson_lpdf_grad(x: real, p0: real, p1: real) -> Lg {
    let k = zero_inflated_poisson_kernel_grad(x, p0, p1);
    return Lg(k.v - lgamma(x + real(1.0)), k.g);
}

fn zero_inflated_poisson_log_normalizer_grad(p0: real, p1: real) -> Lg {
    return Lg(real(0.0), vec4<real>());
}
