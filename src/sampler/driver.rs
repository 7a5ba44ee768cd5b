//! Drives a group of chains through one backend: collect every chain's next command, run one
//! batched step, route the reports, and handle finished draws. Chains progress independently.
//!
//! A large group on one backend (a device backend holds every chain of a run) splits its host
//! work over threads: its chains are cut into contiguous shards, and each dispatch's report
//! pass and finished-draw pass run shard by shard in parallel. The backend gets the shards'
//! commands and new metrics as they lie, one call each per dispatch
//! ([`Backend::step_parts`], [`Backend::set_inv_masses`]), and may split that work over the
//! threads too. The pooled warmup's pool and the sinks of finished chains and of the group stay
//! serial, in the order of a serial pass. Each chain is handled exactly as in a serial pass, so
//! the draws do not depend on the number of shards.

use super::cancel::CancelToken;
use super::progress::Progress;
use super::records::{self, Records};
use super::sink::{Batch, ChainSink, GroupSink};
use crate::backend::cpu::Executor;
use crate::backend::{Backend, DrawState, InstallPart, LeafReport, LowRank, StepCommand};
use crate::nuts::{ChainMachine, PooledAdapter};
use rayon::prelude::*;
use std::time::Instant;

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
    /// chains' state machines, adaptation, constraining (unless
    /// [`DriveCounters::constrained_after_loop`]), trace records and sinks (the host loop).
    /// Wall time of each group's driver, summed over groups: thread-seconds when groups run in
    /// parallel, and the time a backend waited for its host when one group splits its host
    /// work over threads (see [`DriveCounters::host_shards`]).
    pub host_s: f64,
    /// Seconds inside the backend's batched steps and draw read-backs (summed over groups
    /// likewise). Every call is timed while the calls timed so far average `SLOW_CALL` (4 µs)
    /// or more (a device's round trip, a costly gradient), and the first `SAMPLED_EVERY` (16)
    /// calls are; otherwise dispatches of fewer than `TIMED_CHAINS` (32) chains are timed one
    /// in `SAMPLED_EVERY` and counted that many times (a clock read costs about as much as a
    /// small model's leaf step), so that for small groups of a fast backend this and `host_s`
    /// are estimates.
    pub step_s: f64,
    /// Of `step_s`, the seconds the backend itself spent on host work: encoding commands and
    /// decoding reports and draws ([`Backend::host_seconds`]; zero for the CPU backend).
    pub backend_host_s: f64,
    /// Wall seconds from the first group's driver starting to the last one's ending: the
    /// sampling, without the backends' creation and the chains' initialisation. In one group
    /// it is about `host_s + step_s`; in [device groups](crate::sampler::Sampler::device_groups),
    /// whose host loops run while each other's steps do, it is less.
    pub loop_s: f64,
    /// Most shards one group's host loop was split into (1: serial).
    pub host_shards: usize,
    /// The kept draws were recorded unconstrained and constrained when the trace was
    /// gathered, after the loop (DECISIONS 80).
    pub constrained_after_loop: bool,
}

impl DriveCounters {
    /// Host-loop cost per chain per dispatch, in nanoseconds (see [`DriveCounters::host_s`]).
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
    /// Warmup length.
    pub warmup: usize,
    /// Warmup iterations whose statistics are recorded: `warmup`, or none (see
    /// [`Sampler::keep_warmup_stats`](crate::sampler::Sampler::keep_warmup_stats)).
    pub warmup_rows: usize,
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
    /// Threads the host loop may split the group's chains over (1: serial; see the module
    /// docs). The driver uses at most one shard per [`MIN_SHARD_CHAINS`] chains.
    pub host_threads: usize,
    /// Kept draws are recorded as their unconstrained positions, to be constrained when the
    /// trace is gathered, rather than constrained by the host loop (only where nothing reads
    /// the records while the chains run: no sinks; see [`records_unconstrained`]).
    pub unconstrained: bool,
}

/// Whether a run records its kept draws unconstrained (see [`Group::unconstrained`]): when no
/// trace writer or live view reads the records while the chains run, a draw has no more
/// unconstrained values (`dim`) than constrained ones (`per_draw`), and the run's constrained
/// values (`values`, over every chain and kept draw) come to at least
/// [`crate::mem::POPULATE_MIN_BYTES`] (16 MB, the size from which the records' pages are
/// faulted in the background where a core is free): then the host loop, which keeps a device
/// waiting, writes fewer bytes per draw to fresh memory and runs no constraining program, and
/// the gathering after the loop constrains every draw, in parallel (DECISIONS 80). Smaller
/// runs constrain in the loop, where the records stay in cache.
pub fn records_unconstrained(streamed: bool, dim: usize, per_draw: usize, values: u128) -> bool {
    !streamed && dim <= per_draw && values.saturating_mul(8) >= crate::mem::POPULATE_MIN_BYTES as u128
}

/// About the fewest chains per shard of a split host loop (the last shard may hold a few
/// fewer).
pub const MIN_SHARD_CHAINS: usize = 1024;
/// A pass runs its shards in parallel only over at least this many chains (a fork-join costs
/// microseconds; a chain's report costs nanoseconds).
const PARALLEL_REPORTS: usize = 2048;
/// ... and a finished-draw pass over at least this many draws.
const PARALLEL_DRAWS: usize = 64;

/// Finished draws are handled in blocks of this many, their state prefetched a block or two
/// ahead (see [`ChainMachine::prefetch`]).
const PREFETCH_BLOCK: usize = 16;
/// ... in shards of at least this many chains (smaller ones stay in cache).
const PREFETCH_CHAINS: usize = 4096;

/// Per chain, what only a finished draw touches besides its record.
struct Tail {
    sinks: Vec<Box<dyn ChainSink>>,
    divergences: usize,
    warm_end: f64,
}

/// One shard's buffers: its chains' commands and what its last pass produced.
#[derive(Default)]
struct Shard {
    /// Commands of the shard's chains for the next dispatch, updated in place by each pass.
    cmds: Vec<StepCommand>,
    /// Where each ended chain's command sits in `cmds`: a placeholder (the chain's id, and
    /// whatever its spent trajectory would do next) stays there until the draw is handled, so
    /// that commands stay in chain order and each pass over the machines walks memory forward.
    slots: Vec<usize>,
    /// Chains (group indices) whose draw ended in the last dispatch.
    ended: Vec<usize>,
    /// The constraining program's workspace.
    ws: Vec<f64>,
    /// Chains with a new inverse mass diagonal to install, and where it sits in `metrics`.
    installs: Vec<(usize, std::ops::Range<usize>)>,
    /// The new diagonals, one after another: copied while the chain's adaptation state is in
    /// cache, so the serial install reads one sequential buffer instead of following each
    /// chain's pointers to its adapter again.
    metrics: Vec<f64>,
    /// Low-rank corrections to install.
    low_ranks: Vec<(usize, LowRank)>,
    /// Pooled warmup draws: index among the dispatch's ended draws, acceptance, step size.
    pooled: Vec<(usize, f64, f64)>,
    /// Chains now waiting for their pool, and chains done.
    waiting: Vec<usize>,
    completed: Vec<usize>,
    /// Iterations finished (for the group sinks).
    finished: usize,
    error: Option<crate::Error>,
}

/// A shard's index, buffers, machines, records and tails, as the draw pass takes them.
type ShardParts<'a, 'r> =
    (usize, (((&'a mut Shard, &'a mut [ChainMachine]), records::Shard<'r>), &'a mut [Tail]));

/// What every shard's draw pass reads.
struct DrawContext<'a> {
    constrain: &'a Executor,
    warmup: usize,
    thin: usize,
    pooled: bool,
    chain_ids: &'a [usize],
    progress: &'a Progress,
    started: Instant,
    /// Each ended draw's state (in the order of the shards' `ended`, concatenated).
    states: &'a [DrawState],
    /// Inverse metrics of chains whose first kept draw ended with sinks to tell.
    adapted: &'a [(usize, Vec<f64>)],
    /// See [`Group::unconstrained`].
    unconstrained: bool,
}

/// Consumes the reports of a shard's commands (the shard's chains start at group index `lo`).
fn consume(shard: &mut Shard, machines: &mut [ChainMachine], lo: usize, reports: &[LeafReport]) {
    let n = shard.cmds.len();
    shard.ended.clear();
    shard.slots.clear();
    shard.ended.reserve(n);
    shard.slots.reserve(n);
    // Which chains end their draw is not predictable: each chain's index is written past the
    // end of `ended` and kept (the length moved on) only when its draw ended, and an ended
    // chain's command is overwritten like any other (it is a placeholder until its draw is
    // handled), so that no branch depends on the reports.
    let (ended, slots) = (shard.ended.spare_capacity_mut(), shard.slots.spare_capacity_mut());
    let mut count = 0;
    let mut gone = false;
    for (k, (cmd, rep)) in shard.cmds.iter_mut().zip(reports).enumerate() {
        let m = &mut machines[cmd.chain - lo];
        let end = m.on_report(rep);
        ended[count].write(cmd.chain);
        slots[count].write(k);
        count += usize::from(end);
        match m.command() {
            Some(next) => *cmd = next,
            // (A chain mid-draw always has a next leaf; should one not, it leaves the queue.)
            None if !end => {
                cmd.chain = usize::MAX;
                gone = true;
            }
            None => {}
        }
    }
    // SAFETY: the first `count` elements of both spare capacities were written above (each
    // index below `count` was written before `count` passed it), and `count <= n` fits the
    // capacity reserved.
    unsafe {
        shard.ended.set_len(count);
        shard.slots.set_len(count);
    }
    if gone {
        shard.cmds.retain(|c| c.chain != usize::MAX);
        shard.slots.clear();
        let mut ended = shard.ended.iter().peekable();
        for (k, c) in shard.cmds.iter().enumerate() {
            if ended.next_if(|&&e| e == c.chain).is_some() {
                shard.slots.push(k);
            }
        }
    }
}

/// Handles a shard's finished draws (`first`: index of its first in `cx.states`): adaptation,
/// trace records, sinks, and the chains' next commands. What needs the backend or the pool is
/// queued in the shard for the serial part of the step.
fn finish_draws(
    cx: &DrawContext<'_>,
    shard: &mut Shard,
    (machines, mut records, tails): (&mut [ChainMachine], records::Shard<'_>, &mut [Tail]),
    lo: usize,
    first: usize,
) {
    shard.installs.clear();
    shard.metrics.clear();
    shard.low_ranks.clear();
    shard.pooled.clear();
    shard.waiting.clear();
    shard.completed.clear();
    shard.finished = 0;
    let ended = std::mem::take(&mut shard.ended);
    // A group too large for the caches prefetches its finished chains' state ahead: two
    // blocks ahead what a chain's machine and records locate, one block ahead what that
    // state points to (the adapter's buffers), so that the cache misses of a block's chains
    // overlap.
    let ahead = machines.len() >= PREFETCH_CHAINS;
    let block = |b: usize| {
        let rest = ended.get(b * PREFETCH_BLOCK..).unwrap_or(&[]);
        &rest[..rest.len().min(PREFETCH_BLOCK)]
    };
    let near = |b: usize, machines: &[ChainMachine], records: &records::Shard<'_>, tails: &[Tail]| {
        for &c in block(b) {
            let i = c - lo;
            machines[i].prefetch();
            records.prefetch(i, machines[i].iteration(), (cx.warmup, cx.thin));
            crate::mem::prefetch(&tails[i..=i]);
        }
    };
    let far = |b: usize, machines: &[ChainMachine]| {
        block(b).iter().for_each(|&c| machines[c - lo].prefetch_adapter());
    };
    if ahead {
        near(0, machines, &records, tails);
        near(1, machines, &records, tails);
        far(0, machines);
    }
    for (b, block) in ended.chunks(PREFETCH_BLOCK).enumerate() {
        if ahead {
            near(b + 2, machines, &records, tails);
            far(b + 1, machines);
        }
        for (k, &c) in block.iter().enumerate() {
            let local = b * PREFETCH_BLOCK + k;
            if let Err(e) =
                finish_one(cx, shard, (machines, &mut records, tails), c - lo, c, (local, first + local))
            {
                // The shard stops at its first error; the step returns it.
                shard.error.get_or_insert(e);
                shard.ended = ended;
                return;
            }
        }
    }
    // Chains that wait or are done leave their placeholders.
    if shard.waiting.len() + shard.completed.len() > 0 {
        shard.cmds.retain(|c| c.chain != usize::MAX);
    }
    shard.ended = ended;
}

/// One finished draw of chain `c` (index `i` in the shard), the shard's `local`-th and the
/// step's `k`-th (its state is `cx.states[k]`).
fn finish_one(
    cx: &DrawContext<'_>,
    shard: &mut Shard,
    (machines, records, tails): (&mut [ChainMachine], &mut records::Shard<'_>, &mut [Tail]),
    i: usize,
    c: usize,
    (local, k): (usize, usize),
) -> crate::Result<()> {
    let state = &cx.states[k];
    let m = &mut machines[i];
    let out = m.finish_draw(state);
    if cx.pooled && out.stats.tuning {
        shard.pooled.push((k, out.stats.accept_stat, out.stats.step_size));
    }
    if out.new_inv_mass {
        let at = shard.metrics.len();
        m.push_inv_mass(&mut shard.metrics);
        shard.installs.push((c, at..shard.metrics.len()));
    }
    if let Some(lr) = out.new_low_rank {
        shard.low_ranks.push((c, lr));
    }
    let tail = &mut tails[i];
    if out.iteration == cx.warmup {
        tail.warm_end = cx.started.elapsed().as_secs_f64();
        // `adapted` is in chain order, as `ended` is.
        if let Ok(a) = cx.adapted.binary_search_by_key(&c, |(a, _)| *a) {
            let inv_metric = &cx.adapted[a].1;
            for s in &mut tail.sinks {
                s.adapted(out.stats.step_size, inv_metric)?;
            }
        }
    }
    if out.stats.tuning {
        records.warmup(i, out.iteration, out.stats);
        shard.finished += 1;
    } else if (out.iteration - cx.warmup).is_multiple_of(cx.thin) {
        tail.divergences += out.stats.diverging as usize;
        let values = records.kept(i, (out.iteration - cx.warmup) / cx.thin, out.stats, &state.q);
        if cx.unconstrained {
            // (The records are sized by the backend's dimension, as its draws are.)
            debug_assert_eq!(values.len(), state.q.len());
            values.iter_mut().zip(&state.q).for_each(|(v, q)| *v = *q);
        } else {
            cx.constrain.run(&mut shard.ws, &state.q, &mut []);
            cx.constrain.copy_outputs(&shard.ws, values);
        }
        for s in &mut tail.sinks {
            s.draw(&out.stats, values)?;
        }
        shard.finished += 1;
    }
    let slot = &mut shard.cmds[shard.slots[local]];
    match m.command() {
        Some(cmd) => *slot = cmd,
        None => {
            slot.chain = usize::MAX;
            if m.is_waiting() { shard.waiting.push(c) } else { shard.completed.push(c) }
        }
    }
    cx.progress.update(cx.chain_ids[c], tail.divergences, m.step_size(), out.stats.tuning);
    Ok(())
}

/// Runs every chain of the group to completion (or cancellation).
pub fn drive(backend: &mut dyn Backend, mut g: Group<'_>) -> crate::Result<(Records, DriveCounters)> {
    let n = g.machines.len();
    let kept = g.draws.div_ceil(g.thin);
    let per_draw = if g.unconstrained { backend.dim() } else { g.constrain.outputs_len() };
    let single = backend.single_precision().then(|| backend.dim());
    let shard_count = g.host_threads.min(n / MIN_SHARD_CHAINS).max(1);
    let size = n.div_ceil(shard_count).max(1);
    // Pages are faulted in ahead of the writers only where that work finds an idle core: the
    // device is not the CPU, or the run's threads leave a core free (DECISIONS 75).
    let populate = !backend.shares_host_cores() || crate::mem::core_free(rayon::current_num_threads());
    let mut records = Records::new(n, (g.warmup_rows, kept, per_draw), single, size, populate)?;
    let mut counters = DriveCounters::default();
    let mut sinks = std::mem::take(&mut g.sinks);
    sinks.resize_with(n, Vec::new);
    let mut tails: Vec<Tail> =
        sinks.into_iter().map(|sinks| Tail { sinks, divergences: 0, warm_end: 0.0 }).collect();
    // One pass per dispatch: each report is consumed and the chain's next command queued at
    // once (a chain that ends its draw keeps its place with a placeholder, filled or dropped
    // once the draw is handled), so the long tail of a large group, where few chains remain,
    // costs per remaining chain rather than per chain.
    let mut shards: Vec<Shard> = g
        .machines
        .chunks(size)
        .map(|ms| Shard {
            cmds: ms.iter().filter_map(ChainMachine::command).collect(),
            ws: g.constrain.workspace(),
            ..Shard::default()
        })
        .collect();
    counters.host_shards = shards.len();
    counters.constrained_after_loop = g.unconstrained;
    let mut reports = vec![LeafReport::default(); n];
    let mut ended: Vec<usize> = Vec::with_capacity(n);
    let mut adapted: Vec<(usize, Vec<f64>)> = Vec::new();
    let (mut starts, mut firsts) = (Vec::with_capacity(shard_count), Vec::with_capacity(shard_count));
    // Chains waiting for their pool's end of iteration (pooled warmup).
    let mut waiting: Vec<usize> = Vec::new();
    let mut states = vec![DrawState::default(); n];
    let started = Instant::now();
    let mut clock = StepClock::default();
    let mut group_sinks = std::mem::take(&mut g.group_sinks);
    let mut stopped: Vec<(usize, bool)> = Vec::new();
    let feed = !group_sinks.is_empty();
    let pooled = g.pool.is_some();
    // Whether any chain streams to sinks (only then do first kept draws need the backend's
    // metric).
    let any_sinks = tails.iter().any(|t| !t.sinks.is_empty());
    loop {
        if g.cancel.is_cancelled() {
            break;
        }
        let live: usize = shards.iter().map(|s| s.cmds.len()).sum();
        if live == 0 {
            // Every live chain waits for its pool: the warmup iteration is complete.
            let Some(pool) = g.pool.as_mut().filter(|_| !waiting.is_empty()) else { break };
            let iteration = g.machines[waiting[0]].iteration() - 1;
            let (step_size, metric) = pool.end_iteration(iteration);
            waiting.sort_unstable();
            for &c in &waiting {
                if let Some(m) = &metric {
                    backend.set_inv_mass(c, m);
                }
                g.machines[c].resume(step_size);
                shards[c / size].cmds.extend(g.machines[c].command());
            }
            waiting.clear();
            continue;
        }
        // Each shard's commands go to the backend where they lie (DECISIONS 87).
        let parts: Vec<&[StepCommand]> = shards.iter().map(|s| &s.cmds[..]).collect();
        let t = clock.start(live, counters.dispatches);
        backend.step_parts(&parts, &mut reports[..live])?;
        clock.stop(t);
        counters.dispatches += 1;
        counters.leaf_steps += live as u64;
        offsets(&mut starts, shards.iter().map(|s| s.cmds.len()));
        let report_pass = |(j, (s, ms)): (usize, (&mut Shard, &mut [ChainMachine]))| {
            consume(s, ms, j * size, &reports[starts[j]..starts[j] + s.cmds.len()]);
        };
        if shards.len() > 1 && live >= PARALLEL_REPORTS {
            shards.par_iter_mut().zip(g.machines.par_chunks_mut(size)).enumerate().for_each(report_pass);
        } else {
            shards.iter_mut().zip(g.machines.chunks_mut(size)).enumerate().for_each(report_pass);
        }
        ended.clear();
        shards.iter().for_each(|s| ended.extend_from_slice(&s.ended));
        if ended.is_empty() {
            continue;
        }
        let t = clock.start(ended.len(), counters.dispatches);
        backend.read_draws(&ended, &mut states[..ended.len()])?;
        clock.stop(t);
        // A chain's sinks hear of its adapted metric with its first kept draw.
        adapted.clear();
        if any_sinks {
            for &c in &ended {
                if g.machines[c].iteration() == g.warmup && !tails[c].sinks.is_empty() {
                    adapted.push((c, backend.inv_mass(c)));
                }
            }
        }
        offsets(&mut firsts, shards.iter().map(|s| s.ended.len()));
        let cx = DrawContext {
            constrain: g.constrain,
            warmup: g.warmup,
            thin: g.thin,
            pooled,
            chain_ids: &g.chain_ids,
            progress: g.progress,
            started,
            states: &states[..ended.len()],
            adapted: &adapted,
            unconstrained: g.unconstrained,
        };
        let draw_pass = |(j, (((s, ms), rs), ts)): ShardParts<'_, '_>| {
            finish_draws(&cx, s, (ms, rs, ts), j * size, firsts[j]);
        };
        if shards.len() > 1 && ended.len() >= PARALLEL_DRAWS {
            shards
                .par_iter_mut()
                .zip(g.machines.par_chunks_mut(size))
                .zip(records.shards())
                .zip(tails.par_chunks_mut(size))
                .enumerate()
                .for_each(draw_pass);
        } else {
            shards
                .iter_mut()
                .zip(g.machines.chunks_mut(size))
                .zip(records.shards())
                .zip(tails.chunks_mut(size))
                .enumerate()
                .for_each(draw_pass);
        }
        // The serial part: the backend, the pool, finished chains' sinks. Every shard's new
        // metrics go to the backend in one call, which may write them in parallel.
        if let Some(e) = shards.iter_mut().find_map(|s| s.error.take()) {
            return Err(e);
        }
        let installs: Vec<InstallPart<'_>> = shards
            .iter()
            .filter(|s| !s.installs.is_empty())
            .map(|s| (&s.installs[..], &s.metrics[..]))
            .collect();
        if !installs.is_empty() {
            backend.set_inv_masses(&installs);
        }
        let mut finished = 0;
        for s in &mut shards {
            for (c, lr) in &s.low_ranks {
                backend.set_low_rank(*c, lr);
            }
            if let Some(pool) = g.pool.as_mut() {
                for &(k, accept, step_size) in &s.pooled {
                    pool.add(&states[k].q, &states[k].g, accept, step_size);
                }
            }
            waiting.extend_from_slice(&s.waiting);
            for &c in &s.completed {
                let tail = &mut tails[c];
                finish(&mut tail.sinks, true, tail.warm_end, started)?;
            }
            stopped.extend(s.completed.iter().map(|&c| (c, true)));
            finished += s.finished;
        }
        if feed {
            let b = Batch { finished, stopped: &stopped, records: &records };
            for s in &mut group_sinks {
                s.step(&b)?;
            }
        }
        stopped.clear();
    }
    for (c, tail) in tails.iter_mut().enumerate() {
        if !g.machines[c].is_done() {
            finish(&mut tail.sinks, false, tail.warm_end, started)?;
            stopped.push((c, false));
        }
    }
    let b = Batch { finished: 0, stopped: &stopped, records: &records };
    for s in &mut group_sinks {
        s.close(&b)?;
    }
    // Sampled timing can overshoot the whole: the host's share is then zero.
    let total = started.elapsed();
    counters.step_s = clock.spent.min(total).as_secs_f64();
    counters.host_s = total.saturating_sub(clock.spent).as_secs_f64();
    counters.backend_host_s = backend.host_seconds().min(counters.step_s);
    Ok((records, counters))
}

/// Fills `out` with where each of consecutive runs of the given lengths starts.
fn offsets(out: &mut Vec<usize>, lens: impl Iterator<Item = usize>) {
    out.clear();
    let mut at = 0;
    for l in lens {
        out.push(at);
        at += l;
    }
}
/// Dispatches of at least this many chains are always timed (see [`DriveCounters::step_s`]).
pub const TIMED_CHAINS: usize = 32;
/// Smaller dispatches are timed one in this many.
pub const SAMPLED_EVERY: u32 = 16;
/// ... unless the calls timed so far averaged at least this long: a clock read is then under
/// 1% of a call, and every call is timed.
pub const SLOW_CALL: std::time::Duration = std::time::Duration::from_micros(4);

/// Times the backend's calls for [`DriveCounters::step_s`].
#[derive(Default)]
struct StepClock {
    /// The calls' time, sampled calls weighted.
    spent: std::time::Duration,
    /// Time and number of the calls actually timed.
    timed: (std::time::Duration, u32),
}

impl StepClock {
    /// Starts timing a call over `chains` chains in dispatch number `dispatch`, if it is to be
    /// timed: the start and the call's weight.
    /// The first [`SAMPLED_EVERY`] calls are all timed, to learn their cost.
    fn start(&self, chains: usize, dispatch: u64) -> Option<(Instant, u32)> {
        let (took, calls) = self.timed;
        let slow = calls < SAMPLED_EVERY || took >= SLOW_CALL * calls;
        let weight = if slow { 1 } else { timing_weight(chains, dispatch) };
        (weight > 0).then(|| (Instant::now(), weight))
    }
    fn stop(&mut self, started: Option<(Instant, u32)>) {
        if let Some((t, weight)) = started {
            self.record(t.elapsed(), weight);
        }
    }
    /// Counts a timed call that took `took`, `weight` times.
    fn record(&mut self, took: std::time::Duration, weight: u32) {
        self.spent += took * weight;
        self.timed = (self.timed.0 + took, self.timed.1.saturating_add(1));
    }
}

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

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn small_dispatches_are_sampled_until_the_calls_prove_slow() {
        let mut clock = StepClock::default();
        // The first calls are all timed, once each.
        for k in 0..SAMPLED_EVERY {
            assert_eq!(clock.start(4, u64::from(k) + 1).map(|t| t.1), Some(1));
            clock.record(Duration::from_nanos(400), 1);
        }
        // Fast calls: large dispatches are always timed, small ones one in SAMPLED_EVERY,
        // weighted.
        assert_eq!(clock.start(TIMED_CHAINS, 3).map(|t| t.1), Some(1));
        assert_eq!(clock.start(4, 3).map(|t| t.1), None);
        assert_eq!(clock.start(4, 32).map(|t| t.1), Some(SAMPLED_EVERY));
        clock.record(Duration::from_nanos(500), SAMPLED_EVERY);
        let fast = Duration::from_nanos(400) * SAMPLED_EVERY + Duration::from_nanos(500) * SAMPLED_EVERY;
        assert_eq!(clock.spent, fast);
        assert_eq!(clock.start(4, 3).map(|t| t.1), None);
        // Calls that average SLOW_CALL or more: every one is timed, once.
        clock.record(SLOW_CALL * 40, SAMPLED_EVERY);
        assert_eq!(clock.start(4, 3).map(|t| t.1), Some(1));
        // ... until fast calls bring the average back under it.
        for _ in 0..1000 {
            clock.record(Duration::from_nanos(100), 1);
        }
        assert_eq!(clock.start(4, 3).map(|t| t.1), None);
    }
}
