// Kumaraswamy(a = p0, b = p1), mirrors src/model/dist/kumaraswamy.rs.
// ln p(x) = ln a + ln b + (a - 1) ln x + (b - 1) ln(1 - x^a) on 0 < x < 1 (-inf outside, zero
// partials); 1 - x^a = -expm1(a ln x). No split.
// ∂/∂x = ((a - 1) - (b - 1) a r)/x, ∂/∂a = 1/a + ln x - (b - 1) r ln x, ∂/∂b = 1/b + ln(1 - x^a),
// r = x^a/(1 - x^a).

fn kumaraswamy_lpdf_grad(x: real, p0: real, p1: real) -> Lg {
    if (!(x > real(0.0) && x < real(1.0))) {
        return Lg(neg_inf(), vec4<real>());
    }
    // ln x as log1p(x - 1) above 1/2 (x - 1 exact there): the f32 hardware log's absolute
    // error would be magnified by 1/(1 - x^a) through expm1.
    let ln_x = select(ln_r(x), log1p_r(x - real(1.0)), x > real(0.5));
    let xa = exp_r(p0 * ln_x);
    let one_minus = -expm1_r(p0 * ln_x);
    let r = xa / one_minus;
    let l1m = ln_r(one_minus);
    return Lg(ln_r(p0) + ln_r(p1) + (p0 - real(1.0)) * ln_x + (p1 - real(1.0)) * l1m, vec4<real>(
        ((p0 - real(1.0)) - (p1 - real(1.0)) * p0 * r) / x,
        real(1.0) / p0 + ln_x - (p1 - real(1.0)) * r * ln_x,
        real(1.0) / p1 + l1m,
        real(0.0),
    ));
}

fn kumaraswamy_kernel_grad(x: real, p0: real, p1: real) -> Lg {
    return kumaraswamy_lpdf_grad(x, p0, p1);
}

fn kumaraswamy_log_normalizer_grad(p0: real, p1: real) -> Lg {
    return Lg(real(0.0), vec4<real>());
}
