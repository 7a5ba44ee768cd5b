// Logistic(mu = p0, s = p1), mirrors src/model/dist/logistic.rs.
// ln p(x) = -z - ln s - 2 softplus(-z), z = (x - μ)/s. Split (NORMALIZER_PARAMS = [s]): kernel
// -z - 2 softplus(-z), log_normalizer(s) = -ln s.

fn logistic_kernel_grad(x: real, p0: real, p1: real) -> Lg {
    let z = (x - p0) / p1;
    let t = tanh_r(real(0.5) * z);
    return Lg(-z - real(2.0) * softplus(-z), vec4<real>(-t / p1, t / p1, z * t / p1, real(0.0)));
}

fn logistic_log_normalizer_grad(p0: real, p1: real) -> Lg {
    return Lg(-ln_r(p1), vec4<real>(real(0.0), real(0.0), real(-1.0) / p1, real(0.0)));
}

fn logistic_lpdf_grad(x: real, p0: real, p1: real) -> Lg {
    let k = logistic_kernel_grad(x, p0, p1);
    let n = logistic_log_normalizer_grad(p0, p1);
    return Lg(k.v + n.v, k.g + n.g);
}
