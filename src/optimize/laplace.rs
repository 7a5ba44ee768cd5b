//! The Laplace approximation (Stan's `laplace` method, PyMC-extras' `fit_laplace`): a normal
//! over the unconstrained space centred at the mode of the log density with the log-Jacobians,
//! with covariance the inverse of the negated Hessian there, whose draws are mapped to the
//! constrained space.

use nalgebra::{DMatrix, DVector};

use super::{MapEstimate, Optimizer};
use crate::backend::cpu::Executor;
use crate::compile::Compiled;
use crate::diagnostics::psis;
use crate::error::{Error, Result};
use crate::mem;
use crate::rng::{ChainRng, Purpose};
use crate::sampler::{Fit, Trace, TraceVar};

/// `ln(2π)/2`.
const HALF_LN_2PI: f64 = 0.918_938_533_204_672_8;

/// A Laplace approximation and draws from it ([`Optimizer::laplace`]).
#[derive(Clone, Debug)]
pub struct Laplace {
    /// The mode over the unconstrained space (with the log-Jacobians).
    pub mode: MapEstimate,
    /// The approximation's covariance over the unconstrained vector, `d × d` row by row: the
    /// inverse of the negated Hessian of the log density at the mode.
    pub covariance: Vec<f64>,
    /// The draws, constrained, as one chain (free variables and deterministics): a [`Fit`]
    /// for summaries, trace files and predictive checks. Its backend reads
    /// `"laplace approximation"`.
    pub fit: Fit,
    /// The model's log density (with the log-Jacobians, unnormalised) at each draw: Stan's
    /// `log_p__`.
    pub log_p: Vec<f64>,
    /// The normal approximation's normalised log density at each draw: Stan's `log_g__`.
    pub log_g: Vec<f64>,
    /// Pareto `k̂` of the importance ratios `log_p − log_g` (Yao et al. 2018): below 0.7 the
    /// approximation is close enough for importance sampling to correct it; above, it is a
    /// poor fit to the posterior.
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
        if draws == 0 {
            return Err(Error::InvalidOption { option: "draws", reason: "needs at least one draw".into() });
        }
        let with_jacobian = self.clone().jacobian(true);
        with_jacobian.check()?;
        let compiled = with_jacobian.compile()?;
        fits_in_memory(&compiled, draws)?;
        let mode = with_jacobian.run_compiled(&compiled)?;
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
        let covariance = chol.inverse();
        let log_det_l: f64 = (0..d).map(|i| chol.l()[(i, i)].ln()).sum();
        let l_t = chol.l().transpose();
        let rng = ChainRng::new(self.seed, 0);
        let mut ws = exec.workspace();
        let mut g = vec![0.0; d];
        let (mut points, mut log_p, mut log_g) = (Vec::with_capacity(draws), Vec::new(), Vec::new());
        for k in 0..draws {
            let z =
                DVector::from_fn(d, |i, _| rng.normals(k as u64, (i / 2) as u32, Purpose::Laplace)[i % 2]);
            let offset = l_t.solve_upper_triangular(&z).ok_or_else(|| Error::Optimization {
                reason: "the Cholesky factor of the negated Hessian is singular".into(),
            })?;
            let u: Vec<f64> = mode.u.iter().zip(offset.iter()).map(|(m, o)| m + o).collect();
            log_p.push(exec.run(&mut ws, &u, &mut g));
            // The normal's log density: −d/2 ln 2π + ln|L| − zᵀz/2 (|Σ|^{-1/2} = |L|).
            log_g.push(-(d as f64) * HALF_LN_2PI + log_det_l - 0.5 * z.norm_squared());
            points.push(u);
        }
        let mut ratios: Vec<f64> = log_p.iter().zip(&log_g).map(|(p, q)| p - q).collect();
        let pareto_k =
            if ratios.iter().all(|r| r.is_finite()) { psis(&mut ratios, 1.0) } else { f64::INFINITY };
        let fit = Fit {
            backend: "laplace approximation".into(),
            pointmap: compiled.pointmap.clone(),
            ..Fit::from_trace(constrained_trace(&compiled, &points))
        };
        Ok(Laplace { mode, covariance: covariance.as_slice().to_vec(), fit, log_p, log_g, pareto_k })
    }
}

/// The dense `d × d` matrices (the Hessian, its factor, the covariance) and every draw's
/// unconstrained and constrained values must fit in this machine's memory: a
/// [`Error::TooLarge`] before anything is allocated otherwise.
fn fits_in_memory(compiled: &Compiled, draws: usize) -> Result<()> {
    let d = compiled.pointmap.dim;
    let outputs: usize = compiled.output_shapes.iter().map(|s| s.len()).sum();
    let values = mem::product(&[3, d, d]) + mem::product(&[draws, d + outputs + 2]);
    let what = || format!("the Laplace approximation ({d} coordinates, {draws} draws)");
    mem::check_len(values, what)?;
    match mem::physical_bytes() {
        Some(bytes) if values * 8 > bytes => Err(Error::TooLarge {
            what: what(),
            elements: values,
            reason: format!("{} bytes, more than this machine's memory and swap ({bytes} bytes)", values * 8),
        }),
        _ => Ok(()),
    }
}

/// The Cholesky factor of the negated Hessian of `exec`'s log density at `u`, the Hessian by
/// central differences of the gradient (steps `10⁻⁵·max(1, |uⱼ|)`), symmetrised.
fn negated_hessian_cholesky(exec: &Executor, u: &[f64]) -> Result<nalgebra::Cholesky<f64, nalgebra::Dyn>> {
    let d = u.len();
    let mut ws = exec.workspace();
    let (mut up, mut down) = (vec![0.0; d], vec![0.0; d]);
    let mut h = DMatrix::zeros(d, d);
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
        for i in 0..d {
            h[(i, j)] = -(up[i] - down[i]) / (2.0 * step);
        }
    }
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

/// One chain of draws, the points constrained, in model order.
fn constrained_trace(compiled: &Compiled, points: &[Vec<f64>]) -> Trace {
    let constrain = Executor::new(compiled.constrain.clone());
    let mut ws = constrain.workspace();
    let mut out = vec![0.0; constrain.outputs_len()];
    let mut vars: Vec<TraceVar> = compiled
        .constrain
        .outputs
        .iter()
        .zip(&compiled.output_shapes)
        .map(|((name, _), shape)| TraceVar {
            name: name.clone(),
            shape: shape.dims(),
            values: Vec::with_capacity(points.len() * shape.len()),
            labels: compiled.model.nodes().iter().find(|n| &n.name == name).and_then(|n| n.labels.clone()),
        })
        .collect();
    for u in points {
        constrain.run(&mut ws, u, &mut []);
        constrain.copy_outputs(&ws, &mut out);
        let mut at = 0;
        for v in &mut vars {
            let n = v.size();
            v.values.extend_from_slice(&out[at..at + n]);
            at += n;
        }
    }
    let order = |name: &str| compiled.model.nodes().iter().position(|n| n.name == name);
    vars.sort_by_key(|v| order(&v.name));
    Trace { chains: 1, draws: points.len(), vars, stats: vec![Vec::new()], warmup_stats: vec![Vec::new()] }
}
