//! Helpers that append instructions with shape inference and trivial simplifications.

use std::collections::HashMap;

use super::program::{BinOp, Op, Program, UnOp, ValueId};

/// Appends instructions to a [`Program`], caching constants.
#[derive(Debug, Default)]
pub struct Builder {
    /// The program under construction.
    pub prog: Program,
    consts: HashMap<u64, ValueId>,
    const_values: HashMap<ValueId, f64>,
}

impl Builder {
    /// Starts from an existing program.
    pub fn from_program(prog: Program) -> Builder {
        let mut b = Builder { prog, ..Builder::default() };
        for i in &b.prog.instrs {
            if let Op::Const(c) = i.op {
                b.consts.entry(c.to_bits()).or_insert(i.out);
                b.const_values.insert(i.out, c);
            }
        }
        b
    }

    /// Length of a value.
    pub fn len(&self, v: ValueId) -> usize {
        self.prog.lens[v]
    }

    /// A scalar constant (deduplicated).
    pub fn constant(&mut self, c: f64) -> ValueId {
        if let Some(&v) = self.consts.get(&c.to_bits()) {
            return v;
        }
        let v = self.prog.push(Op::Const(c), 1);
        self.consts.insert(c.to_bits(), v);
        self.const_values.insert(v, c);
        v
    }

    fn const_of(&self, v: ValueId) -> Option<f64> {
        self.const_values.get(&v).copied()
    }

    /// A data value.
    pub fn data(&mut self, values: Vec<f64>) -> ValueId {
        let n = values.len();
        self.prog.data.push(values);
        self.prog.push(Op::Data(self.prog.data.len() - 1), n)
    }

    /// Elementwise unary.
    pub fn unary(&mut self, op: UnOp, a: ValueId) -> ValueId {
        let len = self.len(a);
        self.prog.push(Op::Unary(op, a), len)
    }

    /// Elementwise binary, simplifying multiplication by one and addition of zero.
    pub fn binary(&mut self, op: BinOp, a: ValueId, b: ValueId) -> ValueId {
        let (ca, cb) = (self.const_of(a), self.const_of(b));
        let (la, lb) = (self.len(a), self.len(b));
        match (op, ca, cb) {
            (BinOp::Mul, Some(c), _) if c == 1.0 && la <= lb => return b,
            (BinOp::Mul | BinOp::Div, _, Some(c)) if c == 1.0 && lb <= la => return a,
            (BinOp::Add, Some(c), _) if c == 0.0 && la <= lb => return b,
            (BinOp::Add | BinOp::Sub, _, Some(c)) if c == 0.0 && lb <= la => return a,
            _ => {}
        }
        self.prog.push(Op::Binary(op, a, b), la.max(lb))
    }

    /// `a + b`
    pub fn add(&mut self, a: ValueId, b: ValueId) -> ValueId {
        self.binary(BinOp::Add, a, b)
    }
    /// `a - b`
    pub fn sub(&mut self, a: ValueId, b: ValueId) -> ValueId {
        self.binary(BinOp::Sub, a, b)
    }
    /// `a * b`
    pub fn mul(&mut self, a: ValueId, b: ValueId) -> ValueId {
        self.binary(BinOp::Mul, a, b)
    }
    /// `a / b`
    pub fn div(&mut self, a: ValueId, b: ValueId) -> ValueId {
        self.binary(BinOp::Div, a, b)
    }

    /// Sum of elements (identity on scalars).
    pub fn sum(&mut self, a: ValueId) -> ValueId {
        if self.len(a) == 1 {
            return a;
        }
        self.prog.push(Op::Sum(a), 1)
    }

    /// Brings `a` to length `len` (broadcast a scalar, or sum a vector down to a scalar).
    pub fn fit(&mut self, a: ValueId, len: usize) -> ValueId {
        match (self.len(a), len) {
            (x, y) if x == y => a,
            (1, n) => self.prog.push(Op::Broadcast(a), n),
            (_, 1) => self.prog.push(Op::Sum(a), 1),
            (x, y) => unreachable!("shape inference guarantees broadcastable lengths ({x} vs {y})"),
        }
    }
}
