//! Ranking models by predictive accuracy, as ArviZ's `compare`: elpd, effective parameters,
//! the difference to the best model and its standard error, and model weights (stacking by
//! default, or pseudo-BMA).
//!
//! ```
//! use exmc::diagnostics::{Weighting, compare, loo};
//! let a = loo(&[vec![-1.0, -1.1, -0.9, -1.0, -1.2], vec![-0.8, -0.7, -0.9, -0.8, -0.6]], 1.0);
//! let b = loo(&[vec![-1.5, -1.6, -1.4, -1.5, -1.7], vec![-0.9, -0.8, -1.0, -0.9, -0.7]], 1.0);
//! let c = compare(&[("a", &a), ("b", &b)], Weighting::Stacking).unwrap();
//! assert_eq!(c.rows[0].name, "a");
//! println!("{c}");
//! ```

use std::fmt;

use super::loo::{Criterion, Elpd};

/// How [`compare`] weights the models.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Weighting {
    /// Stacking of predictive distributions (Yao et al. 2018): the weights maximising
    /// `Σᵢ ln Σₖ wₖ exp(elpdₖᵢ)` over the simplex (ArviZ's default).
    #[default]
    Stacking,
    /// Pseudo-BMA: weights proportional to `exp(elpdₖ)`.
    PseudoBma,
}

/// One model's row of a [`Comparison`].
#[derive(Clone, Debug, PartialEq)]
pub struct ComparisonRow {
    /// The model's name.
    pub name: String,
    /// 0 for the best model.
    pub rank: usize,
    /// Its elpd (LOO or WAIC).
    pub elpd: f64,
    /// Its effective number of parameters.
    pub p: f64,
    /// The best model's elpd minus this one's (0 for the best).
    pub elpd_diff: f64,
    /// Its weight.
    pub weight: f64,
    /// The standard error of its elpd.
    pub se: f64,
    /// The standard error of `elpd_diff`, from the pointwise differences (0 for the best).
    pub dse: f64,
    /// The criterion's warning for this model (k̂ or WAIC variance).
    pub warning: bool,
}

/// Models ranked by elpd, best first.
#[derive(Clone, Debug, PartialEq)]
pub struct Comparison {
    /// LOO or WAIC.
    pub criterion: Criterion,
    /// The weighting used.
    pub weighting: Weighting,
    /// One row per model, best first.
    pub rows: Vec<ComparisonRow>,
}

/// Why models cannot be compared.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
pub enum CompareError {
    /// Fewer than two models.
    #[error("compare needs at least two models, got {0}")]
    TooFew(usize),
    /// Models scored with different criteria.
    #[error("model `{0}` is scored by {1:?}, model `{2}` by {3:?}: compare like with like")]
    MixedCriteria(String, Criterion, String, Criterion),
    /// Models scored on different observations.
    #[error(
        "model `{0}` has {1} pointwise values, model `{2}` has {3}: the models must be scored on the same observations"
    )]
    DifferentData(String, usize, String, usize),
}

/// Ranks `models` (name, LOO or WAIC estimate) as ArviZ's `compare` does.
pub fn compare(models: &[(&str, &Elpd)], weighting: Weighting) -> Result<Comparison, CompareError> {
    let Some(&(first, e0)) = models.first() else { return Err(CompareError::TooFew(0)) };
    if models.len() < 2 {
        return Err(CompareError::TooFew(models.len()));
    }
    for &(name, e) in &models[1..] {
        if e.criterion != e0.criterion {
            return Err(CompareError::MixedCriteria(first.into(), e0.criterion, name.into(), e.criterion));
        }
        if e.pointwise.len() != e0.pointwise.len() {
            return Err(CompareError::DifferentData(
                first.into(),
                e0.pointwise.len(),
                name.into(),
                e.pointwise.len(),
            ));
        }
    }
    let mut order: Vec<usize> = (0..models.len()).collect();
    // Best first; a stable sort keeps the given order among equal scores.
    order.sort_by(|&a, &b| models[b].1.elpd.total_cmp(&models[a].1.elpd));
    let sorted: Vec<&Elpd> = order.iter().map(|&k| models[k].1).collect();
    let weights = match weighting {
        Weighting::Stacking => stacking_weights(&sorted),
        Weighting::PseudoBma => {
            let best = sorted[0].elpd;
            let z: Vec<f64> = sorted.iter().map(|e| (e.elpd - best).exp()).collect();
            let total: f64 = z.iter().sum();
            z.iter().map(|v| v / total).collect()
        }
    };
    let best = sorted[0];
    let n = best.pointwise.len() as f64;
    let rows = order
        .iter()
        .enumerate()
        .map(|(rank, &k)| {
            let (name, e) = models[k];
            let dse = if rank == 0 {
                0.0
            } else {
                let d: Vec<f64> = best.pointwise.iter().zip(&e.pointwise).map(|(b, x)| b - x).collect();
                let mean = d.iter().sum::<f64>() / n;
                (d.iter().map(|v| (v - mean).powi(2)).sum::<f64>()).sqrt()
            };
            ComparisonRow {
                name: name.to_string(),
                rank,
                elpd: e.elpd,
                p: e.p,
                elpd_diff: best.elpd - e.elpd,
                weight: weights[rank],
                se: e.se,
                dse,
                warning: e.warning,
            }
        })
        .collect();
    Ok(Comparison { criterion: e0.criterion, weighting, rows })
}

/// Stacking weights: the maximiser of `Σᵢ ln Σₖ wₖ exp(elpdₖᵢ)` over the simplex, found by the
/// EM fixed point for mixture weights (`wₖ ← wₖ · mean over i of the k-th component's share`),
/// which increases the objective at every step and converges to the global maximum of this
/// concave problem. Each observation's values are shifted by their maximum first.
fn stacking_weights(models: &[&Elpd]) -> Vec<f64> {
    let k = models.len();
    let n = models[0].pointwise.len();
    let dens: Vec<Vec<f64>> = (0..n)
        .map(|i| {
            let m = models.iter().map(|e| e.pointwise[i]).fold(f64::NEG_INFINITY, f64::max);
            models.iter().map(|e| (e.pointwise[i] - m).exp()).collect()
        })
        .collect();
    let mut w = vec![1.0 / k as f64; k];
    em(&dens, &mut w);
    // EM approaches a weight of zero only slowly: a weight still small whose gradient says the
    // optimum lies on that face (∂/∂wₖ ≤ n, the KKT condition) is set to zero, and EM
    // resumes on the rest (a zero weight stays zero).
    let share = |w: &[f64], j: usize| -> f64 {
        dens.iter().map(|row| row[j] / row.iter().zip(w).map(|(d, w)| d * w).sum::<f64>()).sum::<f64>()
            / n as f64
    };
    let drop: Vec<usize> = (0..k).filter(|&j| w[j] < 1e-4 && share(&w, j) <= 1.0).collect();
    if !drop.is_empty() && drop.len() < k {
        drop.iter().for_each(|&j| w[j] = 0.0);
        let total: f64 = w.iter().sum();
        w.iter_mut().for_each(|v| *v /= total);
        em(&dens, &mut w);
    }
    w
}

/// EM iterations for mixture weights over fixed component densities `dens` (one row per
/// observation), until no weight moves by 1e-15.
fn em(dens: &[Vec<f64>], w: &mut [f64]) {
    let (k, n) = (w.len(), dens.len() as f64);
    let mut next = vec![0.0; k];
    for _ in 0..1_000_000 {
        next.fill(0.0);
        for row in dens {
            let mix: f64 = row.iter().zip(w.iter()).map(|(d, w)| d * w).sum();
            for j in 0..k {
                next[j] += w[j] * row[j] / mix;
            }
        }
        next.iter_mut().for_each(|v| *v /= n);
        let change = next.iter().zip(w.iter()).map(|(a, b)| (a - b).abs()).fold(0.0, f64::max);
        w.copy_from_slice(&next);
        if change < 1e-15 {
            break;
        }
    }
}

impl fmt::Display for Comparison {
    /// A table like ArviZ's `compare` output.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let ic = match self.criterion {
            Criterion::Loo => "elpd_loo",
            Criterion::Waic => "elpd_waic",
        };
        let p = match self.criterion {
            Criterion::Loo => "p_loo",
            Criterion::Waic => "p_waic",
        };
        let width = self.rows.iter().map(|r| r.name.len()).max().unwrap_or(0).max(5);
        writeln!(
            f,
            "{:<width$} {:>4} {:>10} {:>8} {:>10} {:>8} {:>8} {:>8} {:>7}",
            "", "rank", ic, p, "elpd_diff", "weight", "se", "dse", "warning"
        )?;
        for r in &self.rows {
            writeln!(
                f,
                "{:<width$} {:>4} {:>10.2} {:>8.2} {:>10.2} {:>8.3} {:>8.2} {:>8.2} {:>7}",
                r.name, r.rank, r.elpd, r.p, r.elpd_diff, r.weight, r.se, r.dse, r.warning
            )?;
        }
        Ok(())
    }
}
