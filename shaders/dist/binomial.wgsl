// Binomial(n = p0, p = p1), mirrors src/model/dist/binomial.rs. x ∈ {0, …, n}.
// ln p(x) = ln C(n, x) + x ln p + (n - x) ln(1 - p) (0 ln 0 = 0); ∂/∂p = x/p - (n - x)/(1 - p).
// The kernel leaves out ln C(n, x), which the host sums where x and n are data.

fn binomial_kernel_grad(x: real, p0: real, p1: real) -> Lg {
    if (!(is_count_r(x) && x <= p0)) {
        return Lg(neg_inf(), vec4<real>());
    }
    var v = real(0.0);
    var d = real(0.0);
    if (x > real(0.0)) {
        v += x * ln_r(p1);
        d += x / p1;
    }
    if (p0 - x > real(0.0)) {
        v += (p0 - x) * log1p_r(-p1);
        d -= (p0 - x) / (real(1.0) - p1);
    }
    return Lg(v, vec4<real>(real(0.0), real(0.0), d, real(0.0)));
}

fn binomial_lpdf_grad(x: real, p0: real, p1: real) -> Lg {
    let k = binomial_kernel_grad(x, p0, p1);
    return Lg(k.v + ln_choose(p0, x), k.g);
}

fn binomial_log_normalizer_grad(p0: real, p1: real) -> Lg {
    return Lg(real(0.0), vec4<real>());
}
