//! Reverse-mode automatic differentiation as a program transformation.
//!
//! [`differentiate`] walks the forward program backwards and appends adjoint instructions,
//! giving one straight-line program whose outputs are `logp` and `∂logp/∂u`. Fused `Lpdf`
//! instructions are switched to also emit their analytic partials in the forward pass, so the
//! backward pass only scales and accumulates them.

use super::builder::Builder;
use super::program::{BinOp, Op, Program, UnOp, ValueId};
use super::scan::ScanAdjoint;
use super::tril::TrilPart;
use crate::model::BijectorPart;

/// Appends the adjoint of `prog.logp` with respect to every `Input`.
pub fn differentiate(prog: Program) -> Program {
    let logp = prog.logp.expect("differentiate needs a program with a log density");
    let active = active_values(&prog);
    let mut b = Builder::from_program(prog);
    let forward = b.prog.instrs.clone();
    // Ask every fused density for the partials that matter.
    for (k, instr) in forward.iter().enumerate() {
        if let Op::Lpdf { args, .. } | Op::VecLpdf { args, .. } = &instr.op {
            let partials: Vec<Option<ValueId>> =
                args.iter().map(|&a| active[a].then(|| b.prog.new_value(b.len(a)))).collect();
            if let Op::Lpdf { partials: p, .. } | Op::VecLpdf { partials: p, .. } = &mut b.prog.instrs[k].op {
                *p = partials;
            }
        }
    }
    let forward = b.prog.instrs.clone();
    let mut adj: Vec<Option<ValueId>> = vec![None; b.prog.lens.len()];
    adj[logp] = Some(b.constant(1.0));
    for instr in forward.iter().rev() {
        let out = instr.out;
        let Some(g) = adj[out] else { continue };
        if !active[out] {
            continue;
        }
        match &instr.op {
            Op::Input { .. } | Op::Const(_) | Op::Data(_) => {}
            Op::Unary(op, a) => {
                let a = *a;
                let d = match op {
                    UnOp::Neg => b.unary(UnOp::Neg, g),
                    UnOp::Exp => b.mul(g, out),
                    UnOp::Log => b.div(g, a),
                    UnOp::Log1p => {
                        let one = b.constant(1.0);
                        let t = b.add(a, one);
                        b.div(g, t)
                    }
                    UnOp::Sqrt => {
                        let half = b.constant(0.5);
                        let t = b.div(half, out);
                        b.mul(g, t)
                    }
                    UnOp::Square => {
                        let two = b.constant(2.0);
                        let t = b.mul(two, a);
                        b.mul(g, t)
                    }
                    UnOp::Logistic => {
                        let one = b.constant(1.0);
                        let c = b.sub(one, out);
                        let t = b.mul(out, c);
                        b.mul(g, t)
                    }
                    UnOp::Softplus => {
                        let t = b.unary(UnOp::Logistic, a);
                        b.mul(g, t)
                    }
                    UnOp::Expm1 => {
                        let one = b.constant(1.0);
                        let t = b.add(out, one);
                        b.mul(g, t)
                    }
                    UnOp::LogLogistic => {
                        // d/dx ln σ(x) = σ(−x)
                        let na = b.unary(UnOp::Neg, a);
                        let t = b.unary(UnOp::Logistic, na);
                        b.mul(g, t)
                    }
                    UnOp::Abs => {
                        // sign(x) = x / |x| (the subgradient 0 at 0 would need a select; x = 0
                        // exactly has probability 0 for a continuous variable).
                        let t = b.div(a, out);
                        b.mul(g, t)
                    }
                    UnOp::Tanh => {
                        let one = b.constant(1.0);
                        let sq = b.unary(UnOp::Square, out);
                        let t = b.sub(one, sq);
                        b.mul(g, t)
                    }
                    UnOp::Sin => {
                        let t = b.unary(UnOp::Cos, a);
                        b.mul(g, t)
                    }
                    UnOp::Cos => {
                        let s = b.unary(UnOp::Sin, a);
                        let t = b.unary(UnOp::Neg, s);
                        b.mul(g, t)
                    }
                    UnOp::Atan => {
                        let one = b.constant(1.0);
                        let sq = b.unary(UnOp::Square, a);
                        let t = b.add(one, sq);
                        b.div(g, t)
                    }
                    // The wrap moves by whole turns: its derivative is 1 (except at ±π).
                    UnOp::WrapAngle => g,
                };
                accumulate(&mut b, &mut adj, &active, a, d);
            }
            Op::Pow(a, c) => {
                let a = *a;
                let len = b.len(a);
                let t = b.prog.push(Op::Pow(a, c - 1.0), len);
                let cc = b.constant(*c);
                let t = b.mul(cc, t);
                let d = b.mul(g, t);
                accumulate(&mut b, &mut adj, &active, a, d);
            }
            Op::Binary(op, x, y) => {
                let (x, y) = (*x, *y);
                match op {
                    BinOp::Add => {
                        accumulate(&mut b, &mut adj, &active, x, g);
                        accumulate(&mut b, &mut adj, &active, y, g);
                    }
                    BinOp::Sub => {
                        accumulate(&mut b, &mut adj, &active, x, g);
                        if active[y] {
                            let d = b.unary(UnOp::Neg, g);
                            accumulate(&mut b, &mut adj, &active, y, d);
                        }
                    }
                    BinOp::Mul => {
                        if active[x] {
                            let d = b.mul(g, y);
                            accumulate(&mut b, &mut adj, &active, x, d);
                        }
                        if active[y] {
                            let d = b.mul(g, x);
                            accumulate(&mut b, &mut adj, &active, y, d);
                        }
                    }
                    BinOp::Div => {
                        if active[x] {
                            let d = b.div(g, y);
                            accumulate(&mut b, &mut adj, &active, x, d);
                        }
                        if active[y] {
                            let t = b.div(out, y);
                            let t = b.mul(g, t);
                            let d = b.unary(UnOp::Neg, t);
                            accumulate(&mut b, &mut adj, &active, y, d);
                        }
                    }
                    BinOp::Pow => {
                        if active[x] {
                            // y·x^(y−1), without dividing by x (x = 0 with y ≥ 1 stays finite).
                            let one = b.constant(1.0);
                            let ym1 = b.sub(y, one);
                            let p = b.binary(BinOp::Pow, x, ym1);
                            let t = b.mul(y, p);
                            let d = b.mul(g, t);
                            accumulate(&mut b, &mut adj, &active, x, d);
                        }
                        if active[y] {
                            let l = b.unary(UnOp::Log, x);
                            let t = b.mul(out, l);
                            let d = b.mul(g, t);
                            accumulate(&mut b, &mut adj, &active, y, d);
                        }
                    }
                }
            }
            Op::Gather { src, index } => {
                let (src, index) = (*src, *index);
                if active[src] {
                    let idx = b.prog.data_of(index).map(<[f64]>::to_vec).unwrap_or_default();
                    let d = scatter(&mut b, g, &idx, src);
                    accumulate(&mut b, &mut adj, &active, src, d);
                }
            }
            Op::ScatterAdd { src, starts, perm } => {
                // Its adjoint is the gather at the index the inverse index encodes.
                let (src, starts, perm) = (*src, *starts, *perm);
                let s = b.prog.data_of(starts).map(<[f64]>::to_vec).unwrap_or_default();
                let p = b.prog.data_of(perm).map(<[f64]>::to_vec).unwrap_or_default();
                let mut idx = vec![0.0; p.len()];
                for k in 0..s.len().saturating_sub(1) {
                    for q in s[k] as usize..s[k + 1] as usize {
                        idx[p[q] as usize] = k as f64;
                    }
                }
                let n = idx.len();
                let index = b.data(idx);
                let d = b.prog.push(Op::Gather { src: g, index }, n);
                accumulate(&mut b, &mut adj, &active, src, d);
            }
            Op::Get(src, k) => {
                let len = b.len(*src);
                let d = b.prog.push(Op::OneHot(g, *k), len);
                accumulate(&mut b, &mut adj, &active, *src, d);
            }
            Op::OneHot(src, k) => {
                let d = b.prog.push(Op::Get(g, *k), 1);
                accumulate(&mut b, &mut adj, &active, *src, d);
            }
            Op::Stack(items) => {
                for (j, &item) in items.iter().enumerate() {
                    if active[item] {
                        let d = b.prog.push(Op::Get(g, j), 1);
                        accumulate(&mut b, &mut adj, &active, item, d);
                    }
                }
            }
            Op::MatVec { x, v } => {
                let cols = b.len(*v);
                let d = b.prog.push(Op::MatTVec { x: *x, g }, cols);
                accumulate(&mut b, &mut adj, &active, *v, d);
            }
            Op::MatTVec { x, g: gv } => {
                let rows = b.len(*gv);
                let d = b.prog.push(Op::MatVec { x: *x, v: g }, rows);
                accumulate(&mut b, &mut adj, &active, *gv, d);
            }
            Op::MatMulT { x, w, k } => {
                let n = b.len(*w);
                let d = b.prog.push(Op::MatTMul { x: *x, g, k: *k }, n);
                accumulate(&mut b, &mut adj, &active, *w, d);
            }
            Op::MatTMul { x, g: gv, k } => {
                let n = b.len(*gv);
                let d = b.prog.push(Op::MatMulT { x: *x, w: g, k: *k }, n);
                accumulate(&mut b, &mut adj, &active, *gv, d);
            }
            Op::Slice { src, start } => {
                // Its adjoint scatters into a vector of the source's length: a scatter-add
                // whose bins are the source's positions.
                let (src, n) = (*src, b.len(out));
                let idx: Vec<f64> = (*start..*start + n).map(|i| i as f64).collect();
                let d = scatter(&mut b, g, &idx, src);
                accumulate(&mut b, &mut adj, &active, src, d);
            }
            Op::CumSum { src, reverse } => {
                // Linear: the adjoint of a running sum is the running sum the other way.
                let d = b.prog.push(Op::CumSum { src: g, reverse: !reverse }, b.len(out));
                accumulate(&mut b, &mut adj, &active, *src, d);
            }
            Op::Scan(scan) => {
                let layout = scan.layout(&b.prog.lens);
                let vjp = super::scan::vjp_program(&scan.body);
                let pieces: Vec<(ValueId, usize)> = std::iter::once((scan.init, 0))
                    .chain(scan.seqs.iter().enumerate().map(|(i, &s)| (s, layout.seq_adjoint_at(i))))
                    .chain(scan.params.iter().enumerate().map(|(j, &p)| (p, layout.param_adjoint_at(j))))
                    .collect();
                let payload = ScanAdjoint { scan: (**scan).clone(), vjp, states: out, g };
                let all = b.prog.push(Op::ScanAdjoint(Box::new(payload)), layout.adjoint_len());
                for (operand, start) in pieces {
                    if active[operand] {
                        let len = b.len(operand);
                        let d = b.prog.push(Op::Slice { src: all, start }, len);
                        accumulate(&mut b, &mut adj, &active, operand, d);
                    }
                }
            }
            // Adjoints are never differentiated again.
            Op::ScanAdjoint(_) => {}
            Op::Sum(a) => accumulate(&mut b, &mut adj, &active, *a, g),
            Op::Broadcast(a) => accumulate(&mut b, &mut adj, &active, *a, g),
            Op::Bijector { kind, part, args } => {
                let u = args[0];
                let ulen = b.len(u);
                let d = match part {
                    BijectorPart::Forward => b
                        .prog
                        .push(Op::Bijector { kind: *kind, part: BijectorPart::Vjp, args: vec![u, g] }, ulen),
                    BijectorPart::LogJac => {
                        let grad = b.prog.push(
                            Op::Bijector { kind: *kind, part: BijectorPart::LogJacGrad, args: vec![u] },
                            ulen,
                        );
                        b.mul(g, grad)
                    }
                    // Adjoints are never differentiated again.
                    BijectorPart::Vjp | BijectorPart::LogJacGrad => continue,
                };
                accumulate(&mut b, &mut adj, &active, u, d);
            }
            Op::Tril { part: TrilPart::Mul, args } => {
                let (l, z) = (args[0], args[1]);
                if active[l] {
                    let n = b.len(l);
                    let d = b.prog.push(Op::Tril { part: TrilPart::Outer, args: vec![g, z] }, n);
                    accumulate(&mut b, &mut adj, &active, l, d);
                }
                if active[z] {
                    let n = b.len(z);
                    let d = b.prog.push(Op::Tril { part: TrilPart::MulT, args: vec![l, g] }, n);
                    accumulate(&mut b, &mut adj, &active, z, d);
                }
            }
            Op::Tril { part: TrilPart::Cholesky, args } => {
                let a = args[0];
                if active[a] {
                    let n = b.len(a);
                    let d = b.prog.push(Op::Tril { part: TrilPart::CholeskyAdjoint, args: vec![out, g] }, n);
                    accumulate(&mut b, &mut adj, &active, a, d);
                }
            }
            // Adjoints are never differentiated again.
            Op::Tril { .. } => {}
            Op::Lpdf { args, partials, .. } | Op::VecLpdf { args, partials, .. } => {
                for (&a, p) in args.iter().zip(partials) {
                    if let Some(p) = *p {
                        let d = b.mul(g, p);
                        accumulate(&mut b, &mut adj, &active, a, d);
                    }
                }
            }
        }
    }
    let inputs: Vec<(usize, ValueId)> = forward
        .iter()
        .filter_map(|i| match i.op {
            Op::Input { offset } => Some((offset, i.out)),
            _ => None,
        })
        .collect();
    for (offset, u) in inputs {
        let g = match adj[u] {
            Some(g) => b.fit(g, b.len(u)),
            None => {
                let z = b.constant(0.0);
                b.fit(z, b.len(u))
            }
        };
        b.prog.grad.push((offset, g));
    }
    b.prog
}

/// `out[k] = Σ g[i]` over the `i` with `idx[i] = k`, as long as `src`: the adjoint of reading
/// `src` at `idx` (a gather or a slice).
fn scatter(b: &mut Builder, g: ValueId, idx: &[f64], src: ValueId) -> ValueId {
    let len = b.len(src);
    let (starts, perm) = inverse_index(idx, len);
    let starts = b.data(starts);
    let perm = b.data(perm);
    b.prog.push(Op::ScatterAdd { src: g, starts, perm }, len)
}

/// Adds contribution `d` to the adjoint of `target` (summing or broadcasting as needed).
fn accumulate(b: &mut Builder, adj: &mut [Option<ValueId>], active: &[bool], target: ValueId, d: ValueId) {
    if !active[target] {
        return;
    }
    let d = b.fit(d, b.len(target));
    adj[target] = Some(match adj[target] {
        Some(prev) => b.add(prev, d),
        None => d,
    });
}

/// Values that depend on the position (only those need adjoints).
fn active_values(prog: &Program) -> Vec<bool> {
    let mut active = vec![false; prog.lens.len()];
    for i in &prog.instrs {
        active[i.out] = match &i.op {
            Op::Input { .. } => true,
            Op::Const(_) | Op::Data(_) => false,
            Op::Unary(_, a)
            | Op::Pow(a, _)
            | Op::Sum(a)
            | Op::Broadcast(a)
            | Op::Get(a, _)
            | Op::OneHot(a, _) => active[*a],
            Op::Gather { src, .. }
            | Op::ScatterAdd { src, .. }
            | Op::Slice { src, .. }
            | Op::CumSum { src, .. } => active[*src],
            Op::Scan(_) | Op::ScanAdjoint(_) => i.op.reads().iter().any(|&a| active[a]),
            Op::MatVec { v, .. } => active[*v],
            Op::MatTVec { g, .. } | Op::MatTMul { g, .. } => active[*g],
            Op::MatMulT { w, .. } => active[*w],
            Op::Binary(_, a, b) => active[*a] || active[*b],
            Op::Stack(items) => items.iter().any(|&a| active[a]),
            Op::Lpdf { args, .. }
            | Op::VecLpdf { args, .. }
            | Op::Bijector { args, .. }
            | Op::Tril { args, .. } => args.iter().any(|&a| active[a]),
        };
    }
    active
}

/// The inverse of an index into a vector of `len` elements, in compressed form: bin `k` holds
/// the positions `i` with `index[i] = k`, ascending, at `perm[starts[k]..starts[k + 1]]`.
pub fn inverse_index(index: &[f64], len: usize) -> (Vec<f64>, Vec<f64>) {
    let mut counts = vec![0usize; len + 1];
    for &k in index {
        counts[k as usize + 1] += 1;
    }
    for k in 0..len {
        counts[k + 1] += counts[k];
    }
    let starts: Vec<f64> = counts.iter().map(|&c| c as f64).collect();
    let mut next = counts;
    let mut perm = vec![0.0; index.len()];
    for (i, &k) in index.iter().enumerate() {
        perm[next[k as usize]] = i as f64;
        next[k as usize] += 1;
    }
    (starts, perm)
}
