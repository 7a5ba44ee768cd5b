//! How chains are spread over GPU invocations: one invocation per chain (small models), or one
//! workgroup per chain with lanes striding over the vectors (long parameter or data vectors).

use super::module::step_padded_dim;
use crate::compile::{Op, Program};

/// The user's choice of thread mapping ([`crate::sampler::Sampler::gpu_mapping`]).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum MappingChoice {
    /// [`Mapping::choose`] decides from the program's vector lengths.
    #[default]
    Auto,
    /// One invocation per chain.
    Invocation,
    /// One workgroup per chain (lanes chosen from the vector lengths).
    Workgroup,
}

/// A resolved thread mapping.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mapping {
    /// One invocation per chain holds the chain's vectors in private arrays.
    Invocation,
    /// One workgroup of `lanes` (a power of two) per chain; lane l owns elements
    /// l, l + lanes, … of every vector, and sums are reduced over the workgroup.
    Workgroup {
        /// Lanes per chain.
        lanes: u32,
    },
}

/// Padded dimension from which `Auto` picks one workgroup per chain (entry 21 of DECISIONS.md:
/// private arrays this long are indexed through predicated ladders on lavapipe and spill on
/// GPUs).
pub const WORKGROUP_MIN_DIM: usize = 32;

/// Longest program vector (data included) from which `Auto` picks one workgroup per chain.
pub const WORKGROUP_MIN_LEN: usize = 64;

/// Most lanes per chain.
pub const MAX_LANES: u32 = 256;

/// Fewest lanes per chain (the NUTS bookkeeping has about a dozen vector operations to spread).
pub const MIN_LANES: u32 = 16;

/// Largest padded dimension one invocation per chain accepts. Its private arrays cost about D²
/// on lavapipe (indexed through predicated ladders) and spill on GPUs; measured on lavapipe,
/// one chain of 10 iterations: D = 256 compiles in 1 s and samples in 17 s, D = 1,024 in 7 s and
/// 200 s, D = 4,096 did not finish compiling in 5 minutes. `Auto` never picks it beyond
/// [`WORKGROUP_MIN_DIM`]; a forced choice beyond this limit is a typed error, not a hang.
pub const MAX_INVOCATION_DIM: usize = 1024;

/// Workgroup size of the one-invocation-per-chain entry points.
pub const INVOCATION_WORKGROUP: u32 = 64;

impl Mapping {
    /// The mapping for `prog` under `choice`: one workgroup per chain when the padded dimension
    /// reaches [`WORKGROUP_MIN_DIM`], or when a vector reaches [`WORKGROUP_MIN_LEN`] elements
    /// and lanes can share the work (a third or more of it outside serial instructions, see
    /// [`serial_work`]); then enough lanes (a power of two in [`MIN_LANES`]..=[`MAX_LANES`]) to
    /// give each lane about four elements of the longest vector and one vec4 of the state.
    pub fn choose(prog: &Program, choice: MappingChoice) -> Mapping {
        let dim = step_padded_dim(prog.dim);
        let longest = prog.lens.iter().copied().max().unwrap_or(1);
        let shareable = || {
            let (serial, total) = serial_work(prog);
            (total - serial).saturating_mul(3) >= total
        };
        let wide = match choice {
            MappingChoice::Auto => dim >= WORKGROUP_MIN_DIM || (longest >= WORKGROUP_MIN_LEN && shareable()),
            MappingChoice::Invocation => false,
            MappingChoice::Workgroup => true,
        };
        if !wide {
            return Mapping::Invocation;
        }
        let want = (dim / 4).max(longest.div_ceil(4)).max(1) as u32;
        Mapping::Workgroup { lanes: want.next_power_of_two().clamp(MIN_LANES, MAX_LANES) }
    }

    /// Invocations per workgroup of the `begin` and `step` entry points.
    pub fn workgroup_size(self) -> u32 {
        match self {
            Mapping::Invocation => INVOCATION_WORKGROUP,
            Mapping::Workgroup { lanes } => lanes,
        }
    }

    /// Workgroups that serve `n` chains.
    pub fn workgroups(self, n: u32) -> u32 {
        match self {
            Mapping::Invocation => n.div_ceil(INVOCATION_WORKGROUP),
            Mapping::Workgroup { .. } => n,
        }
    }

    /// Chains per workgroup.
    pub fn chains_per_workgroup(self) -> u32 {
        match self {
            Mapping::Invocation => INVOCATION_WORKGROUP,
            Mapping::Workgroup { .. } => 1,
        }
    }

    /// Human-readable form, recorded in the fit's backend description.
    pub fn describe(self) -> String {
        match self {
            Mapping::Invocation => "one invocation per chain".into(),
            Mapping::Workgroup { lanes } => format!("one workgroup of {lanes} lanes per chain"),
        }
    }
}

/// `(serial, total)` element operations of one gradient: recurrences (steps × body
/// instructions, forward and adjoint) and running sums count as serial, because one lane of a
/// workgroup runs them while the others wait at a barrier, and so do the instructions every
/// lane computes whole (a vector family's density, a bijector, a triangular product: their
/// longest operand; a Cholesky factor and its adjoint: `tril::work`), since lanes do not
/// share them; every other instruction counts the
/// longest of its output and operands (constants and data count nothing). Where most of the
/// work is serial, lanes buy little and their barriers cost (GARCH(1,1), T = 200, on
/// lavapipe: 0.52 ms per dispatch with 64 lanes per chain, 0.31 ms with one invocation;
/// DECISIONS 66).
pub fn serial_work(prog: &Program) -> (usize, usize) {
    let (mut serial, mut parallel) = (0usize, 0usize);
    for ins in &prog.instrs {
        match &ins.op {
            Op::Scan(s) => serial = serial.saturating_add(s.steps.saturating_mul(s.body.instrs.len())),
            Op::ScanAdjoint(a) => {
                serial = serial.saturating_add(a.scan.steps.saturating_mul(a.vjp.instrs.len()))
            }
            Op::CumSum { src, .. } => serial = serial.saturating_add(prog.lens[*src]),
            Op::Tril { part, args } => {
                let len = |k: usize| args.get(k).map_or(0, |&a| prog.lens[a]);
                let lens = (len(0), len(1), prog.lens[ins.out]);
                serial = serial.saturating_add(crate::compile::tril::work(*part, lens))
            }
            Op::Const(_) | Op::Data(_) => {}
            // A reduction or a density reads more than it writes.
            op => {
                let longest = op.reads().iter().map(|&v| prog.lens[v]).fold(prog.lens[ins.out], usize::max);
                if super::codegen::is_block(op) {
                    serial = serial.saturating_add(longest)
                } else {
                    parallel = parallel.saturating_add(longest)
                }
            }
        }
    }
    (serial, serial.saturating_add(parallel))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::compile::compile;
    use crate::prelude::*;
    use crate::rewrite::RewriteOptions;

    fn program(dim: usize, observations: usize) -> Program {
        let mut m = Model::new();
        m.rv_vec("mu", Normal::new(0.0, 1.0), dim).unwrap();
        if observations > 0 {
            let sigma = m.rv("sigma", HalfNormal::new(1.0)).unwrap();
            let y: Vec<f64> = (0..observations).map(|i| (i % 7) as f64 * 0.3).collect();
            m.observe("y", Normal::new(0.0, sigma), &y).unwrap();
        }
        compile(&m, RewriteOptions::default()).unwrap().logp_grad
    }

    #[test]
    fn auto_picks_a_workgroup_for_long_vectors_only() {
        let auto = |p: &Program| Mapping::choose(p, MappingChoice::Auto);
        // Small models: one invocation per chain.
        assert_eq!(auto(&program(10, 0)), Mapping::Invocation);
        assert_eq!(auto(&program(2, 20)), Mapping::Invocation);
        // Long parameter vectors: a ceil(dim / 4)-lane power of two.
        assert_eq!(auto(&program(100, 0)), Mapping::Workgroup { lanes: 32 });
        // Long data vectors: about four elements per lane, at most MAX_LANES.
        assert_eq!(auto(&program(2, 1000)), Mapping::Workgroup { lanes: 256 });
        assert_eq!(auto(&program(2, 200)), Mapping::Workgroup { lanes: 64 });
        // Forced choices, with at least MIN_LANES lanes.
        assert_eq!(Mapping::choose(&program(100, 0), MappingChoice::Invocation), Mapping::Invocation);
        assert_eq!(
            Mapping::choose(&program(2, 0), MappingChoice::Workgroup),
            Mapping::Workgroup { lanes: 16 }
        );
        assert_eq!(Mapping::Workgroup { lanes: 32 }.workgroups(5), 5);
        assert_eq!(Mapping::Invocation.workgroups(65), 2);
    }

    /// GARCH(1,1) with `t` returns: its work is the serial recurrence.
    fn garch(t: usize) -> Program {
        let y: Vec<f64> = (0..t).map(|i| ((i * 37 % 11) as f64 - 5.0) * 0.1).collect();
        let mut m = Model::new();
        let mu = m.rv("mu", Normal::new(0, 1)).unwrap();
        let a0 = m.rv("alpha0", HalfNormal::new(1)).unwrap();
        let a1 = m.rv("alpha1", Beta::new(2, 2)).unwrap();
        let b1 = m.rv("beta1", Beta::new(2, 2)).unwrap();
        let sigma = Expr::scan(1.0, [&y[..t - 1]], t - 1, |prev, x| {
            (a0 + a1 * (x[0].clone() - mu).square() + b1 * prev.square()).sqrt()
        });
        m.observe("y", Normal::new(mu, sigma), &y[1..]).unwrap();
        compile(&m, RewriteOptions::default()).unwrap().logp_grad
    }

    #[test]
    fn auto_keeps_serial_recurrences_on_one_invocation() {
        let p = garch(200);
        let (serial, total) = serial_work(&p);
        assert!(serial > 0 && 3 * (total - serial) < total, "{serial} of {total}");
        assert_eq!(Mapping::choose(&p, MappingChoice::Auto), Mapping::Invocation);
        // A long parameter vector still takes a workgroup (private arrays), serial or not.
        let mut m = Model::new();
        let z = m.rv_vec("z", Normal::new(0, 1), 100).unwrap();
        m.deterministic("walk", z.cumsum()).unwrap();
        let walk = compile(&m, RewriteOptions::default()).unwrap().logp_grad;
        assert!(matches!(Mapping::choose(&walk, MappingChoice::Auto), Mapping::Workgroup { .. }));
        // Without serial work the data-length rule is unchanged.
        assert_eq!(serial_work(&program(2, 200)).0, 0);
        // A vector family's density over 200 values is a loop every lane would run whole.
        let mut m = Model::new();
        let w = m.rv("w", Dirichlet::new(vec![1.0, 1.0])).unwrap();
        let mu = m.rv_vec("mu", Normal::new(0, 3), 2).unwrap();
        let y: Vec<f64> = (0..200).map(|i| (i % 9) as f64 - 4.0).collect();
        m.observe("y", NormalMixture::new(w, mu, 1.0), &y).unwrap();
        let mixture = compile(&m, RewriteOptions::default()).unwrap().logp_grad;
        assert_eq!(Mapping::choose(&mixture, MappingChoice::Auto), Mapping::Invocation);
    }
}
