//! The host loop's cost (issue 12, item 4): the driver and the chains' state machines, apart
//! from the backend's batched steps.
//!
//! ```text
//! cargo run --release --example host_loop -- [--chains 65536] [--warmup 100] [--draws 100]
//!     [--threads 1,2] [--backend cpu|gpu|synthetic|synthetic-device]
//!     [--model eight_schools_noncentered] [--device-groups 1] [--device-us 0]
//!     [--no-warmup-stats]
//! ```
//! For each thread count: the shards the host loop was split into, wall time, the sampling's
//! wall time (`DriveCounters::loop_s`: the groups' drivers, from the first start to the last
//! end), seconds in the host loop and in the backend's steps (summed over groups: thread-seconds when the CPU
//! backend's groups run in parallel), the host's share, and nanoseconds of host loop per chain
//! per dispatch (host seconds ÷ chain leaf steps). On the GPU backend (one group of every
//! chain, whose host loop splits over the threads) the host seconds are what keeps a device
//! waiting, and so is the part of the step seconds the backend spends on the host, encoding
//! commands and decoding reports and draws (`backend host s`, [`Backend::host_seconds`]).
//!
//! `--backend synthetic` times the driver and the chains' state machines alone: a stand-in
//! backend (through [`Sampler::backend_factory`]) answers each leaf at once, turning each
//! trajectory after 3, 7 or 15 leaves (about eight schools' 8.5 on average) and returning
//! standard-normal draws with gradient `-q`, so adaptation, constraining and trace records run
//! as in a real run while no gradient is computed and no backend state evicts the host's from
//! the caches. `--backend synthetic-device` makes one such backend for every chain, as the GPU
//! backend does, so that the host loop splits over the threads.
//!
//! `--device-groups N` splits a device's chains into N groups ([`Sampler::device_groups`]),
//! each with its own backend and host loop. The synthetic backends then stand in for one
//! device that every group shares: each leaf step and each read of draws holds it (one group's
//! call waits for another's to end, as dispatches queue on a GPU) while it answers, and, with
//! `--device-us U`, for U microseconds more, sleeping (a thread waiting for a GPU uses no
//! core), so that a run in N groups shows how much of the device's time their host loops hide.
//! `--no-warmup-stats` runs with [`Sampler::keep_warmup_stats`]`(false)`.

#[path = "common/args.rs"]
#[allow(dead_code)]
mod args;
#[path = "common/models.rs"]
mod models;

use std::sync::Mutex;
use std::time::{Duration, Instant};

use exmc::backend::{Backend, DrawState, INSTALLS_AHEAD, InstallPart, LeafReport, StepCommand};
use exmc::prelude::*;
use exmc::rng::{ChainRng, Purpose};
use exmc::sampler::BackendFactory;

/// The stand-in target: a standard normal, `log p = -|q|²/2`.
fn logp(q: &[f64]) -> f64 {
    -0.5 * q.iter().map(|x| x * x).sum::<f64>()
}

/// The stand-in device: one for the run, held while a step or a read of draws "runs".
static DEVICE: Mutex<()> = Mutex::new(());

/// Holds the stand-in device while `work` runs, then for `busy` more (sleeping); runs `work`
/// alone when `busy` is `None` (`--backend synthetic`: a CPU backend's groups run at once).
fn on_device<T>(busy: Option<Duration>, work: impl FnOnce() -> T) -> T {
    let Some(busy) = busy else { return work() };
    let _device = DEVICE.lock().unwrap_or_else(|e| e.into_inner());
    let out = work();
    if !busy.is_zero() {
        std::thread::sleep(busy);
    }
    out
}

/// The stand-in backend of `--backend synthetic` (see the module docs).
struct Synthetic {
    /// On `--backend synthetic-device`, the device time per step and per read of draws beyond
    /// the answer's (`--device-us`).
    busy: Option<Duration>,
    dim: usize,
    rngs: Vec<ChainRng>,
    /// Per chain: leaves since the trajectory began, the depth whose subtree turns it,
    /// the iteration.
    chains: Vec<(u32, u32, u64)>,
    /// Every chain's inverse mass diagonal, chain after chain (as the GPU backend keeps it).
    inv_mass: Vec<f64>,
}

impl Synthetic {
    fn new(dim: usize, seed: u64, ids: &[usize], busy: Option<Duration>) -> Synthetic {
        Synthetic {
            busy,
            dim,
            rngs: ids.iter().map(|&c| ChainRng::new(seed, c)).collect(),
            chains: vec![(0, 1, 0); ids.len()],
            inv_mass: vec![1.0; dim * ids.len()],
        }
    }
    /// A leaf step's reports.
    fn answer_step(&mut self, cmds: &[StepCommand], reports: &mut [LeafReport]) -> Result<()> {
        for (cmd, rep) in cmds.iter().zip(reports.iter_mut()) {
            let (leaves, turn, iteration) = &mut self.chains[cmd.chain];
            if cmd.probe {
                // Acceptance crosses 0.8 between step sizes 1 and 0.5: two probes.
                *rep =
                    LeafReport { energy_error: 0.3 * cmd.step_size * cmd.step_size, ..LeafReport::default() };
                continue;
            }
            if cmd.begin {
                let w = self.rngs[cmd.chain].words(cmd.iteration, 0, Purpose::Leaf)[0];
                (*leaves, *turn, *iteration) = (0, 1 + w % 3, cmd.iteration);
            }
            *leaves += 1;
            let last_leaf = cmd.leaf + 1 == 1 << cmd.depth;
            *rep = LeafReport {
                tree_turning: cmd.depth == *turn && last_leaf,
                energy_error: 0.05 * (f64::from(*leaves % 7) - 3.0),
                ..LeafReport::default()
            };
        }
        Ok(())
    }
    /// The draws of the chains that ended a trajectory.
    fn answer_draws(&mut self, chains: &[usize], out: &mut [DrawState]) -> Result<()> {
        for (&c, o) in chains.iter().zip(out.iter_mut()) {
            let (leaves, _, iteration) = self.chains[c];
            o.q.resize(self.dim, 0.0);
            self.rngs[c].fill_normals(iteration, Purpose::Momentum, &mut o.q);
            o.g.clear();
            o.g.extend(o.q.iter().map(|x| -x));
            o.logp = logp(&o.q);
            (o.energy, o.energy_error) = (-o.logp + 0.5 * self.dim as f64, 0.01);
            (o.sum_accept, o.n_leapfrog) = (0.85 * f64::from(leaves), leaves);
        }
        Ok(())
    }
}

impl Backend for Synthetic {
    fn name(&self) -> String {
        "synthetic".into()
    }
    fn dim(&self) -> usize {
        self.dim
    }
    fn n_chains(&self) -> usize {
        self.rngs.len()
    }
    fn set_position(&mut self, _chain: usize, q: &[f64]) -> Option<f64> {
        Some(logp(q))
    }
    fn set_positions(&mut self, points: &[(usize, Vec<f64>)]) -> Vec<Option<(f64, Vec<f64>)>> {
        points.iter().map(|(_, q)| Some((logp(q), q.iter().map(|x| -x).collect()))).collect()
    }
    fn set_inv_mass(&mut self, chain: usize, inv_mass: &[f64]) {
        self.inv_mass[chain * self.dim..(chain + 1) * self.dim].copy_from_slice(inv_mass);
    }
    fn set_inv_masses(&mut self, parts: &[InstallPart<'_>]) {
        // As the GPU backend writes its host copy of the metrics: each part's window of chains
        // on a thread of its own (parts ascend; see `Backend::set_inv_masses`).
        use rayon::prelude::*;
        let d = self.dim;
        let windows = exmc::backend::chain_windows(parts, &mut self.inv_mass, d);
        parts.par_iter().zip(windows).for_each(|(&(installs, values), window)| {
            let first = installs[0].0;
            for (i, (c, at)) in installs.iter().enumerate() {
                if let Some((ahead, _)) = installs.get(i + INSTALLS_AHEAD) {
                    exmc::mem::prefetch(&window[(ahead - first) * d..(ahead - first + 1) * d]);
                }
                window[(c - first) * d..(c - first + 1) * d].copy_from_slice(&values[at.clone()]);
            }
        });
    }
    fn prefetch_inv_mass(&self, chain: usize) {
        // As the GPU backend prefetches its host copy of the metric.
        if chain < self.rngs.len() {
            exmc::mem::prefetch(&self.inv_mass[chain * self.dim..(chain + 1) * self.dim]);
        }
    }
    fn inv_mass(&self, chain: usize) -> Vec<f64> {
        self.inv_mass[chain * self.dim..(chain + 1) * self.dim].to_vec()
    }
    fn set_low_rank(&mut self, _chain: usize, _low_rank: &exmc::backend::LowRank) {}
    fn step(&mut self, cmds: &[StepCommand], reports: &mut [LeafReport]) -> Result<()> {
        self.step_parts(&[cmds], reports)
    }
    fn step_parts(&mut self, parts: &[&[StepCommand]], reports: &mut [LeafReport]) -> Result<()> {
        // As a device reads a split host loop's commands: where they lie.
        let busy = self.busy;
        on_device(busy, || {
            let mut at = 0;
            for part in parts {
                self.answer_step(part, &mut reports[at..at + part.len()])?;
                at += part.len();
            }
            Ok(())
        })
    }
    fn read_draws(&mut self, chains: &[usize], out: &mut [DrawState]) -> Result<()> {
        let busy = self.busy;
        on_device(busy, || self.answer_draws(chains, out))
    }
    fn logp_grad(&mut self, q: &[f64], grad: &mut [f64]) -> f64 {
        grad.iter_mut().zip(q).for_each(|(g, x)| *g = -x);
        logp(q)
    }
}

fn main() -> Result<()> {
    let chains: usize = args::arg("--chains", 65_536);
    let (warmup, draws): (usize, usize) = (args::arg("--warmup", 100), args::arg("--draws", 100));
    let threads: Vec<usize> = args::value("--threads")
        .unwrap_or_else(|| "1,2".into())
        .split(',')
        .filter_map(|t| t.parse().ok())
        .collect();
    let kind = args::value("--backend").unwrap_or_else(|| "cpu".into());
    let backend = if kind == "gpu" { BackendChoice::Gpu } else { BackendChoice::Cpu };
    let device_groups: usize = args::arg("--device-groups", 1);
    let device_us: u64 = args::arg("--device-us", 0);
    let warmup_stats = !args::flag("--no-warmup-stats");
    let name = args::value("--model").unwrap_or_else(|| "eight_schools_noncentered".into());
    let Some((_, model)) = models::models().into_iter().find(|(n, _)| *n == name) else {
        eprintln!("unknown model {name}");
        std::process::exit(2);
    };
    println!(
        "{name}, {chains} chains, {warmup} + {draws} iterations, {kind} backend, {device_groups} device \
         group(s), {device_us} µs device time per call, warmup statistics kept: {warmup_stats}\n"
    );
    println!(
        "| threads | host shards | wall s | loop s | host s | step s | backend host s | host share | host ns per chain per dispatch | chain leaf steps | dispatches |"
    );
    println!("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
    for &t in &threads {
        let start = Instant::now();
        let mut sampler = Sampler::new(&model);
        if kind.starts_with("synthetic") {
            let busy = (kind == "synthetic-device").then(|| Duration::from_micros(device_us));
            let factory = BackendFactory::new(move |prog, seed, ids, _| {
                Ok(Box::new(Synthetic::new(prog.dim, seed, ids, busy)) as Box<dyn Backend>)
            });
            // `synthetic-device`: one backend for every chain, as on a GPU.
            let factory = if kind == "synthetic-device" { factory.one_group() } else { factory };
            sampler = sampler.backend_factory(factory);
        }
        let fit = sampler
            .chains(chains)
            .threads(t)
            .warmup(warmup)
            .draws(draws)
            .backend(backend)
            .device_groups(device_groups)
            .keep_warmup_stats(warmup_stats)
            .seed(1)
            .progress(false)
            .run()?;
        let wall = start.elapsed().as_secs_f64();
        let c = &fit.counters;
        println!(
            "| {t} | {} | {wall:.2} | {:.2} | {:.2} | {:.2} | {:.2} | {:.1}% | {:.0} | {} | {} |",
            c.host_shards,
            c.loop_s,
            c.host_s,
            c.step_s,
            c.backend_host_s,
            100.0 * c.host_s / (c.host_s + c.step_s),
            c.host_ns_per_chain_step(),
            c.leaf_steps,
            c.dispatches
        );
    }
    Ok(())
}
