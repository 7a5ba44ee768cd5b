// The fused NUTS leaf step: layout, commands and the helpers shared by both thread mappings
// (step_invocation.wgsl: one invocation per chain; step_workgroup.wgsl: one workgroup per
// chain), and the row entry points. Four entry points over one set of bindings:
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
// neighbouring invocations touch neighbouring words and each access moves four elements. One
// invocation per chain keeps its chain's current end (q, p, g), inverse mass and running momentum sum in
// private arrays: the state is read and written once per step, and merge checks read only the
// checkpoints. The generator defines D, K, LEVELS, SEED, WORKGROUP (begin and step), and
// `logp_grad` for the mapping.
// Slots 0..2: backward end q, p, g; 3..5: forward end q, p, g. Slots 6, 7 and 8, 9 hold (q, g)
// of the trajectory's selected sample and of the current subtree's candidate; which pair is
// which is the scalar C_SAMPLE_AT (0: sample in 6, 7), so accepting a subtree's candidate flips
// a flag instead of copying vectors.
const S_PAIR0: u32 = 6u;
const S_RHO: u32 = 10u;
const S_SUM: u32 = 11u;
const S_NEAR: u32 = 12u;
const S_MINV: u32 = 13u;
// A low-rank metric (R > 0; src/backend/metric.rs): slots S_V + side hold each end's velocity
// M⁻¹p, S_U + r column r of U (zero past the metric's rank), S_LAM its eigenvalues (element r;
// 1 past the rank). The U-turn checks then take velocities with unit weights.
const S_V: u32 = 14u;
const S_U: u32 = 16u;
const S_LAM: u32 = 16u + R;
// Private scratch of R coefficients (at least one element).
const RP: u32 = max(R, 1u);
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
// Past the NS scalars a draw gathers: the trajectory's step size and its random-number keys
// (global chain id; iteration, low and high word), kept by `begin` so that a command that
// continues a trajectory is two words. Each u32 key is two reals of 16 bits (exact in f32).
const C_EPS: u32 = NS;
const C_KEYS: u32 = NS + 1u;
// Host rows in `io`: a start point is q, g, logp; an inverse mass is D values; a gathered
// sample is q, g and the NS scalars.
const ROW: u32 = 2u * D + NS;
const J: u32 = (D + 3u) / 4u;
const DP: u32 = 4u * J;
const OP_POINT: u32 = 0u;
const OP_INV_MASS: u32 = 1u;
// Rows OP_LOW_RANK + t carry columns 2t, 2t + 1 of U, and (t even) eigenvalues 2t .. 2t + 3
// after them: one writer per vec4.
const OP_LOW_RANK: u32 = 2u;
// Workgroup size of the row entry points (scatter, gather): one invocation per row.
const ROWS_WORKGROUP: u32 = 64u;
// `ctl` header: commands, commands that begin a trajectory (they come first), scatter rows,
// gather rows; then the commands, 8 words per trajectory start and 2 per continuing command
// (room for 8 words per chain), then scatter and gather lists (one word per row).
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
fn is_finite_r(x: real) -> bool { return abs(x) < pos_inf(); }

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

// Key `i` of chain c's trajectory (0: global chain id; 1, 2: iteration, low and high word).
fn key(c: u32, i: u32) -> u32 {
    return u32(scal[si(c, C_KEYS + 2u * i)]) | (u32(scal[si(c, C_KEYS + 2u * i + 1u)]) << 16u);
}

fn keep_key(c: u32, i: u32, v: u32) {
    scal[si(c, C_KEYS + 2u * i)] = real(v & 0xffffu);
    scal[si(c, C_KEYS + 2u * i + 1u)] = real(v >> 16u);
}

// Command k. The first H_BEGIN commands start a trajectory (or probe), in 8 words: chain,
// global chain id, flags | depth << 8, step size (rest), leaf, iteration (low, high), step size
// (f32 rounding). The others continue one, in 2 words: chain | forward << 24 | depth << 25,
// leaf; the step size and keys are the chain's, kept by its trajectory start.
fn command(k: u32) -> Cmd {
    let n_begin = ctl[H_BEGIN];
    if (k < n_begin) {
        let b = CMD0 + 8u * k;
        return Cmd(ctl[b], ctl[b + 1u], ctl[b + 2u] & 0xffu, ctl[b + 2u] >> 8u, ctl[b + 4u], ctl[b + 5u],
                   ctl[b + 6u], step_size_r(ctl[b + 7u], ctl[b + 3u]));
    }
    let b = CMD0 + 8u * n_begin + 2u * (k - n_begin);
    let w = ctl[b];
    let c = w & 0xffffffu;
    return Cmd(c, key(c, 0u), (w >> 22u) & 4u, w >> 25u, ctl[b + 1u], key(c, 1u), key(c, 2u),
               scal[si(c, C_EPS)]);
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

@compute @workgroup_size(ROWS_WORKGROUP)
fn scatter(@builtin(global_invocation_id) id: vec3<u32>) {
    let r = id.x;
    if (r >= ctl[H_SCATTER]) { return; }
    let w = ctl[SCATTER0 + r];
    let c = w & 0xffffffu;
    let row = r * ROW;
    let op = w >> 24u;
    if (op == OP_INV_MASS) {
        for (var j = 0u; j < J; j++) { state[vi(c, S_MINV, j)] = row_quad(row, j, D); }
        return;
    }
    if (op >= OP_LOW_RANK) {
        let t = op - OP_LOW_RANK;
        for (var x = 0u; x < 2u; x++) {
            if (2u * t + x < R) {
                for (var j = 0u; j < J; j++) { state[vi(c, S_U + 2u * t + x, j)] = row_quad(row + x * D, j, D); }
            }
        }
        if (t % 2u == 0u) {
            state[vi(c, S_LAM, t / 2u)] = vec4<real>(io[row + 2u * D], io[row + 2u * D + 1u],
                                                     io[row + 2u * D + 2u], io[row + 2u * D + 3u]);
        }
        return;
    }
    for (var j = 0u; j < J; j++) {
        state[vi(c, S_PAIR0, j)] = row_quad(row, j, D);
        state[vi(c, S_PAIR0 + 1u, j)] = row_quad(row + D, j, D);
    }
    scal[si(c, C_SAMPLE_AT)] = real(0.0);
    scal[si(c, C_SAMPLE_LOGP)] = io[row + 2u * D];
}

@compute @workgroup_size(ROWS_WORKGROUP)
fn gather(@builtin(global_invocation_id) id: vec3<u32>) {
    let r = id.x;
    if (r >= ctl[H_GATHER]) { return; }
    let c = ctl[GATHER0 + r];
    let row = (2u * K + r) * ROW;
    let at = sample_at(c);
    for (var j = 0u; j < J; j++) {
        let q = state[vi(c, at, j)];
        let g = state[vi(c, at + 1u, j)];
        for (var t = 0u; t < 4u; t++) {
            let i = 4u * j + t;
            if (i < D) {
                io[row + i] = q[t];
                io[row + D + i] = g[t];
            }
        }
    }
    for (var x = 0u; x < NS; x++) { io[row + 2u * D + x] = scal[si(c, x)]; }
}

// Random-number purpose of a trajectory start's momentum (a probe's has its own stream).
fn momentum_purpose(cmd: Cmd) -> u32 { return select(P_MOMENTUM, P_PROBE, (cmd.flags & 2u) != 0u); }

// Elements 4j..4j+3 of a trajectory start: the selected sample (pair `at`) becomes both ends,
// with momentum `pj`, which is also the running sum.
fn start_quad(c: u32, at: u32, j: u32, pj: vec4<real>) {
    let q = state[vi(c, at, j)];
    let g = state[vi(c, at + 1u, j)];
    state[vi(c, 0u, j)] = q;
    state[vi(c, 1u, j)] = pj;
    state[vi(c, 2u, j)] = g;
    state[vi(c, 3u, j)] = q;
    state[vi(c, 4u, j)] = pj;
    state[vi(c, 5u, j)] = g;
    state[vi(c, S_RHO, j)] = pj;
}

// The scalars of a trajectory start (its step size and keys included); `kinetic` is the sum
// of m_i p_i^2 (m: inverse mass).
fn start_scalars(c: u32, cmd: Cmd, kinetic: real) {
    scal[si(c, C_EPS)] = cmd.eps;
    keep_key(c, 0u, cmd.global);
    keep_key(c, 1u, cmd.it_lo);
    keep_key(c, 2u, cmd.it_hi);
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

// Standard normals 2 k2 and 2 k2 + 1 of a trajectory start's momentum (Box-Muller).
fn normal_pair(cmd: Cmd, k2: u32, purpose: u32) -> vec2<real> {
    let w = chain_words(SEED, cmd.global, cmd.it_lo, cmd.it_hi, k2, purpose);
    let r = sqrt(real(-2.0) * ln_r(real(1.0) - unit2(w.x, w.y)));
    return r * cos_sin_2pi(unit2(w.z, w.w));
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

// Eigenvalue r of the low-rank metric.
fn lam(c: u32, r: u32) -> real { return state[vi(c, S_LAM, r / 4u)][r % 4u]; }

// The coefficient a low-rank product applies along column r: λ − 1 for a velocity M⁻¹p,
// λ^{-1/2} − 1 for a momentum M^{1/2}z.
fn lam_factor(c: u32, r: u32, momentum: bool) -> real {
    let l = lam(c, r);
    return select(l - real(1.0), real(1.0) / sqrt(l) - real(1.0), momentum);
}

fn all_positive(d: array<real, 6>) -> bool {
    return d[0] > real(0.0) && d[1] > real(0.0) && d[2] > real(0.0) && d[3] > real(0.0) && d[4] > real(0.0) && d[5] > real(0.0);
}

