//! Automatic differentiation variational inference (ADVI; Kucukelbir, Tran, Ranganath,
//! Gelman & Blei 2017), as Stan's `variational` method runs it (PyMC's `pm.fit(method="advi")`
//! and `"fullrank_advi"` fit the same families).
//!
//! A normal `q` over the unconstrained space, mean-field (`μ + exp(ω) ∘ η`) or full-rank
//! (`μ + L η`, `L` lower triangular with a positive diagonal), maximises the evidence lower
//! bound `ELBO = E_q[log p(ζ)] + H[q]` by stochastic gradient ascent. Each iteration's gradient
//! is the reparameterisation estimate from `grad_samples` standard normal draws `η`, plus the
//! entropy's exact gradient. The step is Stan's adaptive sequence, `ρₖ = η_s k^{−1/2} /
//! (1 + √sₖ)` element by element with `sₖ` a moving average of squared gradients
//! (`s₁ = g₁²`, `sₖ = 0.9 sₖ₋₁ + 0.1 gₖ²`); the scale `η_s` is given or chosen by Stan's grid
//! search over 100, 10, 1, 0.1 and 0.01 (50 iterations from the start each; the first after
//! which the ELBO falls, where the one before beat the start's). Every `eval_elbo` iterations
//! the ELBO is estimated from `elbo_samples` draws; the ascent stops when the mean or the
//! median of the last relative changes `|ELBO_prev − ELBO| / |ELBO|` (a window of
//! `max(2, iterations / (10 eval_elbo))` of them) falls below `tol_rel_obj`.
//!
//! Three departures from Stan (DECISIONS 125). Stan's sequence takes steps of about
//! `η_s k^{−1/2}` whatever the posterior's scale, so its last iterate wanders over many
//! posterior standard deviations where the grid picks a large `η_s`, and from a random start
//! with unit scale it often never arrives (over the posteriordb suite from Stan's start, even
//! with the other two departures, the mean-field family failed on 7 of 37 posteriors, and
//! where k̂ ≥ 0.7 its worst mean was 20 posterior sds off, the median; `benches/README.md`).
//! Here:
//! - the ascent starts from the Laplace approximation ([`AdviOptions::laplace_start`]): the
//!   mean at the mode with the log-Jacobians, the scale from the Hessian there (`2d` gradients
//!   by central differences; Stan's start where the search fails or runs to the edge of a
//!   support, as a funnel's scale does, or the Hessian cannot be had). Its grid is then 0.1,
//!   0.01: the larger where its ELBO after the trial stays within two standard errors of the
//!   difference from the start's (the start is near the optimum, so a rise cannot be asked
//!   for);
//! - the steps are taken in the approximation's own coordinates: `μ ← μ + scale · δ_ν`,
//!   `ω ← ω + δ_ω`, `L ← L N(δ)` (`N` lower triangular, `exp(δᵢᵢ)` on its diagonal), with the
//!   gradients `scaleᵀ ∇log p(ζ)`, `(scaleᵀ ∇log p(ζ))ᵢ ηⱼ` and 1 on each diagonal for the
//!   entropy. A step is then a fraction of `q`'s own spread; the full-rank update `L N` costs
//!   `O(d³)` an iteration (Stan's additive one `O(d²)`);
//! - iterates are averaged (Polyak–Ruppert, as Dhaka et al. 2020 advise), not taken last:
//!   each ELBO estimate is at the average of its own block of `eval_elbo` iterations, and the
//!   answer is the average over the later half of the blocks, at most the convergence
//!   window's (the last 1,000 iterations by default).
//!
//! A gradient draw where the log density or its gradient is not finite is replaced by another
//! (up to `grad_samples` times per iteration), as Stan's ELBO estimate replaces its draws;
//! Stan stops at the first.
//!
//! Draws from the final `q` come back constrained, with the model's and the approximation's
//! log densities and the Pareto `k̂` of their ratios (Yao, Vehtari, Simpson & Gelman 2018):
//! whether the fit can be trusted.

use rayon::prelude::*;

use nalgebra::DMatrix;

use super::laplace::hessian_columns;
use super::{Optimizer, check_counts, draws_fit, lbfgs, smoothed_weights};
use crate::backend::cpu::Executor;
use crate::compile::Compiled;
use crate::error::{Error, Result};
use crate::mem;
use crate::model::dist::HALF_LN_2PI;
use crate::rng::{ChainRng, Purpose};
use crate::sampler::{Fit, TraceLayout, TraceVar};

/// Stan's grid of step-size scales, tried in this order.
const ETA_GRID: [f64; 5] = [100.0, 10.0, 1.0, 0.1, 0.01];
/// The grid from the Laplace start, where a step is a fraction of the approximation's own
/// spread: the first step, `η_s |g|/(1 + |g|)`, is below `η_s` scales (a factor `e^{η_s}` on a
/// scale).
const LAPLACE_ETA_GRID: [f64; 2] = [0.1, 0.01];
/// Weight of the past in the moving average of squared gradients (Stan's `pre_factor`).
const DECAY: f64 = 0.9;
/// Added to the root of that average in each step's denominator (Stan's `tau`).
const TAU: f64 = 1.0;
/// Relative change of the mean or median ELBO above which, after ten evaluations, the ascent
/// reports that it may be diverging (Stan's).
const DIVERGING: f64 = 0.5;
/// Relative distance of the last ELBO from the best beyond which the report says the
/// tolerance may have stopped the ascent early (Stan's).
const FAR_FROM_BEST: f64 = 0.05;

/// The variational family ([`AdviOptions::method`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AdviMethod {
    /// Independent normals over the unconstrained coordinates: `μ + exp(ω) ∘ η` (Stan's
    /// `meanfield`, PyMC's `"advi"`). `2d` parameters.
    MeanField,
    /// A normal with a full covariance `L Lᵀ`: `μ + L η` (Stan's `fullrank`, PyMC's
    /// `"fullrank_advi"`). `d + d(d + 1)/2` parameters; `O(d²)` a draw and `O(d³)` a step.
    FullRank,
}

impl AdviMethod {
    /// Stan's name: `"meanfield"` or `"fullrank"`.
    pub fn name(self) -> &'static str {
        match self {
            AdviMethod::MeanField => "meanfield",
            AdviMethod::FullRank => "fullrank",
        }
    }
}

/// What [`Optimizer::advi`] runs; the defaults are CmdStan's `variational` ones but for the
/// start ([`AdviOptions::laplace_start`]).
#[derive(Clone, Debug, PartialEq)]
pub struct AdviOptions {
    /// The variational family. Default: mean-field.
    pub method: AdviMethod,
    /// Most iterations of the ascent. Stan: 10,000.
    pub iterations: u64,
    /// Draws per gradient estimate. Stan: 1.
    pub grad_samples: usize,
    /// Draws per ELBO estimate. Stan: 100.
    pub elbo_samples: usize,
    /// Iterations between ELBO estimates (and convergence checks). Stan: 100.
    pub eval_elbo: u64,
    /// Relative ELBO change below which the ascent stops. Stan: 0.01.
    pub tol_rel_obj: f64,
    /// The step-size scale `η_s`; `None` (default) chooses it by a grid search: from the
    /// Laplace start 0.1 or 0.01 (the larger where it keeps the ELBO within noise of the
    /// start's), from Stan's start by Stan's search over 100 to 0.01 (see the module notes).
    pub eta: Option<f64>,
    /// Iterations of the grid search at each scale. Stan: 50.
    pub adapt_iterations: u64,
    /// Draws from the final approximation. Stan: 1000.
    pub draws: usize,
    /// Whether the ascent starts from the Laplace approximation (default): the mean at the mode
    /// of the log density with the log-Jacobians (L-BFGS from the start point), the scale from
    /// the Hessian `H` there (mean-field: `1/√(−Hᵢᵢ)`, a normal posterior's best mean-field
    /// scale; full-rank: the Cholesky factor of `(−H)⁻¹`), by central differences of the
    /// gradient (`2d` evaluations). Where the search fails (an error; a search stopped at its
    /// iteration limit gives its best point), runs to the edge of a support (a funnel), or
    /// the density is not finite beside its end, Stan's start is taken and the report says
    /// why; where a coordinate's scale cannot be had (no peak along it) it is 1. `false` is
    /// Stan's start: the start point with unit scale (DECISIONS 125).
    pub laplace_start: bool,
}

impl Default for AdviOptions {
    fn default() -> Self {
        AdviOptions {
            method: AdviMethod::MeanField,
            iterations: 10_000,
            grad_samples: 1,
            elbo_samples: 100,
            eval_elbo: 100,
            tol_rel_obj: 0.01,
            eta: None,
            adapt_iterations: 50,
            draws: 1000,
            laplace_start: true,
        }
    }
}

/// One ELBO estimate of the ascent ([`Advi::elbo`]).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ElboEstimate {
    /// The iteration after which it was estimated.
    pub iteration: u64,
    /// The estimate.
    pub elbo: f64,
    /// Mean of the window's relative changes (the first change is 1).
    pub rel_mean: f64,
    /// Median of the window's relative changes.
    pub rel_median: f64,
}

/// A variational approximation and draws from it ([`Optimizer::advi`]).
#[derive(Clone, Debug)]
pub struct Advi {
    /// The draws, constrained, as one chain (free variables and deterministics): a [`Fit`]
    /// for summaries, trace files and predictive checks. Its backend reads `"advi"`; each
    /// draw's statistics hold the model's log density `lp`, NaN or zero for the sampler's
    /// quantities.
    pub fit: Fit,
    /// The model's log density (with the log-Jacobians, unnormalised) at each draw: Stan's
    /// `log_p__`.
    pub log_p: Vec<f64>,
    /// The approximation's normalised log density at each draw: Stan's `log_g__`.
    pub log_q: Vec<f64>,
    /// Pareto `k̂` of the ratios `log_p − log_q` (Yao et al. 2018): below 0.7 importance
    /// sampling can correct the approximation; above, it is a poor fit to the posterior. NaN
    /// under 25 finite ratios, 0 where they are equal to rounding.
    pub pareto_k: f64,
    /// The family fitted.
    pub method: AdviMethod,
    /// Names of the unconstrained coordinates (`mu`, `sigma_log__`, `theta[2]`), the order of
    /// [`Advi::mean`], [`Advi::sd`] and [`Advi::cholesky`].
    pub coordinates: Vec<String>,
    /// The approximation's mean over the unconstrained coordinates.
    pub mean: Vec<f64>,
    /// Its standard deviation per coordinate.
    pub sd: Vec<f64>,
    /// Full-rank only: the factor `L` of its covariance `L Lᵀ`, `d × d` row by row (zero
    /// above the diagonal).
    pub cholesky: Option<Vec<f64>>,
    /// The mean mapped to the constrained space (free variables and deterministics): the first
    /// row of Stan's output.
    pub mean_values: Vec<TraceVar>,
    /// The step-size scale used (given, or chosen by the grid search).
    pub eta: f64,
    /// Whether the ascent started from the Laplace approximation ([`AdviOptions::laplace_start`]
    /// asked, and the mode and its Hessian were had); `false` for Stan's start (whose grid
    /// chose `eta` where none was given).
    pub laplace_start: bool,
    /// Every ELBO estimate of the ascent, in order.
    pub elbo: Vec<ElboEstimate>,
    /// Iterations of the ascent (the grid search's not counted).
    pub iterations: u64,
    /// Evaluations of the log density and gradient: the Laplace start's, the grid search's, the
    /// ascent's and the draws' (not those of a search for the mode that ended in an error).
    pub evaluations: u64,
    /// Whether the relative ELBO change fell below the tolerance within the iterations.
    pub converged: bool,
    /// How the ascent ended, in words, with Stan's warnings (possible divergence, a last ELBO
    /// far from the best).
    pub message: String,
}

impl Advi {
    /// Starting values for `chains` NUTS chains, one draw each (as PyMC's `init="advi"` and
    /// [`Pathfinder::inits`](super::Pathfinder::inits)): draws of finite log density, evenly
    /// spaced through the draws, as the constrained values of every free variable; where there
    /// are fewer such draws than chains, chains share draws.
    ///
    /// An [`Error::InvalidOption`] for zero chains or more than the sampler runs;
    /// [`Error::TooLarge`] where the sets do not fit in memory; an [`Error::Optimization`]
    /// where no draw has a finite log density and values that map back to the unconstrained
    /// space.
    ///
    /// ```
    /// use exmc::prelude::*;
    /// let mut m = Model::new();
    /// let mu = m.rv("mu", Normal::new(0.0, 10.0))?;
    /// let sigma = m.rv("sigma", HalfNormal::new(2.0))?;
    /// m.observe("y", Normal::new(mu, sigma), &[0.8, 1.4, 1.1, 0.9, 1.7, 0.4])?;
    /// let vi = Optimizer::new(&m).seed(1).advi(&AdviOptions::default())?;
    /// let fit = Sampler::new(&m).init(vi.inits(4)?).warmup(300).draws(300).seed(1).progress(false).run()?;
    /// assert_eq!(fit.trace.chains, 4);
    /// # Ok::<(), exmc::Error>(())
    /// ```
    pub fn inits(&self, chains: usize) -> Result<crate::sampler::Init> {
        super::draws_inits(&self.fit, &self.log_p, chains, "ADVI")
    }
}

/// The variational parameters: `μ` then `ω` (mean-field) or the lower triangle of `L` row by
/// row (full-rank), as one vector the step updates element by element.
#[derive(Clone, Debug)]
struct Family {
    method: AdviMethod,
    d: usize,
    theta: Vec<f64>,
}

/// Index of `L[i][j]` (`j ≤ i`) after `μ`'s `d` values.
fn tri(d: usize, i: usize, j: usize) -> usize {
    d + i * (i + 1) / 2 + j
}

impl Family {
    /// Parameters of the family over `d` coordinates, counted without overflow (the memory
    /// check reads it before anything is allocated).
    fn count(method: AdviMethod, d: usize) -> u128 {
        let d = d as u128;
        match method {
            AdviMethod::MeanField => 2 * d,
            AdviMethod::FullRank => d + d * (d + 1) / 2,
        }
    }

    /// Mean `mu`, unit scale (Stan's start).
    fn start(method: AdviMethod, mu: &[f64]) -> Family {
        let d = mu.len();
        // The memory check has passed: the count fits.
        let mut theta = vec![0.0; Family::count(method, d) as usize];
        theta[..d].copy_from_slice(mu);
        if method == AdviMethod::FullRank {
            (0..d).for_each(|i| theta[tri(d, i, i)] = 1.0);
        }
        Family { method, d, theta }
    }

    /// `ζ = μ + scale · η`.
    fn draw(&self, eta: &[f64], zeta: &mut [f64]) {
        let (d, t) = (self.d, &self.theta);
        for i in 0..d {
            zeta[i] = t[i]
                + match self.method {
                    AdviMethod::MeanField => t[d + i].exp() * eta[i],
                    AdviMethod::FullRank => (0..=i).map(|j| t[tri(d, i, j)] * eta[j]).sum::<f64>(),
                };
        }
    }

    /// `Σ ln|scaleᵢᵢ|`: the log determinant of the scale.
    fn log_det(&self) -> f64 {
        let d = self.d;
        match self.method {
            AdviMethod::MeanField => self.theta[d..].iter().sum(),
            AdviMethod::FullRank => (0..d).map(|i| self.theta[tri(d, i, i)].abs().ln()).sum(),
        }
    }

    /// The entropy `d(1 + ln 2π)/2 + ln|det scale|`.
    fn entropy(&self) -> f64 {
        self.d as f64 * (0.5 + HALF_LN_2PI) + self.log_det()
    }

    /// The normalised log density of the draw made from `eta`.
    fn log_q(&self, eta: &[f64]) -> f64 {
        -0.5 * eta.iter().map(|e| e * e).sum::<f64>() - self.d as f64 * HALF_LN_2PI - self.log_det()
    }

    /// Adds `w` times the reparameterisation gradient of `log p(ζ)` (its gradient `g` at the
    /// draw made from `eta`) to `out`, in the local coordinates of [`Family::step`]: with
    /// `h = scaleᵀ g`, `h` for `ν` and `hᵢ ηⱼ` for the scale's entries (`j = i` only for
    /// the mean-field family, where that is `ω`'s gradient).
    fn add_path_grad(&self, g: &[f64], eta: &[f64], w: f64, out: &mut [f64]) {
        let (d, t) = (self.d, &self.theta);
        for i in 0..d {
            let h = match self.method {
                AdviMethod::MeanField => t[d + i].exp() * g[i],
                AdviMethod::FullRank => (i..d).map(|k| t[tri(d, k, i)] * g[k]).sum::<f64>(),
            };
            out[i] += w * h;
            match self.method {
                AdviMethod::MeanField => out[d + i] += w * h * eta[i],
                AdviMethod::FullRank => (0..=i).for_each(|j| out[tri(d, i, j)] += w * h * eta[j]),
            }
        }
    }

    /// Adds the entropy's gradient to `out`, in the local coordinates: 1 on each diagonal
    /// entry of the scale (`ln|det scale|` grows by `Σ δᵢᵢ`).
    fn add_entropy_grad(&self, out: &mut [f64]) {
        let d = self.d;
        for i in 0..d {
            match self.method {
                AdviMethod::MeanField => out[d + i] += 1.0,
                AdviMethod::FullRank => out[tri(d, i, i)] += 1.0,
            }
        }
    }

    /// Moves by `delta` in the approximation's own coordinates: `μ ← μ + scale · δ_ν`, and
    /// `ω ← ω + δ_ω` (mean-field) or `L ← L N` with `N` unit lower triangular but for
    /// `exp(δᵢᵢ)` on its diagonal and `δᵢⱼ` below it (full-rank, so the diagonal stays
    /// positive). To first order these are `μ + scale δ_ν` and `L (I + δ)`.
    fn step(&mut self, delta: &[f64]) {
        let d = self.d;
        let mut shift = vec![0.0; d];
        self.draw(&delta[..d], &mut shift);
        self.theta[..d].copy_from_slice(&shift);
        match self.method {
            AdviMethod::MeanField => {
                self.theta[d..].iter_mut().zip(&delta[d..]).for_each(|(w, s)| *w += s);
            }
            AdviMethod::FullRank => {
                let old = self.theta.clone();
                let n = |k: usize, j: usize| {
                    if k == j { delta[tri(d, k, k)].exp() } else { delta[tri(d, k, j)] }
                };
                for i in 0..d {
                    for j in 0..=i {
                        self.theta[tri(d, i, j)] = (j..=i).map(|k| old[tri(d, i, k)] * n(k, j)).sum();
                    }
                }
            }
        }
    }

    /// Standard deviation per coordinate.
    fn sd(&self) -> Vec<f64> {
        let d = self.d;
        (0..d)
            .map(|i| match self.method {
                AdviMethod::MeanField => self.theta[d + i].exp(),
                AdviMethod::FullRank => (0..=i).map(|j| self.theta[tri(d, i, j)].powi(2)).sum::<f64>().sqrt(),
            })
            .collect()
    }

    /// Full-rank: `L`, `d × d` row by row.
    fn cholesky(&self) -> Option<Vec<f64>> {
        let d = self.d;
        (self.method == AdviMethod::FullRank).then(|| {
            let mut l = vec![0.0; d * d];
            for i in 0..d {
                (0..=i).for_each(|j| l[i * d + j] = self.theta[tri(d, i, j)]);
            }
            l
        })
    }
}

/// The ascent's state shared by the grid search and the main loop: the model, the random
/// streams and counters, and the evaluation count.
struct Ascent<'a> {
    exec: &'a Executor,
    rng: ChainRng,
    options: &'a AdviOptions,
    d: usize,
    /// Normal vectors drawn for gradients and for ELBO estimates so far (each stream's
    /// counter).
    grad_draws: u64,
    elbo_draws: u64,
    evaluations: u64,
}

impl Ascent<'_> {
    /// The ELBO gradient at `q` into `grad`, from `grad_samples` draws whose log density and
    /// gradient are finite (a draw where they are not is replaced by another, as the ELBO's
    /// rule); `false` where more than `grad_samples` are dropped.
    fn gradient(&mut self, q: &Family, ws: &mut [f64], grad: &mut [f64]) -> bool {
        let d = self.d;
        let (mut eta, mut zeta, mut g) = (vec![0.0; d], vec![0.0; d], vec![0.0; d]);
        grad.fill(0.0);
        let n = self.options.grad_samples;
        let w = 1.0 / n as f64;
        let (mut kept, mut dropped) = (0, 0);
        while kept < n {
            self.rng.fill_normals(self.grad_draws, Purpose::AdviGrad, &mut eta);
            self.grad_draws += 1;
            q.draw(&eta, &mut zeta);
            self.evaluations += 1;
            let lp = self.exec.run(ws, &zeta, &mut g);
            if lp.is_finite() && g.iter().all(|v| v.is_finite()) {
                q.add_path_grad(&g, &eta, w, grad);
                kept += 1;
            } else {
                dropped += 1;
                if dropped > n {
                    return false;
                }
            }
        }
        q.add_entropy_grad(grad);
        true
    }

    /// The ELBO at `q` from `elbo_samples` draws of finite log density (Stan's rule: a draw
    /// of non-finite density is replaced by another), and its standard error (infinite from
    /// one draw); `None` once `elbo_samples` are dropped (Stan's limit).
    fn elbo(&mut self, q: &Family) -> Option<(f64, f64)> {
        let n = self.options.elbo_samples;
        let (exec, rng, d, first) = (self.exec, self.rng, self.d, self.elbo_draws);
        let eval = |ws: &mut Vec<f64>, g: &mut Vec<f64>, k: u64| {
            let (mut eta, mut zeta) = (vec![0.0; d], vec![0.0; d]);
            rng.fill_normals(k, Purpose::AdviElbo, &mut eta);
            q.draw(&eta, &mut zeta);
            exec.run(ws, &zeta, g)
        };
        // The first `n` draws in parallel, then one by one in place of those dropped.
        let lps: Vec<f64> = (first..first + n as u64)
            .into_par_iter()
            .map_init(|| (exec.workspace(), vec![0.0; d]), |(ws, g), k| eval(ws, g, k))
            .collect();
        self.elbo_draws += n as u64;
        self.evaluations += n as u64;
        let (mut ws, mut g) = (exec.workspace(), vec![0.0; d]);
        let mut kept: Vec<f64> = lps.into_iter().filter(|lp| lp.is_finite()).collect();
        let mut dropped = n - kept.len();
        while kept.len() < n {
            if dropped >= n {
                return None;
            }
            let lp = eval(&mut ws, &mut g, self.elbo_draws);
            self.elbo_draws += 1;
            self.evaluations += 1;
            if lp.is_finite() {
                kept.push(lp);
            } else {
                dropped += 1;
            }
        }
        let mean = kept.iter().sum::<f64>() / n as f64;
        // One draw tells nothing of the spread.
        let se = match n {
            1 => f64::INFINITY,
            _ => (kept.iter().map(|lp| (lp - mean).powi(2)).sum::<f64>() / (n * (n - 1)) as f64).sqrt(),
        };
        Some((mean + q.entropy(), se))
    }

    /// `iterations` steps of the adaptive sequence at scale `eta` from `q`; a failed gradient
    /// is a zero step where `tolerate` (the grid search), an error naming the iteration
    /// otherwise. `after_step(iteration, q)` runs after each step and returns whether to go on.
    fn steps(
        &mut self,
        q: &mut Family,
        eta: f64,
        tolerate: bool,
        mut after_step: impl FnMut(&mut Self, u64, &Family) -> Result<bool>,
    ) -> Result<()> {
        let n = q.theta.len();
        let (mut grad, mut history, mut delta) = (vec![0.0; n], vec![0.0; n], vec![0.0; n]);
        let mut ws = self.exec.workspace();
        for k in 1..=self.options.iterations.max(self.options.adapt_iterations) {
            if !self.gradient(q, &mut ws, &mut grad) {
                if !tolerate {
                    return Err(Error::Optimization {
                        reason: format!(
                            "ADVI: iteration {k} dropped more than {} gradient draws (the log density \
                             or its gradient not finite; step-size scale {eta}); the model may be \
                             ill-conditioned or misspecified, or a smaller eta may help",
                            self.options.grad_samples
                        ),
                    });
                }
                grad.fill(0.0);
            }
            for ((h, g), s) in history.iter_mut().zip(&grad).zip(delta.iter_mut()) {
                *h = if k == 1 { g * g } else { DECAY * *h + (1.0 - DECAY) * g * g };
                *s = eta / (k as f64).sqrt() * g / (TAU + h.sqrt());
            }
            q.step(&delta);
            if !after_step(self, k, q)? {
                break;
            }
        }
        Ok(())
    }

    /// The ELBO and its standard error after `adapt_iterations` steps at scale `eta` from
    /// `start`; `None` where it cannot be estimated (the trial diverged).
    fn trial(&mut self, start: &Family, eta: f64) -> Result<Option<(f64, f64)>> {
        let adapt = self.options.adapt_iterations;
        let mut q = start.clone();
        self.steps(&mut q, eta, true, |_, k, _| Ok(k < adapt))?;
        Ok(self.elbo(&q).filter(|e| e.0.is_finite()))
    }

    /// The grid search for the step-size scale from the Laplace start: the largest of
    /// [`LAPLACE_ETA_GRID`] whose ELBO after `adapt_iterations` steps is not below the start's
    /// by more than two standard errors of their difference (the start is near the optimum, so
    /// the ELBO cannot be asked to rise as Stan's search asks); the smallest where none.
    fn adapt_eta_near(&mut self, start: &Family) -> Result<f64> {
        let smallest = LAPLACE_ETA_GRID[LAPLACE_ETA_GRID.len() - 1];
        let Some((elbo_init, se_init)) = self.elbo(start).filter(|e| e.0.is_finite()) else {
            return Ok(smallest);
        };
        for eta in LAPLACE_ETA_GRID {
            let Some((elbo, se)) = self.trial(start, eta)? else { continue };
            // From one draw per estimate there is no spread: the ELBO must not fall.
            let noise = 2.0 * se_init.hypot(se);
            if elbo >= elbo_init - if noise.is_finite() { noise } else { 0.0 } {
                return Ok(eta);
            }
        }
        Ok(smallest)
    }

    /// Stan's grid search for the step-size scale from `start`.
    fn adapt_eta(&mut self, start: &Family) -> Result<f64> {
        let fail = |why: &str| Error::Optimization {
            reason: format!("ADVI: {why}; the model may be ill-conditioned or misspecified"),
        };
        let elbo_init = self.elbo(start).ok_or_else(|| fail("the ELBO is not finite at the start"))?.0;
        let (mut elbo_best, mut eta_best) = (-f64::MAX, ETA_GRID[0]);
        for (i, &eta) in ETA_GRID.iter().enumerate() {
            let elbo = self.trial(start, eta)?.map_or(-f64::MAX, |e| e.0);
            if elbo < elbo_best && elbo_best > elbo_init {
                return Ok(eta_best);
            }
            if i + 1 < ETA_GRID.len() {
                (elbo_best, eta_best) = (elbo, eta);
            } else if elbo > elbo_init {
                return Ok(eta);
            }
        }
        Err(fail("the ELBO fell below the start's at every step-size scale (100 to 0.01)"))
    }
}

/// [`AdviOptions::laplace_start`]'s family from the start point `u`, and the evaluations it
/// took; why not (and the evaluations) where the search for the mode failed or ran to the edge
/// of a support, or the Hessian could not be had (Stan's start is then taken).
fn laplace_start(
    compiled: &Compiled,
    exec: &Executor,
    method: AdviMethod,
    start: &[f64],
    search: &lbfgs::Settings,
) -> std::result::Result<(Family, u64), (String, u64)> {
    let mut u = start.to_vec();
    // The search's best point, converged or not (at its iteration limit), unless it ran to
    // the edge of a support (a funnel's scale to 0: no mode there, and a scale of the Hessian
    // that would trap the ascent).
    let (found, _) = lbfgs::maximise(exec, u.clone(), search)
        .map_err(|e| (format!("the search for the mode failed ({e})"), 0))?;
    let mut evaluations = found.evaluations;
    let edge = super::at_the_edge(compiled, &found.u);
    if !edge.is_empty() {
        let why = format!(
            "{} headed to the edge of the support in the search for the mode (no mode: a funnel?)",
            edge.join(", ")
        );
        return Err((why, evaluations));
    }
    if found.logp.is_finite() && found.u.iter().all(|v| v.is_finite()) {
        u = found.u;
    }
    let d = u.len();
    let mut q = Family::start(method, &u);
    // The negated Hessian, whole for the full-rank family, its diagonal for the mean-field.
    let mut neg_h = vec![0.0; if method == AdviMethod::FullRank { d * d } else { d }];
    let mut columns = 0;
    let found = hessian_columns(exec, &u, |j, column| {
        columns += 1;
        match method {
            AdviMethod::MeanField => neg_h[j] = -column[j],
            AdviMethod::FullRank => (0..d).for_each(|i| neg_h[i * d + j] = -column[i]),
        }
    });
    // Two evaluations per column, and the two of a failed one.
    evaluations += 2 * columns + if found.is_err() { 2 } else { 0 };
    if let Err(e) = found {
        return Err((format!("no scale at the mode ({e})"), evaluations));
    }
    let diagonal_scale = |q: &mut Family, neg_h_ii: &dyn Fn(usize) -> f64| {
        for i in 0..d {
            let h = neg_h_ii(i);
            if h > 0.0 && h.is_finite() {
                match method {
                    AdviMethod::MeanField => q.theta[d + i] = -0.5 * h.ln(),
                    AdviMethod::FullRank => q.theta[tri(d, i, i)] = h.sqrt().recip(),
                }
            }
        }
    };
    match method {
        AdviMethod::MeanField => diagonal_scale(&mut q, &|i| neg_h[i]),
        AdviMethod::FullRank => {
            let h = DMatrix::from_fn(d, d, |i, j| 0.5 * (neg_h[i * d + j] + neg_h[j * d + i]));
            let factor = h
                .clone()
                .cholesky()
                .map(|c| c.inverse())
                .and_then(|cov| cov.cholesky())
                .map(|c| c.l())
                .filter(|l| l.iter().all(|v| v.is_finite()));
            match factor {
                Some(l) => (0..d).for_each(|i| (0..=i).for_each(|j| q.theta[tri(d, i, j)] = l[(i, j)])),
                None => diagonal_scale(&mut q, &|i| h[(i, i)]),
            }
        }
    }
    Ok((q, evaluations))
}

/// Stan's window of relative ELBO changes: `max(2, iterations / (10 eval_elbo))`.
fn convergence_window(o: &AdviOptions) -> usize {
    ((0.1 * o.iterations as f64 / o.eval_elbo as f64) as usize).max(2)
}

/// `|prev − cur| / |cur|` (Stan's relative ELBO change).
fn rel_change(prev: f64, cur: f64) -> f64 {
    ((prev - cur) / cur).abs()
}

/// The median of `v` as Stan takes it: the upper middle of an even count.
fn upper_median(v: &[f64]) -> f64 {
    let mut s = v.to_vec();
    s.sort_by(f64::total_cmp);
    s[s.len() / 2]
}

impl Optimizer<'_> {
    /// ADVI: a normal approximation over the unconstrained space (mean-field or full-rank)
    /// fitted by stochastic gradient ascent on the ELBO, as Stan's `variational` method with
    /// the departures the module notes list, then `options.draws` draws from it. The log
    /// density includes the log-Jacobians whatever [`Optimizer::jacobian`] says; the start
    /// point is [`Optimizer::init`]'s values or uniform in (−2, 2), from which L-BFGS finds the
    /// mode where [`AdviOptions::laplace_start`] (with the optimiser's tolerances and
    /// iteration limit). The random streams follow [`Optimizer::seed`]; the ELBO estimates and
    /// the draws run in parallel.
    ///
    /// An [`Error::InvalidOption`] for zero (or 2³² and more) draws, gradient or ELBO draws,
    /// zero iterations, adaptation iterations or `eval_elbo`, a tolerance or `eta` that is
    /// not a positive finite number, or starting values that are not the model's;
    /// [`Error::TooLarge`] where the family and the draws do not fit in memory; an
    /// [`Error::Optimization`] where, from Stan's start, the ELBO cannot be estimated there or
    /// every step-size scale of the grid search makes it worse; or where an iteration of the
    /// ascent drops more than `grad_samples` draws (the log density or its gradient not
    /// finite), or an ELBO estimate drops `elbo_samples` (Stan's limit).
    ///
    /// ```
    /// use exmc::prelude::*;
    /// let mut m = Model::new();
    /// let mu = m.rv("mu", Normal::new(0.0, 10.0))?;
    /// let sigma = m.rv("sigma", HalfNormal::new(2.0))?;
    /// m.observe("y", Normal::new(mu, sigma), &[0.8, 1.4, 1.1, 0.9, 1.7, 0.4])?;
    /// let vi = Optimizer::new(&m).seed(1).advi(&AdviOptions::default())?;
    /// assert_eq!(vi.fit.trace.draws, 1000);
    /// let mean = vi.fit.trace.draws("mu").unwrap().mean()[0];
    /// assert!((mean - 1.05).abs() < 0.2);
    /// # Ok::<(), exmc::Error>(())
    /// ```
    pub fn advi(&self, options: &AdviOptions) -> Result<Advi> {
        check(options)?;
        let method = options.method;
        let window = convergence_window(options);
        let extra = |d: usize, outputs: usize, workspace: u128| {
            // The family, its gradient, step, squared-gradient history, average and the
            // window's block sums (and the Laplace start's Hessian, its factor and inverse);
            // the ELBO's parallel workspaces; the draws' values, densities and statistics.
            let family = Family::count(method, d).saturating_mul(window.saturating_add(8) as u128);
            let hessian = match (options.laplace_start, method) {
                (true, AdviMethod::FullRank) => mem::product(&[5, d, d]),
                _ => mem::product(&[2, d]),
            };
            let threads = rayon::current_num_threads();
            family
                .saturating_add(hessian)
                .saturating_add(workspace.saturating_add(2 * d as u128).saturating_mul(threads as u128))
                .saturating_add(mem::product(&[options.draws, d + outputs + 12]))
                .saturating_add(mem::product(&[options.elbo_samples, 1]))
        };
        let (with_jacobian, compiled) = self.with_jacobian(self.history, extra, |d| {
            format!("ADVI ({} family over {d} coordinates, {} draws)", method.name(), options.draws)
        })?;
        let given = self.init.unconstrained(&compiled, 1, "ADVI")?;
        let exec = Executor::new(compiled.logp_grad.clone());
        let u = with_jacobian.start(&compiled, &exec, 0, &given)?;
        // Stan's start where the Laplace start is not asked for or cannot be had.
        let (start, evaluations, fallback) = match options.laplace_start {
            true => match laplace_start(&compiled, &exec, method, &u, &with_jacobian.settings(false)) {
                Ok((q, n)) => (q, n, None),
                Err((why, n)) => (Family::start(method, &u), n, Some(why)),
            },
            false => (Family::start(method, &u), 0, None),
        };
        let from_laplace = options.laplace_start && fallback.is_none();
        let d = compiled.pointmap.dim;
        let mut ascent = Ascent {
            exec: &exec,
            rng: ChainRng::new(self.seed, 0),
            options,
            d,
            grad_draws: 0,
            elbo_draws: 0,
            evaluations,
        };
        let eta = match options.eta {
            Some(eta) => eta,
            None if from_laplace => ascent.adapt_eta_near(&start)?,
            None => ascent.adapt_eta(&start)?,
        };
        let (q, mut report) = run_ascent(&mut ascent, start, eta)?;
        report.laplace_start = from_laplace;
        if let Some(why) = fallback {
            report.message += &format!("; started as Stan does, not from the Laplace approximation: {why}");
        }
        advi_result(&compiled, ascent, q, report, eta)
    }
}

/// How the main ascent ended.
struct Report {
    laplace_start: bool,
    elbo: Vec<ElboEstimate>,
    iterations: u64,
    converged: bool,
    message: String,
}

/// The iterates' sums over the last `window` blocks of iterations, for their average
/// (Polyak–Ruppert).
struct Averages {
    window: usize,
    /// Closed blocks, oldest first: the iterates' sum and count.
    blocks: std::collections::VecDeque<(Vec<f64>, u64)>,
    open: (Vec<f64>, u64),
    /// Blocks closed so far (those dropped from the window included).
    closed: usize,
}

impl Averages {
    fn new(window: usize, n: usize) -> Averages {
        Averages { window, blocks: std::collections::VecDeque::new(), open: (vec![0.0; n], 0), closed: 0 }
    }

    fn add(&mut self, theta: &[f64]) {
        self.open.0.iter_mut().zip(theta).for_each(|(s, t)| *s += t);
        self.open.1 += 1;
    }

    /// Closes the open block (where it has iterates), dropping the oldest beyond the window.
    fn close_block(&mut self) {
        if self.open.1 == 0 {
            return;
        }
        // The oldest block's storage is reused where the window is full.
        let fresh = match self.blocks.len() == self.window {
            true => self.blocks.pop_front().map(|(mut v, _)| {
                v.fill(0.0);
                v
            }),
            false => None,
        };
        let fresh = fresh.unwrap_or_else(|| vec![0.0; self.open.0.len()]);
        self.blocks.push_back(std::mem::replace(&mut self.open, (fresh, 0)));
        self.closed += 1;
    }

    /// The average of the last `k` closed blocks' iterates (at least one) into `out`.
    fn mean_of_last(&self, k: usize, out: &mut [f64]) {
        let from = self.blocks.len().saturating_sub(k.max(1));
        let count: u64 = self.blocks.iter().skip(from).map(|b| b.1).sum();
        out.fill(0.0);
        for (sum, _) in self.blocks.iter().skip(from) {
            out.iter_mut().zip(sum).for_each(|(o, s)| *o += s);
        }
        out.iter_mut().for_each(|o| *o /= count as f64);
    }

    /// The answer: the average over the later half of the blocks closed, at most the
    /// window's, so that the ascent's first iterates (a random start's wandering) are left
    /// out.
    fn answer_into(&self, out: &mut [f64]) {
        self.mean_of_last(self.closed.div_ceil(2).min(self.window), out);
    }
}

/// The main ascent at scale `eta` from `q` to convergence or the iteration limit. Each ELBO
/// estimate is taken at the average of its block's iterates (blocks do not overlap, so
/// successive estimates see the ascent's movement); the approximation returned is the
/// average over the later half of the blocks, at most the window's.
fn run_ascent(ascent: &mut Ascent, mut q: Family, eta: f64) -> Result<(Family, Report)> {
    let o = ascent.options;
    let window = convergence_window(o);
    let mut changes: Vec<f64> = Vec::new();
    let mut report = Report {
        laplace_start: false,
        elbo: Vec::new(),
        iterations: 0,
        converged: false,
        message: String::new(),
    };
    let (mut prev, mut best) = (0.0, -f64::MAX);
    // The iterates' sums over the blocks of `eval_elbo` iterations of the window, and the
    // current block's.
    let mut blocks = Averages::new(window, q.theta.len());
    let mut averaged = q.clone();
    ascent.steps(&mut q, eta, false, |ascent, k, q| {
        report.iterations = k;
        blocks.add(&q.theta);
        if k % o.eval_elbo != 0 {
            return Ok(k < o.iterations);
        }
        blocks.close_block();
        blocks.mean_of_last(1, &mut averaged.theta);
        let (elbo, _) = ascent.elbo(&averaged).ok_or_else(|| Error::Optimization {
            reason: format!(
                "ADVI: the ELBO estimate after iteration {k} dropped {} draws of non-finite log \
                 density; the model may be ill-conditioned or misspecified",
                o.elbo_samples
            ),
        })?;
        best = best.max(elbo);
        if changes.len() == window {
            changes.remove(0);
        }
        changes.push(rel_change(prev, elbo));
        prev = elbo;
        let rel_mean = changes.iter().sum::<f64>() / changes.len() as f64;
        let rel_median = upper_median(&changes);
        report.elbo.push(ElboEstimate { iteration: k, elbo, rel_mean, rel_median });
        if rel_mean < o.tol_rel_obj || rel_median < o.tol_rel_obj {
            report.converged = true;
            report.message = format!(
                "{} relative ELBO change below {} at iteration {k}",
                if rel_mean < o.tol_rel_obj { "mean" } else { "median" },
                o.tol_rel_obj
            );
            return Ok(false);
        }
        Ok(k < o.iterations)
    })?;
    // An unfinished block counts too.
    blocks.close_block();
    blocks.answer_into(&mut averaged.theta);
    let q = averaged;
    if !report.converged {
        report.message = format!(
            "the relative ELBO change stayed above {} for {} iterations",
            o.tol_rel_obj, o.iterations
        );
    }
    if let Some(last) = report.elbo.last() {
        if report.elbo.len() > 10 && (last.rel_mean > DIVERGING || last.rel_median > DIVERGING) {
            report.message += "; the ELBO may be diverging: inspect it";
        }
        if rel_change(best, last.elbo) > FAR_FROM_BEST {
            report.message += &format!(
                "; the last ELBO ({:.4}) is more than 5% from the best ({best:.4}): a smaller \
                 tol_rel_obj may help",
                last.elbo
            );
        }
    }
    Ok((q, report))
}

/// Draws from the fitted family and the result.
fn advi_result(compiled: &Compiled, ascent: Ascent, q: Family, report: Report, eta: f64) -> Result<Advi> {
    let o = ascent.options;
    let (exec, rng, d) = (ascent.exec, ascent.rng, ascent.d);
    let drawn: Vec<(Vec<f64>, f64, f64)> = (0..o.draws as u64)
        .into_par_iter()
        .map_init(
            || (exec.workspace(), vec![0.0; d], vec![0.0; d]),
            |(ws, g, eta), k| {
                rng.fill_normals(k, Purpose::Advi, eta);
                let mut zeta = vec![0.0; d];
                q.draw(eta, &mut zeta);
                let lp = exec.run(ws, &zeta, g);
                (zeta, if lp.is_nan() { f64::NEG_INFINITY } else { lp }, q.log_q(eta))
            },
        )
        .collect();
    let mut points = Vec::with_capacity(drawn.len());
    let (mut log_p, mut log_q) = (Vec::with_capacity(drawn.len()), Vec::with_capacity(drawn.len()));
    for (point, p, lq) in drawn {
        points.push(point);
        log_p.push(p);
        log_q.push(lq);
    }
    let ratios: Vec<f64> = log_p.iter().zip(&log_q).map(|(p, q)| p - q).collect();
    let (pareto_k, _) = smoothed_weights(&ratios);
    let fit = draws_fit(compiled, &points, &log_p, "advi");
    let mean = q.theta[..d].to_vec();
    let mean_values = TraceLayout::new(compiled)
        .constrained(&Executor::new(compiled.constrain.clone()), std::slice::from_ref(&mean));
    Ok(Advi {
        fit,
        log_p,
        log_q,
        pareto_k,
        method: q.method,
        coordinates: compiled.pointmap.element_names(),
        sd: q.sd(),
        cholesky: q.cholesky(),
        mean,
        mean_values,
        eta,
        laplace_start: report.laplace_start,
        elbo: report.elbo,
        iterations: report.iterations,
        evaluations: ascent.evaluations + o.draws as u64,
        converged: report.converged,
        message: report.message,
    })
}

/// The options' ranges.
fn check(o: &AdviOptions) -> Result<()> {
    check_counts(&[("draws", o.draws), ("grad_samples", o.grad_samples), ("elbo_samples", o.elbo_samples)])?;
    for (option, n) in
        [("iterations", o.iterations), ("eval_elbo", o.eval_elbo), ("adapt_iterations", o.adapt_iterations)]
    {
        if n == 0 {
            return Err(Error::invalid_option(option, "needs at least one iteration"));
        }
    }
    if o.eval_elbo > o.iterations {
        return Err(Error::invalid_option(
            "eval_elbo",
            "must be at most `iterations` (no ELBO would be estimated)",
        ));
    }
    if !(o.tol_rel_obj > 0.0 && o.tol_rel_obj.is_finite()) {
        return Err(Error::invalid_option("tol_rel_obj", "must be a finite number > 0"));
    }
    if let Some(eta) = o.eta
        && !(eta > 0.0 && eta.is_finite())
    {
        return Err(Error::invalid_option("eta", "must be a finite number > 0"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The family's gradients of `log p(ζ)` and of the entropy are those of the objective
    /// along [`Family::step`]'s local coordinates: against central differences.
    #[test]
    fn family_gradients_match_differences() {
        // log p(ζ) = −Σ cᵢ ζᵢ² / 2 + Σ ζᵢ, whose gradient is known.
        let c = [0.7, 1.9, 0.4];
        let logp = |z: &[f64]| z.iter().zip(&c).map(|(z, c)| -0.5 * c * z * z + z).sum::<f64>();
        let eta = [0.3, -1.2, 0.8];
        for method in [AdviMethod::MeanField, AdviMethod::FullRank] {
            let mut q = Family::start(method, &[0.1, -0.4, 0.9]);
            for (i, t) in q.theta.iter_mut().enumerate() {
                *t += 0.3 * (i as f64 + 1.0).sin();
            }
            let objective = |q: &Family| {
                let mut z = [0.0; 3];
                q.draw(&eta, &mut z);
                logp(&z) + q.log_det()
            };
            let mut z = [0.0; 3];
            q.draw(&eta, &mut z);
            let g: Vec<f64> = z.iter().zip(&c).map(|(z, c)| -c * z + 1.0).collect();
            let mut grad = vec![0.0; q.theta.len()];
            q.add_path_grad(&g, &eta, 1.0, &mut grad);
            q.add_entropy_grad(&mut grad);
            for i in 0..q.theta.len() {
                let h = 1e-6;
                let (mut up, mut down) = (q.clone(), q.clone());
                let mut delta = vec![0.0; q.theta.len()];
                delta[i] = h;
                up.step(&delta);
                delta[i] = -h;
                down.step(&delta);
                let fd = (objective(&up) - objective(&down)) / (2.0 * h);
                assert!((fd - grad[i]).abs() < 1e-7, "{method:?} parameter {i}: {fd} vs {}", grad[i]);
            }
        }
    }

    /// `log_q` is the normal density of the draw: `N(μ, diag(exp 2ω))` or `N(μ, LLᵀ)`.
    #[test]
    fn log_q_is_the_normal_density() {
        let eta = [0.5, -0.25];
        let mut q = Family::start(AdviMethod::FullRank, &[1.0, 2.0]);
        q.theta[2..].copy_from_slice(&[2.0, 0.6, 0.5]);
        let mut z = [0.0; 2];
        q.draw(&eta, &mut z);
        // Σ = LLᵀ with L = [[2, 0], [0.6, 0.5]].
        let s = [[4.0, 1.2], [1.2, 0.36 + 0.25]];
        let det = s[0][0] * s[1][1] - s[0][1] * s[1][0];
        let r = [z[0] - 1.0, z[1] - 2.0];
        let quad = (s[1][1] * r[0] * r[0] - 2.0 * s[0][1] * r[0] * r[1] + s[0][0] * r[1] * r[1]) / det;
        let expected = -0.5 * quad - 0.5 * det.ln() - 2.0 * HALF_LN_2PI;
        assert!((q.log_q(&eta) - expected).abs() < 1e-12);
        assert!((q.sd()[1] - 0.61f64.sqrt()).abs() < 1e-12);
    }

    #[test]
    fn stan_median_and_change() {
        assert_eq!(upper_median(&[3.0, 1.0, 2.0, 4.0]), 3.0);
        assert_eq!(upper_median(&[0.5]), 0.5);
        assert_eq!(rel_change(0.0, -5.0), 1.0);
        assert!((rel_change(-10.0, -9.0) - 1.0 / 9.0).abs() < 1e-15);
    }
}
