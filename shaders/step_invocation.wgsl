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

// x += U (f(λ) ∘ Uᵀx) for the low-rank metric (see `lam_factor`).
fn project(c: u32, x: ptr<function, Vec>, momentum: bool) {
    var y: array<real, RP>;
    for (var r = 0u; r < R; r++) {
        var acc = vec4<real>();
        for (var j = 0u; j < J; j++) { acc += state[vi(c, S_U + r, j)] * quad(x, j); }
        y[r] = (acc.x + acc.y + acc.z + acc.w) * lam_factor(c, r, momentum);
    }
    for (var j = 0u; j < J; j++) {
        var add = vec4<real>();
        for (var r = 0u; r < R; r++) { add += y[r] * state[vi(c, S_U + r, j)]; }
        for (var t = 0u; t < 4u; t++) { (*x)[4u * j + t] += add[t]; }
    }
}

// v = M⁻¹p under the low-rank metric: σ ∘ (x + U((λ − 1) ∘ Uᵀx)) with x = σ ∘ p, σ = sqrt(m).
fn velocity(c: u32, m: ptr<function, Vec>, p: ptr<function, Vec>, v: ptr<function, Vec>) {
    for (var i = 0u; i < DP; i++) { (*v)[i] = sqrt((*m)[i]) * (*p)[i]; }
    project(c, v, false);
    for (var i = 0u; i < DP; i++) { (*v)[i] *= sqrt((*m)[i]); }
}

// Trajectory start: the selected sample becomes both ends, with fresh momentum.
@compute @workgroup_size(WORKGROUP)
fn begin(@builtin(global_invocation_id) id: vec3<u32>) {
    let k = id.x;
    if (k >= ctl[H_BEGIN]) { return; }
    let cmd = command(k);
    let c = cmd.chain;
    let purpose = momentum_purpose(cmd);
    var m: Vec;
    load(c, S_MINV, &m);
    var p: Vec;
    var kinetic = real(0.0);
    if (R > 0u) {
        // Low rank: p = diag(σ)⁻¹ (z + U((λ^{-1/2} − 1) ∘ Uᵀz)), and both ends' velocity.
        for (var i = 0u; i < DP; i++) { p[i] = real(0.0); }
        for (var k2 = 0u; k2 < (D + 1u) / 2u; k2++) {
            let z = normal_pair(cmd, k2, purpose);
            p[2u * k2] = z[0];
            if (2u * k2 + 1u < D) { p[2u * k2 + 1u] = z[1]; }
        }
        project(c, &p, true);
        // Padding has m = 0 (and p = 0): divide by 1 there.
        for (var i = 0u; i < DP; i++) { p[i] /= select(real(1.0), sqrt(m[i]), m[i] > real(0.0)); }
        var v: Vec;
        velocity(c, &m, &p, &v);
        for (var i = 0u; i < DP; i++) { kinetic += p[i] * v[i]; }
        store(c, S_V, &v);
        store(c, S_V + 1u, &v);
    } else {
        for (var k2 = 0u; k2 < (D + 1u) / 2u; k2++) {
            let z = normal_pair(cmd, k2, purpose);
            for (var j = 0u; j < 2u; j++) {
                let i = 2u * k2 + j;
                if (i >= D) { break; }
                p[i] = z[j] / sqrt(m[i]);
                kinetic += m[i] * p[i] * p[i];
            }
        }
    }
    let at = sample_at(c);
    for (var j = 0u; j < J; j++) { start_quad(c, at, j, quad(&p, j)); }
    start_scalars(c, cmd, kinetic);
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
    // The velocity M⁻¹p (low-rank metric only).
    var v: Vec;
    load(c, e, &q);
    load(c, e + 1u, &p);
    load(c, e + 2u, &g);
    load(c, S_MINV, &m);
    if (n == 0u) {
        if (!probe) {
            scal[si(c, C_SUB_LOG_W)] = neg_inf();
            if (R > 0u) {
                load(c, S_V + side, &v);
                store(c, S_NEAR, &v);
            } else {
                store(c, S_NEAR, &p);
            }
        }
    } else {
        load(c, S_SUM, &sum);
    }
    // Leapfrog.
    var kinetic = real(0.0);
    var lp: real;
    if (R > 0u) {
        for (var i = 0u; i < DP; i++) { p[i] += real(0.5) * h * g[i]; }
        velocity(c, &m, &p, &v);
        for (var i = 0u; i < DP; i++) { q[i] += h * v[i]; }
        lp = logp_grad(&q, &g, c * SCRATCH);
        for (var i = 0u; i < DP; i++) { p[i] += real(0.5) * h * g[i]; }
        velocity(c, &m, &p, &v);
        for (var i = 0u; i < DP; i++) { kinetic += p[i] * v[i]; }
        store(c, S_V + side, &v);
    } else {
        for (var i = 0u; i < DP; i++) {
            p[i] += real(0.5) * h * g[i];
            q[i] += h * m[i] * p[i];
        }
        lp = logp_grad(&q, &g, c * SCRATCH);
        for (var i = 0u; i < DP; i++) {
            p[i] += real(0.5) * h * g[i];
            kinetic += m[i] * p[i] * p[i];
        }
    }
    var finite = is_finite_r(lp);
    for (var i = 0u; i < DP; i++) { finite = finite && is_finite_r(g[i]); }
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
    let w_u = chain_words(SEED, cmd.global, cmd.it_lo, cmd.it_hi, u32(n_leapfrog), P_LEAF);
    let u = unit2(w_u.x, w_u.y);
    if (u < exp_r(w - new_w)) {
        let sub = S_PAIR0 + 8u - sample_at(c);
        store(c, sub, &q);
        store(c, sub + 1u, &g);
        scal[si(c, C_SUB_LOGP)] = lp;
        scal[si(c, C_SUB_E)] = energy;
    }
    scal[si(c, C_SUB_LOG_W)] = new_w;
    // Running sum and the checkpoint of the blocks starting at this leaf. Under a low-rank
    // metric the checks take velocities with unit weights: from here `p` holds the velocity
    // and `m` ones.
    let ks = slot(n, depth);
    if (R > 0u) {
        store_begin(c, ks, &v, &sum);
        for (var i = 0u; i < DP; i++) {
            sum[i] += p[i];
            p[i] = v[i];
            m[i] = real(1.0);
        }
    } else {
        store_begin(c, ks, &p, &sum);
        for (var i = 0u; i < DP; i++) { sum[i] += p[i]; }
    }
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
    let w_ut = chain_words(SEED, cmd.global, cmd.it_lo, cmd.it_hi, depth, P_TREE);
    let ut = unit2(w_ut.x, w_ut.y);
    if (sub_w > log_w || ut < exp_r(sub_w - log_w)) {
        scal[si(c, C_SAMPLE_AT)] = real(1.0) - scal[si(c, C_SAMPLE_AT)];
        scal[si(c, C_SAMPLE_LOGP)] = scal[si(c, C_SUB_LOGP)];
        scal[si(c, C_SAMPLE_E)] = scal[si(c, C_SUB_E)];
    }
    scal[si(c, C_LOG_W)] = log_add_exp(log_w, sub_w);
    // The trajectory so far (a: far end .. S_NEAR, sum S_RHO) against the completed subtree (b:
    // its first leaf's momentum .. p, sum `sum`).
    let far = select(end_slot(1u - side) + 1u, S_V + 1u - side, R > 0u);
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
