// Uniform(lower = p0, upper = p1), mirrors src/model/dist/uniform.rs.
// ln p(x) = -ln(upper - lower) on lower < x < upper (-inf outside, zero partials).
// No kernel/normaliser split on the Rust side: kernel = lpdf, log_normalizer = 0.

fn uniform_lpdf(x: real, p0: real, p1: real) -> real {
    if (!(x > p0 && x < p1)) {
        return neg_inf();
    }
    return -ln_r(p1 - p0);
}

// ∂/∂x = 0, ∂/∂lower = 1/(upper - lower), ∂/∂upper = -1/(upper - lower).
fn uniform_lpdf_grad(x: real, p0: real, p1: real) -> Lg {
    if (!(x > p0 && x < p1)) {
        return Lg(neg_inf(), vec4<real>());
    }
    let width = p1 - p0;
    let inv_width = real(1.0) / width;
    return Lg(-ln_r(width), vec4<real>(real(0.0), inv_width, -inv_width, real(0.0)));
}

fn uniform_kernel_grad(x: real, p0: real, p1: real) -> Lg {
    return uniform_lpdf_grad(x, p0, p1);
}

fn uniform_log_normalizer_grad(p0: real, p1: real) -> Lg {
    return Lg(real(0.0), vec4<real>());
}
