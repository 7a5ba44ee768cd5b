// Normal(mu = p1, sigma = p2) truncated above at upper = p0, mirrors
// src/model/dist/truncated_normal_upper.rs (special.wgsl: truncated_normal_terms).

fn truncated_normal_upper_lpdf_grad(x: real, p0: real, p1: real, p2: real) -> Lg {
    if (!(x < p0 && x > neg_inf())) {
        return Lg(neg_inf(), vec4<real>());
    }
    let t = truncated_normal_terms(x, p1, p2, real(0.0), p0, false, true);
    return Lg(t.v, vec4<real>(t.g.x, t.h.x, t.g.y, t.g.z));
}

fn truncated_normal_upper_kernel_grad(x: real, p0: real, p1: real, p2: real) -> Lg {
    return truncated_normal_upper_lpdf_grad(x, p0, p1, p2);
}

fn truncated_normal_upper_log_normalizer_grad(p0: real, p1: real, p2: real) -> Lg {
    return Lg(real(0.0), vec4<real>());
}
