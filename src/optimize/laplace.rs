//! The Laplace approximation (Stan's `laplace` method, PyMC-extras' `fit_laplace`): a normal
//! over the unconstrained space centred at the mode of the log density with the log-Jacobians,
//! with covariance the inverse of the negated Hessian there, whose draws are mapped to the
//! constrained space.

use nalgebra::{DMatrix, DVector};

use super::{MapEstimate, Optimizer};
use crate::backend::cpu::Executor;
use crate::compile::Compiled;
use crate::error::{Error, Result};
use crate::mem;
use crate::rng::{ChainRng, Purpose};
use crate::sampler::Fit;

/// `ln(2π)/2`.
const HALF_LN_2PI: f64 = 0.918_938_533_204_672_8;

/// A Laplace approximation and draws from it ([`Optimizer::laplace`]).
#[derive(Clone, Debug)]
pub struct Laplace {
    /// The mode over the unconstrained space (with the log-Jacobians).
    pub mode: MapEstimate,
    /// The approximation's covariance over the unconstrained vector (in the order of
    /// `mode.unconstrained`), `d × d` row by row: the inverse of the negated Hessian of the
    /// log density at the mode, symmetrised.
    pub covariance: Vec<f64>,
    /// The draws, constrained, as one chain (free variables and deterministics): a [`Fit`]
    /// for summaries, trace files and predictive checks. Its backend reads
    /// `"laplace approximation"`; each draw's statistics hold its log density `lp` (`log_p`,
    /// the trace files' `lp__`), NaN or zero for the sampler's quantities (no steps, no
    /// divergence).
    pub fit: Fit,
    /// The model's log density (with the log-Jacobians, unnormalised) at each draw: Stan's
    /// `log_p__`.
    pub log_p: Vec<f64>,
    /// The normal approximation's normalised log density at each draw: Stan's `log_g__`.
    pub log_g: Vec<f64>,
    /// Pareto `k̂` of the importance ratios `log_p − log_g` (Yao et al. 2018): below 0.7 the
    /// approximation is close enough for importance sampling to correct it; above, it is a
    /// poor fit to the posterior. NaN with fewer than 25 draws (too few to fit the tail) or a
    /// draw where the model's density is not finite; 0 where the ratios are equal to rounding
    /// (a normal posterior).
    pub pareto_k: f64,
}

impl Optimizer<'_> {
    /// The Laplace approximation with `draws` draws: the mode of the log density *with* the
    /// log-Jacobians (whatever [`Optimizer::jacobian`] says; Stan's `laplace` does the same),
    /// the Hessian there by central differences of the exact gradient, and draws
    /// `u = mode + L⁻ᵀz` with `−H = LLᵀ` and `z` standard normal (seeded by
    /// [`Optimizer::seed`]).
    ///
    /// An [`Error::Optimization`] where the search did not converge or the negated Hessian is
    /// not positive definite (no mode, or a flat direction).
    ///
    /// ```
    /// use exmc::prelude::*;
    /// let mut m = Model::new();
    /// let mu = m.rv("mu", Normal::new(0.0, 10.0))?;
    /// m.observe("y", Normal::new(mu, 1.0), &[0.8, 1.4, 1.1, 0.9])?;
    /// let laplace = Optimizer::new(&m).seed(3).laplace(2000)?;
    /// // The posterior is normal, so the approximation is exact.
    /// let sd = laplace.fit.trace.draws("mu").unwrap().sd()[0];
    /// assert!((sd - (1.0f64 / (4.0 + 0.01)).sqrt()).abs() < 0.02);
    /// # Ok::<(), exmc::Error>(())
    /// ```
    pub fn laplace(&self, draws: usize) -> Result<Laplace> {
        self.mode_and_laplace(draws)?.1
    }

    /// The mode (searched with the log-Jacobians, as [`Optimizer::laplace`]'s) and the Laplace
    /// approximation there, or why there is none (an [`Error::Optimization`] as
    /// [`Optimizer::laplace`]'s): for a caller that reports the mode either way. The model is
    /// compiled once; the options, the draws and the memory are checked before the search.
    pub fn mode_and_laplace(&self, draws: usize) -> Result<(MapEstimate, Result<Laplace>)> {
        let (with_jacobian, compiled) = self.for_laplace(draws)?;
        let mode = with_jacobian.run_compiled(&compiled)?;
        let laplace = self.laplace_compiled(&compiled, mode.clone(), draws);
        Ok((mode, laplace))
    }

    /// The Laplace approximation at a mode [`Optimizer::run`] found with
    /// [`Optimizer::jacobian`]`(true)` for the same model: [`Optimizer::laplace`] without
    /// the search, for a caller that wants the mode whether or not an approximation follows.
    ///
    /// An [`Error::InvalidOption`] where `mode` was found without the log-Jacobians or its
    /// free variables (names and lengths) are not the model's; an [`Error::Optimization`] as
    /// [`Optimizer::laplace`]'s.
    pub fn laplace_at(&self, mode: MapEstimate, draws: usize) -> Result<Laplace> {
        let wrong = |reason: String| Err(Error::InvalidOption { option: "mode", reason });
        if !mode.jacobian {
            return wrong(
                "the Laplace approximation is centred at the mode with the log-Jacobians (`jacobian(true)`)"
                    .into(),
            );
        }
        let (_, compiled) = self.for_laplace(draws)?;
        let entries = &compiled.pointmap.entries;
        let same = mode.u.len() == compiled.pointmap.dim
            && mode.unconstrained.len() == entries.len()
            && mode.unconstrained.iter().zip(entries).all(|((n, v), e)| *n == e.name && v.len() == e.len);
        if !same {
            return wrong(format!(
                "its free variables ({}) are not the model's ({})",
                mode.unconstrained
                    .iter()
                    .map(|(n, v)| format!("{n}: {}", v.len()))
                    .collect::<Vec<_>>()
                    .join(", "),
                entries.iter().map(|e| format!("{}: {}", e.name, e.len)).collect::<Vec<_>>().join(", ")
            ));
        }
        self.laplace_compiled(&compiled, mode, draws)
    }

    /// What [`Optimizer::laplace`] checks before its search: the options, the number of
    /// draws, and that the search and the approximation fit in this machine's memory. For a
    /// caller that runs the search itself, to report the mode whether or not an
    /// approximation follows, and then [`Optimizer::laplace_at`]: a mistake in `draws` is
    /// then named before the search rather than after it.
    pub fn check_laplace(&self, draws: usize) -> Result<()> {
        self.for_laplace(draws).map(|_| ())
    }

    /// The options with the log-Jacobians and the model compiled so, once the options, the
    /// number of draws and the approximation's memory are checked.
    fn for_laplace(&self, draws: usize) -> Result<(Optimizer<'_>, Compiled)> {
        if draws == 0 {
            return Err(Error::invalid_option("draws", "needs at least one draw"));
        }
        // Five `d × d` matrices at the peak (the factor, its inverse, the covariance, the
        // transposed factor and `l()`'s copy), and per draw its values and statistics.
        self.with_jacobian(
            self.history,
            |d, outputs, _| mem::product(&[5, d, d]) + mem::product(&[draws, d + outputs + 12]),
            |d| format!("the Laplace approximation ({d} coordinates, {draws} draws)"),
        )
    }

    /// The approximation at `mode`, a mode of `compiled`'s log density with the log-Jacobians.
    fn laplace_compiled(&self, compiled: &Compiled, mode: MapEstimate, draws: usize) -> Result<Laplace> {
        if !mode.converged {
            return Err(Error::Optimization {
                reason: format!(
                    "no Laplace approximation: the search for the mode did not converge ({})",
                    mode.message
                ),
            });
        }
        let exec = Executor::new(compiled.logp_grad.clone());
        let chol = negated_hessian_cholesky(&exec, &mode.u)?;
        let d = mode.u.len();
        let inverse = chol.inverse();
        // Symmetric up to rounding: symmetrised, and row by row.
        let covariance: Vec<f64> =
            (0..d * d).map(|ij| 0.5 * (inverse[(ij / d, ij % d)] + inverse[(ij % d, ij / d)])).collect();
        let l = chol.l_dirty();
        let log_det_l: f64 = (0..d).map(|i| l[(i, i)].ln()).sum();
        let l_t = chol.l().transpose();
        let rng = ChainRng::new(self.seed, 0);
        let mut ws = exec.workspace();
        let mut g = vec![0.0; d];
        let (mut points, mut log_p, mut log_g) = (Vec::with_capacity(draws), Vec::new(), Vec::new());
        for k in 0..draws {
            let pairs: Vec<[f64; 2]> =
                (0..d.div_ceil(2)).map(|i| rng.normals(k as u64, i as u32, Purpose::Laplace)).collect();
            let z = DVector::from_fn(d, |i, _| pairs[i / 2][i % 2]);
            let offset = l_t.solve_upper_triangular(&z).ok_or_else(|| Error::Optimization {
                reason: "the Cholesky factor of the negated Hessian is singular".into(),
            })?;
            let u: Vec<f64> = mode.u.iter().zip(offset.iter()).map(|(m, o)| m + o).collect();
            log_p.push(exec.run(&mut ws, &u, &mut g));
            // The normal's log density: −d/2 ln 2π + ln|L| − zᵀz/2 (|Σ|^{-1/2} = |L|).
            log_g.push(-(d as f64) * HALF_LN_2PI + log_det_l - 0.5 * z.norm_squared());
            points.push(u);
        }
        let ratios: Vec<f64> = log_p.iter().zip(&log_g).map(|(p, g)| p - g).collect();
        let pareto_k = if ratios.len() < super::MIN_PSIS_DRAWS || ratios.iter().any(|r| !r.is_finite()) {
            f64::NAN
        } else {
            super::smoothed_weights(&ratios).0
        };
        let fit = super::draws_fit(compiled, &points, &log_p, "laplace approximation");
        Ok(Laplace { mode, covariance, fit, log_p, log_g, pareto_k })
    }
}

/// The Cholesky factor of the negated Hessian of `exec`'s log density at `u` ([`hessian_columns`]),
/// symmetrised.
fn negated_hessian_cholesky(exec: &Executor, u: &[f64]) -> Result<nalgebra::Cholesky<f64, nalgebra::Dyn>> {
    let d = u.len();
    let mut h = DMatrix::zeros(d, d);
    hessian_columns(exec, u, |j, column| {
        for i in 0..d {
            h[(i, j)] = -column[i];
        }
    })?;
    let h = (&h + h.transpose()) * 0.5;
    if h.iter().any(|v| !v.is_finite()) {
        return Err(Error::Optimization { reason: "the Hessian at the mode is not finite".into() });
    }
    nalgebra::Cholesky::new(h).ok_or_else(|| Error::Optimization {
        reason: "the negated Hessian at the mode is not positive definite: the log density has no \
                 peak there (a flat or unbounded direction)"
            .into(),
    })
}

/// The Hessian of `exec`'s log density at `u` column by column, by central differences of
/// the gradient (steps `10⁻⁵·max(1, |uⱼ|)`): `column(j, H[·, j])`. An [`Error::Optimization`]
/// where the density is not finite beside `u`.
pub(super) fn hessian_columns(
    exec: &Executor,
    u: &[f64],
    mut column: impl FnMut(usize, &[f64]),
) -> Result<()> {
    let d = u.len();
    let mut ws = exec.workspace();
    let (mut up, mut down) = (vec![0.0; d], vec![0.0; d]);
    let mut x = u.to_vec();
    for j in 0..d {
        let step = 1e-5 * u[j].abs().max(1.0);
        x[j] = u[j] + step;
        let a = exec.run(&mut ws, &x, &mut up);
        x[j] = u[j] - step;
        let b = exec.run(&mut ws, &x, &mut down);
        x[j] = u[j];
        if !(a.is_finite() && b.is_finite()) {
            return Err(Error::Optimization {
                reason: format!("the log density is not finite beside the mode (coordinate {j})"),
            });
        }
        up.iter_mut().zip(&down).for_each(|(a, b)| *a = (*a - b) / (2.0 * step));
        column(j, &up);
    }
    Ok(())
}
