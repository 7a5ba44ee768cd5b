//! The sampler: options, initialisation, batching chains through a backend, and the fit.

pub(crate) mod batch;
mod cancel;
mod driver;
mod fit;
pub(crate) mod init;
pub mod live;
mod pointwise;
mod precision;
pub mod predictive;
mod progress;
mod records;
mod sensitivity;
pub mod sink;
pub mod trace;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use rayon::prelude::*;

pub use cancel::CancelToken;
pub use driver::DriveCounters;
pub(crate) use fit::TraceLayout;
pub use fit::{Fit, Timing};
pub use init::MAX_INIT_TRIES;
pub use pointwise::{compute_log_likelihood, compute_log_prior, likelihood_term};
pub use predictive::{
    LogLikelihood, LogPrior, log_likelihood, posterior_predictive, prior_predictive, relative_eff,
};
pub use sensitivity::{MIN_DELTA, SensitivityOptions, power_scaling_sensitivity, sensitivity_from_terms};
pub use sink::{Batch, ChainHistory, ChainSink, GroupSink, RunInfo, TraceVarInfo, TraceWriter};
pub use trace::{Draws, Trace, TraceVar};

use crate::backend::Backend;
use crate::backend::cpu::{CpuBackend, Executor};
use crate::compile::{Compiled, compile};
use crate::error::{Error, Result};
use crate::model::Model;
pub use crate::nuts::{Adaptation, LowRankOptions, Metric};
use crate::nuts::{ChainMachine, ChainOptions, DualAveragingOptions};
use crate::rewrite::RewriteOptions;
use crate::rng::ChainRng;
use driver::{Group, drive};
use progress::Progress;
pub(crate) use progress::Progress as ProgressBars;
use records::RunRecords;

/// Makes the backend of one group of chains, in place of the built-in backends (see
/// [`Sampler::backend_factory`]): called with the compiled `logp`-and-gradient program, the
/// run's seed, the group's global chain ids (the backend's chains, in order) and the maximum
/// tree depth.
#[derive(Clone)]
pub struct BackendFactory {
    make: Arc<MakeBackend>,
    one_group: bool,
}

/// The function inside a [`BackendFactory`].
type MakeBackend =
    dyn Fn(&crate::compile::Program, u64, &[usize], usize) -> Result<Box<dyn Backend>> + Send + Sync;

impl BackendFactory {
    /// A factory calling `make(program, seed, chain_ids, max_depth)` per group of chains.
    pub fn new(
        make: impl Fn(&crate::compile::Program, u64, &[usize], usize) -> Result<Box<dyn Backend>>
        + Send
        + Sync
        + 'static,
    ) -> BackendFactory {
        BackendFactory { make: Arc::new(make), one_group: false }
    }

    /// Makes one backend for every chain of the run, as the GPU backend does, instead of
    /// groups like the CPU backend's (the host loop then splits its work over the run's
    /// threads when there are enough chains), or one per [device
    /// group](Sampler::device_groups). Under pooled warmup the whole run is then one
    /// pool, as on the GPU, rather than blocks of
    /// [`POOL_CHAINS`](crate::nuts::pooled::POOL_CHAINS) chains, so its draws differ from a
    /// grouped factory's.
    pub fn one_group(mut self) -> BackendFactory {
        self.one_group = true;
        self
    }
}

impl std::fmt::Debug for BackendFactory {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("BackendFactory")
    }
}

/// Which backend executes the program.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum BackendChoice {
    /// `EXMC_BACKEND=cpu|gpu` if set, else the GPU backend when a hardware adapter exists and
    /// its kernels can hold the model (else, with a warning, the CPU backend: DECISIONS 99),
    /// else the CPU backend. Software adapters (Mesa lavapipe) run only when asked for.
    #[default]
    Auto,
    /// The native CPU backend.
    Cpu,
    /// The WGSL/wgpu backend on the default adapter (f32 kernels; all chains in one batch).
    Gpu,
}

impl BackendChoice {
    /// Resolves `Auto`: the `EXMC_BACKEND` variable, then a hardware GPU, then the CPU. (A run
    /// then checks that the GPU kernels can hold the model, see [`BackendChoice::Auto`].)
    pub fn resolve(self) -> Result<BackendChoice> {
        if self != BackendChoice::Auto {
            return Ok(self);
        }
        match Self::env().as_deref() {
            Some("cpu") => Ok(BackendChoice::Cpu),
            Some("gpu") => Ok(BackendChoice::Gpu),
            Some("") | None => Ok(if crate::backend::gpu::device::hardware_adapter().is_some() {
                BackendChoice::Gpu
            } else {
                BackendChoice::Cpu
            }),
            Some(other) => Err(Error::InvalidOption {
                option: "EXMC_BACKEND",
                reason: format!("`{other}` is neither `cpu` nor `gpu`"),
            }),
        }
    }

    /// `EXMC_BACKEND`, trimmed.
    fn env() -> Option<String> {
        std::env::var("EXMC_BACKEND").ok().map(|v| v.trim().to_string())
    }

    /// Whether this is the automatic choice: `Auto` without `EXMC_BACKEND` naming a backend.
    pub(crate) fn automatic(self) -> bool {
        self == BackendChoice::Auto && Self::env().is_none_or(|v| v.is_empty())
    }

    /// Name reported in the fit.
    pub fn name(self) -> String {
        match self {
            BackendChoice::Auto | BackendChoice::Cpu => "cpu".into(),
            BackendChoice::Gpu => "gpu".into(),
        }
    }

    /// Splits chains into groups, each driven to completion by its own backend instance. On
    /// the CPU: at least one group per thread (a leaf of a small model is cheaper than a
    /// fork-join), and groups small enough that a group's state (`chain_bytes` per chain) stays
    /// in cache: one dispatch sweeps every live chain of its group, so a group of 10⁵ chains
    /// streams its whole state through memory on every leaf (DECISIONS 26). On the GPU:
    /// `device_groups` runs of consecutive ids ([`Sampler::device_groups`]), at most one per
    /// thread.
    /// Pooled warmup (`pooled`) pools each group: on the CPU the groups are then blocks of
    /// [`POOL_CHAINS`](crate::nuts::pooled::POOL_CHAINS) chains by id, whatever the thread
    /// count, so that draws do not depend on it.
    fn groups(
        self,
        ids: &[usize],
        threads: usize,
        chain_bytes: usize,
        (pooled, device_groups): (bool, usize),
    ) -> Vec<Vec<usize>> {
        match self {
            BackendChoice::Auto | BackendChoice::Cpu if pooled => {
                ids.chunks(crate::nuts::pooled::POOL_CHAINS).map(<[usize]>::to_vec).collect()
            }
            BackendChoice::Auto | BackendChoice::Cpu => {
                let per_group = (GROUP_BYTES / chain_bytes.max(1)).clamp(MIN_GROUP_CHAINS, MAX_GROUP_CHAINS);
                let n = threads.max(ids.len().div_ceil(per_group)).min(ids.len()).max(1);
                let size = ids.len().div_ceil(n);
                ids.chunks(size).map(<[usize]>::to_vec).collect()
            }
            BackendChoice::Gpu => {
                // Groups run at once only on threads of their own: at most one per thread.
                let n = device_groups.min(threads).clamp(1, ids.len().max(1));
                let size = ids.len().div_ceil(n);
                ids.chunks(size.max(1)).map(<[usize]>::to_vec).collect()
            }
        }
    }

    /// A backend for one group of chains (global ids `chain_ids`); a GPU backend on the run's
    /// shared device `gpu` (device groups, DECISIONS 82; made by `Sampler::device_for`), or on
    /// a device of its own where none is given.
    fn create(
        self,
        compiled: &Compiled,
        seed: u64,
        chain_ids: &[usize],
        max_depth: u32,
        (precision, mapping, max_rank): (
            crate::backend::gpu::Precision,
            crate::backend::gpu::MappingChoice,
            usize,
        ),
        (row_parallel, gpu): (bool, Option<&Arc<crate::backend::gpu::Gpu>>),
    ) -> Result<Box<dyn Backend>> {
        let depth = max_depth as usize;
        match self {
            BackendChoice::Auto | BackendChoice::Cpu => {
                let mut cpu = CpuBackend::new(compiled.logp_grad.clone(), seed, chain_ids, depth);
                cpu.set_row_parallel(row_parallel);
                Ok(Box::new(cpu))
            }
            BackendChoice::Gpu => {
                let gpu = match gpu {
                    Some(g) => g.clone(),
                    None => Arc::new(crate::backend::gpu::Gpu::new()?),
                };
                let prog = &compiled.logp_grad;
                let b = crate::backend::gpu::GpuBackend::with_max_rank(
                    gpu,
                    prog,
                    seed,
                    chain_ids,
                    depth,
                    (precision, mapping),
                    max_rank,
                )?;
                Ok(Box::new(b))
            }
        }
    }
}

/// Step sizes a run may start from (the range warmup's search keeps to).
const MIN_STEP_SIZE: f64 = 1e-12;
const MAX_STEP_SIZE: f64 = 1e7;

/// Most worker threads a run may ask for.
const MAX_THREADS: usize = 4096;

/// Bytes of chain state a CPU group aims at (about a core's L2 cache).
const GROUP_BYTES: usize = 1 << 20;
/// Fewest and most chains of a CPU group (when there are enough chains).
const MIN_GROUP_CHAINS: usize = 16;
const MAX_GROUP_CHAINS: usize = 1024;
/// Values' worth of bytes a low-rank window entry holds besides its `dim` values: the vector's
/// header in the window and the allocator's bookkeeping.
const LOW_RANK_ENTRY_EXTRA: u128 = 5;

/// Most chains a run may have: chain ids key 32-bit random streams (CPU and WGSL alike), so
/// chain 2³² would repeat chain 0's stream.
pub const MAX_CHAINS: u128 = 1 << 32;

/// Most iterations (warmup + draws) per chain: the iteration number keys the random streams
/// with 60 bits.
pub const MAX_ITERATIONS: u128 = 1 << 60;

/// How chains start.
#[derive(Clone, Debug, Default, PartialEq)]
pub enum Init {
    /// Uniform in (-2, 2) on the unconstrained scale, retried up to 100 times.
    #[default]
    Random,
    /// Values in the constrained space for some or all free variables (the rest random),
    /// shared by every chain. A variable that automatic non-centring rewrote is given by its
    /// own value: its standardised draw is solved for at the location and scale the other
    /// given values make (give those too, to start exactly there).
    Values(HashMap<String, Vec<f64>>),
    /// Values as [`Init::Values`], one set per chain (PyMC's `initvals` as a list): chain `c`
    /// starts from the `c`-th set, so there must be as many sets as chains. A set may give
    /// some free variables only; the rest start at random. [`Pathfinder::inits`] makes one
    /// from Pathfinder's draws.
    ///
    /// [`Pathfinder::inits`]: crate::optimize::Pathfinder::inits
    PerChain(Vec<HashMap<String, Vec<f64>>>),
}

impl Init {
    /// Each start's point on the unconstrained scale and which coordinates it sets: one pair
    /// shared by all, or one per start for [`Init::PerChain`], whose length must be `starts`
    /// (`what`: "chain", "path", "search", for messages).
    pub(crate) fn unconstrained(
        &self,
        compiled: &Compiled,
        starts: usize,
        what: &str,
    ) -> Result<Vec<init::Given>> {
        let dim = compiled.pointmap.dim;
        match self {
            Init::Random => Ok(vec![(vec![0.0; dim], vec![false; dim])]),
            Init::Values(v) => Ok(vec![init::user_values(compiled, v)?]),
            Init::PerChain(sets) if sets.len() != starts => Err(Error::invalid_option(
                "init",
                format!(
                    "{} sets of values for {starts} {what}{} (one per {what})",
                    sets.len(),
                    if starts == 1 { "" } else { "s" }
                ),
            )),
            Init::PerChain(sets) => sets
                .iter()
                .enumerate()
                .map(|(c, v)| {
                    init::user_values(compiled, v).map_err(|e| match e {
                        Error::InvalidOption { option, reason } => {
                            Error::InvalidOption { option, reason: format!("{what} {c}: {reason}") }
                        }
                        other => other,
                    })
                })
                .collect(),
        }
    }
}

/// Builder for a NUTS run.
///
/// ```
/// use exmc::prelude::*;
/// let mut m = Model::new();
/// let mu = m.rv("mu", Normal::new(0.0, 5.0))?;
/// m.observe("x", Normal::new(mu, 1.0), &[1.0, 2.0, 1.5])?;
/// let fit = Sampler::new(&m).chains(2).warmup(200).draws(200).seed(1).progress(false).run()?;
/// assert_eq!(fit.trace.var("mu").unwrap().values.len(), 400);
/// # Ok::<(), exmc::Error>(())
/// ```
#[derive(Clone, Debug)]
pub struct Sampler<'m> {
    model: &'m Model,
    chains: usize,
    warmup: Option<usize>,
    draws: usize,
    thin: usize,
    seed: u64,
    target_accept: f64,
    step_size: f64,
    max_treedepth: u32,
    init: Init,
    backend: BackendChoice,
    progress: bool,
    cancel: CancelToken,
    rewrite: RewriteOptions,
    chain_ids: Option<Vec<usize>>,
    threads: Option<usize>,
    metric_init: MetricInit,
    adaptation: Adaptation,
    metric: Metric,
    gpu_precision: crate::backend::gpu::Precision,
    gpu_mapping: crate::backend::gpu::MappingChoice,
    writers: Vec<Arc<dyn TraceWriter>>,
    factory: Option<BackendFactory>,
    device_groups: usize,
    keep_warmup_stats: bool,
    live: Option<LiveTarget>,
}

/// Where the live view of a run is served.
#[derive(Clone, Debug)]
enum LiveTarget {
    /// Bind this address when the run starts; stop serving when it ends.
    Addr(String),
    /// A view the caller bound (and keeps serving after the run while it holds it).
    View(live::LiveView),
}

/// Per-chain sinks waiting for the group that runs their chain.
type SinkPool = Mutex<HashMap<usize, Vec<Box<dyn ChainSink>>>>;

impl<'m> Sampler<'m> {
    /// Defaults: 4 chains, 1000 draws, seed 0, target 0.8, depth 10, and the adaptation's own
    /// warmup length ([`Adaptation::default_warmup`]: 300 for nutpie's schedule, the default;
    /// 1000 for Stan's windows).
    pub fn new(model: &'m Model) -> Sampler<'m> {
        Sampler {
            model,
            chains: 4,
            warmup: None,
            draws: 1000,
            thin: 1,
            seed: 0,
            target_accept: 0.8,
            step_size: 1.0,
            max_treedepth: 10,
            init: Init::Random,
            backend: BackendChoice::Auto,
            progress: true,
            cancel: CancelToken::new(),
            rewrite: RewriteOptions::default(),
            chain_ids: None,
            threads: None,
            metric_init: MetricInit::Gradient,
            adaptation: Adaptation::default(),
            metric: Metric::default(),
            writers: Vec::new(),
            factory: None,
            device_groups: 1,
            keep_warmup_stats: true,
            live: None,
            gpu_precision: crate::backend::gpu::Precision::F32,
            gpu_mapping: crate::backend::gpu::MappingChoice::Auto,
        }
    }

    /// Number of chains.
    pub fn chains(mut self, n: usize) -> Self {
        self.chains = n;
        self
    }
    /// Warmup iterations per chain (default: [`Adaptation::default_warmup`]).
    pub fn warmup(mut self, n: usize) -> Self {
        self.warmup = Some(n);
        self
    }

    /// The warmup length this run uses.
    pub fn warmup_len(&self) -> usize {
        self.warmup.unwrap_or_else(|| self.adaptation.default_warmup())
    }
    /// Iterations after warmup per chain.
    pub fn draws(mut self, n: usize) -> Self {
        self.draws = n;
        self
    }
    /// Keep every `k`-th draw.
    pub fn thin(mut self, k: usize) -> Self {
        self.thin = k;
        self
    }
    /// Random seed.
    pub fn seed(mut self, seed: u64) -> Self {
        self.seed = seed;
        self
    }
    /// Initial step size (Stan's `stepsize`, default 1): warmup starts its search from it, and
    /// with `warmup(0)` every draw uses it.
    pub fn step_size(mut self, eps: f64) -> Self {
        self.step_size = eps;
        self
    }
    /// Target acceptance statistic of step-size adaptation.
    pub fn target_accept(mut self, t: f64) -> Self {
        self.target_accept = t;
        self
    }
    /// Maximum tree depth.
    pub fn max_treedepth(mut self, d: u32) -> Self {
        self.max_treedepth = d;
        self
    }
    /// Initial values.
    pub fn init(mut self, init: Init) -> Self {
        self.init = init;
        self
    }
    /// Backend choice.
    pub fn backend(mut self, b: BackendChoice) -> Self {
        self.backend = b;
        self
    }
    /// Runs the chains on backends made by `factory` instead of the built-in ones: another
    /// device, or a stand-in (the `host_loop` example times the driver and the chains' state
    /// machines alone on a synthetic backend this way). Chains are grouped as on the CPU
    /// backend (a group per thread), each group with its own backend, unless the factory asks
    /// for [one group](BackendFactory::one_group).
    pub fn backend_factory(mut self, factory: BackendFactory) -> Self {
        self.factory = Some(factory);
        self
    }
    /// Show progress bars on stderr when it is a terminal (default on).
    pub fn progress(mut self, on: bool) -> Self {
        self.progress = on;
        self
    }
    /// Token that stops the run early, returning the draws so far.
    pub fn cancel_token(mut self, t: CancelToken) -> Self {
        self.cancel = t;
        self
    }
    /// Enables or disables automatic non-centring.
    pub fn noncenter(mut self, on: bool) -> Self {
        self.rewrite.noncenter = on;
        self
    }
    /// Runs only the chains with these ids (out of `chains`); each gives the trace it would
    /// give in a full run with the same seed.
    pub fn only_chains(mut self, ids: Vec<usize>) -> Self {
        self.chain_ids = Some(ids);
        self
    }
    /// The inverse mass matrix chains start from (default: from the initial gradient).
    pub fn metric_init(mut self, m: MetricInit) -> Self {
        self.metric_init = m;
        self
    }
    /// How warmup adapts the metric (default [`Adaptation::DrawGradient`], nutpie's schedule;
    /// [`Adaptation::Windowed`] is Stan's).
    pub fn adaptation(mut self, a: Adaptation) -> Self {
        self.adaptation = a;
        self
    }
    /// Which metric warmup adapts (default [`Metric::Diagonal`]; [`Metric::low_rank()`] is
    /// nutpie's low-rank-plus-diagonal metric, which needs nutpie's adaptation schedule;
    /// [`Metric::Auto`] takes it on the CPU in up to 128 dimensions and the diagonal
    /// elsewhere).
    pub fn metric(mut self, m: Metric) -> Self {
        self.metric = m;
        self
    }
    /// Floating-point type of GPU kernels (default f32; f64 needs an adapter with `SHADER_F64`).
    pub fn gpu_precision(mut self, p: crate::backend::gpu::Precision) -> Self {
        self.gpu_precision = p;
        self
    }
    /// How the GPU backend maps chains onto invocations (default `Auto`: one workgroup per chain
    /// for long vectors, one invocation per chain otherwise). The fit's `backend` names the
    /// mapping used.
    pub fn gpu_mapping(mut self, m: crate::backend::gpu::MappingChoice) -> Self {
        self.gpu_mapping = m;
        self
    }
    /// Splits a device's chains (the GPU backend's, or a [one-group
    /// factory](BackendFactory::one_group)'s) into `n` groups of consecutive chains, each with
    /// its own backend on the same device and its own host loop on `threads / n` of the
    /// threads (default 1: one group of every chain). The groups' dispatches queue on the
    /// device one after the other, so that one group's host work (reading its reports,
    /// choosing its next commands, recording its draws) runs while another group's leaf step
    /// runs on the device: with two groups, the host loop and the device each wait for the
    /// other only where one takes longer than the other (DECISIONS 82). The draws are the same
    /// for any `n`, except under pooled warmup, where each group is a pool. Ignored by the CPU
    /// backend, whose chains are grouped by the threads already. At most one group per thread
    /// (groups run at once only on threads of their own) and per chain is made.
    pub fn device_groups(mut self, n: usize) -> Self {
        self.device_groups = n;
        self
    }

    /// Whether the fit keeps every warmup iteration's statistics (`trace.warmup_stats`:
    /// step size, tree depth, acceptance, divergences of the warmup; default `true`). With
    /// `false` (PyMC's `discard_tuned_samples`, Stan's `save_warmup = false`) they are not
    /// recorded at all: a run of many chains then needs 48 bytes per chain and warmup
    /// iteration less memory, and its host loop writes that much less (DECISIONS 83), while
    /// `trace.warmup_stats` holds an empty list per chain and
    /// [`Trace::leapfrog_steps`] counts no warmup gradients (`counters.leaf_steps` still
    /// counts every leapfrog step). A run with a live view keeps them whatever this says: the
    /// view plots the warmup.
    pub fn keep_warmup_stats(mut self, keep: bool) -> Self {
        self.keep_warmup_stats = keep;
        self
    }

    /// The warmup iterations whose statistics the run records: all of them, or none (see
    /// [`Sampler::keep_warmup_stats`]).
    fn warmup_rows(&self) -> usize {
        if self.keep_warmup_stats || self.live.is_some() { self.warmup_len() } else { 0 }
    }

    /// Writes the run to disk while it samples ([`crate::io::CmdStanCsv`],
    /// [`crate::io::Zarr`]; several may be given). Kept draws reach the files in blocks as
    /// they are made, so a run that dies loses at most the last block; the output is created
    /// before sampling starts, so an unwritable path fails at once.
    pub fn save(mut self, writer: impl TraceWriter + 'static) -> Self {
        self.writers.push(Arc::new(writer));
        self
    }

    /// Serves a live view of the run on `addr` (e.g. `"127.0.0.1:8080"`; port 0 picks a
    /// free one): a page that updates while the chains run, with progress, divergences, warmup
    /// step sizes and tree depths, trace and rank plots and running R-hat and ESS (see
    /// [`live`]). The address is printed on stderr when the run starts; the server stops when
    /// the run ends or is cancelled. An address that cannot be bound fails the run with
    /// [`Error::Live`] before any work.
    pub fn live(mut self, addr: &str) -> Self {
        self.live = Some(LiveTarget::Addr(addr.to_string()));
        self
    }

    /// Shows the run on a [`live::LiveView`] bound beforehand (to choose the variables and
    /// the chains shown, or to read [`live::LiveView::url`] first). The view keeps serving the
    /// final state until the caller drops it.
    pub fn live_view(mut self, view: live::LiveView) -> Self {
        self.live = Some(LiveTarget::View(view));
        self
    }

    /// Number of worker threads (default: as many as the calling thread pool has: rayon's global
    /// pool, or the pool of a caller's parallel iterator the run is made in).
    pub fn threads(mut self, n: usize) -> Self {
        self.threads = Some(n);
        self
    }

    /// Validates the options; returns how many chains will run (nothing is allocated for them).
    fn check(&self) -> Result<usize> {
        if self.chains == 0 {
            return Err(Error::invalid_option("chains", "must be at least 1"));
        }
        if self.thin == 0 {
            return Err(Error::invalid_option("thin", "must be at least 1"));
        }
        if !(self.target_accept > 0.0 && self.target_accept < 1.0) {
            return Err(Error::invalid_option("target_accept", "must lie in (0, 1)"));
        }
        if !(MIN_STEP_SIZE..=MAX_STEP_SIZE).contains(&self.step_size) {
            // The range warmup's search keeps to; GPU kernels receive it as f32 words.
            return Err(Error::invalid_option("step_size", "must lie in [1e-12, 1e7]"));
        }
        if let Metric::LowRank(o) = self.metric {
            if self.adaptation != Adaptation::DrawGradient {
                return Err(Error::invalid_option(
                    "metric",
                    "a low-rank metric is adapted by Adaptation::DrawGradient only",
                ));
            }
            if !(1..=64).contains(&o.max_rank) {
                return Err(Error::invalid_option("metric", "LowRankOptions::max_rank must lie in 1..=64"));
            }
            if !(o.eigval_cutoff > 1.0 && o.eigval_cutoff.is_finite()) {
                return Err(Error::invalid_option(
                    "metric",
                    "LowRankOptions::eigval_cutoff must be finite and above 1",
                ));
            }
            if !(o.gamma > 0.0 && o.gamma.is_finite()) {
                return Err(Error::invalid_option(
                    "metric",
                    "LowRankOptions::gamma must be finite and positive",
                ));
            }
        }
        if self.max_treedepth == 0 || self.max_treedepth > crate::nuts::tree::MAX_DEPTH {
            return Err(Error::invalid_option("max_treedepth", "must lie in 1..=30"));
        }
        if self.threads == Some(0) || self.threads > Some(MAX_THREADS) {
            return Err(Error::invalid_option("threads", "must lie in 1..=4096"));
        }
        if self.device_groups == 0 || self.device_groups > MAX_THREADS {
            return Err(Error::invalid_option("device_groups", "must lie in 1..=4096"));
        }
        if self.chains as u128 > MAX_CHAINS {
            return Err(Error::invalid_option(
                "chains",
                "must be at most 2^32: chain ids key 32-bit random streams",
            ));
        }
        match self.warmup_len().checked_add(self.draws) {
            Some(n) if n as u128 <= MAX_ITERATIONS => {}
            _ => {
                return Err(Error::invalid_option(
                    "draws",
                    "warmup + draws must be at most 2^60 iterations per chain",
                ));
            }
        }
        let Some(ids) = &self.chain_ids else { return Ok(self.chains) };
        if ids.is_empty() || ids.iter().any(|&c| c >= self.chains) {
            return Err(Error::invalid_option("only_chains", "ids must be non-empty and below `chains`"));
        }
        let mut sorted = ids.clone();
        sorted.sort_unstable();
        if let Some(w) = sorted.windows(2).find(|w| w[0] == w[1]) {
            return Err(Error::InvalidOption {
                option: "only_chains",
                reason: format!(
                    "chain {} is listed twice (a repeated chain is not an independent draw)",
                    w[0]
                ),
            });
        }
        Ok(ids.len())
    }

    /// The chain ids to run (after [`Sampler::preflight`] has checked that they fit).
    fn ids(&self) -> Result<Vec<usize>> {
        match &self.chain_ids {
            Some(ids) => Ok(ids.clone()),
            None => {
                let mut v = Vec::new();
                crate::mem::try_reserve(&mut v, self.chains, || {
                    format!("the ids of {} chains", self.chains)
                })?;
                v.extend(0..self.chains);
                Ok(v)
            }
        }
    }

    /// Checks, before anything is allocated, that the run's host memory ([`Sampler::host_bytes`])
    /// can be addressed and allocated: compared with the machine's memory and swap where the
    /// system says (Linux), and reserved once.
    fn preflight(
        &self,
        compiled: &Compiled,
        chains: usize,
        (choice, threads): (BackendChoice, usize),
        (single, unconstrained): (bool, bool),
    ) -> Result<()> {
        let bytes = self.host_bytes(compiled, chains, (choice, threads), (single, unconstrained))?;
        crate::mem::check_fits(
            bytes.div_ceil(std::mem::size_of::<f64>() as u128),
            || "the run's host memory (trace and chain state)".to_string(),
            " (fewer chains or draws, `thin`, or `keep_warmup_stats(false)` need less)",
        )
    }

    /// The host memory a run of `chains` chains holds at its peak: every chain's id, records
    /// (statistics, and each kept draw's values: constrained, or `unconstrained` where the run
    /// records them so, see [`Sampler::records_unconstrained`]), gathered trace and
    /// statistics, and, with f32 kernels (`single`), the moments of its draws; plus the state
    /// of the chains in flight — on the CPU backend their workspaces and trajectory state,
    /// everywhere their state machines (with a low-rank metric, its window of warmup draws and
    /// gradients). Sizes are computed in saturating u128 arithmetic; a trace too large to
    /// address is [`Error::TooLarge`].
    fn host_bytes(
        &self,
        compiled: &Compiled,
        chains: usize,
        (choice, threads): (BackendChoice, usize),
        (single, unconstrained): (bool, bool),
    ) -> Result<u128> {
        let f64s = std::mem::size_of::<f64>() as u128;
        let stats = std::mem::size_of::<crate::nuts::DrawStats>() as u128;
        let per_draw = values_per_draw(compiled);
        let dim = compiled.pointmap.dim as u128;
        let kept = self.draws.div_ceil(self.thin) as u128;
        let chains = chains as u128;
        let trace = kept.saturating_mul(per_draw);
        let what = || format!("the trace ({chains} chains × {kept} draws × {per_draw} values)");
        crate::mem::check_len(chains.saturating_mul(trace), what)?;
        let recorded = kept.saturating_mul(if unconstrained { dim } else { per_draw });
        // Per chain for the whole run: id, record, trace, statistics, draw moments; and the
        // gathered trace and statistics, which coexist with the records while the fit is
        // assembled (and, where a core is free, from the start: DECISIONS 76).
        let moments = if single { 2 * dim } else { 0 };
        let all_stats = (kept + self.warmup_rows() as u128).saturating_mul(stats);
        let record = (256 + all_stats.saturating_mul(2))
            .saturating_add(recorded.saturating_add(trace).saturating_add(moments).saturating_mul(f64s));
        let bytes = chains.saturating_mul(record);
        // Per chain in flight: its state machine (adaptation estimators, draw buffers) and, on
        // the CPU backend, its workspace and trajectory state. At most `threads` groups run at
        // once (see `BackendChoice::groups`); the GPU backend holds one group of every chain.
        let mut state = 12u128.saturating_mul(dim);
        let live = if choice == BackendChoice::Gpu {
            chains
        } else {
            let workspace = compiled.logp_grad.workspace_len();
            let vectors = 16 + 4 * (u128::from(self.max_treedepth) + 1);
            state = state.saturating_add(workspace).saturating_add(vectors.saturating_mul(dim));
            // A one-group factory's backend holds every chain at once.
            let one_group = self.factory.as_ref().is_some_and(|f| f.one_group);
            if one_group { chains } else { chains.min(threads as u128 * MAX_GROUP_CHAINS as u128) }
        };
        // The low-rank estimator keeps its window's draws and gradients, at most one of each
        // per warmup iteration (`nuts::low_rank::Store`), each a vector of `dim` and its header.
        if let Metric::LowRank(_) = self.resolved_metric(compiled, choice) {
            let window = (2 * self.warmup_len() as u128).saturating_mul(dim + LOW_RANK_ENTRY_EXTRA);
            state = state.saturating_add(window);
        }
        crate::mem::check_len(live.saturating_mul(state), || {
            format!("the state of {live} chains in flight ({state} values each)")
        })?;
        Ok(bytes.saturating_add(live.saturating_mul(state).saturating_mul(f64s)))
    }

    /// Whether a run of `chains` chains, whose records a writer or the live view reads while
    /// the chains run (`streamed`) or not, records its kept draws unconstrained
    /// ([`driver::records_unconstrained`], DECISIONS 80): decided once per run, before the
    /// memory check (so from the compiled output shapes, in saturating u128 arithmetic, not
    /// from a constraining program not yet built), for the check and the host loop alike.
    fn records_unconstrained(&self, compiled: &Compiled, chains: usize, streamed: bool) -> bool {
        let per_draw = values_per_draw(compiled);
        let values = crate::mem::product(&[chains, self.draws.div_ceil(self.thin)]).saturating_mul(per_draw);
        usize::try_from(per_draw)
            .is_ok_and(|p| driver::records_unconstrained(streamed, compiled.pointmap.dim, p, values))
    }

    /// The run's shared GPU device when `choice` is the GPU, and the seconds making it took
    /// (backend set-up, also when the device then goes unused). An automatic choice
    /// ([`BackendChoice::Auto`] without `EXMC_BACKEND`) whose model the GPU kernels cannot hold
    /// ([`GpuBackend::fits`]: the workgroup memory of a model of many thousand parameters, f64
    /// on an adapter without it) samples on the CPU instead, and says so in a warning; an
    /// explicit choice keeps the error.
    ///
    /// [`GpuBackend::fits`]: crate::backend::gpu::GpuBackend::fits
    #[allow(clippy::type_complexity)]
    fn device_for(
        &self,
        compiled: &Compiled,
        choice: BackendChoice,
    ) -> Result<(BackendChoice, Option<Arc<crate::backend::gpu::Gpu>>, f64, Option<String>)> {
        if choice != BackendChoice::Gpu || self.factory.is_some() {
            return Ok((choice, None, 0.0, None));
        }
        let made = Instant::now();
        let gpu = Arc::new(crate::backend::gpu::Gpu::new()?);
        let fits = crate::backend::gpu::GpuBackend::fits(
            &gpu,
            &compiled.logp_grad,
            (self.gpu_precision, self.gpu_mapping),
        );
        let made_s = made.elapsed().as_secs_f64();
        match fits {
            Err(e) if self.backend.automatic() => Ok((
                BackendChoice::Cpu,
                None,
                made_s,
                Some(format!(
                    "sampled on the CPU: the GPU kernels cannot hold this model ({e}); asking for \
                     the GPU (`backend(BackendChoice::Gpu)`, `--backend gpu`, `EXMC_BACKEND=gpu`) \
                     makes this an error"
                )),
            )),
            Err(e) => Err(e.into()),
            Ok(_) => Ok((choice, Some(gpu), made_s, None)),
        }
    }

    /// Compiles the model and samples.
    pub fn run(&self) -> Result<Fit> {
        let chains = self.check()?;
        let Some(target) = &self.live else { return self.run_with(chains, None) };
        let view = match target {
            LiveTarget::View(v) => v.clone(),
            LiveTarget::Addr(addr) => {
                let v = live::LiveView::bind(addr)?;
                eprintln!("exmc: live view at {}", v.url());
                v
            }
        };
        let fit = self.run_with(chains, Some(&view));
        match &fit {
            Ok(f) => view.end(f.cancelled, false),
            Err(_) => view.end(false, true),
        }
        fit
    }

    /// Compiles the model and samples `chains` chains (as [`Sampler::check`] counted them),
    /// feeding `live` when given.
    ///
    /// A run waits for its own thread pool. On a worker of another pool (a caller's parallel
    /// iterator over runs) that wait would run the caller's other jobs meanwhile, other runs
    /// among them, on the same stack: runs would nest until the worker's stack overflows. There
    /// the run is made on a thread of its own, and the worker waits without taking other work.
    fn run_with(&self, chains: usize, live: Option<&live::LiveView>) -> Result<Fit> {
        // The default thread count is the calling pool's, read here on the caller's thread.
        let threads = self.threads.unwrap_or_else(rayon::current_num_threads).max(1);
        if rayon::current_thread_index().is_none() {
            return self.run_here(chains, threads, live);
        }
        std::thread::scope(|s| {
            let run = std::thread::Builder::new()
                .name("exmc-run".into())
                .spawn_scoped(s, || self.run_here(chains, threads, live))
                .map_err(|e| Error::InvalidOption {
                    option: "threads",
                    reason: format!("starting the run's thread: {e}"),
                })?;
            run.join().unwrap_or_else(|panic| std::panic::resume_unwind(panic))
        })
    }

    /// [`Sampler::run_with`] on the calling thread, on a pool of `threads` threads.
    fn run_here(&self, chains: usize, threads: usize, live: Option<&live::LiveView>) -> Result<Fit> {
        let t0 = Instant::now();
        let compiled = compile(self.model, self.rewrite)?;
        if compiled.pointmap.dim == 0 {
            return Err(Error::NoFreeVariables);
        }
        let compile_s = t0.elapsed().as_secs_f64();
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .map_err(|e| Error::InvalidOption { option: "threads", reason: e.to_string() })?;
        let t1 = Instant::now();
        // A factory's backends are grouped like the CPU backend's unless it asks for one group.
        let choice = if self.factory.is_some() { BackendChoice::Cpu } else { self.backend.resolve()? };
        let (choice, device, device_s, fallback) = self.device_for(&compiled, choice)?;
        // A device made and then not used (the fallback) still counts as set-up.
        let unused_s = if device.is_none() { device_s } else { 0.0 };
        let device = device.map(|gpu| (gpu, device_s));
        let single =
            choice == BackendChoice::Gpu && self.gpu_precision == crate::backend::gpu::Precision::F32;
        let streamed = !self.writers.is_empty() || live.is_some();
        let unconstrained = self.records_unconstrained(&compiled, chains, streamed);
        self.preflight(&compiled, chains, (choice, threads), (single, unconstrained))?;
        // The starting values are checked before the run's writers and buffers are made (and
        // after the sizes are: the points are the model's size).
        let given = self.init.unconstrained(&compiled, self.chains, "chain")?;
        let ids = self.ids()?;
        if single {
            precision::check_f32_model(self.model)?;
        }
        let run_info = self.run_info(&compiled, &ids, choice);
        let mut writers = self.writers.clone();
        writers.extend(live.map(|v| Arc::new(v.clone()) as Arc<dyn TraceWriter>));
        let sinks = open_writers(&writers, &run_info)?;
        let made = self.trace_buffers(&compiled, ids.len(), choice, threads);
        // One constraining program per run: the host loop's, or the gathering's (DECISIONS 80).
        let constrain = Executor::new(compiled.constrain.clone());
        let (mut records, counters, backend, single) = pool.install(|| {
            let program = (&compiled, &constrain, unconstrained, given.as_slice());
            self.sample(program, &ids, threads, (choice, device), (&writers, &run_info, &sinks))
        })?;
        // The loop is over: nothing the record populators have left will be written, and
        // what the trace's buffers have not faulted in yet the gathering faults in itself.
        records.stop_populating();
        let made = made.and_then(fit::Preparer::finish);
        for w in &writers {
            w.close(&run_info)?;
        }
        // Backend creation (device, kernel compilation) counts as compilation.
        let setup_s = counters.backend_setup_s + unused_s;
        let (compile_s, sampling_s) = (compile_s + setup_s, t1.elapsed().as_secs_f64() - setup_s);
        let mut warnings = crate::rewrite::domain_warnings(self.model);
        warnings.extend(fallback);
        if single {
            let moments = records.moments();
            warnings.extend(precision::resolution_warnings(&compiled.pointmap, &moments));
        }
        let timing = Timing { compile_s, sampling_s };
        // The trace is gathered on the run's threads, and constrained there when the loop
        // recorded unconstrained draws: that gathering then counts as sampling.
        let gathered = Instant::now();
        let mut fit = pool.install(|| {
            Fit::assemble(
                &compiled,
                (&records.histories(), records.unconstrained.then_some(&constrain)),
                made,
                counters,
                backend,
                timing,
                self.cancel.is_cancelled(),
            )
        });
        if records.unconstrained {
            fit.timing.sampling_s += gathered.elapsed().as_secs_f64();
        }
        // Recorded or not (`keep_warmup_stats`), the run's warmup.
        fit.warmup = self.warmup_len();
        fit.warnings = warnings;
        Ok(fit)
    }

    /// A thread making the trace's buffers (faulted in) while the chains run, where that work
    /// finds an idle core (a hardware GPU computes, or the run's threads leave a core free)
    /// and the trace is large enough to be worth it (DECISIONS 76).
    fn trace_buffers(
        &self,
        compiled: &Compiled,
        chains: usize,
        choice: BackendChoice,
        threads: usize,
    ) -> Option<fit::Preparer> {
        let device =
            choice == BackendChoice::Gpu && crate::backend::gpu::device::hardware_adapter().is_some();
        if !device && !crate::mem::core_free(threads) {
            return None;
        }
        let sizes: Vec<usize> = fit::TraceLayout::new(compiled).vars.iter().map(|v| v.size()).collect();
        let (kept, warmup) = (self.draws.div_ceil(self.thin), self.warmup_rows());
        let per_chain =
            kept.saturating_mul(sizes.iter().sum::<usize>().saturating_mul(size_of::<f64>())).saturating_add(
                (kept.saturating_add(warmup)).saturating_mul(size_of::<crate::nuts::DrawStats>()),
            );
        if chains.saturating_mul(per_chain) < crate::mem::POPULATE_MIN_BYTES {
            return None;
        }
        fit::Preparer::start(sizes, chains, (kept, warmup), self.cancel.clone())
    }

    /// The metric the run adapts ([`Metric::resolve`]).
    fn resolved_metric(&self, compiled: &Compiled, choice: BackendChoice) -> Metric {
        self.metric.resolve(compiled.pointmap.dim, choice != BackendChoice::Gpu, self.adaptation)
    }

    /// What trace writers are told about this run.
    fn run_info(&self, compiled: &Compiled, ids: &[usize], choice: BackendChoice) -> RunInfo<'m> {
        let layout = fit::TraceLayout::new(compiled);
        RunInfo {
            model: self.model,
            chain_ids: ids.to_vec(),
            warmup: self.warmup_len(),
            draws: self.draws,
            kept: self.draws.div_ceil(self.thin),
            thin: self.thin,
            seed: self.seed,
            max_treedepth: self.max_treedepth,
            target_accept: self.target_accept,
            step_size: self.step_size,
            adaptation: match self.resolved_metric(compiled, choice) {
                Metric::LowRank(o) => format!("{:?} ({:?})", self.adaptation, Metric::LowRank(o)),
                _ => format!("{:?}", self.adaptation),
            },
            dim: compiled.pointmap.dim,
            vars: layout.vars,
        }
    }

    fn sample(
        &self,
        (compiled, constrain, unconstrained, given): (&Compiled, &Executor, bool, &[init::Given]),
        ids: &[usize],
        threads: usize,
        (choice, device): (BackendChoice, Option<(Arc<crate::backend::gpu::Gpu>, f64)>),
        (writers, run_info, sinks): (&[Arc<dyn TraceWriter>], &RunInfo<'_>, &SinkPool),
    ) -> Result<(RunRecords, DriveCounters, String, bool)> {
        let workspace = usize::try_from(compiled.logp_grad.workspace_len()).unwrap_or(usize::MAX);
        let vectors = 16 + 4 * (self.max_treedepth as usize + 1);
        let chain_bytes =
            workspace.saturating_add(vectors.saturating_mul(compiled.pointmap.dim)).saturating_mul(8);
        let pooled = self.adaptation == Adaptation::Pooled && self.warmup_len() > 0;
        // A one-group factory's backend is a device's, grouped as the GPU backend's.
        let grouping = match &self.factory {
            Some(f) if f.one_group => BackendChoice::Gpu,
            _ => choice,
        };
        let groups = grouping.groups(ids, threads, chain_bytes, (pooled, self.device_groups));
        // The GPU backend's groups share one device (and queue: their dispatches alternate);
        // making it counts as each group's backend set-up.
        let (gpu, device_s) = match device {
            Some((gpu, made_s)) => (Some(gpu), made_s),
            None => (None, 0.0),
        };
        // A device's group of many chains splits its host loop over its share of the threads.
        let host_threads = (threads / groups.len()).max(1);
        // Fewer groups than threads leaves threads idle: long row groups then split each
        // gradient's rows over them (DECISIONS 49; the draws are the same bits either way).
        let row_parallel = groups.len() < threads;
        let progress = Progress::new(self.chains, self.warmup_len() + self.draws, self.progress);
        let metric = self.resolved_metric(compiled, choice);
        let opts = ChainOptions {
            warmup: self.warmup_len(),
            draws: self.draws,
            max_depth: self.max_treedepth,
            dual_averaging: DualAveragingOptions {
                target: self.target_accept,
                ..DualAveragingOptions::default()
            },
            step_size: self.step_size,
            adaptation: self.adaptation,
            metric,
        };
        let results: Vec<Result<GroupRecords>> = groups
            .par_iter()
            .map(|chain_ids| {
                let created = Instant::now();
                let mut backend = match &self.factory {
                    Some(make) => {
                        (make.make)(&compiled.logp_grad, self.seed, chain_ids, self.max_treedepth as usize)?
                    }
                    None => choice.create(
                        compiled,
                        self.seed,
                        chain_ids,
                        self.max_treedepth,
                        (self.gpu_precision, self.gpu_mapping, metric.max_rank(compiled.pointmap.dim)),
                        (row_parallel, gpu.as_ref()),
                    )?,
                };
                let setup_s = device_s + created.elapsed().as_secs_f64();
                let rngs: Vec<ChainRng> = chain_ids.iter().map(|&c| ChainRng::new(self.seed, c)).collect();
                let starts = start_chains(backend.as_mut(), chain_ids, &rngs, given, self.metric_init)?;
                if backend.single_precision() {
                    let sets: Vec<&[bool]> = chain_ids.iter().map(|&c| init::given_for(given, c).1).collect();
                    init::f32_safe_starts(
                        backend.as_mut(),
                        &compiled.logp_grad,
                        &starts,
                        &sets,
                        self.metric_init,
                    );
                }
                let machines = rngs
                    .into_iter()
                    .enumerate()
                    .map(|(local, rng)| ChainMachine::new(local, rng, compiled.pointmap.dim, opts))
                    .collect();
                let group = Group {
                    machines,
                    chain_ids: chain_ids.clone(),
                    constrain,
                    draws: self.draws,
                    warmup: self.warmup_len(),
                    warmup_rows: self.warmup_rows(),
                    thin: self.thin,
                    progress: &progress,
                    cancel: &self.cancel,
                    sinks: {
                        let mut pool = sinks.lock().unwrap_or_else(|e| e.into_inner());
                        chain_ids.iter().map(|c| pool.remove(c).unwrap_or_default()).collect()
                    },
                    group_sinks: writers
                        .iter()
                        .filter_map(|w| w.group(run_info, chain_ids).transpose())
                        .collect::<Result<_>>()?,
                    pool: pooled.then(|| {
                        crate::nuts::PooledAdapter::new(
                            self.warmup_len(),
                            compiled.pointmap.dim,
                            opts.dual_averaging,
                        )
                    }),
                    host_threads,
                    unconstrained,
                };
                let (name, single) = (backend.name(), backend.single_precision());
                let began = Instant::now();
                let (records, mut counters) = drive(backend.as_mut(), group)?;
                counters.backend_setup_s = setup_s;
                Ok((chain_ids.clone(), records, counters, (name, single), (began, Instant::now())))
            })
            .collect();
        progress.finish();
        let mut groups = Vec::with_capacity(results.len());
        let mut total = DriveCounters::default();
        let (mut backend, mut single) = (choice.name(), false);
        let mut span: Option<(Instant, Instant)> = None;
        for r in results {
            let (chains, recs, c, (name, s), (began, ended)) = r?;
            (backend, single) = (name, s);
            span = Some(span.map_or((began, ended), |(b, e)| (b.min(began), e.max(ended))));
            groups.push((chains, recs));
            total.dispatches += c.dispatches;
            total.leaf_steps += c.leaf_steps;
            total.backend_setup_s = total.backend_setup_s.max(c.backend_setup_s);
            total.host_s += c.host_s;
            total.step_s += c.step_s;
            total.backend_host_s += c.backend_host_s;
            total.host_shards = total.host_shards.max(c.host_shards);
            total.constrained_after_loop |= c.constrained_after_loop;
        }
        total.loop_s = span.map_or(0.0, |(b, e)| (e - b).as_secs_f64());
        Ok((RunRecords::new(groups, ids, unconstrained), total, backend, single))
    }
}

/// Opens every trace writer: per chain, its sinks.
fn open_writers(writers: &[Arc<dyn TraceWriter>], run: &RunInfo<'_>) -> Result<SinkPool> {
    let mut by_chain: HashMap<usize, Vec<Box<dyn ChainSink>>> = HashMap::new();
    for w in writers {
        for (&c, sink) in run.chain_ids.iter().zip(w.open(run)?) {
            by_chain.entry(c).or_default().push(sink);
        }
    }
    Ok(Mutex::new(by_chain))
}

/// Inverse mass diagonal `1/|∂logp/∂u|` at the initial point (nutpie's initialisation):
/// for a Gaussian coordinate of scale s at distance r from its mean this is `s²/r`, the right
/// order of magnitude without any draw. Clamped to `[1e-6, 1e6]`; a zero gradient gives 1.
pub fn gradient_metric(grad: &[f64]) -> Vec<f64> {
    grad.iter()
        .map(|g| if *g == 0.0 || !g.is_finite() { 1.0 } else { (1.0 / g.abs()).clamp(1e-6, 1e6) })
        .collect()
}

/// The inverse mass matrix chains start with, before the first adaptation window ends.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum MetricInit {
    /// From the gradient at the initial point (default; see [`gradient_metric`]).
    #[default]
    Gradient,
    /// The identity (Stan's choice).
    Identity,
}

/// Constrained values per draw (every output of the constraining program), counted from the
/// compiled output shapes so that the memory check needs no program built.
fn values_per_draw(compiled: &Compiled) -> u128 {
    compiled.output_shapes.iter().fold(0u128, |a, s| a.saturating_add(s.len() as u128))
}

/// One group's chains (global ids), their records and the group's counters; also the
/// backend's name and whether it holds positions in f32, and when its driver began and ended.
type GroupRecords = (Vec<usize>, records::Records, DriveCounters, (String, bool), (Instant, Instant));

/// Finds a finite starting point for every chain of a group: attempt `k` of every chain that
/// still needs one is evaluated in one batch, so each chain sees the same candidates as alone.
/// `given` holds the user's values, one pair shared by all chains or one per chain id (see
/// [`Init::unconstrained`]); a chain whose values set every coordinate has one try.
/// Returns every chain's start and its log density (as the backend computed it).
fn start_chains(
    backend: &mut dyn Backend,
    chain_ids: &[usize],
    rngs: &[ChainRng],
    given: &[init::Given],
    metric: MetricInit,
) -> Result<Vec<(Vec<f64>, f64)>> {
    let of = |local: usize| init::given_for(given, chain_ids[local]);
    let tries_of = |local: usize| init::tries_for(of(local).1);
    let mut pending: Vec<usize> = (0..chain_ids.len()).collect();
    let mut starts = vec![(Vec::new(), f64::NAN); chain_ids.len()];
    for attempt in 0..MAX_INIT_TRIES {
        if let Some(&local) = pending.iter().find(|&&l| attempt >= tries_of(l)) {
            return Err(Error::InitFailed { chain: chain_ids[local], tries: tries_of(local) });
        }
        if pending.is_empty() {
            break;
        }
        let points: Vec<(usize, Vec<f64>)> = pending
            .iter()
            .map(|&l| {
                let (base, set) = of(l);
                (l, init::candidate(&rngs[l], attempt, base, set))
            })
            .collect();
        let results = backend.set_positions(&points);
        pending.clear();
        for ((local, q), result) in points.into_iter().zip(results) {
            match result {
                Some((lp, g)) => {
                    if metric == MetricInit::Gradient {
                        backend.set_inv_mass(local, &gradient_metric(&g));
                    }
                    starts[local] = (q, lp);
                }
                None => pending.push(local),
            }
        }
    }
    match pending.first() {
        Some(&local) => Err(Error::InitFailed { chain: chain_ids[local], tries: tries_of(local) }),
        None => Ok(starts),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Item 15 of issue 9: CPU groups stay cache-sized however many chains there are, cover
    /// every chain once, in order, and give every thread work.
    #[test]
    fn cpu_groups_are_cache_sized() {
        let ids: Vec<usize> = (0..100_000).collect();
        let groups = BackendChoice::Cpu.groups(&ids, 2, 1000, (false, 1));
        assert!(groups.iter().all(|g| !g.is_empty() && g.len() <= MAX_GROUP_CHAINS));
        assert_eq!(groups.concat(), ids);
        let few = BackendChoice::Cpu.groups(&ids[..4], 2, 1 << 30, (false, 1));
        assert_eq!(few, vec![vec![0, 1], vec![2, 3]]);
        assert_eq!(BackendChoice::Cpu.groups(&ids[..3], 8, 100, (false, 1)).len(), 3);
        assert_eq!(BackendChoice::Gpu.groups(&ids, 2, 1000, (false, 1)).len(), 1);
    }

    /// A device's chains split into `device_groups` runs of consecutive ids, never more runs
    /// than threads or chains.
    #[test]
    fn device_groups_are_runs_of_consecutive_ids() {
        let ids: Vec<usize> = (0..1001).collect();
        assert_eq!(BackendChoice::Gpu.groups(&ids, 1, 1000, (false, 2)), vec![ids.clone()]);
        for threads in [2, 16] {
            let groups = BackendChoice::Gpu.groups(&ids, threads, 1000, (false, 2));
            let sizes: Vec<usize> = groups.iter().map(Vec::len).collect();
            assert_eq!(sizes, vec![501, 500]);
            assert_eq!(groups.concat(), ids);
        }
        assert_eq!(BackendChoice::Gpu.groups(&ids[..3], 16, 1000, (false, 8)).len(), 3);
        assert_eq!(BackendChoice::Gpu.groups(&ids, 4, 1000, (true, 3)).len(), 3);
    }

    /// Pooled warmup: CPU groups are the pools, blocks of `POOL_CHAINS` by id whatever the
    /// thread count; the GPU's one group is one pool.
    #[test]
    fn pooled_groups_are_fixed_blocks() {
        let ids: Vec<usize> = (0..600).collect();
        let pool = crate::nuts::pooled::POOL_CHAINS;
        for threads in [1, 2, 16] {
            let groups = BackendChoice::Cpu.groups(&ids, threads, 1000, (true, 1));
            let sizes: Vec<usize> = groups.iter().map(Vec::len).collect();
            assert_eq!(sizes, vec![pool, pool, 600 - 2 * pool]);
            assert_eq!(groups.concat(), ids);
        }
        assert_eq!(BackendChoice::Gpu.groups(&ids, 2, 1000, (true, 1)).len(), 1);
    }

    /// The memory check counts a low-rank metric's window: two vectors of `dim` values (and
    /// their headers) per chain and warmup iteration, on both backends.
    #[test]
    fn the_memory_estimate_counts_the_low_rank_window() {
        use crate::prelude::*;
        let mut m = Model::new();
        m.rv_vec("x", Normal::new(0.0, 1.0), 50).unwrap();
        let compiled = compile(&m, RewriteOptions::default()).unwrap();
        let s = Sampler::new(&m).warmup(400).draws(100);
        for (choice, chains) in [(BackendChoice::Gpu, 4096), (BackendChoice::Cpu, 4)] {
            let bytes =
                |s: &Sampler<'_>| s.host_bytes(&compiled, chains, (choice, 1), (false, false)).unwrap();
            let low_rank = bytes(&s.clone().metric(Metric::low_rank()));
            let window = chains * 2 * 400 * (50 + LOW_RANK_ENTRY_EXTRA as usize) * 8;
            assert_eq!(low_rank - bytes(&s), window as u128, "{choice:?}");
        }
    }

    /// The memory check counts each kept draw's recorded values as the run records them:
    /// unconstrained (`dim`) where nothing reads the records while the chains run and the
    /// trace is large (DECISIONS 80), constrained (`per_draw`) otherwise.
    #[test]
    fn the_memory_estimate_counts_the_records_as_recorded() {
        use crate::prelude::*;
        let mut m = Model::new();
        let a = m.rv("a", Normal::new(0.0, 1.0)).unwrap();
        m.deterministic("b", a * 2.0).unwrap();
        m.deterministic("c", a + 1.0).unwrap();
        let compiled = compile(&m, RewriteOptions::default()).unwrap();
        let (dim, per_draw) = (compiled.pointmap.dim, compiled.output_shapes.iter().map(|s| s.len()).sum());
        assert_eq!((dim, per_draw), (1, 3));
        let s = Sampler::new(&m).warmup(100).draws(100);
        let bytes = |chains: usize, streamed: bool| {
            let unconstrained = s.records_unconstrained(&compiled, chains, streamed);
            s.host_bytes(&compiled, chains, (BackendChoice::Gpu, 1), (false, unconstrained)).unwrap()
        };
        // 65,536 chains × 100 draws × 3 values: 157 MB of constrained values, recorded
        // unconstrained unless a writer listens.
        let chains = 65_536;
        assert_eq!(bytes(chains, true) - bytes(chains, false), (chains * 100 * (per_draw - dim) * 8) as u128);
        // A small run records constrained values either way.
        assert_eq!(bytes(16, true), bytes(16, false));
        // Without the warmup statistics: 48 bytes per chain and warmup iteration fewer, in
        // the records and in the trace; a live view keeps them.
        let host = |s: &Sampler<'_>| {
            s.host_bytes(&compiled, chains, (BackendChoice::Gpu, 1), (false, true)).unwrap()
        };
        let lean = s.clone().keep_warmup_stats(false);
        assert_eq!(host(&s) - host(&lean), (chains * 100 * 2 * 48) as u128);
        let view = live::LiveView::bind("127.0.0.1:0").unwrap();
        assert_eq!(host(&lean.live_view(view)), host(&s));
    }
}
