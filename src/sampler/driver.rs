//! Drives a group of chains through one backend: collect every chain's next command, run one
//! batched step, route the reports, and handle finished draws. Chains progress independently.

use super::cancel::CancelToken;
use super::progress::Progress;
use super::sink::{Batch, ChainSink, GroupSink};
use crate::backend::cpu::Executor;
use crate::backend::{Backend, DrawState, LeafReport};
use crate::nuts::mass_matrix::Welford;
use crate::nuts::{ChainMachine, DrawStats, PooledAdapter};
use std::time::Instant;

/// What one chain produced.
#[derive(Clone, Debug, Default)]
pub struct ChainRecord {
    /// Constrained outputs of each kept draw, concatenated.
    pub values: Vec<f64>,
    /// Statistics of kept draws.
    pub stats: Vec<DrawStats>,
    /// Statistics of warmup iterations.
    pub warmup_stats: Vec<DrawStats>,
    /// Mean and variance of the kept draws on the unconstrained scale, per coordinate: kept
    /// only for backends holding positions in f32 (empty otherwise).
    pub moments: Welford,
}

/// Counters of a driven group.
#[derive(Clone, Copy, Debug, Default)]
pub struct DriveCounters {
    /// Batched step calls.
    pub dispatches: u64,
    /// Leaf steps executed.
    pub leaf_steps: u64,
    /// Seconds spent creating the backend (device, kernel compilation); counted as
    /// compilation, not sampling, in the fit's timing.
    pub backend_setup_s: f64,
    /// Seconds the driver spent outside the backend's batched steps and draw read-backs: the
    /// chains' state machines, adaptation, constraining, trace records and sinks (the host
    /// loop; summed over groups, so thread-seconds when groups run in parallel).
    pub host_s: f64,
    /// Seconds inside the backend's batched steps and draw read-backs (summed over groups
    /// likewise). Dispatches of fewer than [`TIMED_CHAINS`] chains are timed one in
    /// [`SAMPLED_EVERY`] and counted that many times (a clock read costs about as much as a
    /// small model's leaf step), so for small groups this and `host_s` are estimates.
    pub step_s: f64,
}

impl DriveCounters {
    /// Host-loop cost per chain per dispatch, in nanoseconds (thread time).
    pub fn host_ns_per_chain_step(&self) -> f64 {
        self.host_s * 1e9 / self.leaf_steps.max(1) as f64
    }
}

/// Everything the driver needs besides the backend.
pub struct Group<'a> {
    /// Chain machines, indexed like the backend's chains.
    pub machines: Vec<ChainMachine>,
    /// Global chain ids (for progress bars).
    pub chain_ids: Vec<usize>,
    /// Maps unconstrained draws to trace values.
    pub constrain: &'a Executor,
    /// Iterations after warmup (the records are sized for them up front).
    pub draws: usize,
    /// Warmup length and thinning.
    pub warmup: usize,
    /// Keep every `thin`-th draw.
    pub thin: usize,
    /// Progress bars.
    pub progress: &'a Progress,
    /// Cancellation.
    pub cancel: &'a CancelToken,
    /// Trace writers' sinks, per chain (indexed like the machines; empty when nothing is
    /// saved).
    pub sinks: Vec<Vec<Box<dyn ChainSink>>>,
    /// Trace writers' sinks for the whole group (fed after each batched step that ends a draw).
    pub group_sinks: Vec<Box<dyn GroupSink>>,
    /// The group's shared warmup adaptation, when warmup is pooled (the group is the pool).
    pub pool: Option<PooledAdapter>,
}

/// Runs every chain of the group to completion (or cancellation).
pub fn drive(
    backend: &mut dyn Backend,
    mut g: Group<'_>,
) -> crate::Result<(Vec<ChainRecord>, DriveCounters)> {
    let n = g.machines.len();
    let single = backend.single_precision();
    let moments = if single { Welford::new(backend.dim()) } else { Welford::default() };
    let mut records = vec![ChainRecord { moments, ..ChainRecord::default() }; n];
    let kept = g.draws.div_ceil(g.thin);
    let per_draw: usize =
        g.constrain.program().outputs.iter().map(|(_, v)| g.constrain.program().lens[*v]).sum();
    for (r, &c) in records.iter_mut().zip(&g.chain_ids) {
        let what = || format!("the trace of chain {c}");
        crate::mem::try_reserve(&mut r.values, kept.saturating_mul(per_draw), what)?;
        crate::mem::try_reserve(&mut r.stats, kept, what)?;
        crate::mem::try_reserve(&mut r.warmup_stats, g.warmup, what)?;
    }
    let mut counters = DriveCounters::default();
    // One pass per dispatch: each report is consumed and the chain's next command queued at
    // once (a chain that ends its draw queues after the draw is handled), so the long tail of
    // a large group, where few chains remain, costs per remaining chain rather than per chain.
    let mut cmds: Vec<_> = g.machines.iter().filter_map(ChainMachine::command).collect();
    let mut next = Vec::with_capacity(n);
    let mut reports = vec![LeafReport::default(); n];
    let mut ended = Vec::with_capacity(n);
    // Chains waiting for their pool's end of iteration (pooled warmup).
    let mut waiting: Vec<usize> = Vec::new();
    let mut states = vec![DrawState::default(); n];
    let mut ws = g.constrain.workspace();
    let mut divergences = vec![0usize; n];
    let started = Instant::now();
    let mut in_steps = std::time::Duration::ZERO;
    let mut warm_end = vec![0.0; n];
    let mut sinks = std::mem::take(&mut g.sinks);
    sinks.resize_with(n, Vec::new);
    let mut group_sinks = std::mem::take(&mut g.group_sinks);
    // This step's finished iterations and stopped chains, for the group sinks.
    let mut finished = 0;
    let mut completed: Vec<usize> = Vec::new();
    let mut stopped: Vec<(usize, bool)> = Vec::new();
    let feed = !group_sinks.is_empty();
    loop {
        if g.cancel.is_cancelled() {
            break;
        }
        if cmds.is_empty() {
            // Every live chain waits for its pool: the warmup iteration is complete.
            let Some(pool) = g.pool.as_mut().filter(|_| !waiting.is_empty()) else { break };
            let iteration = g.machines[waiting[0]].iteration() - 1;
            let (step_size, metric) = pool.end_iteration(iteration);
            for &c in &waiting {
                if let Some(m) = &metric {
                    backend.set_inv_mass(c, m);
                }
                g.machines[c].resume(step_size);
                cmds.extend(g.machines[c].command());
            }
            waiting.clear();
            continue;
        }
        let weight = timing_weight(cmds.len(), counters.dispatches);
        let t = (weight > 0).then(Instant::now);
        backend.step(&cmds, &mut reports[..cmds.len()])?;
        if let Some(t) = t {
            in_steps += t.elapsed() * weight;
        }
        counters.dispatches += 1;
        counters.leaf_steps += cmds.len() as u64;
        ended.clear();
        next.clear();
        for (cmd, rep) in cmds.iter().zip(&reports) {
            let m = &mut g.machines[cmd.chain];
            if m.on_report(rep) {
                ended.push(cmd.chain);
            } else {
                next.extend(m.command());
            }
        }
        std::mem::swap(&mut cmds, &mut next);
        if ended.is_empty() {
            continue;
        }
        let weight = timing_weight(ended.len(), counters.dispatches);
        let t = (weight > 0).then(Instant::now);
        backend.read_draws(&ended, &mut states[..ended.len()])?;
        if let Some(t) = t {
            in_steps += t.elapsed() * weight;
        }
        for (&c, state) in ended.iter().zip(&states) {
            let out = g.machines[c].finish_draw(state);
            if let (Some(pool), true) = (g.pool.as_mut(), out.stats.tuning) {
                pool.add(&state.q, &state.g, out.stats.accept_stat, out.stats.step_size);
            }
            if out.new_inv_mass {
                backend.set_inv_mass(c, g.machines[c].inv_mass());
            }
            if let Some(lr) = &out.new_low_rank {
                backend.set_low_rank(c, lr);
            }
            let rec = &mut records[c];
            if out.iteration == g.warmup {
                warm_end[c] = started.elapsed().as_secs_f64();
                if !sinks[c].is_empty() {
                    let inv_metric = backend.inv_mass(c);
                    for s in &mut sinks[c] {
                        s.adapted(out.stats.step_size, &inv_metric)?;
                    }
                }
            }
            if out.stats.tuning {
                rec.warmup_stats.push(out.stats);
                finished += 1;
            } else if (out.iteration - g.warmup).is_multiple_of(g.thin) {
                divergences[c] += out.stats.diverging as usize;
                rec.stats.push(out.stats);
                if single {
                    rec.moments.add(&state.q);
                }
                g.constrain.run(&mut ws, &state.q, &mut []);
                for (_, v) in &g.constrain.program().outputs {
                    rec.values.extend_from_slice(g.constrain.value(&ws, *v));
                }
                let values = &rec.values[rec.values.len() - per_draw..];
                for s in &mut sinks[c] {
                    s.draw(&out.stats, values)?;
                }
                finished += 1;
            }
            match g.machines[c].command() {
                Some(cmd) => cmds.push(cmd),
                None if g.machines[c].is_waiting() => waiting.push(c),
                None => completed.push(c),
            }
            g.progress.update(g.chain_ids[c], divergences[c], g.machines[c].step_size(), out.stats.tuning);
        }
        for &c in &completed {
            finish(&mut sinks[c], true, warm_end[c], started)?;
        }
        if feed {
            stopped.extend(completed.iter().map(|&c| (c, true)));
            let b = Batch { finished, stopped: &stopped, records: &records, per_draw };
            for s in &mut group_sinks {
                s.step(&b)?;
            }
            finished = 0;
            stopped.clear();
        }
        completed.clear();
    }
    for (c, chain_sinks) in sinks.iter_mut().enumerate() {
        if !g.machines[c].is_done() {
            finish(chain_sinks, false, warm_end[c], started)?;
            stopped.push((c, false));
        }
    }
    let b = Batch { finished: 0, stopped: &stopped, records: &records, per_draw };
    for s in &mut group_sinks {
        s.close(&b)?;
    }
    // Sampled timing can overshoot the whole: the host's share is then zero.
    let total = started.elapsed();
    counters.step_s = in_steps.min(total).as_secs_f64();
    counters.host_s = total.saturating_sub(in_steps).as_secs_f64();
    Ok((records, counters))
}

/// Dispatches of at least this many chains are always timed (see [`DriveCounters::step_s`]).
pub const TIMED_CHAINS: usize = 32;
/// Smaller dispatches are timed one in this many.
pub const SAMPLED_EVERY: u32 = 16;

/// How many times the backend call of dispatch number `dispatch` over `chains` chains counts
/// in [`DriveCounters::step_s`]: 1 for large dispatches; [`SAMPLED_EVERY`] for one small
/// dispatch in that many, and 0 (not timed) for the others.
fn timing_weight(chains: usize, dispatch: u64) -> u32 {
    if chains >= TIMED_CHAINS {
        1
    } else if dispatch.is_multiple_of(u64::from(SAMPLED_EVERY)) {
        SAMPLED_EVERY
    } else {
        0
    }
}

/// Ends a chain's sinks (and drops them, so each is finished once).
fn finish(
    sinks: &mut Vec<Box<dyn ChainSink>>,
    complete: bool,
    warm_end: f64,
    started: Instant,
) -> crate::Result<()> {
    let total = started.elapsed().as_secs_f64();
    for mut s in sinks.drain(..) {
        s.finish(complete, warm_end, total - warm_end)?;
    }
    Ok(())
}
