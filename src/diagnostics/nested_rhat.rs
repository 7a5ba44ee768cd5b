//! Nested R-hat (Margossian, Hoffman, Sountsov, Riou-Durand, Vehtari & Gelman 2023) for many
//! short chains: chains are grouped into superchains that each started from one point, and
//! convergence is judged between superchains, so that it does not wait for every short chain
//! to forget its start on its own.

/// Nested R-hat of one scalar: `chains` are `K · M` chains of `N` draws, chain `i` belonging to
/// superchain `i / M` (`M = chains / superchains`). With chain means `θ̄ₘₖ`, superchain means
/// `θ̄ₖ` and their mean `θ̄`:
///
/// `nR̂ = sqrt(1 + B̂ / Ŵ)`, `B̂ = Σₖ (θ̄ₖ − θ̄)² / (K − 1)`, `Ŵ = Σₖ (B̃ₖ + W̃ₖ) / K`,
///
/// where `B̃ₖ = Σₘ (θ̄ₘₖ − θ̄ₖ)² / (M − 1)` (0 when `M = 1`) and `W̃ₖ` is the mean over the
/// superchain's chains of their variance (denominator `N − 1`; 0 when `N = 1`).
///
/// NaN when `superchains < 2`, when it does not divide the number of chains, for ragged or
/// empty chains, any NaN, or zero within-superchain variance.
///
/// ```
/// use exmc::diagnostics::nested_rhat;
/// // Two superchains of two chains; the superchains agree: nR̂ is near 1.
/// let c: Vec<Vec<f64>> = (0..4).map(|k| (0..50).map(|i| ((i * 7 + k * 3) % 11) as f64).collect()).collect();
/// let refs: Vec<&[f64]> = c.iter().map(Vec::as_slice).collect();
/// assert!((nested_rhat(&refs, 2) - 1.0).abs() < 0.05);
/// ```
pub fn nested_rhat(chains: &[&[f64]], superchains: usize) -> f64 {
    let k = superchains;
    let n = chains.first().map_or(0, |c| c.len());
    if k < 2 || chains.is_empty() || !chains.len().is_multiple_of(k) || n == 0 {
        return f64::NAN;
    }
    if chains.iter().any(|c| c.len() != n || c.iter().any(|x| x.is_nan())) {
        return f64::NAN;
    }
    let m = chains.len() / k;
    let mean = |xs: &[f64]| xs.iter().sum::<f64>() / xs.len() as f64;
    let chain_mean: Vec<f64> = chains.iter().map(|c| mean(c)).collect();
    let chain_var: Vec<f64> = chains
        .iter()
        .zip(&chain_mean)
        .map(
            |(c, &mu)| {
                if n > 1 { c.iter().map(|x| (x - mu).powi(2)).sum::<f64>() / (n - 1) as f64 } else { 0.0 }
            },
        )
        .collect();
    let super_mean: Vec<f64> = chain_mean.chunks(m).map(mean).collect();
    let overall = mean(&super_mean);
    let between = super_mean.iter().map(|s| (s - overall).powi(2)).sum::<f64>() / (k - 1) as f64;
    let within = chain_mean
        .chunks(m)
        .zip(chain_var.chunks(m))
        .zip(&super_mean)
        .map(|((means, vars), &s)| {
            let b =
                if m > 1 { means.iter().map(|x| (x - s).powi(2)).sum::<f64>() / (m - 1) as f64 } else { 0.0 };
            b + mean(vars)
        })
        .sum::<f64>()
        / k as f64;
    if within <= 0.0 {
        return f64::NAN;
    }
    (1.0 + between / within).sqrt()
}
