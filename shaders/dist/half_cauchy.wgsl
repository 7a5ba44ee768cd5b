// HalfCauchy(beta = p0), mirrors src/model/dist/half_cauchy.rs.
// ln p(x) = ln 2 - ln π - ln β - ln(1 + z²), z = x/β, on 0 < x < ∞ (-inf outside, zero partials).
// Split (NORMALIZER_PARAMS = [beta]): kernel -ln(1 + z²), log_normalizer ln 2 - ln π - ln β.

fn half_cauchy_lpdf(x: real, p0: real) -> real {
    if (!(x > real(0.0) && x < pos_inf())) {
        return neg_inf();
    }
    let z = x / p0;
    return (LN_2 - LN_PI) - ln_r(p0) - log1p_r(z * z);
}

// With w = 2/((1 + z²)β): ∂/∂x = -zw, ∂/∂β (kernel) = z²w.
fn half_cauchy_kernel_grad(x: real, p0: real) -> Lg {
    if (!(x > real(0.0) && x < pos_inf())) {
        return Lg(neg_inf(), vec4<real>());
    }
    let inv_beta = real(1.0) / p0;
    let z = x * inv_beta;
    let z2 = z * z;
    let w = real(2.0) * inv_beta / (real(1.0) + z2);
    return Lg(-log1p_r(z2), vec4<real>(-z * w, z2 * w, real(0.0), real(0.0)));
}

// ∂/∂β (normaliser) = -1/β.
fn half_cauchy_log_normalizer_grad(p0: real) -> Lg {
    return Lg((LN_2 - LN_PI) - ln_r(p0), vec4<real>(real(0.0), real(-1.0) / p0, real(0.0), real(0.0)));
}

fn half_cauchy_lpdf_grad(x: real, p0: real) -> Lg {
    if (!(x > real(0.0) && x < pos_inf())) {
        return Lg(neg_inf(), vec4<real>());
    }
    let k = half_cauchy_kernel_grad(x, p0);
    let n = half_cauchy_log_normalizer_grad(p0);
    return Lg(k.v + n.v, k.g + n.g);
}
