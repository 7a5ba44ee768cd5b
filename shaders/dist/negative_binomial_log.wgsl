// NegativeBinomialLog(log_mu = p0, alpha = p1), mirrors src/model/dist/negative_binomial.rs:
// ln(μ + α) = logaddexp(η, ln α), μ/(μ + α) = σ(η - ln α). The kernel leaves out -ln x!.

fn negative_binomial_log_kernel_grad(x: real, p0: real, p1: real) -> Lg {
    if (!is_count_r(x)) {
        return Lg(neg_inf(), vec4<real>());
    }
    let eta = p0;
    let alpha = p1;
    let ln_alpha = ln_r(alpha);
    let l = max(eta, ln_alpha) + log1p_r(exp_r(-abs(eta - ln_alpha)));
    let t = nb_terms(x, alpha, ln_alpha - l, eta - l, logistic(eta - ln_alpha));
    return Lg(t.x, vec4<real>(real(0.0), t.y, t.z, real(0.0)));
}

fn negative_binomial_log_lpdf_grad(x: real, p0: real, p1: real) -> Lg {
    let k = negative_binomial_log_kernel_grad(x, p0, p1);
    return Lg(k.v - lgamma(x + real(1.0)), k.g);
}

fn negative_binomial_log_log_normalizer_grad(p0: real, p1: real) -> Lg {
    return Lg(real(0.0), vec4<real>());
}
