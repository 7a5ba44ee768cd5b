//! Scalar programs (every value one element) as a flat tape of register operations.
//!
//! A recurrence runs its step program once per time step (and its vector-Jacobian product once
//! more on the way back), so for GARCH(1,1) with T = 200 the interpreter executes some 8,000
//! instructions per gradient, each of one element. [`Executor`](super::exec::Executor)'s
//! per-instruction bookkeeping (lengths, offsets, broadcasting, slice splits, multiversioned
//! loops) costs several times the arithmetic there; the tape keeps only the arithmetic. It
//! computes exactly what the executor computes, operation for operation, bit for bit.

use super::unary::unary_one;
use crate::compile::{BinOp, Op, Program, UnOp};

/// One operation on the register file (the workspace, where value `v` sits at index `v`).
#[derive(Clone, Copy, Debug)]
enum TapeOp {
    /// `r[dst] = u[at]`.
    Load {
        dst: u32,
        at: u32,
    },
    /// `r[dst] = r[src]`.
    Copy {
        dst: u32,
        src: u32,
    },
    /// `r[dst] = 0 + r[src]`: the executor's sum of one element (−0 becomes +0).
    Sum {
        dst: u32,
        src: u32,
    },
    Unary {
        op: UnOp,
        dst: u32,
        a: u32,
    },
    Add {
        dst: u32,
        a: u32,
        b: u32,
    },
    Sub {
        dst: u32,
        a: u32,
        b: u32,
    },
    Mul {
        dst: u32,
        a: u32,
        b: u32,
    },
    Div {
        dst: u32,
        a: u32,
        b: u32,
    },
    PowVar {
        dst: u32,
        a: u32,
        b: u32,
    },
    Pow {
        dst: u32,
        a: u32,
        c: f64,
    },
}

/// A scalar program prepared as a tape (see the module docs).
#[derive(Clone, Debug)]
pub(crate) struct ScalarTape {
    ops: Vec<TapeOp>,
    /// `(offset in the gradient, register)`.
    grad: Vec<(u32, u32)>,
    logp: Option<u32>,
    /// Registers the tape indexes (the workspace must hold at least this many).
    regs: usize,
}

impl ScalarTape {
    /// The tape of `prog`, or `None` when a value has other than one element or an
    /// instruction is not elementwise arithmetic, a copy, a constant or data.
    pub(crate) fn new(prog: &Program) -> Option<ScalarTape> {
        if prog.lens.iter().any(|&n| n != 1) || prog.lens.len() > u32::MAX as usize {
            return None;
        }
        let r = |v: usize| v as u32;
        let mut ops = Vec::with_capacity(prog.instrs.len());
        for ins in &prog.instrs {
            let dst = r(ins.out);
            let op = match &ins.op {
                Op::Const(_) | Op::Data(_) => continue,
                Op::Input { offset } => TapeOp::Load { dst, at: u32::try_from(*offset).ok()? },
                Op::Unary(op, a) => TapeOp::Unary { op: *op, dst, a: r(*a) },
                Op::Binary(op, a, b) => {
                    let (a, b) = (r(*a), r(*b));
                    match op {
                        BinOp::Add => TapeOp::Add { dst, a, b },
                        BinOp::Sub => TapeOp::Sub { dst, a, b },
                        BinOp::Mul => TapeOp::Mul { dst, a, b },
                        BinOp::Div => TapeOp::Div { dst, a, b },
                        BinOp::Pow => TapeOp::PowVar { dst, a, b },
                    }
                }
                Op::Pow(a, c) => TapeOp::Pow { dst, a: r(*a), c: *c },
                Op::Sum(a) => TapeOp::Sum { dst, src: r(*a) },
                // One element in, one out: each of these is a copy.
                Op::Broadcast(a) | Op::Get(a, 0) | Op::OneHot(a, 0) | Op::Slice { src: a, start: 0 } => {
                    TapeOp::Copy { dst, src: r(*a) }
                }
                Op::Stack(items) if items.len() == 1 => TapeOp::Copy { dst, src: r(items[0]) },
                _ => return None,
            };
            ops.push(op);
        }
        let grad = prog
            .grad
            .iter()
            .map(|&(at, v)| Some((u32::try_from(at).ok()?, r(v))))
            .collect::<Option<Vec<_>>>()?;
        Some(ScalarTape { ops, grad, logp: prog.logp.map(r), regs: prog.lens.len() })
    }

    /// Runs the tape on a workspace laid out as the program's executor lays it out (constants
    /// and data already in place): the same contract as `Executor::run`.
    pub(crate) fn run(&self, ws: &mut [f64], u: &[f64], grad: &mut [f64]) -> f64 {
        let r = &mut ws[..self.regs];
        for op in &self.ops {
            match *op {
                TapeOp::Load { dst, at } => r[dst as usize] = u[at as usize],
                TapeOp::Copy { dst, src } => r[dst as usize] = r[src as usize],
                TapeOp::Sum { dst, src } => r[dst as usize] = 0.0 + r[src as usize],
                TapeOp::Unary { op, dst, a } => r[dst as usize] = unary_one(op, r[a as usize]),
                TapeOp::Add { dst, a, b } => r[dst as usize] = r[a as usize] + r[b as usize],
                TapeOp::Sub { dst, a, b } => r[dst as usize] = r[a as usize] - r[b as usize],
                TapeOp::Mul { dst, a, b } => r[dst as usize] = r[a as usize] * r[b as usize],
                TapeOp::Div { dst, a, b } => r[dst as usize] = r[a as usize] / r[b as usize],
                TapeOp::PowVar { dst, a, b } => r[dst as usize] = r[a as usize].powf(r[b as usize]),
                TapeOp::Pow { dst, a, c } => r[dst as usize] = r[a as usize].powf(c),
            }
        }
        for &(at, v) in &self.grad {
            grad[at as usize] = r[v as usize];
        }
        self.logp.map_or(f64::NAN, |v| r[v as usize])
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::backend::cpu::exec::Executor;
    use crate::compile::compile;
    use crate::prelude::*;
    use crate::rewrite::RewriteOptions;

    /// Every recurrence body and adjoint of a GARCH(1,1) model runs the same on the tape as
    /// through the executor, bit for bit, at random points.
    #[test]
    fn tape_equals_the_executor_on_garch_steps() {
        let y: Vec<f64> = (0..30).map(|i| ((i * 37 % 11) as f64 - 5.0) * 0.1).collect();
        let mut m = Model::new();
        let mu = m.rv("mu", Normal::new(0, 1)).unwrap();
        let a0 = m.rv("alpha0", HalfNormal::new(1)).unwrap();
        let a1 = m.rv("alpha1", Beta::new(2, 2)).unwrap();
        let b1 = m.rv("beta1", Beta::new(2, 2)).unwrap();
        let sigma = Expr::scan(1.0, [&y[..29]], 29, |prev, x| {
            (a0 + a1 * (x[0].clone() - mu).square() + b1 * prev.clone().square() + prev.exp() / 10.0).sqrt()
        });
        m.observe("y", Normal::new(mu, sigma), &y[1..]).unwrap();
        let prog = compile(&m, RewriteOptions::default()).unwrap().logp_grad;
        let bodies: Vec<Program> = prog
            .instrs
            .iter()
            .filter_map(|i| match &i.op {
                Op::Scan(s) => Some(s.body.clone()),
                Op::ScanAdjoint(a) => Some(a.vjp.clone()),
                _ => None,
            })
            .collect();
        assert_eq!(bodies.len(), 2);
        let mut seed = 0x9e37_79b9_7f4a_7c15u64;
        for body in bodies {
            let tape = ScalarTape::new(&body).expect("a scalar body");
            let exec = Executor::new(body.clone());
            for _ in 0..20 {
                let u: Vec<f64> = (0..body.dim)
                    .map(|_| {
                        seed = seed.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1);
                        (seed >> 11) as f64 / (1u64 << 53) as f64 * 2.0 - 0.5
                    })
                    .collect();
                let (mut w1, mut w2) = (exec.workspace(), exec.workspace());
                let (mut g1, mut g2) = (vec![0.0; body.dim], vec![0.0; body.dim]);
                let l1 = exec.run(&mut w1, &u, &mut g1);
                let l2 = tape.run(&mut w2, &u, &mut g2);
                // Bit patterns: some random points give NaN (a square root of a negative).
                let bits = |x: &[f64]| x.iter().map(|v| v.to_bits()).collect::<Vec<_>>();
                assert_eq!(l1.to_bits(), l2.to_bits());
                assert_eq!(bits(&g1), bits(&g2));
                for v in 0..body.lens.len() {
                    assert_eq!(bits(exec.value(&w1, v)), bits(exec.value(&w2, v)), "value {v}");
                }
            }
        }
    }

    #[test]
    fn vector_programs_have_no_tape() {
        let mut m = Model::new();
        m.rv_vec("z", Normal::new(0, 1), 3).unwrap();
        let prog = compile(&m, RewriteOptions::default()).unwrap().logp_grad;
        assert!(ScalarTape::new(&prog).is_none());
    }
}
