//! What a group's chains record, in three slabs for the whole group: warmup statistics, kept
//! draws' statistics and kept draws' constrained values, each chain-major with room for every
//! iteration up front. A finished draw is written at an address its chain and iteration
//! decide, so the host loop reads no per-chain vector header before writing (at tens of
//! thousands of chains those headers and the draws' lines are all cache misses), and the
//! slabs are zeroed lazily by the system, page by page, as draws reach them.

use super::sink::ChainHistory;
use crate::error::{Error, Result};
use crate::nuts::DrawStats;
use crate::nuts::mass_matrix::Welford;

/// One group's records (see the module docs).
pub(crate) struct Records {
    warmup: usize,
    kept: usize,
    per_draw: usize,
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
    /// Room for `chains` chains of `warmup` warmup iterations and `kept` kept draws of
    /// `per_draw` values; with `moments` of dimension `dim` when `single`.
    pub(crate) fn new(
        chains: usize,
        (warmup, kept, per_draw): (usize, usize, usize),
        single: Option<usize>,
    ) -> Result<Records> {
        let what = |part: &'static str| move || format!("the {part} of {chains} chains");
        let size = |factors: &[usize], part| crate::mem::check_len(crate::mem::product(factors), what(part));
        let records = Records {
            warmup,
            kept,
            per_draw,
            warm: zeroed(size(&[chains, warmup], "warmup statistics")?, what("warmup statistics"))?,
            stats: zeroed(size(&[chains, kept], "draw statistics")?, what("draw statistics"))?,
            values: zeroed(size(&[chains, kept, per_draw], "trace")?, what("trace"))?,
            lens: vec![[0; 2]; chains],
            moments: single.map_or_else(Vec::new, |dim| vec![Welford::new(dim); chains]),
        };
        Ok(records)
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
    pub(crate) fn history(&self, c: usize) -> ChainHistory<'_> {
        let [w, k] = self.lens[c];
        let (w0, k0) = (c * self.warmup, c * self.kept);
        ChainHistory {
            warmup: &self.warm[w0..w0 + w],
            kept: &self.stats[k0..k0 + k],
            values: &self.values[k0 * self.per_draw..(k0 + k) * self.per_draw],
        }
    }

    /// Mutable views of consecutive runs of `size` chains (the last may hold fewer).
    pub(crate) fn shards(&mut self, size: usize) -> Vec<Shard<'_>> {
        let size = size.max(1);
        let shape = (self.warmup, self.kept, self.per_draw);
        let (mut warm, mut stats, mut values) =
            (&mut self.warm[..], &mut self.stats[..], &mut self.values[..]);
        let (mut lens, mut moments) = (&mut self.lens[..], &mut self.moments[..]);
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
}

impl Shard<'_> {
    /// Records warmup iteration `iteration` of chain `i`.
    pub(crate) fn warmup(&mut self, i: usize, iteration: usize, stats: DrawStats) {
        self.warm[i * self.shape.0 + iteration] = stats;
        self.lens[i][0] = iteration + 1;
    }

    /// Records kept draw `draw` of chain `i` (unconstrained position `q`, for the moments of
    /// an f32 backend) and returns the room for its values.
    pub(crate) fn kept(&mut self, i: usize, draw: usize, stats: DrawStats, q: &[f64]) -> &mut [f64] {
        let (_, kept, per_draw) = self.shape;
        let at = i * kept + draw;
        self.stats[at] = stats;
        self.lens[i][1] = draw + 1;
        if let Some(m) = self.moments.get_mut(i) {
            m.add(q);
        }
        &mut self.values[at * per_draw..(at + 1) * per_draw]
    }

    /// Prefetches what iteration `iteration` of chain `i` will write (see
    /// [`crate::mem::prefetch`]): its statistics, and its values when it is a kept draw.
    pub(crate) fn prefetch(&self, i: usize, iteration: usize, thin: usize) {
        let (warmup, kept, per_draw) = self.shape;
        crate::mem::prefetch(&self.lens[i..=i]);
        if iteration < warmup {
            crate::mem::prefetch(&self.warm[i * warmup + iteration..][..1]);
        } else if (iteration - warmup).is_multiple_of(thin) {
            let at = i * kept + (iteration - warmup) / thin;
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
}

impl RunRecords {
    /// The records of `groups` (each with the global ids of its chains), ordered as `ids`
    /// (ids no group holds are left out).
    pub(crate) fn new(groups: Vec<(Vec<usize>, Records)>, ids: &[usize]) -> RunRecords {
        let at: std::collections::HashMap<usize, (usize, usize)> = groups
            .iter()
            .enumerate()
            .flat_map(|(g, (chains, _))| chains.iter().enumerate().map(move |(i, &c)| (c, (g, i))))
            .collect();
        let order = ids.iter().filter_map(|c| at.get(c).copied()).collect();
        RunRecords { groups: groups.into_iter().map(|(_, r)| r).collect(), order }
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
    /// written to it, in order, whatever the shard size.
    #[test]
    fn shards_write_each_chains_rows() {
        let (chains, warmup, kept, per_draw) = (5, 3, 2, 2);
        for size in [1, 2, 5, 9] {
            let mut r = Records::new(chains, (warmup, kept, per_draw), Some(1)).unwrap();
            for (s, shard) in r.shards(size).iter_mut().enumerate() {
                for i in 0..shard.lens.len() {
                    let c = (s * size + i) as f64;
                    for it in 0..warmup - (i % 2) {
                        shard.warmup(i, it, stats(100.0 * c + it as f64));
                    }
                    if i % 2 == 0 {
                        let v = shard.kept(i, 0, stats(-c), &[c]);
                        v.copy_from_slice(&[c, c + 0.5]);
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
                assert_eq!(
                    h.warmup.iter().map(|s| s.lp).collect::<Vec<_>>(),
                    want_warm,
                    "size {size} chain {c}"
                );
                if local % 2 == 0 {
                    assert_eq!(h.kept.iter().map(|s| s.lp).collect::<Vec<_>>(), vec![-cf]);
                    assert_eq!(h.values, &[cf, cf + 0.5]);
                    assert_eq!(r.moments[c].mean(), &[cf]);
                } else {
                    assert!(h.kept.is_empty() && h.values.is_empty());
                    assert_eq!(r.moments[c].count(), 0);
                }
            }
        }
    }

    /// A slab too large to address is a typed error naming it, not an abort.
    #[test]
    fn an_unaddressable_trace_is_an_error() {
        let e = Records::new(1 << 40, (0, 1 << 20, 1 << 10), None).err().expect("too large");
        assert!(e.to_string().contains("draw statistics of 1099511627776 chains"), "{e}");
        let e = Records::new(1 << 10, (0, 1, 1 << 60), None).err().expect("too large");
        assert!(e.to_string().contains("trace of 1024 chains"), "{e}");
    }
}
