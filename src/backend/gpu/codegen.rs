//! WGSL code generation: a [`Program`] becomes one WGSL function `logp_grad`, in one of three
//! forms: on storage (`pos`, `grad_out`, from a chain's base index), on private arrays (one
//! invocation per chain), or lane-strided for one workgroup per chain (element i of every
//! vector belongs to lane i mod WORKGROUP; sums are per-lane compensated sums reduced by a
//! pairwise tree over the workgroup).
//!
//! Data is read from `data` in place. Scalars are named values computed by every lane; vectors
//! are function-scope arrays (whole, or the lane's share of them). Fused densities
//! call the per-family functions in `shaders/dist/`; normalisers that read only constants are
//! summed on the host in f64 and emitted as one literal, as the CPU executor does.

use std::fmt::Write;

use crate::compile::hoist::{Hoist, plan};
use crate::compile::{BinOp, Op, Program, UnOp};
use crate::model::DistKind;

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
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum CodegenError {
    /// A vector too long for function-scope arrays in the one-invocation-per-chain mapping.
    #[error("value v{value} has {len} elements; one invocation per chain supports at most {max}")]
    VectorTooLong {
        /// The value.
        value: usize,
        /// Its length.
        len: usize,
        /// The limit.
        max: usize,
    },
}

/// Longest vector kept in function-scope memory per invocation.
pub const MAX_LOCAL_VECTOR: usize = 4096;

/// Where a value lives in the generated code.
#[derive(Clone, Debug)]
enum Place {
    /// A scalar `let`/`var` named `v{id}`.
    Scalar,
    /// A function-scope array `v{id}`.
    Local,
    /// `pos[pos_base + offset + i]`.
    Pos(usize),
    /// `data[offset + i]`.
    Data(usize),
}

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

struct Gen<'p> {
    prog: &'p Program,
    places: Vec<Place>,
    out: String,
    pos: &'p str,
    form: Form,
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
            Place::Local if matches!(self.form, Form::Strided { .. }) => format!("v{v}[t]"),
            Place::Local => format!("v{v}[{i}]"),
            Place::Pos(off) => format!("{}[{}]", self.pos, self.index("pos_base", off, i)),
            Place::Data(off) => format!("data[{off}u + {i}]"),
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

    /// Declares the output value and returns how to assign element `i` of it.
    fn declare(&mut self, v: usize) -> Result<(), CodegenError> {
        let n = self.len(v);
        if n == 1 {
            self.places[v] = Place::Scalar;
            self.line(&format!("var v{v}: real;"));
        } else if self.share(n) > MAX_LOCAL_VECTOR {
            let max = MAX_LOCAL_VECTOR * (n / self.share(n)).max(1);
            return Err(CodegenError::VectorTooLong { value: v, len: n, max });
        } else {
            self.places[v] = Place::Local;
            let share = self.share(n);
            self.line(&format!("var v{v}: array<real, {share}>;"));
        }
        Ok(())
    }

    /// Emits `out[i] = expr(i)` over the output's length.
    fn elementwise(&mut self, v: usize, expr: impl Fn(&Self, &str) -> String) -> Result<(), CodegenError> {
        self.declare(v)?;
        let n = self.len(v);
        if n == 1 {
            let e = expr(self, "0u");
            self.line(&format!("v{v} = {e};"));
        } else {
            let e = expr(self, "i");
            let target = self.at(v, "i");
            let l = self.for_each(n, &format!("{target} = {e};"));
            self.line(&l);
        }
        Ok(())
    }

    /// `acc` (a per-invocation partial sum) reduced over the workgroup into `v` in the strided
    /// form; nothing to do otherwise.
    fn reduce_into(&mut self, v: &str, acc: &str) {
        if matches!(self.form, Form::Strided { .. }) {
            self.line(&format!("{v} = wg_sum1(lane, {acc});"));
        } else {
            self.line(&format!("{v} = {acc};"));
        }
    }

    fn instr(&mut self, k: usize, hoisted: &[Hoist]) -> Result<(), CodegenError> {
        let instr = &self.prog.instrs[k];
        let v = instr.out;
        match &instr.op {
            Op::Input { offset } => self.places[v] = Place::Pos(*offset),
            Op::Data(d) => {
                let off: usize = self.prog.data[..*d].iter().map(Vec::len).sum();
                self.places[v] = Place::Data(off);
            }
            Op::Const(c) => {
                self.places[v] = Place::Scalar;
                self.line(&format!("let v{v} = {};", lit(*c)));
            }
            Op::Unary(op, a) => {
                let a = *a;
                let op = *op;
                self.elementwise(v, |g, i| {
                    let x = g.at(a, i);
                    match op {
                        UnOp::Neg => format!("-({x})"),
                        UnOp::Exp => format!("exp_r({x})"),
                        UnOp::Log => format!("ln_r({x})"),
                        UnOp::Log1p => format!("log1p_r({x})"),
                        UnOp::Sqrt => format!("sqrt({x})"),
                        UnOp::Square => format!("sq({x})"),
                        UnOp::Logistic => format!("logistic({x})"),
                        UnOp::Softplus => format!("softplus({x})"),
                    }
                })?;
            }
            Op::Binary(op, a, b) => {
                let (a, b, op) = (*a, *b, *op);
                let sym = match op {
                    BinOp::Add => "+",
                    BinOp::Sub => "-",
                    BinOp::Mul => "*",
                    BinOp::Div => "/",
                };
                self.elementwise(v, |g, i| format!("({}) {sym} ({})", g.at(a, i), g.at(b, i)))?;
            }
            Op::Pow(a, c) => {
                let (a, c) = (*a, *c);
                self.elementwise(v, |g, i| format!("powc({}, {})", g.at(a, i), lit(c)))?;
            }
            Op::Broadcast(a) => {
                let a = *a;
                self.elementwise(v, |g, _| g.at(a, "0u"))?;
            }
            Op::Sum(a) => {
                let a = *a;
                self.declare(v)?;
                let n = self.len(a);
                let x = self.at(a, "i");
                // Compensated (Kahan) summation keeps f32 sums of long vectors accurate.
                self.line(&format!("var c{v}: real = real(0.0);"));
                self.line(&format!("var s{v}: real = real(0.0);"));
                let l = self.for_each(
                    n,
                    &format!("let y = ({x}) - c{v}; let z = s{v} + y; c{v} = (z - s{v}) - y; s{v} = z;"),
                );
                self.line(&l);
                self.reduce_into(&format!("v{v}"), &format!("s{v}"));
            }
            Op::Lpdf { kind, args, partials } => self.lpdf(v, *kind, args, partials, &hoisted[k])?,
        }
        Ok(())
    }

    fn lpdf(
        &mut self,
        v: usize,
        kind: DistKind,
        args: &[usize],
        partials: &[Option<usize>],
        hoist: &Hoist,
    ) -> Result<(), CodegenError> {
        let name = family_prefix(kind);
        let n = args.iter().map(|&a| self.len(a)).max().unwrap_or(1);
        self.declare(v)?;
        for p in partials.iter().flatten() {
            self.declare(*p)?;
            if self.len(*p) == 1 {
                self.line(&format!("v{p} = real(0.0);"));
            }
        }
        let idx = if n == 1 { "0u" } else { "i" };
        let arg = |g: &Self, j: usize| -> String {
            match args.get(j) {
                Some(&a) => g.at(a, if g.len(a) == n && n > 1 { idx } else { "0u" }),
                None => "real(0.0)".into(),
            }
        };
        let params = |g: &Self| format!("{}, {}, {}", arg(g, 1), arg(g, 2), arg(g, 3));
        let start = match hoist {
            Hoist::None => "real(0.0)".to_string(),
            Hoist::Constant(c) => lit(*c),
            Hoist::Scalar => {
                // The normaliser reads only scalar parameters (the plan's condition); vector
                // ones are not read and are passed as zero, outside the element loop.
                let scalar = |g: &Self, j: usize| match args.get(j) {
                    Some(&a) if g.len(a) == 1 => g.at(a, "0u"),
                    _ => "real(0.0)".into(),
                };
                let p = format!("{}, {}, {}", scalar(self, 1), scalar(self, 2), scalar(self, 3));
                self.line(&format!("let n{v} = {name}_log_normalizer_grad({p});"));
                for (j, p) in partials.iter().enumerate().skip(1) {
                    // Only scalar parameters are read, so only their partials get a share.
                    if let Some(p) = p.filter(|&p| self.len(p) == 1) {
                        let comp = ["x", "y", "z", "w"][j];
                        self.line(&format!("v{p} += real({n}.0) * n{v}.g.{comp};"));
                    }
                }
                format!("real({n}.0) * n{v}.v")
            }
        };
        let func = if matches!(hoist, Hoist::None) { "lpdf_grad" } else { "kernel_grad" };
        let call = format!("{name}_{func}({}, {})", arg(self, 0), params(self));
        let comp = ["x", "y", "z", "w"];
        if n == 1 {
            // One element: every invocation (every lane) computes it whole.
            let mut body = format!("let r = {call}; v{v} = {start} + r.v;");
            for (j, p) in partials.iter().enumerate() {
                if let Some(p) = p {
                    let _ = write!(body, " v{p} += r.g.{};", comp[j]);
                }
            }
            self.line(&format!("{{ {body} }}"));
        } else {
            // A compensated sum of the values and plain sums of the scalar partials, per
            // invocation (per lane, then reduced over the workgroup); vector partials are
            // elementwise.
            let mut sums = vec![format!("s{v}")];
            let mut body = format!(
                "let r = {call}; let y = r.v - c{v}; let z = s{v} + y; c{v} = (z - s{v}) - y; s{v} = z;"
            );
            self.line(&format!("var s{v}: real = real(0.0);"));
            self.line(&format!("var c{v}: real = real(0.0);"));
            let mut scalar_partials = Vec::new();
            for (j, p) in partials.iter().enumerate() {
                if let Some(p) = *p {
                    if self.len(p) == n {
                        let _ = write!(body, " {} = r.g.{};", self.at(p, "i"), comp[j]);
                    } else {
                        self.line(&format!("var a{v}_{j}: real = real(0.0);"));
                        let _ = write!(body, " a{v}_{j} += r.g.{};", comp[j]);
                        sums.push(format!("a{v}_{j}"));
                        scalar_partials.push(p);
                    }
                }
            }
            let l = self.for_each(n, &body);
            self.line(&l);
            if matches!(self.form, Form::Strided { .. }) {
                // Up to five sums (value and four partials) in one reduction of two vec4s.
                let zero = "real(0.0)".to_string();
                let slot = |e: usize| sums.get(e).unwrap_or(&zero).clone();
                let (a, b) = ((0..4).map(slot).collect::<Vec<_>>(), (4..8).map(slot).collect::<Vec<_>>());
                self.line(&format!(
                    "let r{v} = wg_sum(lane, vec4<real>({}), vec4<real>({}));",
                    a.join(", "),
                    b.join(", ")
                ));
                sums = (0..sums.len()).map(|e| format!("r{v}[{}].{}", e / 4, comp[e % 4])).collect();
            }
            self.line(&format!("v{v} = {start} + {};", sums[0]));
            for (p, total) in scalar_partials.iter().zip(&sums[1..]) {
                self.line(&format!("v{p} += {total};"));
            }
        }
        // A NaN density is -inf, as on the CPU.
        self.line(&format!("if (v{v} != v{v}) {{ v{v} = neg_inf(); }}"));
        Ok(())
    }
}

/// Generates `fn logp_grad(pos_base: u32, grad_base: u32) -> real` for a differentiated
/// program, reading positions from the storage array `pos` and writing gradients to `grad_out`.
pub fn logp_grad_fn(prog: &Program) -> Result<String, CodegenError> {
    let sig = "fn logp_grad(pos_base: u32, grad_base: u32) -> real {\n";
    generate(prog, sig, "pos", "grad_out", Form::Whole { based: true })
}

/// Generates `fn logp_grad(q: ptr<function, Vec>, g: ptr<function, Vec>) -> real` on private
/// arrays (one invocation per chain; `Vec` is defined by `shaders/step_invocation.wgsl`).
pub fn logp_grad_fn_private(prog: &Program) -> Result<String, CodegenError> {
    let sig = "fn logp_grad(q: ptr<function, Vec>, g: ptr<function, Vec>) -> real {\n";
    generate(prog, sig, "(*q)", "(*g)", Form::Whole { based: false })
}

/// Generates `fn logp_grad(lane: u32) -> real` for one workgroup of `lanes` lanes per chain
/// (`lanes` a power of two equal to the module's `WORKGROUP`): the position is read from the
/// workgroup array `wpos`, each lane writes its elements of the gradient to `wgrad`, and every
/// lane returns the same log density. `shaders/workgroup.wgsl` declares those. Must be called
/// from uniform control flow (it synchronises the workgroup).
pub fn logp_grad_fn_strided(prog: &Program, lanes: usize) -> Result<String, CodegenError> {
    let sig = "fn logp_grad(lane: u32) -> real {\n";
    generate(prog, sig, "wpos", "wgrad", Form::Strided { lanes })
}

fn generate(prog: &Program, sig: &str, pos: &str, grad: &str, form: Form) -> Result<String, CodegenError> {
    let mut g = Gen { prog, places: vec![Place::Scalar; prog.lens.len()], out: String::new(), pos, form };
    g.out.push_str(sig);
    let hoisted = plan(prog);
    for k in 0..prog.instrs.len() {
        g.instr(k, &hoisted)?;
    }
    for &(offset, v) in &prog.grad {
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
    Ok(g.out)
}

/// Flattened data arrays, in the layout `logp_grad_fn` indexes.
pub fn flat_data(prog: &Program) -> Vec<f64> {
    prog.data.concat()
}

/// Helpers the generated code uses beyond `shaders/special.wgsl`.
pub const CODEGEN_HELPERS: &str = r#"
fn sq(x: real) -> real { return x * x; }
// x^c for a constant c via ln_r/exp_r (WGSL pow is f32-only in SPIR-V and rejects negative
// bases); integer exponents accept negative bases, as powf does on the CPU.
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
