//! Metric adaptation during warmup: Stan's windowed variance estimate, or nutpie's running
//! draw-and-gradient estimate. Each warmup draw goes to an [`Adapter`], which answers with a new
//! inverse mass diagonal when it has one and says whether the step size must be searched again.

use super::low_rank::{Metric, Store};
use super::mass_matrix::{Welford, draw_gradient_metric, merged_draw_gradient_ratio};
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
    /// The inverse mass diagonal changed: read it with [`Adapter::push_inv_mass`] (into a
    /// buffer of the caller's, so a refresh after every draw allocates nothing).
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
                    a.low_rank = Some(Box::new((Store::new(o), Vec::new())));
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

    /// Appends the inverse mass diagonal last reported as changed to `out` (nothing before
    /// any change, and never for [`Adapter::Pooled`]). nutpie's schedule forms it here from
    /// its estimators, so a host loop appends it to a buffer of its own while the chain's
    /// state is in cache.
    pub fn push_inv_mass(&self, out: &mut Vec<f64>) {
        match self {
            Adapter::DrawGradient(a) => a.push_metric(out),
            Adapter::Windowed(a) => out.extend_from_slice(&a.metric),
            Adapter::Pooled => {}
        }
    }

    /// [`Adapter::push_inv_mass`] into a new vector.
    pub fn inv_mass(&self) -> Vec<f64> {
        let mut out = Vec::new();
        self.push_inv_mass(&mut out);
        out
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

/// Slots of one window's estimators in a [`DrawGradient`]'s buffer: the draws' means and sums
/// of squared deviations, then the gradients'.
const WINDOW_SLOTS: usize = 4;

/// A 64-bit fingerprint of a draw: the wrapping sum over coordinates `i` of a bijection of
/// coordinate `i`'s bits (a multiplication by an odd constant that depends on `i`, then a
/// rotation), with -0 read as +0. Draws that differ in one coordinate always differ in
/// fingerprint; unstructured differences collide with probability about 2⁻⁶⁴. (A draw with a
/// NaN repeats as a draw when its bits do.) The terms are independent, so no chain of
/// multiplications delays the draw.
fn fingerprint(q: &[f64]) -> u64 {
    q.iter().enumerate().fold(0, |h: u64, (i, x)| {
        let odd = 0x9E37_79B9_7F4A_7C15_u64.wrapping_add(2 * i as u64);
        h.wrapping_add((x + 0.0).to_bits().wrapping_mul(odd).rotate_left(i as u32))
    })
}

/// nutpie's running draw-and-gradient adaptation state (`nuts-rs`' `GlobalStrategy` with its
/// diagonal `Strategy`).
///
/// nutpie keeps a foreground and a background estimator pair (draws and gradients). Both see
/// every fresh draw; at a switch the background becomes the foreground and an empty
/// background starts. So the foreground's draws are those of two consecutive windows: the
/// background's (the current window) and the window before it. This state keeps one Welford
/// pair per window, updates only the current window's per draw, and forms the foreground's
/// variances by merging the two windows (Chan et al.) when the metric is read: half the
/// writes of updating two overlapping pairs. At tens of thousands of chains the host loop
/// reads each chain's state from memory, so both windows sit in one buffer, and the previous
/// draw, kept only to tell a repeated one, is a 64-bit fingerprint of its bits.
#[derive(Clone, Debug)]
pub struct DrawGradient {
    early_end: usize,
    step_size_only_from: usize,
    window: usize,
    changed: bool,
    /// Which window (0 or 1) is the current one (the background).
    cur: usize,
    /// The previous draw's fingerprint, once there was one.
    prev: Option<u64>,
    has_metric: bool,
    dim: usize,
    /// Fresh draws in each window.
    counts: [f64; 2],
    /// Window `w`'s estimators in slots `WINDOW_SLOTS · w ..` of `dim` values each.
    buf: Vec<f64>,
    /// With [`Metric::LowRank`]: the foreground's draws and gradients, and the diagonal they
    /// last gave.
    low_rank: Option<Box<(Store, Vec<f64>)>>,
}

impl DrawGradient {
    fn new(warmup: usize, dim: usize) -> DrawGradient {
        let w = warmup as f64;
        DrawGradient {
            early_end: (EARLY_SHARE * w) as usize,
            step_size_only_from: warmup - (STEP_SIZE_SHARE * w) as usize,
            window: MAIN_WINDOW,
            changed: false,
            cur: 0,
            prev: None,
            has_metric: false,
            dim,
            counts: [0.0; 2],
            buf: vec![0.0; 2 * WINDOW_SLOTS * dim],
            low_rank: None,
        }
    }

    /// Where window `w`'s slots sit in the buffer.
    fn window_range(&self, w: usize) -> std::ops::Range<usize> {
        let n = WINDOW_SLOTS * self.dim;
        w * n..(w + 1) * n
    }

    /// Window `w`'s slots.
    fn window(&self, w: usize) -> &[f64] {
        &self.buf[self.window_range(w)]
    }

    /// Fresh draws in the background (the current window).
    fn count_bg(&self) -> usize {
        self.counts[self.cur] as usize
    }

    /// Fresh draws in the foreground (both windows).
    fn count_fg(&self) -> usize {
        (self.counts[0] + self.counts[1]) as usize
    }

    /// Adds a fresh draw `q` and its gradient `g` to the current window.
    fn add(&mut self, q: &[f64], g: &[f64]) {
        let d = self.dim;
        let n = &mut self.counts[self.cur];
        *n += 1.0;
        // One division per draw rather than per coordinate.
        let w = 1.0 / *n;
        let at = self.window_range(self.cur);
        let slots = &mut self.buf[at];
        let (mx, rest) = slots.split_at_mut(d);
        let (sx, rest) = rest.split_at_mut(d);
        let (mg, sg) = rest.split_at_mut(d);
        for i in 0..d.min(q.len()).min(g.len()) {
            let dx = q[i] - mx[i];
            mx[i] += dx * w;
            sx[i] += dx * (q[i] - mx[i]);
            let dg = g[i] - mg[i];
            mg[i] += dg * w;
            sg[i] += dg * (g[i] - mg[i]);
        }
    }

    /// The background becomes the foreground: the older window is forgotten and starts
    /// again as the current one.
    fn switch(&mut self) {
        self.cur = 1 - self.cur;
        self.counts[self.cur] = 0.0;
        let at = self.window_range(self.cur);
        self.buf[at].fill(0.0);
    }

    fn on_draw(&mut self, draw: usize, q: &[f64], g: &[f64]) -> AdaptStep {
        // The step-size-only phase lasts to the end of warmup: nothing here is read again.
        if draw >= self.step_size_only_from {
            return AdaptStep::default();
        }
        // A draw equal to its trajectory's start (the previous draw) carries no new information
        // about the spread: nutpie leaves such draws out.
        let print = fingerprint(q);
        let fresh = self.prev != Some(print);
        self.prev = Some(print);
        let early = draw < self.early_end;
        if draw == self.early_end {
            self.window = self.window.max(self.count_bg());
        }
        if fresh {
            self.add(q, g);
            if let Some(s) = &mut self.low_rank {
                s.0.add(q, g);
            }
        }
        let (switch_at, next_window) = if early {
            (EARLY_WINDOW, EARLY_WINDOW)
        } else {
            (self.window, (self.window + 1).max((self.window as f64 * WINDOW_GROWTH).round() as usize))
        };
        // Switch only when a whole next window still fits before the step-size-only phase.
        let late = draw + next_window > self.step_size_only_from;
        if self.count_bg() >= switch_at && !late {
            self.switch();
            if let Some(s) = &mut self.low_rank {
                s.0.switch();
            }
            if !early {
                self.window = next_window;
            }
        }
        let mut step = AdaptStep::default();
        if let Some(s) = &mut self.low_rank {
            if draw >= 1
                && let Some((inv_mass, low_rank)) = s.0.update()
            {
                s.1 = inv_mass;
                self.has_metric = true;
                step.inv_mass = true;
                step.low_rank = Some(low_rank);
                step.search_step_size = !self.changed;
                self.changed = true;
            }
            return step;
        }
        if draw >= 1 && self.count_fg() >= 3 {
            self.has_metric = true;
            step.inv_mass = true;
            step.search_step_size = !self.changed;
            self.changed = true;
        }
        step
    }

    /// Appends the metric last reported (nothing before the first): the foreground's
    /// `sqrt(var(x) / var(∇log p))`, from both windows merged.
    fn push_metric(&self, out: &mut Vec<f64>) {
        if !self.has_metric {
            return;
        }
        if let Some(s) = &self.low_rank {
            out.extend_from_slice(&s.1);
            return;
        }
        // The estimators change only on draws that report a metric (and the step-size-only
        // phase returns before touching them), so what is formed here is what was reported.
        let (old, cur) = (self.counts[1 - self.cur], self.counts[self.cur]);
        let at = out.len();
        out.resize(at + self.dim, 0.0);
        merged_draw_gradient_ratio(
            old * cur / (old + cur),
            (self.window(1 - self.cur), self.window(self.cur)),
            &mut out[at..],
        );
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
                last = Some(a.inv_mass());
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
            let before = a.count_bg();
            a.on_draw(draw, &[draw as f64], &[1.0 + (draw % 3) as f64]);
            if a.count_bg() < before + 1 && draw < 850 {
                switches.push(draw);
            }
        }
        let early: Vec<usize> = (9..300).step_by(10).collect();
        assert_eq!(&switches[..early.len()], &early[..]);
        assert_eq!(&switches[early.len()..], &[379, 499]);
        assert_eq!(a.count_fg(), 850 - 380);
    }

    /// A one-ulp change of any coordinate, swapped coordinates (also 64 apart) change the
    /// fingerprint; a signed zero does not.
    #[test]
    fn fingerprints_tell_draws_apart() {
        let q = [0.5, -1.25, 3.0];
        assert_eq!(fingerprint(&q), fingerprint(&[0.5, -1.25, 3.0]));
        assert_eq!(fingerprint(&[0.0, 1.0]), fingerprint(&[-0.0, 1.0]));
        for i in 0..q.len() {
            let mut r = q;
            r[i] = f64::from_bits(r[i].to_bits() + 1);
            assert_ne!(fingerprint(&q), fingerprint(&r), "coordinate {i}");
        }
        assert_ne!(fingerprint(&[1.0, 2.0]), fingerprint(&[2.0, 1.0]));
        let mut long: Vec<f64> = (0..130).map(f64::from).collect();
        let before = fingerprint(&long);
        long.swap(3, 67);
        assert_ne!(before, fingerprint(&long));
    }

    #[test]
    fn repeated_draws_are_not_counted() {
        let mut a = DrawGradient::new(100, 1);
        a.on_draw(0, &[1.0], &[0.5]);
        a.on_draw(1, &[1.0], &[0.5]);
        a.on_draw(2, &[2.0], &[0.2]);
        assert_eq!(a.count_fg(), 2);
    }

    /// The metric from the two windows merged equals nutpie's foreground estimate computed
    /// directly: two-pass variances of the foreground's fresh draws and gradients (those since
    /// the switch before last), at every draw that reports a metric.
    #[test]
    fn merged_windows_give_the_foreground_variances() {
        let d = 4;
        let mut a = DrawGradient::new(400, d);
        let (mut fresh, mut starts) = (Vec::<(Vec<f64>, Vec<f64>)>::new(), [0, 0]);
        let mut checked = 0;
        for draw in 0..400 {
            // Shifted, scaled sequences, every fifth draw repeated.
            let k = if draw % 5 == 4 { draw - 1 } else { draw };
            let q: Vec<f64> =
                (0..d).map(|i| 100.0 + ((k * 7919 + i * 104729) % 997) as f64 * (i + 1) as f64).collect();
            // Not a function of the draw (for which the ratio would hide any error in the
            // variances).
            let g: Vec<f64> =
                (0..d).map(|i| ((k * 6007 + i * 7) % 991) as f64 / (i as f64 + 0.5) - 40.0).collect();
            let before = a.count_bg();
            if draw % 5 != 4 {
                fresh.push((q.clone(), g.clone()));
            }
            let step = a.on_draw(draw, &q, &g);
            if a.count_bg() < before + usize::from(draw % 5 != 4) {
                // A switch: the background (since starts[1]) became the foreground.
                starts = [starts[1], fresh.len()];
            }
            if !step.inv_mass {
                continue;
            }
            let fg = &fresh[starts[0]..];
            // Sum of squared deviations (the counts cancel in the ratio).
            let ss = |v: Vec<f64>| {
                let mean = v.iter().sum::<f64>() / v.len() as f64;
                v.iter().map(|x| (x - mean).powi(2)).sum::<f64>()
            };
            let mut got = Vec::new();
            a.push_metric(&mut got);
            for (i, m) in got.iter().enumerate() {
                let want = (ss(fg.iter().map(|p| p.0[i]).collect())
                    / ss(fg.iter().map(|p| p.1[i]).collect()))
                .sqrt();
                assert!((m / want - 1.0).abs() < 1e-12, "draw {draw}, coordinate {i}: {m} vs {want}");
            }
            checked += 1;
        }
        assert!(checked > 300, "{checked} metrics checked");
    }
}
