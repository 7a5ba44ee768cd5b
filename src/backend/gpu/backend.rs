//! `GpuBackend`: the fused leaf-step kernel behind the [`Backend`] trait. Per-chain trajectory
//! state lives in device buffers; a dispatch uploads 32 bytes of command per stepping chain and
//! reads back 8 bytes per chain; the selected sample comes back once per draw.

use std::sync::Arc;

use wgpu::util::DeviceExt;

use super::codegen::Precision;
use super::device::{BatchLogpGrad, Gpu, GpuError, from_bytes, to_bytes};
use super::module::{STEP_SCALARS_PER_CHAIN, WORKGROUP_SIZE, step_module, step_vectors_per_chain};
use crate::backend::{Backend, Direction, DrawState, LeafReport, StepCommand};
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
}

/// The GPU backend for a group of chains.
pub struct GpuBackend {
    precision: Precision,
    gpu: Arc<Gpu>,
    pipeline: wgpu::ComputePipeline,
    bind: wgpu::BindGroup,
    vecs: wgpu::Buffer,
    scal: wgpu::Buffer,
    cmds: wgpu::Buffer,
    reports: wgpu::Buffer,
    params: wgpu::Buffer,
    reports_read: wgpu::Buffer,
    draws_read: wgpu::Buffer,
    batch: BatchLogpGrad,
    chain_ids: Vec<usize>,
    dim: usize,
    nv: usize,
    counters: TransferCounters,
}

fn precision_bytes(p: Precision) -> usize {
    match p {
        Precision::F32 => 4,
        Precision::F64 => 8,
    }
}

fn storage(gpu: &Gpu, label: &str, bytes: u64, extra: wgpu::BufferUsages) -> wgpu::Buffer {
    gpu.device().create_buffer(&wgpu::BufferDescriptor {
        label: Some(label),
        size: bytes.max(4),
        usage: wgpu::BufferUsages::STORAGE
            | wgpu::BufferUsages::COPY_DST
            | wgpu::BufferUsages::COPY_SRC
            | extra,
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

impl GpuBackend {
    /// A backend for chains with global ids `chain_ids`, trees up to `max_depth`, kernels in
    /// `precision`.
    pub fn new(
        gpu: Arc<Gpu>,
        prog: &Program,
        seed: u64,
        chain_ids: &[usize],
        max_depth: usize,
        precision: Precision,
    ) -> Result<GpuBackend, GpuError> {
        if precision == Precision::F64 && !gpu.has_f64() {
            return Err(GpuError::NoF64(gpu.name().to_string()));
        }
        let size = precision_bytes(precision);
        let dim = prog.dim;
        let d = dim.max(1);
        let k = chain_ids.len();
        let nv = step_vectors_per_chain(max_depth);
        // The per-chain vectors are the largest buffer: check it against the adapter first.
        let per_chain = (nv * d * size) as u64;
        let limit = gpu.max_binding_bytes();
        if per_chain * k as u64 > limit {
            return Err(GpuError::TooManyChains {
                requested: k,
                bytes: per_chain * k as u64,
                limit,
                max_chains: (limit / per_chain) as usize,
            });
        }
        let src = step_module(prog, max_depth, seed, precision)?;
        let device = gpu.device();
        let module = device.create_shader_module(wgpu::ShaderModuleDescriptor {
            label: Some("step"),
            source: wgpu::ShaderSource::Wgsl(src.into()),
        });
        let pipeline = device.create_compute_pipeline(&wgpu::ComputePipelineDescriptor {
            label: Some("step"),
            layout: None,
            module: &module,
            entry_point: Some("step"),
            compilation_options: Default::default(),
            cache: None,
        });
        let mut data = prog.data.concat();
        if data.is_empty() {
            data.push(0.0);
        }
        let data = device.create_buffer_init(&wgpu::util::BufferInitDescriptor {
            label: Some("data"),
            contents: &to_bytes(&data, precision),
            usage: wgpu::BufferUsages::STORAGE,
        });
        let vec_bytes = (k * nv * d * size) as u64;
        let vecs = storage(&gpu, "vecs", vec_bytes, wgpu::BufferUsages::empty());
        let scal_bytes = (k * STEP_SCALARS_PER_CHAIN * size) as u64;
        let scal = storage(&gpu, "scal", scal_bytes, wgpu::BufferUsages::empty());
        let cmds = storage(&gpu, "cmds", (k * 32) as u64, wgpu::BufferUsages::empty());
        let reports = storage(&gpu, "reports", (k * 8) as u64, wgpu::BufferUsages::empty());
        let params = storage(&gpu, "params", 4, wgpu::BufferUsages::empty());
        let bufs = [&data, &vecs, &scal, &cmds, &reports, &params];
        let entries: Vec<wgpu::BindGroupEntry> = bufs
            .iter()
            .enumerate()
            .map(|(b, buf)| wgpu::BindGroupEntry { binding: b as u32, resource: buf.as_entire_binding() })
            .collect();
        let bind = device.create_bind_group(&wgpu::BindGroupDescriptor {
            label: Some("step"),
            layout: &pipeline.get_bind_group_layout(0),
            entries: &entries,
        });
        // Unit inverse mass for every chain.
        let ones = to_bytes(&vec![1.0; d], precision);
        for c in 0..k {
            gpu.queue().write_buffer(&vecs, (((c * nv + 13) * d) * size) as u64, &ones);
        }
        let reports_read = staging(&gpu, "reports_read", (k * 8) as u64);
        let draws_read = staging(&gpu, "draws_read", (k * (2 * d + STEP_SCALARS_PER_CHAIN) * size) as u64);
        let batch = BatchLogpGrad::new(&gpu, prog, precision)?;
        Ok(GpuBackend {
            precision,
            gpu,
            pipeline,
            bind,
            vecs,
            scal,
            cmds,
            reports,
            params,
            reports_read,
            draws_read,
            batch,
            chain_ids: chain_ids.to_vec(),
            dim,
            nv,
            counters: TransferCounters::default(),
        })
    }

    /// Transfer counters so far.
    pub fn counters(&self) -> TransferCounters {
        self.counters
    }

    fn vec_offset(&self, chain: usize, slot: usize) -> u64 {
        (((chain * self.nv + slot) * self.dim.max(1)) * precision_bytes(self.precision)) as u64
    }

    fn read(&self, buf: &wgpu::Buffer, bytes: u64, name: &'static str) -> crate::Result<Vec<u32>> {
        let err = |reason: String| crate::Error::Backend {
            backend: "gpu",
            reason: format!("reading `{name}`: {reason}"),
        };
        let slice = buf.slice(..bytes.max(4));
        slice.map_async(wgpu::MapMode::Read, |_| {});
        self.gpu.device().poll(wgpu::PollType::wait_indefinitely()).map_err(|e| err(e.to_string()))?;
        let words = {
            let view = slice.get_mapped_range().map_err(|e| err(e.to_string()))?;
            bytemuck::pod_collect_to_vec::<u8, u32>(&view)
        };
        buf.unmap();
        Ok(words)
    }
}

impl Backend for GpuBackend {
    fn name(&self) -> String {
        format!("gpu ({})", self.gpu.name())
    }

    fn dim(&self) -> usize {
        self.dim
    }

    fn n_chains(&self) -> usize {
        self.chain_ids.len()
    }

    fn set_position(&mut self, chain: usize, q: &[f64]) -> Option<f64> {
        self.set_positions(&[(chain, q.to_vec())]).pop().flatten().map(|(lp, _)| lp)
    }

    fn set_positions(&mut self, points: &[(usize, Vec<f64>)]) -> Vec<Option<(f64, Vec<f64>)>> {
        // One batched evaluation for every point, then one upload per accepted chain.
        let flat: Vec<f64> = points.iter().flat_map(|(_, q)| q.iter().copied()).collect();
        let Ok((lps, grads)) = self.batch.run(&self.gpu, &flat) else {
            return vec![None; points.len()];
        };
        let (d, size) = (self.dim, precision_bytes(self.precision));
        points
            .iter()
            .enumerate()
            .map(|(k, (chain, q))| {
                let (lp, g) = (lps[k], &grads[k * d..(k + 1) * d]);
                if !lp.is_finite() || !g.iter().all(|x| x.is_finite()) {
                    return None;
                }
                let queue = self.gpu.queue();
                queue.write_buffer(&self.vecs, self.vec_offset(*chain, 6), &to_bytes(q, self.precision));
                queue.write_buffer(&self.vecs, self.vec_offset(*chain, 7), &to_bytes(g, self.precision));
                let at = ((chain * STEP_SCALARS_PER_CHAIN + 2) * size) as u64;
                queue.write_buffer(&self.scal, at, &to_bytes(&[lp], self.precision));
                Some((lp, g.to_vec()))
            })
            .collect()
    }

    fn set_inv_mass(&mut self, chain: usize, inv_mass: &[f64]) {
        let bytes = to_bytes(inv_mass, self.precision);
        self.gpu.queue().write_buffer(&self.vecs, self.vec_offset(chain, 13), &bytes);
    }

    fn step(&mut self, cmds: &[StepCommand], reports: &mut [LeafReport]) -> crate::Result<()> {
        let words: Vec<u32> = cmds
            .iter()
            .flat_map(|c| {
                let flags = c.begin as u32
                    | (c.probe as u32) << 1
                    | ((c.direction == Direction::Forward) as u32) << 2;
                [
                    c.chain as u32,
                    self.chain_ids[c.chain] as u32,
                    flags,
                    c.depth,
                    c.leaf,
                    c.iteration as u32,
                    (c.iteration >> 32) as u32,
                    (c.step_size as f32).to_bits(),
                ]
            })
            .collect();
        let queue = self.gpu.queue();
        queue.write_buffer(&self.cmds, 0, bytemuck::cast_slice(&words));
        queue.write_buffer(&self.params, 0, bytemuck::bytes_of(&(cmds.len() as u32)));
        let bytes = (cmds.len() * 8) as u64;
        let mut enc =
            self.gpu.device().create_command_encoder(&wgpu::CommandEncoderDescriptor { label: None });
        {
            let mut pass =
                enc.begin_compute_pass(&wgpu::ComputePassDescriptor { label: None, timestamp_writes: None });
            pass.set_pipeline(&self.pipeline);
            pass.set_bind_group(0, &self.bind, &[]);
            pass.dispatch_workgroups((cmds.len() as u32).div_ceil(WORKGROUP_SIZE), 1, 1);
        }
        enc.copy_buffer_to_buffer(&self.reports, 0, &self.reports_read, 0, bytes.max(4));
        queue.submit([enc.finish()]);
        let out = self.read(&self.reports_read, bytes, "reports")?;
        for (r, w) in reports.iter_mut().zip(out.chunks_exact(2)) {
            *r = LeafReport {
                diverged: w[0] & 1 != 0,
                subtree_turning: w[0] & 2 != 0,
                tree_turning: w[0] & 4 != 0,
                energy_error: f64::from(f32::from_bits(w[1])),
            };
        }
        self.counters.dispatches += 1;
        self.counters.commands += cmds.len() as u64;
        self.counters.report_bytes += bytes;
        Ok(())
    }

    fn read_draws(&mut self, chains: &[usize], out: &mut [DrawState]) -> crate::Result<()> {
        let d = self.dim.max(1);
        let size = precision_bytes(self.precision);
        let values = 2 * d + STEP_SCALARS_PER_CHAIN;
        let per = (values * size) as u64;
        let (vec_bytes, scal_bytes) = ((2 * d * size) as u64, (STEP_SCALARS_PER_CHAIN * size) as u64);
        let mut enc =
            self.gpu.device().create_command_encoder(&wgpu::CommandEncoderDescriptor { label: None });
        for (k, &c) in chains.iter().enumerate() {
            let dst = k as u64 * per;
            enc.copy_buffer_to_buffer(&self.vecs, self.vec_offset(c, 6), &self.draws_read, dst, vec_bytes);
            let src = ((c * STEP_SCALARS_PER_CHAIN) * size) as u64;
            enc.copy_buffer_to_buffer(&self.scal, src, &self.draws_read, dst + vec_bytes, scal_bytes);
        }
        self.gpu.queue().submit([enc.finish()]);
        let words = self.read(&self.draws_read, chains.len() as u64 * per, "draws")?;
        let all = from_bytes(bytemuck::cast_slice(&words), self.precision);
        for (k, o) in out.iter_mut().enumerate().take(chains.len()) {
            let v = &all[k * values..(k + 1) * values];
            o.q = v[..self.dim].to_vec();
            o.g = v[d..d + self.dim].to_vec();
            let s = &v[2 * d..];
            o.logp = s[2];
            o.energy = s[3];
            o.energy_error = s[3] - s[6];
            o.sum_accept = s[9];
            o.n_leapfrog = s[10] as u32;
        }
        Ok(())
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
