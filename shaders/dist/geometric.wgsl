// Geometric(p = p0), mirrors src/model/dist/geometric.rs.
// ln p(x) = ln p + (x - 1) ln(1 - p) on x ∈ {1, 2, …} (-inf elsewhere, zero partials); the
// ln(1 - p) term is 0 at x = 1. ∂/∂p = 1/p - (x - 1)/(1 - p). No split.

fn geometric_lpdf_grad(x: real, p0: real) -> Lg {
    if (!(is_count_r(x) && x >= real(1.0))) {
        return Lg(neg_inf(), vec4<real>());
    }
    let k = x - real(1.0);
    if (k > real(0.0)) {
        return Lg(ln_r(p0) + k * log1p_r(-p0), vec4<real>(real(0.0), real(1.0) / p0 - k / (real(1.0) - p0), real(0.0), real(0.0)));
    }
    return Lg(ln_r(p0), vec4<real>(real(0.0), real(1.0) / p0, real(0.0), real(0.0)));
}
