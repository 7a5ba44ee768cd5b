//! wgpu plumbing: adapter and device, and a batch logp+gradient pipeline built once per program.
//! Per call only the positions are written and logp/gradients read back.

use wgpu::util::DeviceExt;

use super::codegen::{CodegenError, Precision, flat_data};
use super::mapping::Mapping;
use super::module::{
    BATCH_BINDINGS, WORKGROUP_SIZE, batch_logp_grad_module, bind_group_layout, with_scratch,
};
use crate::compile::Program;

/// GPU failures, each naming what failed.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum GpuError {
    /// No adapter was found.
    #[error("no GPU adapter found")]
    NoAdapter,
    /// f64 kernels were requested but the adapter lacks `SHADER_F64`.
    #[error("adapter `{0}` does not support f64 shaders")]
    NoF64(String),
    /// The device could not be created.
    #[error("requesting a device from `{adapter}` failed: {reason}")]
    Device {
        /// Adapter name.
        adapter: String,
        /// What wgpu said.
        reason: String,
    },
    /// Code generation failed.
    #[error(transparent)]
    Codegen(#[from] CodegenError),
    /// The chains' state does not fit in one storage binding of this adapter.
    #[error(
        "{requested} chains need {bytes} bytes of state, over the adapter's {limit}-byte storage binding limit; at most {max_chains} chains fit in one backend (Sampler::device_groups splits a run's chains over several)"
    )]
    TooManyChains {
        /// Chains asked for.
        requested: usize,
        /// Bytes they need in the largest buffer.
        bytes: u64,
        /// The adapter's limit.
        limit: u64,
        /// The largest chain count that fits.
        max_chains: usize,
    },
    /// The workgroup-per-chain mapping needs more workgroup memory than the adapter has.
    #[error(
        "one workgroup per chain needs {bytes} bytes of workgroup memory for dimension {dim}, over the adapter's {limit}-byte limit"
    )]
    WorkgroupMemory {
        /// The model's dimension.
        dim: usize,
        /// Bytes needed.
        bytes: u64,
        /// The adapter's limit.
        limit: u64,
    },
    /// wgpu or the driver rejected a shader, pipeline or buffer (validation, out of memory,
    /// internal error), or the device reported an error while running.
    #[error("{what}: {reason}")]
    Rejected {
        /// What was being created or run.
        what: String,
        /// What wgpu or the driver said.
        reason: String,
    },
    /// The program has no position to step (a model without free variables).
    #[error("the program has no free variables: there is nothing to step")]
    NoFreeVariables,
    /// A buffer is larger than the adapter lets one storage binding be.
    #[error("the `{what}` buffer needs {bytes} bytes, over the adapter's {limit}-byte storage binding limit")]
    BindingTooLarge {
        /// Which buffer.
        what: &'static str,
        /// Bytes it needs.
        bytes: u64,
        /// The adapter's limit.
        limit: u64,
    },
    /// One invocation per chain was asked for a model whose vectors are too long to keep in
    /// an invocation's private memory.
    #[error(
        "one invocation per chain keeps a chain's vectors in private arrays of at most {max} elements, but the padded dimension is {dim}; use one workgroup per chain (MappingChoice::Auto or Workgroup)"
    )]
    InvocationDim {
        /// The model's padded dimension.
        dim: usize,
        /// The limit ([`super::mapping::MAX_INVOCATION_DIM`]).
        max: usize,
    },
    /// A buffer could not be read back (e.g. the device was lost).
    #[error("reading back `{buffer}` failed: {reason}")]
    Readback {
        /// Buffer name.
        buffer: &'static str,
        /// What wgpu said.
        reason: String,
    },
}

/// A GPU failure as the library's error: [`crate::Error::Backend`] naming the GPU backend.
impl From<GpuError> for crate::Error {
    fn from(e: GpuError) -> crate::Error {
        crate::Error::Backend { backend: "gpu", reason: e.to_string() }
    }
}

/// Whether the machine shows a GPU device node. On Linux every hardware adapter has one: a DRM
/// render node (`/dev/dri/renderD*`: AMD, Intel, Nouveau, …), NVIDIA's `/dev/nvidia*`, AMD's
/// `/dev/kfd`, or WSL's `/dev/dxg`. Without one no hardware adapter can exist, so the automatic
/// backend choice does not load Vulkan at all: its implicit layers (Mesa's device-select layer
/// among them) print `XDG_RUNTIME_DIR is invalid…` on machines without a display although nothing
/// went wrong. Elsewhere: `true` (ask Vulkan).
pub fn may_have_hardware_gpu() -> bool {
    #[cfg(target_os = "linux")]
    {
        let render = std::fs::read_dir("/dev/dri")
            .map(|d| d.flatten().any(|e| e.file_name().to_string_lossy().starts_with("renderD")))
            .unwrap_or(false);
        render
            || ["/dev/nvidiactl", "/dev/nvidia0", "/dev/kfd", "/dev/dxg"]
                .iter()
                .any(|p| std::path::Path::new(p).exists())
    }
    #[cfg(not(target_os = "linux"))]
    {
        true
    }
}

/// Name of the default adapter if it is hardware (not a software rasteriser such as lavapipe,
/// whose device type is `Cpu`); probed once per process, and only where
/// [`may_have_hardware_gpu`] says a hardware adapter can exist.
pub fn hardware_adapter() -> Option<String> {
    static PROBE: std::sync::OnceLock<Option<String>> = std::sync::OnceLock::new();
    PROBE
        .get_or_init(|| {
            if !may_have_hardware_gpu() {
                return None;
            }
            let instance =
                wgpu::Instance::new(wgpu::InstanceDescriptor::new_without_display_handle_from_env());
            let options = wgpu::RequestAdapterOptions {
                power_preference: wgpu::PowerPreference::HighPerformance,
                ..Default::default()
            };
            let adapter = pollster::block_on(instance.request_adapter(&options)).ok()?;
            let info = adapter.get_info();
            (info.device_type != wgpu::DeviceType::Cpu).then_some(info.name)
        })
        .clone()
}

/// Stack of the thread that compiles shaders. Drivers' compilers recurse along a program's
/// dependency chains: Mesa's lavapipe overflowed a 2 MiB stack on a chain of about 40,000
/// dependent additions and needs 40–80 bytes per link (DECISIONS 25), so this holds the
/// `codegen::MAX_CHAIN` of 10⁶ with a 3× margin. The stack is reserved address space; only the
/// pages a compilation touches are committed.
pub const COMPILE_STACK_BYTES: usize = 256 << 20;

/// An adapter with its device and queue.
pub struct Gpu {
    device: wgpu::Device,
    queue: wgpu::Queue,
    info: wgpu::AdapterInfo,
    f64: bool,
    /// Errors wgpu reported outside any error scope (instead of its default handler, which
    /// panics), and a lost device; drained by [`Gpu::check`].
    errors: std::sync::Arc<std::sync::Mutex<Vec<String>>>,
}

impl Gpu {
    /// The default adapter (high performance preferred), or `NoAdapter`.
    pub fn new() -> Result<Gpu, GpuError> {
        let instance = wgpu::Instance::new(wgpu::InstanceDescriptor::new_without_display_handle_from_env());
        let options = wgpu::RequestAdapterOptions {
            power_preference: wgpu::PowerPreference::HighPerformance,
            ..Default::default()
        };
        let adapter =
            pollster::block_on(instance.request_adapter(&options)).map_err(|_| GpuError::NoAdapter)?;
        let info = adapter.get_info();
        let f64 = adapter.features().contains(wgpu::Features::SHADER_F64);
        let desc = wgpu::DeviceDescriptor {
            label: Some("exmc"),
            required_features: if f64 { wgpu::Features::SHADER_F64 } else { wgpu::Features::empty() },
            required_limits: adapter.limits(),
            ..Default::default()
        };
        let (device, queue) = pollster::block_on(adapter.request_device(&desc))
            .map_err(|e| GpuError::Device { adapter: info.name.clone(), reason: e.to_string() })?;
        let errors = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        let sink = errors.clone();
        device.on_uncaptured_error(std::sync::Arc::new(move |e: wgpu::Error| {
            if let Ok(mut v) = sink.lock() {
                v.push(e.to_string());
            }
        }));
        let sink = errors.clone();
        device.set_device_lost_callback(move |reason, message| {
            if let Ok(mut v) = sink.lock() {
                v.push(format!("device lost ({reason:?}): {message}"));
            }
        });
        Ok(Gpu { device, queue, info, f64, errors })
    }

    /// The read-only storage buffer of a program's data (one element when it has none),
    /// checked against the binding limit first.
    pub fn data_buffer(&self, prog: &Program, precision: Precision) -> Result<wgpu::Buffer, GpuError> {
        let mut data = flat_data(prog);
        let len = data.len().max(1);
        let bytes = len as u64 * precision.bytes() as u64;
        if bytes > self.max_binding_bytes() {
            return Err(GpuError::BindingTooLarge { what: "data", bytes, limit: self.max_binding_bytes() });
        }
        data.resize(len, 0.0);
        Ok(self.device.create_buffer_init(&wgpu::util::BufferInitDescriptor {
            label: Some("data"),
            contents: &to_bytes(&data, precision),
            usage: wgpu::BufferUsages::STORAGE,
        }))
    }

    /// Fails with the errors the device reported since the last check (while `what` ran).
    pub fn check(&self, what: &str) -> Result<(), GpuError> {
        let mut errors = self.errors.lock().unwrap_or_else(|p| p.into_inner());
        if errors.is_empty() {
            return Ok(());
        }
        let reason = errors.join("; ");
        errors.clear();
        Err(GpuError::Rejected { what: what.to_string(), reason })
    }

    /// Runs `f` inside error scopes for validation, out-of-memory and internal errors on this
    /// thread: whatever wgpu reports while `f` runs becomes `GpuError::Rejected` about `what`.
    pub fn scoped<T>(&self, what: &str, f: impl FnOnce() -> T) -> Result<T, GpuError> {
        let scopes =
            [wgpu::ErrorFilter::Validation, wgpu::ErrorFilter::OutOfMemory, wgpu::ErrorFilter::Internal]
                .map(|filter| self.device.push_error_scope(filter));
        let out = f();
        let mut reasons = Vec::new();
        for scope in scopes.into_iter().rev() {
            if let Some(e) = pollster::block_on(scope.pop()) {
                reasons.push(e.to_string());
            }
        }
        self.check(what)?;
        if reasons.is_empty() {
            Ok(out)
        } else {
            Err(GpuError::Rejected { what: what.to_string(), reason: reasons.join("; ") })
        }
    }

    /// Compiles the WGSL module `src` and creates one compute pipeline per entry point (with
    /// `layout`, or the layout derived from the module when `None`). Compilation runs on a
    /// thread with a [`COMPILE_STACK_BYTES`] stack and inside error scopes, so a deep program
    /// cannot overflow the caller's stack inside the driver and a rejected module is an error,
    /// never a panic.
    pub fn pipelines(
        &self,
        label: &str,
        src: String,
        layout: Option<&wgpu::PipelineLayout>,
        entries: &[&str],
    ) -> Result<Vec<wgpu::ComputePipeline>, GpuError> {
        let compile = || {
            self.scoped(&format!("compiling shader module `{label}`"), || {
                let module = self.device.create_shader_module(wgpu::ShaderModuleDescriptor {
                    label: Some(label),
                    source: wgpu::ShaderSource::Wgsl(src.into()),
                });
                entries
                    .iter()
                    .map(|entry| {
                        self.device.create_compute_pipeline(&wgpu::ComputePipelineDescriptor {
                            label: Some(entry),
                            layout,
                            module: &module,
                            entry_point: Some(entry),
                            compilation_options: Default::default(),
                            cache: None,
                        })
                    })
                    .collect::<Vec<_>>()
            })
        };
        std::thread::scope(|s| {
            let thread = std::thread::Builder::new()
                .name("exmc-shader-compile".into())
                .stack_size(COMPILE_STACK_BYTES)
                .spawn_scoped(s, compile)
                .map_err(|e| GpuError::Rejected {
                    what: format!("starting the compiler thread for `{label}`"),
                    reason: e.to_string(),
                })?;
            thread.join().unwrap_or_else(|_| {
                Err(GpuError::Rejected {
                    what: format!("compiling shader module `{label}`"),
                    reason: "the compiler thread panicked".into(),
                })
            })
        })
    }

    /// Adapter name (e.g. "llvmpipe (LLVM 15.0.6, 256 bits)").
    pub fn name(&self) -> &str {
        &self.info.name
    }

    /// Whether the adapter is a CPU emulating a GPU (lavapipe, llvmpipe, WARP).
    pub fn is_cpu(&self) -> bool {
        self.info.device_type == wgpu::DeviceType::Cpu
    }

    /// Whether f64 kernels are available.
    pub fn has_f64(&self) -> bool {
        self.f64
    }

    /// Largest storage binding (and buffer) this device accepts, in bytes.
    pub fn max_binding_bytes(&self) -> u64 {
        let l = self.device.limits();
        l.max_storage_buffer_binding_size.min(l.max_buffer_size)
    }

    /// Most chains one dispatch of the step kernel can serve under `mapping` (one dimension of
    /// workgroups).
    pub fn max_dispatch_chains(&self, mapping: Mapping) -> u64 {
        u64::from(self.device.limits().max_compute_workgroups_per_dimension)
            * u64::from(mapping.chains_per_workgroup())
    }

    /// Bytes of workgroup memory a compute workgroup may declare.
    pub fn max_workgroup_bytes(&self) -> u64 {
        u64::from(self.device.limits().max_compute_workgroup_storage_size)
    }

    /// The device.
    pub fn device(&self) -> &wgpu::Device {
        &self.device
    }

    /// The queue.
    pub fn queue(&self) -> &wgpu::Queue {
        &self.queue
    }

    /// Runs `entry` of the WGSL module `src` over `n` invocations (workgroups of
    /// [`WORKGROUP_SIZE`]) with one `array<u32>` storage buffer of `n * words` words at group 0,
    /// binding 0, and returns its contents. A tool for conformance tests of WGSL functions.
    pub fn run_words(&self, src: &str, entry: &str, n: u32, words: u32) -> Result<Vec<u32>, GpuError> {
        let pipeline = self.pipelines(entry, src.to_string(), None, &[entry])?.remove(0);
        let bytes = u64::from(n * words).max(1) * 4;
        let out = self.device.create_buffer(&wgpu::BufferDescriptor {
            label: Some("out"),
            size: bytes,
            usage: wgpu::BufferUsages::STORAGE | wgpu::BufferUsages::COPY_SRC,
            mapped_at_creation: false,
        });
        let read = self.device.create_buffer(&wgpu::BufferDescriptor {
            label: Some("out_read"),
            size: bytes,
            usage: wgpu::BufferUsages::COPY_DST | wgpu::BufferUsages::MAP_READ,
            mapped_at_creation: false,
        });
        let bind = self.device.create_bind_group(&wgpu::BindGroupDescriptor {
            label: None,
            layout: &pipeline.get_bind_group_layout(0),
            entries: &[wgpu::BindGroupEntry { binding: 0, resource: out.as_entire_binding() }],
        });
        let mut enc = self.device.create_command_encoder(&wgpu::CommandEncoderDescriptor { label: None });
        {
            let mut pass =
                enc.begin_compute_pass(&wgpu::ComputePassDescriptor { label: None, timestamp_writes: None });
            pass.set_pipeline(&pipeline);
            pass.set_bind_group(0, &bind, &[]);
            pass.dispatch_workgroups(n.div_ceil(WORKGROUP_SIZE), 1, 1);
        }
        enc.copy_buffer_to_buffer(&out, 0, &read, 0, bytes);
        self.queue.submit([enc.finish()]);
        let slice = read.slice(..);
        slice.map_async(wgpu::MapMode::Read, |_| {});
        self.device
            .poll(wgpu::PollType::wait_indefinitely())
            .map_err(|e| GpuError::Readback { buffer: "out", reason: e.to_string() })?;
        let view = slice
            .get_mapped_range()
            .map_err(|e| GpuError::Readback { buffer: "out", reason: e.to_string() })?;
        let words = bytemuck::pod_collect_to_vec::<u8, u32>(&view);
        drop(view);
        read.unmap();
        self.check(&format!("running `{entry}`"))?;
        Ok(words)
    }
}

/// Values as device bytes in `precision`.
pub fn to_bytes(values: &[f64], precision: Precision) -> Vec<u8> {
    match precision {
        Precision::F32 => {
            bytemuck::cast_slice(&values.iter().map(|&v| v as f32).collect::<Vec<f32>>()).to_vec()
        }
        Precision::F64 => bytemuck::cast_slice(values).to_vec(),
    }
}

/// Device bytes in `precision` as values.
pub fn from_bytes(bytes: &[u8], precision: Precision) -> Vec<f64> {
    match precision {
        Precision::F32 => bytemuck::pod_collect_to_vec::<u8, f32>(bytes).into_iter().map(f64::from).collect(),
        Precision::F64 => bytemuck::pod_collect_to_vec::<u8, f64>(bytes),
    }
}

/// The batch logp+gradient kernel of one program.
pub struct BatchLogpGrad {
    pipeline: wgpu::ComputePipeline,
    layout: wgpu::BindGroupLayout,
    data: wgpu::Buffer,
    dim: usize,
    precision: Precision,
    mapping: Mapping,
    /// Reals of scratch per chain (zero: no scratch binding).
    scratch: usize,
}

impl BatchLogpGrad {
    /// Generates, compiles and sets up the kernel for `prog` with a thread mapping.
    pub fn new(
        gpu: &Gpu,
        prog: &Program,
        precision: Precision,
        mapping: Mapping,
    ) -> Result<BatchLogpGrad, GpuError> {
        if precision == Precision::F64 && !gpu.f64 {
            return Err(GpuError::NoF64(gpu.info.name.clone()));
        }
        let module = batch_logp_grad_module(prog, precision, mapping)?;
        let layout = bind_group_layout(&gpu.device, &with_scratch(&BATCH_BINDINGS, module.scratch > 0));
        let pipeline_layout = gpu.device.create_pipeline_layout(&wgpu::PipelineLayoutDescriptor {
            label: None,
            bind_group_layouts: &[Some(&layout)],
            immediate_size: 0,
        });
        let pipeline = gpu
            .pipelines("batch_logp_grad", module.code, Some(&pipeline_layout), &["batch_logp_grad"])?
            .remove(0);
        let data = gpu.data_buffer(prog, precision)?;
        Ok(BatchLogpGrad {
            pipeline,
            layout,
            data,
            dim: prog.dim,
            precision,
            mapping,
            scratch: module.scratch,
        })
    }

    /// Evaluates `positions` (chain-major, `chains × dim`): returns logp per chain and the
    /// gradients (chain-major).
    pub fn run(&self, gpu: &Gpu, positions: &[f64]) -> Result<(Vec<f64>, Vec<f64>), GpuError> {
        let d = self.dim.max(1);
        let chains = positions.len() / d.max(1);
        let size = self.precision.bytes() as u64;
        let storage = |label, bytes: u64, extra| {
            gpu.device.create_buffer(&wgpu::BufferDescriptor {
                label: Some(label),
                size: bytes.max(size),
                usage: wgpu::BufferUsages::STORAGE | extra,
                mapped_at_creation: false,
            })
        };
        let mut pos = positions.to_vec();
        if pos.is_empty() {
            pos.push(0.0);
        }
        let pos = gpu.device.create_buffer_init(&wgpu::util::BufferInitDescriptor {
            label: Some("pos"),
            contents: &to_bytes(&pos, self.precision),
            usage: wgpu::BufferUsages::STORAGE,
        });
        let grad_bytes = (chains * self.dim) as u64 * size;
        let logp_bytes = chains as u64 * size;
        let grad = storage("grad_out", grad_bytes, wgpu::BufferUsages::COPY_SRC);
        let logp = storage("logp_out", logp_bytes, wgpu::BufferUsages::COPY_SRC);
        let scratch_bytes = (chains * self.scratch) as u64 * size;
        if scratch_bytes > gpu.max_binding_bytes() {
            return Err(GpuError::BindingTooLarge {
                what: "scratch",
                bytes: scratch_bytes,
                limit: gpu.max_binding_bytes(),
            });
        }
        let scratch = storage("scratch", scratch_bytes, wgpu::BufferUsages::empty());
        let buffers = [&pos, &self.data, &grad, &logp, &scratch];
        let entries: Vec<wgpu::BindGroupEntry> = with_scratch(&BATCH_BINDINGS, self.scratch > 0)
            .iter()
            .zip(buffers)
            .map(|((binding, _, _, _), b)| wgpu::BindGroupEntry {
                binding: *binding,
                resource: b.as_entire_binding(),
            })
            .collect();
        let bind = gpu.device.create_bind_group(&wgpu::BindGroupDescriptor {
            label: None,
            layout: &self.layout,
            entries: &entries,
        });
        let staging = |label, bytes: u64| {
            gpu.device.create_buffer(&wgpu::BufferDescriptor {
                label: Some(label),
                size: bytes.max(size),
                usage: wgpu::BufferUsages::COPY_DST | wgpu::BufferUsages::MAP_READ,
                mapped_at_creation: false,
            })
        };
        let (grad_read, logp_read) = (staging("grad_read", grad_bytes), staging("logp_read", logp_bytes));
        let mut enc = gpu.device.create_command_encoder(&wgpu::CommandEncoderDescriptor { label: None });
        {
            let mut pass =
                enc.begin_compute_pass(&wgpu::ComputePassDescriptor { label: None, timestamp_writes: None });
            pass.set_pipeline(&self.pipeline);
            pass.set_bind_group(0, &bind, &[]);
            pass.dispatch_workgroups(self.mapping.workgroups(chains as u32), 1, 1);
        }
        enc.copy_buffer_to_buffer(&grad, 0, &grad_read, 0, grad_bytes.max(size));
        enc.copy_buffer_to_buffer(&logp, 0, &logp_read, 0, logp_bytes.max(size));
        gpu.queue.submit([enc.finish()]);
        let read = |buf: &wgpu::Buffer, name: &'static str, len: usize| -> Result<Vec<f64>, GpuError> {
            let slice = buf.slice(..);
            slice.map_async(wgpu::MapMode::Read, |_| {});
            gpu.device
                .poll(wgpu::PollType::wait_indefinitely())
                .map_err(|e| GpuError::Readback { buffer: name, reason: e.to_string() })?;
            let view = slice
                .get_mapped_range()
                .map_err(|e| GpuError::Readback { buffer: name, reason: e.to_string() })?;
            let mut v = from_bytes(&view, self.precision);
            drop(view);
            buf.unmap();
            v.truncate(len);
            Ok(v)
        };
        let g = read(&grad_read, "grad_out", chains * self.dim)?;
        let l = read(&logp_read, "logp_out", chains)?;
        gpu.check("running the batch logp+gradient kernel")?;
        Ok((l, g))
    }
}
