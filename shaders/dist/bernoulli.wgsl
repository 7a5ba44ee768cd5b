// Bernoulli(p = p0), mirrors src/model/dist/bernoulli.rs. x ∈ {0, 1} (-inf otherwise).
// ln p(x) = ln p (x = 1), ln(1 - p) (x = 0); ∂/∂p = 1/p or -1/(1 - p).

fn bernoulli_lpdf_grad(x: real, p0: real) -> Lg {
    if (x == real(1.0)) {
        return Lg(ln_r(p0), vec4<real>(real(0.0), real(1.0) / p0, real(0.0), real(0.0)));
    }
    if (x == real(0.0)) {
        return Lg(log1p_r(-p0), vec4<real>(real(0.0), real(-1.0) / (real(1.0) - p0), real(0.0), real(0.0)));
    }
    return Lg(neg_inf(), vec4<real>());
}

fn bernoulli_kernel_grad(x: real, p0: real) -> Lg {
    return bernoulli_lpdf_grad(x, p0);
}

fn bernoulli_log_normalizer_grad(p0: real) -> Lg {
    return Lg(real(0.0), vec4<real>());
}
