// Flat(), the improper prior on the real line, mirrors src/model/dist/flat.rs: ln p(x) = 0.

fn flat_lpdf_grad(x: real) -> Lg {
    return Lg(select(neg_inf(), real(0.0), abs(x) < pos_inf()), vec4<real>());
}

fn flat_kernel_grad(x: real) -> Lg {
    return flat_lpdf_grad(x);
}

fn flat_log_normalizer_grad() -> Lg {
    return Lg(real(0.0), vec4<real>());
}
