//! Sums and differences of probabilities kept on the log scale, shared by the families
//! (`shaders/special.wgsl` has their WGSL twins, `log1mexp_r` and `log_add_exp`).

/// `ln(1 − eᵈ)` for `d < 0` (Mächler 2012: `expm1` near 0, `ln_1p` beyond `−ln 2`).
pub(crate) fn log1mexp(d: f64) -> f64 {
    if d > -std::f64::consts::LN_2 { (-d.exp_m1()).ln() } else { (-d.exp()).ln_1p() }
}

/// `ln(eᵃ + eᵇ)`, exact where either is −∞.
pub(crate) fn log_add_exp(a: f64, b: f64) -> f64 {
    if a == b {
        return a + std::f64::consts::LN_2;
    }
    a.max(b) + (-(a - b).abs()).exp().ln_1p()
}
