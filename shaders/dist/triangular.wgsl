// Triangular(lower = p0, upper = p1, c = p2), mirrors src/model/dist/triangular.rs (parameters
// stored with the bounds first). ln p(x) = ln 2 + ln((x - l)/((u - l)(c - l))) below the mode,
// ln 2 + ln((u - x)/((u - l)(u - c))) from it on; -inf outside (l, u) and for a mode outside
// [l, u], zero partials. No split.

fn triangular_lpdf_grad(x: real, p0: real, p1: real, p2: real) -> Lg {
    if (!(x > p0 && x < p1 && p0 <= p2 && p2 <= p1)) {
        return Lg(neg_inf(), vec4<real>());
    }
    let w = p1 - p0;
    if (x < p2) {
        let dx = x - p0;
        let dc = p2 - p0;
        return Lg(LN_2 + ln_r(dx / (w * dc)), vec4<real>(
            real(1.0) / dx,
            real(-1.0) / dx + real(1.0) / w + real(1.0) / dc,
            real(-1.0) / w,
            real(-1.0) / dc,
        ));
    }
    let dx = p1 - x;
    let dc = p1 - p2;
    return Lg(LN_2 + ln_r(dx / (w * dc)), vec4<real>(
        real(-1.0) / dx,
        real(1.0) / w,
        real(1.0) / dx - real(1.0) / w - real(1.0) / dc,
        real(1.0) / dc,
    ));
}
