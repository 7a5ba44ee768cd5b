//! Hamiltonian moves for sequential Monte Carlo ([`SmcKernel::Hmc`](super::SmcKernel::Hmc)):
//! each particle takes a Metropolis-corrected trajectory of leapfrog steps on the tempered
//! posterior, with the particles' covariance as the inverse mass matrix (the whitened
//! coordinates `L⁻¹(x − m)` of the fitted normal have unit mass), as BlackJAX's tempered SMC
//! with an HMC kernel does. The gradient carries particles towards where the tempered posterior
//! moved, which independent and random-walk proposals fitted to the particles cannot reach.
//! Every leapfrog step evaluates all particles at once.

use rayon::prelude::*;

use super::kernel::{Evaluator, Gaussian, Moved, Pearson, Population, Streams, Trend};
use crate::error::Result;
use crate::rng::Purpose;

/// The acceptance rate the step size is tuned towards.
const TARGET_ACCEPT: f64 = 0.65;
/// Most moves per stage.
const MAX_MOVES: usize = 100;
/// The index of a move's step-size jitter (at the move's first particle's draw).
const JITTER_INDEX: u32 = u32::MAX - 1;
/// The acceptance uniform's index (the momentum's normals take indices from 0).
const ACCEPT_INDEX: u32 = u32::MAX;

/// The step size and trajectory length, kept from stage to stage.
pub(crate) struct Hmc {
    /// The leapfrog step in whitened coordinates.
    pub eps: f64,
    /// Leapfrog steps per trajectory.
    pub steps: usize,
}

impl Hmc {
    /// A step of `1/d^{1/4}` (the scaling of HMC's optimal step with dimension) and
    /// `steps` leapfrog steps.
    pub(crate) fn new(d: usize, steps: usize) -> Hmc {
        Hmc { eps: (d as f64).powf(-0.25), steps }
    }

    /// Trajectories at `beta` from every particle, repeated while the correlation with the
    /// stage's start falls by more than `correlation_threshold` in any dimension (PyMC's rule
    /// asks it of 90% of them, which stops while a slow coordinate, a noise scale, still
    /// remembers the start), at most [`MAX_MOVES`] times; a dimension whose correlation is
    /// below `2/√N` (what chance leaves between independent populations) counts as done; and
    /// while the particles' mean log-likelihood still rises ([`Trend`]). Each
    /// move's step is `ε` times a uniform factor in (0.8, 1.2), the same for every particle (so
    /// that no trajectory length resonates with the posterior's scale); after the stage, `ε`
    /// moves by the stage's acceptance rate's distance from 0.65 (`ε ← ε·exp(rate − 0.65)`), so
    /// that within a stage every move leaves the tempered posterior invariant.
    pub(crate) fn mutate(
        &mut self,
        pop: &mut Population,
        eval: &mut Evaluator,
        streams: &mut Streams,
        beta: f64,
        correlation_threshold: f64,
    ) -> Result<std::result::Result<Moved, String>> {
        let q = match Gaussian::fit(pop) {
            Ok(q) => q,
            Err(why) => return Ok(Err(why)),
        };
        let (n, d) = (pop.len(), pop.d);
        let (mut value, lik, mut grad) = eval.eval_at(&pop.x, beta)?;
        pop.lik = lik;
        for (v, l) in value.iter_mut().zip(&pop.lik) {
            if *l == f64::NEG_INFINITY || v.is_nan() {
                *v = f64::NEG_INFINITY;
            }
        }
        let corr = Pearson::new(pop);
        let mut old = vec![2.0; d];
        let floor = 2.0 / (n as f64).sqrt();
        let (mut accepted, mut moves) = (0usize, 0usize);
        let mut trend = Trend::new();
        let lagging = loop {
            let draw0 = streams.moves * n as u64;
            let rng = &streams.rng;
            let eps = self.eps * (0.8 + 0.4 * rng.uniform(draw0, JITTER_INDEX, Purpose::SmcMove));
            // Momenta in whitened coordinates, and each trajectory's starting energy.
            let mut r = vec![0.0; n * d];
            r.par_chunks_mut(d)
                .enumerate()
                .for_each(|(i, r)| rng.fill_normals(draw0 + i as u64, Purpose::SmcMove, r));
            let h0: Vec<f64> = r.chunks(d).zip(&value).map(|(r, v)| kinetic(r) - v).collect();
            let (mut x, mut g) = (pop.x.clone(), grad.clone());
            let (mut v, mut l) = (value.clone(), pop.lik.clone());
            for _ in 0..self.steps {
                kick(&q, &mut r, &g, eps / 2.0);
                x.par_chunks_mut(d).zip(r.par_chunks(d)).for_each_init(
                    || vec![0.0; d],
                    |step, (x, r)| {
                        q.scale(r, step);
                        x.iter_mut().zip(step.iter()).for_each(|(x, s)| *x += eps * s);
                    },
                );
                (v, l, g) = eval.eval_at(&x, beta)?;
                kick(&q, &mut r, &g, eps / 2.0);
            }
            let mut taken = 0;
            for i in 0..n {
                let h1 = kinetic(&r[i * d..(i + 1) * d]) - v[i];
                let log_u = rng.uniform(draw0 + i as u64, ACCEPT_INDEX, Purpose::SmcMove).ln();
                // A trajectory to a point without density (NaN, −∞) has no energy, and one to a
                // density without bound (+∞) is not taken: both rejected.
                if l[i] != f64::NEG_INFINITY && v[i] < f64::INFINITY && log_u < h0[i] - h1 {
                    pop.x[i * d..(i + 1) * d].copy_from_slice(&x[i * d..(i + 1) * d]);
                    grad[i * d..(i + 1) * d].copy_from_slice(&g[i * d..(i + 1) * d]);
                    value[i] = v[i];
                    pop.lik[i] = l[i];
                    taken += 1;
                }
            }
            streams.moves += 1;
            moves += 1;
            accepted += taken;
            let r = corr.get(pop);
            let any = r.iter().zip(&old).any(|(r, o)| o - r > correlation_threshold && *r > floor);
            old = r;
            let rise = trend.rise(&pop.lik);
            if !(any || Trend::rising(rise)) {
                break false;
            }
            if moves >= MAX_MOVES {
                break Trend::lagging(rise);
            }
        };
        // The prior, for the next stage's tempered densities: the value less the tempered
        // likelihood (exact where β = 0).
        pop.prior =
            value.iter().zip(&pop.lik).map(|(v, l)| if beta == 0.0 { *v } else { v - beta * l }).collect();
        let accept_rate = accepted as f64 / (n * moves) as f64;
        let used = self.eps;
        self.eps *= (accept_rate - TARGET_ACCEPT).exp();
        Ok(Ok(Moved { steps: moves, accept_rate, proposal_scale: used, lagging }))
    }
}

/// `½|r|²`.
fn kinetic(r: &[f64]) -> f64 {
    0.5 * r.iter().map(|r| r * r).sum::<f64>()
}

/// The momenta's half step `r += h Lᵀ g` (the whitened gradient), particle by particle; a
/// gradient that is not finite makes the momentum NaN, so the trajectory is rejected.
fn kick(q: &Gaussian, r: &mut [f64], g: &[f64], h: f64) {
    let d = q.mean.len();
    r.par_chunks_mut(d).zip(g.par_chunks(d)).for_each_init(
        || vec![0.0; d],
        |lg, (r, g)| {
            q.scale_transposed(g, lg);
            r.iter_mut().zip(lg.iter()).for_each(|(r, lg)| *r += h * lg);
        },
    );
}
