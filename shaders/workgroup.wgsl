// Shared memory of the workgroup-per-chain mapping (the generator defines DP, the padded
// dimension, and WORKGROUP, a power of two). The generated `logp_grad(lane)` reads the
// position from `wpos` and writes the gradient to `wgrad`; its sums and the step kernel's dot
// products go through `wg_sum`.
var<workgroup> wpos: array<real, DP>;
var<workgroup> wgrad: array<real, DP>;
var<workgroup> wred: array<array<vec4<real>, 2>, WORKGROUP>;

// Sums two vec4s over the lanes of the workgroup by a pairwise tree (fixed order, so the result
// does not depend on which chains share a dispatch); every lane gets the totals. Called from
// uniform control flow only.
fn wg_sum(lane: u32, a: vec4<real>, b: vec4<real>) -> array<vec4<real>, 2> {
    wred[lane] = array<vec4<real>, 2>(a, b);
    workgroupBarrier();
    for (var s = WORKGROUP / 2u; s > 0u; s >>= 1u) {
        if (lane < s) {
            wred[lane][0] += wred[lane + s][0];
            wred[lane][1] += wred[lane + s][1];
        }
        workgroupBarrier();
    }
    let r = wred[0];
    workgroupBarrier();
    return r;
}

// The sum of one value over the lanes.
fn wg_sum1(lane: u32, x: real) -> real {
    return wg_sum(lane, vec4<real>(x, real(0.0), real(0.0), real(0.0)), vec4<real>())[0].x;
}
