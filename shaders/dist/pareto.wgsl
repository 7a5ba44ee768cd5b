// Pareto(m = p0, alpha = p1), mirrors src/model/dist/pareto.rs.
// ln p(x) = ln α + α ln m - (α + 1) ln x on m < x < ∞ (-inf outside, zero partials), as
// ln α - α ln(x/m) - ln x with ln(x/m) = log1p((x - m)/m) (no cancellation of α ln m against
// α ln x). ∂/∂x = -(α + 1)/x, ∂/∂m = α/m, ∂/∂α = 1/α - ln(x/m). No split.

fn pareto_lpdf_grad(x: real, p0: real, p1: real) -> Lg {
    if (!(x > p0 && x < pos_inf())) {
        return Lg(neg_inf(), vec4<real>());
    }
    let ln_ratio = log1p_r((x - p0) / p0);
    return Lg(ln_r(p1) - p1 * ln_ratio - ln_r(x), vec4<real>(
        -(p1 + real(1.0)) / x,
        p1 / p0,
        real(1.0) / p1 - ln_ratio,
        real(0.0),
    ));
}

fn pareto_kernel_grad(x: real, p0: real, p1: real) -> Lg {
    return pareto_lpdf_grad(x, p0, p1);
}

fn pareto_log_normalizer_grad(p0: real, p1: real) -> Lg {
    return Lg(real(0.0), vec4<real>());
}
