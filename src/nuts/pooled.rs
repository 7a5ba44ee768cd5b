//! Pooled many-chain warmup ([`Adaptation::Pooled`](super::Adaptation::Pooled), DECISIONS 50):
//! the chains of a pool run warmup iteration by iteration together, and one step size and one
//! metric are learnt from all of them.
//!
//! After every warmup iteration the pool's draws and gradients (one of each per chain) go into
//! that iteration's estimators. The metric is nutpie's `sqrt(var(x) / var(∇log p))` over the
//! later half of the iterations so far (the earlier half forgets the starting points), pooled
//! across chains: with hundreds of chains a single iteration already estimates every variance
//! to a few percent, which a single chain needs hundreds of draws for. The step size follows
//! Stan's dual averaging on the pool's mean acceptance statistic, one update per iteration. The
//! last `STEP_SIZE_SHARE` (a fifth) of warmup keeps the metric and adapts only the step size. After
//! warmup the chains are independent again.

use super::mass_matrix::{Welford, draw_gradient_metric};
use super::step_size::{DualAveraging, DualAveragingOptions};

/// Share of warmup at its end that adapts only the step size.
const STEP_SIZE_SHARE: f64 = 0.2;

/// Warmup iterations of a pooled run that does not set its own.
pub const POOLED_WARMUP: usize = 60;

/// Chains whose warmup is pooled together on the CPU backend (a pool is one group of chains:
/// fixed by chain ids, so results do not depend on the thread count).
pub const POOL_CHAINS: usize = 256;

/// One pool's shared adaptation state.
#[derive(Clone, Debug)]
pub struct PooledAdapter {
    warmup: usize,
    /// Per finished iteration: draws and gradients of every chain.
    iterations: Vec<(Welford, Welford)>,
    /// The iteration being collected.
    current: (Welford, Welford),
    /// Acceptance statistics of the iteration being collected.
    accept: (f64, usize),
    /// Step sizes the chains start the current iteration with (their own probes at first).
    log_step_sum: (f64, usize),
    dual: Option<DualAveraging>,
    opts: DualAveragingOptions,
    step_size: f64,
}

impl PooledAdapter {
    /// A pool adapting over `warmup` iterations in dimension `dim`.
    pub fn new(warmup: usize, dim: usize, opts: DualAveragingOptions) -> PooledAdapter {
        PooledAdapter {
            warmup,
            iterations: Vec::new(),
            current: (Welford::new(dim), Welford::new(dim)),
            accept: (0.0, 0),
            log_step_sum: (0.0, 0),
            dual: None,
            opts,
            step_size: 1.0,
        }
    }

    /// One chain's warmup draw of the current iteration: position, gradient, acceptance
    /// statistic, and the step size it used.
    pub fn add(&mut self, q: &[f64], g: &[f64], accept_stat: f64, step_size: f64) {
        if q.iter().chain(g).all(|x| x.is_finite()) {
            self.current.0.add(q);
            self.current.1.add(g);
        }
        let a = if accept_stat.is_nan() { 0.0 } else { accept_stat.min(1.0) };
        self.accept.0 += a;
        self.accept.1 += 1;
        if step_size > 0.0 && step_size.is_finite() {
            self.log_step_sum.0 += step_size.ln();
            self.log_step_sum.1 += 1;
        }
    }

    /// Ends warmup iteration `iteration` (every chain of the pool has added its draw): the step
    /// size for the next iteration, and the metric when it changed.
    pub fn end_iteration(&mut self, iteration: usize) -> (f64, Option<Vec<f64>>) {
        let dim = self.current.0.mean().len();
        let done = std::mem::replace(&mut self.current, (Welford::new(dim), Welford::new(dim)));
        self.iterations.push(done);
        let mean_accept = if self.accept.1 > 0 { self.accept.0 / self.accept.1 as f64 } else { 0.0 };
        self.accept = (0.0, 0);
        // The first iteration ran on each chain's own probed step size: dual averaging starts
        // from their geometric mean.
        let dual = self.dual.get_or_insert_with(|| {
            let start = if self.log_step_sum.1 > 0 {
                (self.log_step_sum.0 / self.log_step_sum.1 as f64).exp()
            } else {
                self.step_size
            };
            DualAveraging::new(self.opts, start)
        });
        self.log_step_sum = (0.0, 0);
        self.step_size = dual.update(mean_accept);
        let last = iteration + 1 >= self.warmup;
        if last {
            self.step_size = dual.final_step_size();
        }
        let metric_until = self.warmup - (STEP_SIZE_SHARE * self.warmup as f64).round() as usize;
        let metric = if iteration < metric_until.max(1) {
            let from = self.iterations.len() / 2;
            let (mut x, mut g) = (Welford::new(dim), Welford::new(dim));
            for (xi, gi) in &self.iterations[from..] {
                x.merge(xi);
                g.merge(gi);
            }
            (x.count() >= 3).then(|| {
                let mut m = Vec::with_capacity(dim);
                draw_gradient_metric(&x, &g, &mut m);
                m
            })
        } else {
            None
        };
        (self.step_size, metric)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pooled_metric_recovers_a_diagonal_gaussian_in_a_few_iterations() {
        // 256 chains drawing exactly from N(0, diag(s²)): the gradient is -x/s², so the metric
        // sqrt(var x / var g) is s² after one iteration, up to sampling noise.
        let s = [0.1, 1.0, 30.0];
        let mut pool = PooledAdapter::new(50, 3, DualAveragingOptions::default());
        let rng = crate::rng::ChainRng::new(1, 0);
        let mut metric = None;
        for it in 0..4u64 {
            for c in 0..256u64 {
                let [a, b] = rng.normals(it * 1000 + c, 0, crate::rng::Purpose::Init);
                let z = [a, b, rng.normals(it * 1000 + c, 1, crate::rng::Purpose::Init)[0]];
                let q: Vec<f64> = z.iter().zip(&s).map(|(z, s)| z * s).collect();
                let g: Vec<f64> = q.iter().zip(&s).map(|(q, s)| -q / (s * s)).collect();
                pool.add(&q, &g, 0.8, 0.5);
            }
            metric = pool.end_iteration(it as usize).1;
        }
        let m = metric.expect("a metric after four iterations");
        for (m, s) in m.iter().zip(&s) {
            assert!((m / (s * s) - 1.0).abs() < 1e-9, "{m} vs {}", s * s);
        }
    }

    #[test]
    fn last_share_of_warmup_keeps_the_metric() {
        let mut pool = PooledAdapter::new(10, 1, DualAveragingOptions::default());
        let mut changed = Vec::new();
        for it in 0..10 {
            for c in 0..8 {
                let x = f64::from(c) - 3.5 + 0.1 * f64::from(it);
                pool.add(&[x], &[-x], 0.9, 0.3);
            }
            changed.push(pool.end_iteration(it as usize).1.is_some());
        }
        assert_eq!(changed, [true, true, true, true, true, true, true, true, false, false]);
    }
}
