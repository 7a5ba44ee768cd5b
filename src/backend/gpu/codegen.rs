//! WGSL code generation: a [`Program`] becomes one WGSL function
//! `fn logp_grad(pos_base: u32, grad_base: u32) -> real` for one invocation per chain.
//!
//! The function reads the position from `pos`, data from `data`, and writes the gradient to
//! `grad_out`; the kernel skeleton declares those buffers. Scalars are SSA `let`s, vectors are
//! function-scope arrays (data and positions are read in place, never copied). Fused densities
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

struct Gen<'p> {
    prog: &'p Program,
    places: Vec<Place>,
    out: String,
    pos: &'p str,
    /// Whether positions and gradients are indexed from `pos_base` / `grad_base` (storage) or
    /// from 0 (private arrays).
    based: bool,
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

    /// Element `i` of value `v` (`i` is a WGSL expression); scalars broadcast.
    fn at(&self, v: usize, i: &str) -> String {
        let i = if self.len(v) == 1 { "0u" } else { i };
        match self.places[v] {
            Place::Scalar => format!("v{v}"),
            Place::Local => format!("v{v}[{i}]"),
            Place::Pos(off) => format!("{}[{}]", self.pos, self.index("pos_base", off, i)),
            Place::Data(off) => format!("data[{off}u + {i}]"),
        }
    }

    /// Index of element `i` of a vector at `offset` (from `base` when based).
    fn index(&self, base: &str, offset: usize, i: &str) -> String {
        if self.based { format!("{base} + {offset}u + {i}") } else { format!("{offset}u + {i}") }
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
        } else if n > MAX_LOCAL_VECTOR {
            return Err(CodegenError::VectorTooLong { value: v, len: n, max: MAX_LOCAL_VECTOR });
        } else {
            self.places[v] = Place::Local;
            self.line(&format!("var v{v}: array<real, {n}>;"));
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
            self.line(&format!("for (var i = 0u; i < {n}u; i++) {{ v{v}[i] = {e}; }}"));
        }
        Ok(())
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
                self.line(&format!("v{v} = real(0.0);"));
                self.line(&format!(
                    "for (var i = 0u; i < {n}u; i++) {{ let y = ({x}) - c{v}; let t = v{v} + y; c{v} = (t - v{v}) - y; v{v} = t; }}"
                ));
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
                let p = params(self);
                self.line(&format!("let n{v} = {name}_log_normalizer_grad({p});"));
                for (j, p) in partials.iter().enumerate().skip(1) {
                    if let Some(p) = p {
                        let comp = ["x", "y", "z", "w"][j];
                        self.line(&format!("v{p} += real({n}.0) * n{v}.g.{comp};"));
                    }
                }
                format!("real({n}.0) * n{v}.v")
            }
        };
        let func = if matches!(hoist, Hoist::None) { "lpdf_grad" } else { "kernel_grad" };
        let call = format!("{name}_{func}({}, {})", arg(self, 0), params(self));
        let mut body =
            format!("let r = {call}; let y = r.v - c{v}; let t = v{v} + y; c{v} = (t - v{v}) - y; v{v} = t;");
        for (j, p) in partials.iter().enumerate() {
            if let Some(p) = p {
                let comp = ["x", "y", "z", "w"][j];
                let target = if self.len(*p) == n && n > 1 { format!("v{p}[i]") } else { format!("v{p}") };
                if self.len(*p) == n && n > 1 {
                    let _ = write!(body, " {target} = r.g.{comp};");
                } else {
                    let _ = write!(body, " {target} += r.g.{comp};");
                }
            }
        }
        self.line(&format!("v{v} = {start};"));
        self.line(&format!("var c{v}: real = real(0.0);"));
        if n == 1 {
            self.line(&format!("{{ {body} }}"));
        } else {
            self.line(&format!("for (var i = 0u; i < {n}u; i++) {{ {body} }}"));
        }
        // A NaN density is -inf, as on the CPU.
        self.line(&format!("if (v{v} != v{v}) {{ v{v} = neg_inf(); }}"));
        Ok(())
    }
}

/// Generates `fn logp_grad(pos_base: u32, grad_base: u32) -> real` for a differentiated
/// program, reading positions from the storage array `pos` and writing gradients to `grad_out`.
pub fn logp_grad_fn(prog: &Program) -> Result<String, CodegenError> {
    generate(prog, "fn logp_grad(pos_base: u32, grad_base: u32) -> real {\n", "pos", "grad_out", true)
}

/// Generates `fn logp_grad(q: ptr<function, Vec>, g: ptr<function, Vec>) -> real` on private
/// arrays (the step kernel's; `Vec` is defined by `shaders/step.wgsl`).
pub fn logp_grad_fn_private(prog: &Program) -> Result<String, CodegenError> {
    let sig = "fn logp_grad(q: ptr<function, Vec>, g: ptr<function, Vec>) -> real {\n";
    generate(prog, sig, "(*q)", "(*g)", false)
}

fn generate(prog: &Program, sig: &str, pos: &str, grad: &str, based: bool) -> Result<String, CodegenError> {
    let mut g = Gen { prog, places: vec![Place::Scalar; prog.lens.len()], out: String::new(), pos, based };
    g.out.push_str(sig);
    let hoisted = plan(prog);
    for k in 0..prog.instrs.len() {
        g.instr(k, &hoisted)?;
    }
    for &(offset, v) in &prog.grad {
        let n = g.len(v);
        let src = g.at(v, "i");
        let at = g.index("grad_base", offset, "i");
        g.line(&format!("for (var i = 0u; i < {n}u; i++) {{ {grad}[{at}] = {src}; }}"));
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
