// VonMises(mu = p0, kappa = p1), mirrors src/model/dist/von_mises.rs.
// ln p(x) = κ cos(x - μ) - ln(2π) - ln I0(κ) on -π ≤ x ≤ π (-inf outside, zero partials),
// computed as -2κ sin²((x - μ)/2) - ln(2π) - ln(e^-κ I0(κ)) (no cancellation of the κ terms).
// Split (NORMALIZER_PARAMS = [kappa]): log_normalizer(κ) = -ln(2π) - ln(e^-κ I0(κ)),
// ∂/∂κ = 1 - I1(κ)/I0(κ).

// Kernel -2κ s², s = sin((x - μ)/2), c = cos((x - μ)/2): ∂/∂x = -2κ s c, ∂/∂μ = 2κ s c,
// ∂/∂κ = -2 s².
fn von_mises_kernel_grad(x: real, p0: real, p1: real) -> Lg {
    // The same π as wrap_angle_r's clamp.
    if (!(abs(x) <= real(3.14159265358979323846))) {
        return Lg(neg_inf(), vec4<real>());
    }
    let cs = cos_sin_r(real(0.5) * (x - p0));
    let two_s2 = real(2.0) * cs.y * cs.y;
    let d = real(2.0) * p1 * cs.y * cs.x;
    return Lg(-p1 * two_s2, vec4<real>(-d, d, -two_s2, real(0.0)));
}

fn von_mises_log_normalizer_grad(p0: real, p1: real) -> Lg {
    let b = ln_i0e_ratio(p1);
    return Lg(real(-1.83787706640934548356) - b.x, vec4<real>(real(0.0), real(0.0), b.z, real(0.0)));
}

fn von_mises_lpdf_grad(x: real, p0: real, p1: real) -> Lg {
    let k = von_mises_kernel_grad(x, p0, p1);
    if (!(k.v > neg_inf())) {
        return Lg(neg_inf(), vec4<real>());
    }
    let n = von_mises_log_normalizer_grad(p0, p1);
    return Lg(k.v + n.v, k.g + n.g);
}
