// ExGaussian(mu = p0, sigma = p1, nu = p2), mirrors src/model/dist/ex_gaussian.rs.
// ln p(x) = -ln ν + (μ - x)/ν + σ²/(2ν²) + ln Φ(t), t = z - σ/ν, z = (x - μ)/σ; below
// t = -20 (f64; -7 in f32 kernels) the cancelling terms are dropped:
// -ln ν - z²/2 + (ln Φ(t) + t²/2), the bracket and its derivative h' = m + t from the
// asymptotic series (m = φ(t)/Φ(t)). No split.

fn ex_gaussian_lpdf_grad(x: real, p0: real, p1: real, p2: real) -> Lg {
    if (!(abs(x) < pos_inf())) {
        return Lg(neg_inf(), vec4<real>());
    }
    let inv_nu = real(1.0) / p2;
    let z = (x - p0) / p1;
    let t = z - p1 * inv_nu;
    let dt_sigma = -z / p1 - inv_nu;
    // The switch: f64's at -20, as the Rust; f32 kernels switch at -7, where the series is
    // already exact to f32 and mills_r's exp would cost digits through the cancellation.
    let below = select(real(-7.0), NDTR_ASYMPTOTIC_BELOW, NDTR_ASYMPTOTIC_BELOW < real(-15.0));
    if (t > below) {
        let m = mills_r(t);
        let dx = -inv_nu + m / p1;
        let s_nu = p1 * inv_nu;
        return Lg(-ln_r(p2) + (p0 - x) * inv_nu + real(0.5) * s_nu * s_nu + log_ndtr_r(t), vec4<real>(
            dx,
            -dx,
            p1 * inv_nu * inv_nu + m * dt_sigma,
            -inv_nu + (x - p0) * inv_nu * inv_nu - s_nu * s_nu * inv_nu + m * s_nu * inv_nu,
        ));
    }
    let r = ndtr_series_rest(t);
    let h = -ln_r(-t) - HALF_LN_2PI + log1p_r(r);
    let dh = t * r / (real(1.0) + r);
    let dx = (dh - z) / p1;
    return Lg(-ln_r(p2) - real(0.5) * z * z + h, vec4<real>(
        dx,
        -dx,
        z * z / p1 + dh * dt_sigma,
        -inv_nu + dh * p1 * inv_nu * inv_nu,
    ));
}

fn ex_gaussian_kernel_grad(x: real, p0: real, p1: real, p2: real) -> Lg {
    return ex_gaussian_lpdf_grad(x, p0, p1, p2);
}

fn ex_gaussian_log_normalizer_grad(p0: real, p1: real, p2: real) -> Lg {
    return Lg(real(0.0), vec4<real>());
}
