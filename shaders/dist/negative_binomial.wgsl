// NegativeBinomial(mu = p0, alpha = p1), mirrors src/model/dist/negative_binomial.rs.
// ln p(x) = ln Γ(x + α) - ln Γ(α) - ln x! + α ln(α/(μ + α)) + x ln(μ/(μ + α)), x ∈ {0, 1, …}.
// The kernel leaves out -ln x!.

fn negative_binomial_kernel_grad(x: real, p0: real, p1: real) -> Lg {
    if (!is_count_r(x)) {
        return Lg(neg_inf(), vec4<real>());
    }
    let mu = p0;
    let alpha = p1;
    let t = nb_terms(x, alpha, -log1p_r(mu / alpha), ln_r(mu) - ln_r(mu + alpha), mu / (mu + alpha));
    return Lg(t.x, vec4<real>(real(0.0), t.y / mu, t.z, real(0.0)));
}

fn negative_binomial_lpdf_grad(x: real, p0: real, p1: real) -> Lg {
    let k = negative_binomial_kernel_grad(x, p0, p1);
    return Lg(k.v - lgamma(x + real(1.0)), k.g);
}

fn negative_binomial_log_normalizer_grad(p0: real, p1: real) -> Lg {
    return Lg(real(0.0), vec4<real>());
}
