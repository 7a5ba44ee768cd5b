//! Reverse-mode automatic differentiation as a program transformation.
//!
//! [`differentiate`] walks the forward program backwards and appends adjoint instructions,
//! giving one straight-line program whose outputs are `logp` and `∂logp/∂u`. Fused `Lpdf`
//! instructions are switched to also emit their analytic partials in the forward pass, so the
//! backward pass only scales and accumulates them.

use super::builder::Builder;
use super::program::{BinOp, Op, Program, UnOp, ValueId};

/// Appends the adjoint of `prog.logp` with respect to every `Input`.
pub fn differentiate(prog: Program) -> Program {
    let logp = prog.logp.expect("differentiate needs a program with a log density");
    let active = active_values(&prog);
    let mut b = Builder::from_program(prog);
    let forward = b.prog.instrs.clone();
    // Ask every fused density for the partials that matter.
    for (k, instr) in forward.iter().enumerate() {
        if let Op::Lpdf { args, .. } = &instr.op {
            let partials: Vec<Option<ValueId>> =
                args.iter().map(|&a| active[a].then(|| b.prog.new_value(b.len(a)))).collect();
            if let Op::Lpdf { partials: p, .. } = &mut b.prog.instrs[k].op {
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
            Op::Sum(a) => accumulate(&mut b, &mut adj, &active, *a, g),
            Op::Broadcast(a) => accumulate(&mut b, &mut adj, &active, *a, g),
            Op::Lpdf { args, partials, .. } => {
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
            Op::Unary(_, a) | Op::Pow(a, _) | Op::Sum(a) | Op::Broadcast(a) => active[*a],
            Op::Binary(_, a, b) => active[*a] || active[*b],
            Op::Lpdf { args, .. } => args.iter().any(|&a| active[a]),
        };
    }
    active
}
