//! Potential scale reduction factor R-hat, replicating ArviZ 0.23.4's `_rhat`
//! and the `rhat` methods (`rank`, `split`, `folded`, `z_scale`, `identity`).

use super::rank::{fold, is_valid, mean, split_chains, to_matrix, var, z_scale};

/// ArviZ `_rhat` on an already prepared `(chains × draws)` matrix:
/// `sqrt((B/W + n - 1) / n)` with `B = n · var(chain means)` and
/// `W = mean(chain variances)`, both with `ddof = 1`. NaN if any element is NaN
/// or if `W = 0` and `B = 0`.
pub(crate) fn rhat_matrix(m: &[Vec<f64>]) -> f64 {
    if m.is_empty() || m.iter().flatten().any(|x| x.is_nan()) {
        return f64::NAN;
    }
    let n = m[0].len() as f64;
    let chain_mean: Vec<f64> = m.iter().map(|c| mean(c)).collect();
    let chain_var: Vec<f64> = m.iter().map(|c| var(c, 1.0)).collect();
    let between = n * var(&chain_mean, 1.0);
    let within = mean(&chain_var);
    ((between / within + n - 1.0) / n).sqrt()
}

/// Python's `max(a, b)`: `a` unless `b > a` (so a NaN `a` propagates).
fn py_max(a: f64, b: f64) -> f64 {
    if b > a { b } else { a }
}

/// Rank-normalised split R-hat (`az.rhat(method="rank")`, Vehtari et al. 2021):
/// the larger of the bulk R-hat (rank-normalised split chains) and the tail
/// R-hat (split chains folded around their pooled median, then
/// rank-normalised).
///
/// NaN for fewer than 2 chains or 4 draws, ragged/empty input, any NaN, or
/// constant input (zero within- and between-chain variance).
pub fn rhat(chains: &[&[f64]]) -> f64 {
    if !is_valid(chains, 2) {
        return f64::NAN;
    }
    let split = split_chains(&to_matrix(chains));
    let bulk = rhat_matrix(&z_scale(&split));
    let tail = rhat_matrix(&z_scale(&fold(&split)));
    py_max(bulk, tail)
}

/// Classic split R-hat on the raw draws (`az.rhat(method="split")`).
pub fn rhat_split(chains: &[&[f64]]) -> f64 {
    if !is_valid(chains, 2) {
        return f64::NAN;
    }
    rhat_matrix(&split_chains(&to_matrix(chains)))
}

/// Split R-hat of the folded, rank-normalised draws (`az.rhat(method="folded")`).
pub fn rhat_folded(chains: &[&[f64]]) -> f64 {
    if !is_valid(chains, 2) {
        return f64::NAN;
    }
    rhat_matrix(&z_scale(&fold(&split_chains(&to_matrix(chains)))))
}

/// Split R-hat of the rank-normalised draws (`az.rhat(method="z_scale")`).
pub fn rhat_z_scale(chains: &[&[f64]]) -> f64 {
    if !is_valid(chains, 2) {
        return f64::NAN;
    }
    rhat_matrix(&z_scale(&split_chains(&to_matrix(chains))))
}

/// R-hat of the raw, unsplit chains (`az.rhat(method="identity")`).
pub fn rhat_identity(chains: &[&[f64]]) -> f64 {
    if !is_valid(chains, 2) {
        return f64::NAN;
    }
    rhat_matrix(&to_matrix(chains))
}

/// The summary variant of [`rhat`] (ArviZ `_multichain_statistics`): the tail
/// part folds the *unsplit* draws around their median before splitting, which
/// differs from [`rhat`] when the number of draws is odd.
pub(crate) fn rhat_summary(chains: &[&[f64]]) -> f64 {
    if !is_valid(chains, 2) {
        return f64::NAN;
    }
    let m = to_matrix(chains);
    let bulk = rhat_matrix(&z_scale(&split_chains(&m)));
    let tail = rhat_matrix(&z_scale(&split_chains(&fold(&m))));
    py_max(bulk, tail)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn well_mixed_chains_near_one() {
        let a: Vec<f64> = (0..200).map(|i| ((i * 37) % 101) as f64).collect();
        let b: Vec<f64> = (0..200).map(|i| ((i * 53) % 101) as f64).collect();
        let r = rhat(&[&a, &b]);
        assert!((r - 1.0).abs() < 0.05, "{r}");
    }

    #[test]
    fn degenerate_inputs_are_nan() {
        let c = [1.0; 8];
        assert!(rhat(&[&c, &c]).is_nan());
        assert!(rhat(&[&c]).is_nan());
        assert!(rhat(&[]).is_nan());
        assert!(rhat(&[&c, &c[..5]]).is_nan());
    }
}
