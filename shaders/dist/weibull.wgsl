// Weibull(alpha = p0, beta = p1), mirrors src/model/dist/weibull.rs. x > 0.
// ln p(x) = ln α - ln β + (α - 1) ln t - t^α, t = x/β.

fn weibull_lpdf_grad(x: real, p0: real, p1: real) -> Lg {
    if (!(x > real(0.0) && x < pos_inf())) {
        return Lg(neg_inf(), vec4<real>());
    }
    let a = p0;
    let l = ln_r(x) - ln_r(p1);
    let ta = exp_r(a * l);
    let v = ln_r(a) - ln_r(p1) + (a - real(1.0)) * l - ta;
    return Lg(v, vec4<real>((a - real(1.0) - a * ta) / x, real(1.0) / a + (real(1.0) - ta) * l, a * (ta - real(1.0)) / p1, real(0.0)));
}

fn weibull_kernel_grad(x: real, p0: real, p1: real) -> Lg {
    return weibull_lpdf_grad(x, p0, p1);
}

fn weibull_log_normalizer_grad(p0: real, p1: real) -> Lg {
    return Lg(real(0.0), vec4<real>());
}

// Censoring, mirrors weibull_tail_grad in src/model/dist/weibull.rs. With u = (x/β)^α:
// ln(1 - F) = -u and ln F = ln(1 - e^-u); the latter's partials are the former's negated
// times r = 1/(e^u - 1) (0 where u overflows). No mass at or below 0.
fn weibull_tail_grad(x: real, p0: real, p1: real, upper: bool) -> Lg {
    if (x <= real(0.0)) {
        return Lg(select(neg_inf(), real(0.0), upper), vec4<real>());
    }
    let l = ln_r(x) - ln_r(p1);
    let u = exp_r(p0 * l);
    var w = real(-1.0);
    var v = -u;
    if (!upper) {
        w = real(1.0) / expm1_r(u);
        v = log1mexp_r(-u);
    }
    if (w == real(0.0)) {
        return Lg(v, vec4<real>());
    }
    return Lg(v, vec4<real>(w * p0 * u / x, w * u * l, -w * p0 * u / p1, real(0.0)));
}

fn weibull_log_cdf_grad(x: real, p0: real, p1: real) -> Lg {
    return weibull_tail_grad(x, p0, p1, false);
}

fn weibull_log_sf_grad(x: real, p0: real, p1: real) -> Lg {
    return weibull_tail_grad(x, p0, p1, true);
}
