//! The particles of one chain of sequential Monte Carlo and their moves: PyMC's independent
//! Metropolis–Hastings kernel (`IMH`: proposals from a normal fitted to the particles) and its
//! random-walk kernel (`MH`: steps from that normal's covariance, scaled per particle), each
//! repeated until the particles' correlation with where the stage started stops falling.

use rayon::prelude::*;

use crate::error::Result;
use crate::model::dist::cholesky;
use crate::model::dist::solve_lower;
use crate::rng::{ChainRng, Purpose};
use crate::sampler::BackendChoice;
use crate::sampler::batch::BatchEval;

/// Added to the particles' covariance's diagonal (PyMC's `1e-6`).
const JITTER: f64 = 1e-6;
/// The index of a move's acceptance uniform (the normals take indices from 0).
const ACCEPT_INDEX: u32 = u32::MAX;
/// MH's target acceptance rate (PyMC's `0.234`).
const TARGET_ACCEPT: f64 = 0.234;

/// The tempered program ([`Target::Tempered`](crate::compile::lower::Target::Tempered)) at
/// many points: each point's log prior (log-Jacobians included) and log-likelihood.
pub(crate) struct Evaluator {
    batch: BatchEval,
    d: usize,
    /// Points evaluated so far.
    pub evaluations: u64,
}

impl Evaluator {
    pub(crate) fn new(prog: &crate::compile::Program, d: usize, backend: BackendChoice) -> Result<Evaluator> {
        Ok(Evaluator { batch: BatchEval::new(prog, backend, true)?, d, evaluations: 0 })
    }

    /// Whether the points are evaluated on a GPU.
    pub(crate) fn on_gpu(&self) -> bool {
        self.batch.on_gpu()
    }

    /// The log prior and log-likelihood at each point of `x` (point-major): the program at
    /// `β = 0`, whose value is the prior (NaN where the likelihood is `−∞`: `0 · (−∞)`) and
    /// whose last gradient entry is the likelihood. A likelihood that is not a number is `−∞`.
    pub(crate) fn eval(&mut self, x: &[f64]) -> Result<(Vec<f64>, Vec<f64>)> {
        let (value, lik, _) = self.eval_at(x, 0.0)?;
        Ok((value, lik))
    }

    /// The program at inverse temperature `beta` at each point of `x`: the tempered log
    /// density, the log-likelihood (`−∞` where it is not a number) and the tempered density's
    /// gradient over the unconstrained coordinates (point-major).
    pub(crate) fn eval_at(&mut self, x: &[f64], beta: f64) -> Result<(Vec<f64>, Vec<f64>, Vec<f64>)> {
        let (d, n) = (self.d, x.len() / self.d.max(1));
        let mut points =
            crate::mem::try_filled(n * (d + 1), beta, || "sequential Monte Carlo's program inputs".into())?;
        for (p, row) in points.chunks_mut(d + 1).zip(x.chunks(d.max(1))) {
            p[..d].copy_from_slice(&row[..d]);
        }
        let (value, grad) = self.batch.run(&points)?;
        self.evaluations += n as u64;
        let lik = grad.chunks(d + 1).map(|g| if g[d].is_nan() { f64::NEG_INFINITY } else { g[d] }).collect();
        let grad_u = grad.chunks(d + 1).flat_map(|g| g[..d].iter().copied()).collect();
        Ok((value, lik, grad_u))
    }
}

/// One chain's particles, point-major over the unconstrained space, with each one's log prior
/// and log-likelihood.
pub(crate) struct Population {
    pub d: usize,
    pub x: Vec<f64>,
    pub prior: Vec<f64>,
    pub lik: Vec<f64>,
}

impl Population {
    pub(crate) fn len(&self) -> usize {
        self.prior.len()
    }

    /// Particle `i`'s tempered log density at `beta`: `−∞` where the likelihood is (or the
    /// prior is not a number).
    pub(crate) fn tempered(&self, i: usize, beta: f64) -> f64 {
        tempered(self.prior[i], self.lik[i], beta)
    }

    /// The particles at `idx`, in that order.
    pub(crate) fn resample(&mut self, idx: &[usize]) {
        let d = self.d;
        self.x = idx.iter().flat_map(|&i| self.x[i * d..(i + 1) * d].iter().copied()).collect();
        self.prior = idx.iter().map(|&i| self.prior[i]).collect();
        self.lik = idx.iter().map(|&i| self.lik[i]).collect();
    }
}

pub(crate) fn tempered(prior: f64, lik: f64, beta: f64) -> f64 {
    if lik == f64::NEG_INFINITY || prior.is_nan() {
        f64::NEG_INFINITY
    } else if beta == 0.0 {
        prior
    } else {
        prior + beta * lik
    }
}

/// A normal fitted to the particles: their mean, and the lower Cholesky factor (row by row) of
/// their covariance (divided by `N`) plus [`JITTER`] on the diagonal.
pub(crate) struct Gaussian {
    pub mean: Vec<f64>,
    chol: Vec<f64>,
    log_det: f64,
}

impl Gaussian {
    /// Fitted to `pop`'s particles; `Err` names why the covariance has no factor.
    pub(crate) fn fit(pop: &Population) -> std::result::Result<Gaussian, String> {
        let (d, n) = (pop.d, pop.len());
        // Centred columns, so each covariance entry is one contiguous dot product, in a fixed
        // order whatever the threads.
        let (mean, cols) = centred(pop);
        let rows: Vec<Vec<f64>> = (0..d)
            .into_par_iter()
            .map(|i| {
                (0..=i)
                    .map(|j| cols[i].iter().zip(&cols[j]).map(|(a, b)| a * b).sum::<f64>() / n as f64)
                    .collect()
            })
            .collect();
        let mut cov = vec![0.0; d * d];
        for (i, row) in rows.iter().enumerate() {
            for (j, &c) in row.iter().enumerate() {
                cov[i * d + j] = c;
                cov[j * d + i] = c;
            }
            cov[i * d + i] += JITTER;
        }
        if let Some(bad) = cov.iter().find(|c| !c.is_finite()) {
            return Err(format!("the particles' covariance has an entry {bad} (too few particles?)"));
        }
        let chol = if d == 1 {
            vec![cov[0].sqrt()]
        } else {
            cholesky(&cov).map_err(|why| {
                format!("the particles' covariance has no Cholesky factor ({why}): give more particles")
            })?
        };
        let log_det = (0..d).map(|i| chol[i * d + i].ln()).sum();
        Ok(Gaussian { mean, chol, log_det })
    }

    /// `L z` into `out`.
    pub(crate) fn scale(&self, z: &[f64], out: &mut [f64]) {
        let d = self.mean.len();
        for (i, o) in out.iter_mut().enumerate() {
            *o = self.chol[i * d..i * d + i + 1].iter().zip(z).map(|(l, z)| l * z).sum();
        }
    }

    /// The log density at `mean + L z`, up to the constant `−(d/2) log 2π`.
    fn log_density_std(&self, z: &[f64]) -> f64 {
        -0.5 * z.iter().map(|z| z * z).sum::<f64>() - self.log_det
    }

    /// The log density at `x`, up to the same constant.
    fn log_density(&self, x: &[f64]) -> f64 {
        let d = self.mean.len();
        let mut z = vec![0.0; d];
        -0.5 * solve_lower(&self.chol, d, |i| x[i] - self.mean[i], &mut z) - self.log_det
    }
}

impl Gaussian {
    /// `Lᵀ g` into `out`.
    pub(crate) fn scale_transposed(&self, g: &[f64], out: &mut [f64]) {
        let d = self.mean.len();
        out.fill(0.0);
        for (i, gi) in g.iter().enumerate() {
            for (o, l) in out[..=i].iter_mut().zip(&self.chol[i * d..=i * d + i]) {
                *o += l * gi;
            }
        }
    }
}

/// The absolute correlation, dimension by dimension, of the particles with those a stage's
/// moves started from (PyMC's `Pearson`).
pub(crate) struct Pearson {
    /// The start's centred values, dimension-major, and each dimension's norm.
    start: Vec<Vec<f64>>,
    norms: Vec<f64>,
}

impl Pearson {
    pub(crate) fn new(pop: &Population) -> Pearson {
        let (_, start) = centred(pop);
        let norms = start.iter().map(|c| c.iter().map(|v| v * v).sum::<f64>().sqrt()).collect();
        Pearson { start, norms }
    }

    pub(crate) fn get(&self, pop: &Population) -> Vec<f64> {
        centred(pop)
            .1
            .iter()
            .zip(&self.start)
            .zip(&self.norms)
            .map(|((b, a), na)| {
                let nb = b.iter().map(|v| v * v).sum::<f64>().sqrt();
                (a.iter().zip(b).map(|(a, b)| a * b).sum::<f64>() / (na * nb)).abs()
            })
            .collect()
    }
}

/// Most moves per stage for [`Moves`], whatever rule asks for more (in practice the
/// [`Trend`]: the correlation rule seldom holds for more than a few dozen moves);
/// [`super::hmc::Hmc`] has its own limit, each of its moves being [`crate::smc::HMC_STEPS`]
/// evaluations.
pub(crate) const MAX_MOVES: usize = 400;

/// How far, in standard errors, the mean log-likelihood must have risen at the last move for
/// a stage stopped at its limit to count as lagging ([`Moved::lagging`]): a population at
/// equilibrium passes the one-standard-error test to continue about one move in four, this
/// one about one in sixty (the two means treated as independent; closer, they pass less).
const LAGGING_RISE: f64 = 3.0;

/// The particles' mean log-likelihood after each move of a stage. Right after resampling the
/// particles stand for the stage's tempered posterior only as well as the previous stage's
/// stood for its own; where the kernel mixes slowly (a noise scale collapsing while the
/// coefficients it scales tighten: a funnel), they lag behind it, towards the smaller `β`, and
/// the moves raise the mean log-likelihood move after move. Every later increment of the log
/// evidence is then computed from particles with too little likelihood: biased low. The
/// correlation rules miss it (a coordinate may forget its start long before its distribution
/// settles), so moves go on while this mean still rises.
pub(crate) struct Trend {
    means: Vec<f64>,
}

impl Trend {
    pub(crate) fn new() -> Trend {
        Trend { means: Vec::new() }
    }

    /// Records the particles' log-likelihoods after a move; how far, from the fourth move on,
    /// their mean has risen since the move halfway through the stage's moves, in standard
    /// errors among independent particles (`sd/√N`: what a fresh population's mean would
    /// wander by). Zero before the fourth move and where either mean or the spread is not
    /// finite.
    pub(crate) fn rise(&mut self, lik: &[f64]) -> f64 {
        let n = lik.len() as f64;
        let mean = lik.iter().sum::<f64>() / n;
        let sd = (lik.iter().map(|l| (l - mean).powi(2)).sum::<f64>() / n).sqrt();
        self.means.push(mean);
        let k = self.means.len();
        let rise = if k >= 4 { (mean - self.means[k / 2 - 1]) / (sd / n.sqrt()) } else { 0.0 };
        if rise.is_finite() { rise } else { 0.0 }
    }

    /// Whether moves should go on: the mean rose by more than one standard error.
    pub(crate) fn rising(rise: f64) -> bool {
        rise > 1.0
    }

    /// Whether a stage stopped at its limit after a move with this rise lags behind its
    /// tempered posterior (by [`LAGGING_RISE`] standard errors).
    pub(crate) fn lagging(rise: f64) -> bool {
        rise > LAGGING_RISE
    }
}

/// PyMC's rule for another move: the correlations `r` with the stage's start fell by more
/// than `threshold` since the last move (`old`, which becomes `r`) in over 90% of the
/// dimensions.
pub(crate) fn still_falling(old: &mut Vec<f64>, r: Vec<f64>, threshold: f64) -> bool {
    let fell = old.iter().zip(&r).filter(|(o, r)| *o - *r > threshold).count();
    *old = r;
    fell as f64 / old.len() as f64 > 0.9
}

fn centred(pop: &Population) -> (Vec<f64>, Vec<Vec<f64>>) {
    let (d, n) = (pop.d, pop.len());
    (0..d)
        .into_par_iter()
        .map(|i| {
            let m = (0..n).map(|p| pop.x[p * d + i]).sum::<f64>() / n as f64;
            (m, (0..n).map(|p| pop.x[p * d + i] - m).collect())
        })
        .unzip()
}

/// Which kernel moves the particles, with its per-particle state.
pub(crate) enum Moves {
    /// Independent proposals from the fitted normal.
    Imh,
    /// Random-walk steps `s_i L z`, with each particle's scale `s_i` and its acceptance rate at
    /// the last stage.
    Mh { scales: Vec<f64>, accept: Vec<f64> },
}

/// What a stage's moves did.
pub(crate) struct Moved {
    /// Moves made (at least one; two where the first leaves the correlations numbers).
    pub steps: usize,
    /// The share accepted, over every particle and move.
    pub accept_rate: f64,
    /// MH's mean proposal scale, HMC's leapfrog step (NaN for IMH).
    pub proposal_scale: f64,
    /// Whether the moves stopped at their limit with the mean log-likelihood still rising by
    /// more than [`LAGGING_RISE`] standard errors ([`Trend`]).
    pub lagging: bool,
}

/// A chain's random streams and where its move counter stands.
pub(crate) struct Streams {
    pub rng: ChainRng,
    /// Moves made by the chain so far (each move's draws are numbered from it).
    pub moves: u64,
}

impl Moves {
    /// After resampling by `idx`, the per-particle state follows its particle (at the first
    /// stage it is still every particle's initial state).
    pub(crate) fn resample(&mut self, idx: &[usize]) {
        if let Moves::Mh { scales, accept } = self {
            *scales = idx.iter().map(|&i| scales[i]).collect();
            *accept = idx.iter().map(|&i| accept[i]).collect();
        }
    }

    /// PyMC's `tune` and `mutate` at inverse temperature `beta`: MH's scales move by each
    /// particle's acceptance rate's distance from 0.234 and half-way to their mean (from the
    /// second stage on), the normal is fitted, then moves repeat while, in over 90% of the
    /// dimensions, the correlation with the stage's start has fallen by more than
    /// `correlation_threshold` since the last move, or while the mean log-likelihood still
    /// rises ([`Trend`]), at most [`MAX_MOVES`] times.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn mutate(
        &mut self,
        pop: &mut Population,
        eval: &mut Evaluator,
        streams: &mut Streams,
        beta: f64,
        stage: usize,
        correlation_threshold: f64,
    ) -> Result<std::result::Result<Moved, String>> {
        if let (Moves::Mh { scales, accept }, true) = (&mut *self, stage > 1) {
            let chain_scales: Vec<f64> =
                scales.iter().zip(accept.iter()).map(|(s, a)| (s.ln() + (a - TARGET_ACCEPT)).exp()).collect();
            let mean = chain_scales.iter().sum::<f64>() / chain_scales.len() as f64;
            *scales = chain_scales.iter().map(|s| 0.5 * (s + mean)).collect();
        }
        let q = match Gaussian::fit(pop) {
            Ok(q) => q,
            Err(why) => return Ok(Err(why)),
        };
        let (n, d) = (pop.len(), pop.d);
        let corr = Pearson::new(pop);
        // PyMC starts from a correlation of 2, which the first move always beats (except in
        // dimensions whose correlation is not a number: particles all equal there).
        let mut old = vec![2.0; d];
        let mut current: Vec<f64> = (0..n).map(|i| pop.tempered(i, beta)).collect();
        // IMH's proposal density at each particle, kept as particles move.
        let mut backward: Vec<f64> = match self {
            Moves::Imh => pop.x.par_chunks(d).map(|x| q.log_density(x)).collect(),
            Moves::Mh { .. } => Vec::new(),
        };
        let mut accepted = vec![0usize; n];
        let mut steps = 0;
        let mut trend = Trend::new();
        let lagging = loop {
            let draw0 = streams.moves * n as u64;
            let rng = &streams.rng;
            let mut proposals = vec![0.0; n * d];
            let forward: Vec<f64> = proposals
                .par_chunks_mut(d)
                .enumerate()
                .map_init(
                    || (vec![0.0; d], vec![0.0; d]),
                    |(z, step), (i, out)| {
                        rng.fill_normals(draw0 + i as u64, Purpose::SmcMove, z);
                        match &*self {
                            Moves::Imh => {
                                q.scale(z, out);
                                out.iter_mut().zip(&q.mean).for_each(|(o, m)| *o += m);
                                q.log_density_std(z)
                            }
                            Moves::Mh { scales, .. } => {
                                q.scale(z, step);
                                for ((o, x), s) in
                                    out.iter_mut().zip(&pop.x[i * d..(i + 1) * d]).zip(step.iter())
                                {
                                    *o = x + s * scales[i];
                                }
                                0.0
                            }
                        }
                    },
                )
                .collect();
            let (prior, lik) = eval.eval(&proposals)?;
            for i in 0..n {
                let proposed = tempered(prior[i], lik[i], beta);
                let log_u = rng.uniform(draw0 + i as u64, ACCEPT_INDEX, Purpose::SmcMove).ln();
                let ratio = match self {
                    Moves::Imh => (proposed + backward[i]) - (current[i] + forward[i]),
                    Moves::Mh { .. } => proposed - current[i],
                };
                // A proposal of +∞ density (a density without bound there) is not taken.
                if log_u < ratio && proposed < f64::INFINITY {
                    pop.x[i * d..(i + 1) * d].copy_from_slice(&proposals[i * d..(i + 1) * d]);
                    pop.prior[i] = prior[i];
                    pop.lik[i] = lik[i];
                    current[i] = proposed;
                    if let Moves::Imh = self {
                        backward[i] = forward[i];
                    }
                    accepted[i] += 1;
                }
            }
            streams.moves += 1;
            steps += 1;
            let falling = still_falling(&mut old, corr.get(pop), correlation_threshold);
            let rise = trend.rise(&pop.lik);
            if !(falling || Trend::rising(rise)) {
                break false;
            }
            if steps >= MAX_MOVES {
                break Trend::lagging(rise);
            }
        };
        let accept_rate = accepted.iter().sum::<usize>() as f64 / (n * steps) as f64;
        let proposal_scale = match self {
            Moves::Imh => f64::NAN,
            Moves::Mh { scales, accept } => {
                *accept = accepted.iter().map(|&a| a as f64 / steps as f64).collect();
                scales.iter().sum::<f64>() / n as f64
            }
        };
        Ok(Ok(Moved { steps, accept_rate, proposal_scale, lagging }))
    }
}

#[cfg(test)]
mod tests {
    use super::Trend;

    /// Likelihoods of 100 particles with mean `m` and standard deviation 1 (so `sd/√N` is 0.1).
    fn population(m: f64) -> Vec<f64> {
        (0..100).map(|i| m + if i % 2 == 0 { 1.0 } else { -1.0 }).collect()
    }

    #[test]
    fn trend_rises_past_the_standard_error_since_halfway() {
        // 0.06 a move: from the fourth move, the rise since halfway (0.12 at move 4) is past 0.1.
        let mut t = Trend::new();
        let rises: Vec<f64> = (0..8).map(|k| t.rise(&population(0.06 * k as f64))).collect();
        let rising: Vec<bool> = rises.iter().map(|&r| Trend::rising(r)).collect();
        assert_eq!(rising, [false, false, false, true, true, true, true, true]);
        // Move 8 against move 4: 0.24, 2.4 standard errors: going on, not lagging.
        assert!((rises[7] - 2.4).abs() < 1e-9 && !Trend::lagging(rises[7]));
        assert!(Trend::lagging(3.01) && !Trend::lagging(3.0));
        // 0.04 a move: 0.08 at move 4 (since move 2), 0.12 at move 5 (since move 2).
        let mut t = Trend::new();
        let rising: Vec<bool> = (0..6).map(|k| Trend::rising(t.rise(&population(0.04 * k as f64)))).collect();
        assert_eq!(rising, [false, false, false, false, true, true]);
        // Falling, flat, or not finite: never.
        let mut t = Trend::new();
        assert!((0..8).all(|k| t.rise(&population(-0.5 * k as f64)) < 0.0 || k < 3));
        let mut t = Trend::new();
        assert!((0..8).all(|_| t.rise(&population(3.0)) == 0.0));
        let mut t = Trend::new();
        assert!((0..8).all(|k| t.rise(&population(if k < 4 { f64::NEG_INFINITY } else { 1.0 })) == 0.0));
    }
}
