//! The low-rank-plus-diagonal metric's estimate from warmup draws and gradients (nutpie's,
//! Seyboldt, Carlson & Carpenter 2026).
//!
//! Each coordinate is first scaled by the diagonal estimate `σᵢ² = sd(xᵢ) / sd(∇ᵢ)`. In the
//! scaled space the draws' and gradients' covariances `Cx` and `Cg` are formed inside the span
//! of the (centred) draws and gradients, each with a small ridge, and the metric there is the
//! SPD matrix `Σ` with `Σ Cg Σ = Cx` (exact for a Gaussian, whose gradient covariance is the
//! inverse of its covariance). Directions where `Σ`'s eigenvalue lies outside
//! `[1/cutoff, cutoff]` correct the diagonal metric; every other direction keeps it.

use std::collections::VecDeque;

use nalgebra::{DMatrix, SymmetricEigen};

use super::mass_matrix::bounded_ratio;
use crate::backend::LowRank;

/// Which metric warmup adapts.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub enum Metric {
    /// [`Metric::low_rank()`] where it is cheap (CPU backend, nutpie's schedule, at most
    /// [`AUTO_LOW_RANK_MAX_DIM`] dimensions), [`Metric::Diagonal`] elsewhere (see
    /// [`Metric::resolve`] and DECISIONS 51).
    Auto,
    /// A diagonal inverse mass matrix (the default: the low-rank metric samples regression
    /// posteriors with far fewer gradients but diverges more often in hierarchical funnels,
    /// DECISIONS 51).
    #[default]
    Diagonal,
    /// A diagonal plus a low-rank correction, estimated from draws and gradients (nutpie's
    /// `low_rank_modified_mass_matrix`): for posteriors with strong correlations between a few
    /// directions. Requires [`Adaptation::DrawGradient`](super::Adaptation::DrawGradient).
    LowRank(LowRankOptions),
}

/// Largest dimension for which [`Metric::Auto`] chooses the low-rank metric: its estimate
/// costs symmetric eigendecompositions of up to `min(dim, 2 n)` rows (`n` draws in the window)
/// every ten warmup draws.
pub const AUTO_LOW_RANK_MAX_DIM: usize = 128;

impl Metric {
    /// The low-rank metric with nutpie's settings (see [`LowRankOptions::default`]).
    pub fn low_rank() -> Metric {
        Metric::LowRank(LowRankOptions::default())
    }

    /// The metric a run uses: [`Metric::Auto`] becomes the low-rank metric on the CPU backend
    /// under nutpie's schedule ([`Adaptation::DrawGradient`](super::Adaptation::DrawGradient))
    /// in at most [`AUTO_LOW_RANK_MAX_DIM`] dimensions, and the diagonal otherwise (the GPU
    /// kernels pay for every column on every leapfrog; pooled and windowed warmup estimate a
    /// diagonal).
    pub fn resolve(self, dim: usize, cpu: bool, adaptation: super::Adaptation) -> Metric {
        match self {
            Metric::Auto => {
                let fits =
                    cpu && adaptation == super::Adaptation::DrawGradient && dim <= AUTO_LOW_RANK_MAX_DIM;
                if fits { Metric::low_rank() } else { Metric::Diagonal }
            }
            m => m,
        }
    }

    /// The largest rank a backend must hold for this (resolved) metric in dimension `dim`.
    pub fn max_rank(self, dim: usize) -> usize {
        match self {
            Metric::Auto | Metric::Diagonal => 0,
            Metric::LowRank(o) => o.max_rank.min(dim),
        }
    }
}

/// Settings of [`Metric::LowRank`].
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct LowRankOptions {
    /// At most this many directions are corrected (those whose eigenvalue is furthest from 1
    /// on a log scale). Default 16.
    pub max_rank: usize,
    /// Eigenvalues in `[1/eigval_cutoff, eigval_cutoff]` are left to the diagonal. nutpie's
    /// current default, 2.
    pub eigval_cutoff: f64,
    /// Ridge of the covariance estimates, relative (nutpie's `gamma`, 1e-5).
    pub gamma: f64,
}

impl Default for LowRankOptions {
    fn default() -> LowRankOptions {
        LowRankOptions { max_rank: 16, eigval_cutoff: 2.0, gamma: 1e-5 }
    }
}

/// Draws and gradients of the low-rank estimator's window (the foreground window of
/// [`DrawGradient`](super::adapt::DrawGradient)'s schedule, the background at its end).
#[derive(Clone, Debug)]
pub struct Store {
    options: LowRankOptions,
    draws: VecDeque<Vec<f64>>,
    grads: VecDeque<Vec<f64>>,
    /// Entries before this index belong to the foreground only.
    split: usize,
    /// Entries when the metric was last estimated.
    estimated_at: usize,
}

/// Draws between two low-rank estimates while a window grows (each costs two symmetric
/// eigendecompositions in the span of the window's draws).
const REFRESH: usize = 10;

impl Store {
    /// An empty store.
    pub fn new(options: LowRankOptions) -> Store {
        Store { options, draws: VecDeque::new(), grads: VecDeque::new(), split: 0, estimated_at: 0 }
    }

    /// Adds a draw and its gradient.
    pub fn add(&mut self, q: &[f64], g: &[f64]) {
        self.draws.push_back(q.to_vec());
        self.grads.push_back(g.to_vec());
    }

    /// The background window becomes the foreground.
    pub fn switch(&mut self) {
        self.draws.drain(..self.split);
        self.grads.drain(..self.split);
        self.split = self.draws.len();
        self.estimated_at = 0;
    }

    /// A new estimate when one is due (first at 3 draws, then after every `REFRESH` (10) draws
    /// and after each switch): the inverse mass diagonal and the low-rank correction.
    pub fn update(&mut self) -> Option<(Vec<f64>, LowRank)> {
        let n = self.draws.len();
        let due = n >= 3 && (self.estimated_at == 0 || n >= self.estimated_at + REFRESH);
        if !due {
            return None;
        }
        self.estimated_at = n;
        let (draws, grads): (Vec<&[f64]>, Vec<&[f64]>) =
            self.draws.iter().zip(&self.grads).map(|(x, g)| (x.as_slice(), g.as_slice())).unzip();
        estimate(&draws, &grads, &self.options)
    }
}

/// The low-rank-plus-diagonal estimate from draws and their gradients (at least two): the
/// inverse mass diagonal `σ²` and the correction, or `None` when the linear algebra fails or
/// produces non-finite values.
pub fn estimate(draws: &[&[f64]], grads: &[&[f64]], options: &LowRankOptions) -> Option<(Vec<f64>, LowRank)> {
    let n = draws.len();
    let dim = draws.first()?.len();
    if n < 2 || grads.len() != n {
        return None;
    }
    // Scales: σᵢ² = sd(x)/sd(∇) as in the diagonal estimate (clamped, 1 where undefined).
    let mut inv_diag = Vec::with_capacity(dim);
    let mut x = DMatrix::<f64>::zeros(dim, n);
    let mut g = DMatrix::<f64>::zeros(dim, n);
    for i in 0..dim {
        let mx = draws.iter().map(|d| d[i]).sum::<f64>() / n as f64;
        let mg = grads.iter().map(|d| d[i]).sum::<f64>() / n as f64;
        let sx = draws.iter().map(|d| (d[i] - mx).powi(2)).sum::<f64>().sqrt();
        let sg = grads.iter().map(|d| (d[i] - mg).powi(2)).sum::<f64>().sqrt();
        let var = bounded_ratio(sx / sg);
        let s = var.sqrt();
        inv_diag.push(var);
        for k in 0..n {
            x[(i, k)] = (draws[k][i] - mx) / (s * n as f64);
            g[(i, k)] = (grads[k][i] - mg) * s / n as f64;
        }
    }
    // An orthonormal basis of the span of the scaled draws and gradients (the whole space
    // when they may span it).
    let basis = if 2 * n >= dim {
        DMatrix::<f64>::identity(dim, dim)
    } else {
        let mut both = DMatrix::<f64>::zeros(dim, 2 * n);
        both.columns_mut(0, n).copy_from(&x);
        both.columns_mut(n, n).copy_from(&g);
        both.qr().q()
    };
    let ridge = |a: DMatrix<f64>| {
        let mut c = &a * a.transpose() / options.gamma;
        for i in 0..c.nrows() {
            c[(i, i)] += 1.0;
        }
        c
    };
    let cx = ridge(basis.transpose() * &x);
    let cg = ridge(basis.transpose() * &g);
    let sigma = spd_mean(cx, cg)?;
    let eig = SymmetricEigen::new(sigma);
    let cutoff = options.eigval_cutoff;
    let mut kept: Vec<usize> = (0..eig.eigenvalues.len())
        .filter(|&r| {
            let l = eig.eigenvalues[r];
            l > cutoff || l < 1.0 / cutoff
        })
        .collect();
    kept.sort_by(|&a, &b| eig.eigenvalues[b].ln().abs().total_cmp(&eig.eigenvalues[a].ln().abs()));
    kept.truncate(options.max_rank);
    let mut low_rank = LowRank::none();
    for &r in &kept {
        let u = &basis * eig.eigenvectors.column(r);
        low_rank.vectors.extend(u.iter());
        low_rank.values.push(eig.eigenvalues[r]);
    }
    let finite = low_rank.vectors.iter().chain(&low_rank.values).all(|v| v.is_finite());
    let positive = low_rank.values.iter().all(|&l| l > 0.0);
    (finite && positive).then_some((inv_diag, low_rank))
}

/// The SPD solution `Σ` of `Σ B Σ = A` (the geometric mean of `A` and `B⁻¹`):
/// `B^{-1/2} (B^{1/2} A B^{1/2})^{1/2} B^{-1/2}`.
fn spd_mean(a: DMatrix<f64>, b: DMatrix<f64>) -> Option<DMatrix<f64>> {
    let eb = SymmetricEigen::new(b);
    if eb.eigenvalues.iter().any(|&l| l.is_nan() || l <= 0.0) {
        return None;
    }
    let power = |e: &SymmetricEigen<f64, nalgebra::Dyn>, f: &dyn Fn(f64) -> f64| {
        let v = &e.eigenvectors;
        let scaled = DMatrix::from_fn(v.nrows(), v.ncols(), |i, j| v[(i, j)] * f(e.eigenvalues[j]));
        scaled * v.transpose()
    };
    let b_half = power(&eb, &|l| l.sqrt());
    let b_inv_half = power(&eb, &|l| 1.0 / l.sqrt());
    let inner = SymmetricEigen::new(&b_half * a * &b_half);
    if inner.eigenvalues.iter().any(|&l| l.is_nan() || l < 0.0) {
        return None;
    }
    let inner_half = power(&inner, &|l| l.sqrt());
    Some(&b_inv_half * inner_half * &b_inv_half)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn auto_takes_the_low_rank_metric_only_where_it_is_cheap() {
        use crate::nuts::Adaptation::{DrawGradient, Pooled, Windowed};
        assert_eq!(Metric::Auto.resolve(128, true, DrawGradient), Metric::low_rank());
        for (dim, cpu, a) in
            [(129, true, DrawGradient), (10, false, DrawGradient), (10, true, Windowed), (10, true, Pooled)]
        {
            assert_eq!(Metric::Auto.resolve(dim, cpu, a), Metric::Diagonal, "{dim} {cpu} {a:?}");
        }
        assert_eq!(Metric::default(), Metric::Diagonal);
        assert_eq!(Metric::low_rank().max_rank(5), 5);
    }

    #[test]
    fn spd_mean_of_diagonals() {
        let a = DMatrix::from_diagonal(&nalgebra::DVector::from_vec(vec![1.0, 4.0, 8.0]));
        let b = DMatrix::from_diagonal(&nalgebra::DVector::from_vec(vec![1.0, 1.0, 0.5]));
        let s = spd_mean(a, b).unwrap();
        for (i, want) in [1.0, 2.0, 4.0].iter().enumerate() {
            assert!((s[(i, i)] - want).abs() < 1e-12);
        }
        assert!(s[(0, 1)].abs() < 1e-12);
    }

    /// A correlated Gaussian: draws `x = L z` with gradients `-Σ⁻¹ x`. For a Gaussian the
    /// gradients' covariance is exactly `Σ⁻¹ Cov(x) Σ⁻¹`, so with a negligible ridge the
    /// estimate's dense `M⁻¹` is `Σ` itself, whatever the draws; with `max_rank = 1` the one
    /// direction kept is the widest, about `1/√10` (eigenvalue about `(1 + 9ρ)/σ²` in the
    /// scaled space; the sampled scales differ by a few percent between coordinates).
    #[test]
    fn recovers_a_correlated_gaussian() {
        let dim = 10;
        let rho: f64 = 0.99;
        // Σ = (1 − ρ) I + ρ 1 1ᵀ: eigenvalue 1 + 9ρ along 1/√10, 1 − ρ elsewhere.
        let cov = |i: usize, j: usize| if i == j { 1.0 } else { rho };
        let cov_m = DMatrix::from_fn(dim, dim, cov);
        let prec = cov_m.clone().try_inverse().unwrap();
        let l = cov_m.clone().cholesky().unwrap().l();
        let rng = crate::rng::ChainRng::new(3, 0);
        let mut draws = Vec::new();
        let mut grads = Vec::new();
        for it in 0..400 {
            let mut z = vec![0.0; dim];
            rng.fill_normals(it, crate::rng::Purpose::Momentum, &mut z);
            let x = &l * nalgebra::DVector::from_vec(z);
            let g = -(&prec * &x);
            draws.push(x.as_slice().to_vec());
            grads.push(g.as_slice().to_vec());
        }
        let d: Vec<&[f64]> = draws.iter().map(|v| v.as_slice()).collect();
        let g: Vec<&[f64]> = grads.iter().map(|v| v.as_slice()).collect();
        let options = LowRankOptions { eigval_cutoff: 2.0, gamma: 1e-12, ..Default::default() };
        let (diag, lr) = estimate(&d, &g, &options).unwrap();
        assert_eq!(lr.rank(), dim);
        // Dense M⁻¹ through the backend's product.
        let sigma: Vec<f64> = diag.iter().map(|v| v.sqrt()).collect();
        let mut y = Vec::new();
        let mut worst: f64 = 0.0;
        for j in 0..dim {
            let mut e = vec![0.0; dim];
            e[j] = 1.0;
            let mut v = vec![0.0; dim];
            lr.velocity(&sigma, &e, &mut v, &mut y);
            for (i, v) in v.iter().enumerate() {
                worst = worst.max((v - cov(i, j)).abs());
            }
        }
        assert!(worst < 1e-6, "largest error in M⁻¹: {worst}");
        let (diag, top) = estimate(&d, &g, &LowRankOptions { max_rank: 1, ..options }).unwrap();
        assert_eq!(top.rank(), 1);
        let u = top.column(0, dim);
        for x in u {
            assert!((x.abs() / 0.1f64.sqrt() - 1.0).abs() < 0.03, "{u:?}");
        }
        let want = (1.0 + 9.0 * rho) / diag[0];
        assert!((top.values[0] / want - 1.0).abs() < 0.05, "{} vs {want}", top.values[0]);
    }
}
