//! Recurrences on the CPU: a nested [`Executor`] runs the step (or its vector-Jacobian
//! product) once per time step, in a scratch part of the chain's workspace.

use super::exec::Executor;
use super::tape::ScalarTape;
use crate::compile::Op;
use crate::compile::scan::{Layout, Scan, ScanAdjoint};

/// A scan instruction prepared for the executor.
#[derive(Clone, Debug)]
pub(crate) struct ScanExec {
    /// Runs the step (forward) or its vector-Jacobian product (adjoint).
    exec: Executor,
    /// The same as a scalar tape, where every value of the step is one element.
    tape: Option<ScalarTape>,
    layout: Layout,
    /// Lengths of the nested workspace and of the step's position vector.
    ws_len: usize,
    dim: usize,
    /// Start of its scratch in the workspace: the nested workspace, then the step's position
    /// vector, then its gradient.
    pub(crate) at: usize,
}

impl ScanExec {
    /// The prepared form of a scan or scan adjoint instruction (None for other instructions).
    pub(crate) fn new(op: &Op, lens: &[usize]) -> Option<ScanExec> {
        let (prog, layout) = match op {
            Op::Scan(s) => (s.body.clone(), s.layout(lens)),
            Op::ScanAdjoint(a) => (a.vjp.clone(), a.scan.layout(lens)),
            _ => return None,
        };
        let tape = ScalarTape::new(&prog);
        let exec = Executor::new(prog);
        let (ws_len, dim) = (exec.workspace().len(), exec.program().dim);
        Some(ScanExec { exec, tape, layout, ws_len, dim, at: 0 })
    }

    /// The nested workspace's initial values (constants and data).
    pub(crate) fn template(&self) -> Vec<f64> {
        self.exec.workspace()
    }

    /// Length of its scratch.
    pub(crate) fn scratch_len(&self) -> usize {
        self.ws_len + 2 * self.dim
    }

    /// Splits its scratch into nested workspace, position and gradient.
    fn split<'s>(&self, scratch: &'s mut [f64]) -> (&'s mut [f64], &'s mut [f64], &'s mut [f64]) {
        let (ws, rest) = scratch.split_at_mut(self.ws_len);
        let (u, g) = rest.split_at_mut(self.dim);
        (ws, u, g)
    }

    /// One step: the tape where there is one, else the executor.
    #[inline]
    fn run(&self, ws: &mut [f64], u: &[f64], g: &mut [f64]) {
        match &self.tape {
            Some(t) => t.run(ws, u, g),
            None => self.exec.run(ws, u, g),
        };
    }

    /// Copies every parameter and the step's slice of every sequence into `u`.
    fn load(&self, scan: &Scan, values: &[f64], offsets: &[usize], u: &mut [f64], t: Option<usize>) {
        let l = &self.layout;
        match t {
            None => {
                for (j, &p) in scan.params.iter().enumerate() {
                    let (at, n) = (l.param_at(j), l.params[j]);
                    u[at..at + n].copy_from_slice(&values[offsets[p]..offsets[p] + n]);
                }
            }
            Some(t) => {
                for (i, &q) in scan.seqs.iter().enumerate() {
                    let (at, w) = (l.seq_at(i), l.widths[i]);
                    let from = offsets[q] + t * w;
                    u[at..at + w].copy_from_slice(&values[from..from + w]);
                }
            }
        }
    }

    /// Runs the recurrence: the states into `values[o..]`.
    pub(crate) fn forward(
        &self,
        scan: &Scan,
        values: &mut [f64],
        offsets: &[usize],
        o: usize,
        scratch: &mut [f64],
    ) {
        let (ws, u, _) = self.split(scratch);
        let s = self.layout.state;
        self.load(scan, values, offsets, u, None);
        let init = offsets[scan.init];
        u[..s].copy_from_slice(&values[init..init + s]);
        let next = self.exec.offset(scan.next_state());
        for t in 0..scan.steps {
            self.load(scan, values, offsets, u, Some(t));
            self.run(ws, u, &mut []);
            let state = &ws[next..next + s];
            values[o + t * s..o + (t + 1) * s].copy_from_slice(state);
            u[..s].copy_from_slice(state);
        }
    }

    /// Runs the adjoint backwards in time: `[init̄, seq̄…, param̄…]` into `values[o..]`.
    pub(crate) fn adjoint(
        &self,
        adj: &ScanAdjoint,
        values: &mut [f64],
        offsets: &[usize],
        o: usize,
        scratch: &mut [f64],
    ) {
        let (ws, u, g) = self.split(scratch);
        let (scan, l) = (&adj.scan, &self.layout);
        let (s, steps, lam) = (l.state, scan.steps, l.dim());
        let (states, cot) = (offsets[adj.states], offsets[adj.g]);
        self.load(scan, values, offsets, u, None);
        let params = o + l.param_adjoint_at(0);
        values[params..o + l.adjoint_len()].fill(0.0);
        u[lam..lam + s].copy_from_slice(&values[cot + (steps - 1) * s..cot + steps * s]);
        for t in (0..steps).rev() {
            let prev = if t == 0 { offsets[scan.init] } else { states + (t - 1) * s };
            u[..s].copy_from_slice(&values[prev..prev + s]);
            self.load(scan, values, offsets, u, Some(t));
            g.fill(0.0);
            self.run(ws, u, g);
            for (i, &w) in l.widths.iter().enumerate() {
                let to = o + l.seq_adjoint_at(i) + t * w;
                values[to..to + w].copy_from_slice(&g[l.seq_at(i)..l.seq_at(i) + w]);
            }
            for (j, &n) in l.params.iter().enumerate() {
                let to = o + l.param_adjoint_at(j);
                let from = l.param_at(j);
                values[to..to + n].iter_mut().zip(&g[from..from + n]).for_each(|(a, d)| *a += d);
            }
            for k in 0..s {
                u[lam + k] = g[k] + if t > 0 { values[cot + (t - 1) * s + k] } else { 0.0 };
            }
        }
        values[o..o + s].copy_from_slice(&u[lam..lam + s]);
    }
}
