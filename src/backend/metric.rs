//! The low-rank part of a low-rank-plus-diagonal metric (nutpie's, Seyboldt, Carlson &
//! Carpenter 2026), and the two products a leapfrog needs from it.
//!
//! With `σ = sqrt(d)` for the inverse mass diagonal `d`, orthonormal columns `U` (`dim × rank`)
//! and eigenvalues `λ`, the inverse mass matrix is
//! `M⁻¹ = diag(σ) (I + U (Λ − I) Uᵀ) diag(σ)`: the diagonal metric, corrected in a few
//! directions of the σ-scaled space where the posterior is much wider (`λ > 1`) or narrower
//! (`λ < 1`) than the diagonal says. Rank zero is the diagonal metric.

/// Eigenvectors and eigenvalues of a low-rank metric correction (see the module docs).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct LowRank {
    /// Columns of `U`, one after another (`rank` columns of `dim` values).
    pub vectors: Vec<f64>,
    /// The eigenvalues `λ`, one per column.
    pub values: Vec<f64>,
}

impl LowRank {
    /// No correction (rank zero): the diagonal metric.
    pub fn none() -> LowRank {
        LowRank::default()
    }

    /// Number of directions corrected.
    pub fn rank(&self) -> usize {
        self.values.len()
    }

    /// Column `r` of `U` in dimension `dim`.
    pub fn column(&self, r: usize, dim: usize) -> &[f64] {
        &self.vectors[r * dim..(r + 1) * dim]
    }

    /// `v = M⁻¹ p` for the diagonal scales `sigma` (`σ = sqrt(d)`); `y` is scratch.
    pub fn velocity(&self, sigma: &[f64], p: &[f64], v: &mut [f64], y: &mut Vec<f64>) {
        for ((v, s), p) in v.iter_mut().zip(sigma).zip(p) {
            *v = s * p;
        }
        self.add_scaled_projection(v, y, |l| l - 1.0);
        for (v, s) in v.iter_mut().zip(sigma) {
            *v *= s;
        }
    }

    /// A momentum `p ~ N(0, M)` from standard normals `z`:
    /// `p = diag(σ)⁻¹ (z + U (Λ^{-1/2} − I) Uᵀ z)`; `y` is scratch.
    pub fn momentum(&self, sigma: &[f64], z: &[f64], p: &mut [f64], y: &mut Vec<f64>) {
        p.copy_from_slice(z);
        self.add_scaled_projection(p, y, |l| 1.0 / l.sqrt() - 1.0);
        for (p, s) in p.iter_mut().zip(sigma) {
            *p /= s;
        }
    }

    /// `x += U (f(λ) ∘ Uᵀ x)`.
    fn add_scaled_projection(&self, x: &mut [f64], y: &mut Vec<f64>, f: impl Fn(f64) -> f64) {
        let dim = x.len();
        y.clear();
        for (r, &l) in self.values.iter().enumerate() {
            let u = self.column(r, dim);
            y.push(f(l) * u.iter().zip(x.iter()).map(|(u, x)| u * x).sum::<f64>());
        }
        for (r, &c) in y.iter().enumerate() {
            for (x, u) in x.iter_mut().zip(self.column(r, dim)) {
                *x += c * u;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `M⁻¹` as a dense matrix, column by column through `velocity`.
    fn dense_inverse(lr: &LowRank, sigma: &[f64]) -> Vec<Vec<f64>> {
        let d = sigma.len();
        let mut y = Vec::new();
        (0..d)
            .map(|i| {
                let mut e = vec![0.0; d];
                e[i] = 1.0;
                let mut v = vec![0.0; d];
                lr.velocity(sigma, &e, &mut v, &mut y);
                v
            })
            .collect()
    }

    fn example() -> (LowRank, Vec<f64>) {
        // Two orthonormal directions in 3-d.
        let s = 0.5f64.sqrt();
        let lr = LowRank { vectors: vec![s, s, 0.0, 0.0, 0.0, 1.0], values: vec![9.0, 0.25] };
        (lr, vec![1.0, 2.0, 0.5])
    }

    #[test]
    fn velocity_is_the_documented_matrix() {
        let (lr, sigma) = example();
        let m = dense_inverse(&lr, &sigma);
        // diag(σ)(I + U(Λ−I)Uᵀ)diag(σ), written out.
        let u = [[0.5f64.sqrt(), 0.0], [0.5f64.sqrt(), 0.0], [0.0, 1.0]];
        for i in 0..3 {
            for j in 0..3 {
                let inner = (i == j) as u8 as f64
                    + (0..2).map(|r| u[i][r] * (lr.values[r] - 1.0) * u[j][r]).sum::<f64>();
                let want = sigma[i] * inner * sigma[j];
                assert!((m[j][i] - want).abs() < 1e-14, "({i}, {j}): {} vs {want}", m[j][i]);
            }
        }
    }

    /// `momentum` is `M^{1/2} z` for a symmetric square root: `pᵀ M⁻¹ p = zᵀ z` for every `z`.
    #[test]
    fn momentum_has_covariance_m() {
        let (lr, sigma) = example();
        let mut y = Vec::new();
        for z in [[1.0, 0.0, 0.0], [0.3, -1.2, 0.7], [0.0, 0.0, 2.0]] {
            let mut p = [0.0; 3];
            lr.momentum(&sigma, &z, &mut p, &mut y);
            let mut v = [0.0; 3];
            lr.velocity(&sigma, &p, &mut v, &mut y);
            let pmp: f64 = p.iter().zip(&v).map(|(a, b)| a * b).sum();
            let zz: f64 = z.iter().map(|a| a * a).sum();
            assert!((pmp - zz).abs() < 1e-12, "{pmp} vs {zz}");
        }
    }

    #[test]
    fn rank_zero_is_the_diagonal() {
        let lr = LowRank::none();
        let sigma = [2.0, 3.0];
        let mut v = [0.0; 2];
        lr.velocity(&sigma, &[1.0, 1.0], &mut v, &mut Vec::new());
        assert_eq!(v, [4.0, 9.0]);
    }
}
