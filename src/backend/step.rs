//! The fused leaf-step contract shared by every backend: commands in, a few scalars out.

/// Direction of integration along the trajectory.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Direction {
    /// Positive time.
    Forward,
    /// Negative time.
    Backward,
}

impl Direction {
    /// `+1.0` or `-1.0`.
    pub fn sign(self) -> f64 {
        match self {
            Direction::Forward => 1.0,
            Direction::Backward => -1.0,
        }
    }
}

/// What one chain does in one dispatch.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct StepCommand {
    /// Chain index within the backend.
    pub chain: usize,
    /// Start a new trajectory first: the last selected sample becomes the current point and
    /// the momentum is refreshed.
    pub begin: bool,
    /// A step-size probe: one leapfrog from the current point with fresh momentum, reporting
    /// only the energy error; the selected sample is left unchanged.
    pub probe: bool,
    /// Integration direction.
    pub direction: Direction,
    /// Depth of the subtree being built (it has `2^depth` leaves).
    pub depth: u32,
    /// Index of this leaf inside the subtree.
    pub leaf: u32,
    /// Step size: the trajectory's, the same for all its leaves (a backend may keep the one
    /// its start carried, as the GPU backend does).
    pub step_size: f64,
    /// Iteration counter used to key the random numbers (the probe number for probes); the
    /// same for all of a trajectory's leaves, like the step size.
    pub iteration: u64,
}

/// What comes back per chain per dispatch (fits in 32 bytes on a device).
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct LeafReport {
    /// Energy error exceeded the threshold or the density was not finite.
    pub diverged: bool,
    /// The subtree under construction made a U-turn (it is discarded).
    pub subtree_turning: bool,
    /// The subtree was completed and merged, and the whole trajectory now makes a U-turn.
    pub tree_turning: bool,
    /// `H(new point) - H0`.
    pub energy_error: f64,
}

/// The sample a trajectory selected, read once per draw.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct DrawState {
    /// Unconstrained position.
    pub q: Vec<f64>,
    /// Gradient of the log density there.
    pub g: Vec<f64>,
    /// Log density there.
    pub logp: f64,
    /// Hamiltonian of the selected point (with its momentum).
    pub energy: f64,
    /// `H(selected) - H0`.
    pub energy_error: f64,
    /// Sum over leaves of `min(1, exp(H0 - H))`.
    pub sum_accept: f64,
    /// Leapfrog steps taken in the trajectory.
    pub n_leapfrog: u32,
}

/// Divergence threshold on the energy error (Stan's `max_deltaH`).
pub const MAX_ENERGY_ERROR: f64 = 1000.0;
