//! What a group's chains record, in three slabs for the whole group: warmup statistics, kept
//! draws' statistics and kept draws' constrained values (or, in large runs that nothing
//! reads while the chains run, their unconstrained positions: [`RunRecords::unconstrained`]),
//! with room for every iteration up front. A finished draw is written at an address its
//! chain and iteration decide, so the host loop reads no per-chain vector header before
//! writing, and the slabs are zeroed lazily by the system, page by page, as draws reach them,
//! or, where a core is free, by a thread that faults their pages in a little ahead of the
//! writers ([`crate::mem::Populator`]).
//!
//! Each slab is cut into the host loop's shards (consecutive runs of chains, see
//! [`Records::new`]), and each shard's part is laid out iteration by iteration: row `t` holds
//! iteration `t` of every chain of the shard, chain after chain. The chains of a group move
//! through their iterations nearly in step, so the draws one dispatch finishes land in a few
//! rows, next to each other: one page serves dozens of chains' records (chain by chain, each
//! chain's own row of iterations would put every draw on a page of its own, a TLB miss and
//! soon a page fault per draw at tens of thousands of chains). A chain's history is then
//! strided; [`ChainHistory`] reads it.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use super::sink::ChainHistory;
use crate::error::{Error, Result};
use crate::nuts::DrawStats;
use crate::nuts::mass_matrix::Welford;

/// One group's records (see the module docs).
pub(crate) struct Records {
    /// Faults the slabs' pages in ahead of the writers (declared first: dropped, and its
    /// thread joined, before the slabs are freed).
    populator: Option<crate::mem::Populator>,
    /// Rows reached by the writers (warmup iterations, then kept draws), for the populator.
    progress: Arc<AtomicUsize>,
    warmup: usize,
    kept: usize,
    per_draw: usize,
    /// Chains per shard (the last shard may hold fewer).
    shard: usize,
    warm: Vec<DrawStats>,
    stats: Vec<DrawStats>,
    values: Vec<f64>,
    /// Per chain: warmup iterations and kept draws recorded.
    lens: Vec<[usize; 2]>,
    /// Per chain: mean and variance of the kept draws on the unconstrained scale (only for
    /// backends holding positions in f32; empty otherwise).
    pub(crate) moments: Vec<Welford>,
}

/// A zeroed vector of `n` elements, or [`Error::TooLarge`] naming `what`.
fn zeroed<T: bytemuck::Zeroable>(n: usize, what: impl FnOnce() -> String) -> Result<Vec<T>> {
    bytemuck::allocation::try_zeroed_vec(n).map_err(|()| Error::TooLarge {
        what: what(),
        elements: n as u128,
        reason: "allocation failed".into(),
    })
}

impl Records {
    /// Room for `chains` chains of `warmup` warmup iterations' statistics (zero: the warmup
    /// is not recorded) and `kept` kept draws of `per_draw` values, in shards of `shard`
    /// chains (see [`Records::shards`]); with `moments` of dimension `dim` when `single`.
    /// With `populate`, slabs of at least [`crate::mem::POPULATE_MIN_BYTES`] are faulted in
    /// by a thread running ahead of the writers ([`crate::mem::Populator`]).
    pub(crate) fn new(
        chains: usize,
        (warmup, kept, per_draw): (usize, usize, usize),
        single: Option<usize>,
        shard: usize,
        populate: bool,
    ) -> Result<Records> {
        let what = |part: &'static str| move || format!("the {part} of {chains} chains");
        let size = |factors: &[usize], part| crate::mem::check_len(crate::mem::product(factors), what(part));
        let mut records = Records {
            populator: None,
            progress: Arc::new(AtomicUsize::new(0)),
            warmup,
            kept,
            per_draw,
            shard: shard.max(1),
            warm: zeroed(size(&[chains, warmup], "warmup statistics")?, what("warmup statistics"))?,
            stats: zeroed(size(&[chains, kept], "draw statistics")?, what("draw statistics"))?,
            values: zeroed(size(&[chains, kept, per_draw], "trace")?, what("trace"))?,
            lens: vec![[0; 2]; chains],
            moments: single.map_or_else(Vec::new, |dim| vec![Welford::new(dim); chains]),
        };
        let bytes = (records.warm.len() + records.stats.len()) * size_of::<DrawStats>()
            + records.values.len() * size_of::<f64>();
        if populate && bytes >= crate::mem::POPULATE_MIN_BYTES {
            // Huge pages only where the populator clears them: a writer clearing 2 MB at a
            // fault evicts its own working set from the caches (DECISIONS 77).
            if crate::mem::populating_works() {
                crate::mem::advise_huge(&records.warm);
                crate::mem::advise_huge(&records.stats);
                crate::mem::advise_huge(&records.values);
            }
            // At most an eighth of the run, or about 256 MB, ahead of the writers.
            let rows = warmup + kept;
            let lead = (rows / 8).min((256 << 20) / (bytes / rows).max(1)).max(1);
            let order = records.populate_order();
            records.populator = Some(crate::mem::Populator::start(order, records.progress.clone(), lead));
        }
        Ok(records)
    }

    /// The slabs' byte ranges (first row, address, length) in the order the writers reach
    /// them: the warmup statistics block of rows by block, every shard's part of a block in
    /// turn, then the kept draws' statistics and values likewise (their rows counted after
    /// the warmup's). Together they cover the three slabs exactly once.
    fn populate_order(&self) -> Vec<(usize, usize, usize)> {
        const BLOCKS: usize = 64;
        let chains = self.chains();
        let shards: Vec<(usize, usize)> =
            (0..chains).step_by(self.shard).map(|f| (f, self.shard.min(chains - f))).collect();
        let stats = size_of::<DrawStats>();
        let mut out = Vec::new();
        for (before, rows, slabs) in [
            (0, self.warmup, vec![(self.warm.as_ptr() as usize, stats)]),
            (
                self.warmup,
                self.kept,
                vec![
                    (self.stats.as_ptr() as usize, stats),
                    (self.values.as_ptr() as usize, self.per_draw * size_of::<f64>()),
                ],
            ),
        ] {
            let blocks = BLOCKS.min(rows);
            for b in 0..blocks {
                let (r0, r1) = (b * rows / blocks, (b + 1) * rows / blocks);
                for &(first, n) in &shards {
                    // Shard `first..first + n`'s rows `r0..r1`, `bytes` per chain and row.
                    for &(base, bytes) in &slabs {
                        out.push((
                            before + r0,
                            base + (first * rows + r0 * n) * bytes,
                            (r1 - r0) * n * bytes,
                        ));
                    }
                }
            }
        }
        out
    }

    /// Chains recorded.
    pub(crate) fn chains(&self) -> usize {
        self.lens.len()
    }

    /// Values per kept draw.
    pub(crate) fn per_draw(&self) -> usize {
        self.per_draw
    }

    /// Everything chain `c` recorded so far.
    ///
    /// # Panics
    /// If the group has no chain `c`.
    pub(crate) fn history(&self, c: usize) -> ChainHistory<'_> {
        assert!(c < self.chains(), "chain {c} of a group of {} chains", self.chains());
        let (first, i) = (c - c % self.shard, c % self.shard);
        let stride = self.shard.min(self.chains() - first);
        // Chain `c`'s first record in a slab of `per` elements per chain and iteration.
        let from = |per: usize, rows: usize| first * rows * per + i * per;
        ChainHistory::new(
            self.warm.get(from(1, self.warmup)..).unwrap_or(&[]),
            self.stats.get(from(1, self.kept)..).unwrap_or(&[]),
            self.values.get(from(self.per_draw, self.kept)..).unwrap_or(&[]),
            (stride, self.per_draw),
            self.lens[c],
        )
    }

    /// Mutable views of the shards' chains, consecutive runs of the `shard` chains given to
    /// [`Records::new`] (the last may hold fewer).
    pub(crate) fn shards(&mut self) -> Vec<Shard<'_>> {
        let size = self.shard;
        let shape = (self.warmup, self.kept, self.per_draw);
        let (mut warm, mut stats, mut values) =
            (&mut self.warm[..], &mut self.stats[..], &mut self.values[..]);
        let (mut lens, mut moments) = (&mut self.lens[..], &mut self.moments[..]);
        let progress = &*self.progress;
        let mut out = Vec::new();
        while !lens.is_empty() {
            let n = size.min(lens.len());
            out.push(Shard {
                shape,
                warm: cut(&mut warm, n * shape.0),
                stats: cut(&mut stats, n * shape.1),
                values: cut(&mut values, n * shape.1 * shape.2),
                lens: cut(&mut lens, n),
                moments: cut(&mut moments, n),
                progress,
                front: progress.load(Ordering::Relaxed),
            });
        }
        out
    }
}

/// The first `len` elements of `s` (fewer if it is shorter), leaving the rest in `s`.
fn cut<'a, T>(s: &mut &'a mut [T], len: usize) -> &'a mut [T] {
    let all = std::mem::take(s);
    let (head, rest) = all.split_at_mut(len.min(all.len()));
    *s = rest;
    head
}

/// The records of a run of consecutive chains of a group, as one shard of the host loop
/// writes them (chains indexed from the shard's first).
pub(crate) struct Shard<'a> {
    shape: (usize, usize, usize),
    warm: &'a mut [DrawStats],
    stats: &'a mut [DrawStats],
    values: &'a mut [f64],
    lens: &'a mut [[usize; 2]],
    moments: &'a mut [Welford],
    /// The group's rows reached (see [`Records::progress`]), and the furthest this shard
    /// has told it.
    progress: &'a AtomicUsize,
    front: usize,
}

impl Shard<'_> {
    /// Where iteration `row` of chain `i` sits in a slab of this shard (see the module docs).
    fn at(&self, row: usize, i: usize) -> usize {
        row * self.lens.len() + i
    }

    /// Records warmup iteration `iteration` of chain `i` (nothing in records made without
    /// rows for the warmup: see [`Records::new`]).
    pub(crate) fn warmup(&mut self, i: usize, iteration: usize, stats: DrawStats) {
        if self.shape.0 == 0 {
            return;
        }
        let at = self.at(iteration, i);
        self.warm[at] = stats;
        self.lens[i][0] = iteration + 1;
        self.reach(iteration + 1);
    }

    /// Records kept draw `draw` of chain `i` (unconstrained position `q`, for the moments of
    /// an f32 backend) and returns the room for its values.
    pub(crate) fn kept(&mut self, i: usize, draw: usize, stats: DrawStats, q: &[f64]) -> &mut [f64] {
        let per_draw = self.shape.2;
        let at = self.at(draw, i);
        self.stats[at] = stats;
        self.lens[i][1] = draw + 1;
        self.reach(self.shape.0 + draw + 1);
        if let Some(m) = self.moments.get_mut(i) {
            m.add(q);
        }
        &mut self.values[at * per_draw..(at + 1) * per_draw]
    }

    /// Tells the populator that this shard's writes reached row `row` (an atomic operation
    /// only when the row is further than any this shard, or the group, had reached).
    fn reach(&mut self, row: usize) {
        if row > self.front {
            self.front = row;
            self.progress.fetch_max(row, Ordering::Relaxed);
        }
    }

    /// Prefetches what iteration `iteration` of chain `i` will write (see
    /// [`crate::mem::prefetch`]), in a run of `warmup` warmup iterations keeping every
    /// `thin`-th draw: its statistics, and its values when it is a kept draw.
    pub(crate) fn prefetch(&self, i: usize, iteration: usize, (warmup, thin): (usize, usize)) {
        let per_draw = self.shape.2;
        crate::mem::prefetch(&self.lens[i..=i]);
        if iteration < warmup {
            let at = self.at(iteration, i);
            if let Some(s) = self.warm.get(at..=at) {
                crate::mem::prefetch(s);
            }
        } else if (iteration - warmup).is_multiple_of(thin) {
            let at = self.at((iteration - warmup) / thin, i);
            if at < self.stats.len() {
                crate::mem::prefetch(&self.stats[at..=at]);
                crate::mem::prefetch(&self.values[at * per_draw..(at + 1) * per_draw]);
            }
        }
    }
}

/// Every group's records of a run, and where each chain of the run sits among them.
pub(crate) struct RunRecords {
    groups: Vec<Records>,
    /// Per chain of the run, in its order: its group and its index there.
    order: Vec<(usize, usize)>,
    /// The kept draws are unconstrained positions (see
    /// [`Group::unconstrained`](super::driver::Group::unconstrained)).
    pub(crate) unconstrained: bool,
}

impl RunRecords {
    /// The records of `groups` (each with the global ids of its chains), ordered as `ids`
    /// (ids no group holds are left out), their kept draws `unconstrained` or not.
    pub(crate) fn new(groups: Vec<(Vec<usize>, Records)>, ids: &[usize], unconstrained: bool) -> RunRecords {
        let at: std::collections::HashMap<usize, (usize, usize)> = groups
            .iter()
            .enumerate()
            .flat_map(|(g, (chains, _))| chains.iter().enumerate().map(move |(i, &c)| (c, (g, i))))
            .collect();
        let order = ids.iter().filter_map(|c| at.get(c).copied()).collect();
        RunRecords { groups: groups.into_iter().map(|(_, r)| r).collect(), order, unconstrained }
    }

    /// Stops and joins every group's populator (the run is over: what is left to fault in
    /// will not be written, and threads waiting for the populators may go on).
    pub(crate) fn stop_populating(&mut self) {
        self.groups.iter_mut().for_each(|g| g.populator = None);
    }

    /// Everything each chain recorded, in the run's order.
    pub(crate) fn histories(&self) -> Vec<ChainHistory<'_>> {
        self.order.iter().map(|&(g, i)| self.groups[g].history(i)).collect()
    }

    /// The kept draws' moments of each chain, in the run's order (empty unless positions were
    /// f32).
    pub(crate) fn moments(&self) -> Vec<Welford> {
        self.order.iter().filter_map(|&(g, i)| self.groups[g].moments.get(i).cloned()).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stats(lp: f64) -> DrawStats {
        DrawStats { lp, ..DrawStats::default() }
    }

    /// Shards write their own chains' rows, and each chain's history holds exactly what was
    /// written to it, in order, whatever the shard size (the last shard a short one or not).
    #[test]
    fn shards_write_each_chains_rows() {
        let (chains, warmup, kept, per_draw) = (5, 3, 2, 2);
        for size in [1, 2, 5, 9] {
            let mut r = Records::new(chains, (warmup, kept, per_draw), Some(1), size, false).unwrap();
            for (s, shard) in r.shards().iter_mut().enumerate() {
                for i in 0..shard.lens.len() {
                    let c = (s * size + i) as f64;
                    for it in 0..warmup - (i % 2) {
                        shard.warmup(i, it, stats(100.0 * c + it as f64));
                    }
                    for d in 0..kept - (i % 2) {
                        let v = shard.kept(i, d, stats(-c - d as f64), &[c]);
                        v.copy_from_slice(&[c, c + 0.5 + d as f64]);
                    }
                }
            }
            assert_eq!(r.chains(), chains);
            for c in 0..chains {
                let h = r.history(c);
                let cf = c as f64;
                let local = c % size;
                let want_warm: Vec<f64> =
                    (0..warmup - (local % 2)).map(|it| 100.0 * cf + it as f64).collect();
                assert_eq!(h.warmup().map(|s| s.lp).collect::<Vec<_>>(), want_warm, "size {size} chain {c}");
                assert_eq!(h.warmup_len(), want_warm.len());
                let draws = kept - (local % 2);
                assert_eq!(h.kept_len(), draws);
                let want_kept: Vec<f64> = (0..draws).map(|d| -cf - d as f64).collect();
                assert_eq!(h.kept().map(|s| s.lp).collect::<Vec<_>>(), want_kept, "size {size} chain {c}");
                for d in 0..draws {
                    assert_eq!(h.values(d), &[cf, cf + 0.5 + d as f64], "size {size} chain {c} draw {d}");
                }
                assert_eq!(r.moments[c].count(), draws);
                assert_eq!(r.moments[c].mean(), &[cf]);
            }
        }
    }

    /// The populator's ranges tile the slabs, and each is labelled with a row no later than
    /// any record it holds (the row the writers reach it at).
    #[test]
    fn the_populated_ranges_cover_each_slab_once_in_row_order() {
        // Shards of 3, 3 and 1 chains; fewer rows than blocks, more rows than blocks, none.
        for (warmup, kept, per_draw) in [(5, 7, 3), (130, 70, 2), (0, 9, 1), (4, 0, 2)] {
            let r = Records::new(7, (warmup, kept, per_draw), None, 3, false).unwrap();
            let slabs = [
                (r.warm.as_ptr() as usize, r.warm.len() * size_of::<DrawStats>()),
                (r.stats.as_ptr() as usize, r.stats.len() * size_of::<DrawStats>()),
                (r.values.as_ptr() as usize, r.values.len() * size_of::<f64>()),
            ];
            let order = r.populate_order();
            let rows: Vec<usize> = order.iter().map(|&(row, _, _)| row).collect();
            assert!(rows.is_sorted(), "ranges in row order: {rows:?}");
            let ranges: Vec<(usize, usize)> =
                order.into_iter().filter(|&(_, _, n)| n > 0).map(|(_, a, n)| (a, n)).collect();
            for (k, &(base, len)) in slabs.iter().enumerate() {
                let mut mine: Vec<(usize, usize)> =
                    ranges.iter().copied().filter(|&(a, _)| a >= base && a < base + len).collect();
                // In row order within each shard: a shard's ranges come in ascending addresses.
                for &(first, n) in &[(0, 3), (3, 3), (6, 1)] {
                    let rows = if k == 0 { warmup } else { kept };
                    let per = len / (7 * rows.max(1));
                    let (lo, hi) = (base + first * rows * per, base + (first + n) * rows * per);
                    let shard: Vec<usize> =
                        mine.iter().filter(|&&(a, _)| a >= lo && a < hi).map(|&(a, _)| a).collect();
                    assert!(shard.is_sorted(), "slab {k} shard {first}: {shard:?}");
                }
                mine.sort_unstable();
                let mut at = base;
                for (a, n) in mine {
                    assert_eq!(a, at, "slab {k} of {:?}: a gap or an overlap", (warmup, kept, per_draw));
                    at = a + n;
                }
                assert_eq!(at, base + len, "slab {k} of {:?} covered to its end", (warmup, kept, per_draw));
            }
            let inside = |&(a, n): &(usize, usize)| slabs.iter().any(|&(b, l)| a >= b && a + n <= b + l);
            assert!(ranges.iter().all(inside), "every range lies in a slab");
            // Each record lies in a range whose row the writers reach no later than the record.
            let order = r.populate_order();
            let row_of = |addr: usize| {
                order.iter().find(|&&(_, a, n)| addr >= a && addr < a + n).map(|&(row, _, _)| row)
            };
            let mut r = r;
            let mut shards = r.shards();
            for (k, shard) in shards.iter_mut().enumerate() {
                for i in 0..shard.lens.len() {
                    for t in 0..warmup {
                        let at = shard.at(t, i);
                        let addr = shard.warm[at..].as_ptr() as usize;
                        let row = row_of(addr).expect("a warmup record in a range");
                        assert!(row <= t, "shard {k} chain {i} warmup {t}: range row {row}");
                    }
                    for d in 0..kept {
                        let record = shard.stats[shard.at(d, i)..].as_ptr() as usize;
                        let values = shard.kept(i, d, stats(0.0), &[]).as_ptr() as usize;
                        for addr in [record, values] {
                            let row = row_of(addr).expect("a kept record in a range");
                            assert!(row <= warmup + d, "shard {k} chain {i} draw {d}: range row {row}");
                        }
                    }
                }
            }
        }
    }

    /// A shard's records are laid out iteration by iteration: the same iteration of
    /// consecutive chains sits side by side.
    #[test]
    fn one_iteration_of_a_shards_chains_is_contiguous() {
        let mut r = Records::new(4, (2, 2, 3), None, 4, false).unwrap();
        let mut shards = r.shards();
        let shard = &mut shards[0];
        let rows: Vec<usize> = (0..4).map(|i| shard.kept(i, 1, stats(0.0), &[]).as_ptr() as usize).collect();
        for i in 1..4 {
            assert_eq!(rows[i] - rows[i - 1], 3 * size_of::<f64>(), "values of chain {i}");
        }
        shard.warmup(0, 1, stats(1.0));
        shard.warmup(1, 1, stats(2.0));
        assert_eq!(shard.warm[4..6].iter().map(|s| s.lp).collect::<Vec<_>>(), [1.0, 2.0]);
        drop(shards);
        // A history prints its counts and layout, not the group's slabs it reads from.
        let h = format!("{:?}", r.history(1));
        assert_eq!(h, "ChainHistory { warmup_len: 2, kept_len: 2, stride: 4, per_draw: 3 }");
    }

    /// A slab too large to address is a typed error naming it, not an abort.
    #[test]
    fn an_unaddressable_trace_is_an_error() {
        let e = Records::new(1 << 40, (0, 1 << 20, 1 << 10), None, 1, true).err().expect("too large");
        assert!(e.to_string().contains("draw statistics of 1099511627776 chains"), "{e}");
        let e = Records::new(1 << 10, (0, 1, 1 << 60), None, 1, true).err().expect("too large");
        assert!(e.to_string().contains("trace of 1024 chains"), "{e}");
    }
}
