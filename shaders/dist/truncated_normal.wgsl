// TruncatedNormal(lower = p0, upper = p1, mu = p2, sigma = p3), mirrors
// src/model/dist/truncated_normal.rs (special.wgsl: truncated_normal_terms).

fn truncated_normal_lpdf_grad(x: real, p0: real, p1: real, p2: real, p3: real) -> Lg8 {
    if (!(x > p0 && x < p1)) {
        return Lg8(neg_inf(), vec4<real>(), vec4<real>());
    }
    let t = truncated_normal_terms(x, p2, p3, p0, p1, true, true);
    return Lg8(t.v, vec4<real>(t.g.x, t.g.w, t.h.x, t.g.y), vec4<real>(t.g.z, real(0.0), real(0.0), real(0.0)));
}

fn truncated_normal_kernel_grad(x: real, p0: real, p1: real, p2: real, p3: real) -> Lg8 {
    return truncated_normal_lpdf_grad(x, p0, p1, p2, p3);
}

fn truncated_normal_log_normalizer_grad(p0: real, p1: real, p2: real, p3: real) -> Lg8 {
    return Lg8(real(0.0), vec4<real>(), vec4<real>());
}
