// ZeroInflatedBinomial(psi = p0, n = p1, p = p2), mirrors src/model/dist/zero_inflated_binomial.rs.
// p(0) = (1 - ψ) + ψ (1 - p)^n, p(x) = ψ Binomial(x | n, p) for x > 0 (zero_inflate in
// special.wgsl). The kernel leaves out ln C(n, x), which the host sums where x and n are data.

fn zero_inflated_binomial_kernel_grad(x: real, p0: real, p1: real, p2: real) -> Lg {
    if (!(is_count_r(x) && x <= p1)) {
        return Lg(neg_inf(), vec4<real>());
    }
    return zero_inflate(x, p0, binomial_kernel_grad(x, p1, p2));
}

fn zero_inflated_binomial_lpdf_grad(x: real, p0: real, p1: real, p2: real) -> Lg {
    let k = zero_inflated_binomial_kernel_grad(x, p0, p1, p2);
    return Lg(k.v + ln_choose(p1, x), k.g);
}

fn zero_inflated_binomial_log_normalizer_grad(p0: real, p1: real, p2: real) -> Lg {
    return Lg(real(0.0), vec4<real>());
}
