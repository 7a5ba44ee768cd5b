//! Metric adaptation during warmup: Stan's windowed variance estimate, or nutpie's running
//! draw-and-gradient estimate. Each warmup draw goes to an [`Adapter`], which answers with a new
//! inverse mass diagonal when it has one and says whether the step size must be searched again.

use super::low_rank::{Metric, Store};
use super::mass_matrix::{Welford, draw_gradient_metric, draw_gradient_ratio, welford_add};
use super::warmup::Windows;
use crate::backend::LowRank;

/// How warmup adapts the inverse mass diagonal.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Adaptation {
    /// nutpie's schedule (default; Seyboldt, Carlson & Carpenter): the metric is
    /// `sqrt(var(x) / var(∇log p))` over the draws of a foreground estimator, refreshed after
    /// every warmup draw. A background estimator collects the same draws and replaces the
    /// foreground every 10 draws in the first 30% of warmup, then after windows of 80 draws
    /// growing by 1.5×; the last 15% of warmup adapts only the step size. The step size is
    /// searched again once, at the first metric change, and dual averaging then runs on.
    #[default]
    DrawGradient,
    /// Stan's windowed adaptation: an initial buffer of 75 draws, slow windows of 25 doubling,
    /// a terminal buffer of 50; at each window's end the metric becomes the regularised
    /// variance of that window's draws and the step size is searched again. Inside the initial
    /// buffer the metric is refined from draws and gradients after 10, 20 and 40 draws.
    Windowed,
    /// Pooled many-chain warmup (for runs of many chains, e.g. on a GPU): the chains of a pool
    /// (all chains of a GPU run; blocks of 256 by chain id on the CPU) run warmup iteration by
    /// iteration together and learn one step size and one metric from all of their draws and
    /// gradients (see [`PooledAdapter`](super::PooledAdapter)); a much shorter warmup (60 by
    /// default) suffices. Chains are independent after warmup.
    Pooled,
}

impl Adaptation {
    /// Warmup length when the run does not set one: 300 for nutpie's schedule (nutpie's
    /// default; the posteriordb suite passes with it, DECISIONS 48), 1000 for Stan's windows
    /// (CmdStan's default), 60 for pooled warmup (DECISIONS 50).
    pub fn default_warmup(self) -> usize {
        match self {
            Adaptation::DrawGradient => 300,
            Adaptation::Windowed => 1000,
            Adaptation::Pooled => super::pooled::POOLED_WARMUP,
        }
    }
}

/// What one warmup draw changed.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct AdaptStep {
    /// The inverse mass diagonal changed: read it with [`Adapter::inv_mass`] (it lives in the
    /// adapter, so a refresh after every draw allocates nothing).
    pub inv_mass: bool,
    /// New low-rank correction (with [`Metric::LowRank`]; always with a new diagonal).
    pub low_rank: Option<LowRank>,
    /// Whether the step size must be searched again (and dual averaging restarted).
    pub search_step_size: bool,
}

/// One chain's metric adaptation.
#[derive(Clone, Debug)]
pub enum Adapter {
    /// See [`Adaptation::DrawGradient`].
    DrawGradient(DrawGradient),
    /// See [`Adaptation::Windowed`].
    Windowed(Box<Windowed>),
    /// See [`Adaptation::Pooled`]: the chain's pool adapts, so the chain keeps no state.
    Pooled,
}

impl Adapter {
    /// An adapter of kind `kind` for metric `metric`, `warmup` iterations and dimension `dim`
    /// (a low-rank metric is estimated under [`Adaptation::DrawGradient`] only; the sampler
    /// refuses other pairs).
    pub fn new(kind: Adaptation, metric: Metric, warmup: usize, dim: usize) -> Adapter {
        match kind {
            Adaptation::DrawGradient => {
                let mut a = DrawGradient::new(warmup, dim);
                if let Metric::LowRank(o) = metric {
                    a.low_rank = Some(Box::new(Store::new(o)));
                }
                Adapter::DrawGradient(a)
            }
            Adaptation::Pooled => Adapter::Pooled,
            Adaptation::Windowed => Adapter::Windowed(Box::new(Windowed::new(warmup, dim))),
        }
    }

    /// Learns from warmup draw number `draw` (position `q`, gradient `g`).
    pub fn on_draw(&mut self, draw: usize, q: &[f64], g: &[f64]) -> AdaptStep {
        match self {
            Adapter::DrawGradient(a) => a.on_draw(draw, q, g),
            Adapter::Windowed(a) => a.on_draw(draw, q, g),
            Adapter::Pooled => AdaptStep::default(),
        }
    }

    /// Prefetches the buffers a draw will update (see
    /// [`ChainMachine::prefetch_adapter`](super::ChainMachine::prefetch_adapter)).
    pub fn prefetch(&self) {
        use crate::mem::prefetch;
        match self {
            Adapter::DrawGradient(a) => prefetch(&a.buf),
            Adapter::Windowed(a) => {
                [&a.welford, &a.early_x, &a.early_g].into_iter().for_each(Welford::prefetch);
                prefetch(&a.metric);
            }
            Adapter::Pooled => {}
        }
    }

    /// The inverse mass diagonal last reported as changed (empty before any change, and
    /// always for [`Adapter::Pooled`]).
    pub fn inv_mass(&self) -> &[f64] {
        match self {
            Adapter::DrawGradient(a) => a.metric(),
            Adapter::Windowed(a) => &a.metric,
            Adapter::Pooled => &[],
        }
    }
}

/// Iteration counts inside Stan's initial buffer after which the windowed scheme re-estimates
/// the metric from the draws and gradients so far (nutpie's estimator).
const EARLY_METRIC_UPDATES: [usize; 3] = [10, 20, 40];

/// Stan's windowed adaptation state.
#[derive(Clone, Debug)]
pub struct Windowed {
    windows: Windows,
    welford: Welford,
    early_x: Welford,
    early_g: Welford,
    metric: Vec<f64>,
}

impl Windowed {
    fn new(warmup: usize, dim: usize) -> Windowed {
        Windowed {
            windows: Windows::new(warmup),
            welford: Welford::new(dim),
            early_x: Welford::new(dim),
            early_g: Welford::new(dim),
            metric: Vec::new(),
        }
    }

    fn on_draw(&mut self, draw: usize, q: &[f64], g: &[f64]) -> AdaptStep {
        let mut step = AdaptStep::default();
        let (collect, ends) = self.windows.advance();
        if collect {
            self.welford.add(q);
        }
        if draw < self.windows.init_buffer() {
            self.early_x.add(q);
            self.early_g.add(g);
            if EARLY_METRIC_UPDATES.contains(&(draw + 1)) && draw + 1 < self.windows.init_buffer() {
                draw_gradient_metric(&self.early_x, &self.early_g, &mut self.metric);
                step.inv_mass = true;
                step.search_step_size = true;
            }
        }
        if ends && self.welford.count() > 2 {
            self.metric = self.welford.regularized_variance();
            step.inv_mass = true;
            self.welford.restart();
            step.search_step_size = true;
        }
        step
    }
}

/// Share of warmup with short (10-draw) estimator windows.
const EARLY_SHARE: f64 = 0.3;
/// Share of warmup at its end that adapts only the step size.
const STEP_SIZE_SHARE: f64 = 0.15;
/// Estimator window in the early phase.
const EARLY_WINDOW: usize = 10;
/// First estimator window after the early phase.
const MAIN_WINDOW: usize = 80;
/// Growth of the main-phase windows.
const WINDOW_GROWTH: f64 = 1.5;

/// Slot of the previous draw in a [`DrawGradient`]'s buffer.
const PREV: usize = 0;
/// Slot of the metric.
const METRIC: usize = 1;
/// First slot of the estimators: estimator `k` holds its means in slot `FIRST + 2k` and its
/// sums of squared deviations in the next. Pair `p` of estimators is `2p` (draws) and
/// `2p + 1` (gradients).
const FIRST: usize = 2;
/// Slots in all.
const SLOTS: usize = FIRST + 8;

/// nutpie's running draw-and-gradient adaptation state (`nuts-rs`' `GlobalStrategy` with its
/// diagonal `Strategy`).
///
/// Every vector of it sits in one buffer of `dim`-value slots (the previous draw, the
/// metric, and the means and sums of squares of four estimators: a foreground and a
/// background pair of draws and gradients), so that a host loop over tens of thousands of
/// chains finds a chain's adaptation state in one allocation.
#[derive(Clone, Debug)]
pub struct DrawGradient {
    early_end: usize,
    step_size_only_from: usize,
    window: usize,
    changed: bool,
    /// Which pair of estimators (0 or 1) is the foreground.
    fg: usize,
    /// Whether the previous draw's slot holds one, and the metric's a metric.
    has_prev: bool,
    has_metric: bool,
    dim: usize,
    /// Samples in each estimator.
    counts: [f64; 4],
    /// The slots (see the type's docs).
    buf: Vec<f64>,
    /// The foreground's draws and gradients, kept for [`Metric::LowRank`].
    low_rank: Option<Box<Store>>,
}

impl DrawGradient {
    fn new(warmup: usize, dim: usize) -> DrawGradient {
        let w = warmup as f64;
        DrawGradient {
            early_end: (EARLY_SHARE * w) as usize,
            step_size_only_from: warmup - (STEP_SIZE_SHARE * w) as usize,
            window: MAIN_WINDOW,
            changed: false,
            fg: 0,
            has_prev: false,
            has_metric: false,
            dim,
            counts: [0.0; 4],
            buf: vec![0.0; SLOTS * dim],
            low_rank: None,
        }
    }

    /// Slot `k` of the buffer.
    fn slot(&self, k: usize) -> &[f64] {
        &self.buf[k * self.dim..(k + 1) * self.dim]
    }

    /// Slot `k` of the buffer, to write.
    fn slot_mut(&mut self, k: usize) -> &mut [f64] {
        &mut self.buf[k * self.dim..(k + 1) * self.dim]
    }

    /// Samples in estimator `k`.
    fn count(&self, k: usize) -> usize {
        self.counts[k] as usize
    }

    /// The background's draw estimator.
    fn bg(&self) -> usize {
        2 * (1 - self.fg)
    }

    /// Adds sample `x` to estimator `k`.
    fn add(&mut self, k: usize, x: &[f64]) {
        let d = self.dim;
        let (mean, m2) = self.buf[(FIRST + 2 * k) * d..(FIRST + 2 * k + 2) * d].split_at_mut(d);
        welford_add(&mut self.counts[k], mean, m2, x);
    }

    /// Forgets every sample of estimator pair `p`.
    fn restart(&mut self, p: usize) {
        let d = self.dim;
        self.counts[2 * p..2 * p + 2].fill(0.0);
        self.buf[(FIRST + 4 * p) * d..(FIRST + 4 * p + 4) * d].fill(0.0);
    }

    fn on_draw(&mut self, draw: usize, q: &[f64], g: &[f64]) -> AdaptStep {
        // A draw equal to its trajectory's start (the previous draw) carries no new information
        // about the spread: nutpie leaves such draws out.
        let fresh = !self.has_prev || self.slot(PREV) != q;
        self.slot_mut(PREV).copy_from_slice(q);
        self.has_prev = true;
        if draw >= self.step_size_only_from {
            return AdaptStep::default();
        }
        let early = draw < self.early_end;
        if draw == self.early_end {
            self.window = self.window.max(self.count(self.bg()));
        }
        if fresh {
            for p in [self.fg, 1 - self.fg] {
                self.add(2 * p, q);
                self.add(2 * p + 1, g);
            }
            if let Some(s) = &mut self.low_rank {
                s.add(q, g);
            }
        }
        let (switch_at, next_window) = if early {
            (EARLY_WINDOW, EARLY_WINDOW)
        } else {
            (self.window, (self.window + 1).max((self.window as f64 * WINDOW_GROWTH).round() as usize))
        };
        // Switch only when a whole next window still fits before the step-size-only phase.
        let late = draw + next_window > self.step_size_only_from;
        if self.count(self.bg()) >= switch_at && !late {
            // The old foreground's buffers become the new background's.
            self.fg = 1 - self.fg;
            self.restart(1 - self.fg);
            if let Some(s) = &mut self.low_rank {
                s.switch();
            }
            if !early {
                self.window = next_window;
            }
        }
        let mut step = AdaptStep::default();
        let d = self.dim;
        if let Some(s) = &mut self.low_rank {
            if draw >= 1
                && let Some((inv_mass, low_rank)) = s.update()
            {
                self.slot_mut(METRIC).copy_from_slice(&inv_mass);
                self.has_metric = true;
                step.inv_mass = true;
                step.low_rank = Some(low_rank);
                step.search_step_size = !self.changed;
                self.changed = true;
            }
            return step;
        }
        let (x, gr) = (2 * self.fg, 2 * self.fg + 1);
        if draw >= 1 && self.count(x) >= 3 {
            let (head, rest) = self.buf.split_at_mut(FIRST * d);
            let m2 = |k: usize| &rest[(2 * k + 1) * d..(2 * k + 2) * d];
            draw_gradient_ratio(
                (self.counts[x], m2(x)),
                (self.counts[gr], m2(gr)),
                &mut head[METRIC * d..(METRIC + 1) * d],
            );
            self.has_metric = true;
            step.inv_mass = true;
            step.search_step_size = !self.changed;
            self.changed = true;
        }
        step
    }

    /// The metric last computed (empty before the first).
    fn metric(&self) -> &[f64] {
        if self.has_metric { self.slot(METRIC) } else { &[] }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Draws from N(0, diag(s²)) whose gradient is -x/s²: the estimator recovers s² exactly
    /// in expectation, so after the early phase the metric is within sampling error of s².
    #[test]
    fn draw_gradient_recovers_a_diagonal_gaussian() {
        let s2: [f64; 3] = [0.01, 1.0, 400.0];
        let mut a = Adapter::new(Adaptation::DrawGradient, Metric::Diagonal, 1000, 3);
        let mut last = None;
        let mut searches = 0;
        for draw in 0..1000 {
            let z: Vec<f64> =
                (0..3).map(|i| ((draw * 7919 + i * 104729) % 1000) as f64 / 1000.0 - 0.5).collect();
            let q: Vec<f64> = z.iter().zip(&s2).map(|(z, s)| z * s.sqrt() * 3.4).collect();
            let g: Vec<f64> = q.iter().zip(&s2).map(|(x, s)| -x / s).collect();
            let step = a.on_draw(draw, &q, &g);
            searches += step.search_step_size as usize;
            if draw >= 850 {
                assert!(!step.inv_mass, "draw {draw} changed the metric in the step-size-only phase");
            }
            if step.inv_mass {
                last = Some(a.inv_mass().to_vec());
            }
        }
        assert_eq!(searches, 1);
        let m = last.unwrap();
        for (m, s) in m.iter().zip(s2) {
            assert!((m / s - 1.0).abs() < 1e-9, "{m} vs {s}");
        }
    }

    /// The switch points: every 10 draws up to 300, then windows of 80 and 120; a window of 180
    /// starting at 500 is never switched in, as the one after it (270) would not end before draw
    /// 850: the foreground keeps growing instead (it sees every draw the background sees).
    #[test]
    fn draw_gradient_switches_like_nutpie() {
        let mut a = DrawGradient::new(1000, 1);
        let mut switches = Vec::new();
        for draw in 0..1000 {
            let before = a.count(a.bg());
            a.on_draw(draw, &[draw as f64], &[1.0 + (draw % 3) as f64]);
            if a.count(a.bg()) < before + 1 && draw < 850 {
                switches.push(draw);
            }
        }
        let early: Vec<usize> = (9..300).step_by(10).collect();
        assert_eq!(&switches[..early.len()], &early[..]);
        assert_eq!(&switches[early.len()..], &[379, 499]);
        assert_eq!(a.count(2 * a.fg), 850 - 380);
    }

    #[test]
    fn repeated_draws_are_not_counted() {
        let mut a = DrawGradient::new(100, 1);
        a.on_draw(0, &[1.0], &[0.5]);
        a.on_draw(1, &[1.0], &[0.5]);
        a.on_draw(2, &[2.0], &[0.2]);
        assert_eq!(a.count(2 * a.fg), 2);
    }
}
