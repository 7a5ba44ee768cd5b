// Poisson(mu = p0), mirrors src/model/dist/poisson.rs. x ∈ {0, 1, …}.
// ln p(x) = x ln μ - μ - ln x!; ∂/∂μ = x/μ - 1. The kernel leaves out -ln x!.

fn poisson_kernel_grad(x: real, p0: real) -> Lg {
    if (!is_count_r(x)) {
        return Lg(neg_inf(), vec4<real>());
    }
    let t = select(real(0.0), x * ln_r(p0), x > real(0.0));
    // x/μ is 0 at x = 0, also where μ underflowed to 0.
    let d = select(real(0.0), x / p0, x > real(0.0)) - real(1.0);
    return Lg(t - p0, vec4<real>(real(0.0), d, real(0.0), real(0.0)));
}

fn poisson_lpdf_grad(x: real, p0: real) -> Lg {
    let k = poisson_kernel_grad(x, p0);
    return Lg(k.v - lgamma(x + real(1.0)), k.g);
}

fn poisson_log_normalizer_grad(p0: real) -> Lg {
    return Lg(real(0.0), vec4<real>());
}
