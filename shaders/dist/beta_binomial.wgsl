// BetaBinomial(alpha = p0, beta = p1, n = p2), mirrors src/model/dist/beta_binomial.rs.
// x ∈ {0, …, n}. ln p(x) = ln C(n, x) + ln B(x + α, n - x + β) - ln B(α, β);
// ∂/∂α = ψ(x + α) - ψ(n + α + β) - ψ(α) + ψ(α + β), β alike with n - x.
// The kernel leaves out ln C(n, x), which the host sums where x and n are data.

fn beta_binomial_kernel_grad(x: real, p0: real, p1: real, p2: real) -> Lg {
    if (!(is_count_r(x) && x <= p2)) {
        return Lg(neg_inf(), vec4<real>());
    }
    let s = p0 + p1;
    let d_sum = digamma(s) - digamma(p2 + s);
    let v = lgamma(x + p0) + lgamma(p2 - x + p1) - lgamma(p2 + s) - lgamma(p0) - lgamma(p1) + lgamma(s);
    let da = digamma(x + p0) - digamma(p0) + d_sum;
    let db = digamma(p2 - x + p1) - digamma(p1) + d_sum;
    return Lg(v, vec4<real>(real(0.0), da, db, real(0.0)));
}

fn beta_binomial_lpdf_grad(x: real, p0: real, p1: real, p2: real) -> Lg {
    let k = beta_binomial_kernel_grad(x, p0, p1, p2);
    return Lg(k.v + ln_choose(p2, x), k.g);
}

fn beta_binomial_log_normalizer_grad(p0: real, p1: real, p2: real) -> Lg {
    return Lg(real(0.0), vec4<real>());
}
