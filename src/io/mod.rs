//! Trace files: writing a run while it samples and reading it back.
//!
//! - [`CmdStanCsv`]: CmdStan's CSV, one file per chain, that `arviz.from_cmdstan` and
//!   `cmdstanpy.from_csv` read; [`read_cmdstan`] and [`read_cmdstan_dir`] read them back.
//! - [`Zarr`]: an ArviZ InferenceData store (Zarr format 2, through the `zarrs` crate) that
//!   `arviz.from_zarr` opens, with the `posterior` and `sample_stats` groups streamed during
//!   sampling; [`InferenceData`] adds `observed_data`, `log_likelihood`, `log_prior`,
//!   `prior`, `prior_predictive` and `posterior_predictive`; [`read_zarr`] reads the posterior back.
//!
//! Both are [`TraceWriter`](crate::sampler::TraceWriter)s given to
//! [`Sampler::save`](crate::Sampler::save): the files are created before sampling starts and
//! receive kept draws in blocks as they are made.

pub mod cmdstan;
pub mod zarr;

pub use cmdstan::{CmdStanCsv, StanCsv, StanCsvChain, read_cmdstan, read_cmdstan_dir};
pub use zarr::{InferenceData, Zarr, read_zarr};
