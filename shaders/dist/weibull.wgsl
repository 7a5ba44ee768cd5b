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
// ln(1 - F) = -u, with partials -u (α/x, l, -α/β), and ln F = ln(1 - e^-u), with partials
// q (α/x, l, -α/β), q = u/(e^u - 1): 0 where u overflows; below α l = -30, ln F = α l - u/2
// and q = 1 - u/2 (finite where u underflows). No mass at or below 0.
fn weibull_tail_grad(x: real, p0: real, p1: real, upper: bool) -> Lg {
    if (x <= real(0.0)) {
        return Lg(select(neg_inf(), real(0.0), upper), vec4<real>());
    }
    let l = ln_r(x) - ln_r(p1);
    let al = p0 * l;
    let u = exp_r(al);
    var v: real;
    var q: real;
    if (upper) {
        v = -u;
        q = -u;
    } else if (al < real(-30.0)) {
        v = al - real(0.5) * u;
        q = real(1.0) - real(0.5) * u;
    } else if (u > real(1e30)) {
        v = real(0.0);
        q = real(0.0);
    } else {
        v = log1mexp_r(-u);
        q = u / expm1_r(u);
    }
    return Lg(v, vec4<real>(q * p0 / x, q * l, -q * p0 / p1, real(0.0)));
}

fn weibull_log_cdf_grad(x: real, p0: real, p1: real) -> Lg {
    return weibull_tail_grad(x, p0, p1, false);
}

fn weibull_log_sf_grad(x: real, p0: real, p1: real) -> Lg {
    return weibull_tail_grad(x, p0, p1, true);
}
