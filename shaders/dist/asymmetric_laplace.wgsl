// AsymmetricLaplace(kappa = p0, mu = p1, b = p2), mirrors src/model/dist/asymmetric_laplace.rs.
// ln p(x) = ln b - ln(κ + 1/κ) - bκd for d = x - μ ≥ 0, ln b - ln(κ + 1/κ) + bd/κ below
// (-inf at ±inf, zero partials); at d = 0 ∂/∂x is the mean of the two sides. No split.

fn asymmetric_laplace_lpdf_grad(x: real, p0: real, p1: real, p2: real) -> Lg {
    if (!(abs(x) < pos_inf())) {
        return Lg(neg_inf(), vec4<real>());
    }
    let k = p0;
    let b = p2;
    let d = x - p1;
    let c = log1p_r(k * k) - ln_r(k);
    let dc = real(2.0) * k / (real(1.0) + k * k) - real(1.0) / k;
    if (d > real(0.0)) {
        return Lg(ln_r(b) - c - b * k * d, vec4<real>(-b * k, -dc - b * d, b * k, real(1.0) / b - k * d));
    }
    if (d == real(0.0)) {
        // At the kink, the mean of the two one-sided slopes (Laplace's 0).
        let m = real(0.5) * b * (real(1.0) / k - k);
        return Lg(ln_r(b) - c, vec4<real>(m, -dc, -m, real(1.0) / b));
    }
    return Lg(ln_r(b) - c + b * d / k, vec4<real>(b / k, -dc - b * d / (k * k), -b / k, real(1.0) / b + d / k));
}

fn asymmetric_laplace_kernel_grad(x: real, p0: real, p1: real, p2: real) -> Lg {
    return asymmetric_laplace_lpdf_grad(x, p0, p1, p2);
}

fn asymmetric_laplace_log_normalizer_grad(p0: real, p1: real, p2: real) -> Lg {
    return Lg(real(0.0), vec4<real>());
}
