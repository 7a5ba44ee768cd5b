//! Which fused densities can evaluate their normaliser outside the element loop (see
//! `Family::log_normalizer`): one plan per program, shared by every backend.

use super::program::{Op, Program};
use crate::model::dist::with_family;

/// How a fused density's normaliser leaves its element loop.
#[derive(Clone, Debug, PartialEq)]
pub enum Hoist {
    /// Evaluated per element (the family has no split, or its parameters vary per element).
    None,
    /// Every parameter it reads is a constant: this is the normaliser summed over the
    /// broadcast length, computed once in f64.
    Constant(f64),
    /// Every parameter it reads is a scalar broadcast over several elements: evaluated once per
    /// run and scaled by the length.
    Scalar,
}

/// The hoisting of every instruction's normaliser, indexed like `prog.instrs`
/// (`Hoist::None` for instructions that are not densities).
pub fn plan(prog: &Program) -> Vec<Hoist> {
    // Values of constants and data, by value id.
    let mut constant: Vec<Option<Vec<f64>>> = vec![None; prog.lens.len()];
    for i in &prog.instrs {
        constant[i.out] = match &i.op {
            Op::Const(c) => Some(vec![*c]),
            Op::Data(d) => Some(prog.data[*d].clone()),
            _ => None,
        };
    }
    prog.instrs
        .iter()
        .map(|instr| {
            let Op::Lpdf { kind, args, .. } = &instr.op else { return Hoist::None };
            with_family!(*kind, F => {
                let reads = <F as Family>::NORMALIZER_PARAMS;
                let reads_x = <F as Family>::NORMALIZER_READS_X;
                let n = args.iter().map(|&a| prog.lens[a]).max().unwrap_or(1);
                if reads.is_empty() && !reads_x {
                    return Hoist::None;
                }
                let x_known = !reads_x || constant[args[0]].is_some();
                if !x_known || !reads.iter().all(|&j| constant[args[1 + j]].is_some()) {
                    // A normaliser that reads x is never evaluated once for all elements.
                    let scalar = !reads_x && reads.iter().all(|&j| prog.lens[args[1 + j]] == 1);
                    return if scalar && n > 1 { Hoist::Scalar } else { Hoist::None };
                }
                let mut p = [0.0; 7];
                let at = |a: usize, i: usize| {
                    let c = constant[a].as_deref().unwrap_or(&[0.0]);
                    if c.len() == n && n > 1 { c[i] } else { c[0] }
                };
                let total: f64 = (0..n)
                    .map(|i| {
                        for (j, &a) in args[1..].iter().enumerate() {
                            p[j] = at(a, i);
                        }
                        <F as Family>::log_normalizer_at(at(args[0], i), &p[..args.len() - 1])
                    })
                    .sum();
                Hoist::Constant(total)
            })
        })
        .collect()
}
