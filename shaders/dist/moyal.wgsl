// Moyal(mu = p0, sigma = p1), mirrors src/model/dist/moyal.rs.
// ln p(x) = -(z + e^-z)/2 - ln σ - ln(2π)/2, z = (x - μ)/σ (-inf at ±inf, zero partials).
// Split (NORMALIZER_PARAMS = [sigma]): kernel -(z + e^-z)/2, log_normalizer(σ) =
// -ln σ - ln(2π)/2.

// Kernel, d = 1 - e^-z: ∂/∂x = -d/(2σ), ∂/∂μ = d/(2σ), ∂/∂σ = zd/(2σ).
fn moyal_kernel_grad(x: real, p0: real, p1: real) -> Lg {
    if (!(abs(x) < pos_inf())) {
        return Lg(neg_inf(), vec4<real>());
    }
    let z = (x - p0) / p1;
    let d = -expm1_r(-z);
    let h = real(0.5) / p1;
    return Lg(real(-0.5) * (z + exp_r(-z)), vec4<real>(-d * h, d * h, z * d * h, real(0.0)));
}

fn moyal_log_normalizer_grad(p0: real, p1: real) -> Lg {
    return Lg(-ln_r(p1) - HALF_LN_2PI, vec4<real>(real(0.0), real(0.0), real(-1.0) / p1, real(0.0)));
}

fn moyal_lpdf_grad(x: real, p0: real, p1: real) -> Lg {
    let k = moyal_kernel_grad(x, p0, p1);
    if (!(k.v > neg_inf())) {
        return Lg(neg_inf(), vec4<real>());
    }
    let n = moyal_log_normalizer_grad(p0, p1);
    return Lg(k.v + n.v, k.g + n.g);
}
