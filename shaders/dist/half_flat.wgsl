// HalfFlat(), the improper prior on (0, ∞), mirrors src/model/dist/half_flat.rs: ln p(x) = 0.

fn half_flat_lpdf_grad(x: real) -> Lg {
    return Lg(select(neg_inf(), real(0.0), x > real(0.0) && x < pos_inf()), vec4<real>());
}

fn half_flat_kernel_grad(x: real) -> Lg {
    return half_flat_lpdf_grad(x);
}

fn half_flat_log_normalizer_grad() -> Lg {
    return Lg(real(0.0), vec4<real>());
}
