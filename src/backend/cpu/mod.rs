//! The native CPU backend: executes the `Program` in f64 and keeps per-chain trajectory state
//! in host memory. Large batches are split over threads with rayon.

mod chain;
pub mod exec;
mod lanes;
mod rows;
mod scan;
mod tape;
mod unary;

use rayon::prelude::*;

pub use chain::ChainState;
pub use exec::Executor;

use super::Backend;
use super::step::{DrawState, LeafReport, StepCommand};
use crate::compile::Program;
use crate::rng::ChainRng;

/// Batches smaller than this run on the calling thread (threading costs more than it saves).
const PARALLEL_MIN_CHAINS: usize = 64;

struct Slot {
    state: ChainState,
    ws: Vec<f64>,
}

/// CPU backend for a group of chains.
pub struct CpuBackend {
    exec: Executor,
    slots: Vec<Slot>,
    scratch: Vec<f64>,
    grad_evals: u64,
}

impl CpuBackend {
    /// A backend for chains with global ids `chain_ids` (they key the random streams).
    pub fn new(prog: Program, seed: u64, chain_ids: &[usize], max_depth: usize) -> CpuBackend {
        let exec = Executor::new(prog);
        let d = exec.program().dim;
        let slots = chain_ids
            .iter()
            .map(|&c| Slot {
                state: ChainState::new(d, max_depth, ChainRng::new(seed, c)),
                ws: exec.workspace(),
            })
            .collect();
        let scratch = exec.workspace();
        CpuBackend { exec, slots, scratch, grad_evals: 0 }
    }

    /// Evaluates `q` and, when log density and gradient are finite, makes it chain `chain`'s
    /// current point.
    fn start_point(&mut self, chain: usize, q: &[f64]) -> Option<(f64, Vec<f64>)> {
        let mut g = vec![0.0; q.len()];
        let slot = &mut self.slots[chain];
        let lp = self.exec.run(&mut slot.ws, q, &mut g);
        self.grad_evals += 1;
        if !lp.is_finite() || !g.iter().all(|x| x.is_finite()) {
            return None;
        }
        slot.state.set_point(q, &g, lp);
        Some((lp, g))
    }

    /// Lets the gradient's long row groups split their rows over rayon's threads (see
    /// [`Executor::set_parallel`]): for groups of chains that leave threads idle.
    pub fn set_row_parallel(&mut self, on: bool) {
        self.exec.set_parallel(on);
    }

    /// Gradient evaluations performed so far.
    pub fn grad_evals(&self) -> u64 {
        self.grad_evals
    }
}

impl Backend for CpuBackend {
    fn name(&self) -> String {
        "cpu".into()
    }

    fn dim(&self) -> usize {
        self.exec.program().dim
    }

    fn n_chains(&self) -> usize {
        self.slots.len()
    }

    fn set_position(&mut self, chain: usize, q: &[f64]) -> Option<f64> {
        self.start_point(chain, q).map(|(lp, _)| lp)
    }

    fn set_positions(&mut self, points: &[(usize, Vec<f64>)]) -> Vec<Option<(f64, Vec<f64>)>> {
        points.iter().map(|(chain, q)| self.start_point(*chain, q)).collect()
    }

    fn set_inv_mass(&mut self, chain: usize, inv_mass: &[f64]) {
        self.slots[chain].state.set_inv_mass(inv_mass);
    }

    fn inv_mass(&self, chain: usize) -> Vec<f64> {
        self.slots[chain].state.inv_mass().to_vec()
    }

    fn set_low_rank(&mut self, chain: usize, low_rank: &crate::backend::LowRank) {
        self.slots[chain].state.set_low_rank(low_rank);
    }

    fn step(&mut self, cmds: &[StepCommand], reports: &mut [LeafReport]) -> crate::Result<()> {
        let exec = &self.exec;
        self.grad_evals += cmds.len() as u64;
        let run = |slot: &mut Slot, cmd: &StepCommand| {
            let Slot { state, ws } = slot;
            state.step(cmd, &mut |q, g| exec.run(ws, q, g))
        };
        let unknown = |chain: usize| crate::Error::Backend {
            backend: "cpu",
            reason: format!("a dispatch addressed chain {chain} twice or beyond the backend's chains"),
        };
        // Serial for small batches, and on a rayon worker: the sampler already runs one group
        // of chains per worker, and a nested join would let the waiting worker steal and start
        // whole other groups inside it (more state in memory than planned, deeper stacks).
        if cmds.len() < PARALLEL_MIN_CHAINS || rayon::current_thread_index().is_some() {
            for (cmd, rep) in cmds.iter().zip(reports.iter_mut()) {
                *rep = run(self.slots.get_mut(cmd.chain).ok_or_else(|| unknown(cmd.chain))?, cmd);
            }
            return Ok(());
        }
        // Pair each command with its chain's slot by splitting the slots at the commands' chains
        // in ascending order: O(commands), however many chains the backend holds (a scan of all
        // slots per dispatch made large runs superlinear in the chain count).
        let mut order: Vec<usize> = (0..cmds.len()).collect();
        if !cmds.windows(2).all(|w| w[0].chain < w[1].chain) {
            order.sort_unstable_by_key(|&k| cmds[k].chain);
        }
        let mut jobs: Vec<(usize, &mut Slot)> = Vec::with_capacity(cmds.len());
        let mut rest: &mut [Slot] = &mut self.slots;
        let mut base = 0;
        for &k in &order {
            let chain = cmds[k].chain;
            let tail = chain.checked_sub(base).and_then(|at| std::mem::take(&mut rest).get_mut(at..));
            let Some((slot, tail)) = tail.and_then(|t| t.split_first_mut()) else {
                return Err(unknown(chain));
            };
            jobs.push((k, slot));
            rest = tail;
            base = chain + 1;
        }
        let results: Vec<(usize, LeafReport)> =
            jobs.into_par_iter().map(|(k, slot)| (k, run(slot, &cmds[k]))).collect();
        for (k, r) in results {
            reports[k] = r;
        }
        Ok(())
    }

    fn read_draws(&mut self, chains: &[usize], out: &mut [DrawState]) -> crate::Result<()> {
        for (&c, o) in chains.iter().zip(out.iter_mut()) {
            self.slots[c].state.draw_state(o);
        }
        Ok(())
    }

    fn logp_grad(&mut self, q: &[f64], grad: &mut [f64]) -> f64 {
        self.grad_evals += 1;
        self.exec.run(&mut self.scratch, q, grad)
    }
}
