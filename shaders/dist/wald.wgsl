// Wald(mu = p0, lam = p1), the inverse Gaussian, mirrors src/model/dist/wald.rs.
// ln p(x) = ln(λ)/2 - ln(2π)/2 - 3 ln(x)/2 - λ r²/(2x), r = (x - μ)/μ, on 0 < x < ∞ (-inf
// outside, zero partials). Split (NORMALIZER_PARAMS = [lam]): kernel -3 ln(x)/2 - λ r²/(2x),
// log_normalizer(λ) = ln(λ)/2 - ln(2π)/2.

// Kernel: ∂/∂x = -3/(2x) - λ r (x + μ)/(2μx²) (λ/(2x²) - λ/(2μ²) without the cancellation),
// ∂/∂μ = λ r/μ², ∂/∂λ = -r²/(2x).
fn wald_kernel_grad(x: real, p0: real, p1: real) -> Lg {
    if (!(x > real(0.0) && x < pos_inf())) {
        return Lg(neg_inf(), vec4<real>());
    }
    let r = (x - p0) / p0;
    let h = real(0.5) * r * r / x;
    return Lg(real(-1.5) * ln_r(x) - p1 * h, vec4<real>(
        real(-1.5) / x - real(0.5) * p1 * r * (x + p0) / (p0 * x * x),
        p1 * r / (p0 * p0),
        -h,
        real(0.0),
    ));
}

fn wald_log_normalizer_grad(p0: real, p1: real) -> Lg {
    return Lg(real(0.5) * ln_r(p1) - HALF_LN_2PI, vec4<real>(real(0.0), real(0.0), real(0.5) / p1, real(0.0)));
}

fn wald_lpdf_grad(x: real, p0: real, p1: real) -> Lg {
    let k = wald_kernel_grad(x, p0, p1);
    if (!(k.v > neg_inf())) {
        return Lg(neg_inf(), vec4<real>());
    }
    let n = wald_log_normalizer_grad(p0, p1);
    return Lg(k.v + n.v, k.g + n.g);
}
