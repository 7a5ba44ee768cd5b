// HurdleGamma(psi = p0, alpha = p1, beta = p2), mirrors src/model/dist/hurdle_gamma.rs.
// p(0) = 1 - ψ (a point mass), density ψ Gamma(x) above 0 (continuous_hurdle in special.wgsl).

fn hurdle_gamma_lpdf_grad(x: real, p0: real, p1: real, p2: real) -> Lg {
    return continuous_hurdle(x, p0, gamma_lpdf_grad(x, p1, p2));
}

fn hurdle_gamma_kernel_grad(x: real, p0: real, p1: real, p2: real) -> Lg {
    return hurdle_gamma_lpdf_grad(x, p0, p1, p2);
}

fn hurdle_gamma_log_normalizer_grad(p0: real, p1: real, p2: real) -> Lg {
    return Lg(real(0.0), vec4<real>());
}
