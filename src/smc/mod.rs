//! Sequential Monte Carlo (PyMC's `pm.sample_smc`): a population of particles drawn from the
//! prior is carried to the posterior through tempered posteriors `p(θ) p(y | θ)^β`, `β` rising
//! from 0 to 1, and the same steps estimate the model's log marginal likelihood (its log
//! evidence), for Bayes factors.
//!
//! Each chain is PyMC's algorithm (Minson et al. 2013; Ching & Chen 2007), stage by stage:
//!
//! 1. The next `β` is found by bisection so that the importance weights
//!    `exp((β' − β) log p(y | θ))` keep an effective sample size of `threshold · N`
//!    (0.5 by default); the log of their mean joins the log evidence.
//! 2. The particles are resampled by those weights (systematic resampling).
//! 3. A normal is fitted to the particles (their mean and covariance plus `1e-6` on the
//!    diagonal), and each particle is moved by Metropolis–Hastings at the new `β`: proposals
//!    drawn independently from that normal ([`SmcKernel::Imh`], PyMC's default `IMH`), or
//!    random-walk steps from its covariance scaled per particle towards a 0.234 acceptance
//!    rate ([`SmcKernel::Mh`]). Moves repeat until, in 90% of the dimensions or fewer, the
//!    particles' correlation with where the stage started falls by more than
//!    `correlation_threshold` (0.01) in a move. A third kernel, [`SmcKernel::Hmc`], not
//!    PyMC's, moves each particle along Hamiltonian trajectories, until the correlation falls
//!    by no more than that in any dimension. With every kernel, moves also go on while the
//!    particles' mean log-likelihood still rises (by more than its standard error since the
//!    move halfway through the stage's): particles that lag behind the tempered posterior
//!    bias every later increment of the log evidence low. A stage whose moves reach their
//!    limit (400; 100 Hamiltonian trajectories) while it still rises (by over three standard
//!    errors) is marked
//!    [`SmcStage::lagging`], and [`Smc::warnings`] names it.
//!
//! The particles live on the unconstrained space of the model as NUTS samples it (with
//! automatic non-centring unless [`SmcOptions::noncenter`] is off), where the prior carries
//! its transforms' log-Jacobians; the likelihood that is tempered is every observed node's
//! density and every potential (PyMC's `datalogp`). One compiled program
//! ([`Target::Tempered`]) evaluated at `β = 0` gives both: its value is the prior, its
//! gradient's entry for `β` the likelihood. Every particle's evaluation of a move goes to the
//! backend at once (the CPU executor over threads, or one GPU dispatch per 4,096 particles).
//! Random numbers come from counters (particle, move, purpose), so a seed fixes every bit
//! whatever the threads.

mod hmc;
mod kernel;
mod tempering;

use std::collections::HashMap;

use rayon::prelude::*;

use crate::backend::cpu::Executor;
use crate::compile::{Compiled, compile_for, lower::Target};
use crate::diagnostics::logsumexp;
use crate::error::{Error, Result};
use crate::model::{Model, NodeKind};
use crate::rewrite::RewriteOptions;
use crate::rng::{ChainRng, Purpose};
use crate::sampler::init::user_values_with;
use crate::sampler::predictive::prior_draws;
use crate::sampler::{BackendChoice, Fit, ProgressBars};
use hmc::Hmc;
use kernel::{Evaluator, Moves, Population, Streams};

/// A chain's moves: one of PyMC's kernels, or Hamiltonian trajectories.
enum Mover {
    Pymc(Moves),
    Hmc(Hmc),
}
use tempering::{next_beta, systematic_resampling};

/// How sequential Monte Carlo moves its particles at each stage.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum SmcKernel {
    /// Independent Metropolis–Hastings: proposals from a normal fitted to the particles
    /// (PyMC's default, `pm.smc.IMH`).
    #[default]
    Imh,
    /// Random-walk Metropolis–Hastings: steps from the particles' covariance, each particle's
    /// scale tuned towards a 0.234 acceptance rate (PyMC's `pm.smc.MH`).
    Mh,
    /// Hamiltonian Monte Carlo: trajectories of [`HMC_STEPS`] leapfrog steps on the tempered
    /// posterior with the particles' covariance as inverse mass matrix, the step size tuned
    /// towards a 0.65 acceptance rate (as BlackJAX's tempered SMC with an HMC kernel). It
    /// follows posteriors that move far from where the particles are as the temperature
    /// falls (a regression whose noise scale the prior leaves vague), where proposals fitted
    /// to the particles never reach; each move costs [`HMC_STEPS`] evaluations per particle.
    Hmc,
}

/// Leapfrog steps per trajectory of [`SmcKernel::Hmc`].
pub const HMC_STEPS: usize = 10;

impl SmcKernel {
    /// `"imh"`, `"mh"` or `"hmc"`.
    pub fn name(self) -> &'static str {
        match self {
            SmcKernel::Imh => "imh",
            SmcKernel::Mh => "mh",
            SmcKernel::Hmc => "hmc",
        }
    }
}

/// Options of [`sample_smc`], PyMC's `sample_smc` arguments and defaults.
#[derive(Clone, Debug, PartialEq)]
pub struct SmcOptions {
    /// Particles per chain, which are the chain's draws (PyMC's `draws`, 2,000).
    pub draws: usize,
    /// Independent runs, each with its own particles and estimate of the log evidence (4;
    /// PyMC takes the number of cores, at least 2).
    pub chains: usize,
    /// The moves (PyMC's `kernel`, [`SmcKernel::Imh`]).
    pub kernel: SmcKernel,
    /// The share of the particles the importance weights' effective sample size keeps at each
    /// stage, in (0, 1): higher means more stages (PyMC's `threshold`, 0.5).
    pub threshold: f64,
    /// The fall in correlation a move must make in more than 90% of the dimensions for moves to
    /// go on (for [`SmcKernel::Hmc`], in any dimension; moves also go on while the particles'
    /// mean log-likelihood rises), in (0, 1): lower means more moves
    /// (PyMC's `correlation_threshold`, 0.01).
    pub correlation_threshold: f64,
    /// Seed of the prior draws and of every move (0).
    pub seed: u64,
    /// Automatic non-centring of the space the particles move in (on, as for NUTS).
    pub noncenter: bool,
    /// Most stages per chain before it is abandoned with an error (1,000; PyMC has no limit).
    pub max_stages: usize,
    /// Where the particles are evaluated: `Auto` as for sampling, except that a GPU without
    /// 64-bit floats leaves the work to the CPU (the log evidence sums likelihoods that f32
    /// would round by more than its error); `Gpu` takes such an adapter in f32.
    pub backend: BackendChoice,
    /// A bar per chain on stderr when it is a terminal (on): the inverse temperature reached
    /// (per mille), the stage, its moves and their acceptance, as PyMC's `progressbar`.
    pub progress: bool,
}

impl Default for SmcOptions {
    fn default() -> Self {
        SmcOptions {
            draws: 2000,
            chains: 4,
            kernel: SmcKernel::Imh,
            threshold: 0.5,
            correlation_threshold: 0.01,
            seed: 0,
            noncenter: true,
            max_stages: 1000,
            backend: BackendChoice::Auto,
            progress: true,
        }
    }
}

impl SmcOptions {
    /// The options' ranges: an [`Error::InvalidOption`] naming the field.
    pub fn check(&self) -> Result<()> {
        let bad = |option: &'static str, reason: String| Err(Error::InvalidOption { option, reason });
        if self.draws < 2 || self.draws > u32::MAX as usize {
            return bad("draws", format!("{} particles: give from 2 to 2³² − 1", self.draws));
        }
        if self.chains == 0 || self.chains > u32::MAX as usize {
            return bad("chains", format!("{} chains: give from 1 to 2³² − 1", self.chains));
        }
        for (option, v) in
            [("threshold", self.threshold), ("correlation_threshold", self.correlation_threshold)]
        {
            if !(v > 0.0 && v < 1.0) {
                return bad(option, format!("{v} is not between 0 and 1 (exclusive)"));
            }
        }
        if ((self.draws as f64 * self.threshold) as usize) < 1 {
            return bad(
                "threshold",
                format!(
                    "{} of {} particles is below one particle: the first stage would jump to β = 1",
                    self.threshold, self.draws
                ),
            );
        }
        if self.max_stages == 0 {
            return bad("max_stages", "0 stages: give at least 1".into());
        }
        Ok(())
    }
}

/// One stage of a chain.
#[derive(Clone, Debug, PartialEq)]
pub struct SmcStage {
    /// The inverse temperature reached.
    pub beta: f64,
    /// The log marginal likelihood of the tempered posterior so far: the model's at the last
    /// stage (`β = 1`).
    pub log_marginal_likelihood: f64,
    /// Moves made (Metropolis–Hastings proposals, or Hamiltonian trajectories).
    pub steps: usize,
    /// The share of moves accepted.
    pub accept_rate: f64,
    /// [`SmcKernel::Mh`]'s mean proposal scale, or [`SmcKernel::Hmc`]'s leapfrog step (in the
    /// whitened coordinates) at this stage; NaN for [`SmcKernel::Imh`].
    pub proposal_scale: f64,
    /// Whether the moves reached their limit while the particles' mean log-likelihood was
    /// still rising: the particles lag behind this stage's tempered posterior, and the log
    /// evidence from here on is likely biased low (raise `threshold` for smaller stages, or
    /// try another kernel).
    pub lagging: bool,
}

/// The result of [`sample_smc`].
#[derive(Clone, Debug)]
pub struct Smc {
    /// The final particles as draws (chains × particles), constrained, with deterministics;
    /// each draw's `lp` is the model's log density there (as NUTS's). Backend `"smc"`, or
    /// `"smc (gpu)"` where the particles were evaluated on a GPU.
    pub fit: Fit,
    /// Each chain's estimate of the log marginal likelihood `log p(y)`.
    pub log_marginal_likelihood: Vec<f64>,
    /// Each chain's stages.
    pub stages: Vec<Vec<SmcStage>>,
    /// The kernel used.
    pub kernel: SmcKernel,
    /// Points at which the model was evaluated, over all chains.
    pub evaluations: u64,
}

impl Smc {
    /// The log evidence pooled over chains: the log of the mean of the chains' estimates of
    /// `p(y)` (each consistent as the particles grow; unbiased only where the schedule and the
    /// moves' tuning did not come from the same particles).
    pub fn log_evidence(&self) -> f64 {
        logsumexp(&self.log_marginal_likelihood) - (self.log_marginal_likelihood.len() as f64).ln()
    }

    /// The standard deviation of the chains' log evidence estimates (NaN with one chain): how
    /// far one chain's estimate may be off.
    pub fn log_evidence_sd(&self) -> f64 {
        let v = &self.log_marginal_likelihood;
        let n = v.len() as f64;
        let mean = v.iter().sum::<f64>() / n;
        (v.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (n - 1.0)).sqrt()
    }

    /// What makes the log evidence doubtful: one line per chain with [`SmcStage::lagging`]
    /// stages, naming them. Empty where every stage's moves settled.
    pub fn warnings(&self) -> Vec<String> {
        self.stages
            .iter()
            .enumerate()
            .filter_map(|(c, stages)| {
                let lagging: Vec<String> = stages
                    .iter()
                    .enumerate()
                    .filter(|(_, s)| s.lagging)
                    .map(|(k, s)| format!("{} (β {:.4})", k + 1, s.beta))
                    .collect();
                (!lagging.is_empty()).then(|| {
                    format!(
                        "chain {c}: at stage{} {} the moves stopped at their limit while the particles' mean log-likelihood still rose: they lag behind the tempered posterior, and the log evidence is likely biased low (raise the threshold for smaller stages, or try another kernel)",
                        if lagging.len() > 1 { "s" } else { "" },
                        lagging.join(", ")
                    )
                })
            })
            .collect()
    }
}

/// Sequential Monte Carlo (PyMC's `pm.sample_smc`): `options.chains` independent populations
/// of `options.draws` particles, drawn from the prior and carried to the posterior as the
/// module notes describe, giving posterior draws and each chain's estimate of the log marginal
/// likelihood.
///
/// ```
/// use exmc::prelude::*;
/// # fn main() -> exmc::Result<()> {
/// let mut m = Model::new();
/// let mu = m.rv("mu", Normal::new(0.0, 1.0))?;
/// m.observe("y", Normal::new(mu, 1.0), &[0.8, 1.4, 1.1])?;
/// let smc = sample_smc(&m, &SmcOptions { draws: 1000, chains: 2, seed: 1, ..SmcOptions::default() })?;
/// assert_eq!(smc.fit.trace.draws("mu").unwrap().shape(), vec![2, 1000]);
/// // y ~ N(0, I + 11ᵀ): log p(y) = −3.9937…
/// assert!((smc.log_evidence() + 3.9937).abs() < 0.05);
/// # Ok(())
/// # }
/// ```
///
/// Errors: an [`Error::InvalidOption`] naming the option out of range; the prior draws'
/// errors (a flat prior has none: SMC starts from the prior); [`Error::NoFreeVariables`];
/// an [`Error::Smc`] naming the chain and stage where no particle has a finite likelihood, the
/// particles' covariance has no Cholesky factor, or `max_stages` pass before `β` reaches 1.
pub fn sample_smc(model: &Model, options: &SmcOptions) -> Result<Smc> {
    options.check()?;
    let started = std::time::Instant::now();
    let compiled = compile_for(model, RewriteOptions { noncenter: options.noncenter }, Target::Tempered)?;
    let compile_s = started.elapsed().as_secs_f64();
    let started = std::time::Instant::now();
    let d = compiled.pointmap.dim;
    if d == 0 {
        return Err(Error::NoFreeVariables);
    }
    // Whether the particles, their proposals and gradients (a few copies of N × d) and the
    // fitted normal's covariance, factor and centred columns can be addressed at all.
    crate::mem::check_len(crate::mem::product(&[4, options.draws, d + 2]), || {
        format!("{} chains of {} particles over {d} coordinates", options.chains, options.draws)
    })?;
    crate::mem::check_len(crate::mem::product(&[4, d, d.max(options.draws)]), || {
        format!("the particles' covariance over {d} coordinates")
    })?;
    let mut eval = Evaluator::new(&compiled.logp_grad, d, options.backend)?;
    let constrain = Executor::new(compiled.constrain.clone());
    let mut points: Vec<Vec<f64>> = Vec::new();
    let mut lp = Vec::new();
    let (mut log_ml, mut stages) = (Vec::new(), Vec::new());
    let bars = ProgressBars::new(options.chains, 1000, options.progress);
    for chain in 0..options.chains {
        let (pop, chain_stages, chain_ml) =
            run_chain(model, &compiled, &constrain, &mut eval, options, (chain, &bars))?;
        for i in 0..pop.len() {
            points.push(pop.x[i * d..(i + 1) * d].to_vec());
            lp.push(pop.tempered(i, 1.0));
        }
        stages.push(chain_stages);
        log_ml.push(chain_ml);
    }
    bars.finish();
    let backend = if eval.on_gpu() { "smc (gpu)" } else { "smc" };
    let timing = crate::sampler::Timing { compile_s, sampling_s: started.elapsed().as_secs_f64() };
    let fit = Fit::from_points(&compiled, &constrain, (&points, &lp), options.chains, backend, timing);
    Ok(Smc {
        fit,
        log_marginal_likelihood: log_ml,
        stages,
        kernel: options.kernel,
        evaluations: eval.evaluations,
    })
}

/// One chain from its prior draws to `β = 1`: the final particles, the stages and the log
/// evidence.
fn run_chain(
    model: &Model,
    compiled: &Compiled,
    constrain: &Executor,
    eval: &mut Evaluator,
    options: &SmcOptions,
    (chain, bars): (usize, &ProgressBars),
) -> Result<(Population, Vec<SmcStage>, f64)> {
    let d = compiled.pointmap.dim;
    let n = options.draws;
    let rng = ChainRng::new(options.seed, chain);
    let fail = |reason: String| Error::Smc { chain, reason };
    let x = prior_particles(model, compiled, constrain, n, &rng, chain)?;
    let (prior, lik) = eval.eval(&x)?;
    let mut pop = Population { d, x, prior, lik };
    let mut moves = match options.kernel {
        SmcKernel::Imh => Mover::Pymc(Moves::Imh),
        SmcKernel::Mh => Mover::Pymc(Moves::Mh {
            scales: vec![(2.38f64.powi(2) / d as f64).min(1.0); n],
            accept: vec![0.0; n],
        }),
        SmcKernel::Hmc => Mover::Hmc(Hmc::new(d, HMC_STEPS)),
    };
    let mut streams = Streams { rng, moves: 0 };
    let (mut beta, mut log_ml) = (0.0, 0.0);
    let mut stages = Vec::new();
    while beta < 1.0 {
        let stage = stages.len() + 1;
        if stage > options.max_stages {
            return Err(fail(format!(
                "β is {beta:.6} after {} stages (the limit, max_stages or --max-stages): the particles may have collapsed onto a few points",
                options.max_stages
            )));
        }
        if pop.lik.contains(&f64::INFINITY) {
            return Err(fail(format!(
                "stage {stage}: a particle's log-likelihood is +∞ (a density without bound at the data, or a potential of +∞)"
            )));
        }
        let (next, weights, increment) = next_beta(&pop.lik, beta, options.threshold);
        if !increment.is_finite() || weights.iter().any(|w| !w.is_finite()) {
            return Err(fail(format!("stage {stage}: no particle has a finite log-likelihood")));
        }
        if next <= beta {
            return Err(fail(format!(
                "stage {stage}: β cannot advance from {beta} (the log-likelihoods spread beyond f64's resolution)"
            )));
        }
        beta = next;
        log_ml += increment;
        let idx = systematic_resampling(&weights, streams.rng.uniform(stage as u64, 0, Purpose::SmcResample));
        pop.resample(&idx);
        let moved = match &mut moves {
            Mover::Pymc(m) => {
                m.resample(&idx);
                m.mutate(&mut pop, eval, &mut streams, beta, stage, options.correlation_threshold)?
            }
            Mover::Hmc(h) => h.mutate(&mut pop, eval, &mut streams, beta, options.correlation_threshold)?,
        }
        .map_err(|why| fail(format!("stage {stage} (β = {beta:.6}): {why}")))?;
        stages.push(SmcStage {
            beta,
            log_marginal_likelihood: log_ml,
            steps: moved.steps,
            accept_rate: moved.accept_rate,
            proposal_scale: moved.proposal_scale,
            lagging: moved.lagging,
        });
        bars.set(
            chain,
            (beta * 1000.0) as u64,
            format!(
                "stage {stage} beta {beta:.4} moves {} acceptance {:.2}{}",
                moved.steps,
                moved.accept_rate,
                if moved.lagging { " lagging" } else { "" }
            ),
        );
    }
    if pop.lik.contains(&f64::INFINITY) {
        return Err(fail("a final particle's log-likelihood is +∞".into()));
    }
    Ok((pop, stages, log_ml))
}

/// Batches of prior draws tried before giving up on draws that cannot start a particle.
const PRIOR_ATTEMPTS: u64 = 20;
/// The share of a chain's prior draws that may be replaced: each replaced draw truncates the
/// prior the population starts from, which biases the log evidence by about the share.
const MAX_REPLACED: f64 = 1e-3;

/// `n` draws of the free variables from the prior, mapped to the sampling space (point-major):
/// the prior draws of the model as written (observed nodes at their data), each solved for its
/// standardised draws where automatic non-centring rewrote a node. A draw that rounded onto
/// its support's edge (a Dirichlet's component underflowing to 0 at concentrations near 0.01)
/// has no unconstrained coordinates; it is replaced by a later draw, which truncates the prior
/// by the share replaced: more than [`MAX_REPLACED`] of the draws is an error.
fn prior_particles(
    model: &Model,
    compiled: &Compiled,
    constrain: &Executor,
    n: usize,
    rng: &ChainRng,
    chain: usize,
) -> Result<Vec<f64>> {
    let d = compiled.pointmap.dim;
    let free: Vec<&str> = model
        .nodes()
        .iter()
        .filter(|n| matches!(n.kind, NodeKind::Free { .. }))
        .map(|n| n.name.as_str())
        .collect();
    let mut x = Vec::with_capacity(n * d);
    let (mut last_failure, mut replaced) = (String::new(), 0usize);
    for attempt in 0..PRIOR_ATTEMPTS {
        let want = n - x.len() / d;
        if want == 0 {
            break;
        }
        let seed = {
            let w = rng.words(attempt, 1, Purpose::SmcResample);
            u64::from(w[0]) | u64::from(w[1]) << 32
        };
        let prior = prior_draws(model, want, seed, false)?;
        let vars: Vec<&crate::sampler::TraceVar> = free
            .iter()
            .map(|name| {
                prior
                    .var(name)
                    .ok_or_else(|| Error::Smc { chain, reason: format!("no prior draws of `{name}`") })
            })
            .collect::<Result<_>>()?;
        let rows: Vec<Result<Vec<f64>>> = (0..want)
            .into_par_iter()
            .map(|p| {
                let values: HashMap<String, Vec<f64>> = vars
                    .iter()
                    .map(|v| {
                        let k = v.values.len() / want;
                        (v.name.clone(), v.values[p * k..(p + 1) * k].to_vec())
                    })
                    .collect();
                let (u, set) = user_values_with(compiled, constrain, &values)?;
                if u.len() != d || !set.iter().all(|&s| s) {
                    return Err(Error::Smc { chain, reason: "a prior draw leaves coordinates unset".into() });
                }
                Ok(u)
            })
            .collect();
        for row in rows {
            match row {
                Ok(u) => x.extend(u),
                Err(Error::InvalidOption { reason, .. }) => {
                    last_failure = reason;
                    replaced += 1;
                }
                Err(e) => return Err(e),
            }
        }
    }
    if replaced as f64 > MAX_REPLACED * n as f64 || x.len() < n * d {
        return Err(Error::Smc {
            chain,
            reason: format!(
                "{replaced} prior draws rounded onto their support's edge and cannot start a particle (the last: \
                 {last_failure}); replacing more than {:.1}% of {n} would start from a truncated prior",
                100.0 * MAX_REPLACED
            ),
        });
    }
    Ok(x)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::dist::families::{HalfNormal, Normal};

    /// The tempered program's value at `β = 0` is the prior with its log-Jacobian, its `β`
    /// gradient entry the likelihood with the potential, in closed form; at `β = 1` it is the
    /// log density NUTS samples, gradient and all.
    #[test]
    fn the_tempered_program_splits_prior_and_likelihood() {
        let mut m = Model::new();
        let mu = m.rv("mu", Normal::new(0.0, 1.0)).unwrap();
        let sigma = m.rv("sigma", HalfNormal::new(1.0)).unwrap();
        m.potential("pull", mu * mu * -1.0).unwrap();
        m.observe("y", Normal::new(mu, sigma), &[0.5, -0.2]).unwrap();
        let tempered = compile_for(&m, RewriteOptions::default(), Target::Tempered).unwrap();
        let density = crate::compile::compile(&m, RewriteOptions::default()).unwrap();
        assert_eq!(tempered.pointmap.dim, 2);
        assert_eq!(tempered.logp_grad.dim, 3);
        let (t, n) = (Executor::new(tempered.logp_grad.clone()), Executor::new(density.logp_grad.clone()));
        let ln_norm = |x: f64, m: f64, s: f64| {
            -0.5 * ((x - m) / s).powi(2) - s.ln() - 0.5 * (2.0 * std::f64::consts::PI).ln()
        };
        for (mu, u_sigma) in [(0.3, -0.4), (-1.2, 0.9), (2.0, 0.0)] {
            let s: f64 = f64::exp(u_sigma);
            let prior = ln_norm(mu, 0.0, 1.0) + ln_norm(s, 0.0, 1.0) + 2f64.ln() + u_sigma;
            let lik = ln_norm(0.5, mu, s) + ln_norm(-0.2, mu, s) - mu * mu;
            let mut g = vec![0.0; 3];
            let v0 = t.run(&mut t.workspace(), &[mu, u_sigma, 0.0], &mut g);
            assert!((v0 - prior).abs() < 1e-12 && (g[2] - lik).abs() < 1e-12, "{v0} {prior} {} {lik}", g[2]);
            let mut g1 = vec![0.0; 3];
            let v1 = t.run(&mut t.workspace(), &[mu, u_sigma, 1.0], &mut g1);
            let mut gn = vec![0.0; 2];
            let vn = n.run(&mut n.workspace(), &[mu, u_sigma], &mut gn);
            assert!((v1 - vn).abs() < 1e-12 * vn.abs().max(1.0), "{v1} vs {vn}");
            assert!(g1[..2].iter().zip(&gn).all(|(a, b)| (a - b).abs() < 1e-12 * b.abs().max(1.0)));
            let v = t.run(&mut t.workspace(), &[mu, u_sigma, 0.3], &mut g1);
            assert!((v - (prior + 0.3 * lik)).abs() < 1e-12 * v.abs().max(1.0));
        }
    }
}
