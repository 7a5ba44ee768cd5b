// Laplace(mu = p0, b = p1), mirrors src/model/dist/laplace.rs.
// ln p(x) = -ln(2b) - |x - μ|/b. Split (NORMALIZER_PARAMS = [b]): kernel -|x - μ|/b,
// log_normalizer(b) = -ln(2b).

fn laplace_kernel_grad(x: real, p0: real, p1: real) -> Lg {
    let d = x - p0;
    let s = sign(d);
    return Lg(-abs(d) / p1, vec4<real>(-s / p1, s / p1, abs(d) / (p1 * p1), real(0.0)));
}

fn laplace_log_normalizer_grad(p0: real, p1: real) -> Lg {
    return Lg(-ln_r(real(2.0) * p1), vec4<real>(real(0.0), real(0.0), real(-1.0) / p1, real(0.0)));
}

fn laplace_lpdf_grad(x: real, p0: real, p1: real) -> Lg {
    let k = laplace_kernel_grad(x, p0, p1);
    let n = laplace_log_normalizer_grad(p0, p1);
    return Lg(k.v + n.v, k.g + n.g);
}
