// Gumbel(mu = p0, beta = p1), mirrors src/model/dist/gumbel.rs.
// ln p(x) = -ln β - z - e^-z, z = (x - μ)/β (-inf at ±inf, zero partials).
// Split (NORMALIZER_PARAMS = [beta]): kernel -z - e^-z, log_normalizer(β) = -ln β.

// Kernel: ∂/∂x = -(1 - e^-z)/β, ∂/∂μ = (1 - e^-z)/β, ∂/∂β = z (1 - e^-z)/β.
fn gumbel_kernel_grad(x: real, p0: real, p1: real) -> Lg {
    if (!(abs(x) < pos_inf())) {
        return Lg(neg_inf(), vec4<real>());
    }
    let z = (x - p0) / p1;
    let d = -expm1_r(-z);
    return Lg(-z - exp_r(-z), vec4<real>(-d / p1, d / p1, z * d / p1, real(0.0)));
}

fn gumbel_log_normalizer_grad(p0: real, p1: real) -> Lg {
    return Lg(-ln_r(p1), vec4<real>(real(0.0), real(0.0), real(-1.0) / p1, real(0.0)));
}

fn gumbel_lpdf_grad(x: real, p0: real, p1: real) -> Lg {
    let k = gumbel_kernel_grad(x, p0, p1);
    if (!(k.v > neg_inf())) {
        return Lg(neg_inf(), vec4<real>());
    }
    let n = gumbel_log_normalizer_grad(p0, p1);
    return Lg(k.v + n.v, k.g + n.g);
}
