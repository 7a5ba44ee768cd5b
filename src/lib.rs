//! # exmc — NUTS for many chains, GPU-first
//!
//! A model is data ([`Model`]); rewrite passes put it into a form that samples well; a
//! compiler turns it into one straight-line [`Program`](compile::Program) computing the log
//! density and its gradient; a backend runs that program for a batch of chains while the host
//! runs each chain's NUTS tree logic independently.
//!
//! ```
//! use exmc::prelude::*;
//!
//! let mut m = Model::new();
//! let mu = m.rv("mu", Normal::new(0.0, 5.0))?;
//! let sigma = m.rv("sigma", HalfNormal::new(2.0))?;
//! m.observe("x", Normal::new(mu, sigma), &[2.1, 1.8, 2.5, 2.0, 1.9, 2.3, 2.2, 1.7, 2.4, 2.6])?;
//!
//! let fit = Sampler::new(&m).chains(4).warmup(300).draws(300).seed(7).progress(false).run()?;
//! let summary = fit.summary();
//! println!("{summary}");
//! let mu_row = summary.rows.iter().find(|r| r.name == "mu").unwrap();
//! assert!((mu_row.mean - 2.15).abs() < 0.1);
//! # Ok::<(), exmc::Error>(())
//! ```
//!
//! Layers (each imports only the ones listed before it): [`model`], [`rewrite`], [`compile`],
//! [`backend`], [`nuts`], [`sampler`], [`diagnostics`], [`optimize`], [`io`].

#![warn(missing_docs)]

pub mod backend;
pub mod compile;
pub mod diagnostics;
pub mod error;
pub mod gp;
pub mod io;
pub mod mem;
pub mod model;
pub mod nuts;
pub mod optimize;
pub mod plot;
pub mod report;
pub mod rewrite;
pub mod rng;
pub mod sampler;
pub mod smc;

pub use error::{Error, Result};
pub use model::Model;
pub use sampler::{Fit, Sampler};

/// The examples in README.md, run as doctests.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
pub struct ReadmeDoctests;

/// The names most programs need.
pub mod prelude {
    pub use crate::error::{Error, Result};
    pub use crate::model::dist::families::*;
    pub use crate::model::dist::{Censored, Mixture, censoring_bound};
    pub use crate::model::{Dist, DistKind, Expr, Model, NodeKind, Shape, Var};
    pub use crate::optimize::{
        Advi, AdviMethod, AdviOptions, Laplace, MapEstimate, Optimizer, PathReport, Pathfinder,
        PathfinderOptions,
    };
    pub use crate::sampler::{
        Adaptation, BackendChoice, CancelToken, Fit, Init, LowRankOptions, Metric, MetricInit, Sampler,
        SensitivityOptions, compute_log_likelihood, compute_log_prior, log_likelihood, posterior_predictive,
        power_scaling_sensitivity, prior_predictive,
    };
    pub use crate::smc::{Smc, SmcKernel, SmcOptions, SmcStage, sample_smc};
}
