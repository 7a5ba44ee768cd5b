//! What the live view knows about a run: one small record per chain, kept and read by the
//! server thread.
//!
//! The sampling side counts finished iterations in its group's [`Inbox`] and now and then
//! copies the new ones from the chains' records into a [`Block`] on the board's queue; the
//! server thread sums the blocks into the chain records (before each snapshot, after each
//! request and when idle) and does everything costly (R-hat, ESS, ranks, downsampling), at
//! most once per [`SNAPSHOT_EVERY`].

use std::sync::atomic::{AtomicU8, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde::Serialize;

use crate::diagnostics::{ess_bulk, ess_tail, rankdata_average, rhat_summary};
use crate::nuts::DrawStats;
use crate::sampler::sink::{Batch, RunInfo};

/// Shortest time between two snapshots; requests in between get the cached one.
pub(super) const SNAPSHOT_EVERY: Duration = Duration::from_millis(200);
/// Most points of one chain's trace a snapshot carries (longer traces are strided).
const TRACE_POINTS: usize = 400;
/// Most iterations a group of chains finishes before it hands them to the board (16 per
/// chain, at least 256).
const STAGE_MAX: usize = 16_384;
/// Blocks queued (unsummed) past which the sampler sums them itself.
const MAX_QUEUED: usize = 256;
/// Most of the server thread's time that R-hat, ESS and ranks may take: they are recomputed
/// only after twenty times their last cost has passed.
const DIAGNOSTICS_DUTY: f64 = 0.05;
/// Bins of a rank plot.
const RANK_BINS: usize = 20;

/// One tracked scalar: a trace element the page plots.
#[derive(Clone, Debug)]
pub(super) struct Element {
    /// `name` or `name[label]`.
    pub label: String,
    /// Its position in a draw's values.
    pub offset: usize,
}

/// Running sums of one element in one chain, shifted by the chain's first draw (so that
/// they stay accurate far from zero): an addition per draw, no division.
#[derive(Clone, Copy, Debug, Default)]
struct Moment {
    n: f64,
    /// Whether `shift` was set (by the first draw).
    set: bool,
    shift: f64,
    s1: f64,
    s2: f64,
}

impl Moment {
    fn add(&mut self, x: f64) {
        if !self.set {
            (self.shift, self.set) = (x, true);
        }
        let d = x - self.shift;
        self.n += 1.0;
        self.s1 += d;
        self.s2 += d * d;
    }

    fn mean(&self) -> f64 {
        self.shift + self.s1 / self.n
    }

    /// Sum of squared deviations from the mean.
    fn ss(&self) -> f64 {
        if self.n == 0.0 { 0.0 } else { (self.s2 - self.s1 * self.s1 / self.n).max(0.0) }
    }

    fn var(&self) -> f64 {
        self.ss() / (self.n - 1.0)
    }
}

/// What a staged iteration was.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    Warmup,
    Kept,
    /// The chain stopped (`true`: it made every draw).
    Done(bool),
}

/// One finished iteration (or a chain's end) as a group stages it.
#[derive(Clone, Copy, Debug)]
struct Staged {
    /// The chain's index in its group.
    chain: u32,
    kind: Kind,
    diverging: bool,
    tree_depth: u32,
    step_size: f64,
}

/// Staged iterations handed to the board: summed into the chains' records on the server's
/// thread.
#[derive(Debug)]
struct Block {
    /// Board slot of each chain of the group.
    slots: Arc<[usize]>,
    staged: Vec<Staged>,
    /// Tracked values of the kept draws, in order.
    values: Vec<f64>,
}

/// A group of chains' feed into the board. The sampler's loop only counts the iterations
/// each batched step finished; the iterations are read from the chains' own records (the
/// trace the driver keeps anyway) and handed over as one [`Block`] (a lock and a move) when
/// 16 per chain have finished (at least 256, at most [`STAGE_MAX`]), when a page has asked
/// for a snapshot since the last hand-over, and when the group closes. The server's thread
/// does the sums.
#[derive(Debug)]
pub(super) struct Inbox {
    /// Board slot of each chain of the group.
    slots: Arc<[usize]>,
    /// Where each tracked element lies in a draw's values.
    offsets: Vec<usize>,
    /// Iterations finished since the last hand-over, and how many trigger one.
    since: usize,
    stage_max: usize,
    /// The board's snapshot count at the last hand-over.
    epoch: u64,
    /// Per chain of the group: warmup iterations and kept draws handed over so far.
    seen: Vec<(usize, usize)>,
    /// Per chain: stopped (and whether complete) but not yet handed over.
    stopped: Vec<Option<bool>>,
}

impl Inbox {
    /// Notes a batched step: the iterations it finished and the chains that stopped.
    pub fn note(&mut self, batch: &Batch<'_>) {
        self.since += batch.finished();
        for &(c, complete) in batch.stopped() {
            self.stopped[c] = Some(complete);
        }
    }

    /// Copies everything not yet handed over from the chains' records into a block.
    fn block(&mut self, batch: &Batch<'_>) -> Block {
        let (k, per_draw) = (self.offsets.len(), batch.per_draw());
        let mut staged = Vec::with_capacity(self.since + self.stopped.len());
        let mut values = Vec::with_capacity(self.since * k);
        let stage = |c: usize, kind: Kind, s: &DrawStats| Staged {
            chain: c as u32,
            kind,
            diverging: s.diverging,
            tree_depth: u32::from(s.tree_depth),
            step_size: s.step_size,
        };
        for (c, seen) in self.seen.iter_mut().enumerate() {
            let h = batch.history(c);
            staged.extend(h.warmup().skip(seen.0).map(|s| stage(c, Kind::Warmup, s)));
            staged.extend(h.kept().skip(seen.1).map(|s| stage(c, Kind::Kept, s)));
            if per_draw > 0 {
                for d in seen.1..h.kept_len() {
                    let draw = h.values(d);
                    values.extend(self.offsets.iter().map(|&o| draw[o]));
                }
            }
            *seen = (h.warmup_len(), h.kept_len());
            if let Some(complete) = self.stopped[c].take() {
                staged.push(Staged {
                    chain: c as u32,
                    kind: Kind::Done(complete),
                    diverging: false,
                    tree_depth: 0,
                    step_size: 0.0,
                });
            }
        }
        self.since = 0;
        Block { slots: Arc::clone(&self.slots), staged, values }
    }
}

/// One chain as the page sees it.
#[derive(Debug, Default)]
struct ChainLive {
    iteration: usize,
    /// Divergences of kept draws, and of warmup iterations.
    divergences: usize,
    warmup_divergences: usize,
    step_size: f64,
    tree_depth: u32,
    /// `Some(complete)` once the chain stopped.
    done: Option<bool>,
    moments: Vec<Moment>,
    /// Kept draws per tracked element (shown chains only).
    values: Vec<Vec<f64>>,
    /// Step size and tree depth of every warmup iteration (shown chains only).
    warm_step: Vec<f64>,
    warm_depth: Vec<u32>,
    shown: bool,
}

impl ChainLive {
    /// Adds a staged iteration (`draw`: a kept draw's tracked values).
    fn add(&mut self, s: &Staged, draw: &[f64], (warmup, thin, iterations): (usize, usize, usize)) {
        match s.kind {
            Kind::Done(complete) => {
                self.done = Some(complete);
                return;
            }
            Kind::Warmup => {
                self.iteration += 1;
                self.warmup_divergences += usize::from(s.diverging);
                if self.shown {
                    self.warm_step.push(s.step_size);
                    self.warm_depth.push(s.tree_depth);
                }
            }
            Kind::Kept => {
                self.iteration = (self.iteration.max(warmup) + thin).min(iterations);
                self.divergences += usize::from(s.diverging);
                for (m, &x) in self.moments.iter_mut().zip(draw) {
                    m.add(x);
                }
                for (v, &x) in self.values.iter_mut().zip(draw) {
                    v.push(x);
                }
            }
        }
        (self.step_size, self.tree_depth) = (s.step_size, s.tree_depth);
    }
}

/// How the run stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
pub(super) enum RunState {
    Running = 0,
    Finished = 1,
    Cancelled = 2,
    Failed = 3,
}

/// The live state of one run.
#[derive(Debug)]
pub(super) struct Board {
    started: Instant,
    chain_ids: Vec<usize>,
    warmup: usize,
    iterations: usize,
    thin: usize,
    elements: Vec<Element>,
    /// Local indices of the chains whose draws are kept for plots.
    shown: Vec<usize>,
    /// Per slot: whether a group feeds that chain (see [`Board::inbox`]).
    fed: Mutex<Vec<bool>>,
    /// Blocks handed over and not yet summed.
    queue: Mutex<Vec<Block>>,
    state: AtomicU8,
    /// Snapshots asked for so far: a group hands its staged iterations over when this
    /// changes.
    epoch: AtomicU64,
    server: Mutex<ServerSide>,
}

impl Board {
    /// A board for `run`, tracking `elements` and showing up to `shown` chains (evenly spaced
    /// over the run's chains).
    pub fn new(run: &RunInfo<'_>, elements: Vec<Element>, shown: usize) -> Board {
        let n = run.chain_ids.len();
        let k = shown.clamp(1, n.max(1)).min(n);
        let shown: Vec<usize> = (0..k).map(|i| i * n / k).collect();
        let chains = (0..n)
            .map(|c| {
                let show = shown.binary_search(&c).is_ok();
                ChainLive {
                    step_size: run.step_size,
                    moments: vec![Moment::default(); elements.len()],
                    values: if show { vec![Vec::new(); elements.len()] } else { Vec::new() },
                    shown: show,
                    ..ChainLive::default()
                }
            })
            .collect();
        Board {
            fed: Mutex::new(vec![false; n]),
            queue: Mutex::new(Vec::new()),
            started: Instant::now(),
            chain_ids: run.chain_ids.clone(),
            warmup: run.warmup,
            iterations: run.warmup + run.draws,
            thin: run.thin,
            elements,
            shown,
            state: AtomicU8::new(RunState::Running as u8),
            epoch: AtomicU64::new(0),
            server: Mutex::new(ServerSide { chains, ..ServerSide::default() }),
        }
    }

    /// Whether the page plots chain `slot` (its draws and warmup path are kept).
    fn is_shown(&self, slot: usize) -> bool {
        self.shown.binary_search(&slot).is_ok()
    }

    /// A feed for the group of chains `chain_ids` (global ids), or `None` when one of them is
    /// not in this board's run or is fed already (the view given to a run twice, or boards of
    /// two runs sharing one view): every chain is then counted once, on its own run's board.
    pub fn inbox(&self, chain_ids: &[usize]) -> Option<Inbox> {
        let slot_of: std::collections::HashMap<usize, usize> =
            self.chain_ids.iter().enumerate().map(|(s, &c)| (c, s)).collect();
        let slots: Vec<usize> = chain_ids.iter().map(|c| slot_of.get(c).copied()).collect::<Option<_>>()?;
        let mut fed = self.fed.lock().unwrap_or_else(|e| e.into_inner());
        if slots.iter().any(|&s| fed[s]) {
            return None;
        }
        slots.iter().for_each(|&s| fed[s] = true);
        let n = slots.len();
        Some(Inbox {
            slots: slots.into(),
            offsets: self.elements.iter().map(|e| e.offset).collect(),
            since: 0,
            stage_max: (16 * n).clamp(256, STAGE_MAX),
            epoch: self.epoch.load(Ordering::Relaxed),
            seen: vec![(0, 0); n],
            stopped: vec![None; n],
        })
    }

    /// Whether `inbox` should hand over now: it is full, or a page asked for a snapshot
    /// since its last hand-over.
    pub fn due(&self, inbox: &Inbox) -> bool {
        inbox.since >= inbox.stage_max || inbox.epoch != self.epoch.load(Ordering::Relaxed)
    }

    /// Moves what `inbox`'s chains recorded since its last hand-over (read from `batch`) to
    /// the board's queue.
    pub fn hand_over(&self, inbox: &mut Inbox, batch: &Batch<'_>) {
        inbox.epoch = self.epoch.load(Ordering::Relaxed);
        let block = inbox.block(batch);
        if block.staged.is_empty() {
            return;
        }
        let queued = {
            let mut queue = self.queue.lock().unwrap_or_else(|e| e.into_inner());
            queue.push(block);
            queue.len()
        };
        // The server thread sums the queue; should it fall behind (a client that does not
        // read its answer blocks it), the sampler sums rather than let the queue grow.
        if queued >= MAX_QUEUED
            && let Ok(mut side) = self.server.try_lock()
        {
            self.drain(&mut side);
        }
    }

    /// Sums the queued blocks into the chains' records (on the server's thread).
    fn drain(&self, side: &mut ServerSide) {
        let blocks = std::mem::take(&mut *self.queue.lock().unwrap_or_else(|e| e.into_inner()));
        if blocks.is_empty() {
            return;
        }
        let k = self.elements.len();
        let run = (self.warmup, self.thin, self.iterations);
        for b in &blocks {
            let slots = &b.slots;
            let mut draws = b.values.chunks_exact(k.max(1));
            for s in &b.staged {
                let draw = match s.kind {
                    Kind::Kept if k > 0 => draws.next().unwrap_or_default(),
                    _ => &[],
                };
                side.chains[slots[s.chain as usize]].add(s, draw, run);
            }
        }
    }

    /// Sums what was handed over since the last snapshot: the server calls this after each
    /// request and when idle, so that the queue stays short whether or not a page is open.
    pub fn idle(&self) {
        let mut side = self.side();
        self.drain(&mut side);
    }

    /// Marks the run's end.
    pub fn end(&self, state: RunState) {
        self.state.store(state as u8, Ordering::Release);
        self.side().json = None;
    }

    fn run_state(&self) -> RunState {
        match self.state.load(Ordering::Acquire) {
            0 => RunState::Running,
            1 => RunState::Finished,
            2 => RunState::Cancelled,
            _ => RunState::Failed,
        }
    }

    fn side(&self) -> std::sync::MutexGuard<'_, ServerSide> {
        self.server.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The snapshot as JSON, computed at most once per [`SNAPSHOT_EVERY`].
    pub fn json(&self) -> String {
        self.epoch.fetch_add(1, Ordering::Relaxed);
        let mut side = self.side();
        self.drain(&mut side);
        if let Some((at, json)) = side.json.as_ref()
            && at.elapsed() < SNAPSHOT_EVERY
        {
            return json.clone();
        }
        let snapshot = self.snapshot(&mut side);
        let json = serde_json::to_string(&snapshot).unwrap_or_else(|_| "{}".into());
        side.json = Some((Instant::now(), json.clone()));
        json
    }

    /// Everything the page shows. The shown chains' new draws are moved (not copied) from
    /// their records to the diagnostics' side, and the diagnostics computed no more often
    /// than keeps them under [`DIAGNOSTICS_DUTY`] of the server thread's time.
    fn snapshot(&self, side: &mut ServerSide) -> Snapshot {
        let n = side.chains.len();
        let mut iterations = Vec::with_capacity(n);
        let mut steps = Vec::with_capacity(n);
        let (mut divergences, mut warmup_divergences) = (0, 0);
        let (mut depth_sum, mut in_warmup, mut done) = (0u64, 0, 0);
        let mut moments: Vec<Vec<Moment>> = vec![Vec::with_capacity(n); self.elements.len()];
        let mut rows = Vec::with_capacity(self.shown.len());
        let mut warm = Vec::with_capacity(self.shown.len());
        side.draws.resize_with(self.shown.len(), || vec![Vec::new(); self.elements.len()]);
        let mut shown = side.draws.iter_mut();
        for (slot, c) in side.chains.iter_mut().enumerate() {
            iterations.push(c.iteration);
            steps.push(c.step_size);
            divergences += c.divergences;
            warmup_divergences += c.warmup_divergences;
            depth_sum += u64::from(c.tree_depth);
            in_warmup += usize::from(c.iteration < self.warmup && c.done.is_none());
            done += usize::from(c.done.is_some());
            for (all, m) in moments.iter_mut().zip(&c.moments) {
                all.push(*m);
            }
            if !self.is_shown(slot) {
                continue;
            }
            if let Some(dst) = shown.next() {
                for (d, v) in dst.iter_mut().zip(c.values.iter_mut()) {
                    d.append(v);
                }
            }
            rows.push(ChainRow {
                id: self.chain_ids[slot],
                iteration: c.iteration,
                phase: phase(c, self.warmup),
                divergences: c.divergences,
                warmup_divergences: c.warmup_divergences,
                step_size: c.step_size,
                tree_depth: c.tree_depth,
            });
            warm.push(WarmPath {
                id: self.chain_ids[slot],
                step_size: stride(&c.warm_step),
                tree_depth: stride(&c.warm_depth.iter().map(|&d| f64::from(d)).collect::<Vec<_>>()),
            });
        }
        let state = self.run_state();
        // Their cost grows with the draws (sorts and FFTs): predict it from the last one.
        let now = side.draws.iter().map(|d| d.first().map_or(0, Vec::len)).min().unwrap_or(0);
        let due = match &side.diag {
            None => true,
            Some(d) if d.final_state => false,
            Some(_) if state != RunState::Running => true,
            Some(d) => {
                let growth = now as f64 / d.draws.max(1) as f64;
                let predicted = d.cost.mul_f64(growth.max(1.0));
                d.at.elapsed() >= SNAPSHOT_EVERY.max(predicted.div_f64(DIAGNOSTICS_DUTY))
            }
        };
        if due {
            let t = Instant::now();
            let per_var = (0..self.elements.len()).map(|e| diagnose(&side.draws, e)).collect();
            side.diag = Some(Diagnostics {
                at: t,
                cost: t.elapsed(),
                draws: now,
                final_state: state != RunState::Running,
                per_var,
            });
        }
        let diag = side.diag.as_ref().map(|d| &d.per_var[..]).unwrap_or_default();
        let vars = self
            .elements
            .iter()
            .enumerate()
            .map(|(e, el)| var_view(el, e, &side.draws, &moments[e], diag.get(e)))
            .collect();
        let total: usize = iterations.iter().sum();
        let mut sorted_steps = steps;
        sorted_steps.sort_by(f64::total_cmp);
        Snapshot {
            status: match state {
                RunState::Running if in_warmup > 0 => "warmup",
                RunState::Running => "sampling",
                RunState::Finished => "finished",
                RunState::Cancelled => "cancelled",
                RunState::Failed => "failed",
            },
            elapsed_s: self.started.elapsed().as_secs_f64(),
            chains: n,
            chains_done: done,
            chains_in_warmup: in_warmup,
            iterations_per_chain: self.iterations,
            warmup: self.warmup,
            iterations_done: total,
            iterations_min: iterations.iter().copied().min().unwrap_or(0),
            iterations_max: iterations.iter().copied().max().unwrap_or(0),
            divergences,
            warmup_divergences,
            step_size: Spread::of_sorted(&sorted_steps),
            tree_depth_mean: depth_sum as f64 / n.max(1) as f64,
            diagnostics_draws: side.diag.as_ref().map_or(0, |d| d.draws),
            shown: rows,
            vars,
            warmup_paths: warm,
        }
    }
}

/// The server thread's side of a board.
#[derive(Debug, Default)]
struct ServerSide {
    /// Every chain's record, summed from the blocks the groups hand over.
    chains: Vec<ChainLive>,
    /// The last snapshot, as sent.
    json: Option<(Instant, String)>,
    /// The shown chains' kept draws (per shown chain, per element), moved here from the chain
    /// records at each snapshot.
    draws: Vec<Vec<Vec<f64>>>,
    diag: Option<Diagnostics>,
}

/// The last diagnostics of the shown chains' draws, and what computing them cost.
#[derive(Debug)]
struct Diagnostics {
    at: Instant,
    cost: Duration,
    /// Draws per shown chain they used.
    draws: usize,
    /// Computed after the run ended: final, never recomputed.
    final_state: bool,
    per_var: Vec<Diag>,
}

/// Rank-normalised R-hat, ESS and rank counts of one element over the shown chains.
#[derive(Debug, Default)]
struct Diag {
    rhat: Option<f64>,
    ess_bulk: Option<f64>,
    ess_tail: Option<f64>,
    ranks: Vec<Vec<u32>>,
}

fn diagnose(draws: &[Vec<Vec<f64>>], e: usize) -> Diag {
    let len = draws.iter().map(|d| d[e].len()).min().unwrap_or(0);
    if len < 4 {
        return Diag::default();
    }
    let chains: Vec<&[f64]> = draws.iter().map(|d| &d[e][..len]).collect();
    let pooled: Vec<f64> = chains.iter().flat_map(|c| c.iter().copied()).collect();
    let finite = |x: f64| x.is_finite().then_some(x);
    Diag {
        rhat: finite(rhat_summary(&chains)),
        ess_bulk: finite(ess_bulk(&chains)),
        ess_tail: finite(ess_tail(&chains)),
        ranks: rank_counts(&pooled, chains.len(), len),
    }
}

fn phase(c: &ChainLive, warmup: usize) -> &'static str {
    match c.done {
        Some(true) => "done",
        Some(false) => "stopped",
        None if c.iteration < warmup => "warmup",
        None => "sampling",
    }
}

/// At most [`TRACE_POINTS`] evenly strided values of `v` (the last one included).
fn stride(v: &[f64]) -> Vec<f64> {
    if v.len() <= TRACE_POINTS {
        return v.to_vec();
    }
    let step = v.len().div_ceil(TRACE_POINTS);
    let mut out: Vec<f64> = v.iter().step_by(step).copied().collect();
    if !(v.len() - 1).is_multiple_of(step) {
        out.push(v[v.len() - 1]);
    }
    out
}

/// One tracked element: moments over all chains, the shown chains' traces, and the last
/// diagnostics of their draws.
fn var_view(
    el: &Element,
    e: usize,
    draws: &[Vec<Vec<f64>>],
    moments: &[Moment],
    diag: Option<&Diag>,
) -> VarView {
    let finite = |x: f64| x.is_finite().then_some(x);
    let (n_all, mean_all, sd_all) = pooled_moments(moments);
    VarView {
        name: el.label.clone(),
        mean: finite(mean_all),
        sd: finite(sd_all),
        draws_all_chains: n_all as usize,
        rhat_all_chains: classic_rhat(moments).and_then(finite),
        rhat: diag.and_then(|d| d.rhat),
        ess_bulk: diag.and_then(|d| d.ess_bulk),
        ess_tail: diag.and_then(|d| d.ess_tail),
        trace: draws.iter().map(|d| stride(&d[e])).collect(),
        ranks: diag.map(|d| d.ranks.clone()).unwrap_or_default(),
    }
}

/// Counts of each chain's draws in [`RANK_BINS`] bins of their ranks among all shown draws.
fn rank_counts(pooled: &[f64], chains: usize, len: usize) -> Vec<Vec<u32>> {
    let ranks = rankdata_average(pooled);
    let total = pooled.len() as f64;
    let mut out = vec![vec![0u32; RANK_BINS]; chains];
    for (i, r) in ranks.iter().enumerate() {
        let bin = (((r - 0.5) / total) * RANK_BINS as f64).floor().clamp(0.0, (RANK_BINS - 1) as f64);
        out[i / len][bin as usize] += 1;
    }
    out
}

/// Draws, mean and sd of all chains' draws together (from their moments).
fn pooled_moments(moments: &[Moment]) -> (f64, f64, f64) {
    let n: f64 = moments.iter().map(|m| m.n).sum();
    if n < 2.0 {
        return (n, f64::NAN, f64::NAN);
    }
    let with_draws = || moments.iter().filter(|m| m.n > 0.0);
    let mean = with_draws().map(|m| m.n * m.mean()).sum::<f64>() / n;
    let ss: f64 = with_draws().map(|m| m.ss() + m.n * (m.mean() - mean).powi(2)).sum();
    (n, mean, (ss / (n - 1.0)).sqrt())
}

/// Gelman–Rubin R-hat (not split, not rank-normalised) over every chain with at least four
/// draws, from per-chain means and variances: the aggregate that scales to thousands of
/// chains without keeping their draws.
fn classic_rhat(moments: &[Moment]) -> Option<f64> {
    let m: Vec<&Moment> = moments.iter().filter(|m| m.n >= 4.0).collect();
    if m.len() < 2 {
        return None;
    }
    let k = m.len() as f64;
    let n = m.iter().map(|m| m.n).sum::<f64>() / k;
    let w = m.iter().map(|m| m.var()).sum::<f64>() / k;
    let grand = m.iter().map(|m| m.mean()).sum::<f64>() / k;
    let b_over_n = m.iter().map(|m| (m.mean() - grand).powi(2)).sum::<f64>() / (k - 1.0);
    let v = (n - 1.0) / n * w + b_over_n;
    Some((v / w).sqrt())
}

/// The page's data.
#[derive(Serialize)]
struct Snapshot {
    status: &'static str,
    elapsed_s: f64,
    chains: usize,
    chains_done: usize,
    chains_in_warmup: usize,
    iterations_per_chain: usize,
    warmup: usize,
    iterations_done: usize,
    iterations_min: usize,
    iterations_max: usize,
    /// Divergent kept draws, over all chains.
    divergences: usize,
    /// Divergent warmup iterations, over all chains.
    warmup_divergences: usize,
    step_size: Spread,
    tree_depth_mean: f64,
    /// Draws per shown chain behind the last R-hat, ESS and ranks (they lag the trace while
    /// the run is long).
    diagnostics_draws: usize,
    shown: Vec<ChainRow>,
    vars: Vec<VarView>,
    warmup_paths: Vec<WarmPath>,
}

/// Minimum, median and maximum over chains.
#[derive(Serialize)]
struct Spread {
    min: f64,
    median: f64,
    max: f64,
}

impl Spread {
    fn of_sorted(v: &[f64]) -> Spread {
        match v {
            [] => Spread { min: f64::NAN, median: f64::NAN, max: f64::NAN },
            _ => Spread { min: v[0], median: v[v.len() / 2], max: v[v.len() - 1] },
        }
    }
}

#[derive(Serialize)]
struct ChainRow {
    id: usize,
    iteration: usize,
    phase: &'static str,
    divergences: usize,
    warmup_divergences: usize,
    step_size: f64,
    tree_depth: u32,
}

#[derive(Serialize)]
struct VarView {
    name: String,
    mean: Option<f64>,
    sd: Option<f64>,
    draws_all_chains: usize,
    rhat_all_chains: Option<f64>,
    rhat: Option<f64>,
    ess_bulk: Option<f64>,
    ess_tail: Option<f64>,
    trace: Vec<Vec<f64>>,
    ranks: Vec<Vec<u32>>,
}

#[derive(Serialize)]
struct WarmPath {
    id: usize,
    step_size: Vec<f64>,
    tree_depth: Vec<f64>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classic_rhat_matches_the_formula_on_equal_chains() {
        let chains = [vec![1.0, 2.0, 3.0, 4.0], vec![2.0, 3.0, 4.0, 5.0]];
        let moments: Vec<Moment> = chains
            .iter()
            .map(|c| {
                let mut m = Moment::default();
                c.iter().for_each(|&x| m.add(x));
                m
            })
            .collect();
        // W = 5/3 (each chain's variance), B/n = var(2.5, 3.5) = 0.5, n = 4.
        let v: f64 = 0.75 * (5.0 / 3.0) + 0.5;
        let expected = (v / (5.0 / 3.0)).sqrt();
        assert!((classic_rhat(&moments).unwrap() - expected).abs() < 1e-12);
        let (n, mean, sd) = pooled_moments(&moments);
        assert_eq!(n, 8.0);
        assert!((mean - 3.0).abs() < 1e-12);
        let all: Vec<f64> = chains.concat();
        let var = all.iter().map(|x| (x - 3.0).powi(2)).sum::<f64>() / 7.0;
        assert!((sd - var.sqrt()).abs() < 1e-12);
    }

    #[test]
    fn stride_keeps_the_ends_and_bounds_the_length() {
        let v: Vec<f64> = (0..1001).map(f64::from).collect();
        let s = stride(&v);
        assert!(s.len() <= TRACE_POINTS + 1);
        assert_eq!(s[0], 0.0);
        assert_eq!(*s.last().unwrap(), 1000.0);
        assert_eq!(stride(&v[..10]), v[..10].to_vec());
    }

    #[test]
    fn rank_counts_cover_every_draw_once() {
        let pooled: Vec<f64> = (0..40).map(|i| f64::from((i * 7) % 40)).collect();
        let counts = rank_counts(&pooled, 2, 20);
        let total: u32 = counts.iter().flatten().sum();
        assert_eq!(total, 40);
        // 40 distinct values in 20 bins: two per bin over both chains.
        for (a, b) in counts[0].iter().zip(&counts[1]) {
            assert_eq!(a + b, 2);
        }
    }
}
