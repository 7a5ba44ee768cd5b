//! The Hilbert-space approximation of a Gaussian process (PyMC's `pm.gp.HSGP`; Solin &
//! Särkkä 2020, Riutort-Mayol et al. 2023): `f ≈ mean(X) + Φ (β ⊙ √S(√λ))`, with `Φ` the
//! Laplacian's eigenfunctions on `[−L, L]` at the points (data), `λ` its eigenvalues, `S` the
//! kernel's power spectral density and `β` independent standard normals. A process of `n`
//! points costs a data-matrix product of `n × m` instead of a Cholesky factor of `n × n`.

use super::{Mean, fail, per_draw, value_at};
use crate::error::{Error, Result};
use crate::model::dist::families::Normal;
use crate::model::kernel::{Cov, Points};
use crate::model::{Model, Var};
use crate::sampler::{Fit, Trace};

/// Most basis functions in all (their product over the dimensions).
const MAX_BASIS: usize = 1 << 16;

/// The basis a process was placed with, for predictions.
#[derive(Clone, Debug)]
struct Basis {
    center: Vec<f64>,
    coeffs: String,
}

/// A Gaussian process approximated by `m` basis functions per input dimension (PyMC's
/// `pm.gp.HSGP(m, c=…)`), non-centred: `NAME_hsgp_coeffs ~ Normal(0, 1)` of `Π m` values and
/// the deterministic `NAME`. The boundary is `L = c · S` with `S` half the points' range in
/// each dimension (about their centre); `c ≥ 1.2` and `m` large enough for the shortest
/// lengthscale keep the approximation close (see PyMC's guidance). The covariance must have a
/// power spectral density: ExpQuad, Matern52, Matern32, Matern12, Exponential, scaled or summed.
/// A Matérn 1/2's (and the exponential kernel's) spectrum decays only as `ω⁻²`: with points on
/// `[−5, 5]` and `c = 1.5`, 30 basis functions keep 90% of its prior variance at `ℓ = 1` and
/// 100 keep 97%, so it needs many more than a smooth kernel.
///
/// ```
/// use exmc::gp::{Cov, Hsgp, Points};
/// use exmc::prelude::*;
/// # fn main() -> exmc::Result<()> {
/// let x: Vec<f64> = (0..200).map(|i| i as f64 / 20.0).collect();
/// let y: Vec<f64> = x.iter().map(|v| v.sin()).collect();
/// let mut m = Model::new();
/// let ls = m.rv("ls", InverseGamma::new(5, 5))?;
/// let mut gp = Hsgp::new(Cov::matern52(ls), &[30], 1.5)?;
/// let f = gp.prior(&mut m, "f", &Points::line(&x)?)?;
/// m.observe("y", Normal::new(f, 0.3), &y)?;
/// let fit = Sampler::new(&m).chains(2).warmup(200).draws(100).seed(1).progress(false).run()?;
/// let new = gp.conditional("f_new", &Points::line(&[10.5, 11.0])?, &m, &fit)?;
/// assert_eq!(new.draws("f_new").unwrap().shape(), vec![2, 100, 2]);
/// # Ok(())
/// # }
/// ```
#[derive(Clone, Debug)]
pub struct Hsgp {
    cov: Cov,
    mean: Mean,
    m: Vec<usize>,
    c: f64,
    basis: Option<(Basis, Vec<f64>)>,
}

impl Hsgp {
    /// A zero-mean process with covariance `cov`, `m[d]` basis functions in dimension `d` (one
    /// entry per input dimension) and boundary factor `c > 1`.
    pub fn new(cov: Cov, m: &[usize], c: f64) -> Result<Hsgp> {
        let total = m.iter().try_fold(1usize, |t, &k| t.checked_mul(k));
        if m.is_empty() || m.contains(&0) || total.is_none_or(|t| t > MAX_BASIS) {
            return Err(Error::InvalidOption {
                option: "m",
                reason: format!("{m:?} basis functions per dimension (between 1 and {MAX_BASIS} in all)"),
            });
        }
        if !(c.is_finite() && c > 1.0) {
            return Err(Error::InvalidOption { option: "c", reason: format!("{c} is not a number above 1") });
        }
        Ok(Hsgp { cov, mean: Mean::Zero, m: m.to_vec(), c, basis: None })
    }

    /// The same process with mean function `mean` (to be placed in a model anew).
    pub fn mean(mut self, mean: Mean) -> Hsgp {
        self.mean = mean;
        self.basis = None;
        self
    }

    /// The eigenvalues `(π j / (2 L_d))²` of every basis function (all combinations of the
    /// per-dimension indices, the first dimension's slowest), one vector per dimension.
    fn eigenvalues(&self, l: &[f64]) -> Vec<Vec<f64>> {
        let total: usize = self.m.iter().product();
        (0..self.m.len())
            .map(|d| {
                let inner: usize = self.m[d + 1..].iter().product();
                (0..total)
                    .map(|k| {
                        let j = (k / inner) % self.m[d] + 1;
                        (std::f64::consts::PI * j as f64 / (2.0 * l[d])).powi(2)
                    })
                    .collect()
            })
            .collect()
    }

    /// `Φ` at `x` (centred by `center`), `x.len() × Π m` row by row.
    fn basis(&self, x: &Points, center: &[f64], l: &[f64]) -> Vec<f64> {
        let eig = self.eigenvalues(l);
        let total = eig[0].len();
        let mut phi = vec![1.0; x.len() * total];
        for i in 0..x.len() {
            for (k, p) in phi[i * total..(i + 1) * total].iter_mut().enumerate() {
                for d in 0..self.m.len() {
                    let xs = x.coordinate(i, d) - center[d];
                    *p *= (eig[d][k].sqrt() * (xs + l[d])).sin() / l[d].sqrt();
                }
            }
        }
        phi
    }

    /// Adds the process at the points `x` to `m` (PyMC's `gp.prior`): the coefficients
    /// `NAME_hsgp_coeffs`, the basis as the data matrix `NAME_basis`, and the deterministic
    /// `NAME`, which it returns. Nothing is added when it fails.
    pub fn prior(&mut self, m: &mut Model, name: &str, x: &Points) -> Result<Var> {
        if x.dims() != self.m.len() {
            return Err(Error::InvalidOption {
                option: "m",
                reason: format!("{} entries for points of {} coordinates", self.m.len(), x.dims()),
            });
        }
        let dims = x.dims();
        let range = |d: usize| {
            let v = (0..x.len()).map(|i| x.coordinate(i, d));
            v.clone().fold(f64::INFINITY, f64::min)..=v.fold(f64::NEG_INFINITY, f64::max)
        };
        let center: Vec<f64> = (0..dims).map(|d| (range(d).start() + range(d).end()) / 2.0).collect();
        let l: Vec<f64> = (0..dims).map(|d| self.c * (range(d).end() - range(d).start()) / 2.0).collect();
        let bad = |l: f64| !l.is_finite() || l.partial_cmp(&0.0) != Some(std::cmp::Ordering::Greater);
        if let Some(d) = l.iter().position(|&l| bad(l)) {
            return Err(Error::InvalidOption {
                option: "points",
                reason: format!("the points do not spread in dimension {d}"),
            });
        }
        let sqrt_psd = (self.cov.log_spectral_density(&self.eigenvalues(&l))? * 0.5).exp();
        let mean = self.mean.at(x)?;
        let (coeffs, basis) = (format!("{name}_hsgp_coeffs"), format!("{name}_basis"));
        let total: usize = self.m.iter().product();
        let phi = self.basis(x, &center, &l);
        let f = super::atomically(m, |m| {
            let phi = m.data_matrix(&basis, x.len(), total, phi)?;
            let beta = m.rv_vec(&coeffs, Normal::new(0.0, 1.0), total)?;
            let f = phi.matvec(sqrt_psd * beta);
            m.deterministic(name, mean.map_or(f.clone(), |mu| mu + f))
        })?;
        self.basis = Some((Basis { center, coeffs }, l));
        Ok(f)
    }

    /// The process at the points `x_new` at every kept draw of `fit` (PyMC's `gp.conditional`):
    /// the same basis functions there, times the draw's coefficients; exact given the draw,
    /// as in PyMC. The approximation holds within `[−L, L]` about the data's centre: beyond,
    /// the basis mirrors itself and predictions are meaningless.
    pub fn conditional(&self, name: &str, x_new: &Points, model: &Model, fit: &Fit) -> Result<Trace> {
        let Some((basis, l)) = &self.basis else {
            return Err(fail("the process was not added to a model (call `prior` first)".into()));
        };
        if x_new.dims() != self.m.len() {
            return Err(fail(format!(
                "points of {} coordinates for a process of {}",
                x_new.dims(),
                self.m.len()
            )));
        }
        let phi = self.basis(x_new, &basis.center, l);
        let sqrt_psd = (self.cov.log_spectral_density(&self.eigenvalues(l))? * 0.5).exp();
        let mean = self.mean.at(x_new)?;
        let coeffs = model.var(&basis.coeffs)?.index;
        let total: usize = self.m.iter().product();
        let s = x_new.len();
        per_draw(model, fit, name, s, |at| {
            let w = value_at(&sqrt_psd, at, total, "spectral density")?;
            let beta = at[coeffs].as_ref().map(|b| b.values.clone()).filter(|b| b.len() == total);
            let beta =
                beta.ok_or_else(|| fail(format!("`{}` does not hold {total} values", basis.coeffs)))?;
            let mu = match &mean {
                Some(e) => value_at(e, at, s, "mean")?,
                None => vec![0.0; s],
            };
            Ok(mu
                .iter()
                .enumerate()
                .map(|(i, mu)| {
                    let row = &phi[i * total..(i + 1) * total];
                    mu + row.iter().zip(&w).zip(&beta).map(|((p, w), b)| p * w * b).sum::<f64>()
                })
                .collect())
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `Φ diag(S(√λ)) Φᵀ` approaches the covariance matrix as the basis grows (Solin & Särkkä
    /// 2020): on a line and on a plane, with one lengthscale per dimension and a sum.
    #[test]
    fn the_basis_reproduces_the_covariance() {
        let plane = Points::new(vec![-1.0, 0.2, -0.3, -0.8, 0.4, 0.5, 0.9, -1.0, 0.0, 0.0], 2).unwrap();
        let per_dim = crate::model::kernel::Lengthscale::per_dimension([0.7, 0.9]);
        // A boundary factor of 5 keeps the boundary's error (the kernel at twice the distance
        // to it) below 10⁻⁹ for these lengthscales; the rest is the basis's truncation.
        let cases = [
            (
                Points::line(&[-1.0, -0.4, 0.1, 0.3, 0.9, 1.0]).unwrap(),
                Cov::exp_quad(0.6).scale(2.0),
                vec![60],
            ),
            (Points::line(&[-1.0, -0.4, 0.1, 0.3, 0.9, 1.0]).unwrap(), Cov::matern32(0.8), vec![400]),
            (plane.clone(), Cov::exp_quad(per_dim.clone()), vec![60, 60]),
            (plane, Cov::exp_quad(per_dim) + Cov::matern52(0.8).scale(0.5), vec![80, 80]),
        ];
        for (x, cov, m) in cases {
            let gp = Hsgp::new(cov.clone(), &m, 5.0).unwrap();
            let dims = x.dims();
            let range = |d: usize| -> (f64, f64) {
                let v: Vec<f64> = (0..x.len()).map(|i| x.coordinate(i, d)).collect();
                (
                    v.iter().copied().fold(f64::INFINITY, f64::min),
                    v.iter().copied().fold(f64::NEG_INFINITY, f64::max),
                )
            };
            let center: Vec<f64> = (0..dims).map(|d| (range(d).0 + range(d).1) / 2.0).collect();
            let l: Vec<f64> = (0..dims).map(|d| 5.0 * (range(d).1 - range(d).0) / 2.0).collect();
            let phi = gp.basis(&x, &center, &l);
            let s = cov.log_spectral_density(&gp.eigenvalues(&l)).unwrap().exp().eval_const().unwrap().values;
            let k = cov.matrix(&x, &x).unwrap().eval_const().unwrap().values;
            let (n, total) = (x.len(), s.len());
            let mut worst: f64 = 0.0;
            for i in 0..n {
                for j in 0..n {
                    let approx: f64 =
                        (0..total).map(|b| phi[i * total + b] * s[b] * phi[j * total + b]).sum();
                    worst = worst.max((approx - k[i * n + j]).abs());
                }
            }
            // ExpQuad's spectral density falls as a Gaussian (errors ~1e-10 and below), the
            // Matérn kernels' as a power (~3e-6 and 6e-6 with these bases).
            assert!(worst < 1e-5, "{dims} dimensions, {m:?} basis functions: largest error {worst}");
        }
    }
}
