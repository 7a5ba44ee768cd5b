//! L-BFGS over the unconstrained space through `argmin`, in rounds: each round runs `argmin`'s
//! L-BFGS with Moré–Thuente line search from the best point so far with an empty history,
//! until the gradient or the relative change of the log density meets its tolerance.
//!
//! A new round starts where `argmin`'s stopping rule is not the one wanted or where it gives
//! up too early: its tolerance on the change of the log density is absolute, so a round whose
//! log density moved far from where its tolerance was set runs again with the tolerance at
//! the new value; and its line search stops at the first infinite log density (a step that
//! overflowed an `exp`), so a round that ended there restarts from its best point, with a
//! shorter first trial step while no progress is made. Each round divides the objective by
//! its start's gradient norm (where above 1), so that L-BFGS's first trial step, along the
//! raw gradient, moves the point by at most 1.

use std::cell::RefCell;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use argmin::core::{CostFunction, Executor as Solve, Gradient, State, TerminationReason};
use argmin::solver::linesearch::MoreThuenteLineSearch;
use argmin::solver::quasinewton::LBFGS;

use crate::backend::cpu::Executor;
use crate::error::{Error, Result};

/// Most rounds of L-BFGS.
const MAX_ROUNDS: u64 = 100;
/// Shortest first trial step of a careful round, as a multiple of a unit move of `u`.
const MIN_FIRST_STEP: f64 = 1e-6;
/// Longest move of `u` (Euclidean) in a careful round's one iteration.
const CAREFUL_MOVE: f64 = 10.0;
/// Most evaluations of one L-BFGS iteration (its line search).
const MAX_LINE_EVALS: u64 = 60;
/// Stan's relative-gradient tolerance (`tol_rel_grad = 10⁷` times ε), applied to
/// `|g|² / max(1, |log p|)` where no line search can improve on a point.
const TOL_REL_GRAD: f64 = 1e7 * f64::EPSILON;

/// The rise of the log density, relative to `max(1, |log p|)`, that the curvature along the
/// gradient may still predict at a mode: `√(10⁴ε)`, what Stan's default relative tolerance
/// on the change of the log density leaves in the parameters.
const PEAK_RISE: f64 = 1.5e-6;

/// What [`maximise`] runs to.
pub(crate) struct Settings {
    pub max_iters: u64,
    pub history: usize,
    pub tol_grad: f64,
    pub tol_rel_obj: f64,
    /// Whether to keep every iteration's point ([`maximise`]'s path).
    pub record_path: bool,
}

/// A point, its log density and its gradient.
type Evaluated = (Vec<f64>, f64, Vec<f64>);

/// The log density and its gradient at the last point asked for: `argmin` asks for the cost
/// and the gradient apart, and the executor computes both at once.
struct Objective<'e> {
    exec: &'e Executor,
    ws: RefCell<Vec<f64>>,
    last: RefCell<Option<Evaluated>>,
    /// Evaluations so far, and their number when the last iteration ended (an observer sets
    /// it), shared with [`IterationEnd`].
    evaluations: Arc<AtomicU64>,
    mark: Arc<AtomicU64>,
}

impl Objective<'_> {
    /// [`Objective::eval`] within an iteration's budget: an error (which ends the line search,
    /// and the round) once one iteration has taken [`MAX_LINE_EVALS`] evaluations. `argmin`'s
    /// Moré–Thuente search has no limit of its own and can cycle where the log density is
    /// extreme.
    fn eval_counted(&self, u: &[f64]) -> std::result::Result<(f64, Vec<f64>), argmin::core::Error> {
        let since = self.evaluations.load(Ordering::Relaxed) - self.mark.load(Ordering::Relaxed);
        let cached = self.last.borrow().as_ref().is_some_and(|(at, _, _)| same(at, u));
        if !cached && since >= MAX_LINE_EVALS {
            return Err(argmin::core::Error::msg(format!(
                "the line search took {MAX_LINE_EVALS} evaluations without an acceptable step"
            )));
        }
        Ok(self.eval(u))
    }

    /// A new round starts: its evaluations count from here.
    fn start_round(&self) {
        self.mark.store(self.evaluations.load(Ordering::Relaxed), Ordering::Relaxed);
    }

    /// `(log p, gradient)` at `u`; log p is −∞ where it or the gradient is not finite.
    fn eval(&self, u: &[f64]) -> (f64, Vec<f64>) {
        if let Some((at, lp, g)) = self.last.borrow().as_ref()
            && same(at, u)
        {
            return (*lp, g.clone());
        }
        let mut g = vec![0.0; u.len()];
        let mut lp = self.exec.run(&mut self.ws.borrow_mut(), u, &mut g);
        self.evaluations.fetch_add(1, Ordering::Relaxed);
        if !(lp.is_finite() && g.iter().all(|v| v.is_finite())) {
            lp = f64::NEG_INFINITY;
        }
        *self.last.borrow_mut() = Some((u.to_vec(), lp, g.clone()));
        (lp, g)
    }
}

/// Whether two points are the same, bit for bit (a NaN coordinate equals itself).
fn same(a: &[f64], b: &[f64]) -> bool {
    a.len() == b.len() && a.iter().zip(b).all(|(x, y)| x.to_bits() == y.to_bits())
}

/// `argmin` minimises: the negated log density (+∞ outside its domain) and gradient, divided
/// by a round's scale (see [`maximise`]).
struct Negated<'a, 'e>(&'a Objective<'e>, f64);

impl CostFunction for Negated<'_, '_> {
    type Param = Vec<f64>;
    type Output = f64;

    fn cost(&self, u: &Vec<f64>) -> std::result::Result<f64, argmin::core::Error> {
        Ok(-self.0.eval_counted(u)?.0 / self.1)
    }
}

impl Gradient for Negated<'_, '_> {
    type Param = Vec<f64>;
    type Gradient = Vec<f64>;

    fn gradient(&self, u: &Vec<f64>) -> std::result::Result<Vec<f64>, argmin::core::Error> {
        Ok(self.0.eval_counted(u)?.1.iter().map(|g| -g / self.1).collect())
    }
}

/// Marks the end of each L-BFGS iteration for [`Objective::eval_counted`]'s budget, and keeps
/// the iteration's point where the path is recorded.
struct IterationEnd {
    evaluations: Arc<AtomicU64>,
    mark: Arc<AtomicU64>,
    path: Option<Arc<Mutex<Vec<Vec<f64>>>>>,
}

impl<I: argmin::core::State<Param = Vec<f64>>> argmin::core::observers::Observe<I> for IterationEnd {
    fn observe_iter(
        &mut self,
        state: &I,
        _kv: &argmin::core::KV,
    ) -> std::result::Result<(), argmin::core::Error> {
        self.mark.store(self.evaluations.load(Ordering::Relaxed), Ordering::Relaxed);
        if let (Some(path), Some(u)) = (&self.path, state.get_param()) {
            path.lock().map_err(|_| argmin::core::Error::msg("path lock poisoned"))?.push(u.clone());
        }
        Ok(())
    }
}

/// Euclidean norm, scaled by the largest entry so that it does not overflow for entries
/// beyond 10¹⁵⁴, and at most `f64::MAX` for finite entries (a round's scale stays finite).
fn norm(g: &[f64]) -> f64 {
    let m = g.iter().fold(0.0f64, |m, v| m.max(v.abs()));
    if m == 0.0 || !m.is_finite() {
        return m;
    }
    (m * g.iter().map(|v| (v / m) * (v / m)).sum::<f64>().sqrt()).min(f64::MAX)
}

/// After a round that stopped short of a mode (a line search that failed or stalled): another
/// round, from the best point, starting carefully, with a first trial step 100 times longer
/// (up to 1) if this one made progress and 100 times shorter if not; the end, with `why`, once
/// a round at the shortest first step makes none.
fn retry(
    improved: bool,
    (first_step, careful): (&mut f64, &mut bool),
    why: String,
) -> Option<std::result::Result<String, String>> {
    *careful = true;
    if improved {
        *first_step = (*first_step * 100.0).min(1.0);
    } else if *first_step > 1.5 * MIN_FIRST_STEP {
        *first_step *= 0.01;
    } else {
        return Some(Err(why));
    }
    None
}

/// Whether `u`, where L-BFGS stopped on a small change of the log density `lp` (gradient
/// `g`), is a peak: the density's curvature along the gradient, `κ` by a difference of
/// gradients, must be negative and the rise it predicts there, `|g|²/(2|κ|)`, within
/// [`PEAK_RISE`] times `max(1, |lp|)`. Along an unbounded or flat direction (a hierarchical scale
/// heading to 0 without the Jacobian) the change per iteration can fall below its tolerance
/// while the density keeps rising: that is no mode.
fn peak(objective: &Objective<'_>, u: &[f64], (lp, g): (f64, &[f64])) -> Result<(), String> {
    let gn = norm(g);
    if gn == 0.0 {
        return Ok(());
    }
    let h = 1e-5 * u.iter().fold(1.0f64, |m, v| m.max(v.abs()));
    let ahead: Vec<f64> = u.iter().zip(g).map(|(x, d)| x + h * d / gn).collect();
    let (lp_ahead, g_ahead) = objective.eval(&ahead);
    let kappa = g_ahead.iter().zip(g).map(|(a, b)| (a - b) * b / gn).sum::<f64>() / h;
    let rise = gn * gn / (2.0 * -kappa);
    if lp_ahead.is_finite() && kappa < 0.0 && rise <= PEAK_RISE * lp.abs().max(1.0) {
        Ok(())
    } else {
        Err(format!(
            "the log density still rises along its gradient (norm {gn:.2e}, curvature {kappa:.2e}): \
             no mode where the search stopped (an unbounded or flat direction)"
        ))
    }
}

fn failed(e: impl std::fmt::Display) -> Error {
    Error::Optimization { reason: format!("L-BFGS: {e}") }
}

/// Where a search ended, on the unconstrained scale (the fields of
/// [`MapEstimate`](super::MapEstimate) of the same names).
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Search {
    pub u: Vec<f64>,
    pub logp: f64,
    pub grad_norm: f64,
    pub iterations: u64,
    pub evaluations: u64,
    pub restarts: u64,
    pub converged: bool,
    pub message: String,
}

/// Maximises the log density of `exec` from `start` (a point of finite log density and
/// gradient): where the search ended and, where [`Settings::record_path`], the start and every
/// iteration's point in order.
pub(crate) fn maximise(exec: &Executor, start: Vec<f64>, s: &Settings) -> Result<(Search, Vec<Vec<f64>>)> {
    let path = s.record_path.then(|| Arc::new(Mutex::new(vec![start.clone()])));
    let objective = Objective {
        exec,
        ws: RefCell::new(exec.workspace()),
        last: RefCell::new(None),
        evaluations: Arc::new(AtomicU64::new(0)),
        mark: Arc::new(AtomicU64::new(0)),
    };
    let mut u = start;
    let (mut lp, mut g) = objective.eval(&u);
    let (mut iterations, mut rounds) = (0u64, 0u64);
    let mut first_step = 1.0;
    // Whether the round starts carefully: one iteration whose first trial step moves `u` by
    // at most `first_step` (a line search cannot step back from an infinite log density, which
    // a move of 1 can reach where the density is steep); at the start, and after a round that
    // ended short of a mode.
    let mut careful = true;
    let (converged, message) = match loop {
        if norm(&g) < s.tol_grad || norm(&g) == 0.0 {
            break Ok("the gradient norm is below `tol_grad`".to_string());
        }
        if iterations >= s.max_iters {
            break Err(format!("reached the iteration limit ({})", s.max_iters));
        }
        if rounds == MAX_ROUNDS {
            break Err(format!("no convergence after {MAX_ROUNDS} restarts of L-BFGS"));
        }
        rounds += 1;
        let tol_cost = s.tol_rel_obj * lp.abs().max(1.0);
        // Finite bounds on the step (the default upper bound, ∞, turns every extrapolation
        // into an error, the lower one would override a tiny first step); a careful round's
        // move is at most `CAREFUL_MOVE`, since the line search cannot step back from an
        // infinite log density.
        // The round minimises the negated log density divided by the gradient's norm (where
        // above 1): L-BFGS's first direction is the gradient itself, so its first trial step
        // moves `u` by at most 1 (and `unit` is at least 1) whatever the density's scale (an
        // unscaled regression's `|g|` of 10⁶ would put it far beyond an `exp`'s range).
        // L-BFGS's later directions do not depend on the scale; the tolerances are divided by
        // it.
        let scale = norm(&g).max(1.0);
        let unit = (norm(&g) / scale).recip();
        let (alpha, bounds, iters) = if careful {
            (first_step, (first_step * unit * 1e-12, CAREFUL_MOVE * unit), 1)
        } else {
            (1.0, (1e-12, 1e20), s.max_iters - iterations)
        };
        let mut line = MoreThuenteLineSearch::new().with_bounds(bounds.0, bounds.1).map_err(failed)?;
        argmin::solver::linesearch::LineSearch::<Vec<f64>, f64>::initial_step_length(&mut line, alpha)
            .map_err(failed)?;
        let was_careful = std::mem::replace(&mut careful, false);
        objective.start_round();
        let solver = LBFGS::new(line, s.history)
            .with_tolerance_grad(s.tol_grad / scale)
            .and_then(|l| l.with_tolerance_cost(tol_cost / scale))
            .map_err(failed)?;
        let neg_g: Vec<f64> = g.iter().map(|v| -v / scale).collect();
        // Not the cost: `argmin` would take the start's as the previous iteration's and stop
        // at once on a zero change. Its first evaluation, of the start, is free where the
        // round before improved (its best point was evaluated last) and costs one otherwise.
        let (f0, u0) = (-lp / scale, u.clone());
        let end = IterationEnd {
            evaluations: objective.evaluations.clone(),
            mark: objective.mark.clone(),
            path: path.clone(),
        };
        let result = Solve::new(Negated(&objective, scale), solver)
            .configure(|state| state.param(u0).gradient(neg_g).max_iters(iters))
            .add_observer(end, argmin::core::observers::ObserverMode::Always)
            .run()
            .map_err(failed)?;
        let state = result.state();
        iterations += state.get_iter();
        let reason = state.get_termination_reason().cloned();
        let improved = state.get_best_cost() < f0;
        if improved && let Some(best) = state.get_best_param() {
            u = best.clone();
            (lp, g) = objective.eval(&u);
        }
        let near_zero = norm(&g).powi(2) / lp.abs().max(1.0) < TOL_REL_GRAD;
        let stop = match reason {
            // Below the gradient tolerance: the loop's first check says so.
            Some(TerminationReason::SolverConverged) if norm(&g) < s.tol_grad => None,
            // The change tolerance was set at the round's start: it holds at the end too where
            // the log density kept its size (else a new round sets it here).
            Some(TerminationReason::SolverConverged)
                if 2.0 * s.tol_rel_obj * lp.abs().max(1.0) >= tol_cost =>
            {
                match peak(&objective, &u, (lp, &g)) {
                    Ok(()) => {
                        Some(Ok("the relative change of the log density is below `tol_rel_obj`".into()))
                    }
                    // A stalled line search hands back its start, and L-BFGS sees no change.
                    Err(why) => retry(improved, (&mut first_step, &mut careful), why),
                }
            }
            // A careful round's one iteration that found nothing better: as a failed one.
            Some(TerminationReason::MaxItersReached) if was_careful && !improved => retry(
                improved,
                (&mut first_step, &mut careful),
                "no line search improves on the point".into(),
            ),
            Some(TerminationReason::SolverConverged | TerminationReason::MaxItersReached) => None,
            Some(TerminationReason::SolverExit(_)) if !improved && near_zero => {
                match peak(&objective, &u, (lp, &g)) {
                    Ok(()) => Some(Ok("no line search improves on a point of near-zero gradient".into())),
                    Err(why) => retry(improved, (&mut first_step, &mut careful), why),
                }
            }
            Some(TerminationReason::SolverExit(why)) => retry(
                improved,
                (&mut first_step, &mut careful),
                format!("no line search improves on the point ({why})"),
            ),
            other => Some(Err(format!("L-BFGS stopped: {other:?}"))),
        };
        if let Some(stop) = stop {
            break stop;
        }
    } {
        Ok(why) => (true, why),
        Err(why) => (false, why),
    };
    let path =
        path.map(|p| std::mem::take(&mut *p.lock().unwrap_or_else(|e| e.into_inner()))).unwrap_or_default();
    let search = Search {
        grad_norm: norm(&g),
        u,
        logp: lp,
        iterations,
        evaluations: objective.evaluations.load(Ordering::Relaxed),
        restarts: rounds.saturating_sub(1),
        converged,
        message,
    };
    Ok((search, path))
}
