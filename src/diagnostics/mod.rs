//! MCMC convergence diagnostics that reproduce ArviZ 0.23.4 (`az.ess`, `az.rhat`,
//! `az.mcse`, `az.bfmi`, `az.hdi`, `az.summary`) to floating-point accuracy, and model
//! checks that do too: PSIS-LOO, WAIC, LOO-PIT and `compare` (`az.loo`, `az.waic`,
//! `az.loo_pit`, `az.compare`), and power-scaling sensitivity (`az.psens`, [`Sensitivity`]).
//!
//! Every function is a pure function over explicit draws: the convergence diagnostics take
//! `chains: &[&[f64]]`, one slice per chain, all of the same length; the model checks take
//! pointwise log densities and draws pooled chain after chain. Nothing here depends on the
//! rest of the crate.
//!
//! # Conventions (all as in ArviZ 0.23.4 with numba disabled)
//!
//! * **Split chains**: every chain is cut into two halves; with an odd number of
//!   draws the middle draw is dropped.
//! * **Rank normalisation**: pooled ranks with ties averaged
//!   (`scipy.stats.rankdata`), offset `(r - 3/8) / (S + 1/4)`, mapped through the
//!   standard normal quantile ([`norm_ppf`], AS 241).
//! * **ESS**: FFT autocovariance (`rustfft`, zero-padded to a 5-smooth length ≥
//!   `2n`), Geyer's initial positive then initial monotone sequence, `tau`
//!   floored at `1 / log10(S)`.
//! * **Tail ESS**: minimum over the 5 % and 95 % quantile ESS; quantiles are
//!   type 7 (`scipy.stats.mstats.mquantiles(alphap=1, betap=1)`).
//! * **R-hat** ([`rhat`]): max of bulk and folded rank-normalised split R-hat.
//! * **MCSE of sd** ([`mcse_sd`]): ArviZ 0.23.4's formula
//!   `sqrt(((mean(s²) - mean(s)²) / ess_mean(s)) / mean(s) / 4)`, `s = (x - x̄)²`.
//!
//! # Degenerate input
//!
//! No function panics. Empty input, ragged chains, fewer than 4 draws per
//! chain or any NaN give NaN (ArviZ returns NaN with a warning). R-hat needs at
//! least 2 chains, otherwise NaN. Constant draws follow ArviZ: every ESS is
//! the total number of draws, R-hat and `mcse_sd` are NaN, `mcse_mean` is 0,
//! and [`bfmi`] of constant energy is NaN. Infinite draws are not rejected
//! (as in ArviZ); moment-based results are then NaN.

mod bfmi;
mod compare;
mod ess;
mod hdi;
mod loo;
mod mcse;
mod nested_rhat;
mod power_scaling;
mod rank;
mod rhat;
mod summary;

pub use bfmi::bfmi;
pub use compare::{CompareError, Comparison, ComparisonRow, Weighting, compare};
pub use ess::{
    autocov, ess_bulk, ess_folded, ess_identity, ess_local, ess_mean, ess_median, ess_quantile, ess_sd,
    ess_tail, ess_z_scale,
};
pub use hdi::hdi;
pub use loo::{Criterion, Elpd, logsumexp, loo, loo_pit, psis, waic};
pub use mcse::{mcse_mean, mcse_sd};
pub use nested_rhat::nested_rhat;
pub use power_scaling::{
    DEFAULT_DELTA, Diagnosis, PowerScaled, Sensitivity, SensitivityRow, THRESHOLD, cjs_dist,
    pareto_k_threshold, power_scale_weights,
};
pub use rank::{Matrix, fold, median, norm_ppf, rankdata_average, split_chains, z_scale};
pub(crate) use rhat::rhat_summary;
pub use rhat::{rhat, rhat_folded, rhat_identity, rhat_split, rhat_z_scale};
pub use summary::{SUMMARY_HEADERS, Summary, SummaryRow, summary_row};
