//! `GpuBackend`: the fused leaf-step kernel behind the [`Backend`] trait. Per-chain trajectory
//! state lives in device buffers (structure of arrays); a dispatch uploads 8 bytes of command
//! per chain that continues a trajectory and 32 per chain that starts one (its step size and
//! random-number keys, which the device keeps for the trajectory's later leaves), and reads
//! back 8 bytes per chain; the selected sample comes back once per draw, packed on the device.
//! Host writes (start points, inverse masses) are queued and scattered by the next submission.
//! A large dispatch encodes its commands and decodes its reports on every host thread, and
//! the time the backend spends on the host is measured ([`Backend::host_seconds`]).

use std::sync::Arc;
use std::time::{Duration, Instant};

use rayon::prelude::*;

use super::codegen::Precision;
use super::device::{BatchLogpGrad, Gpu, GpuError, to_bytes};
use super::mapping::{MAX_INVOCATION_DIM, Mapping, MappingChoice};
use super::module::{
    STEP_BINDINGS, STEP_ENTRIES, STEP_MINV_SLOT, STEP_SCAL_SLOTS, WORKGROUP_SIZE, bind_group_layout,
    step_checkpoint_slots, step_ctl_gather_at, step_ctl_scatter_at, step_ctl_words, step_io_gather_row,
    step_module, step_padded_dim, step_row_len, step_state_slots, step_workgroup_bytes, with_scratch,
};
use crate::backend::{
    Backend, Direction, DrawState, INSTALLS_AHEAD, InstallPart, LeafReport, LowRank, StepCommand,
};
use crate::compile::Program;

/// Bytes moved between host and device, for the transfer-budget tests.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct TransferCounters {
    /// Dispatches of the step kernel.
    pub dispatches: u64,
    /// Bytes of reports read back by step dispatches.
    pub report_bytes: u64,
    /// Chain commands executed by step dispatches.
    pub commands: u64,
    /// Of those, commands that start a trajectory or probe a step size (32 bytes each; the
    /// others take 8).
    pub starts: u64,
    /// Bytes of commands uploaded by step dispatches, their 16-byte headers included.
    pub command_bytes: u64,
}

/// A host row waiting to be scattered into the device state before the next dispatch.
#[derive(Clone, Copy, Default)]
struct PendingRow {
    /// Chain (low 24 bits) and operation (`OP_POINT` 0, `OP_INV_MASS` 1, or `OP_LOW_RANK` + t
    /// for the t-th pair of low-rank columns; high 8 bits).
    word: u32,
    /// Where its values sit in [`GpuBackend::pending_values`], and how many.
    start: usize,
    len: usize,
}

/// The GPU backend for a group of chains.
pub struct GpuBackend {
    precision: Precision,
    mapping: Mapping,
    gpu: Arc<Gpu>,
    /// Entry points in [`STEP_ENTRIES`] order: scatter, begin, step, gather.
    pipelines: Vec<wgpu::ComputePipeline>,
    bind: wgpu::BindGroup,
    ctl: wgpu::Buffer,
    reports: wgpu::Buffer,
    io: wgpu::Buffer,
    reports_read: wgpu::Buffer,
    draws_read: wgpu::Buffer,
    batch: BatchLogpGrad,
    chain_ids: Vec<usize>,
    dim: usize,
    counters: TransferCounters,
    /// Trajectory starts in each piece of the current dispatch (at most [`PIECE`] commands of
    /// one of the parts it was given), and the first device command of each piece's starts
    /// and of its continuations.
    piece_starts: Vec<usize>,
    piece_at: Vec<(usize, usize)>,
    /// The pending rows as uploaded (bytes in the kernels' precision) and their scatter words,
    /// reused from one upload to the next.
    row_bytes: Vec<u8>,
    row_words: Vec<u32>,
    /// Room for a dispatch's `ctl` header and commands (8 words per chain), of which each
    /// dispatch fills and uploads the first part.
    words: Vec<u32>,
    /// Time spent on the host side of `step` and `read_draws`, waits for the device excluded.
    host: Duration,
    /// This backend's latest submission: a read waits for it alone, not for what other
    /// backends sharing the device (the run's other chain groups) queued after it.
    submitted: Option<wgpu::SubmissionIndex>,
    pending: Vec<PendingRow>,
    /// The pending rows' values, one after another (no allocation per row: a host loop
    /// installs a metric for every warmup draw of every chain).
    pending_values: Vec<f64>,
    /// Index in `pending` of each chain's row per operation (`ops` per chain).
    pending_at: Vec<Option<usize>>,
    /// How many of the pending rows are metrics (`OP_INV_MASS`).
    pending_metrics: usize,
    /// Operations per chain: a point, an inverse mass, and the pairs of low-rank columns.
    ops: usize,
    /// Largest rank of a low-rank metric the kernels hold (zero: diagonal only).
    rank: usize,
    /// Every chain's inverse mass diagonal as last set (a host copy, read for trace files).
    inv_mass: Vec<f64>,
}

/// Commands per piece of a dispatch's encoding and decoding (one thread's share).
const PIECE: usize = 4096;
/// Commands from which a dispatch's encoding and decoding are split over the host threads.
const PARALLEL_MIN_COMMANDS: usize = 16_384;
/// Pending rows from which their conversion to the kernels' precision is split likewise.
const PARALLEL_MIN_ROWS: usize = 1024;

/// Whether a command starts a trajectory (or probes a step size): its 8 words come first.
fn starts(c: &StepCommand) -> bool {
    c.begin || c.probe
}

/// Writes a piece of commands: starts into `a` (8 words each), continuations into `b` (2).
fn encode_piece(ids: &[usize], piece: &[StepCommand], a: &mut [u32], b: &mut [u32]) {
    let (mut a, mut b) = (a.chunks_exact_mut(8), b.chunks_exact_mut(2));
    for c in piece {
        let forward = (c.direction == Direction::Forward) as u32;
        if starts(c) {
            let flags = c.begin as u32 | (c.probe as u32) << 1 | forward << 2;
            // The step size as its f32 rounding and the f32 rounding of the rest: f64 kernels
            // add them back (48 bits), f32 kernels read the first.
            let hi = c.step_size as f32;
            let lo = (c.step_size - f64::from(hi)) as f32;
            let words = [
                c.chain as u32,
                ids[c.chain] as u32,
                flags | c.depth << 8,
                lo.to_bits(),
                c.leaf,
                c.iteration as u32,
                (c.iteration >> 32) as u32,
                hi.to_bits(),
            ];
            a.next().expect("a slot per start").copy_from_slice(&words);
        } else {
            // Chains number under 2^24 (checked at creation) and depths under 32.
            let words = [c.chain as u32 | forward << 24 | c.depth << 25, c.leaf];
            b.next().expect("a slot per continuation").copy_from_slice(&words);
        }
    }
}

/// Draws from which their decoding is split over the host threads.
const PARALLEL_MIN_DRAWS: usize = 1024;

/// Fills `o` from a gathered row: q and g (`dim` values each, `d` apart), then the scalars.
fn decode_draw(o: &mut DrawState, row: &[u8], (dim, d): (usize, usize), precision: Precision) {
    let value = |i: usize| match precision {
        Precision::F32 => f64::from(f32::from_ne_bytes(row[4 * i..4 * i + 4].try_into().unwrap_or_default())),
        Precision::F64 => f64::from_ne_bytes(row[8 * i..8 * i + 8].try_into().unwrap_or_default()),
    };
    o.q.clear();
    o.q.extend((0..dim).map(value));
    o.g.clear();
    o.g.extend((d..d + dim).map(value));
    let s = |x: usize| value(2 * d + x);
    o.logp = s(2);
    o.energy = s(3);
    o.energy_error = s(3) - s(6);
    o.sum_accept = s(9);
    o.n_leapfrog = s(10) as u32;
}

const SCATTER: usize = 0;
const BEGIN: usize = 1;
const STEP: usize = 2;
const GATHER: usize = 3;
const OP_POINT: usize = 0;
const OP_INV_MASS: usize = 1;
const OP_LOW_RANK: usize = 2;

fn storage(gpu: &Gpu, label: &str, bytes: u64) -> wgpu::Buffer {
    gpu.device().create_buffer(&wgpu::BufferDescriptor {
        label: Some(label),
        size: bytes.max(4),
        usage: wgpu::BufferUsages::STORAGE | wgpu::BufferUsages::COPY_DST | wgpu::BufferUsages::COPY_SRC,
        mapped_at_creation: false,
    })
}

fn staging(gpu: &Gpu, label: &str, bytes: u64) -> wgpu::Buffer {
    gpu.device().create_buffer(&wgpu::BufferDescriptor {
        label: Some(label),
        size: bytes.max(4),
        usage: wgpu::BufferUsages::COPY_DST | wgpu::BufferUsages::MAP_READ,
        mapped_at_creation: false,
    })
}

/// Bytes per chain of the largest step-module binding, for the limit check.
fn largest_binding_per_chain(dim: usize, max_depth: usize, size: usize, rank: usize) -> u64 {
    let d = step_padded_dim(dim);
    let state = step_state_slots(rank) * d;
    let checkpoints = step_checkpoint_slots(max_depth) * d;
    let io = 3 * step_row_len(dim);
    (state.max(checkpoints).max(io) * size) as u64
}

impl GpuBackend {
    /// A backend for chains with global ids `chain_ids`, trees up to `max_depth`, kernels in
    /// `precision`, chains mapped onto invocations by `mapping` ([`Mapping::choose`]), for a
    /// diagonal metric.
    pub fn new(
        gpu: Arc<Gpu>,
        prog: &Program,
        seed: u64,
        chain_ids: &[usize],
        max_depth: usize,
        precision: Precision,
        mapping: MappingChoice,
    ) -> Result<GpuBackend, GpuError> {
        GpuBackend::with_max_rank(gpu, prog, seed, chain_ids, max_depth, (precision, mapping), 0)
    }

    /// Whether `gpu`'s step kernels can hold `prog` whatever the chain count: f64 support when
    /// asked for, and the chosen mapping's limit (the invocation mapping's dimension, the
    /// workgroup mapping's workgroup memory). `Sampler`'s automatic backend choice samples on
    /// the CPU where this fails, rather than failing the run.
    pub fn fits(
        gpu: &Gpu,
        prog: &Program,
        (precision, mapping): (Precision, MappingChoice),
    ) -> Result<Mapping, GpuError> {
        if precision == Precision::F64 && !gpu.has_f64() {
            return Err(GpuError::NoF64(gpu.name().to_string()));
        }
        let dim = prog.dim;
        if dim == 0 {
            return Err(GpuError::NoFreeVariables);
        }
        let d = step_padded_dim(dim);
        let mapping = Mapping::choose(prog, mapping);
        if mapping == Mapping::Invocation && d > MAX_INVOCATION_DIM {
            return Err(GpuError::InvocationDim { dim: d, max: MAX_INVOCATION_DIM });
        }
        if let Mapping::Workgroup { lanes } = mapping {
            let bytes = step_workgroup_bytes(prog, lanes, precision);
            if bytes > gpu.max_workgroup_bytes() {
                return Err(GpuError::WorkgroupMemory { dim, bytes, limit: gpu.max_workgroup_bytes() });
            }
        }
        Ok(mapping)
    }

    /// [`GpuBackend::new`] for metrics with a low-rank correction of rank up to `max_rank`
    /// (clamped to the dimension; zero: diagonal only). The kernels keep `max_rank` columns
    /// per chain; a correction of higher rank keeps its first `max_rank` columns.
    pub fn with_max_rank(
        gpu: Arc<Gpu>,
        prog: &Program,
        seed: u64,
        chain_ids: &[usize],
        max_depth: usize,
        (precision, mapping): (Precision, MappingChoice),
        max_rank: usize,
    ) -> Result<GpuBackend, GpuError> {
        let mapping = GpuBackend::fits(&gpu, prog, (precision, mapping))?;
        let size = precision.bytes();
        let dim = prog.dim;
        let d = step_padded_dim(dim);
        let k = chain_ids.len();
        let rank = max_rank.min(dim);
        let module = step_module(prog, max_depth, seed, precision, k, (mapping, rank))?;
        // Check the largest binding and the dispatch size against the adapter first.
        let per_chain =
            largest_binding_per_chain(dim, max_depth, size, rank).max((module.scratch * size) as u64);
        let limit = gpu.max_binding_bytes();
        let max_chains = (limit / per_chain).min(gpu.max_dispatch_chains(mapping)) as usize;
        if k > max_chains || k >= 1 << 24 {
            return Err(GpuError::TooManyChains {
                requested: k,
                bytes: per_chain * k as u64,
                limit,
                max_chains: max_chains.min((1 << 24) - 1),
            });
        }
        let device = gpu.device();
        let table = with_scratch(&STEP_BINDINGS, module.scratch > 0);
        let layout = bind_group_layout(device, &table);
        let pipeline_layout = device.create_pipeline_layout(&wgpu::PipelineLayoutDescriptor {
            label: Some("step"),
            bind_group_layouts: &[Some(&layout)],
            immediate_size: 0,
        });
        let pipelines = gpu.pipelines("step", module.code, Some(&pipeline_layout), &STEP_ENTRIES)?;
        let data = gpu.data_buffer(prog, precision)?;
        let vectors = |slots: usize| (slots * d * k * size) as u64;
        let state = storage(&gpu, "state", vectors(step_state_slots(rank)));
        let begins = storage(&gpu, "begins", vectors(step_checkpoint_slots(max_depth)));
        let halves = storage(&gpu, "halves", vectors(step_checkpoint_slots(max_depth)));
        let scal = storage(&gpu, "scal", (k * STEP_SCAL_SLOTS * size) as u64);
        let ctl = storage(&gpu, "ctl", (step_ctl_words(k) * 4) as u64);
        let reports = storage(&gpu, "reports", (k * 8) as u64);
        let row_bytes = (step_row_len(dim) * size) as u64;
        let io = storage(&gpu, "io", (step_io_gather_row(k) + k) as u64 * row_bytes);
        let scratch = storage(&gpu, "scratch", (module.scratch * k * size) as u64);
        let bufs = [&data, &state, &begins, &halves, &scal, &ctl, &reports, &io, &scratch];
        let entries: Vec<wgpu::BindGroupEntry> = table
            .iter()
            .zip(bufs)
            .map(|((b, ..), buf)| wgpu::BindGroupEntry { binding: *b, resource: buf.as_entire_binding() })
            .collect();
        let bind = device.create_bind_group(&wgpu::BindGroupDescriptor {
            label: Some("step"),
            layout: &layout,
            entries: &entries,
        });
        // Unit inverse mass for every chain: slot S_MINV is one contiguous run of d·k values.
        let minv_at = (STEP_MINV_SLOT * d * k * size) as u64;
        gpu.queue().write_buffer(&state, minv_at, &to_bytes(&vec![1.0; d * k], precision));
        if rank > 0 {
            // No correction yet: zero columns (a fresh buffer is zeroed) and unit eigenvalues.
            let lam_at = ((step_state_slots(rank) - 1) * d * k * size) as u64;
            gpu.queue().write_buffer(&state, lam_at, &to_bytes(&vec![1.0; d * k], precision));
        }
        let ops = OP_LOW_RANK + rank.div_ceil(2);
        let reports_read = staging(&gpu, "reports_read", (k * 8) as u64);
        let draws_read = staging(&gpu, "draws_read", k as u64 * row_bytes);
        let batch = BatchLogpGrad::new(&gpu, prog, precision, mapping)?;
        gpu.check("creating the step kernel's buffers")?;
        Ok(GpuBackend {
            precision,
            mapping,
            gpu,
            pipelines,
            bind,
            ctl,
            reports,
            io,
            reports_read,
            draws_read,
            batch,
            chain_ids: chain_ids.to_vec(),
            dim,
            counters: TransferCounters::default(),
            submitted: None,
            piece_starts: Vec::with_capacity(k.div_ceil(PIECE)),
            piece_at: Vec::with_capacity(k.div_ceil(PIECE)),
            words: vec![0; step_ctl_scatter_at(k)],
            row_bytes: Vec::new(),
            row_words: Vec::new(),
            host: Duration::ZERO,
            pending: Vec::new(),
            pending_values: Vec::new(),
            pending_at: vec![None; k * ops],
            pending_metrics: 0,
            ops,
            rank,
            inv_mass: vec![1.0; dim * k],
        })
    }

    /// The thread mapping in use.
    pub fn mapping(&self) -> Mapping {
        self.mapping
    }

    /// Transfer counters so far.
    pub fn counters(&self) -> TransferCounters {
        self.counters
    }

    /// Waits for this backend's latest submission, maps `bytes` of `buf` and hands them to
    /// `f`; returns what `f` returns and how long the wait took.
    fn read_with<R>(
        &self,
        buf: &wgpu::Buffer,
        bytes: u64,
        name: &'static str,
        f: impl FnOnce(&[u8]) -> R,
    ) -> crate::Result<(R, Duration)> {
        let err = |reason: String| crate::Error::Backend {
            backend: "gpu",
            reason: format!("reading `{name}`: {reason}"),
        };
        let slice = buf.slice(..bytes.max(4));
        slice.map_async(wgpu::MapMode::Read, |_| {});
        let wait = wgpu::PollType::Wait { submission_index: self.submitted.clone(), timeout: None };
        let polled = Instant::now();
        self.gpu.device().poll(wait).map_err(|e| err(e.to_string()))?;
        let waited = polled.elapsed();
        let out = {
            let view = slice.get_mapped_range().map_err(|e| err(e.to_string()))?;
            f(&view)
        };
        buf.unmap();
        self.gpu
            .check(&format!("running the step kernel (reading `{name}`)"))
            .map_err(|e| err(e.to_string()))?;
        Ok((out, waited))
    }

    /// Queues a row for `chain` (replacing an earlier one of the same operation).
    fn queue_row(&mut self, chain: usize, op: usize, values: &[f64]) {
        let at = chain * self.ops + op;
        match self.pending_at[at] {
            // A later row of the same chain and operation replaces the earlier one.
            Some(i) if self.pending[i].len == values.len() => {
                let start = self.pending[i].start;
                self.pending_values[start..start + values.len()].copy_from_slice(values);
            }
            slot => {
                let row = PendingRow {
                    word: chain as u32 | (op as u32) << 24,
                    start: self.pending_values.len(),
                    len: values.len(),
                };
                self.pending_values.extend_from_slice(values);
                match slot {
                    Some(i) => self.pending[i] = row,
                    None => {
                        self.pending_at[at] = Some(self.pending.len());
                        self.pending.push(row);
                        self.pending_metrics += usize::from(op == OP_INV_MASS);
                    }
                }
            }
        }
    }

    /// Writes the pending rows (io rows 0.., list at the scatter region of `ctl`) and returns
    /// how many are left for the caller's scatter dispatch. The region holds two rows per
    /// chain; earlier rows beyond it are scattered first, by submissions of their own.
    fn upload_pending(&mut self) -> u32 {
        let n = self.pending.len();
        if n == 0 {
            return 0;
        }
        let k = self.chain_ids.len();
        let capacity = step_io_gather_row(k);
        let row = step_row_len(self.dim);
        let size = self.precision.bytes();
        let mut start = 0;
        loop {
            let chunk = &self.pending[start..n.min(start + capacity)];
            // Each row in the kernels' precision, straight into one reused buffer (the rest of
            // a row, which the scatter kernel does not read, is left as it was); many rows (a
            // warmup dispatch installs a metric for each of thousands of draws) on every host
            // thread.
            self.row_bytes.resize(chunk.len() * row * size, 0);
            let (pending_values, precision) = (&self.pending_values, self.precision);
            let convert = |(p, out): (&PendingRow, &mut [u8])| {
                let values = &pending_values[p.start..p.start + p.len];
                match precision {
                    Precision::F32 => out.chunks_exact_mut(4).zip(values).for_each(|(o, &v)| {
                        o.copy_from_slice(&(v as f32).to_ne_bytes());
                    }),
                    Precision::F64 => out.chunks_exact_mut(8).zip(values).for_each(|(o, &v)| {
                        o.copy_from_slice(&v.to_ne_bytes());
                    }),
                }
            };
            if chunk.len() >= PARALLEL_MIN_ROWS && rayon::current_num_threads() > 1 {
                let rows = self.row_bytes.par_chunks_exact_mut(row * size);
                chunk.par_iter().zip(rows).with_min_len(PARALLEL_MIN_ROWS / 4).for_each(convert);
            } else {
                chunk.iter().zip(self.row_bytes.chunks_exact_mut(row * size)).for_each(convert);
            }
            self.row_words.clear();
            self.row_words.extend(chunk.iter().map(|p| p.word));
            let queue = self.gpu.queue();
            queue.write_buffer(&self.io, 0, &self.row_bytes);
            queue.write_buffer(
                &self.ctl,
                (step_ctl_scatter_at(k) * 4) as u64,
                bytemuck::cast_slice(&self.row_words),
            );
            if start + chunk.len() == n {
                break;
            }
            queue.write_buffer(&self.ctl, 0, bytemuck::cast_slice(&[0, 0, chunk.len() as u32, 0]));
            let mut enc =
                self.gpu.device().create_command_encoder(&wgpu::CommandEncoderDescriptor { label: None });
            self.record(&mut enc, &[(SCATTER, chunk.len() as u32)]);
            queue.submit([enc.finish()]);
            start += chunk.len();
        }
        // Only the chains with rows have an index to forget.
        for p in &self.pending {
            let at = (p.word & 0xff_ffff) as usize * self.ops;
            self.pending_at[at..at + self.ops].fill(None);
        }
        self.pending.clear();
        self.pending_values.clear();
        self.pending_metrics = 0;
        (n - start) as u32
    }

    /// Records the dispatches `(entry, invocations)` in one compute pass.
    fn record(&self, enc: &mut wgpu::CommandEncoder, runs: &[(usize, u32)]) {
        let mut pass =
            enc.begin_compute_pass(&wgpu::ComputePassDescriptor { label: None, timestamp_writes: None });
        pass.set_bind_group(0, &self.bind, &[]);
        for &(entry, n) in runs.iter().filter(|(_, n)| *n > 0) {
            pass.set_pipeline(&self.pipelines[entry]);
            let groups = match entry {
                BEGIN | STEP => self.mapping.workgroups(n),
                _ => n.div_ceil(WORKGROUP_SIZE),
            };
            pass.dispatch_workgroups(groups, 1, 1);
        }
    }
}

impl Backend for GpuBackend {
    fn name(&self) -> String {
        format!("gpu ({}; {})", self.gpu.name(), self.mapping.describe())
    }

    fn dim(&self) -> usize {
        self.dim
    }

    fn shares_host_cores(&self) -> bool {
        self.gpu.is_cpu()
    }

    fn n_chains(&self) -> usize {
        self.chain_ids.len()
    }

    fn set_position(&mut self, chain: usize, q: &[f64]) -> Option<f64> {
        self.set_positions(&[(chain, q.to_vec())]).pop().flatten().map(|(lp, _)| lp)
    }

    fn set_positions(&mut self, points: &[(usize, Vec<f64>)]) -> Vec<Option<(f64, Vec<f64>)>> {
        // One batched evaluation for every point; accepted points are scattered into the state
        // with the next dispatch.
        let flat: Vec<f64> = points.iter().flat_map(|(_, q)| q.iter().copied()).collect();
        let Ok((lps, grads)) = self.batch.run(&self.gpu, &flat) else {
            return vec![None; points.len()];
        };
        let d = self.dim;
        points
            .iter()
            .enumerate()
            .map(|(k, (chain, q))| {
                let (lp, g) = (lps[k], &grads[k * d..(k + 1) * d]);
                if !lp.is_finite() || !g.iter().all(|x| x.is_finite()) {
                    return None;
                }
                let mut row = Vec::with_capacity(2 * d.max(1) + 1);
                row.extend_from_slice(q);
                row.resize(d.max(1), 0.0);
                row.extend_from_slice(g);
                row.resize(2 * d.max(1), 0.0);
                row.push(lp);
                self.queue_row(*chain, OP_POINT, &row);
                Some((lp, g.to_vec()))
            })
            .collect()
    }

    fn set_inv_mass(&mut self, chain: usize, inv_mass: &[f64]) {
        let (d, n) = (self.dim, inv_mass.len().min(self.dim));
        self.inv_mass[chain * d..chain * d + n].copy_from_slice(&inv_mass[..n]);
        self.queue_row(chain, OP_INV_MASS, inv_mass);
    }

    fn set_inv_masses(&mut self, parts: &[InstallPart<'_>]) {
        let installs: usize = parts.iter().map(|p| p.0.len()).sum();
        let (d, ops, k) = (self.dim, self.ops, self.chain_ids.len());
        // In parallel only where every chain is in range, in ascending order over the parts,
        // and no metric row is waiting already (a new row would replace it in place): then the
        // parts' rows, values, host metrics and row indices are disjoint windows.
        let ascending = |installs: &[(usize, std::ops::Range<usize>)]| {
            installs.windows(2).all(|w| w[0].0 < w[1].0) && installs.last().is_some_and(|l| l.0 < k)
        };
        let ordered = parts.iter().all(|p| ascending(p.0))
            && parts.windows(2).all(|w| w[0].0.last().map(|l| l.0) < w[1].0.first().map(|f| f.0));
        if installs < PARALLEL_MIN_ROWS
            || rayon::current_num_threads() == 1
            || self.pending_metrics > 0
            || !ordered
        {
            return crate::backend::install_each(self, parts);
        }
        self.pending_metrics += installs;
        // Each part's windows: its rows and values at the end of the queue, and its chains'
        // host metrics and row indices (from its first chain to the next part's first).
        let n_values: Vec<usize> = parts.iter().map(|p| p.0.iter().map(|(_, r)| r.len()).sum()).collect();
        let (row0, value0) = (self.pending.len(), self.pending_values.len());
        self.pending.resize(row0 + installs, PendingRow::default());
        self.pending_values.resize(value0 + n_values.iter().sum::<usize>(), 0.0);
        let metrics = crate::backend::chain_windows(parts, &mut self.inv_mass, d);
        let ats = crate::backend::chain_windows(parts, &mut self.pending_at, ops);
        let (mut rows, mut values) = (&mut self.pending[row0..], &mut self.pending_values[value0..]);
        let (mut row, mut value) = (row0, value0);
        let mut jobs = Vec::with_capacity(parts.len());
        for (((&(installs, src), &n), m), a) in parts.iter().zip(&n_values).zip(metrics).zip(ats) {
            let (r, rest_r) = std::mem::take(&mut rows).split_at_mut(installs.len());
            let (v, rest_v) = std::mem::take(&mut values).split_at_mut(n);
            (rows, values) = (rest_r, rest_v);
            jobs.push((installs, src, (r, v, m, a), (installs[0].0, row, value)));
            (row, value) = (row + installs.len(), value + n);
        }
        jobs.into_par_iter().for_each(|(installs, src, (rows, values, metric, at), (first, row, value))| {
            let mut v = 0;
            for (i, ((c, range), out)) in installs.iter().zip(rows).enumerate() {
                if let Some((ahead, _)) = installs.get(i + INSTALLS_AHEAD) {
                    let local = ahead - first;
                    crate::mem::prefetch(&metric[local * d..(local + 1) * d]);
                    crate::mem::prefetch(&at[local * ops + OP_INV_MASS..=local * ops + OP_INV_MASS]);
                }
                let src = &src[range.clone()];
                let local = c - first;
                let n = src.len().min(d);
                metric[local * d..local * d + n].copy_from_slice(&src[..n]);
                values[v..v + src.len()].copy_from_slice(src);
                *out = PendingRow {
                    word: *c as u32 | (OP_INV_MASS as u32) << 24,
                    start: value + v,
                    len: src.len(),
                };
                at[local * ops + OP_INV_MASS] = Some(row + i);
                v += src.len();
            }
        });
    }

    fn prefetch_inv_mass(&self, chain: usize) {
        // (A hint: a chain out of range prefetches nothing.)
        if chain < self.n_chains() {
            let (d, at) = (self.dim, chain * self.ops + OP_INV_MASS);
            crate::mem::prefetch(&self.inv_mass[chain * d..(chain + 1) * d]);
            crate::mem::prefetch(&self.pending_at[at..=at]);
        }
    }

    fn inv_mass(&self, chain: usize) -> Vec<f64> {
        self.inv_mass[chain * self.dim..(chain + 1) * self.dim].to_vec()
    }

    fn set_low_rank(&mut self, chain: usize, low_rank: &LowRank) {
        // Rows of two columns each, eigenvalues 2t .. 2t + 3 after them on even rows t; unused
        // columns are zero with unit eigenvalues.
        let d = self.dim;
        let rank = low_rank.rank().min(self.rank);
        let column = |r: usize| if r < rank { low_rank.column(r, d) } else { &[][..] };
        let lam = |r: usize| if r < rank { low_rank.values[r] } else { 1.0 };
        for t in 0..self.rank.div_ceil(2) {
            let mut row = vec![0.0; 2 * d + 4];
            for x in 0..2 {
                let col = column(2 * t + x);
                row[x * d..x * d + col.len()].copy_from_slice(col);
            }
            for x in 0..4 {
                row[2 * d + x] = lam(2 * t + x);
            }
            self.queue_row(chain, OP_LOW_RANK + t, &row);
        }
    }

    fn step(&mut self, cmds: &[StepCommand], reports: &mut [LeafReport]) -> crate::Result<()> {
        self.step_parts(&[cmds], reports)
    }

    fn step_parts(&mut self, parts: &[&[StepCommand]], reports: &mut [LeafReport]) -> crate::Result<()> {
        let began = Instant::now();
        let n: usize = parts.iter().map(|p| p.len()).sum();
        if n > self.chain_ids.len() || reports.len() < n {
            return Err(crate::Error::Backend {
                backend: "gpu",
                reason: format!(
                    "{n} commands for {} chains and {} reports: at most one command per chain, and a \
                     report for each",
                    self.chain_ids.len(),
                    reports.len()
                ),
            });
        }
        let n_scatter = self.upload_pending();
        // Trajectory starts (and probes) come first, in 8 words: the begin kernel serves
        // commands 0..n_begin and keeps their step size and keys. The rest continue a
        // trajectory, in 2. Each piece of PIECE commands writes its own runs of both blocks,
        // so that a large dispatch encodes (and decodes) on every host thread. The pieces cut
        // each part where it lies.
        let parallel = n >= PARALLEL_MIN_COMMANDS && rayon::current_num_threads() > 1;
        let pieces: Vec<&[StepCommand]> = parts.iter().flat_map(|p| p.chunks(PIECE)).collect();
        let count = |piece: &&[StepCommand]| piece.iter().filter(|c| starts(c)).count();
        if parallel {
            pieces.par_iter().map(count).collect_into_vec(&mut self.piece_starts);
        } else {
            self.piece_starts.clear();
            self.piece_starts.extend(pieces.iter().map(count));
        }
        let n_begin: usize = self.piece_starts.iter().sum();
        let words = 4 + 8 * n_begin + 2 * (n - n_begin);
        let (head, rest) = self.words[..words].split_at_mut(4);
        head.copy_from_slice(&[n as u32, n_begin as u32, n_scatter, 0]);
        let (mut start_block, mut step_block) = rest.split_at_mut(8 * n_begin);
        // Piece j's starts are device commands (and reports) `piece_at[j].0..`, its
        // continuations `piece_at[j].1..`.
        let mut slots = Vec::with_capacity(pieces.len());
        let mut at = (0, n_begin);
        self.piece_at.clear();
        for (&piece, &nb) in pieces.iter().zip(&self.piece_starts) {
            let (a, rest_a) = std::mem::take(&mut start_block).split_at_mut(8 * nb);
            let (b, rest_b) = std::mem::take(&mut step_block).split_at_mut(2 * (piece.len() - nb));
            (start_block, step_block) = (rest_a, rest_b);
            slots.push((piece, a, b));
            self.piece_at.push(at);
            at = (at.0 + nb, at.1 + piece.len() - nb);
        }
        let ids = &self.chain_ids;
        let encode = |(piece, a, b)| encode_piece(ids, piece, a, b);
        if parallel {
            slots.into_par_iter().for_each(encode);
        } else {
            slots.into_iter().for_each(encode);
        }
        self.gpu.queue().write_buffer(&self.ctl, 0, bytemuck::cast_slice(&self.words[..words]));
        let report_bytes = (n * 8) as u64;
        let mut enc =
            self.gpu.device().create_command_encoder(&wgpu::CommandEncoderDescriptor { label: None });
        self.record(&mut enc, &[(SCATTER, n_scatter), (BEGIN, n_begin as u32), (STEP, n as u32)]);
        enc.copy_buffer_to_buffer(&self.reports, 0, &self.reports_read, 0, report_bytes.max(4));
        self.submitted = Some(self.gpu.queue().submit([enc.finish()]));
        let piece_at = &self.piece_at;
        let ((), waited) = self.read_with(&self.reports_read, report_bytes, "reports", |view| {
            let decode = |(j, out, piece): (usize, &mut [LeafReport], &[StepCommand])| {
                let (mut b, mut r) = piece_at[j];
                for (rep, c) in out.iter_mut().zip(piece) {
                    let k = if starts(c) { &mut b } else { &mut r };
                    let w = &view[8 * *k..8 * *k + 8];
                    *k += 1;
                    let flags = u32::from_ne_bytes([w[0], w[1], w[2], w[3]]);
                    *rep = LeafReport {
                        diverged: flags & 1 != 0,
                        subtree_turning: flags & 2 != 0,
                        tree_turning: flags & 4 != 0,
                        energy_error: f64::from(f32::from_ne_bytes([w[4], w[5], w[6], w[7]])),
                    };
                }
            };
            // Each piece's reports, cut from the one list in the pieces' order.
            let mut rest = &mut reports[..n];
            let mut jobs = Vec::with_capacity(pieces.len());
            for (j, &piece) in pieces.iter().enumerate() {
                let (out, tail) = std::mem::take(&mut rest).split_at_mut(piece.len());
                rest = tail;
                jobs.push((j, out, piece));
            }
            if parallel {
                jobs.into_par_iter().for_each(decode);
            } else {
                jobs.into_iter().for_each(decode);
            }
        })?;
        self.counters.dispatches += 1;
        self.counters.commands += n as u64;
        self.counters.starts += n_begin as u64;
        self.counters.command_bytes += 4 * words as u64;
        self.counters.report_bytes += report_bytes;
        self.host += began.elapsed().saturating_sub(waited);
        Ok(())
    }

    fn read_draws(&mut self, chains: &[usize], out: &mut [DrawState]) -> crate::Result<()> {
        let began = Instant::now();
        let d = self.dim.max(1);
        let size = self.precision.bytes();
        let row = step_row_len(self.dim);
        let k = self.chain_ids.len();
        let n_scatter = self.upload_pending();
        let list: Vec<u32> = chains.iter().map(|&c| c as u32).collect();
        let queue = self.gpu.queue();
        queue.write_buffer(&self.ctl, 0, bytemuck::cast_slice(&[0, 0, n_scatter, chains.len() as u32]));
        queue.write_buffer(&self.ctl, (step_ctl_gather_at(k) * 4) as u64, bytemuck::cast_slice(&list));
        let mut enc =
            self.gpu.device().create_command_encoder(&wgpu::CommandEncoderDescriptor { label: None });
        self.record(&mut enc, &[(SCATTER, n_scatter), (GATHER, chains.len() as u32)]);
        let bytes = (chains.len() * row * size) as u64;
        let at = (step_io_gather_row(k) * row * size) as u64;
        enc.copy_buffer_to_buffer(&self.io, at, &self.draws_read, 0, bytes.max(4));
        self.submitted = Some(queue.submit([enc.finish()]));
        let (dim, precision) = (self.dim, self.precision);
        let out = &mut out[..chains.len()];
        let ((), waited) = self.read_with(&self.draws_read, bytes, "draws", |view| {
            let decode = |(o, v): (&mut DrawState, &[u8])| decode_draw(o, v, (dim, d), precision);
            if out.len() >= PARALLEL_MIN_DRAWS && rayon::current_num_threads() > 1 {
                out.par_iter_mut().zip(view.par_chunks_exact(row * size)).with_min_len(256).for_each(decode);
            } else {
                out.iter_mut().zip(view.chunks_exact(row * size)).for_each(decode);
            }
        })?;
        self.host += began.elapsed().saturating_sub(waited);
        Ok(())
    }

    fn host_seconds(&self) -> f64 {
        self.host.as_secs_f64()
    }

    fn single_precision(&self) -> bool {
        self.precision == Precision::F32
    }

    fn logp_grad(&mut self, q: &[f64], grad: &mut [f64]) -> f64 {
        match self.batch.run(&self.gpu, q) {
            Ok((lp, g)) => {
                grad.copy_from_slice(&g[..grad.len()]);
                lp.first().copied().unwrap_or(f64::NAN)
            }
            Err(_) => f64::NAN,
        }
    }
}
