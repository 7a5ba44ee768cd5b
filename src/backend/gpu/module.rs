//! Assembles complete WGSL modules: precision prelude, special functions, the family library,
//! buffer bindings (one Rust table shared with the pipeline layout) and generated code.

use super::codegen::{
    CODEGEN_HELPERS, CodegenError, Generated, Precision, check_program, logp_grad_fn, logp_grad_fn_private,
    logp_grad_fn_strided,
};
use super::mapping::{INVOCATION_WORKGROUP, Mapping};
use crate::compile::Program;
use crate::model::DistKind;

/// Access mode of a storage binding.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Access {
    /// `var<storage, read>`
    Read,
    /// `var<storage, read_write>`
    ReadWrite,
}

/// Element type of a storage binding.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Elem {
    /// `real` (f32 or f64 with the kernel's precision).
    Real,
    /// `vec4<real>`.
    Real4,
    /// `u32`.
    U32,
}

/// One storage binding of group 0: `(binding, name, access, element)`.
pub type Binding = (u32, &'static str, Access, Elem);

/// Bindings of the batch logp+gradient kernel.
pub const BATCH_BINDINGS: [Binding; 4] = [
    (0, "pos", Access::Read, Elem::Real),
    (1, "data", Access::Read, Elem::Real),
    (2, "grad_out", Access::ReadWrite, Elem::Real),
    (3, "logp_out", Access::ReadWrite, Elem::Real),
];

/// Bindings of the step module (`shaders/step_*.wgsl`), shared by its four entry points. The
/// per-chain vectors are split over `state`, `begins` and `halves` so that each binding stays
/// under the adapter's binding limit for more chains.
pub const STEP_BINDINGS: [Binding; 8] = [
    (0, "data", Access::Read, Elem::Real),
    (1, "state", Access::ReadWrite, Elem::Real4),
    (2, "begins", Access::ReadWrite, Elem::Real4),
    (3, "halves", Access::ReadWrite, Elem::Real4),
    (4, "scal", Access::ReadWrite, Elem::Real),
    (5, "ctl", Access::Read, Elem::U32),
    (6, "reports", Access::ReadWrite, Elem::U32),
    (7, "io", Access::ReadWrite, Elem::Real),
];

/// The storage scratch region of a program that needs one (running sums, recurrences, long
/// stored vectors: `Generated::scratch` reals per chain), after a binding table's last entry.
pub const SCRATCH_NAME: &str = "scratch";

/// `table` followed by the scratch binding when `scratch` is set.
pub fn with_scratch(table: &[Binding], scratch: bool) -> Vec<Binding> {
    let mut out = table.to_vec();
    if scratch {
        let next = table.iter().map(|b| b.0 + 1).max().unwrap_or(0);
        out.push((next, SCRATCH_NAME, Access::ReadWrite, Elem::Real));
    }
    out
}

/// The step module's layout, commands, shared helpers and row entry points.
pub const STEP_COMMON: &str = include_str!("../../../shaders/step_common.wgsl");
/// `begin` and `step` for one invocation per chain.
pub const STEP_INVOCATION: &str = include_str!("../../../shaders/step_invocation.wgsl");
/// `begin` and `step` for one workgroup per chain.
pub const STEP_WORKGROUP: &str = include_str!("../../../shaders/step_workgroup.wgsl");
/// Workgroup memory and the workgroup reduction of the workgroup-per-chain mapping.
pub const WORKGROUP_SHARED: &str = include_str!("../../../shaders/workgroup.wgsl");

/// Bytes of workgroup memory the workgroup-per-chain step module declares for a program
/// (position, gradient, the reduction scratch, the command, the chain's scalars, and the
/// whole-visible vectors of gathers and matrix products), for the check against the adapter's
/// limit.
pub fn step_workgroup_bytes(prog: &Program, lanes: u32, precision: Precision) -> u64 {
    let size = precision.bytes() as u64;
    let reals = 2 * step_padded_dim(prog.dim) + 8 * lanes as usize + STEP_SCALARS_PER_CHAIN;
    (reals as u64 + super::codegen::shared_reals(prog) as u64) * size + 8 * 4 + size
}
/// Elements of a padded vector of dimension `dim` in the step module (whole vec4s).
pub fn step_padded_dim(dim: usize) -> usize {
    dim.max(1).div_ceil(4) * 4
}

/// Vector slots per chain in the step module's `state` binding under a diagonal metric.
pub const STEP_STATE_SLOTS: usize = 14;

/// Vector slots per chain in `state` for a metric of low rank up to `rank` (zero: diagonal):
/// two end velocities, `rank` columns and the eigenvalues (`S_V`, `S_U`, `S_LAM`).
pub fn step_state_slots(rank: usize) -> usize {
    if rank == 0 { STEP_STATE_SLOTS } else { STEP_STATE_SLOTS + 3 + rank }
}

/// The state slot of the inverse mass (`S_MINV` in `shaders/step.wgsl`).
pub const STEP_MINV_SLOT: usize = 13;

/// Vector slots per chain in each of the step module's `begins` and `halves` bindings.
pub fn step_checkpoint_slots(max_depth: usize) -> usize {
    2 * (max_depth + 1)
}

/// Scalars kept per chain by the step kernel and gathered with a draw (`NS` in
/// `shaders/step_common.wgsl`).
pub const STEP_SCALARS_PER_CHAIN: usize = 12;

/// Scalars per chain in the step module's `scal` binding: the [`STEP_SCALARS_PER_CHAIN`], then
/// the trajectory's step size and its three random-number keys as 16-bit halves (`C_EPS`,
/// `C_KEYS`), which let a command that continues a trajectory take two words.
pub const STEP_SCAL_SLOTS: usize = STEP_SCALARS_PER_CHAIN + 7;

/// Word offset of the scatter list in the step module's `ctl` binding (`SCATTER0` in
/// `shaders/step.wgsl`): after a 4-word header and 8 words per command.
pub fn step_ctl_scatter_at(chains: usize) -> usize {
    4 + 8 * chains
}

/// Word offset of the gather list in `ctl` (`GATHER0`): after two scatter rows per chain.
pub fn step_ctl_gather_at(chains: usize) -> usize {
    step_ctl_scatter_at(chains) + 2 * chains
}

/// Words of the step module's `ctl` binding for `chains` chains: the header, the commands and
/// the scatter and gather lists (one word per row).
pub fn step_ctl_words(chains: usize) -> usize {
    step_ctl_gather_at(chains) + chains
}

/// First `io` row of gathered samples (`2u * K` in `shaders/step.wgsl`): rows before it hold
/// scatter rows, two per chain.
pub fn step_io_gather_row(chains: usize) -> usize {
    2 * chains
}

/// Values in a host row of the step module's `io` binding (`ROW` in `shaders/step.wgsl`).
pub fn step_row_len(dim: usize) -> usize {
    2 * dim.max(1) + STEP_SCALARS_PER_CHAIN
}

/// Entry points of the step module, in the order a dispatch records them.
pub const STEP_ENTRIES: [&str; 4] = ["scatter", "begin", "step", "gather"];

/// The step module for a program, `chains` chains, a thread mapping and a metric of low rank
/// up to `rank` (zero: diagonal; at most the dimension): entry points `scatter`, `begin`,
/// `step` and `gather` over [`STEP_BINDINGS`] (and the scratch binding, [`with_scratch`], when
/// the returned `scratch` is nonzero).
pub fn step_module(
    prog: &Program,
    max_depth: usize,
    seed: u64,
    precision: Precision,
    chains: usize,
    (mapping, rank): (Mapping, usize),
) -> Result<Generated, CodegenError> {
    check_program(prog, precision)?;
    let f = match mapping {
        Mapping::Invocation => logp_grad_fn_private(prog)?,
        Mapping::Workgroup { lanes } => logp_grad_fn_strided(prog, lanes as usize)?,
    };
    let mut s = library(prog, precision);
    s.push_str(&bindings(&with_scratch(&STEP_BINDINGS, f.scratch > 0)));
    s.push_str(&format!("const SCRATCH: u32 = {}u;\n", f.scratch));
    s.push_str(&format!(
        "const D: u32 = {}u;\nconst K: u32 = {}u;\nconst LEVELS: u32 = {}u;\n\
         const SEED: vec2<u32> = vec2<u32>({}u, {}u);\nconst WORKGROUP: u32 = {}u;\nconst R: u32 = {}u;\n",
        prog.dim.max(1),
        chains.max(1),
        max_depth + 1,
        seed as u32,
        (seed >> 32) as u32,
        mapping.workgroup_size(),
        rank.min(prog.dim)
    ));
    s.push_str(STEP_COMMON);
    match mapping {
        Mapping::Invocation => s.push_str(STEP_INVOCATION),
        Mapping::Workgroup { .. } => {
            s.push_str(WORKGROUP_SHARED);
            s.push_str(STEP_WORKGROUP);
        }
    }
    s.push_str(&f.code);
    Ok(Generated { code: s, scratch: f.scratch })
}

/// Workgroup size of the row and batch entry points (one invocation per row or chain).
pub const WORKGROUP_SIZE: u32 = INVOCATION_WORKGROUP;

const PRELUDE_F32: &str = include_str!("../../../shaders/prelude_f32.wgsl");
const PRELUDE_F64: &str = include_str!("../../../shaders/prelude_f64.wgsl");
const SPECIAL: &str = include_str!("../../../shaders/special.wgsl");
/// The counter-based generator (Philox4x32-10), mirroring `crate::rng`.
pub const RNG: &str = include_str!("../../../shaders/rng.wgsl");

/// WGSL source of a family's functions (`shaders/dist/<name>.wgsl`, its [`Family::WGSL`]).
///
/// [`Family::WGSL`]: crate::model::Family::WGSL
pub fn family_source(kind: DistKind) -> &'static str {
    kind.wgsl()
}

/// Prelude, special functions, the RNG, the families `prog` uses and the codegen helpers.
/// Unused families are left out: lavapipe compiles large f64 modules slowly.
pub fn library(prog: &Program, precision: Precision) -> String {
    let mut s = String::from(match precision {
        Precision::F32 => PRELUDE_F32,
        Precision::F64 => PRELUDE_F64,
    });
    s.push_str(SPECIAL);
    s.push_str(RNG);
    let used: Vec<DistKind> = DistKind::ALL
        .iter()
        .copied()
        .filter(|&kind| {
            prog.any_instr(&|op| {
                matches!(op, crate::compile::Op::Lpdf { kind: k, .. } | crate::compile::Op::VecLpdf { kind: k, .. }
                    if *k == kind)
            })
        })
        .collect();
    // A family's own functions and those of the families it calls (one level: no base
    // family or mixture component calls another).
    let needed = |kind: DistKind| used.iter().any(|&u| u == kind || u.wgsl_needs().contains(&kind));
    for &kind in DistKind::ALL.iter().filter(|&&k| needed(k)) {
        s.push_str(family_source(kind));
    }
    s.push_str(CODEGEN_HELPERS);
    s
}

fn bindings(table: &[Binding]) -> String {
    table
        .iter()
        .map(|(b, name, access, elem)| {
            let mode = match access {
                Access::Read => "read",
                Access::ReadWrite => "read_write",
            };
            let ty = match elem {
                Elem::Real => "real",
                Elem::Real4 => "vec4<real>",
                Elem::U32 => "u32",
            };
            format!("@group(0) @binding({b}) var<storage, {mode}> {name}: array<{ty}>;\n")
        })
        .collect()
}

/// The bind group layout of a binding table (compute stage, storage buffers).
pub fn bind_group_layout(device: &wgpu::Device, table: &[Binding]) -> wgpu::BindGroupLayout {
    let entries: Vec<wgpu::BindGroupLayoutEntry> = table
        .iter()
        .map(|(binding, _, access, _)| wgpu::BindGroupLayoutEntry {
            binding: *binding,
            visibility: wgpu::ShaderStages::COMPUTE,
            ty: wgpu::BindingType::Buffer {
                ty: wgpu::BufferBindingType::Storage { read_only: *access == Access::Read },
                has_dynamic_offset: false,
                min_binding_size: None,
            },
            count: None,
        })
        .collect();
    device.create_bind_group_layout(&wgpu::BindGroupLayoutDescriptor { label: None, entries: &entries })
}

/// A module whose entry point `batch_logp_grad` evaluates `logp` and the gradient for every
/// chain (positions and gradients laid out chain-major), with the step module's mapping: one
/// invocation, or one workgroup, per chain; bindings [`BATCH_BINDINGS`] and the scratch binding
/// when the returned `scratch` is nonzero.
pub fn batch_logp_grad_module(
    prog: &Program,
    precision: Precision,
    mapping: Mapping,
) -> Result<Generated, CodegenError> {
    check_program(prog, precision)?;
    let f = match mapping {
        Mapping::Invocation => logp_grad_fn(prog)?,
        Mapping::Workgroup { lanes } => logp_grad_fn_strided(prog, lanes as usize)?,
    };
    let mut s = library(prog, precision);
    s.push_str(&bindings(&with_scratch(&BATCH_BINDINGS, f.scratch > 0)));
    s.push_str(&format!("const SCRATCH: u32 = {}u;\n", f.scratch));
    let d = prog.dim;
    if let Mapping::Workgroup { lanes } = mapping {
        s.push_str(&format!("const DP: u32 = {}u;\nconst WORKGROUP: u32 = {lanes}u;\n", step_padded_dim(d)));
        s.push_str(WORKGROUP_SHARED);
        s.push_str(&f.code);
        s.push_str(&format!(
            "@compute @workgroup_size(WORKGROUP)\n\
             fn batch_logp_grad(@builtin(workgroup_id) wid: vec3<u32>, \
             @builtin(local_invocation_index) lane: u32) {{\n    \
             let c = wid.x;\n    \
             for (var i = lane; i < {d}u; i += WORKGROUP) {{ wpos[i] = pos[c * {d}u + i]; }}\n    \
             workgroupBarrier();\n    let lp = logp_grad(lane, c * SCRATCH);\n    workgroupBarrier();\n    \
             for (var i = lane; i < {d}u; i += WORKGROUP) {{ grad_out[c * {d}u + i] = wgrad[i]; }}\n    \
             if (lane == 0u) {{ logp_out[c] = lp; }}\n}}\n"
        ));
        return Ok(Generated { code: s, scratch: f.scratch });
    }
    s.push_str(&f.code);
    s.push_str(&format!(
        "@compute @workgroup_size({WORKGROUP_SIZE})\n\
         fn batch_logp_grad(@builtin(global_invocation_id) id: vec3<u32>) {{\n    \
         let c = id.x;\n    if (c >= arrayLength(&logp_out)) {{ return; }}\n    \
         logp_out[c] = logp_grad(c * {d}u, c * {d}u, c * SCRATCH);\n}}\n"
    ));
    Ok(Generated { code: s, scratch: f.scratch })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::compile::compile;
    use crate::model::{Dist, Domain, Support};
    use crate::prelude::*;
    use crate::rewrite::RewriteOptions;

    /// Models touching every instruction, every family (value, partials, transforms) and
    /// every hoisting path.
    fn programs() -> Vec<(String, Program)> {
        let mut out = Vec::new();
        for &kind in DistKind::SCALAR {
            for observed in [true, false] {
                if !observed && kind.support().observed_only() {
                    continue;
                }
                let mut m = Model::new();
                let params: Vec<Expr> = if kind == DistKind::Uniform {
                    let a = m.rv("a", Normal::new(0.0, 1.0)).unwrap();
                    vec![a - 3.0, a + 3.0]
                } else {
                    kind.params()
                        .iter()
                        .map(|(name, d)| match d {
                            Domain::Real => m.rv(name, Normal::new(0.0, 1.0)).unwrap().into(),
                            Domain::Positive | Domain::NonNegative => {
                                m.rv(name, HalfNormal::new(1.0)).unwrap().into()
                            }
                            Domain::Probability => m.rv(name, Beta::new(2.0, 2.0)).unwrap().into(),
                            Domain::Count => Expr::constant(10.0),
                            // Censoring bounds at the first and last value of the data below.
                            Domain::Bound => Expr::constant(if *name == "lower" { 0.5 } else { 1.5 }),
                            Domain::Fixed => unreachable!("scalar families have no data-only parameter"),
                        })
                        .collect()
                };
                let dist = Dist { kind, params };
                if observed {
                    let data = match kind.support() {
                        Support::UnitInterval => vec![0.2, 0.5, 0.7],
                        Support::Binary => vec![0.0, 1.0, 1.0],
                        Support::ZeroOrPositive => vec![0.0, 0.7, 3.0],
                        // From 1: the geometric's counts start there.
                        Support::Count | Support::BoundedCount => vec![1.0, 3.0, 7.0],
                        _ => vec![0.5, 1.0, 1.5],
                    };
                    m.observe("y", dist, &data).unwrap();
                } else {
                    m.rv_vec("x", dist, 3).unwrap();
                }
                let c = compile(&m, RewriteOptions::default()).unwrap();
                out.push((format!("{} observed={observed}", kind.name()), c.logp_grad));
            }
        }
        let mut m = Model::new();
        let a = m.rv("a", Normal::new(0.0, 1.0)).unwrap();
        let b = m.rv_vec("b", HalfNormal::new(1.0), 3).unwrap();
        let e = (-a).exp() * b.sqrt() + b.ln() - a.ln_1p() / b.square() + a.logistic() * b.powf(3.0)
            - b.powf(1.5);
        let d = m.deterministic("e", e).unwrap();
        m.observe("y", Normal::new(d, vec![1.0, 2.0, 3.0]), &[0.5, -0.1, 2.0]).unwrap();
        out.push(("expressions".into(), compile(&m, RewriteOptions::default()).unwrap().logp_grad));
        let mut m = Model::new();
        let a = m.rv("a", Normal::new(0, 1)).unwrap();
        let b = m.rv_vec("b", HalfNormal::new(1), 3).unwrap();
        let e = a.expm1() * b.tanh() + a.log_logistic() + b.softplus().pow(a) - a.abs() * b.mean()
            + b.sum()
            + (a * b).sin()
            + b.cos()
            + a.atan()
            + (b * 9).wrap_angle();
        m.observe("y", Normal::new(e, 1), &[0.5, -0.1, 2.0]).unwrap();
        out.push(("newer expressions".into(), compile(&m, RewriteOptions::default()).unwrap().logp_grad));
        // A recurrence and running sums (scratch in every form; the adjoint zeroes its own).
        let mut m = Model::new();
        let a = m.rv("a", HalfNormal::new(1)).unwrap();
        let z = m.rv_vec("z", Normal::new(0, 1), 40).unwrap();
        let x: Vec<f64> = (0..40).map(|i| (i as f64 * 0.3).sin()).collect();
        let s =
            Expr::scan(1.0, [&x[..]], 40, |prev, x| (a + prev.square() * 0.5 + x[0].clone().square()).sqrt());
        let walk = (z * a).cumsum() + s;
        m.observe("y", Normal::new(walk.diff(), 1), &x[1..]).unwrap();
        out.push(("recurrence".into(), compile(&m, RewriteOptions::default()).unwrap().logp_grad));
        // Gathers of a computed vector, element access, stacking, matrix products.
        let mut m = Model::new();
        let g = m.int_data("g", &[0, 2, 1, 2, 0]).unwrap();
        let x = m.data_matrix("X", 5, 2, vec![1.0, 0.1, 1.0, 0.4, 1.0, -0.3, 1.0, 0.9, 1.0, 0.0]).unwrap();
        let a = m.rv_vec("a", Normal::new(0, 1), 3).unwrap();
        let s = m.rv("s", HalfNormal::new(1)).unwrap();
        let beta = m.rv_vec("beta", Normal::new(0, 1), 2).unwrap();
        let ae = m.deterministic("ae", s * a + 1).unwrap();
        let mu = ae.at(g) + x.matvec(beta) + Expr::stack([a.get(0), Expr::from(s)]).sum();
        m.observe("y", Normal::new(mu, 1), &[0.5, -0.1, 2.0, 0.3, 0.0]).unwrap();
        out.push(("indexing".into(), compile(&m, RewriteOptions::default()).unwrap().logp_grad));
        // A vector location with a scalar scale: the normaliser is hoisted out of the loop.
        let mut m = Model::new();
        let a = m.rv("a", Normal::new(0.0, 1.0)).unwrap();
        let s = m.rv("s", HalfNormal::new(1.0)).unwrap();
        m.observe("y", Normal::new(Expr::from(a) * vec![0.5, 1.0, 1.5], s), &[0.4, 1.1, 1.4]).unwrap();
        out.push(("regression".into(), compile(&m, RewriteOptions::default()).unwrap().logp_grad));
        for (label, m) in crate::model::dist::vector::examples() {
            out.push((label.into(), compile(&m, RewriteOptions::default()).unwrap().logp_grad));
        }
        out
    }

    fn validate(src: &str, precision: Precision) -> Result<(), String> {
        let module = naga::front::wgsl::parse_str(src).map_err(|e| e.emit_to_string(src))?;
        let caps = match precision {
            Precision::F32 => naga::valid::Capabilities::default(),
            Precision::F64 => naga::valid::Capabilities::default() | naga::valid::Capabilities::FLOAT64,
        };
        naga::valid::Validator::new(naga::valid::ValidationFlags::all(), caps)
            .validate(&module)
            .map(|_| ())
            .map_err(|e| format!("{e:?}"))
    }

    #[test]
    fn every_generated_module_validates_with_naga() {
        for (label, prog) in programs() {
            // Two lanes give shares of two with a partial last one (the vectors have 3 elements).
            let mappings =
                [Mapping::Invocation, Mapping::Workgroup { lanes: 2 }, Mapping::Workgroup { lanes: 16 }];
            for precision in [Precision::F32, Precision::F64] {
                for mapping in mappings {
                    let module = batch_logp_grad_module(&prog, precision, mapping).unwrap();
                    // Only the recurrence needs the scratch binding.
                    assert_eq!(module.scratch > 0, label == "recurrence", "{label}");
                    let src = module.code;
                    if let Err(e) = validate(&src, precision) {
                        panic!("{label} {precision:?} {mapping:?}: {e}\n{src}");
                    }
                    for rank in [0, 2, 3] {
                        let src =
                            step_module(&prog, 10, 0x1234_5678_9abc_def0, precision, 100, (mapping, rank))
                                .unwrap()
                                .code;
                        if let Err(e) = validate(&src, precision) {
                            panic!("{label} step kernel {precision:?} {mapping:?} rank {rank}: {e}");
                        }
                    }
                }
            }
        }
    }
}
