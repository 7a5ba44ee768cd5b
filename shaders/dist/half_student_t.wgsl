// HalfStudentT(nu = p0, sigma = p1), mirrors src/model/dist/half_student_t.rs. x > 0.
// ln p(x) = ln 2 + ln Γ((ν+1)/2) - ln Γ(ν/2) - ln(νπ)/2 - ln σ - (ν+1)/2 ln(1 + z²/ν), z = x/σ.

fn half_student_t_lpdf_grad(x: real, p0: real, p1: real) -> Lg {
    if (!(x > real(0.0) && x < pos_inf())) {
        return Lg(neg_inf(), vec4<real>());
    }
    let nu = p0;
    let inv_sigma = real(1.0) / p1;
    let z = x * inv_sigma;
    let z2 = z * z;
    let half_nu = real(0.5) * nu;
    let log1p_t = log1p_r(z2 / nu);
    let w = (nu + real(1.0)) / (nu + z2);
    let log_norm = LN_2 + lgamma(half_nu + real(0.5)) - lgamma(half_nu) - real(0.5) * (ln_r(nu) + LN_PI) - ln_r(p1);
    return Lg(log_norm - (half_nu + real(0.5)) * log1p_t, vec4<real>(
        -w * z * inv_sigma,
        real(0.5) * (digamma(half_nu + real(0.5)) - digamma(half_nu) - real(1.0) / nu - log1p_t + w * z2 / nu),
        (w * z2 - real(1.0)) * inv_sigma,
        real(0.0),
    ));
}

fn half_student_t_kernel_grad(x: real, p0: real, p1: real) -> Lg {
    return half_student_t_lpdf_grad(x, p0, p1);
}

fn half_student_t_log_normalizer_grad(p0: real, p1: real) -> Lg {
    return Lg(real(0.0), vec4<real>());
}
