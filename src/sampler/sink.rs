//! Streaming a run as it is sampled: a [`TraceWriter`] (CmdStan CSV, Zarr; see [`crate::io`])
//! opens one [`ChainSink`] per chain before sampling starts, and the driver hands each sink its
//! chain's adapted metric, every kept draw and the end of the chain as they happen.
//!
//! A writer that watches many chains at once (the [live view](super::live)) may instead take
//! a [`GroupSink`] per group of chains: the driver hands it everything one batched step
//! finished in one call, so that its work stays out of the per-chain loop.

use super::records::Records;
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
        crate::model::Shape::element_name(&self.name, &self.shape, self.labels.as_deref(), e)
    }
}

/// Receives one chain's output while it is sampled. Implementations buffer and write in
/// blocks, so that a crash loses at most the block in progress.
pub trait ChainSink: Send {
    /// Warmup is over: the step size and inverse metric (diagonal) the chain samples with.
    fn adapted(&mut self, step_size: f64, inv_metric: &[f64]) -> Result<()>;
    /// A kept draw: its statistics and constrained values (laid out as [`RunInfo::vars`]).
    fn draw(&mut self, stats: &DrawStats, values: &[f64]) -> Result<()>;
    /// The chain stopped: `complete` when it made every draw (not cancelled); times in
    /// seconds. Writes what is still buffered.
    fn finish(&mut self, complete: bool, warmup_s: f64, sampling_s: f64) -> Result<()>;
}

/// Writes a run as it is sampled ([`Sampler::save`](super::Sampler::save)).
pub trait TraceWriter: Send + Sync + std::fmt::Debug {
    /// Creates the output and one sink per chain of `run` (in `run.chain_ids` order), or none
    /// for a writer fed through [`TraceWriter::group`]. Called before sampling starts, so an
    /// unwritable path fails the run before any work.
    fn open(&self, run: &RunInfo<'_>) -> Result<Vec<Box<dyn ChainSink>>>;
    /// A sink for one group of chains (`chain_ids`, a part of `run.chain_ids`; one group per
    /// backend instance), called after [`TraceWriter::open`] as each group starts. The
    /// default takes none.
    fn group(&self, run: &RunInfo<'_>, chain_ids: &[usize]) -> Result<Option<Box<dyn GroupSink>>> {
        let _ = (run, chain_ids);
        Ok(None)
    }
    /// Called once after every chain finished (e.g. to write an index of the output).
    fn close(&self, run: &RunInfo<'_>) -> Result<()> {
        let _ = run;
        Ok(())
    }
}

/// One batched step of a group, as a [`GroupSink`] sees it: how many iterations the step
/// finished (at most one per chain), the chains that stopped, and every chain's record so far.
#[derive(Clone, Copy)]
pub struct Batch<'a> {
    pub(super) finished: usize,
    pub(super) stopped: &'a [(usize, bool)],
    pub(super) records: &'a Records,
}

/// Everything one chain recorded so far: its warmup iterations' statistics, its kept draws'
/// statistics and their constrained values. A group records its chains iteration by
/// iteration, so a chain's records are read through these methods rather than as slices.
#[derive(Clone, Copy)]
pub struct ChainHistory<'a> {
    warmup: &'a [DrawStats],
    kept: &'a [DrawStats],
    values: &'a [f64],
    /// Chains between one iteration of this chain and the next, and values per kept draw.
    stride: usize,
    per_draw: usize,
    /// Warmup iterations and kept draws recorded.
    lens: [usize; 2],
}

/// The counts and the layout only: the slabs it reads reach over the whole group.
impl std::fmt::Debug for ChainHistory<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ChainHistory")
            .field("warmup_len", &self.lens[0])
            .field("kept_len", &self.lens[1])
            .field("stride", &self.stride)
            .field("per_draw", &self.per_draw)
            .finish()
    }
}

impl<'a> ChainHistory<'a> {
    /// A chain's records: each slab from the chain's first record on, its iterations
    /// `stride` records apart (values: `stride` draws of `per_draw` values apart).
    pub(super) fn new(
        warmup: &'a [DrawStats],
        kept: &'a [DrawStats],
        values: &'a [f64],
        (stride, per_draw): (usize, usize),
        lens: [usize; 2],
    ) -> ChainHistory<'a> {
        ChainHistory { warmup, kept, values, stride: stride.max(1), per_draw, lens }
    }

    /// Warmup iterations recorded.
    pub fn warmup_len(&self) -> usize {
        self.lens[0]
    }

    /// Kept draws recorded.
    pub fn kept_len(&self) -> usize {
        self.lens[1]
    }

    /// Statistics of its warmup iterations, in order.
    pub fn warmup(&self) -> impl ExactSizeIterator<Item = &'a DrawStats> + use<'a> {
        self.warmup.iter().step_by(self.stride).take(self.lens[0])
    }

    /// Statistics of its kept draws, in order.
    pub fn kept(&self) -> impl ExactSizeIterator<Item = &'a DrawStats> + use<'a> {
        self.kept.iter().step_by(self.stride).take(self.lens[1])
    }

    /// Constrained values of kept draw `draw` (laid out as [`RunInfo::vars`]). (A large run that
    /// no sink reads while its chains run records unconstrained positions instead, and
    /// constrains them when its trace is gathered; no sink ever sees those.)
    ///
    /// # Panics
    /// If `draw` is not below [`ChainHistory::kept_len`].
    pub fn values(&self, draw: usize) -> &'a [f64] {
        assert!(draw < self.lens[1], "draw {draw} of {} kept draws", self.lens[1]);
        let at = draw * self.stride * self.per_draw;
        &self.values[at..at + self.per_draw]
    }
}

impl<'a> Batch<'a> {
    /// Warmup iterations and kept draws the step finished.
    pub fn finished(&self) -> usize {
        self.finished
    }

    /// The chains that stopped in this step (or, in [`GroupSink::close`], every chain that
    /// had not): `(chain, complete)`, where `complete` means it made every draw.
    pub fn stopped(&self) -> &'a [(usize, bool)] {
        self.stopped
    }

    /// Chains in the group.
    pub fn chains(&self) -> usize {
        self.records.chains()
    }

    /// Values per kept draw.
    pub fn per_draw(&self) -> usize {
        self.records.per_draw()
    }

    /// Everything chain `chain` (its index in the group) recorded so far. The group records
    /// iteration by iteration, so reading many chains a draw at a time follows its layout;
    /// one chain alone strides across the group.
    ///
    /// # Panics
    /// If `chain` is not below [`Batch::chains`].
    pub fn history(&self, chain: usize) -> ChainHistory<'a> {
        self.records.history(chain)
    }
}

/// Receives a group of chains' output while it is sampled, one batched step at a time. The
/// driver calls it after each step that ended at least one chain's iteration, so a sink may
/// gather lazily from the chains' records (see [`Batch::history`]) instead of copying every
/// iteration.
pub trait GroupSink: Send {
    /// A batched step ended one or more chains' iterations.
    fn step(&mut self, batch: &Batch<'_>) -> Result<()>;
    /// The group is done: every chain finished, or the run was cancelled (`batch` holds no
    /// iterations; its stopped chains are those that had not stopped before).
    fn close(&mut self, batch: &Batch<'_>) -> Result<()>;
}
