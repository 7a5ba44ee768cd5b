// Exponential(lam = p0), rate, mirrors src/model/dist/exponential.rs.
// ln p(x) = ln λ - λx on 0 < x < ∞ (-inf outside, zero partials).
// No kernel/normaliser split on the Rust side: kernel = lpdf, log_normalizer = 0.

fn exponential_lpdf(x: real, p0: real) -> real {
    if (!(x > real(0.0) && x < pos_inf())) {
        return neg_inf();
    }
    return ln_r(p0) - p0 * x;
}

// ∂/∂x = -λ, ∂/∂λ = 1/λ - x.
fn exponential_lpdf_grad(x: real, p0: real) -> Lg {
    if (!(x > real(0.0) && x < pos_inf())) {
        return Lg(neg_inf(), vec4<real>());
    }
    return Lg(ln_r(p0) - p0 * x, vec4<real>(-p0, real(1.0) / p0 - x, real(0.0), real(0.0)));
}

fn exponential_kernel_grad(x: real, p0: real) -> Lg {
    return exponential_lpdf_grad(x, p0);
}

fn exponential_log_normalizer_grad(p0: real) -> Lg {
    return Lg(real(0.0), vec4<real>());
}

// Censoring, mirrors the Cdf impl in src/model/dist/exponential.rs. With h = λx:
// ln F = ln(1 - e^-h), ∂/∂x = λ r, ∂/∂λ = x r, r = 1/(e^h - 1); no mass at or below 0.
fn exponential_log_cdf_grad(x: real, p0: real) -> Lg {
    if (x <= real(0.0)) {
        return Lg(neg_inf(), vec4<real>());
    }
    let h = p0 * x;
    let r = real(1.0) / expm1_r(h);
    return Lg(log1mexp_r(-h), vec4<real>(p0 * r, x * r, real(0.0), real(0.0)));
}

// ln(1 - F) = -λx: ∂/∂x = -λ, ∂/∂λ = -x.
fn exponential_log_sf_grad(x: real, p0: real) -> Lg {
    if (x <= real(0.0)) {
        return Lg(real(0.0), vec4<real>());
    }
    return Lg(-p0 * x, vec4<real>(-p0, -x, real(0.0), real(0.0)));
}
