// CensoredNormal(lower = p0, upper = p1, mu = p2, sigma = p3), mirrors
// src/model/dist/censored_normal.rs: ln F(lower) at the lower bound, ln(1 - F(upper)) at the upper
// one, the base's log density between (special.wgsl: censored_terms).

fn censored_normal_lpdf_grad(x: real, p0: real, p1: real, p2: real, p3: real) -> Lg8 {
    if (!(x >= p0 && x <= p1)) {
        return Lg8(neg_inf(), vec4<real>(), vec4<real>());
    }
    if (x == p0) {
        return censored_terms(normal_log_cdf_grad(p0, p2, p3), 1);
    }
    if (x == p1) {
        return censored_terms(normal_log_sf_grad(p1, p2, p3), 2);
    }
    return censored_terms(normal_lpdf_grad(x, p2, p3), 0);
}

fn censored_normal_kernel_grad(x: real, p0: real, p1: real, p2: real, p3: real) -> Lg8 {
    return censored_normal_lpdf_grad(x, p0, p1, p2, p3);
}

fn censored_normal_log_normalizer_grad(p0: real, p1: real, p2: real, p3: real) -> Lg8 {
    return Lg8(real(0.0), vec4<real>(), vec4<real>());
}
