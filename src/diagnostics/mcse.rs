//! Monte Carlo standard errors, replicating ArviZ 0.23.4's `_mcse_mean` and
//! `_mcse_sd` (the pure-NumPy code path, i.e. with numba disabled).

use super::ess::ess_mean;
use super::rank::{flatten, is_valid, mean, to_matrix, var};

/// MCSE of the mean (`az.mcse(method="mean")`): `sd(draws, ddof=1) / sqrt(ess_mean)`.
/// NaN for invalid input (see [`ess_mean`]); 0 for constant draws.
pub fn mcse_mean(chains: &[&[f64]]) -> f64 {
    if !is_valid(chains, 1) {
        return f64::NAN;
    }
    let sd = var(&flatten(&to_matrix(chains)), 1.0).sqrt();
    sd / ess_mean(chains).sqrt()
}

/// MCSE of the standard deviation (`az.mcse(method="sd")`, ArviZ 0.23.4):
/// with `s = (x - mean)^2` over all draws, `ess = ess_mean(s)`,
/// `varvar = (mean(s^2) - mean(s)^2) / ess` and result `sqrt(varvar / mean(s) / 4)`.
/// NaN for invalid or constant input.
pub fn mcse_sd(chains: &[&[f64]]) -> f64 {
    if !is_valid(chains, 1) {
        return f64::NAN;
    }
    let m = to_matrix(chains);
    let mu = mean(&flatten(&m));
    let sims: Vec<Vec<f64>> = m.iter().map(|c| c.iter().map(|x| (x - mu) * (x - mu)).collect()).collect();
    mcse_sd_from_sims(&sims, mean(&flatten(&sims)))
}

/// The tail of `_mcse_sd` given the squared deviations and their mean `evar`.
pub(crate) fn mcse_sd_from_sims(sims: &[Vec<f64>], evar: f64) -> f64 {
    let refs: Vec<&[f64]> = sims.iter().map(Vec::as_slice).collect();
    let ess = ess_mean(&refs);
    let mean_sq = mean(&flatten(sims).iter().map(|s| s * s).collect::<Vec<_>>());
    let varvar = (mean_sq - evar * evar) / ess;
    let varsd = varvar / evar / 4.0;
    varsd.sqrt()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn constant_chains() {
        let c = [3.0; 6];
        assert_eq!(mcse_mean(&[&c, &c]), 0.0);
        assert!(mcse_sd(&[&c, &c]).is_nan());
        assert!(mcse_sd(&[]).is_nan());
    }
}
