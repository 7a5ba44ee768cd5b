//! Metric adaptation during warmup: Stan's windowed variance estimate, or nutpie's running
//! draw-and-gradient estimate. Each warmup draw goes to an [`Adapter`], which answers with a new
//! inverse mass diagonal when it has one and says whether the step size must be searched again.

use super::low_rank::{Metric, Store};
use super::mass_matrix::{Welford, draw_gradient_metric};
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
    Windowed(Windowed),
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
                    a.low_rank = Some(Store::new(o));
                }
                Adapter::DrawGradient(a)
            }
            Adaptation::Pooled => Adapter::Pooled,
            Adaptation::Windowed => Adapter::Windowed(Windowed::new(warmup, dim)),
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
            Adapter::DrawGradient(a) => {
                [&a.fg.0, &a.fg.1, &a.bg.0, &a.bg.1].into_iter().for_each(Welford::prefetch);
                prefetch(a.prev_q.as_deref().unwrap_or(&[]));
                prefetch(&a.metric);
            }
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
            Adapter::DrawGradient(a) => &a.metric,
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

/// nutpie's running draw-and-gradient adaptation state (`nuts-rs`' `GlobalStrategy` with its
/// diagonal `Strategy`).
#[derive(Clone, Debug)]
pub struct DrawGradient {
    early_end: usize,
    step_size_only_from: usize,
    window: usize,
    changed: bool,
    fg: (Welford, Welford),
    bg: (Welford, Welford),
    prev_q: Option<Vec<f64>>,
    /// The foreground's draws and gradients, kept for [`Metric::LowRank`].
    low_rank: Option<Store>,
    metric: Vec<f64>,
}

impl DrawGradient {
    fn new(warmup: usize, dim: usize) -> DrawGradient {
        let w = warmup as f64;
        DrawGradient {
            early_end: (EARLY_SHARE * w) as usize,
            step_size_only_from: warmup - (STEP_SIZE_SHARE * w) as usize,
            window: MAIN_WINDOW,
            changed: false,
            fg: (Welford::new(dim), Welford::new(dim)),
            bg: (Welford::new(dim), Welford::new(dim)),
            prev_q: None,
            low_rank: None,
            metric: Vec::new(),
        }
    }

    fn on_draw(&mut self, draw: usize, q: &[f64], g: &[f64]) -> AdaptStep {
        // A draw equal to its trajectory's start (the previous draw) carries no new information
        // about the spread: nutpie leaves such draws out.
        let fresh = self.prev_q.as_deref() != Some(q);
        match &mut self.prev_q {
            Some(p) => p.copy_from_slice(q),
            None => self.prev_q = Some(q.to_vec()),
        }
        if draw >= self.step_size_only_from {
            return AdaptStep::default();
        }
        let early = draw < self.early_end;
        if draw == self.early_end {
            self.window = self.window.max(self.bg.0.count());
        }
        if fresh {
            for (x, gr) in [&mut self.fg, &mut self.bg] {
                x.add(q);
                gr.add(g);
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
        if self.bg.0.count() >= switch_at && !late {
            // The old foreground's buffers become the new background's.
            std::mem::swap(&mut self.fg, &mut self.bg);
            self.bg.0.restart();
            self.bg.1.restart();
            if let Some(s) = &mut self.low_rank {
                s.switch();
            }
            if !early {
                self.window = next_window;
            }
        }
        let mut step = AdaptStep::default();
        if let Some(s) = &mut self.low_rank {
            if draw >= 1
                && let Some((inv_mass, low_rank)) = s.update()
            {
                self.metric = inv_mass;
                step.inv_mass = true;
                step.low_rank = Some(low_rank);
                step.search_step_size = !self.changed;
                self.changed = true;
            }
            return step;
        }
        if draw >= 1 && self.fg.0.count() >= 3 {
            draw_gradient_metric(&self.fg.0, &self.fg.1, &mut self.metric);
            step.inv_mass = true;
            step.search_step_size = !self.changed;
            self.changed = true;
        }
        step
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
            let before = a.bg.0.count();
            a.on_draw(draw, &[draw as f64], &[1.0 + (draw % 3) as f64]);
            if a.bg.0.count() < before + 1 && draw < 850 {
                switches.push(draw);
            }
        }
        let early: Vec<usize> = (9..300).step_by(10).collect();
        assert_eq!(&switches[..early.len()], &early[..]);
        assert_eq!(&switches[early.len()..], &[379, 499]);
        assert_eq!(a.fg.0.count(), 850 - 380);
    }

    #[test]
    fn repeated_draws_are_not_counted() {
        let mut a = DrawGradient::new(100, 1);
        a.on_draw(0, &[1.0], &[0.5]);
        a.on_draw(1, &[1.0], &[0.5]);
        a.on_draw(2, &[2.0], &[0.2]);
        assert_eq!(a.fg.0.count(), 2);
    }
}
