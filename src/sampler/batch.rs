//! A differentiated program evaluated at many points at once: on the CPU executor over
//! threads, or in GPU dispatches of [`GPU_BATCH`] points.

use rayon::prelude::*;

use super::BackendChoice;
use crate::backend::cpu::Executor;
use crate::backend::gpu::{BatchLogpGrad, Gpu, GpuError, Mapping, MappingChoice, Precision};
use crate::compile::Program;
use crate::error::Result;

/// Points per GPU dispatch.
const GPU_BATCH: usize = 4096;

/// Where a [`BatchEval`] evaluates.
enum Engine {
    Cpu(Box<Executor>),
    Gpu(Box<(Gpu, BatchLogpGrad)>),
}

/// A program's log density and gradient at a batch of points (point-major), in the order
/// given, on the backend chosen when it was made.
pub(crate) struct BatchEval {
    engine: Engine,
    dim: usize,
}

impl BatchEval {
    /// `prog` (differentiated) on `backend`: `Auto` as for sampling, falling back to the CPU
    /// (in f64: the same values) for a program beyond the GPU kernel's size limits
    /// (DECISIONS 99), and, where `need_f64` asks for it, for an adapter without 64-bit floats; the
    /// GPU in f64 where the adapter has it, f32 otherwise.
    pub(crate) fn new(prog: &Program, backend: BackendChoice, need_f64: bool) -> Result<BatchEval> {
        let dim = prog.dim.max(1);
        let engine = match backend.resolve()? {
            BackendChoice::Gpu => {
                let gpu = Gpu::new()?;
                if need_f64 && !gpu.has_f64() && backend.automatic() {
                    return Ok(BatchEval { engine: Engine::Cpu(Box::new(Executor::new(prog.clone()))), dim });
                }
                let precision = if gpu.has_f64() { Precision::F64 } else { Precision::F32 };
                let mapping = Mapping::choose(prog, MappingChoice::Auto);
                match BatchLogpGrad::new(&gpu, prog, precision, mapping) {
                    Ok(kernel) => Engine::Gpu(Box::new((gpu, kernel))),
                    Err(
                        GpuError::WorkgroupMemory { .. }
                        | GpuError::InvocationDim { .. }
                        | GpuError::BindingTooLarge { .. },
                    ) if backend.automatic() => Engine::Cpu(Box::new(Executor::new(prog.clone()))),
                    Err(e) => return Err(e.into()),
                }
            }
            _ => Engine::Cpu(Box::new(Executor::new(prog.clone()))),
        };
        Ok(BatchEval { engine, dim })
    }

    /// Whether the points are evaluated on a GPU.
    pub(crate) fn on_gpu(&self) -> bool {
        matches!(self.engine, Engine::Gpu(_))
    }

    /// The log density at each point of `points` (point-major, the program's dimension
    /// apart) and the gradients, point-major; a log density that is NaN stays NaN.
    pub(crate) fn run(&self, points: &[f64]) -> Result<(Vec<f64>, Vec<f64>)> {
        let dim = self.dim;
        match &self.engine {
            Engine::Cpu(exec) => {
                let mut grad =
                    crate::mem::try_filled(points.len(), 0.0, || "a batch evaluation's gradients".into())?;
                let logp: Vec<f64> = grad
                    .par_chunks_mut(dim)
                    .zip(points.par_chunks(dim))
                    .map_init(|| exec.workspace(), |ws, (g, u)| exec.run(ws, u, g))
                    .collect();
                Ok((logp, grad))
            }
            Engine::Gpu(gk) => {
                let (gpu, kernel) = &**gk;
                let (mut logp, mut grad) = (Vec::new(), Vec::new());
                for batch in points.chunks(GPU_BATCH * dim) {
                    let (l, g) = kernel.run(gpu, batch)?;
                    logp.extend_from_slice(&l);
                    grad.extend_from_slice(&g);
                }
                Ok((logp, grad))
            }
        }
    }
}
