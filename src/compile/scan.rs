//! Recurrences: [`Op::Scan`] and its adjoint.
//!
//! A scan runs a small *body* program once per time step. The body's position vector is
//! `[state, x_t, params]`: the previous state (`len(init)` values), the step's slice of every
//! sequence (sequence `i` of `steps · wᵢ` values gives `wᵢ` per step), then every parameter
//! whole. Its first named output is the next state, of the same length as the initial state.
//! The scan's value is every state in turn, `steps · len(init)` values.
//!
//! Reverse mode stores the states (they are the scan's own output, so nothing extra is kept)
//! and runs the body's vector-Jacobian product backwards in time (DECISIONS 59): with `λ_t`
//! the adjoint of state `t`, `(λ_{t−1}, x̄_t, p̄) += vjp(state_{t−1}, x_t, p; λ_t)`.

use serde::{Deserialize, Serialize};

use super::autodiff;
use super::program::{BinOp, Op, Program, ValueId};

/// The forward recurrence (the payload of [`Op::Scan`]).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Scan {
    /// The step: position `[state, x_t, params]`, first output the next state.
    pub body: Program,
    /// The state before the first step.
    pub init: ValueId,
    /// Sequences read one slice per step.
    pub seqs: Vec<ValueId>,
    /// Values read whole at every step.
    pub params: Vec<ValueId>,
    /// Number of steps (at least 1).
    pub steps: usize,
}

/// The adjoint of a scan (the payload of [`Op::ScanAdjoint`]): reads
/// the forward scan's operands, its output `states` and that output's adjoint `g`; its value
/// is `[init̄, seq̄₀, seq̄₁, …, param̄₀, …]`, each as long as its operand.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ScanAdjoint {
    /// The forward scan.
    pub scan: Scan,
    /// The body's vector-Jacobian product: position `[state, x_t, params, λ]`, gradient over
    /// all of it ([`vjp_program`]).
    pub vjp: Program,
    /// The forward scan's value.
    pub states: ValueId,
    /// Its adjoint.
    pub g: ValueId,
}

/// Where a scan's operands sit in its body's position vector.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Layout {
    /// Length of the state.
    pub state: usize,
    /// Per sequence, its slice per step.
    pub widths: Vec<usize>,
    /// Per parameter, its length.
    pub params: Vec<usize>,
    /// Number of steps.
    pub steps: usize,
}

impl Layout {
    /// Length of the body's position vector.
    pub fn dim(&self) -> usize {
        self.state + self.widths.iter().sum::<usize>() + self.params.iter().sum::<usize>()
    }

    /// Offset of sequence `i`'s slice in the body's position vector.
    pub fn seq_at(&self, i: usize) -> usize {
        self.state + self.widths[..i].iter().sum::<usize>()
    }

    /// Offset of parameter `j` in the body's position vector.
    pub fn param_at(&self, j: usize) -> usize {
        self.state + self.widths.iter().sum::<usize>() + self.params[..j].iter().sum::<usize>()
    }

    /// Length of the forward scan's value.
    pub fn out_len(&self) -> usize {
        self.steps * self.state
    }

    /// Offset of sequence `i`'s adjoint in the adjoint's value.
    pub fn seq_adjoint_at(&self, i: usize) -> usize {
        self.state + self.steps * self.widths[..i].iter().sum::<usize>()
    }

    /// Offset of parameter `j`'s adjoint in the adjoint's value.
    pub fn param_adjoint_at(&self, j: usize) -> usize {
        self.state + self.steps * self.widths.iter().sum::<usize>() + self.params[..j].iter().sum::<usize>()
    }

    /// Length of the adjoint's value.
    pub fn adjoint_len(&self) -> usize {
        self.param_adjoint_at(self.params.len())
    }
}

/// Why a scan is malformed.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ScanError {
    /// No steps.
    #[error("a recurrence needs at least one step")]
    NoSteps,
    /// A sequence whose length is not a multiple of the steps.
    #[error("sequence {index} has {len} values, not a multiple of the {steps} steps")]
    SequenceLength {
        /// Which sequence.
        index: usize,
        /// Its length.
        len: usize,
        /// The steps.
        steps: usize,
    },
    /// The body's next state is not as long as the state it reads.
    #[error("the step returns a state of {got} values from a state of {want}")]
    StateShape {
        /// Length of the state read.
        want: usize,
        /// Length of the state returned.
        got: usize,
    },
    /// The body has no output, or a position vector of the wrong length.
    #[error("the step program {0}")]
    Body(String),
}

impl Scan {
    /// A scan, checked against the lengths `lens` of the enclosing program's values.
    pub fn new(
        body: Program,
        init: ValueId,
        seqs: Vec<ValueId>,
        params: Vec<ValueId>,
        steps: usize,
        lens: &[usize],
    ) -> Result<Scan, ScanError> {
        let scan = Scan { body, init, seqs, params, steps };
        scan.check(lens)?;
        Ok(scan)
    }

    /// Checks the body against the operands' lengths.
    pub fn check(&self, lens: &[usize]) -> Result<(), ScanError> {
        if self.steps == 0 {
            return Err(ScanError::NoSteps);
        }
        for (index, &s) in self.seqs.iter().enumerate() {
            let len = lens[s];
            if len == 0 || !len.is_multiple_of(self.steps) {
                return Err(ScanError::SequenceLength { index, len, steps: self.steps });
            }
        }
        let layout = self.layout(lens);
        if self.body.dim != layout.dim() {
            return Err(ScanError::Body(format!(
                "reads {} values, but state, step slices and parameters make {}",
                self.body.dim,
                layout.dim()
            )));
        }
        let Some(&(_, next)) = self.body.outputs.first() else {
            return Err(ScanError::Body("has no output (the next state)".into()));
        };
        let got = self.body.lens[next];
        if got != layout.state {
            return Err(ScanError::StateShape { want: layout.state, got });
        }
        Ok(())
    }

    /// The layout of the body's position vector, from the enclosing program's value lengths.
    pub fn layout(&self, lens: &[usize]) -> Layout {
        Layout {
            state: lens[self.init],
            widths: self.seqs.iter().map(|&s| lens[s] / self.steps.max(1)).collect(),
            params: self.params.iter().map(|&p| lens[p]).collect(),
            steps: self.steps,
        }
    }

    /// The values read: the initial state, the sequences, the parameters.
    pub fn operands(&self) -> Vec<ValueId> {
        let mut r = Vec::with_capacity(1 + self.seqs.len() + self.params.len());
        r.push(self.init);
        r.extend(&self.seqs);
        r.extend(&self.params);
        r
    }

    /// The body's value holding the next state.
    pub fn next_state(&self) -> ValueId {
        self.body.outputs[0].1
    }
}

/// The vector-Jacobian product of a step: `body` with one more input `λ` (as long as the
/// next state) after its own, `logp = Σ λ · next`, differentiated. Its gradient, over the
/// whole position `[state, x_t, params, λ]`, starts with the adjoints of the step's inputs.
pub fn vjp_program(body: &Program) -> Program {
    let mut p = body.clone();
    let next = p.outputs[0].1;
    let s = p.lens[next];
    let lam = p.push(Op::Input { offset: p.dim }, s);
    p.dim += s;
    let prod = p.push(Op::Binary(BinOp::Mul, next, lam), s);
    let total = p.push(Op::Sum(prod), 1);
    p.logp = Some(total);
    p.outputs.clear();
    autodiff::differentiate(p)
}
