// PoissonLog(log_mu = p0), mirrors src/model/dist/poisson.rs. x ∈ {0, 1, …}.
// ln p(x) = x η - e^η - ln x!; ∂/∂η = x - e^η. The kernel leaves out -ln x!.

fn poisson_log_kernel_grad(x: real, p0: real) -> Lg {
    if (!is_count_r(x)) {
        return Lg(neg_inf(), vec4<real>());
    }
    let mu = exp_r(p0);
    return Lg(x * p0 - mu, vec4<real>(real(0.0), x - mu, real(0.0), real(0.0)));
}

fn poisson_log_lpdf_grad(x: real, p0: real) -> Lg {
    let k = poisson_log_kernel_grad(x, p0);
    return Lg(k.v - lgamma(x + real(1.0)), k.g);
}

fn poisson_log_log_normalizer_grad(p0: real) -> Lg {
    return Lg(real(0.0), vec4<real>());
}
