//! The result of a run: the trace, what the compiler did, timings and diagnostics.

use super::driver::DriveCounters;
use super::sink::{ChainHistory, TraceVarInfo};
use super::trace::{Draws, Trace, TraceVar, moments};
use crate::Error;
use crate::compile::{Compiled, PointMap};
use crate::diagnostics::{self, Summary};

/// Wall-clock times of a run.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Timing {
    /// Rewriting and compiling.
    pub compile_s: f64,
    /// Initialisation, warmup and draws.
    pub sampling_s: f64,
}

/// Where each trace variable lies in one draw's constrained outputs (the constrain program's
/// outputs, concatenated), in model order: what the trace and the trace files are built from.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct TraceLayout {
    /// Variables in model order.
    pub vars: Vec<TraceVarInfo>,
    /// Values per draw.
    pub per_draw: usize,
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
        TraceLayout { vars, per_draw: sizes.iter().sum() }
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
    /// Whether the run stopped early (the trace holds the draws every chain completed).
    pub cancelled: bool,
    /// What the run itself found wrong (e.g. f32 kernels too coarse for a variable), in
    /// words with the remedy; [`Fit::summary`] prints them with its own warnings.
    pub warnings: Vec<String>,
}

/// Chains per block when the strided records are gathered chain by chain.
const BLOCK: usize = 64;

/// Calls `f(chain, its history, draw)` for draws `0..draws` of every chain, [`BLOCK`] chains
/// at a time and draw by draw within a block.
fn by_blocks(records: &[ChainHistory<'_>], draws: usize, mut f: impl FnMut(usize, &ChainHistory<'_>, usize)) {
    for (b, block) in records.chunks(BLOCK).enumerate() {
        for d in 0..draws {
            for (k, r) in block.iter().enumerate() {
                f(b * BLOCK + k, r, d);
            }
        }
    }
}

impl Fit {
    /// A fit read back from disk (a run directory's Zarr store, CmdStan CSV files): the
    /// trace alone, for what takes a [`Fit`] — [`posterior_predictive`](super::posterior_predictive),
    /// [`log_likelihood`](super::log_likelihood), LOO. It has no timings, counters or layout
    /// of the unconstrained space; its backend reads `"read from disk"`.
    pub fn from_trace(trace: Trace) -> Fit {
        Fit {
            trace,
            noncentered: Vec::new(),
            measured: Vec::new(),
            backend: "read from disk".into(),
            pointmap: PointMap::default(),
            timing: Timing::default(),
            counters: DriveCounters::default(),
            cancelled: false,
            warnings: Vec::new(),
        }
    }

    pub(crate) fn assemble(
        compiled: &Compiled,
        records: &[ChainHistory<'_>],
        counters: DriveCounters,
        backend: String,
        timing: Timing,
        cancelled: bool,
    ) -> Fit {
        let layout = TraceLayout::new(compiled);
        let draws = records.iter().map(ChainHistory::kept_len).min().unwrap_or(0);
        let chains = records.len();
        // The records are strided per chain (iteration by iteration over a group's chains):
        // a few chains at a time, iteration by iteration, so that each read of a row of
        // records serves several chains.
        let mut values: Vec<Vec<f64>> =
            layout.vars.iter().map(|l| vec![0.0; chains * draws * l.size()]).collect();
        by_blocks(records, draws, |c, r, d| {
            let row = r.values(d);
            for (l, out) in layout.vars.iter().zip(&mut values) {
                let at = (c * draws + d) * l.size();
                out[at..at + l.size()].copy_from_slice(&row[l.offset..l.offset + l.size()]);
            }
        });
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
        let mut stats: Vec<Vec<_>> = (0..chains).map(|_| Vec::with_capacity(draws)).collect();
        let mut kept: Vec<_> = records.iter().map(ChainHistory::kept).collect();
        by_blocks(records, draws, |c, _, _| stats[c].extend(kept[c].next().copied()));
        let mut warmup_stats: Vec<Vec<_>> =
            records.iter().map(|r| Vec::with_capacity(r.warmup_len())).collect();
        let mut warm: Vec<_> = records.iter().map(ChainHistory::warmup).collect();
        let longest = records.iter().map(ChainHistory::warmup_len).max().unwrap_or(0);
        by_blocks(records, longest, |c, _, _| warmup_stats[c].extend(warm[c].next().copied()));
        Fit {
            trace: Trace { chains, draws, vars, stats, warmup_stats },
            noncentered: compiled.noncentered.clone(),
            measured: compiled.measured.clone(),
            backend,
            pointmap: compiled.pointmap.clone(),
            timing,
            counters,
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
