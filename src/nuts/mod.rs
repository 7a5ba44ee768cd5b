//! Multinomial NUTS on the host: per-chain resumable state machines and their adaptation.
//!
//! Nothing here calls a backend: a [`ChainMachine`] issues [`StepCommand`](crate::backend::StepCommand)s
//! and consumes [`LeafReport`](crate::backend::LeafReport)s, so any driver can batch many chains.

pub mod adapt;
pub mod chain;
pub mod low_rank;
pub mod mass_matrix;
pub mod pooled;
pub mod step_size;
pub mod tree;
pub mod warmup;

pub use adapt::Adaptation;
pub use chain::{ChainMachine, ChainOptions, DrawOutcome, DrawStats};
pub use low_rank::{LowRankOptions, Metric};
pub use pooled::PooledAdapter;
pub use step_size::DualAveragingOptions;
pub use tree::{DirectionWords, Trajectory, TrajectoryEnd};
