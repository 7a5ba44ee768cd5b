// SkewNormal(mu = p0, sigma = p1, alpha = p2), mirrors src/model/dist/skew_normal.rs.
// ln p(x) = ln 2 - ln σ - ln(2π)/2 - z²/2 + ln Φ(αz), z = (x - μ)/σ; m = φ(αz)/Φ(αz).

fn skew_normal_lpdf_grad(x: real, p0: real, p1: real, p2: real) -> Lg {
    let inv_sigma = real(1.0) / p1;
    let z = (x - p0) * inv_sigma;
    let t = p2 * z;
    let lc = log_ndtr_r(t);
    let m = mills_r(t);
    let d = -z + p2 * m;
    return Lg(LN_2 - ln_r(p1) - HALF_LN_2PI - real(0.5) * z * z + lc, vec4<real>(
        d * inv_sigma,
        -d * inv_sigma,
        (z * z - t * m - real(1.0)) * inv_sigma,
        z * m,
    ));
}

fn skew_normal_kernel_grad(x: real, p0: real, p1: real, p2: real) -> Lg {
    return skew_normal_lpdf_grad(x, p0, p1, p2);
}

fn skew_normal_log_normalizer_grad(p0: real, p1: real, p2: real) -> Lg {
    return Lg(real(0.0), vec4<real>());
}
