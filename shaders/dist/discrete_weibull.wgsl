// DiscreteWeibull(q = p0, beta = p1), mirrors src/model/dist/discrete_weibull.rs. x ∈ {0, 1, …}.
// ln p(x) = x^β ln q + ln(1 - e^r), r = ((x+1)^β - x^β) ln q, the difference taken as
// x^β expm1(β ln(1 + 1/x)). With u = x^β, v = (x+1)^β, Δ = v - u, m = expm1(r):
// ∂/∂q = (v + Δ/m)/q, ∂/∂β = ln q (v ln(x+1) + (Δ ln(x+1) + u ln(1 + 1/x))/m) (0 at x = 0),
// free of cancellation. -inf with zero partials where x^β overflows. No split.

fn discrete_weibull_lpdf_grad(x: real, p0: real, p1: real) -> Lg {
    if (!is_count_r(x)) {
        return Lg(neg_inf(), vec4<real>());
    }
    let ln_q = ln_r(p0);
    let l1 = log1p_r(x);
    var u = real(0.0);
    var du = real(1.0);
    var inv_l = real(0.0);
    if (x > real(0.0)) {
        inv_l = log1p_r(real(1.0) / x);
        u = exp_r(p1 * ln_r(x));
        du = u * expm1_r(p1 * inv_l);
    }
    let v = u + du;
    if (!(v < pos_inf())) {
        return Lg(neg_inf(), vec4<real>());
    }
    let r = du * ln_q;
    let em1 = expm1_r(r);
    var d_beta = real(0.0);
    if (x > real(0.0)) {
        d_beta = ln_q * (v * l1 + (du * l1 + u * inv_l) / em1);
    }
    return Lg(u * ln_q + log1mexp_r(r), vec4<real>(real(0.0), (v + du / em1) / p0, d_beta, real(0.0)));
}
