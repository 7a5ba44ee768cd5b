//! Gaussian processes, PyMC's `pm.gp`: a latent process under any likelihood ([`Latent`]), a
//! process observed with Gaussian noise and integrated out ([`Marginal`]), and the
//! Hilbert-space approximation of a latent one for many points ([`Hsgp`]), with predictions
//! at new points from a fit (`conditional`).
//!
//! A process is a mean function ([`Mean`]) and a covariance function ([`Cov`], built from
//! kernels by sums, products and scaling). Its covariance matrix at the data's points is an
//! expression of the parameters; its Cholesky factor ([`Expr::cholesky`]) is computed in the
//! compiled program with its adjoint, on the CPU and in the GPU kernels, so lengthscales and
//! scales are sampled jointly with everything else.
//!
//! ```
//! use exmc::gp::{Cov, Latent, Points};
//! use exmc::prelude::*;
//! # fn main() -> exmc::Result<()> {
//! let x = Points::line(&[0.0, 0.5, 1.0, 1.5, 2.0, 2.5, 3.0, 3.5])?;
//! let counts = [1.0, 2.0, 4.0, 5.0, 3.0, 2.0, 1.0, 1.0];
//! let mut m = Model::new();
//! let ls = m.rv("ls", InverseGamma::new(5, 5))?;
//! let eta = m.rv("eta", HalfNormal::new(1))?;
//! let mut gp = Latent::new(Cov::exp_quad(ls).scale(eta.square()));
//! let f = gp.prior(&mut m, "f", &x)?;
//! m.observe("y", Poisson::new(f.exp()), &counts)?;
//! let fit = Sampler::new(&m).chains(2).warmup(300).draws(200).seed(1).progress(false).run()?;
//! // The latent rate between the observations, one draw per posterior draw.
//! let new = Points::line(&[0.25, 1.25, 2.25])?;
//! let pred = gp.conditional("f_new", &new, &m, &fit, 7)?;
//! assert_eq!(pred.draws("f_new").unwrap().shape(), vec![2, 200, 3]);
//! # Ok(())
//! # }
//! ```

mod hsgp;

pub use hsgp::Hsgp;

use nalgebra::{DMatrix, DVector};
use rand::SeedableRng;
use rand::rngs::StdRng;
use rand_distr::{Distribution, StandardNormal};

use crate::error::{Error, Result};
use crate::model::dist::families::{MvNormal, Normal};
use crate::model::expr::ConstValue;
pub use crate::model::kernel::{Cov, Lengthscale, Points, add_diag};
use crate::model::{Expr, Model, Var};
use crate::sampler::predictive::DrawValues;
use crate::sampler::{Fit, Trace, TraceVar};

/// PyMC's default jitter added to a latent covariance's diagonal.
pub const JITTER: f64 = 1e-6;

/// A mean function (PyMC's `pm.gp.mean`).
#[derive(Clone, Debug, Default)]
pub enum Mean {
    /// Zero everywhere (PyMC's default).
    #[default]
    Zero,
    /// The same value everywhere, which may be a parameter.
    Constant(Expr),
    /// `intercept + Σ_d coeffs[d] x_d`.
    Linear {
        /// One coefficient per input dimension.
        coeffs: Vec<Expr>,
        /// The intercept.
        intercept: Expr,
    },
}

impl Mean {
    /// The mean at every point, or `None` for zero.
    fn at(&self, x: &Points) -> Result<Option<Expr>> {
        Ok(match self {
            Mean::Zero => None,
            Mean::Constant(c) => Some(Expr::data(vec![1.0; x.len()]) * c.clone()),
            Mean::Linear { coeffs, intercept } => {
                if coeffs.len() != x.dims() {
                    return Err(Error::InvalidOption {
                        option: "mean",
                        reason: format!(
                            "{} coefficients for points of {} coordinates",
                            coeffs.len(),
                            x.dims()
                        ),
                    });
                }
                let column =
                    |d: usize| Expr::data((0..x.len()).map(|i| x.coordinate(i, d)).collect::<Vec<_>>());
                Some(
                    coeffs
                        .iter()
                        .enumerate()
                        .fold(Expr::data(vec![1.0; x.len()]) * intercept.clone(), |s, (d, b)| {
                            s + column(d) * b.clone()
                        }),
                )
            }
        })
    }
}

/// Where a process was placed in a model, for its conditional.
#[derive(Clone, Debug)]
struct Placed {
    x: Points,
    given: Given,
}

/// What a conditional is conditioned on.
#[derive(Clone, Debug)]
enum Given {
    /// The latent values' node (a deterministic).
    Latent(String),
    /// The observations and the noise's standard deviation.
    Observed(Vec<f64>, Expr),
}

/// What both processes hold: the mean and covariance functions, the jitter, and where the
/// process was placed.
#[derive(Clone, Debug)]
struct Process {
    cov: Cov,
    mean: Mean,
    jitter: f64,
    placed: Option<Placed>,
}

impl Process {
    fn new(cov: Cov) -> Process {
        Process { cov, mean: Mean::Zero, jitter: JITTER, placed: None }
    }

    /// The covariance at `x` with `extra` (jitter, noise) on its diagonal, and the mean there;
    /// fails before anything is added to a model.
    fn at(&self, x: &Points, extra: Expr) -> Result<(Expr, Option<Expr>)> {
        if !(self.jitter.is_finite() && self.jitter >= 0.0) {
            return Err(Error::InvalidOption {
                option: "jitter",
                reason: format!("{} is not a non-negative number", self.jitter),
            });
        }
        if x.len() < 2 {
            return Err(Error::InvalidOption {
                option: "points",
                reason: "a process needs at least two points".into(),
            });
        }
        Ok((add_diag(self.cov.matrix(x, x)?, x.len(), extra), self.mean.at(x)?))
    }
}

/// Runs `add` on `m`, removing what it added when it fails.
fn atomically<T>(m: &mut Model, add: impl FnOnce(&mut Model) -> Result<T>) -> Result<T> {
    let start = m.nodes().len();
    let out = add(m);
    if out.is_err() {
        m.truncate(start);
    }
    out
}

/// The builder methods both processes share.
macro_rules! process_options {
    ($t:ident) => {
        impl $t {
            /// A zero-mean process with covariance `cov` and PyMC's jitter ([`JITTER`]).
            pub fn new(cov: Cov) -> $t {
                $t(Process::new(cov))
            }

            /// The same process with mean function `mean` (to be placed in a model anew).
            pub fn mean(mut self, mean: Mean) -> $t {
                self.0.mean = mean;
                self.0.placed = None;
                self
            }

            /// The same process with `jitter` added to its covariance's diagonal (larger values
            /// keep the Cholesky factor of a smooth kernel's matrix finite in the GPU's f32
            /// kernels).
            pub fn jitter(mut self, jitter: f64) -> $t {
                self.0.jitter = jitter;
                self.0.placed = None;
                self
            }
        }
    };
}

/// A latent Gaussian process (PyMC's `pm.gp.Latent`): `f = mean(X) + L v` with `L` the Cholesky
/// factor of `K(X, X) + jitter·I` and `v` independent standard normals (`NAME_rotated_`), the
/// non-centred form PyMC samples, under any likelihood.
#[derive(Clone, Debug)]
pub struct Latent(Process);

process_options!(Latent);

impl Latent {
    /// Adds the process at the points `x` (at least two) to `m` (PyMC's `gp.prior`): the
    /// standard normals `NAME_rotated_` and the deterministic `NAME`, which it returns. Nothing
    /// is added when it fails.
    pub fn prior(&mut self, m: &mut Model, name: &str, x: &Points) -> Result<Var> {
        let (k, mean) = self.0.at(x, Expr::from(self.0.jitter))?;
        let f = atomically(m, |m| {
            let v = m.rv_vec(&format!("{name}_rotated_"), Normal::new(0.0, 1.0), x.len())?;
            let f = k.cholesky().tril_mul(v);
            m.deterministic(name, mean.map_or(f.clone(), |mu| mu + f))
        })?;
        self.0.placed = Some(Placed { x: x.clone(), given: Given::Latent(name.to_string()) });
        Ok(f)
    }

    /// Draws of the process at the points `x_new` given its values at the data's points, one
    /// per kept draw of `fit` (PyMC's `gp.conditional` then `sample_posterior_predictive`):
    /// the Gaussian with mean `mean(X*) + K*ᵀ K⁻¹ (f − mean(X))` and covariance
    /// `K** − K*ᵀ K⁻¹ K*` plus the jitter, with `K = K(X, X) + jitter·I`, computed in f64 on
    /// the host. Returned as a [`Trace`] of one variable `name` (chains × draws × points).
    pub fn conditional(
        &self,
        name: &str,
        x_new: &Points,
        model: &Model,
        fit: &Fit,
        seed: u64,
    ) -> Result<Trace> {
        conditional(&self.0, name, x_new, false, model, fit, seed)
    }
}

/// A Gaussian process observed with independent normal noise, integrated out (PyMC's
/// `pm.gp.Marginal`): `y ~ MvNormal(mean(X), K(X, X) + (σ² + jitter) I)`.
#[derive(Clone, Debug)]
pub struct Marginal(Process);

process_options!(Marginal);

impl Marginal {
    /// Adds the observations `y` at the points `x` (at least two), with noise of standard
    /// deviation `sigma` (a number or a scalar parameter), to `m` (PyMC's
    /// `gp.marginal_likelihood`): the observed node `NAME`, a multivariate normal whose
    /// covariance's Cholesky factor is computed from the parameters at every gradient.
    pub fn marginal_likelihood(
        &mut self,
        m: &mut Model,
        name: &str,
        x: &Points,
        y: &[f64],
        sigma: impl Into<Expr>,
    ) -> Result<Var> {
        let sigma = sigma.into();
        let (k, mean) = self.0.at(x, sigma.clone().square() + self.0.jitter)?;
        if y.len() != x.len() {
            return Err(Error::InvalidOption {
                option: "y",
                reason: format!("{} observations at {} points", y.len(), x.len()),
            });
        }
        let obs = m.observe(name, MvNormal::new(mean.unwrap_or_else(|| Expr::from(0.0)), k.cholesky()), y)?;
        self.0.placed = Some(Placed { x: x.clone(), given: Given::Observed(y.to_vec(), sigma) });
        Ok(obs)
    }

    /// Draws of the process at the points `x_new` given the observations, one per kept draw
    /// of `fit` (PyMC's `gp.conditional`): the Gaussian with mean
    /// `mean(X*) + K*ᵀ K⁻¹ (y − mean(X))` and covariance `K** − K*ᵀ K⁻¹ K*`, with
    /// `K = K(X, X) + (σ² + jitter) I`, plus `σ² I` when `pred_noise` (new observations rather
    /// than the process) or else the jitter. Returned as a [`Trace`] of one variable `name`.
    pub fn conditional(
        &self,
        name: &str,
        x_new: &Points,
        pred_noise: bool,
        model: &Model,
        fit: &Fit,
        seed: u64,
    ) -> Result<Trace> {
        conditional(&self.0, name, x_new, pred_noise, model, fit, seed)
    }
}

/// The conditional's error for `reason`.
fn fail(reason: String) -> Error {
    Error::InvalidOption { option: "conditional", reason }
}

/// An expression's value at one draw (`at`, every node's value): `len` values, or one
/// broadcast to `len`.
fn value_at(e: &Expr, at: &[Option<ConstValue>], len: usize, what: &str) -> Result<Vec<f64>> {
    let v = e
        .eval_with(&|j| at.get(j).cloned().flatten())
        .ok_or_else(|| fail(format!("its {what} cannot be evaluated")))?;
    match v.values.len() {
        1 => Ok(vec![v.values[0]; len]),
        k if k == len => Ok(v.values),
        k => Err(fail(format!("its {what} has {k} values where {len} are needed"))),
    }
}

/// A trace of the variable `name`, `len` values per kept draw of `fit`, each made by
/// `draw(values)` from every node's value at that draw; it must be finite.
fn per_draw(
    model: &Model,
    fit: &Fit,
    name: &str,
    len: usize,
    mut draw: impl FnMut(&[Option<ConstValue>]) -> Result<Vec<f64>>,
) -> Result<Trace> {
    let trace = &fit.trace;
    let draws = DrawValues::new(model, trace)?;
    let mut values = Vec::with_capacity(trace.chains * trace.draws * len);
    for chain in 0..trace.chains {
        for d in 0..trace.draws {
            let at = |e: Error| match e {
                Error::InvalidOption { reason, .. } => fail(format!("{reason} (chain {chain}, draw {d})")),
                other => other,
            };
            let f = draw(&draws.at(chain, d)).map_err(at)?;
            if let Some(i) = f.iter().position(|v| !v.is_finite()) {
                return Err(at(fail(format!("its value at new point {i} is {}", f[i]))));
            }
            values.extend(f);
        }
    }
    Ok(Trace {
        chains: trace.chains,
        draws: trace.draws,
        vars: vec![TraceVar { name: name.to_string(), shape: vec![len], values, labels: None }],
        stats: vec![Vec::new(); trace.chains],
        warmup_stats: vec![Vec::new(); trace.chains],
    })
}

/// The conditional draws shared by both processes.
fn conditional(
    p: &Process,
    name: &str,
    x_new: &Points,
    pred_noise: bool,
    model: &Model,
    fit: &Fit,
    seed: u64,
) -> Result<Trace> {
    let placed = p.placed.as_ref().ok_or_else(|| {
        fail("the process was not added to a model (call `prior` or `marginal_likelihood` first)".into())
    })?;
    let (x, xs) = (&placed.x, x_new);
    let (n, s) = (x.len(), xs.len());
    // Every expression the conditional reads, evaluated at each draw.
    let (kxx, kxs, kss) = (p.cov.matrix(x, x)?, p.cov.matrix(x, xs)?, p.cov.matrix(xs, xs)?);
    let (mean_x, mean_s) = (p.mean.at(x)?, p.mean.at(xs)?);
    let latent = match &placed.given {
        Given::Latent(f) => Some(model.var(f)?.index),
        Given::Observed(..) => None,
    };
    let mut rng = StdRng::seed_from_u64(seed);
    per_draw(model, fit, name, s, |at| {
        let matrix = |e: &Expr, r: usize, c: usize| -> Result<DMatrix<f64>> {
            Ok(DMatrix::from_row_slice(r, c, &value_at(e, at, r * c, "covariance")?))
        };
        let mean = |e: &Option<Expr>, len: usize| match e {
            Some(e) => value_at(e, at, len, "mean").map(DVector::from_vec),
            None => Ok(DVector::zeros(len)),
        };
        let (given, noise) = match (&placed.given, latent) {
            (Given::Latent(f), Some(i)) => {
                let v = at[i].as_ref().filter(|v| v.values.len() == n);
                let v =
                    v.ok_or_else(|| fail(format!("`{f}` does not hold the process at its {n} points")))?;
                (v.values.clone(), 0.0)
            }
            (Given::Observed(y, sigma), _) => (y.clone(), value_at(sigma, at, 1, "noise")?[0].powi(2)),
            (Given::Latent(_), None) => unreachable!("a latent process has its node"),
        };
        let mut k = matrix(&kxx, n, n)?;
        for i in 0..n {
            k[(i, i)] += p.jitter + noise;
        }
        let l = k.cholesky().ok_or_else(|| fail("the covariance is not positive definite".into()))?;
        let r = DVector::from_vec(given) - mean(&mean_x, n)?;
        let a = l
            .l()
            .solve_lower_triangular(&matrix(&kxs, n, s)?)
            .expect("a Cholesky factor's diagonal is positive");
        let v = l.l().solve_lower_triangular(&r).expect("a Cholesky factor's diagonal is positive");
        let mu = a.transpose() * v + mean(&mean_s, s)?;
        let mut c = matrix(&kss, s, s)? - a.transpose() * &a;
        for i in 0..s {
            c[(i, i)] += if pred_noise { noise } else { p.jitter };
        }
        let lc = c.cholesky().ok_or_else(|| {
            fail("the conditional covariance is not positive definite (a larger jitter may help)".into())
        })?;
        let z = DVector::from_iterator(s, (0..s).map(|_| StandardNormal.sample(&mut rng)));
        Ok((mu + lc.l() * z).iter().copied().collect())
    })
}
