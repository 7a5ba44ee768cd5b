// The fused NUTS leaf step: one invocation per command performs, for its chain, one leapfrog step
// (logp and gradient included), the energy, the divergence test, the uniform progressive choice
// inside the subtree, the momentum sums, the U-turn checkpoints and checks (with Stan's extra
// checks across every merge) and, when the subtree completes, the biased progressive merge into
// the trajectory. It transliterates src/backend/cpu/chain.rs (ChainState::step); the host runs
// the control flow. The generator defines D, LEVELS, SEED and `logp_grad` (on `vecs`).
//
// Per-chain vectors (D each) live in `vecs` at slot s: (c * NV + s) * D + i.
const S_SAMPLE_Q: u32 = 6u;   // slots 0..2: backward end q, p, g; 3..5: forward end q, p, g
const S_SAMPLE_G: u32 = 7u;
const S_SUB_Q: u32 = 8u;
const S_SUB_G: u32 = 9u;
const S_RHO: u32 = 10u;
const S_SUM: u32 = 11u;
const S_NEAR: u32 = 12u;
const S_MINV: u32 = 13u;
const S_BEG_P: u32 = 14u;
const NV: u32 = 14u + 4u * LEVELS;
// Per-chain scalars in `scal` at c * NS + k.
const C_LOGP: u32 = 0u;       // 0, 1: log density at the backward / forward end
const C_SAMPLE_LOGP: u32 = 2u;
const C_SAMPLE_E: u32 = 3u;
const C_SUB_LOGP: u32 = 4u;
const C_SUB_E: u32 = 5u;
const C_H0: u32 = 6u;
const C_LOG_W: u32 = 7u;
const C_SUB_LOG_W: u32 = 8u;
const C_SUM_ACCEPT: u32 = 9u;
const C_N_LEAPFROG: u32 = 10u;
const NS: u32 = 12u;
const NONE: u32 = 0xffffffffu;
// Random-number purposes (src/rng.rs).
const P_MOMENTUM: u32 = 0u;
const P_LEAF: u32 = 1u;
const P_TREE: u32 = 2u;
const P_PROBE: u32 = 5u;

@group(0) @binding(0) var<storage, read> data: array<real>;
@group(0) @binding(1) var<storage, read_write> vecs: array<real>;
@group(0) @binding(2) var<storage, read_write> scal: array<real>;
// Commands, 8 words each: local chain, global chain, flags (1 begin, 2 probe, 4 forward),
// depth, leaf, iteration low, iteration high, step size (f32 bits).
@group(0) @binding(3) var<storage, read> cmds: array<u32>;
// Reports, 2 words each: flags (1 diverged, 2 subtree turning, 4 tree turning), energy error (f32 bits).
@group(0) @binding(4) var<storage, read_write> reports: array<u32>;
// params[0]: number of commands.
@group(0) @binding(5) var<storage, read> params: array<u32>;

fn vi(c: u32, s: u32, i: u32) -> u32 { return (c * NV + s) * D + i; }
fn si(c: u32, k: u32) -> u32 { return c * NS + k; }
fn end_slot(side: u32) -> u32 { return 3u * side; }
fn beg_p(l: u32) -> u32 { return S_BEG_P + l; }
fn beg_s(l: u32) -> u32 { return S_BEG_P + LEVELS + l; }
fn half_p(l: u32) -> u32 { return S_BEG_P + 2u * LEVELS + l; }
fn half_s(l: u32) -> u32 { return S_BEG_P + 3u * LEVELS + l; }
fn unit(w: u32) -> real { return real(f32(w >> 8u) * 5.9604644775390625e-8); }
fn is_finite_r(x: real) -> bool { return abs(x) < pos_inf(); }

// Checkpoint slot of the block starting at leaf s (see src/backend/cpu/chain.rs: slot).
fn slot(s: u32, depth: u32) -> u32 {
    if (s == 0u) { return depth; }
    return min(countTrailingZeros(s), depth);
}

// Trajectory start: the selected sample becomes both ends, with fresh momentum.
fn begin(c: u32, g: u32, it_lo: u32, it_hi: u32, purpose: u32) {
    var kinetic = real(0.0);
    for (var k = 0u; k < (D + 1u) / 2u; k++) {
        let w = chain_words(SEED, g, it_lo, it_hi, k, purpose);
        let r = sqrt(real(-2.0) * ln_r(real(1.0) - unit(w.x)));
        // Angles in f32: SPIR-V has no f64 sin/cos. Momenta rounded to f32 are still exact draws
        // of the distribution they are used as.
        let t = 6.2831855 * f32(unit(w.z));
        let z = array<real, 2>(r * real(cos(t)), r * real(sin(t)));
        for (var j = 0u; j < 2u; j++) {
            let i = 2u * k + j;
            if (i >= D) { break; }
            let m = vecs[vi(c, S_MINV, i)];
            let p = z[j] / sqrt(m);
            vecs[vi(c, 0u, i)] = vecs[vi(c, S_SAMPLE_Q, i)];
            vecs[vi(c, 1u, i)] = p;
            vecs[vi(c, 2u, i)] = vecs[vi(c, S_SAMPLE_G, i)];
            kinetic += m * p * p;
        }
    }
    for (var i = 0u; i < D; i++) {
        vecs[vi(c, 3u, i)] = vecs[vi(c, 0u, i)];
        vecs[vi(c, 4u, i)] = vecs[vi(c, 1u, i)];
        vecs[vi(c, 5u, i)] = vecs[vi(c, 2u, i)];
        vecs[vi(c, S_RHO, i)] = vecs[vi(c, 1u, i)];
    }
    let lp = scal[si(c, C_SAMPLE_LOGP)];
    let h0 = -lp + real(0.5) * kinetic;
    scal[si(c, C_LOGP)] = lp;
    scal[si(c, C_LOGP + 1u)] = lp;
    scal[si(c, C_H0)] = h0;
    scal[si(c, C_SAMPLE_E)] = h0;
    scal[si(c, C_LOG_W)] = real(0.0);
    scal[si(c, C_SUM_ACCEPT)] = real(0.0);
    scal[si(c, C_N_LEAPFROG)] = real(0.0);
}

// One leapfrog step of size h from the end `side`; returns the new energy (non-finite -> +inf).
fn leapfrog(c: u32, side: u32, h: real) -> real {
    let e = end_slot(side);
    for (var i = 0u; i < D; i++) {
        let p = vecs[vi(c, e + 1u, i)] + real(0.5) * h * vecs[vi(c, e + 2u, i)];
        vecs[vi(c, e + 1u, i)] = p;
        vecs[vi(c, e, i)] += h * vecs[vi(c, S_MINV, i)] * p;
    }
    let lp = logp_grad(vi(c, e, 0u), vi(c, e + 2u, 0u));
    scal[si(c, C_LOGP + side)] = lp;
    var kinetic = real(0.0);
    var finite = is_finite_r(lp);
    for (var i = 0u; i < D; i++) {
        let g = vecs[vi(c, e + 2u, i)];
        let p = vecs[vi(c, e + 1u, i)] + real(0.5) * h * g;
        vecs[vi(c, e + 1u, i)] = p;
        kinetic += vecs[vi(c, S_MINV, i)] * p * p;
        finite = finite && is_finite_r(g);
    }
    let energy = -lp + real(0.5) * kinetic;
    if (!finite || energy != energy) { return pos_inf(); }
    return energy;
}

// Merge check of adjacent pieces a and b (slots of their far/near momenta; a piece's momentum
// sum is vecs[x] - vecs[y], or vecs[x] alone when y is NONE): the whole and Stan's two extra
// checks across the boundary, in one pass.
fn merge_ok(c: u32, a_far: u32, a_near: u32, ax: u32, ay: u32, b_far: u32, b_near: u32, bx: u32, by: u32) -> bool {
    var d = array<real, 6>(real(0.0), real(0.0), real(0.0), real(0.0), real(0.0), real(0.0));
    for (var i = 0u; i < D; i++) {
        let m = vecs[vi(c, S_MINV, i)];
        var ra = vecs[vi(c, ax, i)];
        if (ay != NONE) { ra -= vecs[vi(c, ay, i)]; }
        var rb = vecs[vi(c, bx, i)];
        if (by != NONE) { rb -= vecs[vi(c, by, i)]; }
        let whole = ra + rb;
        let bn = vecs[vi(c, b_near, i)];
        let an = vecs[vi(c, a_near, i)];
        let bf = vecs[vi(c, b_far, i)];
        let af = vecs[vi(c, a_far, i)];
        let to_b = ra + bn;
        let to_a = rb + an;
        d[0] += m * bf * whole;
        d[1] += m * af * whole;
        d[2] += m * bn * to_b;
        d[3] += m * af * to_b;
        d[4] += m * bf * to_a;
        d[5] += m * an * to_a;
    }
    return d[0] > real(0.0) && d[1] > real(0.0) && d[2] > real(0.0) && d[3] > real(0.0) && d[4] > real(0.0) && d[5] > real(0.0);
}

fn report(k: u32, flags: u32, energy_error: real) {
    reports[2u * k] = flags;
    reports[2u * k + 1u] = bitcast<u32>(f32(energy_error));
}

@compute @workgroup_size(64)
fn step(@builtin(global_invocation_id) id: vec3<u32>) {
    let k = id.x;
    if (k >= params[0]) { return; }
    let c = cmds[8u * k];
    let g = cmds[8u * k + 1u];
    let flags = cmds[8u * k + 2u];
    let depth = cmds[8u * k + 3u];
    let n = cmds[8u * k + 4u];
    let it_lo = cmds[8u * k + 5u];
    let it_hi = cmds[8u * k + 6u];
    let eps = real(bitcast<f32>(cmds[8u * k + 7u]));
    if ((flags & 2u) != 0u) {
        begin(c, g, it_lo, it_hi, P_PROBE);
        let e = leapfrog(c, 1u, eps);
        report(k, 0u, e - scal[si(c, C_H0)]);
        return;
    }
    if ((flags & 1u) != 0u) {
        begin(c, g, it_lo, it_hi, P_MOMENTUM);
    }
    let side = select(0u, 1u, (flags & 4u) != 0u);
    let sign = select(real(-1.0), real(1.0), side == 1u);
    let pe = end_slot(side) + 1u;
    if (n == 0u) {
        scal[si(c, C_SUB_LOG_W)] = neg_inf();
        for (var i = 0u; i < D; i++) {
            vecs[vi(c, S_SUM, i)] = real(0.0);
            vecs[vi(c, S_NEAR, i)] = vecs[vi(c, pe, i)];
        }
    }
    let energy = leapfrog(c, side, eps * sign);
    let n_leapfrog = scal[si(c, C_N_LEAPFROG)] + real(1.0);
    scal[si(c, C_N_LEAPFROG)] = n_leapfrog;
    let err = energy - scal[si(c, C_H0)];
    let w = -err;
    scal[si(c, C_SUM_ACCEPT)] += select(exp_r(w), real(1.0), w > real(0.0));
    if (err > real(1000.0)) {
        report(k, 1u, err);
        return;
    }
    // Uniform progressive sampling inside the subtree.
    let new_w = log_add_exp(scal[si(c, C_SUB_LOG_W)], w);
    let u = unit(chain_words(SEED, g, it_lo, it_hi, u32(n_leapfrog), P_LEAF).x);
    if (u < exp_r(w - new_w)) {
        for (var i = 0u; i < D; i++) {
            vecs[vi(c, S_SUB_Q, i)] = vecs[vi(c, pe - 1u, i)];
            vecs[vi(c, S_SUB_G, i)] = vecs[vi(c, pe + 1u, i)];
        }
        scal[si(c, C_SUB_LOGP)] = scal[si(c, C_LOGP + side)];
        scal[si(c, C_SUB_E)] = energy;
    }
    scal[si(c, C_SUB_LOG_W)] = new_w;
    // Running sum and the checkpoint of the blocks starting at this leaf.
    let ks = slot(n, depth);
    for (var i = 0u; i < D; i++) {
        let p = vecs[vi(c, pe, i)];
        vecs[vi(c, beg_p(ks), i)] = p;
        vecs[vi(c, beg_s(ks), i)] = vecs[vi(c, S_SUM, i)];
        vecs[vi(c, S_SUM, i)] += p;
    }
    // Blocks ending at this leaf: a first half is stored, a second half is merged.
    for (var l = 0u; l < depth; l++) {
        if (((n + 1u) % (1u << l)) != 0u) { break; }
        if ((((n + 1u) >> l) % 2u) == 1u) {
            for (var i = 0u; i < D; i++) {
                vecs[vi(c, half_p(l), i)] = vecs[vi(c, pe, i)];
                vecs[vi(c, half_s(l), i)] = vecs[vi(c, S_SUM, i)];
            }
            continue;
        }
        let a_slot = slot(n + 1u - (2u << l), depth);
        let b_slot = slot(n + 1u - (1u << l), depth);
        if (!merge_ok(c, beg_p(a_slot), half_p(l), half_s(l), beg_s(a_slot), pe, beg_p(b_slot), S_SUM, half_s(l))) {
            report(k, 2u, err);
            return;
        }
    }
    if (n + 1u < (1u << depth)) {
        report(k, 0u, err);
        return;
    }
    // Subtree complete: biased progressive sampling at the top level.
    let sub_w = scal[si(c, C_SUB_LOG_W)];
    let log_w = scal[si(c, C_LOG_W)];
    let ut = unit(chain_words(SEED, g, it_lo, it_hi, depth, P_TREE).x);
    if (sub_w > log_w || ut < exp_r(sub_w - log_w)) {
        for (var i = 0u; i < D; i++) {
            vecs[vi(c, S_SAMPLE_Q, i)] = vecs[vi(c, S_SUB_Q, i)];
            vecs[vi(c, S_SAMPLE_G, i)] = vecs[vi(c, S_SUB_G, i)];
        }
        scal[si(c, C_SAMPLE_LOGP)] = scal[si(c, C_SUB_LOGP)];
        scal[si(c, C_SAMPLE_E)] = scal[si(c, C_SUB_E)];
    }
    scal[si(c, C_LOG_W)] = log_add_exp(log_w, sub_w);
    let far = end_slot(1u - side) + 1u;
    let ok = merge_ok(c, far, S_NEAR, S_RHO, NONE, pe, beg_p(slot(0u, depth)), S_SUM, NONE);
    for (var i = 0u; i < D; i++) {
        vecs[vi(c, S_RHO, i)] += vecs[vi(c, S_SUM, i)];
    }
    report(k, select(4u, 0u, ok), err);
}
