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
}

fn direction(rng: &ChainRng, iteration: u64, depth: u32) -> Direction {
    if rng.uniform(iteration, depth, Purpose::Direction) < 0.5 {
        Direction::Backward
    } else {
        Direction::Forward
    }
}

impl Trajectory {
    /// A new trajectory for `iteration`.
    pub fn new(rng: &ChainRng, iteration: u64, max_depth: u32) -> Trajectory {
        Trajectory {
            iteration,
            depth: 0,
            leaf: 0,
            direction: direction(rng, iteration, 0),
            max_depth,
            begun: false,
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
    pub fn advance(&mut self, rng: &ChainRng, rep: &LeafReport) -> Option<TrajectoryEnd> {
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
        self.direction = direction(rng, self.iteration, self.depth);
        None
    }
}
