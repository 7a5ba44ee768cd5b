// CensoredExponential(lower = p0, upper = p1, lam = p2), mirrors
// src/model/dist/censored_exponential.rs: ln F(lower) at the lower bound, ln(1 - F(upper)) at the upper
// one, the base's log density between (special.wgsl: censored_terms).

fn censored_exponential_lpdf_grad(x: real, p0: real, p1: real, p2: real) -> Lg {
    if (!(x >= p0 && x <= p1)) {
        return Lg(neg_inf(), vec4<real>());
    }
    if (x == p0) {
        return censored_terms3(exponential_log_cdf_grad(p0, p2), 1);
    }
    if (x == p1) {
        return censored_terms3(exponential_log_sf_grad(p1, p2), 2);
    }
    return censored_terms3(exponential_lpdf_grad(x, p2), 0);
}

fn censored_exponential_kernel_grad(x: real, p0: real, p1: real, p2: real) -> Lg {
    return censored_exponential_lpdf_grad(x, p0, p1, p2);
}

fn censored_exponential_log_normalizer_grad(p0: real, p1: real, p2: real) -> Lg {
    return Lg(real(0.0), vec4<real>());
}
