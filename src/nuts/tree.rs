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

/// The most doublings a trajectory makes, whatever limit it is given.
pub const MAX_DEPTH: u32 = 30;

/// Iterations whose trajectories' direction words come from one random block.
pub const DIRECTIONS_PER_BLOCK: u64 = 4;

/// A chain's trajectory direction words: iteration `t`'s is word `t % 4` of the chain's
/// [`Purpose::Direction`] block `t / 4`, so the host draws one Philox block per four
/// trajectories (a block is four words, and a trajectory needs one). The last block drawn is
/// kept.
#[derive(Clone, Debug)]
pub struct DirectionWords {
    block: u64,
    words: [u32; 4],
}

impl Default for DirectionWords {
    fn default() -> DirectionWords {
        DirectionWords { block: u64::MAX, words: [0; 4] }
    }
}

impl DirectionWords {
    /// Iteration `iteration`'s direction word in the stream `rng`.
    pub fn word(&mut self, rng: &ChainRng, iteration: u64) -> u32 {
        let block = iteration / DIRECTIONS_PER_BLOCK;
        if block != self.block {
            (self.block, self.words) = (block, rng.words(block, 0, Purpose::Direction));
        }
        self.words[(iteration % DIRECTIONS_PER_BLOCK) as usize]
    }
}

/// Doubling `depth`'s direction from the trajectory's bits.
fn direction(directions: u32, depth: u32) -> Direction {
    if directions.checked_shr(depth).unwrap_or(0) & 1 == 1 { Direction::Forward } else { Direction::Backward }
}

impl Trajectory {
    /// A new trajectory for `iteration`, whose every doubling's direction comes from one
    /// random word, `directions` (see [`DirectionWords`]), of at most `max_depth` doublings
    /// and never more than [`MAX_DEPTH`].
    pub fn new(directions: u32, iteration: u64, max_depth: u32) -> Trajectory {
        Trajectory {
            iteration,
            depth: 0,
            leaf: 0,
            direction: direction(directions, 0),
            // A subtree's leaves are counted in 32 bits: deeper limits stop at 30 doublings,
            // as the sampler's option does.
            max_depth: max_depth.min(MAX_DEPTH),
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
        let (ended, end) = self.step(rep);
        ended.then_some(end)
    }

    /// [`Trajectory::advance`] as a flag and the end the trajectory would have: whether it
    /// ended, and how. A host loop calls it for tens of thousands of chains per dispatch,
    /// whose reports it cannot predict, so it selects rather than branches on them. After an
    /// end the state is spent (the chain starts a new trajectory).
    #[inline]
    pub(crate) fn step(&mut self, rep: &LeafReport) -> (bool, TrajectoryEnd) {
        self.begun = true;
        let stop = rep.diverged | rep.subtree_turning;
        // The leaf completes its subtree: the trajectory doubles, unless it stops.
        let full = self.leaf + 1 == 1 << self.depth;
        let depth = self.depth + u32::from(full);
        let ended = stop | (full & (rep.tree_turning | (depth >= self.max_depth)));
        let end = TrajectoryEnd { diverged: rep.diverged, depth: self.depth + u32::from(full & !stop) };
        self.leaf = if full { 0 } else { self.leaf + 1 };
        self.depth = depth;
        self.direction = direction(self.directions, depth);
        (ended, end)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The trajectory's state machine as first written, with a branch per report flag: the
    /// oracle for [`Trajectory::step`], which selects instead.
    struct Branchy {
        depth: u32,
        leaf: u32,
        max_depth: u32,
        directions: u32,
    }

    impl Branchy {
        fn advance(&mut self, rep: &LeafReport) -> Option<TrajectoryEnd> {
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
            None
        }
    }

    /// Over random reports (divergences, U-turns of subtrees and of whole trajectories) and
    /// depth limits, every leaf's command and every end agree with the branching version.
    #[test]
    fn selecting_steps_agree_with_branching_ones() {
        let rng = ChainRng::new(11, 0);
        let mut ends = [0usize; 3];
        for t in 0..4000u64 {
            let w = rng.words(t, 0, Purpose::Leaf);
            let (directions, max_depth) = (w[0], 1 + w[1] % 10);
            let mut traj = Trajectory::new(directions, t, max_depth);
            let mut oracle = Branchy { depth: 0, leaf: 0, max_depth, directions };
            for leaf in 0u32.. {
                let cmd = traj.command(3, 0.5);
                assert_eq!((cmd.depth, cmd.leaf), (oracle.depth, oracle.leaf), "trajectory {t}, leaf {leaf}");
                assert_eq!(cmd.direction, direction(oracle.directions, oracle.depth));
                assert_eq!(cmd.begin, leaf == 0);
                let r = rng.words(t, leaf + 1, Purpose::Leaf)[2];
                let rep = LeafReport {
                    diverged: r.is_multiple_of(200),
                    subtree_turning: r % 23 == 1,
                    tree_turning: r % 3 == 2,
                    energy_error: 0.0,
                };
                let (got, want) = (traj.advance(&rep), oracle.advance(&rep));
                assert_eq!(got, want, "trajectory {t}, leaf {leaf}");
                if let Some(end) = got {
                    // Divergences, subtrees turning, and the rest (turns and depth limits).
                    let kind =
                        usize::from(!end.diverged) + usize::from(!end.diverged && !rep.subtree_turning);
                    ends[kind] += 1;
                    break;
                }
            }
        }
        assert!(ends.iter().all(|&n| n >= 20), "every kind of end was seen: {ends:?}");
    }

    /// Whatever the order of the requests, iteration `t`'s word is word `t % 4` of block
    /// `t / 4`, and the words of neighbouring iterations differ.
    #[test]
    fn direction_words_come_four_to_a_block() {
        let rng = ChainRng::new(7, 3);
        let mut words = DirectionWords::default();
        let order = [0u64, 1, 2, 3, 4, 9, 5, 8, 7, 6, 100, 3, 101, 0];
        let got: Vec<u32> = order.iter().map(|&t| words.word(&rng, t)).collect();
        for (&t, &w) in order.iter().zip(&got) {
            assert_eq!(w, rng.words(t / 4, 0, Purpose::Direction)[(t % 4) as usize], "iteration {t}");
        }
        let first: std::collections::HashSet<u32> = got[..10].iter().copied().collect();
        assert_eq!(first.len(), 10);
    }
}
