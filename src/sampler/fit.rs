//! The result of a run: the trace, what the compiler did, timings and diagnostics.

use super::driver::DriveCounters;
use super::sink::{ChainHistory, TraceVarInfo};
use super::trace::{Draws, Trace, TraceVar, moments};
use crate::Error;
use crate::backend::cpu::Executor;
use crate::compile::{Compiled, PointMap};
use crate::diagnostics::{self, Summary};
use crate::nuts::DrawStats;
use rayon::prelude::*;

/// Wall-clock times of a run.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Timing {
    /// Rewriting and compiling.
    pub compile_s: f64,
    /// Initialisation, warmup and draws; and the gathering of the trace where the kept draws
    /// were constrained there ([`DriveCounters::constrained_after_loop`]).
    pub sampling_s: f64,
}

/// Where each trace variable lies in one draw's constrained outputs (the constrain program's
/// outputs, concatenated), in model order: what the trace and the trace files are built from.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct TraceLayout {
    /// Variables in model order.
    pub vars: Vec<TraceVarInfo>,
}

impl TraceLayout {
    pub(crate) fn new(compiled: &Compiled) -> TraceLayout {
        let outputs = &compiled.constrain.outputs;
        let sizes: Vec<usize> = compiled.output_shapes.iter().map(|s| s.len()).collect();
        let position =
            |name: &str| compiled.model.nodes().iter().position(|n| n.name == name).unwrap_or(usize::MAX);
        let mut order: Vec<usize> = (0..outputs.len()).collect();
        order.sort_by_key(|&k| position(&outputs[k].0));
        let offset = |k: usize| sizes[..k].iter().sum::<usize>();
        let vars = order
            .into_iter()
            .map(|k| TraceVarInfo {
                name: outputs[k].0.clone(),
                shape: compiled.output_shapes[k].dims(),
                labels: compiled
                    .model
                    .nodes()
                    .iter()
                    .find(|n| n.name == outputs[k].0)
                    .and_then(|n| n.labels.clone()),
                offset: offset(k),
            })
            .collect();
        TraceLayout { vars }
    }

    /// One chain of `points` (unconstrained positions), each constrained by `constrain` (the
    /// compiled constrain program), laid out as trace variables in model order.
    pub(crate) fn constrained(&self, constrain: &Executor, points: &[Vec<f64>]) -> Vec<TraceVar> {
        let mut ws = constrain.workspace();
        let mut row = vec![0.0; constrain.outputs_len()];
        let mut vars: Vec<TraceVar> = self
            .vars
            .iter()
            .map(|l| TraceVar {
                name: l.name.clone(),
                shape: l.shape.clone(),
                values: Vec::with_capacity(points.len() * l.size()),
                labels: l.labels.clone(),
            })
            .collect();
        for u in points {
            constrain.run(&mut ws, u, &mut []);
            constrain.copy_outputs(&ws, &mut row);
            for (l, v) in self.vars.iter().zip(&mut vars) {
                v.values.extend_from_slice(&row[l.offset..l.offset + l.size()]);
            }
        }
        vars
    }
}

/// A finished (or cancelled) run.
#[derive(Clone, Debug)]
pub struct Fit {
    /// Draws and statistics.
    pub trace: Trace,
    /// Nodes automatic non-centring rewrote.
    pub noncentered: Vec<String>,
    /// Transformed observations, `name (steps)`: observed functions of a draw whose density
    /// is the family's at the inverse plus its log-Jacobian.
    pub measured: Vec<String>,
    /// Backend that ran the chains.
    pub backend: String,
    /// Layout of the unconstrained space.
    pub pointmap: PointMap,
    /// Timings.
    pub timing: Timing,
    /// Batched step calls and leaf steps.
    pub counters: DriveCounters,
    /// The run's warmup iterations per chain, as set (a run cancelled early ran fewer), whether
    /// or not the trace's `warmup_stats` hold them
    /// ([`Sampler::keep_warmup_stats`](super::Sampler::keep_warmup_stats)). A fit read back
    /// from disk takes the length of its warmup statistics.
    pub warmup: usize,
    /// Whether the run stopped early (the trace holds the draws every chain completed).
    pub cancelled: bool,
    /// What the run itself found wrong (e.g. f32 kernels too coarse for a variable), in
    /// words with the remedy; [`Fit::summary`] prints them with its own warnings.
    pub warnings: Vec<String>,
}

/// The trace's buffers, made and faulted in before the chains finish (on a core the run
/// leaves free, DECISIONS 76), for [`Fit::assemble`] to fill: a fresh buffer's pages are
/// zeroed by the system at the first write, which on a virtual machine returning freed memory
/// to its host costs more than the copy itself.
#[derive(Debug, Default)]
pub(crate) struct TraceBuffers {
    /// Draws per chain the value buffers are laid out for.
    draws: usize,
    /// Per variable: `chains × draws × size` values.
    values: Vec<Vec<f64>>,
    /// Per chain: room for its kept draws' and its warmup's statistics.
    stats: Vec<Vec<DrawStats>>,
    warmup_stats: Vec<Vec<DrawStats>>,
}

impl TraceBuffers {
    /// Buffers for `chains` chains of `draws` kept draws of variables of `sizes` values and
    /// `warmup` warmup iterations, their pages faulted in (see [`crate::mem::populate_when_idle`])
    /// until `stop` says the run is over or cancelled; None when an allocation fails (the
    /// gathering then allocates as it goes). Everything is allocated at once (the value
    /// buffers' pages untouched where they are fresh mappings; the statistics vectors'
    /// allocator headers touch about half of theirs), and faulted in once no record populator
    /// is alive.
    pub(crate) fn prepare(
        sizes: &[usize],
        chains: usize,
        (draws, warmup): (usize, usize),
        stop: &dyn Fn() -> bool,
    ) -> Option<TraceBuffers> {
        let mut values = Vec::with_capacity(sizes.len());
        for &size in sizes {
            let v: Vec<f64> =
                bytemuck::allocation::try_zeroed_vec(chains.checked_mul(draws)?.checked_mul(size)?).ok()?;
            crate::mem::advise_huge(&v);
            crate::mem::populate_when_idle(&v, stop);
            values.push(v);
        }
        let rooms = |n: usize| -> Option<Vec<Vec<DrawStats>>> {
            let mut out = Vec::new();
            out.try_reserve_exact(chains).ok()?;
            for _ in 0..chains {
                let mut v = Vec::new();
                v.try_reserve_exact(n).ok()?;
                crate::mem::populate_when_idle(&v, stop);
                out.push(v);
            }
            Some(out)
        };
        Some(TraceBuffers { draws, values, stats: rooms(draws)?, warmup_stats: rooms(warmup)? })
    }
}

/// The thread making a run's [`TraceBuffers`] (see [`crate::Sampler`]'s `trace_buffers`).
/// Dropped without [`Preparer::finish`] (a failed run), it tells the thread to stop.
pub(crate) struct Preparer {
    thread: Option<std::thread::JoinHandle<Option<TraceBuffers>>>,
    /// Raised when the run's loop is over: the thread stops faulting pages in.
    done: std::sync::Arc<std::sync::atomic::AtomicBool>,
}

impl Preparer {
    /// Starts making buffers for `chains` chains of `(draws, warmup)` iterations of variables
    /// of `sizes` values, at the lowest priority; the faulting stops when `cancel` does.
    pub(crate) fn start(
        sizes: Vec<usize>,
        chains: usize,
        shape: (usize, usize),
        cancel: super::CancelToken,
    ) -> Option<Preparer> {
        let done = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let flag = done.clone();
        let thread = std::thread::Builder::new()
            .name("exmc-trace-buffers".into())
            .spawn(move || {
                crate::mem::lowest_priority();
                let stop = || cancel.is_cancelled() || flag.load(std::sync::atomic::Ordering::Relaxed);
                TraceBuffers::prepare(&sizes, chains, shape, &stop)
            })
            .ok()?;
        Some(Preparer { thread: Some(thread), done })
    }

    /// The buffers, once the thread has stopped faulting (told that the loop is over).
    pub(crate) fn finish(mut self) -> Option<TraceBuffers> {
        self.done.store(true, std::sync::atomic::Ordering::Relaxed);
        self.thread.take()?.join().ok().flatten()
    }
}

impl Drop for Preparer {
    fn drop(&mut self) {
        self.done.store(true, std::sync::atomic::Ordering::Relaxed);
    }
}

/// Chains per block when the strided records are gathered chain by chain.
const BLOCK: usize = 64;

/// The first `draws` kept draws' values of every chain, one chain-major vector per variable.
/// The records are strided per chain (a group records iteration by iteration), so they are
/// read [`BLOCK`] chains at a time, draw by draw, each row serving the block's chains; blocks
/// run in parallel on the caller's rayon pool.
///
/// `made`: buffers of exactly the right lengths, used instead of fresh ones. With `constrain`,
/// the records hold unconstrained positions (see
/// [`records_unconstrained`](super::driver::records_unconstrained)): each is constrained here,
/// as the host loop would have done, before its values are laid out.
fn gather_values(
    layout: &TraceLayout,
    (records, constrain): (&[ChainHistory<'_>], Option<&Executor>),
    draws: usize,
    made: Option<Vec<Vec<f64>>>,
) -> Vec<Vec<f64>> {
    let chains = records.len();
    let lens: Vec<usize> = layout.vars.iter().map(|l| chains * draws * l.size()).collect();
    let mut values: Vec<Vec<f64>> = match made.filter(|v| v.iter().map(Vec::len).eq(lens.iter().copied())) {
        Some(v) => v,
        None => lens
            .iter()
            .map(|&n| {
                let v = vec![0.0; n];
                crate::mem::advise_huge(&v);
                v
            })
            .collect(),
    };
    // Each block's part of every variable.
    let mut parts: Vec<Vec<&mut [f64]>> = (0..chains.div_ceil(BLOCK)).map(|_| Vec::new()).collect();
    for (l, out) in layout.vars.iter().zip(&mut values) {
        let mut rest = &mut out[..];
        for (b, part) in parts.iter_mut().enumerate() {
            let (head, tail) =
                std::mem::take(&mut rest).split_at_mut(BLOCK.min(chains - b * BLOCK) * draws * l.size());
            part.push(head);
            rest = tail;
        }
    }
    parts.into_par_iter().zip(records.par_chunks(BLOCK)).for_each(|(mut outs, block)| {
        let mut ws = constrain.map(Executor::workspace).unwrap_or_default();
        let mut constrained = vec![0.0; constrain.map_or(0, Executor::outputs_len)];
        for d in 0..draws {
            for (k, r) in block.iter().enumerate() {
                let row = match constrain {
                    Some(c) => {
                        c.run(&mut ws, r.values(d), &mut []);
                        c.copy_outputs(&ws, &mut constrained);
                        &constrained[..]
                    }
                    None => r.values(d),
                };
                for (l, out) in layout.vars.iter().zip(outs.iter_mut()) {
                    let at = (k * draws + d) * l.size();
                    out[at..at + l.size()].copy_from_slice(&row[l.offset..l.offset + l.size()]);
                }
            }
        }
    });
    values
}

/// Every chain's statistics as `of` lists them, at most `rows` of each, gathered like
/// [`gather_values`], into `made`'s vectors (one per chain, emptied first) where given.
fn gather_stats<'a, I>(
    records: &[ChainHistory<'a>],
    rows: usize,
    of: impl Fn(&ChainHistory<'a>) -> I + Sync,
    made: Vec<Vec<DrawStats>>,
) -> Vec<Vec<DrawStats>>
where
    I: Iterator<Item = &'a DrawStats>,
{
    let mut out = made;
    out.truncate(records.len());
    out.resize_with(records.len(), || Vec::with_capacity(rows));
    out.par_chunks_mut(BLOCK).zip(records.par_chunks(BLOCK)).for_each(|(out, block)| {
        out.iter_mut().for_each(Vec::clear);
        let mut its: Vec<I> = block.iter().map(&of).collect();
        for _ in 0..rows {
            out.iter_mut().zip(&mut its).for_each(|(o, it)| o.extend(it.next().copied()));
        }
    });
    out
}

impl Fit {
    /// A fit read back from disk (a run directory's Zarr store, CmdStan CSV files): the
    /// trace alone, for what takes a [`Fit`] — [`posterior_predictive`](super::posterior_predictive),
    /// [`log_likelihood`](super::log_likelihood), LOO. It has no timings, counters or layout
    /// of the unconstrained space; its backend reads `"read from disk"`.
    pub fn from_trace(trace: Trace) -> Fit {
        let warmup = trace.warmup_stats.first().map_or(0, Vec::len);
        Fit {
            trace,
            noncentered: Vec::new(),
            measured: Vec::new(),
            backend: "read from disk".into(),
            pointmap: PointMap::default(),
            timing: Timing::default(),
            counters: DriveCounters::default(),
            warmup,
            cancelled: false,
            warnings: Vec::new(),
        }
    }

    /// The fit of draws that no Markov chain made (an approximation's draws, a particle
    /// population): `points` are unconstrained coordinates, `chains` equal runs of them one
    /// after another, `lp` each one's log density, which becomes its [`DrawStats::unsampled`]
    /// statistics. The non-centred variables and measured observations are the compiler's.
    pub(crate) fn from_points(
        compiled: &Compiled,
        constrain: &Executor,
        (points, lp): (&[Vec<f64>], &[f64]),
        chains: usize,
        backend: &str,
        timing: Timing,
    ) -> Fit {
        debug_assert!(lp.len() == points.len() && points.len() % chains.max(1) == 0);
        let draws = points.len() / chains.max(1);
        let stats = if draws == 0 {
            vec![Vec::new(); chains]
        } else {
            lp.chunks(draws).map(|c| c.iter().map(|&lp| DrawStats::unsampled(lp)).collect()).collect()
        };
        let trace = Trace {
            chains,
            draws,
            vars: TraceLayout::new(compiled).constrained(constrain, points),
            stats,
            warmup_stats: vec![Vec::new(); chains],
        };
        Fit {
            backend: backend.into(),
            pointmap: compiled.pointmap.clone(),
            measured: compiled.measured.clone(),
            noncentered: compiled.noncentered.clone(),
            timing,
            ..Fit::from_trace(trace)
        }
    }

    /// The fit of a run's records, gathered into `made` where its buffers fit.
    pub(crate) fn assemble(
        compiled: &Compiled,
        (records, constrain): (&[ChainHistory<'_>], Option<&Executor>),
        made: Option<TraceBuffers>,
        counters: DriveCounters,
        backend: String,
        timing: Timing,
        cancelled: bool,
    ) -> Fit {
        let layout = TraceLayout::new(compiled);
        let draws = records.iter().map(ChainHistory::kept_len).min().unwrap_or(0);
        let chains = records.len();
        // Made for every planned draw: a cancelled run's are dropped (their value layout does
        // not fit, and its statistics would keep room for draws never made).
        let made = made.filter(|m| m.draws == draws).unwrap_or_default();
        let values = gather_values(&layout, (records, constrain), draws, Some(made.values));
        let vars = layout
            .vars
            .iter()
            .zip(values)
            .map(|(l, values)| TraceVar {
                name: l.name.clone(),
                shape: l.shape.clone(),
                values,
                labels: l.labels.clone(),
            })
            .collect();
        let stats = gather_stats(records, draws, ChainHistory::kept, made.stats);
        let longest = records.iter().map(ChainHistory::warmup_len).max().unwrap_or(0);
        let warmup_stats = gather_stats(records, longest, ChainHistory::warmup, made.warmup_stats);
        Fit {
            trace: Trace { chains, draws, vars, stats, warmup_stats },
            noncentered: compiled.noncentered.clone(),
            measured: compiled.measured.clone(),
            backend,
            pointmap: compiled.pointmap.clone(),
            timing,
            counters,
            warmup: longest,
            cancelled,
            warnings: Vec::new(),
        }
    }

    /// ArviZ-style summary of every scalar (mean, sd, hdi 3%–97%, mcse, ess, r_hat), with the
    /// warnings its numbers call for (see [`Summary::new`]) after the run's own
    /// ([`Fit::warnings`]) and a count of divergences.
    pub fn summary(&self) -> Summary {
        let mut s = self.trace.summary();
        let mut own = self.warnings.clone();
        own.append(&mut s.warnings);
        s.warnings = own;
        s
    }

    /// The draws of variable `name` (free, deterministic) with their shape `[chains, draws,
    /// element dims…]` and coordinate labels.
    ///
    /// ```
    /// # use exmc::prelude::*;
    /// # fn main() -> exmc::Result<()> {
    /// let mut m = Model::new();
    /// let beta = m.rv_vec("beta", Normal::new(0, 1), 3)?;
    /// m.observe("y", Normal::new(beta.sum(), 1), &[0.5, 1.5])?;
    /// let fit = Sampler::new(&m).chains(2).warmup(200).draws(100).progress(false).run()?;
    /// let beta = fit.draws("beta")?;
    /// assert_eq!(beta.shape(), vec![2, 100, 3]);
    /// assert_eq!(beta.mean().len(), 3);
    /// let b2 = fit.mean("beta[2]")?; // one element, by index or coordinate label
    /// assert!((b2 - beta.mean()[2]).abs() < 1e-12);
    /// # Ok(())
    /// # }
    /// ```
    pub fn draws(&self, name: &str) -> crate::Result<Draws<'_>> {
        self.trace.draws(name).ok_or_else(|| self.unknown(name))
    }

    /// Posterior mean of a scalar: a scalar variable (`"mu"`) or one element (`"beta[3]"`,
    /// `"a[Aitkin]"`). For every element of a vector: `fit.draws("beta")?.mean()`.
    pub fn mean(&self, name: &str) -> crate::Result<f64> {
        self.scalar_draws(name).map(|v| moments(v.iter()).0)
    }

    /// Posterior standard deviation (`n − 1` denominator) of a scalar, named as for
    /// [`Fit::mean`].
    pub fn sd(&self, name: &str) -> crate::Result<f64> {
        self.scalar_draws(name).map(|v| moments(v.iter()).1)
    }

    fn scalar_draws(&self, name: &str) -> crate::Result<Vec<f64>> {
        let (var, e) = self.trace.scalar(name).ok_or_else(|| self.unknown(name))?;
        Ok(self.trace.chains_of(&var.name, e).unwrap_or_default().concat())
    }

    /// The error for a name the trace lacks, listing what it has.
    fn unknown(&self, name: &str) -> Error {
        let vector = self.trace.var(name).filter(|v| v.size() > 1);
        let reason = match vector {
            Some(v) => format!(
                "`{name}` has {} elements: name one (`{}`), or use fit.draws(\"{name}\")",
                v.size(),
                v.element_name(0)
            ),
            None => {
                let names: Vec<&str> = self.trace.vars.iter().map(|v| v.name.as_str()).collect();
                format!("no variable or element `{name}` in the trace (variables: {})", names.join(", "))
            }
        };
        Error::InvalidOption { option: "variable", reason }
    }

    /// E-BFMI of each chain.
    pub fn bfmi(&self) -> Vec<f64> {
        self.trace.bfmi()
    }

    /// Divergent draws after warmup.
    pub fn divergences(&self) -> usize {
        self.trace.divergences()
    }

    /// Minimum bulk ESS over every scalar.
    pub fn min_ess_bulk(&self) -> f64 {
        self.trace
            .scalars()
            .iter()
            .map(|(_, c)| diagnostics::ess_bulk(&c.iter().map(Vec::as_slice).collect::<Vec<_>>()))
            .fold(f64::INFINITY, f64::min)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sampler::records::Records;

    /// Gathering strided records chain by chain: 130 chains (two full blocks and a short one)
    /// recorded in shards of 50, 50 and 30, each chain with its own count of warmup
    /// iterations and kept draws, give every chain's values and statistics in order.
    #[test]
    fn gathering_strided_records_gives_each_chain_in_order() {
        let (chains, warmup, kept) = (130, 3, 4);
        let info = |name: &str, shape: Vec<usize>, offset| TraceVarInfo {
            name: name.into(),
            shape,
            labels: None,
            offset,
        };
        let layout = TraceLayout { vars: vec![info("a", vec![], 0), info("b", vec![2], 1)] };
        let mut r = Records::new(chains, (warmup, kept, 3), None, 50, false).unwrap();
        let draws_of = |c: usize| kept - usize::from(c.is_multiple_of(5));
        for (s, mut shard) in r.shards().into_iter().enumerate() {
            for c in s * 50..(s * 50 + 50).min(chains) {
                let i = c - s * 50;
                for t in 0..1 + c % 3 {
                    shard.warmup(i, t, DrawStats { lp: (100 * c + t) as f64, ..DrawStats::default() });
                }
                for d in 0..draws_of(c) {
                    let stats = DrawStats { lp: -((100 * c + d) as f64), ..DrawStats::default() };
                    let v = shard.kept(i, d, stats, &[]);
                    v.copy_from_slice(&[c as f64, (10 * c + d) as f64, (1000 * c + d) as f64]);
                }
            }
        }
        let records: Vec<ChainHistory<'_>> = (0..chains).map(|c| r.history(c)).collect();
        let draws = kept - 1;
        // Fresh buffers, and made ones holding junk: values of the right lengths (used, every
        // element overwritten), statistics vectors too few or too many, already filled.
        let mut made = TraceBuffers::prepare(&[1, 2], chains, (draws, warmup), &|| false).unwrap();
        made.values.iter_mut().for_each(|v| v.fill(f64::NAN));
        let junk = DrawStats { lp: f64::NAN, ..DrawStats::default() };
        made.stats.iter_mut().for_each(|v| v.extend([junk, junk]));
        let at: Vec<usize> = made.values.iter().map(|v| v.as_ptr() as usize).collect();
        let values = gather_values(&layout, (&records, None), draws, None);
        let reused = gather_values(&layout, (&records, None), draws, Some(made.values));
        assert_eq!(reused.iter().map(|v| v.as_ptr() as usize).collect::<Vec<_>>(), at, "the made buffers");
        assert_eq!(reused, values);
        assert_eq!((values[0].len(), values[1].len()), (chains * draws, chains * draws * 2));
        let wrong = vec![vec![f64::NAN; 3]; 2];
        assert_eq!(
            gather_values(&layout, (&records, None), draws, Some(wrong)),
            values,
            "wrong lengths: fresh ones"
        );
        let stats = gather_stats(&records, draws, ChainHistory::kept, Vec::new());
        let warm = gather_stats(&records, warmup, ChainHistory::warmup, Vec::new());
        assert_eq!(gather_stats(&records, draws, ChainHistory::kept, made.stats[..7].to_vec()), stats);
        let mut more = made.stats.clone();
        more.extend(made.stats[..9].iter().cloned());
        assert_eq!(gather_stats(&records, draws, ChainHistory::kept, more), stats);
        assert_eq!(gather_stats(&records, warmup, ChainHistory::warmup, made.warmup_stats), warm);
        for c in 0..chains {
            for d in 0..draws {
                let k = c * draws + d;
                assert_eq!(values[0][k], c as f64, "chain {c} draw {d}");
                assert_eq!(values[1][2 * k..2 * k + 2], [(10 * c + d) as f64, (1000 * c + d) as f64]);
            }
            let lp = |v: &Vec<DrawStats>| v.iter().map(|s| s.lp).collect::<Vec<_>>();
            assert_eq!(lp(&stats[c]), (0..draws).map(|d| -((100 * c + d) as f64)).collect::<Vec<_>>());
            assert_eq!(lp(&warm[c]), (0..1 + c % 3).map(|t| (100 * c + t) as f64).collect::<Vec<_>>());
        }
    }
}
