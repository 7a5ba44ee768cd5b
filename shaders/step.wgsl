// The fused NUTS leaf step and its helpers, as four entry points over one set of bindings:
//   scatter: host rows (a chain's start point, or its inverse mass) into the state;
//   begin:   trajectory starts (fresh momentum; the selected sample becomes both ends);
//   step:    one leapfrog step per command (logp and gradient included), the energy, the
//            divergence test, the uniform progressive choice inside the subtree, the momentum
//            sums, the U-turn checkpoints and checks (with Stan's extra checks across every
//            merge) and, when the subtree completes, the biased progressive merge;
//   gather:  the selected samples of chains whose draw ended, packed into rows for the host.
// It transliterates src/backend/cpu/chain.rs (ChainState::step); the host runs the control
// flow. `begin` is its own dispatch (recorded just before `step`, same submission) so that the
// step kernel carries no momentum generation: on SIMT hardware and on lavapipe alike a branch
// taken by one lane costs every lane of its group.
//
// Layout: structure of arrays of vec4s. Elements 4j..4j+3 of vector slot s of chain c are the
// vec4 at (s * J + j) * K + c (J = ceil(D / 4), padding zero), scalar x at x * K + c, so
// neighbouring invocations touch neighbouring words and each access moves four elements. An
// invocation keeps its chain's current end (q, p, g), inverse mass and running momentum sum in
// private arrays: the state is read and written once per step, and merge checks read only the
// checkpoints. The generator defines D, K, LEVELS, SEED and `logp_grad` (on private arrays).
// Slots 0..2: backward end q, p, g; 3..5: forward end q, p, g. Slots 6, 7 and 8, 9 hold (q, g)
// of the trajectory's selected sample and of the current subtree's candidate; which pair is
// which is the scalar C_SAMPLE_AT (0: sample in 6, 7), so accepting a subtree's candidate flips
// a flag instead of copying vectors.
const S_PAIR0: u32 = 6u;
const S_RHO: u32 = 10u;
const S_SUM: u32 = 11u;
const S_NEAR: u32 = 12u;
const S_MINV: u32 = 13u;
// Per-chain scalars.
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
const C_SAMPLE_AT: u32 = 11u;
const NS: u32 = 12u;
// Host rows in `io`: a start point is q, g, logp; an inverse mass is D values; a gathered
// sample is q, g and the NS scalars.
const ROW: u32 = 2u * D + NS;
const J: u32 = (D + 3u) / 4u;
const DP: u32 = 4u * J;
const OP_POINT: u32 = 0u;
const OP_INV_MASS: u32 = 1u;
// `ctl` header: commands, commands that begin a trajectory (they come first), scatter rows,
// gather rows; then 8 words per command, then scatter and gather lists (one word per row).
const H_CMDS: u32 = 0u;
const H_BEGIN: u32 = 1u;
const H_SCATTER: u32 = 2u;
const H_GATHER: u32 = 3u;
const CMD0: u32 = 4u;
const SCATTER0: u32 = CMD0 + 8u * K;
const GATHER0: u32 = SCATTER0 + 2u * K;
// Random-number purposes (src/rng.rs).
const P_MOMENTUM: u32 = 0u;
const P_LEAF: u32 = 1u;
const P_TREE: u32 = 2u;
const P_PROBE: u32 = 5u;

// `state` holds slots 0..14. Per level l < LEVELS, `begins` holds the momentum and the running
// sum where a block begins (slots l, LEVELS + l) and `halves` the same where a first half ends.
fn vi(c: u32, s: u32, j: u32) -> u32 { return (s * J + j) * K + c; }
fn si(c: u32, x: u32) -> u32 { return x * K + c; }
fn end_slot(side: u32) -> u32 { return 3u * side; }
fn mom(l: u32) -> u32 { return l; }
fn sums(l: u32) -> u32 { return LEVELS + l; }
// First slot of the selected sample's pair (6 or 8).
fn sample_at(c: u32) -> u32 { return S_PAIR0 + select(0u, 2u, scal[si(c, C_SAMPLE_AT)] > real(0.5)); }
fn unit(w: u32) -> real { return real(f32(w >> 8u) * 5.9604644775390625e-8); }
fn is_finite_r(x: real) -> bool { return abs(x) < pos_inf(); }

alias Vec = array<real, DP>;

fn load(c: u32, s: u32, v: ptr<function, Vec>) {
    for (var j = 0u; j < J; j++) {
        let x = state[vi(c, s, j)];
        (*v)[4u * j] = x.x;
        (*v)[4u * j + 1u] = x.y;
        (*v)[4u * j + 2u] = x.z;
        (*v)[4u * j + 3u] = x.w;
    }
}

fn quad(v: ptr<function, Vec>, j: u32) -> vec4<real> {
    return vec4<real>((*v)[4u * j], (*v)[4u * j + 1u], (*v)[4u * j + 2u], (*v)[4u * j + 3u]);
}

fn store(c: u32, s: u32, v: ptr<function, Vec>) {
    for (var j = 0u; j < J; j++) { state[vi(c, s, j)] = quad(v, j); }
}

// Stores the momentum and running sum at level l into `begins` or `halves`.
fn store_begin(c: u32, l: u32, p: ptr<function, Vec>, sum: ptr<function, Vec>) {
    for (var j = 0u; j < J; j++) {
        begins[vi(c, mom(l), j)] = quad(p, j);
        begins[vi(c, sums(l), j)] = quad(sum, j);
    }
}

fn store_half(c: u32, l: u32, p: ptr<function, Vec>, sum: ptr<function, Vec>) {
    for (var j = 0u; j < J; j++) {
        halves[vi(c, mom(l), j)] = quad(p, j);
        halves[vi(c, sums(l), j)] = quad(sum, j);
    }
}

// Checkpoint slot of the block starting at leaf s (see src/backend/cpu/chain.rs: slot).
fn slot(s: u32, depth: u32) -> u32 {
    if (s == 0u) { return depth; }
    return min(countTrailingZeros(s), depth);
}

struct Cmd {
    chain: u32,
    global: u32,
    flags: u32,
    depth: u32,
    leaf: u32,
    it_lo: u32,
    it_hi: u32,
    eps: real,
}

fn command(k: u32) -> Cmd {
    let b = CMD0 + 8u * k;
    return Cmd(ctl[b], ctl[b + 1u], ctl[b + 2u], ctl[b + 3u], ctl[b + 4u], ctl[b + 5u], ctl[b + 6u],
               real(bitcast<f32>(ctl[b + 7u])));
}

fn report(k: u32, flags: u32, energy_error: real) {
    reports[2u * k] = flags;
    reports[2u * k + 1u] = bitcast<u32>(f32(energy_error));
}

// Elements 4j..4j+3 of a host row starting at `at` (zero past `len`).
fn row_quad(at: u32, j: u32, len: u32) -> vec4<real> {
    var x = vec4<real>();
    for (var t = 0u; t < 4u; t++) {
        if (4u * j + t < len) { x[t] = io[at + 4u * j + t]; }
    }
    return x;
}

@compute @workgroup_size(WORKGROUP)
fn scatter(@builtin(global_invocation_id) id: vec3<u32>) {
    let r = id.x;
    if (r >= ctl[H_SCATTER]) { return; }
    let w = ctl[SCATTER0 + r];
    let c = w & 0xffffffu;
    let row = r * ROW;
    if ((w >> 24u) == OP_INV_MASS) {
        for (var j = 0u; j < J; j++) { state[vi(c, S_MINV, j)] = row_quad(row, j, D); }
        return;
    }
    for (var j = 0u; j < J; j++) {
        state[vi(c, S_PAIR0, j)] = row_quad(row, j, D);
        state[vi(c, S_PAIR0 + 1u, j)] = row_quad(row + D, j, D);
    }
    scal[si(c, C_SAMPLE_AT)] = real(0.0);
    scal[si(c, C_SAMPLE_LOGP)] = io[row + 2u * D];
}

@compute @workgroup_size(WORKGROUP)
fn gather(@builtin(global_invocation_id) id: vec3<u32>) {
    let r = id.x;
    if (r >= ctl[H_GATHER]) { return; }
    let c = ctl[GATHER0 + r];
    let row = (2u * K + r) * ROW;
    var q: Vec;
    var g: Vec;
    let at = sample_at(c);
    load(c, at, &q);
    load(c, at + 1u, &g);
    for (var i = 0u; i < D; i++) {
        io[row + i] = q[i];
        io[row + D + i] = g[i];
    }
    for (var x = 0u; x < NS; x++) { io[row + 2u * D + x] = scal[si(c, x)]; }
}

// Trajectory start: the selected sample becomes both ends, with fresh momentum (a probe's
// momentum comes from its own stream).
@compute @workgroup_size(WORKGROUP)
fn begin(@builtin(global_invocation_id) id: vec3<u32>) {
    let k = id.x;
    if (k >= ctl[H_BEGIN]) { return; }
    let cmd = command(k);
    let c = cmd.chain;
    let purpose = select(P_MOMENTUM, P_PROBE, (cmd.flags & 2u) != 0u);
    var m: Vec;
    load(c, S_MINV, &m);
    var p: Vec;
    var kinetic = real(0.0);
    for (var k2 = 0u; k2 < (D + 1u) / 2u; k2++) {
        let w = chain_words(SEED, cmd.global, cmd.it_lo, cmd.it_hi, k2, purpose);
        let r = sqrt(real(-2.0) * ln_r(real(1.0) - unit(w.x)));
        // Angles in f32: SPIR-V has no f64 sin/cos. Momenta rounded to f32 are still exact draws
        // of the distribution they are used as.
        let t = 6.2831855 * f32(unit(w.z));
        let z = array<real, 2>(r * real(cos(t)), r * real(sin(t)));
        for (var j = 0u; j < 2u; j++) {
            let i = 2u * k2 + j;
            if (i >= D) { break; }
            p[i] = z[j] / sqrt(m[i]);
            kinetic += m[i] * p[i] * p[i];
        }
    }
    let at = sample_at(c);
    for (var j = 0u; j < J; j++) {
        let q = state[vi(c, at, j)];
        let g = state[vi(c, at + 1u, j)];
        let pj = quad(&p, j);
        state[vi(c, 0u, j)] = q;
        state[vi(c, 1u, j)] = pj;
        state[vi(c, 2u, j)] = g;
        state[vi(c, 3u, j)] = q;
        state[vi(c, 4u, j)] = pj;
        state[vi(c, 5u, j)] = g;
        state[vi(c, S_RHO, j)] = pj;
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

// The six dot products of a merge check of adjacent pieces a and b: momentum sums ra, rb, far
// and near momenta af, an (of a), bn, bf (of b); all must be positive.
fn six(m: vec4<real>, ra: vec4<real>, rb: vec4<real>, af: vec4<real>, an: vec4<real>, bn: vec4<real>,
       bf: vec4<real>) -> array<real, 6> {
    let whole = m * (ra + rb);
    let to_b = m * (ra + bn);
    let to_a = m * (rb + an);
    return array<real, 6>(dot(bf, whole), dot(af, whole), dot(bn, to_b), dot(af, to_b), dot(bf, to_a),
                          dot(an, to_a));
}

fn all_positive(d: array<real, 6>) -> bool {
    return d[0] > real(0.0) && d[1] > real(0.0) && d[2] > real(0.0) && d[3] > real(0.0) && d[4] > real(0.0) && d[5] > real(0.0);
}

// Merge check inside the subtree of adjacent blocks at level l: block a spans checkpoints
// beg(a_slot) .. half(l); block b spans beg(b_slot) .. the current momentum p, with running sum
// `sum` (Stan's extra checks across the boundary included).
fn merge_ok(c: u32, l: u32, a_slot: u32, b_slot: u32, m: ptr<function, Vec>, p: ptr<function, Vec>,
            sum: ptr<function, Vec>) -> bool {
    var d = array<real, 6>(real(0.0), real(0.0), real(0.0), real(0.0), real(0.0), real(0.0));
    for (var j = 0u; j < J; j++) {
        let hs = halves[vi(c, sums(l), j)];
        let e = six(quad(m, j), hs - begins[vi(c, sums(a_slot), j)], quad(sum, j) - hs,
                    begins[vi(c, mom(a_slot), j)], halves[vi(c, mom(l), j)],
                    begins[vi(c, mom(b_slot), j)], quad(p, j));
        for (var x = 0u; x < 6u; x++) { d[x] += e[x]; }
    }
    return all_positive(d);
}

@compute @workgroup_size(WORKGROUP)
fn step(@builtin(global_invocation_id) id: vec3<u32>) {
    let k = id.x;
    if (k >= ctl[H_CMDS]) { return; }
    let cmd = command(k);
    let c = cmd.chain;
    let probe = (cmd.flags & 2u) != 0u;
    let side = select(0u, 1u, probe || (cmd.flags & 4u) != 0u);
    let h = cmd.eps * select(real(-1.0), real(1.0), side == 1u);
    let e = end_slot(side);
    let depth = cmd.depth;
    let n = cmd.leaf;
    var q: Vec;
    var p: Vec;
    var g: Vec;
    var m: Vec;
    var sum: Vec;
    load(c, e, &q);
    load(c, e + 1u, &p);
    load(c, e + 2u, &g);
    load(c, S_MINV, &m);
    if (n == 0u) {
        if (!probe) {
            scal[si(c, C_SUB_LOG_W)] = neg_inf();
            store(c, S_NEAR, &p);
        }
    } else {
        load(c, S_SUM, &sum);
    }
    // Leapfrog.
    for (var i = 0u; i < DP; i++) {
        p[i] += real(0.5) * h * g[i];
        q[i] += h * m[i] * p[i];
    }
    let lp = logp_grad(&q, &g);
    var kinetic = real(0.0);
    var finite = is_finite_r(lp);
    for (var i = 0u; i < DP; i++) {
        p[i] += real(0.5) * h * g[i];
        kinetic += m[i] * p[i] * p[i];
        finite = finite && is_finite_r(g[i]);
    }
    store(c, e, &q);
    store(c, e + 1u, &p);
    store(c, e + 2u, &g);
    scal[si(c, C_LOGP + side)] = lp;
    var energy = -lp + real(0.5) * kinetic;
    if (!finite || energy != energy) { energy = pos_inf(); }
    let err = energy - scal[si(c, C_H0)];
    if (probe) {
        report(k, 0u, err);
        return;
    }
    let n_leapfrog = scal[si(c, C_N_LEAPFROG)] + real(1.0);
    scal[si(c, C_N_LEAPFROG)] = n_leapfrog;
    let w = -err;
    scal[si(c, C_SUM_ACCEPT)] += select(exp_r(w), real(1.0), w > real(0.0));
    if (err > real(1000.0)) {
        report(k, 1u, err);
        return;
    }
    // Uniform progressive sampling inside the subtree.
    let new_w = log_add_exp(scal[si(c, C_SUB_LOG_W)], w);
    let u = unit(chain_words(SEED, cmd.global, cmd.it_lo, cmd.it_hi, u32(n_leapfrog), P_LEAF).x);
    if (u < exp_r(w - new_w)) {
        let sub = S_PAIR0 + 8u - sample_at(c);
        store(c, sub, &q);
        store(c, sub + 1u, &g);
        scal[si(c, C_SUB_LOGP)] = lp;
        scal[si(c, C_SUB_E)] = energy;
    }
    scal[si(c, C_SUB_LOG_W)] = new_w;
    // Running sum and the checkpoint of the blocks starting at this leaf.
    let ks = slot(n, depth);
    store_begin(c, ks, &p, &sum);
    for (var i = 0u; i < DP; i++) { sum[i] += p[i]; }
    store(c, S_SUM, &sum);
    // Blocks ending at this leaf: second halves at levels below the lowest set bit of n + 1
    // merge with their first halves; the block at that level is a first half and is stored.
    let tz = countTrailingZeros(n + 1u);
    for (var l = 0u; l < min(tz, depth); l++) {
        if (!merge_ok(c, l, slot(n + 1u - (2u << l), depth), slot(n + 1u - (1u << l), depth), &m, &p, &sum)) {
            report(k, 2u, err);
            return;
        }
    }
    if (tz < depth) {
        store_half(c, tz, &p, &sum);
    }
    if (n + 1u < (1u << depth)) {
        report(k, 0u, err);
        return;
    }
    // Subtree complete: biased progressive sampling at the top level.
    let sub_w = scal[si(c, C_SUB_LOG_W)];
    let log_w = scal[si(c, C_LOG_W)];
    let ut = unit(chain_words(SEED, cmd.global, cmd.it_lo, cmd.it_hi, depth, P_TREE).x);
    if (sub_w > log_w || ut < exp_r(sub_w - log_w)) {
        scal[si(c, C_SAMPLE_AT)] = real(1.0) - scal[si(c, C_SAMPLE_AT)];
        scal[si(c, C_SAMPLE_LOGP)] = scal[si(c, C_SUB_LOGP)];
        scal[si(c, C_SAMPLE_E)] = scal[si(c, C_SUB_E)];
    }
    scal[si(c, C_LOG_W)] = log_add_exp(log_w, sub_w);
    // The trajectory so far (a: far end .. S_NEAR, sum S_RHO) against the completed subtree (b:
    // its first leaf's momentum .. p, sum `sum`).
    let far = end_slot(1u - side) + 1u;
    let first = slot(0u, depth);
    var d = array<real, 6>(real(0.0), real(0.0), real(0.0), real(0.0), real(0.0), real(0.0));
    for (var j = 0u; j < J; j++) {
        let rho = state[vi(c, S_RHO, j)];
        let sj = quad(&sum, j);
        let x = six(quad(&m, j), rho, sj, state[vi(c, far, j)], state[vi(c, S_NEAR, j)],
                    begins[vi(c, mom(first), j)], quad(&p, j));
        for (var t = 0u; t < 6u; t++) { d[t] += x[t]; }
        state[vi(c, S_RHO, j)] = rho + sj;
    }
    report(k, select(4u, 0u, all_positive(d)), err);
}
