// BinomialLogit(n = p0, logit_p = p1), mirrors src/model/dist/binomial.rs. x ∈ {0, …, n}.
// ln p(x) = ln C(n, x) + x l - n softplus(l); ∂/∂l = x - n σ(l). The kernel leaves out ln C(n, x).

fn binomial_logit_kernel_grad(x: real, p0: real, p1: real) -> Lg {
    if (!(is_count_r(x) && x <= p0)) {
        return Lg(neg_inf(), vec4<real>());
    }
    return Lg(x * p1 - p0 * softplus(p1), vec4<real>(real(0.0), real(0.0), x - p0 * logistic(p1), real(0.0)));
}

fn binomial_logit_lpdf_grad(x: real, p0: real, p1: real) -> Lg {
    let k = binomial_logit_kernel_grad(x, p0, p1);
    return Lg(k.v + ln_choose(p0, x), k.g);
}

fn binomial_logit_log_normalizer_grad(p0: real, p1: real) -> Lg {
    return Lg(real(0.0), vec4<real>());
}
