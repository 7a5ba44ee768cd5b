//! Optimisation: the maximum a posteriori point (PyMC's `find_MAP`, Stan's `optimize`) by
//! L-BFGS over the unconstrained space, and the Laplace approximation at the mode (Stan's
//! `laplace`, PyMC-extras' `fit_laplace`).
//!
//! [`Optimizer`] compiles the model without automatic non-centring (the mode is the model's as
//! written) and maximises its log density on the CPU backend with `argmin`'s L-BFGS and
//! Moré–Thuente line search (DECISIONS 119). By default the log density leaves out the
//! transforms' log-Jacobians, so the optimum is the mode of the posterior density of the
//! constrained values (`jacobian = false`, as PyMC's `find_MAP` and Stan's `optimize`); with
//! [`Optimizer::jacobian`] it is the mode over the unconstrained space, the centre of
//! [`Optimizer::laplace`]'s normal approximation.

mod advi;
mod laplace;
mod lbfgs;
mod pathfinder;

use std::collections::HashMap;
use std::fmt;

pub use advi::{Advi, AdviMethod, AdviOptions, ElboEstimate};
pub use laplace::Laplace;
pub use pathfinder::{PathReport, Pathfinder, PathfinderOptions};

use crate::backend::cpu::Executor;
use crate::compile::{Compiled, compile_for, lower::Target};
use crate::diagnostics::{logsumexp, psis};
use crate::error::{Error, Result};
use crate::mem;
use crate::model::{Model, Transform, VecBijector};
use crate::rewrite::RewriteOptions;
use crate::rng::ChainRng;
use crate::sampler::{Fit, Init, TraceLayout, TraceVar, init};

/// Longest L-BFGS history [`Optimizer::history`] takes.
const MAX_HISTORY: usize = 1000;

/// Builder for a maximum a posteriori search (PyMC's `pm.find_MAP()`, Stan's `optimize`).
///
/// ```
/// use exmc::prelude::*;
/// let mut m = Model::new();
/// let p = m.rv("p", Beta::new(2.0, 2.0))?;
/// m.observe("y", Bernoulli::new(p), &[1.0, 1.0, 0.0, 1.0])?;
/// let map = Optimizer::new(&m).run()?;
/// assert!(map.converged);
/// // The posterior is Beta(5, 3), whose mode is 4/6.
/// assert!((map.get("p").unwrap()[0] - 4.0 / 6.0).abs() < 1e-6);
/// # Ok::<(), exmc::Error>(())
/// ```
#[derive(Clone, Debug)]
pub struct Optimizer<'m> {
    model: &'m Model,
    jacobian: bool,
    init: Init,
    seed: u64,
    max_iters: u64,
    history: usize,
    tol_grad: f64,
    tol_rel_obj: f64,
}

impl<'m> Optimizer<'m> {
    /// Defaults: no Jacobian (the constrained mode), a random start uniform in (−2, 2) on the
    /// unconstrained scale with seed 0 (Stan's), at most 2,000 iterations, an L-BFGS history of
    /// 5, and Stan's tolerances: gradient norm 1e-8, relative change of the log density
    /// 10⁴·ε per iteration.
    pub fn new(model: &'m Model) -> Optimizer<'m> {
        Optimizer {
            model,
            jacobian: false,
            init: Init::Random,
            seed: 0,
            max_iters: 2000,
            history: 5,
            tol_grad: 1e-8,
            tol_rel_obj: 1e4 * f64::EPSILON,
        }
    }

    /// Whether the log density includes the transforms' log-Jacobians (Stan's `jacobian`):
    /// `false` (default) finds the mode of the constrained values' density, `true` the mode
    /// over the unconstrained space.
    pub fn jacobian(mut self, on: bool) -> Self {
        self.jacobian = on;
        self
    }

    /// Starting point ([`Init`]): constrained values for some or all free variables, the rest
    /// uniform in (−2, 2) on the unconstrained scale.
    pub fn init(mut self, init: Init) -> Self {
        self.init = init;
        self
    }

    /// Seed of the random start.
    pub fn seed(mut self, seed: u64) -> Self {
        self.seed = seed;
        self
    }

    /// Most L-BFGS iterations, over all restarts.
    pub fn max_iters(mut self, n: u64) -> Self {
        self.max_iters = n;
        self
    }

    /// L-BFGS history (pairs of steps and gradient changes kept): 1 to 1000. Pathfinder takes
    /// its own ([`PathfinderOptions::history`]).
    pub fn history(mut self, m: usize) -> Self {
        self.history = m;
        self
    }

    /// Convergence when the gradient's Euclidean norm (unconstrained scale) falls below this.
    pub fn tol_grad(mut self, tol: f64) -> Self {
        self.tol_grad = tol;
        self
    }

    /// Convergence when an iteration changes the log density by less than this times
    /// `max(1, |log p|)`.
    pub fn tol_rel_obj(mut self, tol: f64) -> Self {
        self.tol_rel_obj = tol;
        self
    }

    fn check(&self) -> Result<()> {
        if self.history == 0 || self.history > MAX_HISTORY {
            return Err(Error::invalid_option("history", "the L-BFGS history needs 1 to 1000 pairs"));
        }
        if self.max_iters == 0 {
            return Err(Error::invalid_option("max_iters", "needs at least one iteration"));
        }
        if !(self.tol_grad >= 0.0 && self.tol_grad.is_finite()) {
            return Err(Error::invalid_option("tol_grad", "must be a finite number ≥ 0"));
        }
        if !(self.tol_rel_obj >= 0.0 && self.tol_rel_obj.is_finite()) {
            return Err(Error::invalid_option("tol_rel_obj", "must be a finite number ≥ 0"));
        }
        Ok(())
    }

    /// Compiles the model (no automatic non-centring) with or without the log-Jacobians.
    fn compile(&self) -> Result<Compiled> {
        let target = if self.jacobian { Target::LogDensity } else { Target::ModeDensity };
        let compiled = compile_for(self.model, RewriteOptions { noncenter: false }, target)?;
        if compiled.pointmap.dim == 0 {
            return Err(Error::NoFreeVariables);
        }
        Ok(compiled)
    }

    /// Runs L-BFGS from the starting point to a mode.
    pub fn run(&self) -> Result<MapEstimate> {
        self.check()?;
        let compiled = self.compile()?;
        self.run_compiled(&compiled)
    }

    /// The search's memory (the two programs' workspaces, L-BFGS's history and a few vectors
    /// of the dimension) and `extra` values must fit in this machine's memory and swap: a
    /// [`Error::TooLarge`] naming `what` before anything is allocated otherwise.
    fn fits_in_memory(&self, compiled: &Compiled, extra: u128, what: &str) -> Result<()> {
        let d = compiled.pointmap.dim;
        let search = compiled
            .logp_grad
            .workspace_len()
            .saturating_add(compiled.constrain.workspace_len())
            .saturating_add(mem::product(&[self.history, 2, d]))
            .saturating_add(mem::product(&[16, d]));
        mem::check_fits(search.saturating_add(extra), || what.to_string(), "")
    }

    /// These options with the log-Jacobians and L-BFGS history `history`, and the model
    /// compiled so, once the options are checked and the search and `extra(d, outputs,
    /// workspace)` more values fit in memory (`d` coordinates, `outputs` constrained values per
    /// draw, a log density's workspace): a [`Error::TooLarge`] naming `what(d)` otherwise. The
    /// start of the Laplace approximation and of Pathfinder.
    fn with_jacobian(
        &self,
        history: usize,
        extra: impl Fn(usize, usize, u128) -> u128,
        what: impl Fn(usize) -> String,
    ) -> Result<(Optimizer<'m>, Compiled)> {
        let with_jacobian = self.clone().jacobian(true).history(history);
        with_jacobian.check()?;
        let compiled = with_jacobian.compile()?;
        let d = compiled.pointmap.dim;
        let outputs: usize = compiled.output_shapes.iter().map(|s| s.len()).sum();
        let more = extra(d, outputs, compiled.logp_grad.workspace_len());
        with_jacobian.fits_in_memory(&compiled, more, &what(d))?;
        Ok((with_jacobian, compiled))
    }

    fn run_compiled(&self, compiled: &Compiled) -> Result<MapEstimate> {
        self.fits_in_memory(compiled, 0, "the maximum a posteriori search")?;
        let exec = Executor::new(compiled.logp_grad.clone());
        let given = self.init.unconstrained(compiled, 1, "search")?;
        let start = self.start(compiled, &exec, 0, &given)?;
        let (mut search, _) = lbfgs::maximise(&exec, start, &self.settings(false))?;
        let edge = at_the_edge(compiled, &search.u);
        if !edge.is_empty() {
            search.converged = false;
            search.message = format!(
                "{} headed to the edge of the support (within e^-{EDGE} of a bound): the density has \
                 no mode inside it (the search stopped: {})",
                edge.join(", "),
                search.message
            );
        }
        let constrain = Executor::new(compiled.constrain.clone());
        let u = search.u;
        Ok(MapEstimate {
            values: TraceLayout::new(compiled).constrained(&constrain, std::slice::from_ref(&u)),
            unconstrained: compiled
                .pointmap
                .entries
                .iter()
                .map(|e| (e.name.clone(), u[e.offset..e.offset + e.len].to_vec()))
                .collect(),
            u,
            logp: search.logp,
            grad_norm: search.grad_norm,
            iterations: search.iterations,
            evaluations: search.evaluations,
            restarts: search.restarts,
            converged: search.converged,
            message: search.message,
            jacobian: self.jacobian,
        })
    }

    /// The search's settings, keeping every iteration's point where `record_path`.
    fn settings(&self, record_path: bool) -> lbfgs::Settings {
        lbfgs::Settings {
            max_iters: self.max_iters,
            history: self.history,
            tol_grad: self.tol_grad,
            tol_rel_obj: self.tol_rel_obj,
            record_path,
        }
    }

    /// A starting point of finite log density and gradient: the user's values `given` (from
    /// [`Init::unconstrained`]: one set for all, or the `stream`-th), the rest drawn uniform in
    /// (−2, 2) (stream `stream` of the seed: a Pathfinder path's number), up to
    /// [`MAX_INIT_TRIES`](crate::sampler::MAX_INIT_TRIES) times.
    fn start(
        &self,
        compiled: &Compiled,
        exec: &Executor,
        stream: usize,
        given: &[init::Given],
    ) -> Result<Vec<f64>> {
        let dim = compiled.pointmap.dim;
        let (base, set) = init::given_for(given, stream);
        let rng = ChainRng::new(self.seed, stream);
        let tries = init::tries_for(set);
        let mut ws = exec.workspace();
        let mut g = vec![0.0; dim];
        for attempt in 0..tries {
            let u = init::candidate(&rng, attempt, base, set);
            let lp = exec.run(&mut ws, &u, &mut g);
            if lp.is_finite() && g.iter().all(|v| v.is_finite()) {
                return Ok(u);
            }
        }
        Err(Error::NoStart { tries })
    }
}

/// Fewest draws whose importance ratios' tail PSIS can fit (five tail points, ArviZ's rule).
const MIN_PSIS_DRAWS: usize = 25;

/// Pareto k̂ of the finite importance ratios `log p − log q`, and the normalised log weights
/// of all of them (−∞ for a non-finite ratio): Pareto-smoothed ([`psis`]) where at least
/// [`MIN_PSIS_DRAWS`] are finite (k̂ NaN and the weights plain otherwise), and uniform over
/// the finite ones with k̂ = 0 where those are equal to rounding (the approximation is exact:
/// the weights are bounded, `k ≤ 0`).
fn smoothed_weights(ratios: &[f64]) -> (f64, Vec<f64>) {
    let finite: Vec<usize> = (0..ratios.len()).filter(|&i| ratios[i].is_finite()).collect();
    let mut kept: Vec<f64> = finite.iter().map(|&i| ratios[i]).collect();
    let (lo, hi) =
        kept.iter().fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), &r| (lo.min(r), hi.max(r)));
    let normalise = |w: &mut Vec<f64>| {
        let total = logsumexp(w);
        w.iter_mut().for_each(|x| *x -= total);
    };
    let k = if kept.is_empty() {
        f64::NAN
    } else if hi - lo <= 1e-9 * hi.abs().max(1.0) {
        kept.iter_mut().for_each(|w| *w = 0.0);
        normalise(&mut kept);
        0.0
    } else if kept.len() < MIN_PSIS_DRAWS {
        normalise(&mut kept);
        f64::NAN
    } else {
        psis(&mut kept, 1.0)
    };
    let mut weights = vec![f64::NEG_INFINITY; ratios.len()];
    for (&i, w) in finite.iter().zip(kept) {
        weights[i] = w;
    }
    (k, weights)
}

/// Most of a counted option (draws, paths, draws per estimate): each numbers a 32-bit counter
/// of the random streams.
const MAX_COUNT: usize = u32::MAX as usize;

/// Each counted option `(name, n)` needs `1 ≤ n < 2³²`: an [`Error::InvalidOption`] naming the
/// first that does not.
fn check_counts(counts: &[(&'static str, usize)]) -> Result<()> {
    for &(option, n) in counts {
        if n == 0 {
            return Err(Error::invalid_option(option, "needs at least one"));
        }
        if n > MAX_COUNT {
            return Err(Error::invalid_option(option, "needs fewer than 2^32"));
        }
    }
    Ok(())
}

/// Starting values for `chains` NUTS chains from an approximation's draws (`fit`, one chain,
/// and each draw's log density `log_p`), one draw each: draws of finite log density whose
/// values map back to the unconstrained space, evenly spaced through the draws, as the
/// constrained values of every free variable ([`Init::PerChain`]). `what` names the
/// approximation in the error where no draw will do.
fn draws_inits(fit: &Fit, log_p: &[f64], chains: usize, what: &str) -> Result<Init> {
    if chains == 0 || chains as u128 > crate::sampler::MAX_CHAINS {
        return Err(Error::invalid_option("chains", "must lie in 1..=2^32"));
    }
    let free: Vec<_> =
        fit.trace.vars.iter().filter_map(|v| Some((v, fit.pointmap.entry(&v.name)?))).collect();
    fn values(i: usize, v: &TraceVar) -> &[f64] {
        &v.values[i * v.size()..(i + 1) * v.size()]
    }
    let usable: Vec<usize> = (0..log_p.len())
        .filter(|&i| log_p[i].is_finite() && free.iter().all(|(v, e)| init::maps_back(e, values(i, v))))
        .collect();
    if usable.is_empty() {
        return Err(Error::Optimization {
            reason: format!("no {what} draw has a finite log density and values inside their supports"),
        });
    }
    // Each set: its values, and a name and a table slot per variable.
    let per_set: usize = free.iter().map(|(v, _)| v.size() + v.name.len() / 8 + 8).sum();
    mem::check_fits(
        (chains as u128).saturating_mul(per_set as u128),
        || format!("starting values for {chains} chains"),
        "",
    )?;
    let sets = (0..chains)
        .map(|c| {
            let i = usable[(c as u128 * usable.len() as u128 / chains as u128) as usize];
            free.iter().map(|(v, _)| (v.name.clone(), values(i, v).to_vec())).collect()
        })
        .collect();
    Ok(Init::PerChain(sets))
}

/// One chain of an approximation's draws (`points`, unconstrained) as a [`Fit`] of `backend`:
/// constrained, in model order, each draw's statistics holding its log density (`lp`, the
/// trace files' `lp__`) and NaN or zero for the sampler's quantities (no steps, no
/// divergence).
fn draws_fit(compiled: &Compiled, points: &[Vec<f64>], log_p: &[f64], backend: &str) -> Fit {
    let constrain = Executor::new(compiled.constrain.clone());
    Fit::from_points(compiled, &constrain, (points, log_p), 1, backend, Default::default())
}

/// How far out an unconstrained coordinate may go before its value counts as at the edge of
/// its support: within `e^{-30} ≈ 10⁻¹³` of a bound (absolute for the log-type transforms,
/// relative to the interval for the logit-type ones and the simplex), where a density rising
/// without bound (a hierarchical scale without the Jacobian) drives the search.
const EDGE: f64 = 30.0;
/// [`EDGE`] for a correlation's `tanh` coordinates: `1 − tanh 15 ≈ 2·10⁻¹³`.
const CORR_EDGE: f64 = 15.0;

/// Whether coordinate `i` of a variable's unconstrained values, `v`, is at an edge of the
/// support: below −[`EDGE`] for a value `bound ± eᵛ` (and an ordered row's gaps), beyond
/// ±[`EDGE`] for a logistic or softmax one (and a correlation's `tanh`); never for the real
/// line, angles and zero-sum rows, which have no edge.
fn at_edge(t: &Transform, i: usize, v: f64) -> bool {
    match t {
        Transform::Log | Transform::LowerBound { .. } | Transform::UpperBound { .. } => v < -EDGE,
        Transform::Vector(VecBijector::Ordered { k }) => !i.is_multiple_of(*k) && v < -EDGE,
        Transform::Logit
        | Transform::LogitInterval { .. }
        | Transform::Vector(VecBijector::Simplex { .. }) => v.abs() > EDGE,
        // tanh is 1 to rounding from 19.
        Transform::Vector(VecBijector::CorrCholesky { .. }) => v.abs() > CORR_EDGE,
        Transform::Identity | Transform::Circular | Transform::Vector(VecBijector::ZeroSum { .. }) => false,
    }
}

/// The free variables with an unconstrained coordinate at an edge of the support at `u`.
fn at_the_edge(compiled: &Compiled, u: &[f64]) -> Vec<String> {
    compiled
        .pointmap
        .entries
        .iter()
        .filter(|e| {
            u[e.offset..e.offset + e.len].iter().enumerate().any(|(i, &v)| at_edge(&e.transform, i, v))
        })
        .map(|e| format!("`{}`", e.name))
        .collect()
}

/// The result of [`Optimizer::run`]: the mode's constrained values (free variables and
/// deterministics), its unconstrained coordinates, and how the search ended.
#[derive(Clone, Debug, PartialEq)]
pub struct MapEstimate {
    /// The constrained values of every free variable and deterministic, in model order: one
    /// draw each, with its shape and element labels.
    pub values: Vec<TraceVar>,
    /// Each free variable's unconstrained coordinates (PyMC's `include_transformed`).
    pub unconstrained: Vec<(String, Vec<f64>)>,
    /// The whole unconstrained vector.
    pub u: Vec<f64>,
    /// The maximised log density at the mode (with the log-Jacobians where
    /// [`MapEstimate::jacobian`]).
    pub logp: f64,
    /// Euclidean norm of the gradient at the mode (unconstrained scale).
    pub grad_norm: f64,
    /// L-BFGS iterations over all restarts.
    pub iterations: u64,
    /// Evaluations of the log density and its gradient.
    pub evaluations: u64,
    /// Rounds of L-BFGS after the first, each from the best point with an empty history: the
    /// first round is one careful iteration, so any search of more than one iteration has at
    /// least one; others follow a line search that met an infinite log density, failed or
    /// stalled, or apply the relative tolerance at the current log density.
    pub restarts: u64,
    /// Whether a convergence criterion held (gradient norm, relative change of the log
    /// density, or a line search that cannot improve on a point whose scaled gradient
    /// `|g|²/max(1, |log p|)` is below 10⁷·ε, Stan's relative-gradient tolerance), where the
    /// density's curvature along the gradient says it peaks there, and no variable headed to
    /// the edge of its support (within `e^{-30}` of a bound on its unconstrained scale: the
    /// centred eight schools' `τ → 0` without the Jacobian, where the density has no mode).
    pub converged: bool,
    /// How the search ended, in words.
    pub message: String,
    /// Whether the log density included the log-Jacobians.
    pub jacobian: bool,
}

impl MapEstimate {
    /// The constrained values of a free variable or deterministic.
    pub fn get(&self, name: &str) -> Option<&[f64]> {
        self.values.iter().find(|v| v.name == name).map(|v| &v.values[..])
    }

    /// Every constrained value by name: PyMC's `find_MAP` dictionary without the transformed
    /// coordinates ([`MapEstimate::unconstrained`] holds those).
    pub fn to_map(&self) -> HashMap<String, Vec<f64>> {
        self.values.iter().map(|v| (v.name.clone(), v.values.clone())).collect()
    }
}

impl fmt::Display for MapEstimate {
    /// One line per element, `name[i] value`, then how the search ended.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for v in &self.values {
            for (i, x) in v.values.iter().enumerate() {
                writeln!(f, "{:<24} {x:>14.6}", v.element_name(i))?;
            }
        }
        writeln!(
            f,
            "log density {:.6} ({} Jacobian), gradient norm {:.2e}, {} iterations, {} evaluations: {}",
            self.logp,
            if self.jacobian { "with" } else { "without" },
            self.grad_norm,
            self.iterations,
            self.evaluations,
            self.message
        )
    }
}
