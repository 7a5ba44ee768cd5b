// One workgroup of WORKGROUP lanes per chain, for long vectors: workgroup k serves command k,
// and lane `lane` owns the vec4s j = lane + WORKGROUP * t (t < JT) of every vector of that
// chain, in the same state layout as one invocation per chain. The generated
// `logp_grad(lane, sb)` strides over the program's vectors the same way and reduces with `wg_sum`
// (shaders/workgroup.wgsl).
//
// Barriers need uniform control flow, so the kernel is ordered in two parts. First everything
// with a reduction (logp and gradient, kinetic energy, the U-turn dot products of every merge
// this leaf completes) runs under conditions taken from the command only (read once through
// workgroup memory). Then the decisions, the same in every lane because they are computed from
// the same reduced values, select which vectors are stored; lane 0 writes the chain's scalars
// and its report. Vectors stored after a divergence or a U-turn (checkpoints, running sums)
// belong to a trajectory the host is ending and are never read.
const JT: u32 = (J + WORKGROUP - 1u) / WORKGROUP;
alias Part = array<vec4<real>, JT>;

var<workgroup> wcmd: Cmd;
var<workgroup> wsc: array<real, NS>;

fn jw(lane: u32, t: u32) -> u32 { return lane + WORKGROUP * t; }

fn wload(c: u32, s: u32, lane: u32, v: ptr<function, Part>) {
    for (var t = 0u; t < JT; t++) {
        let j = jw(lane, t);
        if (j < J) { (*v)[t] = state[vi(c, s, j)]; } else { (*v)[t] = vec4<real>(); }
    }
}

fn wstore(c: u32, s: u32, lane: u32, v: ptr<function, Part>) {
    for (var t = 0u; t < JT; t++) {
        let j = jw(lane, t);
        if (j < J) { state[vi(c, s, j)] = (*v)[t]; }
    }
}

// The command of workgroup k, read by lane 0 and shared (uniform by construction).
fn shared_command(k: u32, lane: u32) -> Cmd {
    if (lane == 0u) { wcmd = command(k); }
    return workgroupUniformLoad(&wcmd);
}

// x += U (f(λ) ∘ Uᵀx) for the low-rank metric (see `lam_factor`): the column products are
// summed over the lanes eight at a time. Uniform control flow only.
fn wproject(c: u32, lane: u32, x: ptr<function, Part>, momentum: bool) {
    var y: array<real, RP>;
    for (var r0 = 0u; r0 < R; r0 += 8u) {
        var part = array<vec4<real>, 2>();
        for (var r = r0; r < min(r0 + 8u, R); r++) {
            var acc = real(0.0);
            for (var t = 0u; t < JT; t++) {
                let j = jw(lane, t);
                if (j < J) { acc += dot(state[vi(c, S_U + r, j)], (*x)[t]); }
            }
            part[(r - r0) / 4u][(r - r0) % 4u] = acc;
        }
        let tot = wg_sum(lane, part[0], part[1]);
        for (var r = r0; r < min(r0 + 8u, R); r++) {
            y[r] = tot[(r - r0) / 4u][(r - r0) % 4u] * lam_factor(c, r, momentum);
        }
    }
    for (var t = 0u; t < JT; t++) {
        let j = jw(lane, t);
        if (j < J) {
            for (var r = 0u; r < R; r++) { (*x)[t] += y[r] * state[vi(c, S_U + r, j)]; }
        }
    }
}

// v = M⁻¹p under the low-rank metric (see step_invocation.wgsl: velocity).
fn wvelocity(c: u32, lane: u32, m: ptr<function, Part>, p: ptr<function, Part>, v: ptr<function, Part>) {
    for (var t = 0u; t < JT; t++) { (*v)[t] = sqrt((*m)[t]) * (*p)[t]; }
    wproject(c, lane, v, false);
    for (var t = 0u; t < JT; t++) { (*v)[t] *= sqrt((*m)[t]); }
}

// Trajectory start: lane-strided momentum draws (normals 4j..4j+3 come from pairs 2j, 2j+1,
// the same numbers as one invocation per chain).
@compute @workgroup_size(WORKGROUP)
fn begin(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lane: u32) {
    let k = wid.x;
    if (k >= ctl[H_BEGIN]) { return; }
    let cmd = shared_command(k, lane);
    let c = cmd.chain;
    let purpose = momentum_purpose(cmd);
    let at = sample_at(c);
    var kinetic = real(0.0);
    if (R > 0u) {
        // Low rank: p = diag(σ)⁻¹ (z + U((λ^{-1/2} − 1) ∘ Uᵀz)), and both ends' velocity.
        var m: Part;
        var p: Part;
        var v: Part;
        wload(c, S_MINV, lane, &m);
        for (var t = 0u; t < JT; t++) {
            let j = jw(lane, t);
            var z = vec4<real>();
            if (j < J) {
                z = vec4<real>(normal_pair(cmd, 2u * j, purpose), normal_pair(cmd, 2u * j + 1u, purpose));
                for (var x = 0u; x < 4u; x++) {
                    if (4u * j + x >= D) { z[x] = real(0.0); }
                }
            }
            p[t] = z;
        }
        wproject(c, lane, &p, true);
        // Padding has m = 0 (and p = 0): divide by 1 there.
        for (var t = 0u; t < JT; t++) { p[t] /= select(vec4<real>(real(1.0)), sqrt(m[t]), m[t] > vec4<real>()); }
        wvelocity(c, lane, &m, &p, &v);
        for (var t = 0u; t < JT; t++) {
            let j = jw(lane, t);
            if (j < J) {
                kinetic += dot(p[t], v[t]);
                start_quad(c, at, j, p[t]);
            }
        }
        wstore(c, S_V, lane, &v);
        wstore(c, S_V + 1u, lane, &v);
        let total = wg_sum1(lane, kinetic);
        if (lane == 0u) { start_scalars(c, cmd, total); }
        return;
    }
    for (var t = 0u; t < JT; t++) {
        let j = jw(lane, t);
        if (j >= J) { break; }
        let z = vec4<real>(normal_pair(cmd, 2u * j, purpose), normal_pair(cmd, 2u * j + 1u, purpose));
        let m = state[vi(c, S_MINV, j)];
        var pj = vec4<real>();
        for (var x = 0u; x < 4u; x++) {
            if (4u * j + x < D) { pj[x] = z[x] / sqrt(m[x]); }
        }
        kinetic += dot(m * pj, pj);
        start_quad(c, at, j, pj);
    }
    let total = wg_sum1(lane, kinetic);
    if (lane == 0u) { start_scalars(c, cmd, total); }
}

// The six merge-check dot products of this lane's elements, as two vec4s (see `six`).
fn six_part(m: ptr<function, Part>, t: u32, ra: vec4<real>, rb: vec4<real>, af: vec4<real>, an: vec4<real>,
            bn: vec4<real>, bf: vec4<real>) -> array<vec4<real>, 2> {
    let d = six((*m)[t], ra, rb, af, an, bn, bf);
    return array<vec4<real>, 2>(vec4<real>(d[0], d[1], d[2], d[3]), vec4<real>(d[4], d[5], real(0.0), real(0.0)));
}

fn six_positive(r: array<vec4<real>, 2>) -> bool {
    return all(r[0] > vec4<real>()) && r[1].x > real(0.0) && r[1].y > real(0.0);
}

@compute @workgroup_size(WORKGROUP)
fn step(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lane: u32) {
    let k = wid.x;
    if (k >= ctl[H_CMDS]) { return; }
    let cmd = shared_command(k, lane);
    let c = cmd.chain;
    for (var x = lane; x < NS; x += WORKGROUP) { wsc[x] = scal[si(c, x)]; }
    workgroupBarrier();
    let probe = (cmd.flags & 2u) != 0u;
    let side = select(0u, 1u, probe || (cmd.flags & 4u) != 0u);
    let h = cmd.eps * select(real(-1.0), real(1.0), side == 1u);
    let e = end_slot(side);
    let depth = cmd.depth;
    let n = cmd.leaf;
    var q: Part;
    var p: Part;
    var g: Part;
    var m: Part;
    var sum: Part;
    // The velocity M⁻¹p (low-rank metric only).
    var v: Part;
    wload(c, e, lane, &q);
    wload(c, e + 1u, lane, &p);
    wload(c, e + 2u, lane, &g);
    wload(c, S_MINV, lane, &m);
    if (n == 0u) {
        if (!probe) {
            if (R > 0u) {
                wload(c, S_V + side, lane, &v);
                wstore(c, S_NEAR, lane, &v);
            } else {
                wstore(c, S_NEAR, lane, &p);
            }
        }
    } else {
        wload(c, S_SUM, lane, &sum);
    }
    if (R > 0u) {
        for (var t = 0u; t < JT; t++) { p[t] += real(0.5) * h * g[t]; }
        wvelocity(c, lane, &m, &p, &v);
    }
    // Leapfrog; the new position goes to workgroup memory for logp_grad.
    for (var t = 0u; t < JT; t++) {
        if (R > 0u) {
            q[t] += h * v[t];
        } else {
            p[t] += real(0.5) * h * g[t];
            q[t] += h * m[t] * p[t];
        }
        let j = jw(lane, t);
        if (j < J) {
            for (var x = 0u; x < 4u; x++) { wpos[4u * j + x] = q[t][x]; }
        }
    }
    workgroupBarrier();
    let lp = logp_grad(lane, c * SCRATCH);
    workgroupBarrier();
    var kinetic = real(0.0);
    var bad = real(0.0);
    for (var t = 0u; t < JT; t++) {
        let j = jw(lane, t);
        var gj = vec4<real>();
        for (var x = 0u; x < 4u; x++) {
            if (4u * j + x < D) { gj[x] = wgrad[4u * j + x]; }
        }
        g[t] = gj;
        p[t] += real(0.5) * h * gj;
        if (R == 0u) { kinetic += dot(m[t] * p[t], p[t]); }
        bad += dot(select(vec4<real>(), vec4<real>(real(1.0)), !(abs(gj) < vec4<real>(pos_inf()))), vec4<real>(real(1.0)));
    }
    if (R > 0u) {
        wvelocity(c, lane, &m, &p, &v);
        for (var t = 0u; t < JT; t++) { kinetic += dot(p[t], v[t]); }
        wstore(c, S_V + side, lane, &v);
    }
    let kb = wg_sum(lane, vec4<real>(kinetic, bad, real(0.0), real(0.0)), vec4<real>())[0];
    wstore(c, e, lane, &q);
    wstore(c, e + 1u, lane, &p);
    wstore(c, e + 2u, lane, &g);
    let raw = -lp + real(0.5) * kb.x;
    let energy = select(pos_inf(), raw, is_finite_r(lp) && kb.y == real(0.0) && raw == raw);
    let err = energy - wsc[C_H0];
    if (probe) {
        if (lane == 0u) {
            scal[si(c, C_LOGP + side)] = lp;
            report(k, 0u, err);
        }
        return;
    }
    // Running sum and the checkpoint of the blocks starting at this leaf. Under a low-rank
    // metric the checks take velocities with unit weights: from here `p` holds the velocity
    // and `m` ones.
    let ks = slot(n, depth);
    for (var t = 0u; t < JT; t++) {
        let j = jw(lane, t);
        let sharp = select(p[t], v[t], R > 0u);
        if (j < J) {
            begins[vi(c, mom(ks), j)] = sharp;
            begins[vi(c, sums(ks), j)] = sum[t];
        }
        sum[t] += p[t];
        if (R > 0u) {
            p[t] = v[t];
            m[t] = vec4<real>(real(1.0));
        }
    }
    wstore(c, S_SUM, lane, &sum);
    // Merge checks of the blocks ending at this leaf (all of them: no exit between barriers).
    let tz = countTrailingZeros(n + 1u);
    var merged = true;
    for (var l = 0u; l < min(tz, depth); l++) {
        let a_slot = slot(n + 1u - (2u << l), depth);
        let b_slot = slot(n + 1u - (1u << l), depth);
        var d = array<vec4<real>, 2>();
        for (var t = 0u; t < JT; t++) {
            let j = jw(lane, t);
            if (j < J) {
                let hs = halves[vi(c, sums(l), j)];
                let x = six_part(&m, t, hs - begins[vi(c, sums(a_slot), j)], sum[t] - hs,
                                 begins[vi(c, mom(a_slot), j)], halves[vi(c, mom(l), j)],
                                 begins[vi(c, mom(b_slot), j)], p[t]);
                d[0] += x[0];
                d[1] += x[1];
            }
        }
        merged = merged && six_positive(wg_sum(lane, d[0], d[1]));
    }
    if (tz < depth) {
        for (var t = 0u; t < JT; t++) {
            let j = jw(lane, t);
            if (j < J) {
                halves[vi(c, mom(tz), j)] = p[t];
                halves[vi(c, sums(tz), j)] = sum[t];
            }
        }
    }
    // A completed subtree: the trajectory so far (a: far end .. S_NEAR, sum S_RHO) against it
    // (b: its first leaf's momentum .. p, sum `sum`).
    let complete = n + 1u >= (1u << depth);
    var no_turn = true;
    if (complete) {
        let far = select(end_slot(1u - side) + 1u, S_V + 1u - side, R > 0u);
        let first = slot(0u, depth);
        var d = array<vec4<real>, 2>();
        for (var t = 0u; t < JT; t++) {
            let j = jw(lane, t);
            if (j < J) {
                let rho = state[vi(c, S_RHO, j)];
                let x = six_part(&m, t, rho, sum[t], state[vi(c, far, j)], state[vi(c, S_NEAR, j)],
                                 begins[vi(c, mom(first), j)], p[t]);
                d[0] += x[0];
                d[1] += x[1];
                state[vi(c, S_RHO, j)] = rho + sum[t];
            }
        }
        no_turn = six_positive(wg_sum(lane, d[0], d[1]));
    }
    // Decisions (identical in every lane).
    let n_leapfrog = wsc[C_N_LEAPFROG] + real(1.0);
    let w = -err;
    let diverged = err > real(1000.0);
    let sub_w0 = select(wsc[C_SUB_LOG_W], neg_inf(), n == 0u);
    let new_w = log_add_exp(sub_w0, w);
    let w_u = chain_words(SEED, cmd.global, cmd.it_lo, cmd.it_hi, u32(n_leapfrog), P_LEAF);
    let u = unit2(w_u.x, w_u.y);
    let take = !diverged && u < exp_r(w - new_w);
    let sample_pair = S_PAIR0 + select(0u, 2u, wsc[C_SAMPLE_AT] > real(0.5));
    if (take) {
        let sub = S_PAIR0 + 8u - sample_pair;
        wstore(c, sub, lane, &q);
        wstore(c, sub + 1u, lane, &g);
    }
    if (lane != 0u) { return; }
    scal[si(c, C_LOGP + side)] = lp;
    scal[si(c, C_N_LEAPFROG)] = n_leapfrog;
    scal[si(c, C_SUM_ACCEPT)] = wsc[C_SUM_ACCEPT] + select(exp_r(w), real(1.0), w > real(0.0));
    if (diverged) {
        scal[si(c, C_SUB_LOG_W)] = sub_w0;
        report(k, 1u, err);
        return;
    }
    if (take) {
        scal[si(c, C_SUB_LOGP)] = lp;
        scal[si(c, C_SUB_E)] = energy;
    }
    scal[si(c, C_SUB_LOG_W)] = new_w;
    if (!merged) {
        report(k, 2u, err);
        return;
    }
    if (!complete) {
        report(k, 0u, err);
        return;
    }
    // Biased progressive sampling at the top level.
    let log_w = wsc[C_LOG_W];
    let w_ut = chain_words(SEED, cmd.global, cmd.it_lo, cmd.it_hi, depth, P_TREE);
    let ut = unit2(w_ut.x, w_ut.y);
    if (new_w > log_w || ut < exp_r(new_w - log_w)) {
        scal[si(c, C_SAMPLE_AT)] = real(1.0) - wsc[C_SAMPLE_AT];
        scal[si(c, C_SAMPLE_LOGP)] = select(wsc[C_SUB_LOGP], lp, take);
        scal[si(c, C_SAMPLE_E)] = select(wsc[C_SUB_E], energy, take);
    }
    scal[si(c, C_LOG_W)] = log_add_exp(log_w, new_w);
    report(k, select(4u, 0u, no_turn), err);
}
