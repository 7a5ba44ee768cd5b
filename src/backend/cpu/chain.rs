//! One chain's trajectory state and the reference (f64) implementation of the fused leaf step.
//!
//! The trajectory is built iteratively (NumPyro's formulation): leaves are added one at a time
//! to a subtree of `2^depth` leaves; U-turn checks of every completed sub-subtree, including
//! Stan's extra checks across the boundary of its two halves, use `O(depth)` checkpoints of
//! momenta and running momentum sums instead of recursion.

use super::lanes::{self, Piece};
use crate::backend::metric::LowRank;
use crate::backend::step::{Direction, DrawState, LeafReport, MAX_ENERGY_ERROR, StepCommand};
use crate::rng::{ChainRng, Purpose};

/// Phase-space point with its log density and gradient (and, under a low-rank metric, its
/// velocity `M⁻¹p`).
#[derive(Clone, Debug)]
pub(crate) struct Point {
    q: Vec<f64>,
    p: Vec<f64>,
    v: Vec<f64>,
    g: Vec<f64>,
    logp: f64,
}

impl Point {
    fn new(d: usize) -> Point {
        Point { q: vec![0.0; d], p: vec![0.0; d], v: vec![0.0; d], g: vec![0.0; d], logp: f64::NEG_INFINITY }
    }

    /// Copies `other` (vectors of the same lengths); the velocity only where it is used (under
    /// a low-rank metric).
    fn copy_from(&mut self, other: &Point, velocity: bool) {
        lanes::copy(&mut self.q, &other.q);
        lanes::copy(&mut self.p, &other.p);
        if velocity {
            lanes::copy(&mut self.v, &other.v);
        }
        lanes::copy(&mut self.g, &other.g);
        self.logp = other.logp;
    }

    /// The vector the U-turn checks multiply with momentum sums: the velocity under a low-rank
    /// metric (checked with unit weights), the momentum under a diagonal one (checked with the
    /// diagonal as weights).
    fn sharp(&self, low_rank: bool) -> &[f64] {
        if low_rank { &self.v } else { &self.p }
    }
}

/// A selected sample (proposal).
#[derive(Clone, Debug)]
struct Sample {
    q: Vec<f64>,
    g: Vec<f64>,
    logp: f64,
    energy: f64,
}

impl Sample {
    fn take(&mut self, z: &Point, energy: f64) {
        lanes::copy(&mut self.q, &z.q);
        lanes::copy(&mut self.g, &z.g);
        self.logp = z.logp;
        self.energy = energy;
    }
    fn copy_from(&mut self, other: &Sample) {
        lanes::copy(&mut self.q, &other.q);
        lanes::copy(&mut self.g, &other.g);
        self.logp = other.logp;
        self.energy = other.energy;
    }
}

/// All per-chain vectors a backend keeps.
#[derive(Clone, Debug)]
pub struct ChainState {
    rng: ChainRng,
    /// Inverse mass-matrix diagonal.
    inv_mass: Vec<f64>,
    /// Its square roots (momentum scales; the scales of a low-rank metric).
    sigma: Vec<f64>,
    /// The low-rank correction, when the metric has one (rank ≥ 1).
    low_rank: Option<LowRank>,
    /// Unit weights: the U-turn checks' weights under a low-rank metric (they take velocities).
    ones: Vec<f64>,
    /// Zeros: the lower end of a momentum sum that starts at the trajectory's start.
    zeros: Vec<f64>,
    /// Scratch: standard normals of a momentum, and the low-rank products' coefficients.
    normals: Vec<f64>,
    coeffs: Vec<f64>,
    /// Ends of the trajectory: `[backward, forward]`.
    ends: [Point; 2],
    h0: f64,
    /// Log weight the linear weights below are relative to: a leaf of log weight `w` weighs
    /// `e^(w − ref_w)`. Zero from the trajectory's start (its first point weighs 1) until a
    /// leaf rises [`RESCALE_ABOVE`] above it.
    ref_w: f64,
    /// Selected sample of the whole trajectory (the draw).
    sample: Sample,
    /// The trajectory's weight (the sum of its leaves' weights).
    traj_w: f64,
    rho: Vec<f64>,
    /// Subtree under construction.
    sub: Sample,
    /// The subtree's weight.
    sub_w: f64,
    /// Running momentum sum over the subtree's leaves.
    sub_sum: Vec<f64>,
    /// Momentum at the trajectory's end next to the subtree, when the subtree started.
    near_p: Vec<f64>,
    /// Checkpoints: per slot (see [`slot`]) the momentum at the first leaf of a block (written
    /// at even leaves only: a block starting at an odd leaf is that one leaf, whose momentum a
    /// merge reads as it is) and the running sum before it; per level the momentum at the last
    /// leaf of the latest first-half block. The running sum there is the second half's `beg_s`.
    beg_p: Vec<Vec<f64>>,
    beg_s: Vec<Vec<f64>>,
    half_p: Vec<Vec<f64>>,
    sum_accept: f64,
    n_leapfrog: u32,
}

/// Checkpoint slot of the block starting at leaf `s` of a depth-`depth` subtree: blocks that
/// start at the same leaf share one slot (its trailing zeros), and no leaf inside a block
/// writes the slot of the block's start.
fn slot(s: usize, depth: usize) -> usize {
    if s == 0 { depth } else { (s.trailing_zeros() as usize).min(depth) }
}

/// How far a leaf's log weight may rise above the trajectory's reference (see
/// [`ChainState::weight`]) before the weights are rescaled: `e^30` times the at most `2³⁰`
/// leaves of a tree (the largest `max_treedepth`) stays far from overflow.
const RESCALE_ABOVE: f64 = 30.0;

impl ChainState {
    /// State for a chain of dimension `d` with trees up to `max_depth`.
    pub fn new(d: usize, max_depth: usize, rng: ChainRng) -> ChainState {
        let levels = max_depth + 1;
        let zeros = || vec![0.0; d];
        let sample = Sample { q: zeros(), g: zeros(), logp: f64::NEG_INFINITY, energy: 0.0 };
        ChainState {
            rng,
            inv_mass: vec![1.0; d],
            sigma: vec![1.0; d],
            low_rank: None,
            ones: vec![1.0; d],
            zeros: zeros(),
            normals: zeros(),
            coeffs: Vec::new(),
            ends: [Point::new(d), Point::new(d)],
            h0: 0.0,
            sub: sample.clone(),
            sample,
            ref_w: 0.0,
            traj_w: 1.0,
            rho: zeros(),
            sub_w: 0.0,
            sub_sum: zeros(),
            near_p: zeros(),
            beg_p: vec![zeros(); levels],
            beg_s: vec![zeros(); levels],
            half_p: vec![zeros(); levels],
            sum_accept: 0.0,
            n_leapfrog: 0,
        }
    }

    /// The inverse mass diagonal.
    pub fn inv_mass(&self) -> &[f64] {
        &self.inv_mass
    }

    /// Sets the inverse mass diagonal (the low-rank correction, if any, is kept).
    pub fn set_inv_mass(&mut self, inv_mass: &[f64]) {
        lanes::copy(&mut self.inv_mass, inv_mass);
        for (s, m) in self.sigma.iter_mut().zip(inv_mass) {
            *s = m.sqrt();
        }
    }

    /// Sets the low-rank correction of the metric (rank zero: the diagonal metric alone).
    pub fn set_low_rank(&mut self, low_rank: &LowRank) {
        self.low_rank = (low_rank.rank() > 0).then(|| low_rank.clone());
    }

    /// The U-turn checks' weights.
    fn check_weights(&self) -> &[f64] {
        if self.low_rank.is_some() { &self.ones } else { &self.inv_mass }
    }

    /// Sets the current point (and selected sample).
    pub fn set_point(&mut self, q: &[f64], g: &[f64], logp: f64) {
        lanes::copy(&mut self.sample.q, q);
        lanes::copy(&mut self.sample.g, g);
        self.sample.logp = logp;
    }

    /// The selected sample.
    pub fn draw_state(&self, out: &mut DrawState) {
        out.q.clear();
        out.q.extend_from_slice(&self.sample.q);
        out.g.clear();
        out.g.extend_from_slice(&self.sample.g);
        out.logp = self.sample.logp;
        out.energy = self.sample.energy;
        out.energy_error = self.sample.energy - self.h0;
        out.sum_accept = self.sum_accept;
        out.n_leapfrog = self.n_leapfrog;
    }

    /// Kinetic energy of the end `z`, its velocity updated first under a low-rank metric.
    fn kinetic(&mut self, side: usize) -> f64 {
        let z = &mut self.ends[side];
        match &self.low_rank {
            Some(lr) => {
                lr.velocity(&self.sigma, &z.p, &mut z.v, &mut self.coeffs);
                0.5 * z.p.iter().zip(&z.v).map(|(p, v)| p * v).sum::<f64>()
            }
            None => 0.5 * lanes::weighted_dot(&self.inv_mass, &z.p, &z.p),
        }
    }

    /// Starts a trajectory at the selected sample with fresh momentum.
    fn begin(&mut self, iteration: u64, purpose: Purpose) {
        let z = &mut self.ends[0];
        lanes::copy(&mut z.q, &self.sample.q);
        lanes::copy(&mut z.g, &self.sample.g);
        z.logp = self.sample.logp;
        match &self.low_rank {
            Some(lr) => {
                self.rng.fill_normals(iteration, purpose, &mut self.normals);
                lr.momentum(&self.sigma, &self.normals, &mut z.p, &mut self.coeffs);
            }
            None => {
                self.rng.fill_normals(iteration, purpose, &mut z.p);
                for (p, s) in z.p.iter_mut().zip(&self.sigma) {
                    *p /= s;
                }
            }
        }
        let h0 = -self.ends[0].logp + self.kinetic(0);
        self.h0 = h0;
        let (a, b) = self.ends.split_at_mut(1);
        b[0].copy_from(&a[0], self.low_rank.is_some());
        self.sample.energy = h0;
        self.ref_w = 0.0;
        self.traj_w = 1.0;
        lanes::copy(&mut self.rho, &self.ends[0].p);
        self.sum_accept = 0.0;
        self.n_leapfrog = 0;
    }

    /// One leapfrog step from the end in `dir`; returns the new energy (NaN → +∞).
    fn leapfrog(&mut self, dir: Direction, eps: f64, grad: &mut dyn FnMut(&[f64], &mut [f64]) -> f64) -> f64 {
        let h = eps * dir.sign();
        let side = (dir == Direction::Forward) as usize;
        if self.low_rank.is_some() {
            return self.leapfrog_low_rank(side, h, grad);
        }
        let end = &mut self.ends[side];
        lanes::kick_drift(&mut end.p, &mut end.q, &end.g, &self.inv_mass, h);
        end.logp = grad(&end.q, &mut end.g);
        let (kinetic, finite) = lanes::kick_kinetic(&mut end.p, &end.g, &self.inv_mass, h);
        let finite = finite && end.logp.is_finite();
        let energy = -end.logp + 0.5 * kinetic;
        if finite && !energy.is_nan() { energy } else { f64::INFINITY }
    }

    /// [`ChainState::leapfrog`] under a low-rank metric: the drift moves along the velocity
    /// `M⁻¹p`, which is computed twice (after each half kick).
    fn leapfrog_low_rank(
        &mut self,
        side: usize,
        h: f64,
        grad: &mut dyn FnMut(&[f64], &mut [f64]) -> f64,
    ) -> f64 {
        let Some(lr) = &self.low_rank else { unreachable!("called under a low-rank metric only") };
        let end = &mut self.ends[side];
        for (p, g) in end.p.iter_mut().zip(&end.g) {
            *p += 0.5 * h * g;
        }
        lr.velocity(&self.sigma, &end.p, &mut end.v, &mut self.coeffs);
        for (q, v) in end.q.iter_mut().zip(&end.v) {
            *q += h * v;
        }
        end.logp = grad(&end.q, &mut end.g);
        let mut finite = end.logp.is_finite();
        for (p, g) in end.p.iter_mut().zip(&end.g) {
            *p += 0.5 * h * g;
            finite &= g.is_finite();
        }
        let energy = -self.ends[side].logp + self.kinetic(side);
        if finite && !energy.is_nan() { energy } else { f64::INFINITY }
    }

    /// The linear weight `e^(w − ref_w)` of a leaf of log weight `w` (minus its energy error),
    /// rescaling the trajectory's and the subtree's weights first when `w` rises more than
    /// [`RESCALE_ABOVE`] above the reference. Multinomial sampling needs only ratios of these
    /// weights, so one `exp` per leaf replaces a log-sum-exp's two `exp` and one `ln`; weights
    /// that underflow (`w` some 745 below the reference) would have had probability below
    /// `e^(−745)`.
    #[inline]
    fn weight(&mut self, w: f64) -> f64 {
        if w - self.ref_w > RESCALE_ABOVE {
            let f = (self.ref_w - w).exp();
            self.traj_w *= f;
            self.sub_w *= f;
            self.ref_w = w;
        }
        (w - self.ref_w).exp()
    }

    /// Executes one command; `grad` evaluates `logp` and writes the gradient.
    pub fn step(&mut self, cmd: &StepCommand, grad: &mut dyn FnMut(&[f64], &mut [f64]) -> f64) -> LeafReport {
        if cmd.probe {
            self.begin(cmd.iteration, Purpose::Probe);
            let energy = self.leapfrog(Direction::Forward, cmd.step_size, grad);
            return LeafReport { energy_error: energy - self.h0, ..LeafReport::default() };
        }
        if cmd.begin {
            self.begin(cmd.iteration, Purpose::Momentum);
        }
        let dir = cmd.direction;
        let side = (dir == Direction::Forward) as usize;
        let (depth, n) = (cmd.depth as usize, cmd.leaf as usize);
        if n == 0 {
            self.sub_w = 0.0;
            self.sub_sum.iter_mut().for_each(|s| *s = 0.0);
            lanes::copy(&mut self.near_p, self.ends[side].sharp(self.low_rank.is_some()));
        }
        let energy = self.leapfrog(dir, cmd.step_size, grad);
        self.n_leapfrog += 1;
        let energy_error = energy - self.h0;
        let w = -energy_error;
        let x = self.weight(w);
        // min(1, eʷ): the leaf's weight itself while the reference is the start's.
        self.sum_accept += if w > 0.0 {
            1.0
        } else if self.ref_w == 0.0 {
            x
        } else {
            w.exp()
        };
        if energy_error > MAX_ENERGY_ERROR {
            return LeafReport { diverged: true, energy_error, ..LeafReport::default() };
        }
        // Uniform progressive sampling inside the subtree: the new leaf with probability its
        // share of the subtree's weight.
        self.sub_w += x;
        let u = self.rng.uniform(cmd.iteration, self.n_leapfrog, Purpose::Leaf);
        if u < x / self.sub_w {
            let end = &self.ends[side];
            self.sub.take(end, energy);
        }
        // Running sum and the checkpoint of the blocks starting at this leaf (checkpoints keep
        // the sharp vector: see `Point::sharp`).
        let low_rank = self.low_rank.is_some();
        let p = self.ends[side].sharp(low_rank);
        let k = slot(n, depth);
        if n % 2 == 0 {
            lanes::copy(&mut self.beg_p[k], p);
        }
        lanes::copy(&mut self.beg_s[k], &self.sub_sum);
        for (s, pi) in self.sub_sum.iter_mut().zip(&self.ends[side].p) {
            *s += pi;
        }
        // Blocks ending at this leaf: a first half is stored, a second half is merged.
        let mut turning = false;
        for l in 0..depth {
            if !(n + 1).is_multiple_of(1 << l) {
                break;
            }
            if ((n + 1) >> l) % 2 == 1 {
                lanes::copy(&mut self.half_p[l], p);
                continue;
            }
            let (a_start, b_start) = (n + 1 - (2 << l), n + 1 - (1 << l));
            let (a_slot, b_slot) = (slot(a_start, depth), slot(b_start, depth));
            // The sum between the halves: the second half's starting sum (no leaf inside a
            // block writes its start's slot). A one-leaf second half (l = 0) is this leaf.
            let (mid_s, a_beg_s, sum) = (&self.beg_s[b_slot], &self.beg_s[a_slot], &self.sub_sum);
            let b_near = if l == 0 { p } else { &self.beg_p[b_slot] };
            let a = Piece { far: &self.beg_p[a_slot], near: &self.half_p[l], hi: mid_s, lo: a_beg_s };
            let b = Piece { far: p, near: b_near, hi: sum, lo: mid_s };
            if !lanes::merge_ok(self.check_weights(), &a, &b) {
                turning = true;
                break;
            }
        }
        if turning {
            return LeafReport { subtree_turning: true, energy_error, ..LeafReport::default() };
        }
        if n + 1 < (1 << depth) {
            return LeafReport { energy_error, ..LeafReport::default() };
        }
        // Subtree complete: biased progressive sampling at the top level.
        let u = self.rng.uniform(cmd.iteration, depth as u32, Purpose::Tree);
        if self.sub_w > self.traj_w || u < self.sub_w / self.traj_w {
            self.sample.copy_from(&self.sub);
        }
        self.traj_w += self.sub_w;
        let (rho, sum) = (&self.rho, &self.sub_sum);
        let zeros = &self.zeros;
        let old = Piece { far: self.ends[1 - side].sharp(low_rank), near: &self.near_p, hi: rho, lo: zeros };
        let new = Piece {
            far: self.ends[side].sharp(low_rank),
            near: &self.beg_p[slot(0, depth)],
            hi: sum,
            lo: zeros,
        };
        let ok = lanes::merge_ok(self.check_weights(), &old, &new);
        for (r, s) in self.rho.iter_mut().zip(&self.sub_sum) {
            *r += s;
        }
        LeafReport { tree_turning: !ok, energy_error, ..LeafReport::default() }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Linear weights keep the ratios of `e^w`: rescaled when a leaf rises past the reference,
    /// and every weight then relative to the new one.
    #[test]
    fn weights_rescale_and_keep_their_ratios() {
        let mut s = ChainState::new(3, 4, ChainRng::new(1, 0));
        s.sub_w = 0.5;
        assert_eq!(s.weight(-0.25), (-0.25f64).exp());
        assert_eq!(s.ref_w, 0.0);
        let x = s.weight(40.0);
        assert_eq!((x, s.ref_w), (1.0, 40.0));
        let rel = |a: f64, b: f64| ((a - b) / b).abs();
        assert!(rel(s.traj_w, (-40.0f64).exp()) < 1e-15, "{}", s.traj_w);
        assert!(rel(s.sub_w, 0.5 * (-40.0f64).exp()) < 1e-15, "{}", s.sub_w);
        assert!(rel(s.weight(39.0), (-1.0f64).exp()) < 1e-15);
        // A leaf far above every other: the others' weights underflow to zero.
        assert_eq!(s.weight(2000.0), 1.0);
        assert_eq!((s.traj_w, s.sub_w), (0.0, 0.0));
    }

    /// A subtree whose only leaf weighs zero (an energy error of 800: below the divergence
    /// threshold, above `exp`'s range) is never selected: the draw stays at the start, and
    /// nothing turns NaN.
    #[test]
    fn a_subtree_of_zero_weight_is_not_selected() {
        let mut s = ChainState::new(2, 4, ChainRng::new(3, 1));
        s.set_point(&[0.5, -0.5], &[0.0, 0.0], 0.0);
        let cmd = StepCommand {
            chain: 0,
            begin: true,
            probe: false,
            direction: Direction::Forward,
            depth: 0,
            leaf: 0,
            step_size: 0.1,
            iteration: 7,
        };
        let report = s.step(&cmd, &mut |_q: &[f64], g: &mut [f64]| {
            g.fill(0.0);
            -800.0
        });
        assert!(!report.diverged && report.energy_error > 745.0, "{report:?}");
        assert_eq!(s.sub_w, 0.0);
        let mut draw = DrawState::default();
        s.draw_state(&mut draw);
        assert_eq!((draw.q.as_slice(), draw.logp, draw.energy_error), ([0.5, -0.5].as_slice(), 0.0, 0.0));
        assert_eq!(s.traj_w, 1.0);
        assert!(draw.sum_accept == 0.0 && draw.n_leapfrog == 1, "{draw:?}");
    }
}
