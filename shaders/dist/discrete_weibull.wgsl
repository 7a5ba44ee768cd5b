// DiscreteWeibull(q = p0, beta = p1), mirrors src/model/dist/discrete_weibull.rs. x ∈ {0, 1, …}.
// ln p(x) = x^β ln q + ln(1 - e^r), r = ((x+1)^β - x^β) ln q, the difference taken as
// x^β expm1(β ln(1 + 1/x)). With wa = -1/expm1(r) and wb = e^r/expm1(r):
// ∂/∂q = (wa x^β + wb (x+1)^β)/q, ∂/∂β = ln q (wa x^β ln x + wb (x+1)^β ln(x + 1)). No split.

fn discrete_weibull_lpdf_grad(x: real, p0: real, p1: real) -> Lg {
    if (!is_count_r(x)) {
        return Lg(neg_inf(), vec4<real>());
    }
    let ln_q = ln_r(p0);
    let l1 = log1p_r(x);
    var u = real(0.0);
    var du = real(1.0);
    var lx = real(0.0);
    if (x > real(0.0)) {
        lx = ln_r(x);
        u = exp_r(p1 * lx);
        du = u * expm1_r(p1 * log1p_r(real(1.0) / x));
    }
    let r = du * ln_q;
    let em1 = expm1_r(r);
    let wa = real(-1.0) / em1;
    let wb = exp_r(r) / em1;
    let v = u + du;
    return Lg(u * ln_q + log1mexp_r(r), vec4<real>(real(0.0), (wa * u + wb * v) / p0, ln_q * (wa * u * lx + wb * v * l1), real(0.0)));
}
