//! Covariance functions of Gaussian processes (PyMC's `pm.gp.cov`): a [`Cov`] turns two sets
//! of input [`Points`] into the expression of their covariance matrix. Distances between the
//! points are data, computed once here in f64; the parameters (scales, lengthscales) are
//! expressions, so the matrix is differentiable in them and its Cholesky factor
//! ([`Expr::cholesky`]) gives a Gaussian process's prior or marginal likelihood.

use std::f64::consts::PI;
use std::ops::{Add, Mul, Range};

use super::expr::{Expr, Var};
use crate::error::{Error, Result};

/// Input locations: `n` points of `d` coordinates, row by row (PyMC's `X` of shape `(n, d)`).
#[derive(Clone, Debug, PartialEq)]
pub struct Points {
    values: Vec<f64>,
    dims: usize,
}

impl Points {
    /// Points of `dims` coordinates each, from `values` row by row. Fails when the values are
    /// not whole points, there are none, or one is not finite.
    pub fn new(values: Vec<f64>, dims: usize) -> Result<Points> {
        let invalid = |reason: String| Error::InvalidOption { option: "points", reason };
        if dims == 0 || values.is_empty() || !values.len().is_multiple_of(dims) {
            return Err(invalid(format!(
                "{} values are not whole points of {dims} coordinates",
                values.len()
            )));
        }
        if let Some(i) = values.iter().position(|v| !v.is_finite()) {
            return Err(invalid(format!("coordinate {i} is {}", values[i])));
        }
        Ok(Points { values, dims })
    }

    /// Points on a line (one coordinate each).
    pub fn line(values: &[f64]) -> Result<Points> {
        Points::new(values.to_vec(), 1)
    }

    /// Number of points.
    pub fn len(&self) -> usize {
        self.values.len() / self.dims
    }

    /// Whether there are no points (never: [`Points::new`] refuses none).
    pub fn is_empty(&self) -> bool {
        self.values.is_empty()
    }

    /// Coordinates per point.
    pub fn dims(&self) -> usize {
        self.dims
    }

    /// Coordinate `c` of point `i` (both in range).
    pub(crate) fn coordinate(&self, i: usize, c: usize) -> f64 {
        self.values[i * self.dims + c]
    }
}

/// Lengthscales: one for every input dimension (isotropic), or one per dimension (automatic
/// relevance determination, PyMC's `ls` of length `input_dim`).
#[derive(Clone, Debug)]
pub enum Lengthscale {
    /// The same lengthscale in every dimension.
    Isotropic(Expr),
    /// A lengthscale per input dimension.
    PerDimension(Vec<Expr>),
}

macro_rules! isotropic_from {
    ($($t:ty),*) => {$(
        impl From<$t> for Lengthscale {
            fn from(ls: $t) -> Lengthscale {
                Lengthscale::Isotropic(ls.into())
            }
        }
    )*};
}
isotropic_from!(Expr, Var, &Var, f64, i32);

impl Lengthscale {
    /// One lengthscale per input dimension: `ls[d]`, or the elements of a vector node
    /// (`Lengthscale::per_dimension((0..2).map(|d| ls.get(d)))`).
    pub fn per_dimension(ls: impl IntoIterator<Item = impl Into<Expr>>) -> Lengthscale {
        Lengthscale::PerDimension(ls.into_iter().map(Into::into).collect())
    }
}

/// Fails unless the points of `a` and `b` have as many coordinates.
fn same_dims(a: &Points, b: &Points) -> Result<()> {
    if a.dims == b.dims {
        return Ok(());
    }
    Err(Error::InvalidOption {
        option: "points",
        reason: format!("points of {} and of {} coordinates", a.dims, b.dims),
    })
}

/// `Σ_{c ∈ dims} g(a_c, b_c)` for every pair of a point of `a` and one of `b`, row by row.
fn pairwise(a: &Points, b: &Points, dims: Range<usize>, g: &dyn Fn(f64, f64) -> f64) -> Vec<f64> {
    let mut out = Vec::with_capacity(a.len() * b.len());
    for i in 0..a.len() {
        for j in 0..b.len() {
            out.push(dims.clone().map(|c| g(a.coordinate(i, c), b.coordinate(j, c))).sum());
        }
    }
    out
}

/// The scaled squared distances of every pair, `Σ_d h(a_d − b_d) / ℓ_d²` (an expression of
/// `a.len() · b.len()` values, row by row), for `h` the square (stationary kernels) or the
/// periodic kernel's `sin²(π δ / T)`.
fn scaled(ls: &Lengthscale, a: &Points, b: &Points, h: &dyn Fn(f64) -> f64) -> Result<Expr> {
    same_dims(a, b)?;
    let g = |x: f64, y: f64| h(x - y);
    match ls {
        Lengthscale::Isotropic(l) => Ok(Expr::data(pairwise(a, b, 0..a.dims, &g)) / l.clone().square()),
        Lengthscale::PerDimension(ls) if ls.len() == a.dims => Ok(ls
            .iter()
            .enumerate()
            .map(|(c, l)| Expr::data(pairwise(a, b, c..c + 1, &g)) / l.clone().square())
            .reduce(|s, t| s + t)
            .expect("points have a coordinate")),
        Lengthscale::PerDimension(ls) => Err(Error::InvalidOption {
            option: "lengthscale",
            reason: format!("{} lengthscales for points of {} coordinates", ls.len(), a.dims),
        }),
    }
}

/// The scaled distances `r = √(Σ_d (a_d − b_d)² / ℓ_d²)`: with one lengthscale the distances
/// are data divided by it; with one per dimension PyMC's `√(r² + 10⁻¹²)`, whose derivative is
/// finite where two points coincide.
fn distance(ls: &Lengthscale, a: &Points, b: &Points) -> Result<Expr> {
    let square = |d: f64| d * d;
    match ls {
        Lengthscale::Isotropic(l) => {
            same_dims(a, b)?;
            let r = pairwise(a, b, 0..a.dims, &|x, y| square(x - y))
                .into_iter()
                .map(f64::sqrt)
                .collect::<Vec<_>>();
            Ok(Expr::data(r) / l.clone())
        }
        Lengthscale::PerDimension(_) => Ok((scaled(ls, a, b, &square)? + 1e-12).sqrt()),
    }
}

/// A covariance function (PyMC's `pm.gp.cov`), built from kernels by sums, products and
/// scaling: `Cov::exp_quad(ls).scale(eta.square())` is PyMC's `eta**2 * ExpQuad(1, ls)`.
///
/// ```
/// use exmc::prelude::*;
/// use exmc::model::kernel::{Cov, Points};
/// let mut m = Model::new();
/// let ls = m.rv("ls", Gamma::new(2, 1))?;
/// let eta = m.rv("eta", HalfNormal::new(1))?;
/// let cov = Cov::matern52(ls).scale(eta.square()) + Cov::constant(0.5);
/// let x = Points::line(&[0.0, 0.5, 1.0])?;
/// let k = cov.matrix(&x, &x)?; // 3 × 3, differentiable in ls and eta
/// # let _ = k;
/// # Ok::<(), exmc::Error>(())
/// ```
#[derive(Clone, Debug)]
pub enum Cov {
    /// `exp(−r²/2)` with `r` the scaled distance (PyMC's `ExpQuad`).
    ExpQuad(Lengthscale),
    /// `(1 + √5 r + 5r²/3) exp(−√5 r)` (PyMC's `Matern52`).
    Matern52(Lengthscale),
    /// `(1 + √3 r) exp(−√3 r)` (PyMC's `Matern32`).
    Matern32(Lengthscale),
    /// `exp(−r/2)` (PyMC's `Exponential`; Stan's `gp_exponential_cov` is `exp(−r)`).
    Exponential(Lengthscale),
    /// `exp(−r)` (PyMC's `Matern12`, Stan's `gp_exponential_cov`).
    Matern12(Lengthscale),
    /// `(1 + r²/(2α))^{−α}` (PyMC's `RatQuad(alpha, ls)`): a scale mixture of ExpQuad kernels
    /// with `α > 0` (a constant or a parameter); ExpQuad as `α → ∞`.
    RatQuad(Expr, Lengthscale),
    /// `σ²` between a point and itself, 0 otherwise (PyMC's `WhiteNoise(sigma)`): the
    /// diagonal of [`Cov::matrix`] of a set of points with itself, zeros between two sets
    /// (PyMC's `cov(X)` and `cov(X, Xs)`). "Itself" is by address: `matrix(&x, &x)`; a clone
    /// of `x`, or other points with equal values, is another set and gets zeros.
    WhiteNoise(Expr),
    /// `exp(−Σ_d sin²(π δ_d / T) / (2ℓ_d²))` with a known period `T` (PyMC's `Periodic`).
    Periodic(Lengthscale, f64),
    /// `Σ_d (a_d − c)(b_d − c)` (PyMC's `Linear`).
    Linear(Expr),
    /// The same value for every pair (PyMC's `Constant`).
    Constant(Expr),
    /// A covariance times a scale (`eta²`).
    Scaled(Box<Cov>, Expr),
    /// The sum of two covariances.
    Sum(Box<Cov>, Box<Cov>),
    /// The elementwise product of two covariances.
    Product(Box<Cov>, Box<Cov>),
}

impl Cov {
    /// The exponentiated quadratic (squared exponential) kernel.
    pub fn exp_quad(ls: impl Into<Lengthscale>) -> Cov {
        Cov::ExpQuad(ls.into())
    }
    /// The Matérn kernel of smoothness 5/2.
    pub fn matern52(ls: impl Into<Lengthscale>) -> Cov {
        Cov::Matern52(ls.into())
    }
    /// The Matérn kernel of smoothness 3/2.
    pub fn matern32(ls: impl Into<Lengthscale>) -> Cov {
        Cov::Matern32(ls.into())
    }
    /// The exponential kernel, PyMC's `exp(−r/2)`.
    pub fn exponential(ls: impl Into<Lengthscale>) -> Cov {
        Cov::Exponential(ls.into())
    }
    /// The Matérn kernel of smoothness 1/2, `exp(−r)`.
    pub fn matern12(ls: impl Into<Lengthscale>) -> Cov {
        Cov::Matern12(ls.into())
    }
    /// The rational quadratic kernel of shape `alpha` (PyMC's `RatQuad(input_dim, alpha, ls)`).
    pub fn rat_quad(alpha: impl Into<Expr>, ls: impl Into<Lengthscale>) -> Cov {
        Cov::RatQuad(alpha.into(), ls.into())
    }
    /// Independent noise of standard deviation `sigma` at every point (PyMC's `WhiteNoise`).
    pub fn white_noise(sigma: impl Into<Expr>) -> Cov {
        Cov::WhiteNoise(sigma.into())
    }
    /// The periodic kernel of a known `period`.
    pub fn periodic(ls: impl Into<Lengthscale>, period: f64) -> Cov {
        Cov::Periodic(ls.into(), period)
    }
    /// The linear (dot-product) kernel about `c`.
    pub fn linear(c: impl Into<Expr>) -> Cov {
        Cov::Linear(c.into())
    }
    /// A constant covariance.
    pub fn constant(c: impl Into<Expr>) -> Cov {
        Cov::Constant(c.into())
    }
    /// This covariance times `s` (a variance such as `eta.square()`).
    pub fn scale(self, s: impl Into<Expr>) -> Cov {
        Cov::Scaled(Box::new(self), s.into())
    }

    /// The covariance of every point of `a` with every point of `b`: an expression of
    /// `a.len() × b.len()` values, row by row (PyMC's `cov(X, Xs)`; with `a` and `b` the same
    /// `Points`, PyMC's `cov(X)`, which differs only for [`Cov::WhiteNoise`]). Fails when the
    /// points' dimensions differ from each other or from the lengthscales', or a period is not
    /// positive and finite.
    pub fn matrix(&self, a: &Points, b: &Points) -> Result<Expr> {
        let e = match self {
            Cov::ExpQuad(ls) => (scaled(ls, a, b, &|d| d * d)? * -0.5).exp(),
            Cov::Matern52(ls) => {
                let r = distance(ls, a, b)? * 5f64.sqrt();
                (r.clone() + r.clone().square() / 3.0 + 1.0) * (-r).exp()
            }
            Cov::Matern32(ls) => {
                let r = distance(ls, a, b)? * 3f64.sqrt();
                (r.clone() + 1.0) * (-r).exp()
            }
            Cov::Exponential(ls) => (distance(ls, a, b)? * -0.5).exp(),
            Cov::Matern12(ls) => (-distance(ls, a, b)?).exp(),
            // exp(−α ln(1 + r²/(2α))).
            Cov::RatQuad(alpha, ls) => {
                let r2 = scaled(ls, a, b, &|d| d * d)?;
                ((r2 / (alpha.clone() * 2.0)).ln_1p() * -alpha.clone()).exp()
            }
            Cov::WhiteNoise(sigma) => {
                same_dims(a, b)?;
                let n = a.len() * b.len();
                let eye: Vec<f64> = if std::ptr::eq(a, b) {
                    (0..n).map(|i| if i % (a.len() + 1) == 0 { 1.0 } else { 0.0 }).collect()
                } else {
                    vec![0.0; n]
                };
                Expr::data(eye) * sigma.clone().square()
            }
            Cov::Periodic(ls, period) => {
                if !(period.is_finite() && *period > 0.0) {
                    return Err(Error::InvalidOption {
                        option: "period",
                        reason: format!("{period} is not a positive number"),
                    });
                }
                let s = |d: f64| (PI * d / period).sin().powi(2);
                (scaled(ls, a, b, &s)? * -0.5).exp()
            }
            Cov::Linear(c) => {
                // Σ_d (a_d − c)(b_d − c) = Σ a_d b_d − c Σ (a_d + b_d) + D c².
                same_dims(a, b)?;
                let dot = Expr::data(pairwise(a, b, 0..a.dims, &|x, y| x * y));
                let sum = Expr::data(pairwise(a, b, 0..a.dims, &|x, y| x + y));
                dot - sum * c.clone() + c.clone().square() * a.dims as f64
            }
            Cov::Constant(c) => Expr::data(vec![1.0; a.len() * b.len()]) * c.clone(),
            Cov::Scaled(k, s) => k.matrix(a, b)? * s.clone(),
            Cov::Sum(k, q) => k.matrix(a, b)? + q.matrix(a, b)?,
            Cov::Product(k, q) => k.matrix(a, b)? * q.matrix(a, b)?,
        };
        Ok(e.reshape(a.len(), b.len()))
    }
}

impl Cov {
    /// The logarithm of the power spectral density `S(ω)` (PyMC's `power_spectral_density`;
    /// PyMC has none for Matern12 and Exponential, and one for RatQuad that exmc lacks) at
    /// frequencies given by their squares per input dimension (`omega2[d]`, one value per
    /// frequency), for ExpQuad, Matern52, Matern32, Matern12 and Exponential, scaled or summed:
    /// an expression of the parameters, one value per frequency. On the log scale a density far
    /// out in its tail stays finite, with a finite derivative (the Hilbert-space approximation
    /// reads `√S`). Scales must be positive (their logarithm is taken).
    pub fn log_spectral_density(&self, omega2: &[Vec<f64>]) -> Result<Expr> {
        let dims = omega2.len();
        if dims == 0 {
            return Err(Error::InvalidOption { option: "frequencies", reason: "no input dimension".into() });
        }
        let d = dims as f64;
        // Σ_d ln ℓ_d and Σ_d ℓ_d² ω_d², for lengthscales `f` times those given.
        let terms = |ls: &Lengthscale, f: f64| -> Result<(Expr, Expr)> {
            let l = |k: usize| match ls {
                Lengthscale::Isotropic(l) => Ok(l.clone() * f),
                Lengthscale::PerDimension(v) if v.len() == dims => Ok(v[k].clone() * f),
                Lengthscale::PerDimension(v) => Err(Error::InvalidOption {
                    option: "lengthscale",
                    reason: format!("{} lengthscales for points of {dims} coordinates", v.len()),
                }),
            };
            let (mut log_prod, mut s) = (l(0)?.ln(), Expr::data(omega2[0].clone()) * l(0)?.square());
            for (k, w) in omega2.iter().enumerate().skip(1) {
                log_prod = log_prod + l(k)?.ln();
                s = s + Expr::data(w.clone()) * l(k)?.square();
            }
            Ok((log_prod, s))
        };
        // 2^D π^{D/2} Γ((D + ν₂)/2) ν₂^{ν₂/2} / (den √π) Π ℓ (ν₂ + s)^{−(D + ν₂)/2}, ν₂ = 2ν.
        // `den √π = Γ(ν)`; `f` scales the lengthscales (PyMC's exponential kernel is a Matérn
        // 1/2 at twice the lengthscale).
        let matern = |ls: &Lengthscale, nu2: f64, den: f64, f: f64| -> Result<Expr> {
            let (log_prod, s) = terms(ls, f)?;
            let e = (d + nu2) / 2.0;
            let c = d * 2f64.ln() + d / 2.0 * PI.ln() + libm::lgamma(e) + nu2 / 2.0 * nu2.ln()
                - (den * PI.sqrt()).ln();
            Ok(log_prod + c - (s + nu2).ln() * e)
        };
        match self {
            Cov::ExpQuad(ls) => {
                let (log_prod, s) = terms(ls, 1.0)?;
                Ok(log_prod + d / 2.0 * (2.0 * PI).ln() - s * 0.5)
            }
            Cov::Matern52(ls) => matern(ls, 5.0, 0.75, 1.0),
            Cov::Matern32(ls) => matern(ls, 3.0, 0.5, 1.0),
            Cov::Matern12(ls) => matern(ls, 1.0, 1.0, 1.0),
            Cov::Exponential(ls) => matern(ls, 1.0, 1.0, 2.0),
            Cov::Scaled(k, a) => Ok(k.log_spectral_density(omega2)? + a.clone().ln()),
            // ln(eᵃ + eᵇ) = a + softplus(b − a).
            Cov::Sum(k, q) => {
                let (a, b) = (k.log_spectral_density(omega2)?, q.log_spectral_density(omega2)?);
                Ok(a.clone() + (b - a).softplus())
            }
            other => Err(Error::InvalidOption {
                option: "covariance",
                reason: format!(
                    "{} has no power spectral density (ExpQuad, Matern52, Matern32, Matern12 and \
                     Exponential have, scaled or summed)",
                    match other {
                        Cov::RatQuad(..) =>
                            "the rational quadratic kernel (exmc lacks PyMC's Bessel-K spectral density)",
                        Cov::WhiteNoise(_) => "white noise",
                        Cov::Periodic(..) => "the periodic kernel",
                        Cov::Linear(_) => "the linear kernel",
                        Cov::Constant(_) => "a constant",
                        _ => "a product of kernels",
                    }
                ),
            }),
        }
    }
}

impl Add for Cov {
    type Output = Cov;
    fn add(self, other: Cov) -> Cov {
        Cov::Sum(Box::new(self), Box::new(other))
    }
}

impl Mul for Cov {
    type Output = Cov;
    fn mul(self, other: Cov) -> Cov {
        Cov::Product(Box::new(self), Box::new(other))
    }
}

/// `k + d I` for a square matrix `k` of `n × n` values (PyMC's `stabilize`, Stan's
/// `add_diag`): jitter, or a noise variance `sigma²` that may be a parameter.
pub fn add_diag(k: Expr, n: usize, d: impl Into<Expr>) -> Expr {
    let eye: Vec<f64> = (0..n * n).map(|i| if i % (n + 1) == 0 { 1.0 } else { 0.0 }).collect();
    (k + Expr::data(eye) * d.into()).reshape(n, n)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn values(e: &Expr) -> Vec<f64> {
        e.eval_const().expect("constant parameters give a constant").values
    }

    #[test]
    fn kernels_match_their_formulas() {
        let a = Points::new(vec![0.0, 1.0, 0.5, -1.0, 2.0, 0.3], 2).unwrap();
        let b = Points::new(vec![0.2, 0.1, -0.4, 1.5], 2).unwrap();
        let (ls, ls2) = (0.7, [0.5, 1.3]);
        for i in 0..3 {
            for j in 0..2 {
                let d: Vec<f64> = (0..2).map(|c| a.coordinate(i, c) - b.coordinate(j, c)).collect();
                let r2 = (d[0] * d[0] + d[1] * d[1]) / (ls * ls);
                let r = r2.sqrt();
                let ard = ((d[0] / ls2[0]).powi(2) + (d[1] / ls2[1]).powi(2) + 1e-12).sqrt();
                let s5 = 5f64.sqrt() * r;
                let s3 = 3f64.sqrt() * ard;
                let per: f64 = d.iter().map(|x| (PI * x / 2.5).sin().powi(2)).sum::<f64>() / (ls * ls);
                let rq = (1.0 + r2 / (2.0 * 1.7)).powf(-1.7);
                let lin = (a.coordinate(i, 0) - 0.3) * (b.coordinate(j, 0) - 0.3)
                    + (a.coordinate(i, 1) - 0.3) * (b.coordinate(j, 1) - 0.3);
                let cases = [
                    (Cov::exp_quad(ls).scale(2.0), 2.0 * (-0.5 * r2).exp()),
                    (Cov::matern52(ls), (1.0 + s5 + s5 * s5 / 3.0) * (-s5).exp()),
                    (Cov::matern32(Lengthscale::per_dimension(ls2)), (1.0 + s3) * (-s3).exp()),
                    (Cov::exponential(ls), (-0.5 * r).exp()),
                    (Cov::matern12(ls), (-r).exp()),
                    (Cov::rat_quad(1.7, ls), rq),
                    (Cov::white_noise(0.3), 0.0),
                    (Cov::periodic(ls, 2.5), (-0.5 * per).exp()),
                    (Cov::linear(0.3) + Cov::constant(0.4), lin + 0.4),
                    (Cov::exp_quad(ls) * Cov::constant(3.0), 3.0 * (-0.5 * r2).exp()),
                ];
                for (k, (cov, want)) in cases.into_iter().enumerate() {
                    let got = values(&cov.matrix(&a, &b).unwrap())[i * 2 + j];
                    assert!(
                        (got - want).abs() < 1e-13 * want.abs().max(1.0),
                        "case {k} [{i}, {j}]: {got} vs {want}"
                    );
                }
            }
        }
        // White noise on the diagonal of the points with themselves only.
        let w = values(&Cov::white_noise(0.3).matrix(&a, &a).unwrap());
        let eye = [1.0, 0.0, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0, 1.0];
        assert!(w.iter().zip(eye).all(|(w, e)| (w - 0.09 * e).abs() < 1e-15), "{w:?}");
        let copy = a.clone();
        assert!(values(&Cov::white_noise(0.3).matrix(&a, &copy).unwrap()).iter().all(|&w| w == 0.0));
        // RatQuad tends to ExpQuad as α grows.
        let (rq, eq) =
            (Cov::rat_quad(1e7, 0.7).matrix(&a, &b).unwrap(), Cov::exp_quad(0.7).matrix(&a, &b).unwrap());
        assert!(values(&rq).iter().zip(values(&eq)).all(|(x, y)| (x - y).abs() < 1e-6));
        let k = add_diag(Cov::exp_quad(1.0).matrix(&a, &a).unwrap(), 3, 0.25);
        let v = values(&k);
        assert_eq!((v[0], v[4], v[8]), (1.25, 1.25, 1.25));
        assert!((v[1] - v[3]).abs() < 1e-15 && v[1] < 1.0);
    }

    /// The spectral densities against the kernels' Fourier transforms on a line,
    /// `S(ω) = 2 ∫₀^∞ k(r) cos(ω r) dr`, by Simpson's rule (an oracle independent of the
    /// closed forms); scaling multiplies and sums add.
    #[test]
    fn spectral_densities_are_the_kernels_fourier_transforms() {
        let ls = 0.7;
        let omega = [0.0, 0.5, 2.0, 6.0];
        let omega2: Vec<f64> = omega.iter().map(|w| w * w).collect();
        let origin = Points::line(&[0.0]).unwrap();
        let (n, end) = (200_000, 40.0);
        let r: Vec<f64> = (0..=n).map(|i| end * i as f64 / n as f64).collect();
        let grid = Points::line(&r).unwrap();
        for cov in
            [Cov::exp_quad(ls), Cov::matern52(ls), Cov::matern32(ls), Cov::matern12(ls), Cov::exponential(ls)]
        {
            let k = values(&cov.matrix(&origin, &grid).unwrap());
            let s = values(&cov.log_spectral_density(std::slice::from_ref(&omega2)).unwrap().exp());
            for (w, s) in omega.iter().zip(&s) {
                let h = end / n as f64;
                let f = |i: usize| k[i] * (w * r[i]).cos();
                let simpson: f64 = (f(0)
                    + f(n)
                    + (1..n).map(|i| if i % 2 == 1 { 4.0 * f(i) } else { 2.0 * f(i) }).sum::<f64>())
                    * h
                    / 3.0;
                let want = 2.0 * simpson;
                assert!((s - want).abs() < 1e-7 * want.max(1e-3), "{cov:?} at ω = {w}: {s} vs {want}");
            }
        }
        let w2 = vec![omega2.clone()];
        let one = values(&Cov::matern32(ls).log_spectral_density(&w2).unwrap().exp());
        let two = values(&Cov::exp_quad(ls).log_spectral_density(&w2).unwrap().exp());
        let sum = values(
            &(Cov::matern32(ls).scale(2.0) + Cov::exp_quad(ls)).log_spectral_density(&w2).unwrap().exp(),
        );
        for k in 0..omega.len() {
            assert!((sum[k] - (2.0 * one[k] + two[k])).abs() < 1e-12 * sum[k]);
        }
        // Far out in the tail the log density stays finite.
        let far = values(&Cov::exp_quad(10.0).log_spectral_density(&[vec![1e4]]).unwrap());
        assert!(far[0].is_finite() && far[0] < -1e5);
        assert!(Cov::periodic(1.0, 2.0).log_spectral_density(&w2).is_err());
        assert!(Cov::rat_quad(2.0, 1.0).log_spectral_density(&w2).is_err());
        assert!(Cov::white_noise(1.0).log_spectral_density(&w2).is_err());
        assert!((Cov::exp_quad(1.0) * Cov::matern32(1.0)).log_spectral_density(&w2).is_err());
    }

    #[test]
    fn mismatched_points_and_lengthscales_are_errors() {
        let a = Points::new(vec![0.0, 1.0], 2).unwrap();
        let b = Points::line(&[0.0, 1.0]).unwrap();
        assert!(Cov::exp_quad(1.0).matrix(&a, &b).is_err());
        assert!(Cov::linear(0.0).matrix(&a, &b).is_err());
        assert!(Cov::matern32(Lengthscale::per_dimension([1.0, 2.0, 3.0])).matrix(&a, &a).is_err());
        assert!(Cov::periodic(1.0, 0.0).matrix(&b, &b).is_err());
        assert!(Points::new(vec![0.0, 1.0, 2.0], 2).is_err());
        assert!(Points::new(vec![f64::NAN], 1).is_err());
        assert!(Points::line(&[]).is_err());
    }
}
