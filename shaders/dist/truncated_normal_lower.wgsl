// Normal(mu = p1, sigma = p2) truncated below at lower = p0, mirrors
// src/model/dist/truncated_normal_lower.rs (special.wgsl: truncated_normal_terms).

fn truncated_normal_lower_lpdf_grad(x: real, p0: real, p1: real, p2: real) -> Lg {
    if (!(x > p0 && x < pos_inf())) {
        return Lg(neg_inf(), vec4<real>());
    }
    let t = truncated_normal_terms(x, p1, p2, p0, real(0.0), true, false);
    return Lg(t.v, vec4<real>(t.g.x, t.g.w, t.g.y, t.g.z));
}

fn truncated_normal_lower_kernel_grad(x: real, p0: real, p1: real, p2: real) -> Lg {
    return truncated_normal_lower_lpdf_grad(x, p0, p1, p2);
}

fn truncated_normal_lower_log_normalizer_grad(p0: real, p1: real, p2: real) -> Lg {
    return Lg(real(0.0), vec4<real>());
}
