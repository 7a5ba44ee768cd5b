//! Streaming a run to disk: a [`TraceWriter`] (CmdStan CSV, Zarr; see [`crate::io`]) opens one
//! [`ChainSink`] per chain before sampling starts, and the driver hands each sink its chain's
//! adapted metric, every kept draw and the end of the chain as they happen.

use crate::Model;
use crate::Result;
use crate::nuts::DrawStats;

/// What a trace writer needs to know about a run before it starts.
#[derive(Clone, Debug)]
pub struct RunInfo<'a> {
    /// The model being sampled.
    pub model: &'a Model,
    /// Global ids of the chains this run samples (0-based).
    pub chain_ids: Vec<usize>,
    /// Warmup iterations.
    pub warmup: usize,
    /// Iterations after warmup.
    pub draws: usize,
    /// Kept draws per chain (`ceil(draws / thin)`).
    pub kept: usize,
    /// Thinning.
    pub thin: usize,
    /// Seed of the run.
    pub seed: u64,
    /// Maximum tree depth.
    pub max_treedepth: u32,
    /// Target acceptance of step-size adaptation.
    pub target_accept: f64,
    /// Initial step size.
    pub step_size: f64,
    /// Metric adaptation scheme, in words.
    pub adaptation: String,
    /// Dimension of the unconstrained space (length of the inverse metric).
    pub dim: usize,
    /// Trace variables, in model order, and where they lie in a draw's values.
    pub vars: Vec<TraceVarInfo>,
}

/// One trace variable as a writer sees it.
#[derive(Clone, Debug, PartialEq)]
pub struct TraceVarInfo {
    /// Name.
    pub name: String,
    /// Shape of one draw (`[]` for a scalar).
    pub shape: Vec<usize>,
    /// Element labels (coordinates), when the model gave them.
    pub labels: Option<Vec<String>>,
    /// First value in the values a sink receives per draw.
    pub offset: usize,
}

impl TraceVarInfo {
    /// Elements per draw.
    pub fn size(&self) -> usize {
        self.shape.iter().product()
    }

    /// Name of element `e`: `theta[3]`, `a[Aitkin]` with labels, the name for a scalar.
    pub fn element_name(&self, e: usize) -> String {
        super::trace::element_name(&self.name, &self.shape, self.labels.as_deref(), e)
    }
}

/// Receives one chain's output while it is sampled. Implementations buffer and write in
/// blocks, so that a crash loses at most the block in progress.
pub trait ChainSink: Send {
    /// Warmup is over: the step size and inverse metric (diagonal) the chain samples with.
    fn adapted(&mut self, step_size: f64, inv_metric: &[f64]) -> Result<()>;
    /// A warmup iteration finished (its statistics: step size, tree depth, divergence). Trace
    /// files keep no warmup draws, so the default does nothing; the live view shows them.
    fn warmup(&mut self, stats: &DrawStats) -> Result<()> {
        let _ = stats;
        Ok(())
    }
    /// A kept draw: its statistics and constrained values (laid out as [`RunInfo::vars`]).
    fn draw(&mut self, stats: &DrawStats, values: &[f64]) -> Result<()>;
    /// The chain stopped: `complete` when it made every draw (not cancelled); times in
    /// seconds. Writes what is still buffered.
    fn finish(&mut self, complete: bool, warmup_s: f64, sampling_s: f64) -> Result<()>;
}

/// Writes a run as it is sampled ([`Sampler::save`](super::Sampler::save)).
pub trait TraceWriter: Send + Sync + std::fmt::Debug {
    /// Creates the output and one sink per chain of `run` (in `run.chain_ids` order). Called
    /// before sampling starts, so an unwritable path fails the run before any work.
    fn open(&self, run: &RunInfo<'_>) -> Result<Vec<Box<dyn ChainSink>>>;
    /// Called once after every chain finished (e.g. to write an index of the output).
    fn close(&self, run: &RunInfo<'_>) -> Result<()> {
        let _ = run;
        Ok(())
    }
}
