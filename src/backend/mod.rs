//! Backends run a compiled [`Program`](crate::compile::Program) for a batch of chains.
//!
//! The interface is the fused NUTS leaf step: per call, every chain that has a
//! [`StepCommand`] takes one leapfrog step (gradient included) and updates its trajectory
//! bookkeeping (energy, multinomial proposal, momentum sums, U-turn checkpoints) where its
//! vectors live; only a [`LeafReport`] of a few scalars comes back. Whole vectors come back
//! once per draw through [`Backend::read_draws`]. The host (`nuts`) runs the control flow.

pub mod cpu;
pub mod gpu;
pub mod metric;
pub mod step;

pub use cpu::CpuBackend;
pub use metric::LowRank;
pub use step::{Direction, DrawState, LeafReport, StepCommand};

/// Inverse mass diagonals to install (see [`Backend::set_inv_masses`]): `(chain, range)`
/// pairs, and the values their ranges index.
pub type InstallPart<'a> = (&'a [(usize, std::ops::Range<usize>)], &'a [f64]);

/// Installs ahead of the one being written whose backend rows are prefetched (see
/// [`Backend::prefetch_inv_mass`]): a host loop's installs miss the caches at many chains.
pub const INSTALLS_AHEAD: usize = 8;

/// [`Backend::set_inv_masses`] one chain at a time, prefetching the rows a few installs ahead.
pub fn install_each<B: Backend + ?Sized>(backend: &mut B, parts: &[InstallPart<'_>]) {
    for (installs, values) in parts {
        installs.iter().take(INSTALLS_AHEAD).for_each(|(c, _)| backend.prefetch_inv_mass(*c));
        for (k, (c, at)) in installs.iter().enumerate() {
            if let Some((next, _)) = installs.get(k + INSTALLS_AHEAD) {
                backend.prefetch_inv_mass(*next);
            }
            backend.set_inv_mass(*c, &values[at.clone()]);
        }
    }
}

/// Each part's window of an array of `per_chain` values per chain (chain after chain), for
/// [`Backend::set_inv_masses`] on every thread: from the part's first chain to the next part's
/// (the last part's to the end). The parts must each hold installs, their chains ascending over
/// all parts, as the driver passes them; the windows are then disjoint and hold their parts'
/// chains.
pub fn chain_windows<'a, T>(
    parts: &[InstallPart<'_>],
    data: &'a mut [T],
    per_chain: usize,
) -> Vec<&'a mut [T]> {
    let chains = data.len() / per_chain.max(1);
    let (mut rest, mut base) = (data, 0);
    let first = |j: usize| parts.get(j).map_or(chains, |p| p.0[0].0);
    (0..parts.len())
        .map(|j| {
            let (_, window) = std::mem::take(&mut rest).split_at_mut((first(j) - base) * per_chain);
            let (window, tail) = window.split_at_mut((first(j + 1) - first(j)) * per_chain);
            (rest, base) = (tail, first(j + 1));
            window
        })
        .collect()
}

/// A device that holds per-chain NUTS state and executes leaf steps in batches.
pub trait Backend: Send {
    /// Human-readable name (`"cpu"`, or the adapter's name).
    fn name(&self) -> String;
    /// Dimension of the unconstrained space.
    fn dim(&self) -> usize;
    /// Number of chains held.
    fn n_chains(&self) -> usize;
    /// Sets chain `chain`'s current point and evaluates it: returns its log density, or
    /// `None` if the log density or the gradient is not finite there.
    fn set_position(&mut self, chain: usize, q: &[f64]) -> Option<f64>;
    /// Sets several chains' current points at once (`(chain, q)` pairs, evaluated in one batch
    /// where the device allows) and returns, per point, its log density and gradient, or `None`
    /// where either is not finite (that chain's point is then left unset).
    fn set_positions(&mut self, points: &[(usize, Vec<f64>)]) -> Vec<Option<(f64, Vec<f64>)>>;
    /// Sets chain `chain`'s inverse mass-matrix diagonal.
    fn set_inv_mass(&mut self, chain: usize, inv_mass: &[f64]);
    /// A hint that [`Backend::set_inv_mass`] will soon be called for chain `chain`: a backend
    /// whose per-chain metric storage outgrows the caches prefetches what that call writes
    /// (see [`crate::mem::prefetch`]), so that a host loop installing thousands of metrics per
    /// dispatch overlaps their cache misses. Nothing by default.
    fn prefetch_inv_mass(&self, _chain: usize) {}
    /// Sets many chains' inverse mass-matrix diagonals at once. Each part is a list of
    /// `(chain, range)` pairs and the values they index: the chain's diagonal is
    /// `values[range]`. The chains ascend, over all parts, and are distinct. By default one
    /// [`Backend::set_inv_mass`] each, the rows of the installs a few ahead prefetched; a
    /// device backend writes the parts on every host thread.
    fn set_inv_masses(&mut self, parts: &[InstallPart<'_>]) {
        install_each(self, parts);
    }
    /// Chain `chain`'s inverse mass-matrix diagonal as last set (ones before any).
    fn inv_mass(&self, chain: usize) -> Vec<f64>;
    /// Sets chain `chain`'s low-rank metric correction (see [`LowRank`]; rank zero restores
    /// the diagonal metric). Its rank is at most the `max_rank` the backend was made for.
    fn set_low_rank(&mut self, chain: usize, low_rank: &LowRank);
    /// Executes one leaf step for every command (at most one command per chain). Fails only
    /// when the device does (e.g. a lost GPU device).
    fn step(&mut self, cmds: &[StepCommand], reports: &mut [LeafReport]) -> crate::Result<()>;
    /// [`Backend::step`] for the commands of several lists taken one after another, as one
    /// list (the reports in the same order): a host loop split over threads passes each
    /// thread's commands where they lie, rather than copying them into one list every
    /// dispatch. By default the parts are joined and passed to [`Backend::step`]; a device
    /// backend reads them in place.
    fn step_parts(&mut self, parts: &[&[StepCommand]], reports: &mut [LeafReport]) -> crate::Result<()> {
        match parts {
            [one] => self.step(one, reports),
            _ => self.step(&parts.concat(), reports),
        }
    }
    /// Reads the sample each chain's last trajectory selected.
    fn read_draws(&mut self, chains: &[usize], out: &mut [DrawState]) -> crate::Result<()>;
    /// Evaluates `logp` and its gradient at `q` (no chain state is touched).
    fn logp_grad(&mut self, q: &[f64], grad: &mut [f64]) -> f64;
    /// Whether positions are held in f32 (GPU kernels in single precision) rather than f64:
    /// a coordinate then cannot move by less than an f32 spacing at its magnitude.
    fn single_precision(&self) -> bool {
        false
    }
    /// Seconds the backend has spent on the host inside [`Backend::step`] and
    /// [`Backend::read_draws`] (encoding commands, decoding reports and draws), waits for its
    /// device excluded: host work the driver's timing of those calls counts as stepping. Zero
    /// for a backend that does not measure it (the CPU backend's steps are all host work).
    fn host_seconds(&self) -> f64 {
        0.0
    }
    /// Whether the steps compute on the host's cores (the CPU backend, a GPU adapter the CPU
    /// emulates such as lavapipe), so that a core the host loop leaves free is not idle.
    fn shares_host_cores(&self) -> bool {
        true
    }
}
