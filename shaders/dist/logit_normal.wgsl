// LogitNormal(mu = p0, sigma = p1), mirrors src/model/dist/logit_normal.rs.
// ln p(x) = -ln σ - ln(2π)/2 - z²/2 - ln x - ln(1 - x), z = (logit x - μ)/σ, on 0 < x < 1 (-inf
// outside, zero partials). Split (NORMALIZER_PARAMS = [sigma]): kernel -z²/2 - ln x - ln(1 - x),
// log_normalizer(σ) = -ln σ - ln(2π)/2.

// Kernel: ∂/∂x = -(z/σ)/(x(1 - x)) - 1/x + 1/(1 - x), ∂/∂μ = z/σ, ∂/∂σ = z²/σ.
fn logit_normal_kernel_grad(x: real, p0: real, p1: real) -> Lg {
    if (!(x > real(0.0) && x < real(1.0))) {
        return Lg(neg_inf(), vec4<real>());
    }
    let ln_x = ln_r(x);
    let ln_1mx = log1p_r(-x);
    let z = (ln_x - ln_1mx - p0) / p1;
    let dz = z / p1;
    return Lg(real(-0.5) * z * z - ln_x - ln_1mx, vec4<real>(
        -dz / (x * (real(1.0) - x)) - real(1.0) / x + real(1.0) / (real(1.0) - x),
        dz,
        z * dz,
        real(0.0),
    ));
}

fn logit_normal_log_normalizer_grad(p0: real, p1: real) -> Lg {
    return Lg(-ln_r(p1) - HALF_LN_2PI, vec4<real>(real(0.0), real(0.0), real(-1.0) / p1, real(0.0)));
}

fn logit_normal_lpdf_grad(x: real, p0: real, p1: real) -> Lg {
    let k = logit_normal_kernel_grad(x, p0, p1);
    if (!(k.v > neg_inf())) {
        return Lg(neg_inf(), vec4<real>());
    }
    let n = logit_normal_log_normalizer_grad(p0, p1);
    return Lg(k.v + n.v, k.g + n.g);
}
