//! The GPU backend (in progress): WGSL code generation for the `Program`, validated with naga.
//! Device execution and the fused NUTS step kernel plug in behind [`crate::backend::Backend`].

pub mod backend;
pub mod codegen;
pub mod device;
pub mod mapping;
pub mod module;

pub use backend::{GpuBackend, TransferCounters};
pub use codegen::{CodegenError, Precision};
pub use device::{BatchLogpGrad, Gpu, GpuError};
pub use mapping::{Mapping, MappingChoice};
