// LogNormal(mu = p0, sigma = p1), mirrors src/model/dist/log_normal.rs.
// ln p(x) = -ln x - ln σ - ln(2π)/2 - z²/2, z = (ln x - μ)/σ, on 0 < x < ∞ (-inf outside, zero partials).
// Split (NORMALIZER_PARAMS = [sigma]): kernel = -z²/2 - ln x,
// log_normalizer(σ) = -ln σ - ln(2π)/2.

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

// Kernel -z²/2 - ln x: ∂/∂x = -(1 + z/σ)/x, ∂/∂μ = z/σ, ∂/∂σ = z²/σ.
fn log_normal_kernel_grad(x: real, p0: real, p1: real) -> Lg {
    if (!(x > real(0.0) && x < pos_inf())) {
        return Lg(neg_inf(), vec4<real>());
    }
    let inv_sigma = real(1.0) / p1;
    let ln_x = ln_r(x);
    let z = (ln_x - p0) * inv_sigma;
    let dz = z * inv_sigma;
    return Lg(real(-0.5) * z * z - ln_x, vec4<real>(-(real(1.0) + dz) / x, dz, z * z * inv_sigma, real(0.0)));
}

// -ln σ - ln(2π)/2; ∂/∂σ = -1/σ.
fn log_normal_log_normalizer_grad(p0: real, p1: real) -> Lg {
    return Lg(-ln_r(p1) - HALF_LN_2PI, vec4<real>(real(0.0), real(0.0), real(-1.0) / p1, real(0.0)));
}

// The normal's ln Φ(z) and ln(1 - Φ(z)) at ln x (censoring), mirrors log_normal_tail_grad in
// src/model/dist/log_normal.rs: ∂/∂x divided by x; no mass at or below 0.
fn log_normal_tail_grad(x: real, p0: real, p1: real, upper: bool) -> Lg {
    if (x <= real(0.0)) {
        return Lg(select(neg_inf(), real(0.0), upper), vec4<real>());
    }
    var t = gaussian_tail(ln_r(x), p0, p1, upper);
    t.g.x = t.g.x / x;
    return t;
}

fn log_normal_log_cdf_grad(x: real, p0: real, p1: real) -> Lg {
    return log_normal_tail_grad(x, p0, p1, false);
}

fn log_normal_log_sf_grad(x: real, p0: real, p1: real) -> Lg {
    return log_normal_tail_grad(x, p0, p1, true);
}
