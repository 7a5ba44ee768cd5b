// HurdlePoisson(psi = p0, mu = p1), mirrors src/model/dist/hurdle_poisson.rs.
// p(0) = 1 - ψ, p(x) = ψ Poisson(x | μ)/(1 - e^-μ) for x > 0 (hurdle in special.wgsl).
// The kernel leaves out -ln x!.

fn hurdle_poisson_kernel_grad(x: real, p0: real, p1: real) -> Lg {
    if (!is_count_r(x)) {
        return Lg(neg_inf(), vec4<real>());
    }
    return hurdle(x, p0, poisson_kernel_grad(x, p1), poisson_kernel_grad(real(0.0), p1));
}

fn hurdle_poisson_lpdf_grad(x: real, p0: real, p1: real) -> Lg {
    let k = hurdle_poisson_kernel_grad(x, p0, p1);
    return Lg(k.v - lgamma(x + real(1.0)), k.g);
}

fn hurdle_poisson_log_normalizer_grad(p0: real, p1: real) -> Lg {
    return Lg(real(0.0), vec4<real>());
}
