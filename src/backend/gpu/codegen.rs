//! WGSL code generation: a [`Program`] becomes one WGSL function `logp_grad`, in one of three
//! forms: on storage (`pos`, `grad_out`, from a chain's base index), on private arrays (one
//! invocation per chain), or lane-strided for one workgroup per chain (element i of every
//! vector belongs to lane i mod WORKGROUP; sums are per-lane compensated sums reduced by a
//! pairwise tree over the workgroup).
//!
//! Data is read from `data` in place. Scalars are named values computed by every lane.
//! Consecutive element work over the same length is fused into one loop (see `Run`): an
//! elementwise value is a per-element `let`, stored to a function-scope array (whole, or the
//! lane's share) only when something after the loop reads it, so a regression on 10⁶ points
//! keeps no per-element arrays at all. Fused densities call the per-family functions in
//! `shaders/dist/`; normalisers that read only constants are summed on the host in f64 and
//! emitted as one literal, as the CPU executor does.

use std::fmt::Write;

use crate::compile::hoist::{Hoist, plan};
use crate::compile::scan::{Layout, Scan, ScanAdjoint};
use crate::compile::{BinOp, Op, Program, UnOp};
use crate::model::dist::VecCode;
use crate::model::{BijectorPart, DistKind};

/// Floating-point type of generated kernels.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Precision {
    /// 32-bit floats (every adapter).
    F32,
    /// 64-bit floats (adapters with `SHADER_F64`).
    F64,
}

impl Precision {
    /// Bytes of one `real`.
    pub fn bytes(self) -> usize {
        match self {
            Precision::F32 => 4,
            Precision::F64 => 8,
        }
    }
}

/// Why a program could not be turned into WGSL.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum CodegenError {
    /// A vector that must be kept in a function-scope array (it is read after its element
    /// loop) and whose share per invocation is too long for one.
    #[error(
        "value v{value} has {len} elements to keep in function-scope memory; this thread mapping allows at most {max}"
    )]
    VectorTooLong {
        /// The value.
        value: usize,
        /// Its length.
        len: usize,
        /// The limit.
        max: usize,
    },
    /// A constant or data value that f32 kernels cannot represent: finite in f64 but beyond
    /// f32's ±3.4·10³⁸, or nonzero but below f32's smallest subnormal (it would become 0).
    #[error(
        "{what} = {value:e} cannot be represented in f32 kernels (finite magnitudes 1.4e-45 ..= 3.4e38); use f64 kernels (Sampler::gpu_precision(Precision::F64)) or rescale the model"
    )]
    F32Range {
        /// Which value (a constant, an exponent, a data array).
        what: String,
        /// The value.
        value: f64,
    },
    /// The program's longest chain of dependent instructions is longer than GPU compilers are
    /// given stack for (see `device::COMPILE_STACK_BYTES`).
    #[error(
        "the program has a chain of {depth} dependent instructions; the GPU backend compiles at most {max} (use the CPU backend)"
    )]
    TooDeep {
        /// Length of the longest chain.
        depth: usize,
        /// The limit.
        max: usize,
    },
}

/// Longest chain of dependent instructions the GPU backend compiles. Mesa's lavapipe needs
/// 40–80 bytes of stack per link (measured: a chain of 10⁵ compiles with an 8 MiB stack, not
/// with 4 MiB) and compilers run on a thread with a 256 MiB stack, so this keeps a 3× margin.
pub const MAX_CHAIN: usize = 1_000_000;

/// Checks that every constant, exponent and data value of `prog` (and every normaliser summed
/// on the host) survives conversion to f32: the check behind [`CodegenError::F32Range`].
pub fn check_f32_range(prog: &Program) -> Result<(), CodegenError> {
    let bad = |x: f64| x.is_finite() && ((x as f32).is_infinite() || (x != 0.0 && x as f32 == 0.0));
    for instr in &prog.instrs {
        let (what, value) = match instr.op {
            Op::Const(c) => ("constant", c),
            Op::Pow(_, c) => ("exponent", c),
            _ => continue,
        };
        if bad(value) {
            return Err(CodegenError::F32Range { what: format!("{what} v{}", instr.out), value });
        }
    }
    for (k, d) in prog.data.iter().enumerate() {
        if let Some((i, &value)) = d.iter().enumerate().find(|(_, x)| bad(**x)) {
            return Err(CodegenError::F32Range { what: format!("data array {k}, element {i}"), value });
        }
    }
    // Indices are read as f32 and converted: exact only up to 2^24.
    for instr in &prog.instrs {
        let index_values: Vec<usize> = match &instr.op {
            Op::Gather { index, .. } => vec![*index],
            Op::ScatterAdd { starts, perm, .. } => vec![*starts, *perm],
            _ => continue,
        };
        for v in index_values {
            if let Some(&value) = prog.data_of(v).unwrap_or(&[]).iter().find(|&&x| x > 16_777_216.0) {
                return Err(CodegenError::F32Range { what: format!("index v{v}"), value });
            }
        }
    }
    for (k, h) in plan(prog).iter().enumerate() {
        if let Hoist::Constant(value) = *h
            && bad(value)
        {
            return Err(CodegenError::F32Range {
                what: format!("normalising constant of v{}", prog.instrs[k].out),
                value,
            });
        }
    }
    prog.nested().into_iter().try_for_each(check_f32_range)
}

/// Length of the longest chain of dependent instructions in `prog`.
pub fn chain_depth(prog: &Program) -> usize {
    let mut depth = vec![0usize; prog.lens.len()];
    let mut longest = 0;
    for instr in &prog.instrs {
        let d = 1 + reads(&instr.op).iter().map(|&a| depth[a]).max().unwrap_or(0);
        depth[instr.out] = d;
        Program::partials(&instr.op).iter().flatten().for_each(|&p| depth[p] = d);
        longest = longest.max(d);
    }
    longest
}

/// The checks every module of `prog` passes before code is generated: the dependency chain
/// ([`MAX_CHAIN`]) and, for f32 kernels, the range of constants and data.
pub fn check_program(prog: &Program, precision: Precision) -> Result<(), CodegenError> {
    let depth = chain_depth(prog);
    if depth > MAX_CHAIN {
        return Err(CodegenError::TooDeep { depth, max: MAX_CHAIN });
    }
    if precision == Precision::F32 {
        check_f32_range(prog)?;
    }
    Ok(())
}

/// Longest share of a vector kept in function-scope memory per invocation.
pub const MAX_LOCAL_VECTOR: usize = 4096;

/// Where a value lives in the generated code.
#[derive(Clone, Debug)]
enum Place {
    /// A scalar `let`/`var` named `v{id}`.
    Scalar,
    /// A function-scope array `v{id}` (whole, or the lane's share of it).
    Local,
    /// `x{id}`: one element, defined inside the open run's element loop.
    Element,
    /// `pos[pos_base + offset + i]`.
    Pos(usize),
    /// `data[offset + i]`.
    Data(usize),
    /// `w{id}`: a workgroup array holding the whole vector (strided form), for values read at
    /// positions other than a lane's own (gathers, matrix products, element access).
    Shared,
    /// `f{id}`: a function-scope array holding the whole vector in every form, written by a
    /// whole-vector instruction (vector densities, bijectors) that every invocation (every
    /// lane) computes in full.
    Full,
    /// `scratch[sb + offset + i]`: the chain's region of the storage scratch buffer, for long
    /// vectors kept whole (running sums, recurrences and their adjoints in every form, stored
    /// element values in the one-invocation forms). Drivers index function-scope arrays through
    /// per-element ladders (lavapipe: O(n) per access, O(n²) compile time), storage directly.
    Scratch(usize),
}

/// Shortest vector a one-invocation form keeps in the storage scratch region rather than in a
/// function-scope array (running sums and recurrences always use it).
pub const SCRATCH_MIN_LEN: usize = 32;

/// How vectors are spread over invocations.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Form {
    /// One invocation holds whole vectors; positions and gradients are indexed from
    /// `pos_base` / `grad_base` when `based` (storage), from 0 otherwise (private arrays).
    Whole { based: bool },
    /// Lane `lane` of `lanes` holds elements `lane + lanes * t`; positions and gradients are
    /// the workgroup arrays `wpos` / `wgrad`.
    Strided { lanes: usize },
}

/// Consecutive element work over `n` elements, fused into one loop. Elementwise values are
/// per-element `let`s (`x{id}`), stored to an array only when something outside the run reads
/// them; sums and densities accumulate per invocation and are reduced after the loop (over the
/// workgroup in the strided form, up to eight sums per reduction). Scalar instructions that read
/// a value only available after the loop are deferred to after it.
#[derive(Default)]
struct Run {
    n: usize,
    /// Instructions whose element work is in the loop.
    members: Vec<usize>,
    /// Values defined per element in the loop.
    elements: Vec<usize>,
    /// Declarations, accumulators and hoisted normalisers, before the loop.
    pre: Vec<String>,
    /// The loop body.
    body: Vec<String>,
    /// Per-invocation partial sums, reduced after the loop.
    accs: Vec<String>,
    /// After the loop, `@k@` standing for the reduced accumulator `k`.
    finish: Vec<String>,
    /// Code of deferred scalar instructions, in program order.
    deferred: String,
    /// Values that exist only after the loop.
    pending: Vec<usize>,
}

impl Run {
    fn new(n: usize) -> Run {
        Run { n, ..Run::default() }
    }

    /// A Kahan-compensated accumulator `s{v}` (compensation `c{v}`) of `x`; returns its index.
    fn compensated(&mut self, v: usize, x: &str) -> usize {
        self.pre.push(format!("var s{v}: real = real(0.0);"));
        self.pre.push(format!("var c{v}: real = real(0.0);"));
        self.body
            .push(format!("{{ let y = ({x}) - c{v}; let z = s{v} + y; c{v} = (z - s{v}) - y; s{v} = z; }}"));
        self.accs.push(format!("s{v}"));
        self.accs.len() - 1
    }
}

/// Sentinel user: the gradient output or the returned log density.
const OUTPUT: usize = usize::MAX;

struct Gen<'p> {
    prog: &'p Program,
    places: Vec<Place>,
    /// Per value, the instructions that read it (`OUTPUT` for the program's outputs).
    users: Vec<Vec<usize>>,
    run: Option<Run>,
    out: String,
    pos: &'p str,
    grad: &'p str,
    /// Which gradient pieces (`prog.grad`) a fused loop already wrote.
    written: Vec<bool>,
    form: Form,
    /// Per value, whether some instruction reads it at positions of its own choosing, so that
    /// it must be whole-visible (a `Local` array in the whole forms, `Shared` in the strided
    /// form).
    random: Vec<bool>,
    /// Module-scope declarations the function needs (workgroup arrays).
    globals: String,
    /// The first error met where no `Result` is returned (whole-vector instructions).
    error: Option<CodegenError>,
    /// Where this program's data start in the data buffer.
    data_base: usize,
    /// Data of the nested programs generated so far (they follow this program's own).
    nested_data: usize,
    /// Prefix of the names of nested programs' functions (unique per nesting path).
    prefix: String,
    /// Reals of the storage scratch region used so far per chain; `None` where the function
    /// has no scratch (nested step functions).
    scratch: Option<usize>,
}

/// The name of a family's WGSL functions (`shaders/dist/<name>.wgsl`).
pub fn family_prefix(kind: DistKind) -> &'static str {
    kind.name()
}

fn lit(c: f64) -> String {
    if c.is_nan() {
        "nan_r()".into()
    } else if c == f64::INFINITY {
        "pos_inf()".into()
    } else if c == f64::NEG_INFINITY {
        "neg_inf()".into()
    } else {
        format!("real({c:?})")
    }
}

/// The values an operation reads.
fn reads(op: &Op) -> Vec<usize> {
    op.reads()
}

/// The values an operation reads at positions other than the element it computes (they must
/// be whole-visible to every invocation of the chain).
fn random_reads(op: &Op) -> Vec<usize> {
    match op {
        Op::Gather { src, .. }
        | Op::ScatterAdd { src, .. }
        | Op::Get(src, _)
        | Op::Slice { src, .. }
        | Op::CumSum { src, .. } => vec![*src],
        Op::Scan(_) | Op::ScanAdjoint(_) => op.reads(),
        Op::MatVec { v, .. } => vec![*v],
        Op::MatTVec { g, .. } | Op::MatTMul { g, .. } => vec![*g],
        Op::MatMulT { w, .. } => vec![*w],
        Op::VecLpdf { args, .. } | Op::Bijector { args, .. } | Op::Tril { args, .. } => args.clone(),
        _ => Vec::new(),
    }
}

/// Whether an instruction works on whole vectors in one invocation (every lane computes it).
pub(super) fn is_block(op: &Op) -> bool {
    matches!(
        op,
        Op::VecLpdf { .. }
            | Op::Bijector { .. }
            | Op::Tril { .. }
            | Op::CumSum { .. }
            | Op::Scan(_)
            | Op::ScanAdjoint(_)
    )
}

/// Values the strided form keeps in workgroup memory (whole-visible): values read at random
/// positions that are neither positions nor data. Their element count, for the workgroup
/// memory budget of the workgroup-per-chain mapping.
pub fn shared_reals(prog: &Program) -> usize {
    let mut random = vec![false; prog.lens.len()];
    prog.instrs.iter().flat_map(|i| random_reads(&i.op)).for_each(|v| random[v] = true);
    prog.instrs
        .iter()
        .filter(|i| {
            random[i.out]
                && !matches!(i.op, Op::Input { .. } | Op::Data(_))
                && !is_block(&i.op)
                && prog.lens[i.out] > 1
        })
        .map(|i| prog.lens[i.out])
        .sum::<usize>()
        + prog
            .instrs
            .iter()
            .filter_map(|i| match &i.op {
                Op::Lpdf { partials, .. } => Some(
                    partials
                        .iter()
                        .flatten()
                        .filter(|&&p| random[p] && prog.lens[p] > 1)
                        .map(|&p| prog.lens[p])
                        .sum::<usize>(),
                ),
                _ => None,
            })
            .sum::<usize>()
}

const COMP: [&str; 4] = ["x", "y", "z", "w"];

/// The field of a family's WGSL result holding the partial of argument `j` (0 is the value):
/// `Lg` carries four in `g`, `Lg8` four more in `h`.
fn partial_field(j: usize) -> String {
    format!("{}.{}", if j < 4 { "g" } else { "h" }, COMP[j % 4])
}

impl Gen<'_> {
    fn len(&self, v: usize) -> usize {
        self.prog.lens[v]
    }

    /// Element `i` of value `v` (`i` is a WGSL expression; in the strided form, inside an
    /// element loop, the lane's element `i` is entry `t` of its share); scalars broadcast.
    fn at(&self, v: usize, i: &str) -> String {
        let i = if self.len(v) == 1 { "0u" } else { i };
        match self.places[v] {
            Place::Scalar => format!("v{v}"),
            Place::Element => format!("x{v}"),
            Place::Local if matches!(self.form, Form::Strided { .. }) => format!("v{v}[t]"),
            Place::Local => format!("v{v}[{i}]"),
            Place::Shared => format!("w{v}[{i}]"),
            Place::Full => format!("f{v}[{i}]"),
            Place::Scratch(off) => format!("scratch[sb + {off}u + {i}]"),
            Place::Pos(off) => format!("{}[{}]", self.pos, self.index("pos_base", off, i)),
            Place::Data(off) => format!("data[{}u + {i}]", self.data_base + off),
        }
    }

    /// Element `k` of value `v` for any position `k` (a WGSL `u32` expression): `v` must be
    /// whole-visible (positions, data, scalars, whole local arrays, workgroup arrays).
    fn at_any(&self, v: usize, k: &str) -> String {
        match self.places[v] {
            Place::Local if matches!(self.form, Form::Strided { .. }) => {
                unreachable!("v{v} is read at random positions but was kept as a lane share")
            }
            Place::Element => unreachable!("v{v} is read at random positions inside its own loop"),
            _ => self.at(v, k),
        }
    }

    /// Index of element `i` of a vector at `offset` (from `base` when based).
    fn index(&self, base: &str, offset: usize, i: &str) -> String {
        match self.form {
            Form::Whole { based: true } => format!("{base} + {offset}u + {i}"),
            _ => format!("{offset}u + {i}"),
        }
    }

    /// Entries of a vector of `n` elements held by one invocation.
    fn share(&self, n: usize) -> usize {
        match self.form {
            Form::Whole { .. } => n,
            Form::Strided { lanes } => n.div_ceil(lanes),
        }
    }

    /// A loop over the elements `i` of a vector of length `n` held by this invocation, with
    /// `body` inside (the strided form also names the entry `t`).
    fn for_each(&self, n: usize, body: &str) -> String {
        match self.form {
            Form::Whole { .. } => format!("for (var i = 0u; i < {n}u; i++) {{ {body} }}"),
            Form::Strided { lanes } => {
                let share = n.div_ceil(lanes);
                let guard = if n.is_multiple_of(lanes) {
                    String::new()
                } else {
                    format!("if (i >= {n}u) {{ break; }} ")
                };
                format!(
                    "for (var t = 0u; t < {share}u; t++) {{ let i = lane + {lanes}u * t; {guard}{body} }}"
                )
            }
        }
    }

    fn line(&mut self, s: &str) {
        self.out.push_str("    ");
        self.out.push_str(s);
        self.out.push('\n');
    }

    /// The number of elements an instruction loops over, when it has element work.
    fn element_len(&self, op: &Op, out: usize) -> Option<usize> {
        let n = match op {
            Op::Input { .. } | Op::Const(_) | Op::Data(_) => 1,
            Op::Unary(..) | Op::Binary(..) | Op::Pow(..) | Op::Broadcast(_) => self.len(out),
            Op::Gather { .. } | Op::ScatterAdd { .. } | Op::OneHot(..) | Op::Stack(_) | Op::Slice { .. } => {
                self.len(out)
            }
            Op::MatVec { .. } | Op::MatTVec { .. } | Op::MatMulT { .. } | Op::MatTMul { .. } => self.len(out),
            Op::Get(..) => 1,
            Op::Sum(a) => self.len(*a),
            Op::Lpdf { args, .. } => args.iter().map(|&a| self.len(a)).max().unwrap_or(1),
            Op::VecLpdf { .. }
            | Op::Bijector { .. }
            | Op::Tril { .. }
            | Op::CumSum { .. }
            | Op::Scan(_)
            | Op::ScanAdjoint(_) => 1,
        };
        (n > 1).then_some(n)
    }

    /// Emits instruction `k`: its element work joins the open run (a new run starts when the
    /// length differs or it reads a value the run has not finished); scalar work is emitted
    /// at once, or after the run's loop when it reads what the loop produces.
    fn instr(&mut self, k: usize, hoisted: &[Hoist]) -> Result<(), CodegenError> {
        let instr = &self.prog.instrs[k];
        // Elements of the open run read at positions other than the current one are whole only
        // once its loop has stored them: close it first.
        if self.run.as_ref().is_some_and(|r| random_reads(&instr.op).iter().any(|a| r.elements.contains(a))) {
            self.flush()?;
        }
        // Sums the open run produces exist only after its loop.
        let blocked =
            self.run.as_ref().is_some_and(|r| reads(&instr.op).iter().any(|a| r.pending.contains(a)));
        match self.element_len(&instr.op, instr.out) {
            Some(n) => {
                if blocked || self.run.as_ref().is_some_and(|r| r.n != n) {
                    self.flush()?;
                }
                self.run.get_or_insert_with(|| Run::new(n)).members.push(k);
                self.member(k, &hoisted[k]);
            }
            None if blocked => {
                let saved = std::mem::take(&mut self.out);
                self.scalar(k, &hoisted[k]);
                let code = std::mem::replace(&mut self.out, saved);
                let run = self.run.as_mut().expect("blocked implies an open run");
                run.deferred.push_str(&code);
                run.pending.push(instr.out);
                run.pending.extend(Program::partials(&instr.op).iter().flatten());
            }
            None => self.scalar(k, &hoisted[k]),
        }
        Ok(())
    }

    /// Declares `f{v}`, a function-scope array for the whole of value `v` (zeroed).
    fn full(&mut self, v: usize) -> Result<(), CodegenError> {
        let n = self.len(v);
        if n > MAX_LOCAL_VECTOR {
            return Err(CodegenError::VectorTooLong { value: v, len: n, max: MAX_LOCAL_VECTOR });
        }
        self.line(&format!("var f{v}: array<real, {n}>;"));
        self.places[v] = Place::Full;
        Ok(())
    }

    /// Places value `v`, written whole by a running sum or a recurrence, in the scratch region,
    /// or in a (zeroed) function-scope array where there is none.
    fn long(&mut self, v: usize) -> Result<(), CodegenError> {
        let Some(used) = self.scratch else { return self.full(v) };
        self.places[v] = Place::Scratch(used);
        self.scratch = Some(used + self.len(v));
        Ok(())
    }

    /// Emits the code of a whole-vector instruction writing `v` ([`Gen::long`]), zeroing its
    /// scratch first when `zero`: in the strided form lane 0 alone runs it, and a barrier then
    /// publishes the result to the workgroup.
    fn long_code(&mut self, v: usize, code: &str, zero: bool) {
        let Place::Scratch(at) = self.places[v] else { return self.line(code) };
        let clear = if zero {
            format!("for (var i = 0u; i < {}u; i++) {{ scratch[sb + {at}u + i] = real(0.0); }} ", self.len(v))
        } else {
            String::new()
        };
        match self.form {
            Form::Strided { .. } => {
                self.line(&format!("if (lane == 0u) {{ {clear}{code} }}"));
                self.line("storageBarrier();");
            }
            Form::Whole { .. } => self.line(&format!("{clear}{code}")),
        }
    }

    /// The element `i` of `v` as a place to write (`v` a function-scope or scratch array).
    fn put(&self, v: usize, i: &str) -> String {
        match self.places[v] {
            Place::Scratch(off) => format!("scratch[sb + {off}u + {i}]"),
            _ => format!("f{v}[{i}]"),
        }
    }

    /// A whole-vector instruction (vector density, bijector), computed in full by every
    /// invocation from whole-visible arguments.
    fn block(&mut self, k: usize) -> Result<(), CodegenError> {
        let instr = &self.prog.instrs[k];
        let v = instr.out;
        match &instr.op {
            Op::VecLpdf { kind, args, partials } => {
                self.line(&format!("var v{v}: real;"));
                let mut names = Vec::with_capacity(partials.len());
                for p in partials {
                    names.push(match *p {
                        Some(p) => {
                            self.full(p)?;
                            Some(format!("f{p}"))
                        }
                        None => None,
                    });
                }
                let lens: Vec<usize> = args.iter().map(|&a| self.len(a)).collect();
                let body = {
                    let arg = |j: usize, i: &str| self.at_any(args[j], i);
                    let out = format!("v{v}");
                    let code =
                        VecCode { arg: &arg, lens: &lens, partial: &names, out: &out, tag: v.to_string() };
                    kind.vec_wgsl(&code)
                };
                self.line(&body);
                // A NaN density is -inf, as on the CPU.
                self.line(&format!("if (v{v} != v{v}) {{ v{v} = neg_inf(); }}"));
                self.places[v] = Place::Scalar;
            }
            Op::Bijector { kind, part, args } => {
                let n = kind.constrained_len(self.len(args[0]));
                let out = if *part == BijectorPart::LogJac {
                    self.line(&format!("var v{v}: real;"));
                    format!("v{v}")
                } else {
                    self.full(v)?;
                    format!("f{v}")
                };
                let body = {
                    let u = |i: &str| self.at_any(args[0], i);
                    let g =
                        |i: &str| args.get(1).map_or_else(|| "real(0.0)".to_string(), |&a| self.at_any(a, i));
                    kind.wgsl(*part, n, &u, &g, &out, &v.to_string())
                };
                self.line(&body);
                if *part == BijectorPart::LogJac {
                    self.places[v] = Place::Scalar;
                }
            }
            Op::Tril { part, args } => {
                self.full(v)?;
                let lb = args.get(1).map_or(0, |&b| self.len(b));
                let (la, n) = (self.len(args[0]), self.len(v));
                let body = {
                    let a = |i: &str| self.at_any(args[0], i);
                    let b =
                        |i: &str| args.get(1).map_or_else(|| "real(0.0)".to_string(), |&b| self.at_any(b, i));
                    crate::compile::tril::wgsl(*part, (la, lb, n), &a, &b, &format!("f{v}"), &v.to_string())
                };
                self.line(&body);
            }
            Op::CumSum { src, reverse } => {
                self.long(v)?;
                let n = self.len(v);
                let i = if *reverse { format!("{}u - k{v}", n - 1) } else { format!("k{v}") };
                let x = self.at_any(*src, &format!("i{v}"));
                let put = self.put(v, &format!("i{v}"));
                self.long_code(
                    v,
                    &format!(
                        "{{ var m{v} = real(0.0); for (var k{v} = 0u; k{v} < {n}u; k{v}++) {{ let i{v} = {i}; m{v} += {x}; {put} = m{v}; }} }}"
                    ),
                    false,
                );
            }
            Op::Scan(scan) => {
                self.long(v)?;
                let code = self.scan(v, scan)?;
                self.long_code(v, &code, false);
            }
            Op::ScanAdjoint(adj) => {
                self.long(v)?;
                let code = self.scan_adjoint(v, adj)?;
                self.long_code(v, &code, true);
            }
            _ => unreachable!("not a whole-vector instruction"),
        }
        Ok(())
    }

    /// Emits `fn scan{v}` at module scope: `prog` with its position in `q` and its gradient
    /// (the next state, for a step) in `g`. Its data follow the enclosing program's in the data
    /// buffer.
    fn step_fn(&mut self, v: usize, prog: &Program, g_len: usize) -> Result<(), CodegenError> {
        let base = self.data_base + self.prog.data.iter().map(Vec::len).sum::<usize>() + self.nested_data;
        self.nested_data += flat_len(prog);
        let name = self.scan_fn(v);
        let sig = format!(
            "fn {name}(q: ptr<function, array<real, {}>>, g: ptr<function, array<real, {g_len}>>) -> real {{\n",
            prog.dim
        );
        let prefix = format!("{}{v}_", self.prefix);
        let code =
            generate_at(prog, &sig, ("(*q)", "(*g)"), Form::Whole { based: false }, (base, &prefix), false)?;
        self.globals.push_str(&code.code);
        Ok(())
    }

    /// The name of the step function of the scan defining `v`.
    fn scan_fn(&self, v: usize) -> String {
        format!("scan{}{v}", self.prefix)
    }

    /// Copies of every parameter (`slice` false) or of the step `t{v}`'s slice of every
    /// sequence into `q{v}`.
    fn scan_load(&self, v: usize, scan: &Scan, l: &Layout, slice: bool) -> String {
        let mut code = String::new();
        if slice {
            for (i, &q) in scan.seqs.iter().enumerate() {
                let (at, w) = (l.seq_at(i), l.widths[i]);
                let src = self.at_any(q, &format!("t{v} * {w}u + j{v}"));
                let _ = write!(
                    code,
                    "for (var j{v} = 0u; j{v} < {w}u; j{v}++) {{ q{v}[{at}u + j{v}] = {src}; }} "
                );
            }
        } else {
            for (j, &p) in scan.params.iter().enumerate() {
                let (at, n) = (l.param_at(j), l.params[j]);
                let src = self.at_any(p, &format!("j{v}"));
                let _ = write!(
                    code,
                    "for (var j{v} = 0u; j{v} < {n}u; j{v}++) {{ q{v}[{at}u + j{v}] = {src}; }} "
                );
            }
        }
        code
    }

    /// A recurrence in every invocation: the step function called once per step, the states
    /// into `f{v}`.
    fn scan(&mut self, v: usize, scan: &Scan) -> Result<String, CodegenError> {
        let l = scan.layout(&self.prog.lens);
        let (s, d, steps) = (l.state, l.dim(), scan.steps);
        let mut body = scan.body.clone();
        body.grad = vec![(0, scan.next_state())];
        body.outputs.clear();
        body.logp = None;
        self.step_fn(v, &body, s)?;
        let params = self.scan_load(v, scan, &l, false);
        let seqs = self.scan_load(v, scan, &l, true);
        let init = self.at_any(scan.init, &format!("j{v}"));
        let f = self.scan_fn(v);
        let put = self.put(v, &format!("t{v} * {s}u + j{v}"));
        Ok(format!(
            "{{ var q{v}: array<real, {d}>; var g{v}: array<real, {s}>; {params}\
             for (var j{v} = 0u; j{v} < {s}u; j{v}++) {{ q{v}[j{v}] = {init}; }} \
             for (var t{v} = 0u; t{v} < {steps}u; t{v}++) {{ {seqs}_ = {f}(&q{v}, &g{v}); \
             for (var j{v} = 0u; j{v} < {s}u; j{v}++) {{ {put} = g{v}[j{v}]; q{v}[j{v}] = g{v}[j{v}]; }} }} }}"
        ))
    }

    /// A recurrence's adjoint in every invocation: the step's vector-Jacobian product called
    /// once per step, backwards; `[init̄, seq̄…, param̄…]` into `f{v}` (zero-initialised).
    fn scan_adjoint(&mut self, v: usize, adj: &ScanAdjoint) -> Result<String, CodegenError> {
        let scan = &adj.scan;
        let l = scan.layout(&self.prog.lens);
        let (s, d, steps) = (l.state, l.dim(), scan.steps);
        let n = d + s;
        self.step_fn(v, &adj.vjp, n)?;
        let params = self.scan_load(v, scan, &l, false);
        let seqs = self.scan_load(v, scan, &l, true);
        let last = self.at_any(adj.g, &format!("{}u + j{v}", (steps - 1) * s));
        let init = self.at_any(scan.init, &format!("j{v}"));
        let prev = self.at_any(adj.states, &format!("(t{v} - 1u) * {s}u + j{v}"));
        let cot = self.at_any(adj.g, &format!("(t{v} - 1u) * {s}u + j{v}"));
        let mut scatter = String::new();
        for (i, &w) in l.widths.iter().enumerate() {
            let (to, from) = (l.seq_adjoint_at(i), l.seq_at(i));
            let _ = write!(
                scatter,
                "for (var j{v} = 0u; j{v} < {w}u; j{v}++) {{ {} = g{v}[{from}u + j{v}]; }} ",
                self.put(v, &format!("{to}u + t{v} * {w}u + j{v}"))
            );
        }
        for (j, &m) in l.params.iter().enumerate() {
            let (to, from) = (l.param_adjoint_at(j), l.param_at(j));
            let _ = write!(
                scatter,
                "for (var j{v} = 0u; j{v} < {m}u; j{v}++) {{ {} += g{v}[{from}u + j{v}]; }} ",
                self.put(v, &format!("{to}u + j{v}"))
            );
        }
        let f = self.scan_fn(v);
        let each = |body: String| format!("for (var j{v} = 0u; j{v} < {s}u; j{v}++) {{ {body} }}");
        Ok(format!(
            "{{ var q{v}: array<real, {n}>; {params}{} \
             for (var k{v} = 0u; k{v} < {steps}u; k{v}++) {{ let t{v} = {}u - k{v}; \
             if (t{v} == 0u) {{ {} }} else {{ {} }} {seqs}\
             var g{v}: array<real, {n}>; _ = {f}(&q{v}, &g{v}); {scatter}\
             if (t{v} == 0u) {{ {} }} else {{ {} }} }} {} }}",
            each(format!("q{v}[{d}u + j{v}] = {last};")),
            steps - 1,
            each(format!("q{v}[j{v}] = {init};")),
            each(format!("q{v}[j{v}] = {prev};")),
            each(format!("q{v}[{d}u + j{v}] = g{v}[j{v}];")),
            each(format!("q{v}[{d}u + j{v}] = g{v}[j{v}] + {cot};")),
            each(format!("{} = q{v}[{d}u + j{v}];", self.put(v, &format!("j{v}")))),
        ))
    }

    /// Scalar work of instruction `k` (no element loop).
    fn scalar(&mut self, k: usize, hoist: &Hoist) {
        let instr = &self.prog.instrs[k];
        let v = instr.out;
        let value = |g: &Self, a: usize| g.at(a, "0u");
        let e = match &instr.op {
            Op::Input { offset } => {
                self.places[v] = Place::Pos(*offset);
                return;
            }
            Op::Data(d) => {
                let off: usize = self.prog.data[..*d].iter().map(Vec::len).sum();
                self.places[v] = Place::Data(off);
                return;
            }
            Op::Const(c) => {
                self.places[v] = Place::Scalar;
                self.line(&format!("let v{v} = {};", lit(*c)));
                return;
            }
            Op::Unary(..) | Op::Binary(..) | Op::Pow(..) | Op::Broadcast(_) => {
                self.elementwise_expr(&instr.op, "0u")
            }
            Op::Get(src, k) => self.at_any(*src, &format!("{k}u")),
            Op::Sum(a) => value(self, *a),
            Op::Gather { .. }
            | Op::ScatterAdd { .. }
            | Op::OneHot(..)
            | Op::Stack(_)
            | Op::Slice { .. }
            | Op::MatVec { .. }
            | Op::MatTVec { .. }
            | Op::MatMulT { .. }
            | Op::MatTMul { .. } => {
                // One element: the element code with i = 0.
                let code = self.element_code(&instr.op, v, "0u");
                self.places[v] = Place::Scalar;
                self.line(&format!("var v{v}: real;"));
                self.line(&format!("{{ let i = 0u; {code} v{v} = x{v}; }}"));
                return;
            }
            Op::VecLpdf { .. }
            | Op::Bijector { .. }
            | Op::Tril { .. }
            | Op::CumSum { .. }
            | Op::Scan(_)
            | Op::ScanAdjoint(_) => {
                if let Err(e) = self.block(k) {
                    self.error.get_or_insert(e);
                }
                return;
            }
            Op::Lpdf { kind, args, partials } => {
                // One element: every invocation (every lane) computes it whole.
                self.places[v] = Place::Scalar;
                self.line(&format!("var v{v}: real;"));
                for p in partials.iter().flatten() {
                    self.places[*p] = Place::Scalar;
                    self.line(&format!("var v{p}: real = real(0.0);"));
                }
                let name = family_prefix(*kind);
                let list: Vec<String> = args.iter().map(|&a| value(self, a)).collect();
                // A normaliser of constants was summed on the host.
                let (func, start) = match hoist {
                    Hoist::Constant(c) => ("kernel_grad", format!("{} + ", lit(*c))),
                    _ => ("lpdf_grad", String::new()),
                };
                let call = format!("{name}_{func}({})", list.join(", "));
                let mut body = format!("let r = {call}; v{v} = {start}r.v;");
                for (j, p) in partials.iter().enumerate() {
                    if let Some(p) = p {
                        let _ = write!(body, " v{p} += r.{};", partial_field(j));
                    }
                }
                self.line(&format!("{{ {body} }}"));
                // A NaN density is -inf, as on the CPU.
                self.line(&format!("if (v{v} != v{v}) {{ v{v} = neg_inf(); }}"));
                return;
            }
        };
        self.places[v] = Place::Scalar;
        self.line(&format!("let v{v} = {e};"));
    }

    /// The expression of element `i` of an elementwise operation.
    fn elementwise_expr(&self, op: &Op, i: &str) -> String {
        match *op {
            Op::Unary(op, a) => {
                let x = self.at(a, i);
                match op {
                    UnOp::Neg => format!("-({x})"),
                    UnOp::Exp => format!("exp_r({x})"),
                    UnOp::Log => format!("ln_r({x})"),
                    UnOp::Log1p => format!("log1p_r({x})"),
                    UnOp::Sqrt => format!("sqrt({x})"),
                    UnOp::Square => format!("sq({x})"),
                    UnOp::Logistic => format!("logistic({x})"),
                    UnOp::Softplus => format!("softplus({x})"),
                    UnOp::Expm1 => format!("expm1_r({x})"),
                    UnOp::LogLogistic => format!("-softplus(-({x}))"),
                    UnOp::Abs => format!("abs({x})"),
                    UnOp::Tanh => format!("tanh_r({x})"),
                    UnOp::Sin => format!("cos_sin_r({x}).y"),
                    UnOp::Cos => format!("cos_sin_r({x}).x"),
                    UnOp::Atan => format!("atan_r({x})"),
                    UnOp::WrapAngle => format!("wrap_angle_r({x})"),
                }
            }
            Op::Binary(op, a, b) => {
                let (x, y) = (self.at(a, i), self.at(b, i));
                match op {
                    BinOp::Add => format!("({x}) + ({y})"),
                    BinOp::Sub => format!("({x}) - ({y})"),
                    BinOp::Mul => format!("({x}) * ({y})"),
                    BinOp::Div => format!("({x}) / ({y})"),
                    BinOp::Pow => format!("powc({x}, {y})"),
                }
            }
            Op::Pow(a, c) => format!("powc({}, {})", self.at(a, i), lit(c)),
            Op::Broadcast(a) => self.at(a, "0u"),
            _ => unreachable!("not elementwise"),
        }
    }

    /// Adds instruction `k`'s element work to the open run.
    fn member(&mut self, k: usize, hoist: &Hoist) {
        let instr = &self.prog.instrs[k];
        let v = instr.out;
        match &instr.op {
            Op::Sum(a) => {
                let x = self.at(*a, "i");
                let run = self.run.as_mut().expect("open run");
                let acc = run.compensated(v, &x);
                run.pre.push(format!("var v{v}: real;"));
                run.finish.push(format!("v{v} = @{acc}@;"));
                run.pending.push(v);
                self.places[v] = Place::Scalar;
            }
            Op::Lpdf { kind, args, partials } => self.lpdf(v, *kind, args, partials, hoist),
            Op::Gather { .. }
            | Op::ScatterAdd { .. }
            | Op::OneHot(..)
            | Op::Stack(_)
            | Op::Slice { .. }
            | Op::MatVec { .. }
            | Op::MatTVec { .. }
            | Op::MatMulT { .. }
            | Op::MatTMul { .. } => {
                let code = self.element_code(&instr.op, v, "i");
                let run = self.run.as_mut().expect("open run");
                run.body.push(code);
                run.elements.push(v);
                self.places[v] = Place::Element;
            }
            op => {
                let e = self.elementwise_expr(op, "i");
                let run = self.run.as_mut().expect("open run");
                run.body.push(format!("let x{v} = {e};"));
                run.elements.push(v);
                self.places[v] = Place::Element;
            }
        }
    }

    /// Statements defining `x{v}`, element `i` of an indexing or matrix instruction.
    fn element_code(&self, op: &Op, v: usize, i: &str) -> String {
        let u = |x: String| format!("u32({x})");
        match op {
            Op::Gather { src, index } => {
                format!("let x{v} = {};", self.at_any(*src, &u(self.at(*index, i))))
            }
            Op::ScatterAdd { src, starts, perm } => {
                let (from, to) = (u(self.at_any(*starts, i)), u(self.at_any(*starts, &format!("{i} + 1u"))));
                let item = self.at_any(*src, &u(self.at_any(*perm, &format!("q{v}"))));
                format!(
                    "var m{v} = real(0.0); for (var q{v} = {from}; q{v} < {to}; q{v}++) {{ m{v} += {item}; }} let x{v} = m{v};"
                )
            }
            Op::OneHot(src, k) => {
                format!("let x{v} = select(real(0.0), {}, {i} == {k}u);", self.at(*src, "0u"))
            }
            Op::Slice { src, start } => {
                format!("let x{v} = {};", self.at_any(*src, &format!("{i} + {start}u")))
            }
            Op::Stack(items) => {
                let cases: String = items
                    .iter()
                    .enumerate()
                    .map(|(j, &a)| format!("case {j}u: {{ m{v} = {}; }} ", self.at(a, "0u")))
                    .collect();
                format!("var m{v} = real(0.0); switch ({i}) {{ {cases}default: {{}} }} let x{v} = m{v};")
            }
            Op::MatVec { x, v: vec } => {
                let c = self.len(*vec);
                let xe = self.at_any(*x, &format!("{i} * {c}u + j{v}"));
                let ve = self.at_any(*vec, &format!("j{v}"));
                format!(
                    "var m{v} = real(0.0); for (var j{v} = 0u; j{v} < {c}u; j{v}++) {{ m{v} += {xe} * {ve}; }} let x{v} = m{v};"
                )
            }
            Op::MatTVec { x, g } => {
                let (r, c) = (self.len(*g), self.len(v));
                let xe = self.at_any(*x, &format!("j{v} * {c}u + {i}"));
                let ge = self.at_any(*g, &format!("j{v}"));
                format!(
                    "var m{v} = real(0.0); for (var j{v} = 0u; j{v} < {r}u; j{v}++) {{ m{v} += {xe} * {ge}; }} let x{v} = m{v};"
                )
            }
            Op::MatMulT { x, w, k } => {
                let c = self.len(*w) / k;
                let xe = self.at_any(*x, &format!("({i} / {k}u) * {c}u + j{v}"));
                let we = self.at_any(*w, &format!("({i} % {k}u) * {c}u + j{v}"));
                format!(
                    "var m{v} = real(0.0); for (var j{v} = 0u; j{v} < {c}u; j{v}++) {{ m{v} += {xe} * {we}; }} let x{v} = m{v};"
                )
            }
            Op::MatTMul { x, g, k } => {
                let (c, r) = (self.len(v) / k, self.len(*g) / k);
                let xe = self.at_any(*x, &format!("j{v} * {c}u + {i} % {c}u"));
                let ge = self.at_any(*g, &format!("j{v} * {k}u + {i} / {c}u"));
                format!(
                    "var m{v} = real(0.0); for (var j{v} = 0u; j{v} < {r}u; j{v}++) {{ m{v} += {xe} * {ge}; }} let x{v} = m{v};"
                )
            }
            _ => unreachable!("not an indexing or matrix instruction"),
        }
    }

    /// A fused density over the open run's `n` elements: a compensated sum of the values, plain
    /// sums of the scalar partials, vector partials per element.
    fn lpdf(&mut self, v: usize, kind: DistKind, args: &[usize], partials: &[Option<usize>], hoist: &Hoist) {
        let name = family_prefix(kind);
        let n = self.run.as_ref().expect("open run").n;
        let list: Vec<String> =
            args.iter().map(|&a| self.at(a, if self.len(a) == n { "i" } else { "0u" })).collect();
        let call = format!(
            "{name}_{}({})",
            if matches!(hoist, Hoist::None) { "lpdf_grad" } else { "kernel_grad" },
            list.join(", ")
        );
        // The normaliser, when it reads only scalar parameters (the plan's condition): vector
        // ones are not read and are passed as zero.
        let hoisted: Vec<String> = args[1..]
            .iter()
            .map(|&a| if self.len(a) == 1 { self.at(a, "0u") } else { "real(0.0)".into() })
            .collect();
        let hoisted = hoisted.join(", ");
        let mut element_partials = Vec::new();
        let run = self.run.as_mut().expect("open run");
        run.pre.push(format!("var v{v}: real;"));
        run.body.push(format!("let r{v} = {call};"));
        let value = run.compensated(v, &format!("r{v}.v"));
        let start = match hoist {
            Hoist::None => "real(0.0)".to_string(),
            Hoist::Constant(c) => lit(*c),
            Hoist::Scalar => {
                run.pre.push(format!("let n{v} = {name}_log_normalizer_grad({hoisted});"));
                format!("real({n}.0) * n{v}.v")
            }
        };
        run.finish.push(format!("v{v} = {start} + @{value}@;"));
        run.pending.push(v);
        for (j, p) in partials.iter().enumerate() {
            let Some(p) = *p else { continue };
            let comp = partial_field(j);
            if self.prog.lens[p] == n {
                run.body.push(format!("let x{p} = r{v}.{comp};"));
                run.elements.push(p);
                element_partials.push(p);
            } else {
                run.pre.push(format!("var v{p}: real = real(0.0);"));
                if matches!(hoist, Hoist::Scalar) && j > 0 {
                    // Only scalar parameters are read by the normaliser, so only their partials
                    // get a share.
                    run.pre.push(format!("v{p} += real({n}.0) * n{v}.{comp};"));
                }
                run.pre.push(format!("var a{v}_{j}: real = real(0.0);"));
                run.body.push(format!("a{v}_{j} += r{v}.{comp};"));
                run.accs.push(format!("a{v}_{j}"));
                run.finish.push(format!("v{p} += @{}@;", run.accs.len() - 1));
                run.pending.push(p);
                self.places[p] = Place::Scalar;
            }
        }
        // A NaN density is -inf, as on the CPU.
        run.finish.push(format!("if (v{v} != v{v}) {{ v{v} = neg_inf(); }}"));
        self.places[v] = Place::Scalar;
        for p in element_partials {
            self.places[p] = Place::Element;
        }
    }

    /// Closes the open run: stores the element values read outside it, emits its loop, the
    /// reductions, what finishes each instruction, and the deferred scalar instructions.
    fn flush(&mut self) -> Result<(), CodegenError> {
        let Some(mut run) = self.run.take() else { return Ok(()) };
        let n = run.n;
        let mut shared = false;
        for &v in &run.elements {
            // Gradient pieces are written inside the loop.
            for (e, &(offset, gv)) in self.prog.grad.iter().enumerate() {
                if gv == v {
                    let at = self.index("grad_base", offset, "i");
                    run.body.push(format!("{}[{at}] = x{v};", self.grad));
                    self.written[e] = true;
                }
            }
            if self.users[v].iter().all(|u| *u == OUTPUT || run.members.contains(u)) {
                continue;
            }
            if self.random[v] && matches!(self.form, Form::Strided { .. }) {
                // Whole-visible: every lane writes its elements to workgroup memory, and a
                // barrier after the loop publishes them.
                let _ = writeln!(self.globals, "var<workgroup> w{v}: array<real, {n}>;");
                run.body.push(format!("w{v}[i] = x{v};"));
                self.places[v] = Place::Shared;
                shared = true;
                continue;
            }
            let share = self.share(n);
            if let (Form::Whole { .. }, Some(used)) = (self.form, self.scratch)
                && n >= SCRATCH_MIN_LEN
            {
                self.places[v] = Place::Scratch(used);
                self.scratch = Some(used + n);
                run.body.push(format!("{} = x{v};", self.at(v, "i")));
                continue;
            }
            if share > MAX_LOCAL_VECTOR {
                let max = MAX_LOCAL_VECTOR * (n / share).max(1);
                return Err(CodegenError::VectorTooLong { value: v, len: n, max });
            }
            run.pre.push(format!("var v{v}: array<real, {share}>;"));
            self.places[v] = Place::Local;
            run.body.push(format!("{} = x{v};", self.at(v, "i")));
        }
        for l in &run.pre {
            self.line(l);
        }
        let body = run.body.join(" ");
        let l = self.for_each(n, &body);
        self.line(&l);
        if shared {
            self.line("workgroupBarrier();");
        }
        let reduced: Vec<String> = match self.form {
            Form::Strided { .. } => {
                let mut names = Vec::new();
                let first = run.members[0];
                for (c, chunk) in run.accs.chunks(8).enumerate() {
                    if chunk.len() == 1 {
                        self.line(&format!("let r{first}_{c} = wg_sum1(lane, {});", chunk[0]));
                        names.push(format!("r{first}_{c}"));
                        continue;
                    }
                    let slot = |e: usize| chunk.get(e).cloned().unwrap_or_else(|| "real(0.0)".into());
                    let (a, b) = ((0..4).map(slot).collect::<Vec<_>>(), (4..8).map(slot).collect::<Vec<_>>());
                    self.line(&format!(
                        "let r{first}_{c} = wg_sum(lane, vec4<real>({}), vec4<real>({}));",
                        a.join(", "),
                        b.join(", ")
                    ));
                    names
                        .extend((0..chunk.len()).map(|e| format!("r{first}_{c}[{}].{}", e / 4, COMP[e % 4])));
                }
                names
            }
            Form::Whole { .. } => run.accs.clone(),
        };
        for f in &run.finish {
            let mut f = f.clone();
            for (k, r) in reduced.iter().enumerate() {
                f = f.replace(&format!("@{k}@"), r);
            }
            self.line(&f);
        }
        self.out.push_str(&run.deferred);
        Ok(())
    }
}

/// A generated `logp_grad` function (with the module-scope declarations it needs) and the
/// reals of the storage scratch region it indexes per chain: `scratch[sb ..][..scratch]`,
/// where `sb` is its last argument. With `scratch == 0` the function never reads the binding.
#[derive(Clone, Debug)]
pub struct Generated {
    /// WGSL source.
    pub code: String,
    /// Reals of scratch per chain.
    pub scratch: usize,
}

/// Generates `fn logp_grad(pos_base: u32, grad_base: u32, sb: u32) -> real` for a
/// differentiated program, reading positions from the storage array `pos` and writing
/// gradients to `grad_out`.
pub fn logp_grad_fn(prog: &Program) -> Result<Generated, CodegenError> {
    let sig = "fn logp_grad(pos_base: u32, grad_base: u32, sb: u32) -> real {\n";
    generate(prog, sig, ("pos", "grad_out"), Form::Whole { based: true })
}

/// Generates `fn logp_grad(q: ptr<function, Vec>, g: ptr<function, Vec>, sb: u32) -> real` on
/// private arrays (one invocation per chain; `Vec` is defined by `shaders/step_invocation.wgsl`).
pub fn logp_grad_fn_private(prog: &Program) -> Result<Generated, CodegenError> {
    let sig = "fn logp_grad(q: ptr<function, Vec>, g: ptr<function, Vec>, sb: u32) -> real {\n";
    generate(prog, sig, ("(*q)", "(*g)"), Form::Whole { based: false })
}

/// Generates `fn logp_grad(lane: u32, sb: u32) -> real` for one workgroup of `lanes` lanes per
/// chain (`lanes` a power of two equal to the module's `WORKGROUP`): the position is read from
/// the workgroup array `wpos`, each lane writes its elements of the gradient to `wgrad`, and
/// every lane returns the same log density. `shaders/workgroup.wgsl` declares those. Must be
/// called from uniform control flow (it synchronises the workgroup).
pub fn logp_grad_fn_strided(prog: &Program, lanes: usize) -> Result<Generated, CodegenError> {
    let sig = "fn logp_grad(lane: u32, sb: u32) -> real {\n";
    generate(prog, sig, ("wpos", "wgrad"), Form::Strided { lanes })
}

fn generate(prog: &Program, sig: &str, io: (&str, &str), form: Form) -> Result<Generated, CodegenError> {
    generate_at(prog, sig, io, form, (0, ""), true)
}

/// [`generate`] for a program whose data start at `data_base` in the data buffer, its nested
/// functions named with `prefix`, with or without a scratch region.
fn generate_at(
    prog: &Program,
    sig: &str,
    (pos, grad): (&str, &str),
    form: Form,
    (data_base, prefix): (usize, &str),
    scratch: bool,
) -> Result<Generated, CodegenError> {
    let mut users = vec![Vec::new(); prog.lens.len()];
    for (k, instr) in prog.instrs.iter().enumerate() {
        for a in reads(&instr.op) {
            users[a].push(k);
        }
    }
    for &(_, v) in &prog.grad {
        users[v].push(OUTPUT);
    }
    if let Some(v) = prog.logp {
        users[v].push(OUTPUT);
    }
    let mut random = vec![false; prog.lens.len()];
    prog.instrs.iter().flat_map(|i| random_reads(&i.op)).for_each(|v| random[v] = true);
    let mut g = Gen {
        prog,
        places: vec![Place::Scalar; prog.lens.len()],
        users,
        run: None,
        out: String::new(),
        pos,
        grad,
        written: vec![false; prog.grad.len()],
        form,
        random,
        globals: String::new(),
        error: None,
        data_base,
        nested_data: 0,
        prefix: prefix.to_string(),
        scratch: scratch.then_some(0),
    };
    g.out.push_str(sig);
    let hoisted = plan(prog);
    for k in 0..prog.instrs.len() {
        g.instr(k, &hoisted)?;
    }
    g.flush()?;
    if let Some(e) = g.error.take() {
        return Err(e);
    }
    let written = std::mem::take(&mut g.written);
    for (&(offset, v), _) in prog.grad.iter().zip(written).filter(|(_, w)| !w) {
        let n = g.len(v);
        let src = g.at(v, "i");
        let at = g.index("grad_base", offset, "i");
        let l = match form {
            Form::Strided { .. } if n == 1 => format!("if (lane == 0u) {{ {grad}[{offset}u] = {src}; }}"),
            _ => g.for_each(n, &format!("{grad}[{at}] = {src};")),
        };
        g.line(&l);
    }
    let ret = prog.logp.map(|v| g.at(v, "0u")).unwrap_or_else(|| "real(0.0)".into());
    g.line(&format!("return {ret};"));
    g.out.push_str("}\n");
    Ok(Generated { code: g.globals + &g.out, scratch: g.scratch.unwrap_or(0) })
}

/// Flattened data arrays, in the layout `logp_grad_fn` indexes: the program's own, then those
/// of the programs nested in its instructions, in order (each followed by its own nested ones).
pub fn flat_data(prog: &Program) -> Vec<f64> {
    let mut out = prog.data.concat();
    for p in prog.nested() {
        out.extend(flat_data(p));
    }
    out
}

/// Length of [`flat_data`].
fn flat_len(prog: &Program) -> usize {
    prog.data.iter().map(Vec::len).sum::<usize>() + prog.nested().into_iter().map(flat_len).sum::<usize>()
}

/// Helpers the generated code uses beyond `shaders/special.wgsl`.
pub const CODEGEN_HELPERS: &str = r#"
fn sq(x: real) -> real { return x * x; }
// sech(u) and ln sech(u) without overflow (the Cholesky-correlation bijector).
fn sech_r(u: real) -> real { let e = exp_r(-abs(u)); return real(2.0) * e / (real(1.0) + e * e); }
fn ln_sech(u: real) -> real { let a = abs(u); return -a - log1p_r(exp_r(real(-2.0) * a)) + real(0.6931471805599453); }
// x^c via ln_r/exp_r (WGSL pow is f32-only in SPIR-V and rejects negative bases), for a
// constant or a computed exponent c; integer exponents accept negative bases, as powf does on
// the CPU.
fn powc(x: real, c: real) -> real {
    if (x == real(0.0)) {
        return select(select(pos_inf(), real(1.0), c == real(0.0)), real(0.0), c > real(0.0));
    }
    let r = exp_r(c * ln_r(abs(x)));
    if (c == floor(c)) {
        let odd = abs(c - real(2.0) * floor(c / real(2.0))) == real(1.0);
        return select(r, -r, x < real(0.0) && odd);
    }
    return select(r, nan_r(), x < real(0.0));
}
"#;
