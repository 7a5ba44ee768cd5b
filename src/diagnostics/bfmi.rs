//! Bayesian fraction of missing information (ArviZ 0.23.4 `_bfmi`).

use super::rank::{mean, var};

/// E-BFMI of one chain's energies: `mean(diff(E)^2) / var(E, ddof=1)`.
///
/// Values below about 0.3 suggest the momentum resampling explores the energy
/// distribution poorly. NaN for fewer than 2 energies, any NaN, or constant
/// energy (as ArviZ).
pub fn bfmi(energy: &[f64]) -> f64 {
    if energy.len() < 2 {
        return f64::NAN;
    }
    let sq_diff: Vec<f64> = energy.windows(2).map(|w| (w[1] - w[0]) * (w[1] - w[0])).collect();
    mean(&sq_diff) / var(energy, 1.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arange_and_degenerate() {
        let e: Vec<f64> = (0..10).map(f64::from).collect();
        // az.bfmi(np.arange(10.)) == 0.10909090909090909
        assert!((bfmi(&e) - 0.10909090909090909).abs() < 1e-15);
        assert!(bfmi(&[1.0; 5]).is_nan());
        assert!(bfmi(&[]).is_nan() && bfmi(&[1.0]).is_nan());
    }
}
