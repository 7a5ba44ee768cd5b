//! The `Program`: the one contract between the compiler and every backend.
//!
//! A flat list of SSA instructions over values of static length (1 for scalars). Every
//! backend executes exactly this list; a new instruction is done only when every backend runs
//! it and the conformance tests compare them.

use serde::{Deserialize, Serialize};

use crate::model::{BijectorPart, DistKind, VecBijector};

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
    /// `out[i] = src[index[i]]`: `index` is a data value of whole numbers in `0..len(src)`.
    Gather {
        /// The vector read.
        src: ValueId,
        /// The positions (a data value).
        index: ValueId,
    },
    /// `out[k] = Σ src[i]` over the `i` with `index[i] = k` (the adjoint of a gather), through
    /// the inverse index in compressed form: the `i` of bin `k` are `perm[starts[k]..starts[k +
    /// 1]]`, ascending. Every backend sums each bin in that order.
    ScatterAdd {
        /// The values scattered.
        src: ValueId,
        /// `len(out) + 1` offsets into `perm` (a data value).
        starts: ValueId,
        /// Positions in `src` grouped by bin (a data value).
        perm: ValueId,
    },
    /// Element `.1` of `.0` (a scalar).
    Get(ValueId, usize),
    /// A vector of the output's length, zero but element `.1`, which is the scalar `.0`.
    OneHot(ValueId, usize),
    /// Scalars stacked into a vector.
    Stack(Vec<ValueId>),
    /// `out[i] = Σ_j x[i·c + j] v[j]` with `c = len(v)`: a data matrix stored row by row times
    /// a vector.
    MatVec {
        /// The matrix (a data value of `len(out) · len(v)` values).
        x: ValueId,
        /// The vector.
        v: ValueId,
    },
    /// `out[j] = Σ_i x[i·c + j] g[i]` with `c = len(out)`: the transposed product.
    MatTVec {
        /// The matrix (a data value of `len(g) · len(out)` values).
        x: ValueId,
        /// The vector.
        g: ValueId,
    },
    /// `out[i·k + j] = Σ_q x[i·c + q] w[j·c + q]` with `c = len(w) / k`: a data matrix stored
    /// row by row times the transpose of a `k × c` matrix `w` (`X Wᵀ`, `R × k`, row by row).
    MatMulT {
        /// The matrix (a data value of `R · c` values).
        x: ValueId,
        /// The `k × c` matrix, row by row.
        w: ValueId,
        /// Columns of the product.
        k: usize,
    },
    /// `out[j·c + q] = Σ_i g[i·k + j] x[i·c + q]` (`Gᵀ X`, `k × c`, row by row) with
    /// `c = len(out) / k`: [`Op::MatMulT`]'s adjoint in `w`.
    MatTMul {
        /// The matrix (a data value of `R · c` values).
        x: ValueId,
        /// The `R × k` adjoint, row by row.
        g: ValueId,
        /// Columns of the product.
        k: usize,
    },
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
    /// Fused log density of a vector family over whole arguments (value, then parameters):
    /// one scalar. When `partials[j]` is set, the same pass writes `∂ out / ∂ args[j]` (as long
    /// as `args[j]`) into it.
    VecLpdf {
        /// Family (a vector one).
        kind: DistKind,
        /// Value then parameters.
        args: Vec<ValueId>,
        /// Optional partial outputs, one slot per argument.
        partials: Vec<Option<ValueId>>,
    },
    /// A lower-triangular product or one of its adjoints (see [`TrilPart`](super::tril::TrilPart)).
    Tril {
        /// What is computed.
        part: super::tril::TrilPart,
        /// The two arguments.
        args: Vec<ValueId>,
    },
    /// `out[i] = src[start + i]` for `i < len(out)`: a contiguous part of a vector.
    Slice {
        /// The vector read.
        src: ValueId,
        /// First element taken.
        start: usize,
    },
    /// A cumulative sum: `out[i] = Σ_{j ≤ i} src[j]`, or `Σ_{j ≥ i} src[j]` when `reverse` (each
    /// is the other's adjoint).
    CumSum {
        /// The vector summed.
        src: ValueId,
        /// Sum from the end.
        reverse: bool,
    },
    /// A recurrence: `state_t = body(state_{t−1}, x_t, params)` for `t = 0 … steps − 1`, from
    /// `state_{−1} = init`; the output is every state in turn (`steps · len(init)` values,
    /// step by step). See [`Scan`](super::scan::Scan) for the body's contract.
    Scan(Box<super::scan::Scan>),
    /// The reverse-mode adjoint of a [`Op::Scan`] (see [`ScanAdjoint`](super::scan::ScanAdjoint)):
    /// the adjoints of its initial state, sequences and parameters, concatenated in that order.
    ScanAdjoint(Box<super::scan::ScanAdjoint>),
    /// A vector bijector at the unconstrained slice `args[0]`; `part` says what is computed
    /// ([`BijectorPart::Vjp`] reads the adjoint of the constrained values as `args[1]`).
    Bijector {
        /// The bijector.
        kind: VecBijector,
        /// What is computed.
        part: BijectorPart,
        /// `[u]`, or `[u, g]` for the vector-Jacobian product.
        args: Vec<ValueId>,
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

impl Op {
    /// The values the operation reads.
    pub fn reads(&self) -> Vec<ValueId> {
        match self {
            Op::Input { .. } | Op::Const(_) | Op::Data(_) => Vec::new(),
            Op::Unary(_, a)
            | Op::Pow(a, _)
            | Op::Sum(a)
            | Op::Broadcast(a)
            | Op::Get(a, _)
            | Op::OneHot(a, _) => {
                vec![*a]
            }
            Op::Binary(_, a, b) => vec![*a, *b],
            Op::Gather { src, index } => vec![*src, *index],
            Op::ScatterAdd { src, starts, perm } => vec![*src, *starts, *perm],
            Op::Stack(items) => items.clone(),
            Op::Slice { src, .. } | Op::CumSum { src, .. } => vec![*src],
            Op::Scan(s) => s.operands(),
            Op::ScanAdjoint(a) => {
                let mut r = a.scan.operands();
                r.extend([a.states, a.g]);
                r
            }
            Op::MatVec { x, v } => vec![*x, *v],
            Op::MatTVec { x, g } => vec![*x, *g],
            Op::MatMulT { x, w, .. } => vec![*x, *w],
            Op::MatTMul { x, g, .. } => vec![*x, *g],
            Op::Lpdf { args, .. }
            | Op::VecLpdf { args, .. }
            | Op::Bijector { args, .. }
            | Op::Tril { args, .. } => args.clone(),
        }
    }
}

impl Program {
    /// Values of a workspace (every value's length, summed), saturating: what one
    /// evaluation's memory is sized by.
    pub fn workspace_len(&self) -> u128 {
        self.lens.iter().fold(0u128, |a, &l| a.saturating_add(l as u128))
    }

    /// The data array a value is loaded from, if it is a data value.
    pub fn data_of(&self, v: ValueId) -> Option<&[f64]> {
        self.instrs.iter().find(|i| i.out == v).and_then(|i| match i.op {
            Op::Data(d) => self.data.get(d).map(Vec::as_slice),
            _ => None,
        })
    }

    /// Adds a value of length `len` defined by `op`.
    pub fn push(&mut self, op: Op, len: usize) -> ValueId {
        let out = self.new_value(len);
        self.instrs.push(Instr { out, op });
        out
    }

    /// The partial outputs an instruction writes besides `out` (fused densities).
    pub fn partials(op: &Op) -> &[Option<ValueId>] {
        match op {
            Op::Lpdf { partials, .. } | Op::VecLpdf { partials, .. } => partials,
            _ => &[],
        }
    }

    /// Reserves a value written by another instruction (an `Lpdf` partial).
    pub fn new_value(&mut self, len: usize) -> ValueId {
        self.lens.push(len);
        self.lens.len() - 1
    }

    /// The programs run inside this one's instructions (scan steps and their vector-Jacobian
    /// products), not recursively.
    pub fn nested(&self) -> Vec<&Program> {
        self.instrs
            .iter()
            .filter_map(|i| match &i.op {
                Op::Scan(s) => Some(&s.body),
                Op::ScanAdjoint(a) => Some(&a.vjp),
                _ => None,
            })
            .collect()
    }

    /// Whether this program or one run inside it has an instruction that satisfies `f`.
    pub fn any_instr(&self, f: &dyn Fn(&Op) -> bool) -> bool {
        self.instrs.iter().any(|i| f(&i.op)) || self.nested().iter().any(|p| p.any_instr(f))
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
