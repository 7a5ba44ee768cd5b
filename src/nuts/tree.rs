//! Host control flow of one NUTS trajectory: which leaf to build next, when to double, when to
//! stop. The arithmetic of each leaf runs on the backend (see `backend::step`).

use crate::backend::{Direction, LeafReport, StepCommand};
use crate::rng::{ChainRng, Purpose};

/// How a trajectory ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TrajectoryEnd {
    /// A leaf diverged.
    pub diverged: bool,
    /// Number of completed doublings (Stan's `treedepth__`).
    pub depth: u32,
}

/// Resumable state of one trajectory.
#[derive(Clone, Debug)]
pub struct Trajectory {
    iteration: u64,
    depth: u32,
    leaf: u32,
    direction: Direction,
    max_depth: u32,
    begun: bool,
    /// One random bit per doubling: bit `k` set means doubling `k` goes forward.
    directions: u32,
}

/// Doubling `depth`'s direction from the trajectory's bits.
fn direction(directions: u32, depth: u32) -> Direction {
    if directions >> depth & 1 == 1 { Direction::Forward } else { Direction::Backward }
}

impl Trajectory {
    /// A new trajectory for `iteration`. Every doubling's direction comes from one random
    /// word drawn here (the sampler caps the depth at 30 doublings), so the host draws one
    /// block of random numbers per trajectory rather than one per doubling.
    pub fn new(rng: &ChainRng, iteration: u64, max_depth: u32) -> Trajectory {
        let directions = rng.words(iteration, 0, Purpose::Direction)[0];
        Trajectory {
            iteration,
            depth: 0,
            leaf: 0,
            direction: direction(directions, 0),
            max_depth,
            begun: false,
            directions,
        }
    }

    /// The next leaf to build.
    pub fn command(&self, chain: usize, step_size: f64) -> StepCommand {
        StepCommand {
            chain,
            begin: !self.begun,
            probe: false,
            direction: self.direction,
            depth: self.depth,
            leaf: self.leaf,
            step_size,
            iteration: self.iteration,
        }
    }

    /// Consumes the report of the last leaf; returns how the trajectory ended, if it did.
    pub fn advance(&mut self, rep: &LeafReport) -> Option<TrajectoryEnd> {
        self.begun = true;
        let end = |diverged, depth| Some(TrajectoryEnd { diverged, depth });
        if rep.diverged {
            return end(true, self.depth);
        }
        if rep.subtree_turning {
            return end(false, self.depth);
        }
        if self.leaf + 1 < (1 << self.depth) {
            self.leaf += 1;
            return None;
        }
        self.depth += 1;
        if rep.tree_turning || self.depth >= self.max_depth {
            return end(false, self.depth);
        }
        self.leaf = 0;
        self.direction = direction(self.directions, self.depth);
        None
    }
}
