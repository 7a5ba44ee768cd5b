//! The `Program`: the one contract between the compiler and every backend.
//!
//! A flat list of SSA instructions over values of static length (1 for scalars). Every
//! backend executes exactly this list; a new instruction is done only when every backend runs
//! it and the conformance tests compare them.

use serde::{Deserialize, Serialize};

use crate::model::DistKind;

/// Index of a value in [`Program::lens`].
pub type ValueId = usize;

/// Elementwise binary instructions (a scalar operand broadcasts): the model's
/// [`BinaryOp`](crate::model::BinaryOp).
pub use crate::model::BinaryOp as BinOp;
/// Elementwise unary instructions: the model's [`UnaryOp`](crate::model::UnaryOp).
pub use crate::model::UnaryOp as UnOp;
/// `ln(1 + eˣ)` without overflow or loss of precision.
pub use crate::model::expr::softplus;

/// One instruction; it defines the value `out` of its [`Instr`].
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum Op {
    /// A slice of the unconstrained position starting at `offset` (length = the value's).
    Input {
        /// Start in the position vector.
        offset: usize,
    },
    /// A scalar constant.
    Const(f64),
    /// A data array ([`Program::data`] index), bound at compile time.
    Data(usize),
    /// Elementwise unary.
    Unary(UnOp, ValueId),
    /// Elementwise binary with scalar broadcasting.
    Binary(BinOp, ValueId, ValueId),
    /// `aᶜ` for a constant `c`.
    Pow(ValueId, f64),
    /// Sum of all elements (a scalar).
    Sum(ValueId),
    /// A scalar repeated to the output's length.
    Broadcast(ValueId),
    /// Fused log density summed over the broadcast of `args` (`args[0]` is the value, the
    /// rest the parameters). When `partials[j]` is set, the same pass also writes
    /// `∂ out / ∂ args[j]` into it (summed over broadcasting when `args[j]` is a scalar).
    Lpdf {
        /// Family.
        kind: DistKind,
        /// Value then parameters.
        args: Vec<ValueId>,
        /// Optional partial outputs, one slot per argument.
        partials: Vec<Option<ValueId>>,
    },
}

/// An instruction and the value it defines.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Instr {
    /// Defined value.
    pub out: ValueId,
    /// The operation.
    pub op: Op,
}

/// A straight-line program computing `logp` and its gradient (and named outputs) from an
/// unconstrained position vector.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Program {
    /// Length of the unconstrained position vector.
    pub dim: usize,
    /// Length of every value.
    pub lens: Vec<usize>,
    /// Instructions in execution order.
    pub instrs: Vec<Instr>,
    /// Data arrays.
    pub data: Vec<Vec<f64>>,
    /// The log density value, if the program computes one.
    pub logp: Option<ValueId>,
    /// Gradient pieces: `(offset in the position vector, value holding ∂logp/∂u there)`.
    pub grad: Vec<(usize, ValueId)>,
    /// Named outputs (constrained values and deterministics).
    pub outputs: Vec<(String, ValueId)>,
}

impl Program {
    /// Adds a value of length `len` defined by `op`.
    pub fn push(&mut self, op: Op, len: usize) -> ValueId {
        let out = self.new_value(len);
        self.instrs.push(Instr { out, op });
        out
    }

    /// Reserves a value written by another instruction (an `Lpdf` partial).
    pub fn new_value(&mut self, len: usize) -> ValueId {
        self.lens.push(len);
        self.lens.len() - 1
    }

    /// Number of instructions.
    pub fn len(&self) -> usize {
        self.instrs.len()
    }

    /// Whether the program has no instructions.
    pub fn is_empty(&self) -> bool {
        self.instrs.is_empty()
    }
}
