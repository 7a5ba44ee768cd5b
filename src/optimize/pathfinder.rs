//! Pathfinder (Zhang, Carpenter, Gelman & Vehtari 2022; Stan's `pathfinder`, PyMC-extras'
//! `fit_pathfinder`): normal approximations along an L-BFGS path over the unconstrained
//! space, each with the inverse-Hessian estimate the path's steps and gradient changes give;
//! the one of highest ELBO is kept, and several paths' draws are pooled and resampled by
//! Pareto-smoothed importance weights.
//!
//! At iteration `l` the approximation is `N(x + H g, H)` (`g` the gradient of the log density,
//! a Newton step from the iterate `x`), with `H = diag(α) + B Γ Bᵀ` the L-BFGS inverse Hessian
//! of the last accepted pairs in compact form (Byrd, Nocedal & Schnabel 1994) and `α` the
//! diagonal estimate of Gilbert & Lemaréchal (1989) the paper updates along the path. A pair
//! `(s, z)` (a step and the fall of the gradient along it) is accepted where it shows positive
//! curvature, `sᵀz > 0` and `|z|²/sᵀz ≤ 10¹²` (Stan's test).

use nalgebra::{DMatrix, DVector};
use rayon::prelude::*;

use super::{Optimizer, check_counts, draws_fit, smoothed_weights};
use crate::backend::cpu::Executor;
use crate::compile::Compiled;
use crate::error::{Error, Result};
use crate::mem;
use crate::model::dist::HALF_LN_2PI;
use crate::rng::{ChainRng, Purpose};
use crate::sampler::{Fit, Init, init};

/// Largest curvature `|z|²/sᵀz` of an accepted pair (Stan's).
const MAX_CURVATURE: f64 = 1e12;

/// What [`Optimizer::pathfinder`] runs; the defaults are Stan's but for the history.
#[derive(Clone, Debug, PartialEq)]
pub struct PathfinderOptions {
    /// Independent paths, each from its own random start (stream `p` of the seed; the first
    /// is [`Optimizer::run`]'s start). Stan: 4.
    pub paths: usize,
    /// Draws from each path's chosen approximation. Stan: 1000.
    pub draws_per_path: usize,
    /// Draws returned where [`PathfinderOptions::resample`]: resampled with replacement from
    /// the paths' pooled draws by their Pareto-smoothed importance weights. Stan: 1000.
    pub draws: usize,
    /// Draws estimating each iteration's ELBO. Stan: 25.
    pub elbo_draws: usize,
    /// Whether to resample (Stan's `psis_resample`); without, every path's draws are returned
    /// in path order.
    pub resample: bool,
    /// L-BFGS history of the paths and of their inverse-Hessian estimates (1 to 1000 pairs;
    /// it replaces [`Optimizer::history`]). 20, where Stan's is 5: over the posteriordb suite
    /// 20 pairs gave k̂ < 0.7 on 32 of 37 posteriors and 5 pairs on 21, with fewer
    /// evaluations for the larger ones (DECISIONS 120).
    pub history: usize,
}

impl Default for PathfinderOptions {
    fn default() -> Self {
        PathfinderOptions {
            paths: 4,
            draws_per_path: 1000,
            draws: 1000,
            elbo_draws: 25,
            resample: true,
            history: 20,
        }
    }
}

/// How one path went ([`Pathfinder::paths`]).
#[derive(Clone, Debug, PartialEq)]
pub struct PathReport {
    /// The chosen approximation's ELBO estimate (−∞ where no iterate gave a finite one: the
    /// path contributes no draws).
    pub elbo: f64,
    /// The chosen iteration (1 for the first step from the start; 0 where none was chosen).
    pub iteration: usize,
    /// Iterates of the path approximated: its distinct points after the start, up to the
    /// first of non-finite log density or gradient.
    pub iterations: usize,
    /// Evaluations of the log density (search, path gradients, ELBO and final draws); 0 where
    /// the path failed.
    pub evaluations: u64,
    /// How the L-BFGS search ended (or why the path could not run: no finite start, a
    /// failed search).
    pub message: String,
}

/// Draws from Pathfinder's approximation ([`Optimizer::pathfinder`]).
#[derive(Clone, Debug)]
pub struct Pathfinder {
    /// The draws, constrained, as one chain: a [`Fit`] for summaries, trace files and
    /// predictive checks. Its backend reads `"pathfinder"`; each draw's statistics hold the
    /// model's log density `lp` (the trace files' `lp__`), NaN or zero for the sampler's
    /// quantities.
    pub fit: Fit,
    /// The model's log density (with the log-Jacobians, unnormalised) at each draw: Stan's
    /// `lp__`.
    pub log_p: Vec<f64>,
    /// The approximation's normalised log density at each draw (its path's): Stan's
    /// `lp_approx__`.
    pub log_q: Vec<f64>,
    /// Pareto `k̂` of the pooled draws' importance ratios `log p − log q` (finite ones): below
    /// 0.7 resampling corrects the approximation well; above, it is a poor fit. NaN under 25
    /// finite ratios, 0 where they are equal to rounding (a normal posterior).
    pub pareto_k: f64,
    /// Each path's ELBO, chosen iteration and search.
    pub paths: Vec<PathReport>,
}

impl Pathfinder {
    /// Starting values for `chains` NUTS chains, one draw each ([`Init::PerChain`]; as
    /// cmdstanpy's `create_inits` and the Pathfinder paper's use of it to start MCMC): draws
    /// of finite log density, evenly spaced through the draws, as the constrained values of
    /// every free variable. Where there are fewer such draws than chains, chains share draws
    /// (their random streams still differ).
    ///
    /// An [`Error::InvalidOption`] for zero chains or more than the sampler runs
    /// ([`MAX_CHAINS`](crate::sampler::MAX_CHAINS)); [`Error::TooLarge`] where the sets do not
    /// fit in memory; an [`Error::Optimization`] where no draw has a finite log density and
    /// values that map back to the unconstrained space (a value that rounded onto its
    /// support's edge, as a probability of exactly 1, cannot start a chain and is passed over).
    ///
    /// ```
    /// use exmc::prelude::*;
    /// let mut m = Model::new();
    /// let mu = m.rv("mu", Normal::new(0.0, 10.0))?;
    /// let sigma = m.rv("sigma", HalfNormal::new(2.0))?;
    /// m.observe("y", Normal::new(mu, sigma), &[0.8, 1.4, 1.1, 0.9, 1.7, 0.4])?;
    /// let pf = Optimizer::new(&m).seed(1).pathfinder(&PathfinderOptions::default())?;
    /// let fit = Sampler::new(&m).init(pf.inits(4)?).warmup(300).draws(300).seed(1).progress(false).run()?;
    /// assert_eq!(fit.trace.chains, 4);
    /// # Ok::<(), exmc::Error>(())
    /// ```
    pub fn inits(&self, chains: usize) -> Result<Init> {
        super::draws_inits(&self.fit, &self.log_p, chains, "Pathfinder")
    }
}

/// Accepted pairs `(s, z)` of a step and the fall of the gradient along it, oldest first.
type Pairs = Vec<(Vec<f64>, Vec<f64>)>;

/// One path's draws from its chosen approximation.
struct PathDraws {
    report: PathReport,
    points: Vec<Vec<f64>>,
    log_p: Vec<f64>,
    log_q: Vec<f64>,
}

impl Optimizer<'_> {
    /// Pathfinder: `options.paths` L-BFGS paths over the log density with the log-Jacobians
    /// (whatever [`Optimizer::jacobian`] says), each from its own random start (or
    /// [`Optimizer::init`]'s values), run in parallel. Along each, every iterate's normal
    /// approximation has its ELBO estimated with `options.elbo_draws` draws; the best gives
    /// `options.draws_per_path` draws. The pooled draws are resampled by Pareto-smoothed
    /// importance weights where `options.resample`. L-BFGS runs with the optimiser's
    /// tolerances and iteration limit, and `options.history`.
    ///
    /// An [`Error::InvalidOption`] for zero (or 2³² and more) paths, draws or ELBO draws, a
    /// history outside 1 to 1000, an optimiser setting out of range, or starting values
    /// ([`Optimizer::init`]) that are not the model's; [`Error::TooLarge`] where the draws do not fit in
    /// memory; an [`Error::Optimization`] where no path finds an approximation of finite ELBO
    /// (a path that cannot start or whose search fails contributes no draws, and its report
    /// says why) or no draw has a finite log density.
    ///
    /// ```
    /// use exmc::prelude::*;
    /// let mut m = Model::new();
    /// let mu = m.rv("mu", Normal::new(0.0, 10.0))?;
    /// let sigma = m.rv("sigma", HalfNormal::new(2.0))?;
    /// m.observe("y", Normal::new(mu, sigma), &[0.8, 1.4, 1.1, 0.9, 1.7, 0.4])?;
    /// let pf = Optimizer::new(&m).seed(1).pathfinder(&PathfinderOptions::default())?;
    /// assert_eq!(pf.fit.trace.draws, 1000);
    /// let mean = pf.fit.trace.draws("mu").unwrap().mean()[0];
    /// assert!((mean - 1.05).abs() < 0.15);
    /// # Ok::<(), exmc::Error>(())
    /// ```
    pub fn pathfinder(&self, options: &PathfinderOptions) -> Result<Pathfinder> {
        check_counts(&[
            ("paths", options.paths),
            ("draws_per_path", options.draws_per_path),
            ("elbo_draws", options.elbo_draws),
            ("draws", if options.resample { options.draws } else { 1 }),
        ])?;
        // Per path: a workspace, its points (at most the iteration limit) and gradients, the
        // factors and their QR (about `14·d·m`) and a few vectors (each ELBO draw is
        // evaluated as it is made); pooled: every draw's values, densities, weights and
        // vector header; and the kept draws' values and statistics.
        let extra = |d: usize, outputs: usize, workspace: u128| {
            let pooled = mem::product(&[options.paths, options.draws_per_path]);
            let per_path = mem::product(&[d, 14 * options.history + 16]).saturating_add(workspace);
            // A path of up to 10⁵ iterates (a longer one grows unchecked: 2.5·10⁶ evaluations).
            let path_len = mem::product(&[self.max_iters.min(100_000) as usize, 2, d]);
            let kept = if options.resample { options.draws as u128 } else { pooled };
            per_path
                .saturating_add(path_len)
                .saturating_mul(options.paths as u128)
                .saturating_add(pooled.saturating_mul(d as u128 + 16))
                .saturating_add(kept.saturating_mul((d + outputs + 12) as u128))
        };
        let (with_jacobian, compiled) = self.with_jacobian(options.history, extra, |d| {
            format!(
                "Pathfinder ({d} coordinates, {} paths, {} draws each)",
                options.paths, options.draws_per_path
            )
        })?;
        // The user's starting values are checked once (a mistake there is the user's, not a
        // path's).
        let given = self.init.unconstrained(&compiled, options.paths, "path")?;
        let exec = Executor::new(compiled.logp_grad.clone());
        let results: Vec<Result<PathDraws>> = (0..options.paths)
            .into_par_iter()
            .map(|p| with_jacobian.one_path(&compiled, &exec, (p, &given), options))
            .collect();
        let mut runs = Vec::with_capacity(results.len());
        for result in results {
            runs.push(match result {
                Ok(run) => run,
                // A start without a finite density, or a failed search: the path's report.
                Err(e @ (Error::NoStart { .. } | Error::Optimization { .. })) => PathDraws {
                    report: PathReport {
                        elbo: f64::NEG_INFINITY,
                        iteration: 0,
                        iterations: 0,
                        evaluations: 0,
                        message: e.to_string(),
                    },
                    points: Vec::new(),
                    log_p: Vec::new(),
                    log_q: Vec::new(),
                },
                Err(e) => return Err(e),
            });
        }
        if runs.iter().all(|r| r.points.is_empty()) {
            return Err(Error::Optimization {
                reason: format!(
                    "Pathfinder: no path found an approximation of finite ELBO ({})",
                    runs.iter().map(|r| r.report.message.as_str()).collect::<Vec<_>>().join("; ")
                ),
            });
        }
        let (mut points, mut log_p, mut log_q) = (Vec::new(), Vec::new(), Vec::new());
        let mut paths = Vec::new();
        for r in runs {
            points.extend(r.points);
            log_p.extend(r.log_p);
            log_q.extend(r.log_q);
            paths.push(r.report);
        }
        let ratios: Vec<f64> = log_p.iter().zip(&log_q).map(|(p, q)| p - q).collect();
        let (pareto_k, log_weights) = smoothed_weights(&ratios);
        if log_weights.iter().all(|w| w.is_infinite()) {
            return Err(Error::Optimization {
                reason: "Pathfinder: the log density is not finite at any draw".into(),
            });
        }
        if options.resample {
            let rng = ChainRng::new(self.seed, 0);
            let picks = resample(&log_weights, options.draws, |i| rng.uniform(i, 0, Purpose::Resample));
            points = picks.iter().map(|&i| points[i].clone()).collect();
            log_p = picks.iter().map(|&i| log_p[i]).collect();
            log_q = picks.iter().map(|&i| log_q[i]).collect();
        }
        let fit = draws_fit(&compiled, &points, &log_p, "pathfinder");
        Ok(Pathfinder { fit, log_p, log_q, pareto_k, paths })
    }

    /// Path `p`: the L-BFGS search from its start, every iterate's approximation and ELBO,
    /// and draws from the best.
    fn one_path(
        &self,
        compiled: &Compiled,
        exec: &Executor,
        (p, given): (usize, &[init::Given]),
        o: &PathfinderOptions,
    ) -> Result<PathDraws> {
        let start = self.start(compiled, exec, p, given)?;
        let (search, path) = super::lbfgs::maximise(exec, start, &self.settings(true))?;
        let d = compiled.pointmap.dim;
        let rng = ChainRng::new(self.seed, p);
        let mut ws = exec.workspace();
        let mut evaluations = search.evaluations;
        // The log density (−∞ for NaN) and, into `g`, its gradient.
        let mut eval = |u: &[f64], g: &mut Vec<f64>| {
            evaluations += 1;
            let lp = exec.run(&mut ws, u, g);
            if lp.is_nan() { f64::NEG_INFINITY } else { lp }
        };
        let mut alpha = vec![1.0; d];
        let mut pairs: Pairs = Vec::new();
        let (mut x_prev, mut g_prev) = (path[0].clone(), vec![0.0; d]);
        eval(&x_prev, &mut g_prev);
        let mut best: Option<(f64, usize, Approximation)> = None;
        let mut g = vec![0.0; d];
        let mut z = vec![0.0; d];
        let mut iteration = 0;
        for x in &path[1..] {
            if x == &x_prev {
                continue;
            }
            if !(eval(x, &mut g).is_finite() && g.iter().all(|v| v.is_finite())) {
                break;
            }
            iteration += 1;
            let s: Vec<f64> = x.iter().zip(&x_prev).map(|(a, b)| a - b).collect();
            let fall: Vec<f64> = g_prev.iter().zip(&g).map(|(a, b)| a - b).collect();
            accept_pair(&mut alpha, &mut pairs, (s, fall), self.history);
            (x_prev, g_prev) = (x.clone(), g.clone());
            let Some(approx) = Approximation::new(x, &g, &alpha, &pairs) else { continue };
            let mut total = 0.0;
            for k in 0..o.elbo_draws {
                // Iterations 2²⁸ apart share ELBO draws (the counter's high field has 28 bits).
                rng.fill_normals((iteration as u64) << 32 | k as u64, Purpose::PathfinderElbo, &mut z);
                let (phi, lq) = approx.draw(&z);
                total += eval(&phi, &mut g) - lq;
            }
            let elbo = total / o.elbo_draws as f64;
            if elbo.is_finite() && best.as_ref().is_none_or(|(b, _, _)| elbo > *b) {
                best = Some((elbo, iteration, approx));
            }
        }
        let mut report = PathReport {
            elbo: f64::NEG_INFINITY,
            iteration: 0,
            iterations: iteration,
            evaluations: 0,
            message: search.message,
        };
        let (mut points, mut log_p, mut log_q) = (Vec::new(), Vec::new(), Vec::new());
        if let Some((elbo, at, approx)) = best {
            (report.elbo, report.iteration) = (elbo, at);
            for k in 0..o.draws_per_path {
                rng.fill_normals(k as u64, Purpose::Pathfinder, &mut z);
                let (phi, lq) = approx.draw(&z);
                log_p.push(eval(&phi, &mut g));
                log_q.push(lq);
                points.push(phi);
            }
        }
        report.evaluations = evaluations;
        Ok(PathDraws { report, points, log_p, log_q })
    }
}

/// Takes the pair `(s, z)` (a step and the fall of the gradient along it) into the L-BFGS
/// history (the last `history` pairs) where it shows positive curvature, updating the
/// diagonal `alpha` as Zhang et al.'s Algorithm 3 (Gilbert & Lemaréchal's formula); leaves
/// both alone otherwise.
fn accept_pair(alpha: &mut [f64], pairs: &mut Pairs, (s, z): (Vec<f64>, Vec<f64>), history: usize) {
    let b: f64 = s.iter().zip(&z).map(|(s, z)| s * z).sum();
    let zz: f64 = z.iter().map(|z| z * z).sum();
    if !(b > 0.0 && zz / b <= MAX_CURVATURE) {
        return;
    }
    let a: f64 = z.iter().zip(alpha.iter()).map(|(z, al)| z * z * al).sum();
    let c: f64 = s.iter().zip(alpha.iter()).map(|(s, al)| s * s / al).sum();
    let next: Vec<f64> = alpha
        .iter()
        .zip(s.iter().zip(&z))
        .map(|(&al, (&s, &z))| 1.0 / (a / (b * al) + z * z / b - a * s * s / (b * c * al * al)))
        .collect();
    if !next.iter().all(|v| v.is_finite() && *v > 0.0) {
        return;
    }
    alpha.copy_from_slice(&next);
    pairs.push((s, z));
    if pairs.len() > history {
        pairs.remove(0);
    }
}

/// The normal `N(x + H g, H)` with `H = diag(α) + B Γ Bᵀ`, factored for drawing as Zhang et
/// al.'s Algorithm 4: with `W = diag(α)^{-1/2} B = Q R` (thin QR) and `I + R Γ Rᵀ = L Lᵀ`,
/// a draw is `μ + diag(α)^{1/2} (u + Q (L − I) Qᵀ u)` for `u` standard normal, and
/// `ln |H| = Σ ln α + 2 Σ ln Lᵢᵢ`.
struct Approximation {
    mean: Vec<f64>,
    sqrt_alpha: Vec<f64>,
    q: DMatrix<f64>,
    l_minus_i: DMatrix<f64>,
    log_det: f64,
}

impl Approximation {
    /// At iterate `x` of gradient `g`, with the diagonal `alpha` and the accepted `pairs`
    /// (oldest first); `None` where `I + R Γ Rᵀ` is not positive definite to rounding.
    fn new(x: &[f64], g: &[f64], alpha: &[f64], pairs: &[(Vec<f64>, Vec<f64>)]) -> Option<Approximation> {
        let (d, m) = (x.len(), pairs.len());
        let sqrt_alpha: Vec<f64> = alpha.iter().map(|a| a.sqrt()).collect();
        let (b, gamma) = compact_factors(alpha, pairs)?;
        // H g = α ∘ g + B Γ Bᵀ g.
        let gv = DVector::from_column_slice(g);
        let low_rank = &b * (&gamma * (b.transpose() * &gv));
        let mean: Vec<f64> = (0..d).map(|i| x[i] + alpha[i] * g[i] + low_rank[i]).collect();
        let w = DMatrix::from_fn(d, 2 * m, |i, j| b[(i, j)] / sqrt_alpha[i]);
        let qr = w.qr();
        let (q, r) = (qr.q(), qr.r());
        let k = q.ncols();
        let mut inner = DMatrix::identity(k, k) + &r * &gamma * r.transpose();
        inner = (&inner + inner.transpose()) * 0.5;
        let l = nalgebra::Cholesky::new(inner)?.l();
        let log_det =
            alpha.iter().map(|a| a.ln()).sum::<f64>() + 2.0 * (0..k).map(|i| l[(i, i)].ln()).sum::<f64>();
        if !(log_det.is_finite() && mean.iter().all(|v| v.is_finite())) {
            return None;
        }
        Some(Approximation { mean, sqrt_alpha, q, l_minus_i: l - DMatrix::identity(k, k), log_det })
    }

    /// The draw of standard normals `u` and its log density under the approximation.
    fn draw(&self, u: &[f64]) -> (Vec<f64>, f64) {
        let uv = DVector::from_column_slice(u);
        let shift = &self.q * (&self.l_minus_i * (self.q.transpose() * &uv));
        let phi = (0..u.len()).map(|i| self.mean[i] + self.sqrt_alpha[i] * (u[i] + shift[i])).collect();
        let lq = -0.5 * (self.log_det + uv.norm_squared()) - u.len() as f64 * HALF_LN_2PI;
        (phi, lq)
    }
}

/// The compact form of the L-BFGS inverse Hessian from `diag(α)` and the `pairs` `(s, z)`
/// (oldest first): `H = diag(α) + B Γ Bᵀ` with `B = [diag(α) Z, S]` and
/// `Γ = [[0, −R⁻¹], [−R⁻ᵀ, R⁻ᵀ (D + Zᵀ diag(α) Z) R⁻¹]]`, `R` the upper triangle of `SᵀZ`
/// and `D` its diagonal (Byrd, Nocedal & Schnabel 1994). `None` where `R` cannot be inverted
/// to finite values.
fn compact_factors(alpha: &[f64], pairs: &[(Vec<f64>, Vec<f64>)]) -> Option<(DMatrix<f64>, DMatrix<f64>)> {
    let (d, m) = (alpha.len(), pairs.len());
    let s = DMatrix::from_fn(d, m, |i, j| pairs[j].0[i]);
    let z = DMatrix::from_fn(d, m, |i, j| pairs[j].1[i]);
    let stz = s.transpose() * &z;
    let r = stz.upper_triangle();
    // Accepted pairs have sᵀz > 0: `R`'s diagonal is positive, so it is invertible (by
    // substitution: no determinant to underflow).
    let r_inv =
        r.solve_upper_triangular(&DMatrix::identity(m, m)).filter(|x| x.iter().all(|v| v.is_finite()))?;
    let alpha_z = DMatrix::from_fn(d, m, |i, j| alpha[i] * z[(i, j)]);
    let middle = DMatrix::from_diagonal(&stz.diagonal()) + z.transpose() * &alpha_z;
    let block = r_inv.transpose() * middle * &r_inv;
    let mut gamma = DMatrix::zeros(2 * m, 2 * m);
    gamma.view_mut((0, m), (m, m)).copy_from(&(-&r_inv));
    gamma.view_mut((m, 0), (m, m)).copy_from(&(-r_inv.transpose()));
    gamma.view_mut((m, m), (m, m)).copy_from(&block);
    let mut b = DMatrix::zeros(d, 2 * m);
    b.view_mut((0, 0), (d, m)).copy_from(&alpha_z);
    b.view_mut((0, m), (d, m)).copy_from(&s);
    Some((b, gamma))
}

/// `n` indices drawn with replacement with probabilities `exp(log_weights)` (normalised),
/// `uniform(i)` the `i`-th uniform in [0, 1). The caller sees that some weight is positive.
fn resample(log_weights: &[f64], n: usize, uniform: impl Fn(u64) -> f64) -> Vec<usize> {
    let mut cumulative = Vec::with_capacity(log_weights.len());
    let mut total = 0.0;
    for w in log_weights {
        total += w.exp();
        cumulative.push(total);
    }
    (0..n)
        .map(|i| {
            let target = uniform(i as u64) * total;
            cumulative.partition_point(|&c| c <= target).min(log_weights.len() - 1)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The explicit BFGS recursion `H ← (I − ρ s zᵀ) H (I − ρ z sᵀ) + ρ s sᵀ` from `diag(α)`.
    fn bfgs(alpha: &[f64], pairs: &[(Vec<f64>, Vec<f64>)]) -> DMatrix<f64> {
        let d = alpha.len();
        let mut h = DMatrix::from_diagonal(&DVector::from_column_slice(alpha));
        for (s, z) in pairs {
            let (s, z) = (DVector::from_column_slice(s), DVector::from_column_slice(z));
            let rho = 1.0 / s.dot(&z);
            let left = DMatrix::identity(d, d) - &s * z.transpose() * rho;
            h = &left * h * left.transpose() + &s * s.transpose() * rho;
        }
        h
    }

    /// Pairs of a quadratic's steps, so that every one shows positive curvature.
    fn pairs(d: usize, m: usize) -> (Vec<f64>, Pairs) {
        let hessian =
            DMatrix::from_fn(d, d, |i, j| if i == j { 2.0 + i as f64 } else { 0.3 / (1.0 + (i + j) as f64) });
        let alpha: Vec<f64> = (0..d).map(|i| 0.5 + 0.1 * i as f64).collect();
        let pairs = (0..m)
            .map(|k| {
                let s = DVector::from_fn(d, |i, _| ((i * 7 + k * 3) % 5) as f64 - 1.7);
                let z = &hessian * &s;
                (s.iter().copied().collect(), z.iter().copied().collect())
            })
            .collect();
        (alpha, pairs)
    }

    /// The compact form equals the recursion; the draws' factor squares to it; the log
    /// determinant is its determinant's; the mean is a Newton step.
    #[test]
    fn compact_form_and_draws_match_the_bfgs_recursion() {
        for (d, m) in [(6, 3), (4, 4), (3, 5), (1, 1), (3, 0)] {
            let (alpha, pairs) = pairs(d, m);
            let want = bfgs(&alpha, &pairs);
            let (b, gamma) = compact_factors(&alpha, &pairs).unwrap();
            let got =
                DMatrix::from_diagonal(&DVector::from_column_slice(&alpha)) + &b * gamma * b.transpose();
            assert!((&got - &want).amax() < 1e-10 * want.amax(), "d {d} m {m}\n{got}\n{want}");

            let x: Vec<f64> = (0..d).map(|i| i as f64 * 0.3).collect();
            let g: Vec<f64> = (0..d).map(|i| 1.0 - i as f64 * 0.2).collect();
            let approx = Approximation::new(&x, &g, &alpha, &pairs).unwrap();
            let newton = DVector::from_column_slice(&x) + &want * DVector::from_column_slice(&g);
            for i in 0..d {
                assert!((approx.mean[i] - newton[i]).abs() < 1e-10, "mean {i}");
            }
            // The factor C with H = C Cᵀ, column by column from unit draws.
            let base = approx.draw(&vec![0.0; d]);
            let c = DMatrix::from_fn(d, d, |i, j| {
                let mut u = vec![0.0; d];
                u[j] = 1.0;
                approx.draw(&u).0[i] - base.0[i]
            });
            assert!((&c * c.transpose() - &want).amax() < 1e-9 * want.amax(), "factor d {d} m {m}");
            assert!((approx.log_det - want.determinant().ln()).abs() < 1e-9, "log det d {d} m {m}");
            let lq0 = -0.5 * want.determinant().ln() - d as f64 * HALF_LN_2PI;
            assert!((base.1 - lq0).abs() < 1e-9);
        }
    }

    /// A pair of negative curvature is refused and leaves the diagonal alone; the history
    /// keeps the last pairs.
    #[test]
    fn pairs_without_positive_curvature_are_refused() {
        let mut alpha = vec![1.0, 2.0];
        let mut kept = Vec::new();
        accept_pair(&mut alpha, &mut kept, (vec![1.0, 0.0], vec![-1.0, 0.5]), 2);
        assert!(kept.is_empty() && alpha == [1.0, 2.0]);
        for k in 0..3 {
            accept_pair(&mut alpha, &mut kept, (vec![1.0, k as f64], vec![2.0, 1.0 + k as f64]), 2);
        }
        assert_eq!(kept.len(), 2);
        assert_eq!(kept[0].0, vec![1.0, 1.0]);
        assert!(alpha.iter().all(|a| *a > 0.0 && a.is_finite()));

        // In one dimension the diagonal is the secant's, s/z.
        let mut one = vec![0.3];
        accept_pair(&mut one, &mut Vec::new(), (vec![0.5], vec![2.0]), 5);
        assert!((one[0] - 0.25).abs() < 1e-15, "{one:?}");
        // In general, 1/α is the diagonal of the BFGS update of the Hessian diag(1/α) scaled
        // by zᵀdiag(α)z / sᵀz (Gilbert & Lemaréchal).
        let (alpha0, s, z) = (vec![0.5, 2.0, 1.5], vec![0.3, -0.2, 0.7], vec![1.1, -0.1, 0.9]);
        let mut next = alpha0.clone();
        accept_pair(&mut next, &mut Vec::new(), (s.clone(), z.clone()), 5);
        let hess = DMatrix::from_diagonal(&DVector::from_iterator(3, alpha0.iter().map(|a| 1.0 / a)));
        let (sv, zv) = (DVector::from_column_slice(&s), DVector::from_column_slice(&z));
        let scale =
            zv.dot(&DVector::from_iterator(3, z.iter().zip(&alpha0).map(|(z, a)| z * a))) / sv.dot(&zv);
        let hs = &hess * &sv;
        let updated =
            (&hess - &hs * hs.transpose() / sv.dot(&hs)) * scale + &zv * zv.transpose() / sv.dot(&zv);
        for i in 0..3 {
            assert!((1.0 / next[i] - updated[(i, i)]).abs() < 1e-12 * updated[(i, i)], "{i}: {next:?}");
        }
    }

    /// Resampling draws each index in proportion to its weight, never one of zero weight.
    #[test]
    fn resampling_follows_the_weights() {
        let log_w = [0.5f64.ln(), f64::NEG_INFINITY, 0.25f64.ln(), 0.25f64.ln()];
        let n = 4000;
        let picks = resample(&log_w, n, |i| (i as f64 + 0.5) / n as f64);
        let count = |k| picks.iter().filter(|&&p| p == k).count();
        assert_eq!((count(0), count(1), count(2), count(3)), (2000, 0, 1000, 1000));
    }
}
