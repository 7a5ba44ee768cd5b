// LogNormal(mu = p0, sigma = p1), mirrors src/model/dist/log_normal.rs.
// ln p(x) = -ln x - ln σ - ln(2π)/2 - z²/2, z = (ln x - μ)/σ, on 0 < x < ∞ (-inf outside, zero partials).
// No kernel/normaliser split on the Rust side: kernel = lpdf, log_normalizer = 0.

fn log_normal_lpdf(x: real, p0: real, p1: real) -> real {
    if (!(x > real(0.0) && x < pos_inf())) {
        return neg_inf();
    }
    let ln_x = ln_r(x);
    let z = (ln_x - p0) / p1;
    return real(-0.5) * z * z - ln_x - ln_r(p1) - HALF_LN_2PI;
}

// ∂/∂x = -(1 + z/σ)/x, ∂/∂μ = z/σ, ∂/∂σ = (z² - 1)/σ.
fn log_normal_lpdf_grad(x: real, p0: real, p1: real) -> Lg {
    if (!(x > real(0.0) && x < pos_inf())) {
        return Lg(neg_inf(), vec4<real>());
    }
    let inv_sigma = real(1.0) / p1;
    let ln_x = ln_r(x);
    let z = (ln_x - p0) * inv_sigma;
    let dz = z * inv_sigma;
    let v = real(-0.5) * z * z - ln_x - ln_r(p1) - HALF_LN_2PI;
    return Lg(v, vec4<real>(-(real(1.0) + dz) / x, dz, (z * z - real(1.0)) * inv_sigma, real(0.0)));
}

fn log_normal_kernel_grad(x: real, p0: real, p1: real) -> Lg {
    return log_normal_lpdf_grad(x, p0, p1);
}

fn log_normal_log_normalizer_grad(p0: real, p1: real) -> Lg {
    return Lg(real(0.0), vec4<real>());
}
