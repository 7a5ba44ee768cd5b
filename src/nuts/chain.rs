//! One chain's sampler as a resumable state machine: step-size probes, trajectories, and
//! adaptation between draws. It issues commands and consumes reports; it never calls a backend.

use super::adapt::{Adaptation, Adapter};
use super::low_rank::Metric;
use super::step_size::{DualAveraging, DualAveragingOptions};
use super::tree::{DirectionWords, Trajectory, TrajectoryEnd};
use crate::backend::LowRank;
use crate::backend::{Direction, DrawState, LeafReport, StepCommand};
use crate::rng::ChainRng;

/// Settings of one chain.
#[derive(Clone, Copy, Debug)]
pub struct ChainOptions {
    /// Warmup iterations.
    pub warmup: usize,
    /// Iterations after warmup.
    pub draws: usize,
    /// Maximum tree depth.
    pub max_depth: u32,
    /// Dual averaging settings (target acceptance inside).
    pub dual_averaging: DualAveragingOptions,
    /// Initial step size.
    pub step_size: f64,
    /// Metric adaptation scheme.
    pub adaptation: Adaptation,
    /// The metric adapted.
    pub metric: Metric,
}

/// Statistics of one draw.
#[derive(Clone, Copy, Debug, Default, PartialEq, bytemuck::Zeroable)]
pub struct DrawStats {
    /// Log density of the draw.
    pub lp: f64,
    /// Step size used.
    pub step_size: f64,
    /// Completed doublings: at most [`MAX_DEPTH`](super::tree::MAX_DEPTH) (30), so a byte,
    /// which keeps a draw's statistics to 48 bytes (DECISIONS 81).
    pub tree_depth: u8,
    /// Leapfrog steps.
    pub n_leapfrog: u32,
    /// Whether the trajectory diverged.
    pub diverging: bool,
    /// Hamiltonian of the draw.
    pub energy: f64,
    /// `H(draw) - H0`.
    pub energy_error: f64,
    /// Mean `min(1, exp(-ΔH))` over leaves.
    pub accept_stat: f64,
    /// Whether the draw belongs to warmup.
    pub tuning: bool,
}

impl DrawStats {
    /// The statistics of a draw that no Hamiltonian sampler made (an approximation's draw, a
    /// sequential Monte Carlo particle): its log density `lp`, NaN for the step size, energy
    /// and acceptance, no steps, no divergence.
    pub fn unsampled(lp: f64) -> DrawStats {
        DrawStats {
            lp,
            step_size: f64::NAN,
            tree_depth: 0,
            n_leapfrog: 0,
            diverging: false,
            energy: f64::NAN,
            energy_error: f64::NAN,
            accept_stat: f64::NAN,
            tuning: false,
        }
    }
}

/// Result of handing a finished draw to the machine.
#[derive(Clone, Debug, PartialEq)]
pub struct DrawOutcome {
    /// Iteration number (warmup included).
    pub iteration: usize,
    /// Its statistics.
    pub stats: DrawStats,
    /// Adaptation produced a new inverse mass diagonal to install on the backend: read it with
    /// [`ChainMachine::push_inv_mass`].
    pub new_inv_mass: bool,
    /// New low-rank correction to install with it (see [`Metric::LowRank`]).
    pub new_low_rank: Option<LowRank>,
}

enum Phase {
    Probe {
        count: u64,
        direction: i8,
    },
    Tree(Trajectory),
    /// A pooled warmup draw is done: waiting for the pool's step size (and metric).
    Wait,
    Done,
}

const MAX_PROBES: u64 = 200;

/// A chain's host-side state. What every dispatch touches (the phase, the step size) sits in
/// the machine itself, about a hundred bytes; what only a finished draw touches (options,
/// step-size and metric adaptation) sits behind a box, so that the driver's pass over tens of
/// thousands of machines per dispatch streams through little memory.
pub struct ChainMachine {
    phase: Phase,
    step_size: f64,
    chain: usize,
    iteration: usize,
    probes: u64,
    last_end: Option<TrajectoryEnd>,
    rng: ChainRng,
    cold: Box<Cold>,
}

/// The per-draw part of a chain's state.
struct Cold {
    opts: ChainOptions,
    dual: DualAveraging,
    adapter: Adapter,
    directions: DirectionWords,
}

impl ChainMachine {
    /// A chain (backend index `chain`, random stream `rng`) of dimension `dim`.
    pub fn new(chain: usize, rng: ChainRng, dim: usize, opts: ChainOptions) -> ChainMachine {
        let mut directions = DirectionWords::default();
        let phase = if opts.warmup > 0 {
            Phase::Probe { count: 0, direction: 0 }
        } else {
            Phase::Tree(Trajectory::new(directions.word(&rng, 0), 0, opts.max_depth))
        };
        let phase = if opts.warmup.saturating_add(opts.draws) == 0 { Phase::Done } else { phase };
        ChainMachine {
            phase,
            step_size: opts.step_size,
            chain,
            iteration: 0,
            probes: 0,
            last_end: None,
            rng,
            cold: Box::new(Cold {
                opts,
                dual: DualAveraging::new(opts.dual_averaging, opts.step_size),
                adapter: Adapter::new(opts.adaptation, opts.metric, opts.warmup, dim),
                directions,
            }),
        }
    }

    /// The trajectory of the current iteration.
    fn trajectory(&mut self) -> Trajectory {
        let iteration = self.iteration as u64;
        Trajectory::new(self.cold.directions.word(&self.rng, iteration), iteration, self.cold.opts.max_depth)
    }

    /// Whether every iteration is done.
    pub fn is_done(&self) -> bool {
        matches!(self.phase, Phase::Done)
    }

    /// Whether the chain waits for its pool (see [`Adaptation::Pooled`]).
    pub fn is_waiting(&self) -> bool {
        matches!(self.phase, Phase::Wait)
    }

    /// Ends a pooled wait: the next iteration runs with the pool's step size.
    pub fn resume(&mut self, step_size: f64) {
        if self.is_waiting() {
            self.step_size = step_size;
            self.phase = Phase::Tree(self.trajectory());
        }
    }

    /// Appends the inverse mass diagonal adaptation produced last to `out` (see
    /// [`DrawOutcome::new_inv_mass`]; nothing before the first).
    pub fn push_inv_mass(&self, out: &mut Vec<f64>) {
        self.cold.adapter.push_inv_mass(out);
    }

    /// The inverse mass diagonal adaptation produced last (see
    /// [`DrawOutcome::new_inv_mass`]; empty before the first).
    pub fn inv_mass(&self) -> Vec<f64> {
        self.cold.adapter.inv_mass()
    }

    /// Prefetches the per-draw state [`ChainMachine::finish_draw`] reads first (see
    /// [`crate::mem::prefetch`]). A host loop over many chains' finished draws calls it two
    /// blocks of chains ahead, and [`ChainMachine::prefetch_adapter`] one block ahead, so that
    /// the cache misses of different chains overlap, where inside `finish_draw` each would
    /// wait on memory in turn.
    pub fn prefetch(&self) {
        crate::mem::prefetch(std::slice::from_ref(&*self.cold));
    }

    /// Prefetches the buffers warmup adaptation updates (reading where they are: call it
    /// after [`ChainMachine::prefetch`] has had time to bring that in).
    pub fn prefetch_adapter(&self) {
        if self.iteration < self.cold.opts.warmup {
            self.cold.adapter.prefetch();
        }
    }

    /// Current step size.
    pub fn step_size(&self) -> f64 {
        self.step_size
    }

    /// Iterations completed.
    pub fn iteration(&self) -> usize {
        self.iteration
    }

    /// The next command, or `None` when done.
    pub fn command(&self) -> Option<StepCommand> {
        match &self.phase {
            Phase::Probe { .. } => Some(StepCommand {
                chain: self.chain,
                begin: true,
                probe: true,
                direction: Direction::Forward,
                depth: 0,
                leaf: 0,
                step_size: self.step_size,
                iteration: self.probes,
            }),
            Phase::Tree(t) => Some(t.command(self.chain, self.step_size)),
            Phase::Wait | Phase::Done => None,
        }
    }

    /// Consumes a report; returns `true` when a draw finished (read its state and call
    /// [`ChainMachine::finish_draw`]).
    pub fn on_report(&mut self, rep: &LeafReport) -> bool {
        match &mut self.phase {
            Phase::Probe { count, direction } => {
                // Stan's init_stepsize: double or halve until the one-step acceptance crosses 0.8.
                self.probes += 1;
                let delta_h = -rep.energy_error;
                let above = delta_h > 0.8f64.ln();
                let mut finished = false;
                if *count == 0 {
                    *direction = if above { 1 } else { -1 };
                } else if (*direction == 1 && !above) || (*direction == -1 && above) {
                    finished = true;
                }
                if !finished {
                    if *count > 0 {
                        self.step_size *= if *direction == 1 { 2.0 } else { 0.5 };
                    }
                    if self.step_size > 1e7 || self.step_size < 1e-12 || *count >= MAX_PROBES {
                        self.step_size = self.step_size.clamp(1e-12, 1e7);
                        finished = true;
                    }
                }
                *count += 1;
                if finished {
                    self.cold.dual.restart(self.step_size);
                    self.phase = Phase::Tree(self.trajectory());
                }
                false
            }
            Phase::Tree(t) => {
                // The end is kept whether or not the trajectory ended: `finish_draw` reads it
                // only after one did.
                let (ended, end) = t.step(rep);
                self.last_end = Some(end);
                ended
            }
            Phase::Wait | Phase::Done => false,
        }
    }

    /// Records the finished draw, adapts, and prepares the next iteration.
    pub fn finish_draw(&mut self, state: &DrawState) -> DrawOutcome {
        let end = self.last_end.take().unwrap_or(TrajectoryEnd { diverged: false, depth: 0 });
        let tuning = self.iteration < self.cold.opts.warmup;
        let accept_stat = if state.n_leapfrog > 0 { state.sum_accept / state.n_leapfrog as f64 } else { 0.0 };
        let stats = DrawStats {
            lp: state.logp,
            step_size: self.step_size,
            // (A trajectory's depth is at most `tree::MAX_DEPTH`, 30.)
            tree_depth: end.depth.min(u32::from(u8::MAX)) as u8,
            n_leapfrog: state.n_leapfrog,
            diverging: end.diverged,
            energy: state.energy,
            energy_error: state.energy_error,
            accept_stat,
            tuning,
        };
        let iteration = self.iteration;
        let mut new_inv_mass = false;
        let mut new_low_rank = None;
        let mut probe = false;
        // A pooled chain's pool adapts (the driver hands it this draw) and resumes the chain.
        let pooled = tuning && self.cold.opts.adaptation == Adaptation::Pooled;
        if tuning && !pooled {
            self.step_size = self.cold.dual.update(accept_stat);
            let adapted = self.cold.adapter.on_draw(iteration, &state.q, &state.g);
            new_inv_mass = adapted.inv_mass;
            new_low_rank = adapted.low_rank;
            probe = adapted.search_step_size;
            if iteration + 1 == self.cold.opts.warmup {
                self.step_size = self.cold.dual.final_step_size();
                probe = false;
            }
        }
        self.iteration += 1;
        self.phase = if self.iteration >= self.cold.opts.warmup.saturating_add(self.cold.opts.draws) {
            Phase::Done
        } else if pooled {
            Phase::Wait
        } else if probe {
            Phase::Probe { count: 0, direction: 0 }
        } else {
            Phase::Tree(self.trajectory())
        };
        DrawOutcome { iteration, stats, new_inv_mass, new_low_rank }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A draw's statistics are written once per iteration per chain, twice over (the records,
    /// then the trace): at 65,536 chains every byte of them is 13 MB per 100 iterations. The
    /// fields pack into 48 bytes (five f64, the leapfrog count, the depth as a byte, two flags);
    /// a field added or widened that grows them is a decision to record (DECISIONS 81).
    #[test]
    fn draw_statistics_fit_in_48_bytes() {
        assert_eq!(size_of::<DrawStats>(), 48);
        assert_eq!(align_of::<DrawStats>(), 8);
    }
}
