//! Deterministic expressions over model nodes, built by operator overloading.
//!
//! `mu + tau * z`, `(-x).exp()`, `sigma.square()`, `2.0 * x` all build an [`Expr`]: a flat
//! list of operations in evaluation order, so no pass over an expression recurses, however deep
//! it is. A distribution parameter accepts anything that converts into an `Expr`: a constant, a
//! data vector, a [`Var`] or an expression.

use std::ops::{Add, Div, Mul, Neg, Sub};
use std::sync::Arc;

use serde::{Deserialize, Serialize};

/// Handle to a node of a [`Model`](super::Model). Cheap to copy; remembers which model made it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Var {
    pub(crate) owner: u64,
    pub(crate) index: usize,
}

impl Var {
    /// Position of the node in its model.
    pub fn index(self) -> usize {
        self.index
    }
}

/// Reference from an expression to a node. In JSON it is the node's position in the model
/// (`{"var": {"index": 2}}`); the owner tag is runtime-only (it lets the model reject foreign
/// handles) and takes no part in equality.
#[derive(Clone, Copy, Debug, Serialize, Deserialize)]
pub struct NodeRef {
    /// Position of the node in its model.
    pub index: usize,
    #[serde(skip)]
    pub(crate) owner: u64,
}

impl PartialEq for NodeRef {
    fn eq(&self, other: &Self) -> bool {
        self.index == other.index
    }
}
impl Eq for NodeRef {}

/// Elementwise unary operations, in expressions and in the compiled `Program` alike.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum UnaryOp {
    /// `-x`
    Neg,
    /// `eˣ`
    Exp,
    /// `ln x`
    Log,
    /// `ln(1 + x)`
    Log1p,
    /// `√x`
    Sqrt,
    /// `x²`
    Square,
    /// `1 / (1 + e⁻ˣ)`
    Logistic,
    /// `ln(1 + eˣ)`, computed stably.
    Softplus,
    /// `eˣ − 1`, accurate near 0.
    Expm1,
    /// `ln σ(x) = −softplus(−x)`, computed stably (the log-probability of a logit).
    LogLogistic,
    /// `|x|`
    Abs,
    /// `tanh x`
    Tanh,
    /// `sin x`
    Sin,
    /// `cos x`
    Cos,
    /// `atan x`, in `(−π/2, π/2)`.
    Atan,
    /// The angle `x` wrapped into `[−π, π]` (`x − 2π·round(x/2π)`; its derivative is 1): what
    /// a circular variable's transform gives.
    WrapAngle,
}

impl UnaryOp {
    /// Applies the operation to one value.
    #[inline(always)]
    pub fn apply(self, x: f64) -> f64 {
        match self {
            UnaryOp::Neg => -x,
            UnaryOp::Exp => x.exp(),
            UnaryOp::Log => x.ln(),
            UnaryOp::Log1p => x.ln_1p(),
            UnaryOp::Sqrt => x.sqrt(),
            UnaryOp::Square => x * x,
            UnaryOp::Logistic => logistic(x),
            UnaryOp::Softplus => softplus(x),
            UnaryOp::Expm1 => x.exp_m1(),
            UnaryOp::LogLogistic => -softplus(-x),
            UnaryOp::Abs => x.abs(),
            UnaryOp::Tanh => x.tanh(),
            UnaryOp::Sin => x.sin(),
            UnaryOp::Cos => x.cos(),
            UnaryOp::Atan => x.atan(),
            UnaryOp::WrapAngle => wrap_angle(x),
        }
    }
}

/// The angle `x` wrapped into `[−π, π]`: `x − 2π·k` with `k = round(x/2π)` (ties to even, as
/// WGSL's `round`, so that `±π` stay where they are on both backends). `2π` is taken in two
/// parts, `6.28125` (so that `k·6.28125` and the first difference are exact) and the rest, and
/// the result is clamped to `[−π, π]`: a rounding beyond `π` never leaves the interval.
#[inline(always)]
pub fn wrap_angle(x: f64) -> f64 {
    // 2π − 6.28125 to 17 digits (not `TAU − 6.28125`, which keeps `TAU`'s rounding).
    #[allow(clippy::excessive_precision)]
    const TAU_REST: f64 = 0.001_935_307_179_586_476_925_3;
    let k = (x * 0.159_154_943_091_895_35).round_ties_even();
    ((x - k * 6.28125) - k * TAU_REST).clamp(-std::f64::consts::PI, std::f64::consts::PI)
}

/// Numerically stable logistic function.
#[inline(always)]
pub fn logistic(x: f64) -> f64 {
    if x >= 0.0 {
        1.0 / (1.0 + (-x).exp())
    } else {
        let e = x.exp();
        e / (1.0 + e)
    }
}

/// `ln(1 + eˣ)` without overflow or loss of precision.
#[inline(always)]
pub fn softplus(x: f64) -> f64 {
    if x > 0.0 { x + (-x).exp().ln_1p() } else { x.exp().ln_1p() }
}

/// Elementwise binary operations (scalars broadcast against vectors), in expressions and in
/// the compiled `Program` alike.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BinaryOp {
    /// `a + b`
    Add,
    /// `a - b`
    Sub,
    /// `a * b`
    Mul,
    /// `a / b`
    Div,
    /// `aᵇ`
    Pow,
}

impl BinaryOp {
    /// Applies the operation to one pair.
    #[inline(always)]
    pub fn apply(self, a: f64, b: f64) -> f64 {
        match self {
            BinaryOp::Add => a + b,
            BinaryOp::Sub => a - b,
            BinaryOp::Mul => a * b,
            BinaryOp::Div => a / b,
            BinaryOp::Pow => a.powf(b),
        }
    }
}

/// One operation of an [`Expr`]. Operands refer to earlier operations of the same expression
/// by position, so an expression is a flat list in evaluation order and no pass over it
/// recurses, however deep the expression is.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ExprNode {
    /// A scalar constant.
    Const(f64),
    /// A constant vector (data), shared between clones without copying.
    Data(Arc<[f64]>),
    /// The value of a model node.
    Var(NodeRef),
    /// Elementwise unary operation of operand `.1`.
    Unary(UnaryOp, usize),
    /// Elementwise binary operation with broadcasting.
    Binary(BinaryOp, usize, usize),
    /// `base ^ exponent` with a constant exponent.
    Pow(usize, f64),
    /// Sum of the operand's elements (a scalar).
    Sum(usize),
    /// Mean of the operand's elements (a scalar).
    Mean(usize),
    /// `src[index]` elementwise: operand `.0` gathered at the integer data of operand `.1`.
    Gather(usize, usize),
    /// Element `.1` of operand `.0` (a scalar).
    Get(usize, usize),
    /// Scalars stacked into a vector.
    Stack(Vec<usize>),
    /// Matrix × vector: operand `.0` is a data matrix (a node made by `Model::data_matrix`),
    /// operand `.1` the vector.
    MatVec(usize, usize),
    /// Matrix × matrix: operand `.0` is an `R × C` data matrix, operand `.1` a `C × K` matrix
    /// of `C·K` values row by row (`.2 = K`); the `R × K` product, row by row.
    MatMul(usize, usize, usize),
    /// Operand `.0` read as a matrix of `.1` rows and `.2` columns, row by row (see
    /// [`Expr::reshape`]).
    Reshape(usize, usize, usize),
    /// `L z` for each `K`-row of operand `.1`, with operand `.0` a `K × K` lower-triangular
    /// matrix of `K²` values row by row (its upper triangle is not read).
    TrilMul(usize, usize),
    /// The lower Cholesky factor of the symmetric positive-definite `K × K` matrix operand
    /// `.0` (`K²` values row by row; its lower triangle is read), zero above the diagonal.
    Cholesky(usize),
    /// Running sum of the operand: `out[i] = Σ_{j ≤ i} x[j]` (see [`Expr::cumsum`]).
    CumSum(usize),
    /// First differences of the operand: `out[i] = x[i + 1] − x[i]`, one fewer value (see
    /// [`Expr::diff`]).
    Diff(usize),
    /// A recurrence (see [`Expr::scan`]): every state in turn.
    Scan(Box<ScanExpr>),
    /// The argument of a function expression: inside a recurrence's step the previous state;
    /// in a transformed observation's value the underlying draw ([`Expr::argument`]).
    State,
    /// Inside a recurrence's step: this step's slice of sequence `.0`.
    Step(usize),
}

/// A recurrence `state_t = step(state_{t−1}, x_t)` for `t = 0 … steps − 1` from
/// `state_{−1} = init`, in an expression (see [`Expr::scan`]).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ScanExpr {
    /// The next state, from [`ExprNode::State`], [`ExprNode::Step`], model nodes (read whole,
    /// the same at every step), constants and data.
    pub step: Expr,
    /// Number of steps.
    pub steps: usize,
    /// Operands in the enclosing expression: the initial state, then the sequences (sequence
    /// `k` of `steps · w` values gives `w` per step: a scalar when `w = 1`).
    pub args: Vec<usize>,
}

impl ScanExpr {
    /// The states of a recurrence from the values of its initial state and sequences (`args`,
    /// in that order), with the model nodes its step reads from `lookup`; None when lengths do
    /// not fit or a node has no value.
    fn eval(&self, args: &[ConstValue], lookup: &dyn Fn(usize) -> Option<ConstValue>) -> Option<ConstValue> {
        let (init, seqs) = args.split_first()?;
        if self.steps == 0 {
            return None;
        }
        let widths: Vec<usize> = seqs
            .iter()
            .map(|q| q.values.len().is_multiple_of(self.steps).then_some(q.values.len() / self.steps))
            .collect::<Option<_>>()?;
        let mut state = init.clone();
        let mut out = Vec::with_capacity(self.steps * state.values.len());
        let nodes = self.step.nodes();
        for t in 0..self.steps {
            let mut vals: Vec<ConstValue> = Vec::with_capacity(nodes.len());
            for n in nodes {
                let v = match n {
                    ExprNode::State => state.clone(),
                    ExprNode::Step(k) => {
                        let (q, w) = (seqs.get(*k)?, widths[*k]);
                        ConstValue { values: q.values[t * w..(t + 1) * w].to_vec(), vector: w > 1 }
                    }
                    ExprNode::Var(r) => lookup(r.index)?,
                    ExprNode::Scan(inner) => {
                        let a: Vec<ConstValue> = inner.args.iter().map(|&a| vals[a].clone()).collect();
                        inner.eval(&a, lookup)?
                    }
                    n => {
                        let a: Vec<ConstValue> = n.operands().map(|a| vals[a].clone()).collect();
                        n.apply(&a)?
                    }
                };
                vals.push(v);
            }
            let next = vals.pop()?;
            if next.values.len() != state.values.len() {
                return None;
            }
            out.extend_from_slice(&next.values);
            state = next;
        }
        Some(ConstValue { values: out, vector: true })
    }
}

/// The operands of an [`ExprNode`], without allocating.
pub enum Operands<'a> {
    /// Up to two.
    Few(std::iter::Chain<std::option::IntoIter<usize>, std::option::IntoIter<usize>>),
    /// A stack's.
    Many(std::iter::Copied<std::slice::Iter<'a, usize>>),
}

impl Iterator for Operands<'_> {
    type Item = usize;
    fn next(&mut self) -> Option<usize> {
        match self {
            Operands::Few(i) => i.next(),
            Operands::Many(i) => i.next(),
        }
    }
}

impl ExprNode {
    /// Whether the operation reads a model node (a node reference, or a recurrence whose step
    /// reads one).
    pub fn reads_model(&self) -> bool {
        match self {
            ExprNode::Var(_) => true,
            ExprNode::Scan(scan) => !scan.step.is_constant(),
            _ => false,
        }
    }

    /// Positions of the operations this one reads.
    pub fn operands(&self) -> Operands<'_> {
        let (a, b) = match self {
            ExprNode::Stack(items) => return Operands::Many(items.iter().copied()),
            ExprNode::Scan(s) => return Operands::Many(s.args.iter().copied()),
            ExprNode::Const(_)
            | ExprNode::Data(_)
            | ExprNode::Var(_)
            | ExprNode::State
            | ExprNode::Step(_) => (None, None),
            ExprNode::Unary(_, a)
            | ExprNode::Pow(a, _)
            | ExprNode::Sum(a)
            | ExprNode::Mean(a)
            | ExprNode::CumSum(a)
            | ExprNode::Diff(a)
            | ExprNode::Cholesky(a)
            | ExprNode::Get(a, _)
            | ExprNode::Reshape(a, _, _) => (Some(*a), None),
            ExprNode::Binary(_, a, b)
            | ExprNode::Gather(a, b)
            | ExprNode::MatVec(a, b)
            | ExprNode::MatMul(a, b, _)
            | ExprNode::TrilMul(a, b) => (Some(*a), Some(*b)),
        };
        Operands::Few(a.into_iter().chain(b))
    }

    /// The value of this operation given its operands' values in order (`None` for a model
    /// node, a missing operand, lengths that do not fit, or an index out of range).
    pub fn apply(&self, args: &[ConstValue]) -> Option<ConstValue> {
        let arg = |k: usize| args.get(k).cloned();
        Some(match self {
            ExprNode::Const(v) => ConstValue { values: vec![*v], vector: false },
            ExprNode::Data(v) => ConstValue { values: v.to_vec(), vector: true },
            ExprNode::Var(_) | ExprNode::State | ExprNode::Step(_) => return None,
            ExprNode::Scan(scan) => scan.eval(args, &|_| None)?,
            ExprNode::Unary(op, _) => {
                let mut a = arg(0)?;
                a.values.iter_mut().for_each(|x| *x = op.apply(*x));
                a
            }
            ExprNode::Pow(_, c) => {
                let mut a = arg(0)?;
                a.values.iter_mut().for_each(|x| *x = x.powf(*c));
                a
            }
            ExprNode::Sum(_) | ExprNode::Mean(_) => {
                let a = arg(0)?;
                let sum: f64 = a.values.iter().sum();
                let n = if matches!(self, ExprNode::Mean(_)) { a.values.len() as f64 } else { 1.0 };
                ConstValue { values: vec![sum / n], vector: false }
            }
            ExprNode::Binary(op, _, _) => {
                let (a, b) = (arg(0)?, arg(1)?);
                let vector = a.vector || b.vector;
                let (la, lb) = (a.values.len(), b.values.len());
                let n = match (a.vector, b.vector) {
                    // A row broadcast over a matrix's rows (validation checked the shapes).
                    (true, true) if la.max(lb) % la.min(lb) != 0 => return None,
                    (true, true) => la.max(lb),
                    (true, _) => la,
                    (_, true) => lb,
                    _ => 1,
                };
                let values = (0..n).map(|i| op.apply(a.at(i % la), b.at(i % lb))).collect();
                ConstValue { values, vector }
            }
            ExprNode::Gather(_, _) => {
                let (src, idx) = (arg(0)?, arg(1)?);
                let values = idx
                    .values
                    .iter()
                    .map(|&k| index(k, src.values.len()).map(|k| src.values[k]))
                    .collect::<Option<Vec<f64>>>()?;
                ConstValue { values, vector: true }
            }
            ExprNode::CumSum(_) => {
                let mut a = arg(0)?;
                let mut acc = 0.0;
                a.values.iter_mut().for_each(|x| {
                    acc += *x;
                    *x = acc;
                });
                a
            }
            ExprNode::Diff(_) => {
                let a = arg(0)?;
                if a.values.len() < 2 {
                    return None;
                }
                ConstValue { values: a.values.windows(2).map(|w| w[1] - w[0]).collect(), vector: true }
            }
            ExprNode::Get(_, k) => {
                let src = arg(0)?;
                ConstValue { values: vec![*src.values.get(*k)?], vector: false }
            }
            ExprNode::Stack(_) => {
                let values = args
                    .iter()
                    .map(|a| (a.values.len() == 1).then(|| a.values[0]))
                    .collect::<Option<Vec<f64>>>()?;
                ConstValue { values, vector: true }
            }
            ExprNode::MatVec(_, _) => {
                let (x, v) = (arg(0)?, arg(1)?);
                ConstValue { values: matmul(&x.values, &v.values, 1)?, vector: true }
            }
            ExprNode::Reshape(_, r, c) => {
                let a = arg(0)?;
                if a.values.len() != r * c {
                    return None;
                }
                ConstValue { values: a.values, vector: true }
            }
            ExprNode::MatMul(_, _, k) => {
                let (x, v) = (arg(0)?, arg(1)?);
                ConstValue { values: matmul(&x.values, &v.values, *k)?, vector: true }
            }
            ExprNode::TrilMul(_, _) => {
                let (l, z) = (arg(0)?, arg(1)?);
                let k = crate::model::dist::vector::square_side(l.values.len())?;
                if !z.values.len().is_multiple_of(k) {
                    return None;
                }
                let mut values = vec![0.0; z.values.len()];
                crate::compile::tril::eval(
                    crate::compile::tril::TrilPart::Mul,
                    &l.values,
                    &z.values,
                    &mut values,
                );
                ConstValue { values, vector: true }
            }
            ExprNode::Cholesky(_) => {
                let a = arg(0)?;
                crate::model::dist::vector::square_side(a.values.len())?;
                let mut values = vec![0.0; a.values.len()];
                crate::compile::tril::eval(
                    crate::compile::tril::TrilPart::Cholesky,
                    &a.values,
                    &[],
                    &mut values,
                );
                ConstValue { values, vector: true }
            }
        })
    }

    /// The same operation with every operand position mapped through `f`.
    pub(crate) fn remap(&self, f: impl Fn(usize) -> usize) -> ExprNode {
        match self {
            ExprNode::Unary(op, a) => ExprNode::Unary(*op, f(*a)),
            ExprNode::Pow(a, c) => ExprNode::Pow(f(*a), *c),
            ExprNode::Sum(a) => ExprNode::Sum(f(*a)),
            ExprNode::Mean(a) => ExprNode::Mean(f(*a)),
            ExprNode::CumSum(a) => ExprNode::CumSum(f(*a)),
            ExprNode::Diff(a) => ExprNode::Diff(f(*a)),
            ExprNode::Cholesky(a) => ExprNode::Cholesky(f(*a)),
            ExprNode::Gather(a, b) => ExprNode::Gather(f(*a), f(*b)),
            ExprNode::Get(a, k) => ExprNode::Get(f(*a), *k),
            ExprNode::Stack(items) => ExprNode::Stack(items.iter().map(|&a| f(a)).collect()),
            ExprNode::MatVec(a, b) => ExprNode::MatVec(f(*a), f(*b)),
            ExprNode::MatMul(a, b, k) => ExprNode::MatMul(f(*a), f(*b), *k),
            ExprNode::Reshape(a, r, c) => ExprNode::Reshape(f(*a), *r, *c),
            ExprNode::TrilMul(a, b) => ExprNode::TrilMul(f(*a), f(*b)),
            ExprNode::Binary(op, a, b) => ExprNode::Binary(*op, f(*a), f(*b)),
            ExprNode::Scan(scan) => ExprNode::Scan(Box::new(ScanExpr {
                step: scan.step.clone(),
                steps: scan.steps,
                args: scan.args.iter().map(|&a| f(a)).collect(),
            })),
            other => other.clone(),
        }
    }
}

/// `X · B` for `X` of `R × C` values and `B` of `C × k` values, both row by row (`None` when
/// the lengths do not fit).
pub(crate) fn matmul(x: &[f64], b: &[f64], k: usize) -> Option<Vec<f64>> {
    if k == 0 || b.is_empty() || !b.len().is_multiple_of(k) {
        return None;
    }
    let cols = b.len() / k;
    if !x.len().is_multiple_of(cols) {
        return None;
    }
    let mut out = vec![0.0; x.len() / cols * k];
    for (row, o) in x.chunks(cols).zip(out.chunks_mut(k)) {
        for (&xj, bj) in row.iter().zip(b.chunks(k)) {
            o.iter_mut().zip(bj).for_each(|(o, &b)| *o += xj * b);
        }
    }
    Some(out)
}

/// A deterministic expression: a flat list of [`ExprNode`]s in evaluation order whose last
/// entry is the value. Every operand refers to an earlier entry, so evaluation, validation,
/// folding, lowering, comparison, cloning, dropping and JSON are single loops with no
/// recursion, and an expression nested 10⁵ deep costs what 10⁵ additions cost.
///
/// Operators build expressions: `mu + tau * z`, `(-x).exp()`, `sigma.square()`. Combining two
/// expressions appends the smaller one to the larger, so building any expression of n
/// operations one operator at a time costs O(n log n) and a chain `e = e + x` O(n).
/// Clones share the list until one of them is extended (copy on write).
#[derive(Clone, Debug, PartialEq)]
pub struct Expr {
    nodes: Arc<Vec<ExprNode>>,
}

impl Serialize for Expr {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.nodes.as_slice().serialize(s)
    }
}

impl<'de> Deserialize<'de> for Expr {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Expr, D::Error> {
        let nodes = Vec::<ExprNode>::deserialize(d)?;
        Expr::from_nodes(nodes).map_err(serde::de::Error::custom)
    }
}

impl Expr {
    /// An expression from its operations in evaluation order (the last is the value). Fails
    /// when the list is empty or an operand does not refer to an earlier operation.
    pub fn from_nodes(nodes: Vec<ExprNode>) -> crate::Result<Expr> {
        let bad = |s: String| Err(crate::Error::InvalidExpression(s));
        if nodes.is_empty() {
            return bad("an expression needs at least one operation".into());
        }
        for (i, n) in nodes.iter().enumerate() {
            if let Some(a) = n.operands().find(|&a| a >= i) {
                return bad(format!("operation {i} reads operation {a}, which does not come before it"));
            }
        }
        Ok(Expr { nodes: Arc::new(nodes) })
    }

    pub(crate) fn leaf(node: ExprNode) -> Expr {
        Expr { nodes: Arc::new(vec![node]) }
    }

    /// The argument of a function expression ([`ExprNode::State`]): the draw a transformed
    /// observation is a function of (see [`Model::observe_transformed`](super::Model::observe_transformed)).
    pub fn argument() -> Expr {
        Expr::leaf(ExprNode::State)
    }

    /// This expression with its argument ([`ExprNode::State`], outside any recurrence's step)
    /// replaced by `with`.
    pub fn substitute_argument(&self, with: &Expr) -> Expr {
        let mut nodes: Vec<ExprNode> = Vec::with_capacity(self.len() + with.len());
        let at = Expr::append(&mut nodes, &with.nodes);
        let mut map = vec![0; self.len()];
        for (i, n) in self.nodes.iter().enumerate() {
            map[i] = if matches!(n, ExprNode::State) {
                at
            } else {
                nodes.push(n.remap(|a| map[a]));
                nodes.len() - 1
            };
        }
        if map.last() != Some(&(nodes.len() - 1)) {
            // The value is the argument itself: make it the last operation.
            return with.clone();
        }
        Expr { nodes: Arc::new(nodes) }
    }

    /// The sub-expression that gives operation `k`'s value.
    pub fn sub_expr(&self, k: usize) -> Expr {
        let mut need = vec![false; k + 1];
        need[k] = true;
        for i in (0..=k).rev() {
            if need[i] {
                self.nodes[i].operands().for_each(|a| need[a] = true);
            }
        }
        let mut map = vec![0; k + 1];
        let mut nodes = Vec::new();
        for i in (0..=k).filter(|&i| need[i]) {
            map[i] = nodes.len();
            nodes.push(self.nodes[i].remap(|a| map[a]));
        }
        Expr { nodes: Arc::new(nodes) }
    }

    /// A scalar constant.
    pub fn constant(c: f64) -> Expr {
        Expr::leaf(ExprNode::Const(c))
    }

    /// A constant vector.
    pub fn data(v: impl Into<Arc<[f64]>>) -> Expr {
        Expr::leaf(ExprNode::Data(v.into()))
    }

    /// The expression with `f` applied to every constant and data value written in it (not to
    /// the values of nodes it reads); the same expression where `f` changes nothing.
    pub(crate) fn map_constants(self, f: impl Fn(f64) -> f64) -> Expr {
        let moved = |v: f64| f(v).to_bits() != v.to_bits();
        let changes = self.nodes.iter().any(|n| match n {
            ExprNode::Const(c) => moved(*c),
            ExprNode::Data(v) => v.iter().any(|&x| moved(x)),
            _ => false,
        });
        if !changes {
            return self;
        }
        let nodes = self
            .nodes
            .iter()
            .map(|n| match n {
                ExprNode::Const(c) => ExprNode::Const(f(*c)),
                ExprNode::Data(v) => ExprNode::Data(v.iter().map(|&x| f(x)).collect()),
                other => other.clone(),
            })
            .collect();
        Expr { nodes: Arc::new(nodes) }
    }

    /// The operations in evaluation order; the last one is the expression's value.
    pub fn nodes(&self) -> &[ExprNode] {
        &self.nodes
    }

    /// The operation that gives the value (the last one).
    pub fn root(&self) -> &ExprNode {
        self.nodes.last().expect("an expression is never empty")
    }

    /// Number of operations.
    pub fn len(&self) -> usize {
        self.nodes.len()
    }

    /// Always `false`: an expression has at least one operation.
    pub fn is_empty(&self) -> bool {
        false
    }

    /// The scalar constant, if the expression is exactly one.
    pub fn as_const(&self) -> Option<f64> {
        match self.nodes.as_slice() {
            [ExprNode::Const(c)] => Some(*c),
            _ => None,
        }
    }

    /// Appends `other`'s operations (operands shifted) and returns the position of its value.
    fn append(nodes: &mut Vec<ExprNode>, other: &[ExprNode]) -> usize {
        let shift = nodes.len();
        nodes.extend(other.iter().map(|n| n.remap(|a| a + shift)));
        nodes.len() - 1
    }

    /// `make(a, b)` over the values of `a` and `b`: the smaller list is appended to the larger.
    fn combine(a: Expr, b: Expr, make: impl Fn(usize, usize) -> ExprNode) -> Expr {
        let (mut nodes, ra, rb) = if a.len() >= b.len() {
            let mut nodes = Arc::unwrap_or_clone(a.nodes);
            let ra = nodes.len() - 1;
            let rb = Expr::append(&mut nodes, &b.nodes);
            (nodes, ra, rb)
        } else {
            let mut nodes = Arc::unwrap_or_clone(b.nodes);
            let rb = nodes.len() - 1;
            let ra = Expr::append(&mut nodes, &a.nodes);
            (nodes, ra, rb)
        };
        nodes.push(make(ra, rb));
        Expr { nodes: Arc::new(nodes) }
    }

    fn unary(self, op: UnaryOp) -> Expr {
        self.push(|root| ExprNode::Unary(op, root))
    }

    fn binary(self, op: BinaryOp, rhs: Expr) -> Expr {
        Expr::combine(self, rhs, |a, b| ExprNode::Binary(op, a, b))
    }

    /// `eˣ`
    pub fn exp(self) -> Expr {
        self.unary(UnaryOp::Exp)
    }
    /// `ln x`
    pub fn ln(self) -> Expr {
        self.unary(UnaryOp::Log)
    }
    /// `ln(1 + x)`
    pub fn ln_1p(self) -> Expr {
        self.unary(UnaryOp::Log1p)
    }
    /// `√x`
    pub fn sqrt(self) -> Expr {
        self.unary(UnaryOp::Sqrt)
    }
    /// `x²`
    pub fn square(self) -> Expr {
        self.unary(UnaryOp::Square)
    }
    /// `1 / (1 + e⁻ˣ)`
    pub fn logistic(self) -> Expr {
        self.unary(UnaryOp::Logistic)
    }
    /// `ln(1 + eˣ)`
    pub fn softplus(self) -> Expr {
        self.unary(UnaryOp::Softplus)
    }
    /// `eˣ − 1`
    pub fn expm1(self) -> Expr {
        self.unary(UnaryOp::Expm1)
    }
    /// `ln σ(x)`, the log-probability of a logit.
    pub fn log_logistic(self) -> Expr {
        self.unary(UnaryOp::LogLogistic)
    }
    /// `|x|`
    pub fn abs(self) -> Expr {
        self.unary(UnaryOp::Abs)
    }
    /// `tanh x`
    pub fn tanh(self) -> Expr {
        self.unary(UnaryOp::Tanh)
    }
    /// `sin x`
    pub fn sin(self) -> Expr {
        self.unary(UnaryOp::Sin)
    }
    /// `cos x`
    pub fn cos(self) -> Expr {
        self.unary(UnaryOp::Cos)
    }
    /// `atan x`, in `(−π/2, π/2)` (PyMC's `pm.math.arctan`; `2·atan(x)` is the usual link of
    /// a circular regression's mean).
    pub fn atan(self) -> Expr {
        self.unary(UnaryOp::Atan)
    }
    /// The angle wrapped into `[−π, π]`, `x − 2π·round(x/2π)` (derivative 1).
    pub fn wrap_angle(self) -> Expr {
        self.unary(UnaryOp::WrapAngle)
    }
    /// `xᶜ` for a constant `c`.
    pub fn powf(self, c: f64) -> Expr {
        self.push(|root| ExprNode::Pow(root, c))
    }
    /// `xʸ` elementwise, `y` any expression.
    pub fn pow(self, y: impl Into<Expr>) -> Expr {
        self.binary(BinaryOp::Pow, y.into())
    }
    /// Sum of the elements (a scalar).
    pub fn sum(self) -> Expr {
        self.push(ExprNode::Sum)
    }
    /// Mean of the elements (a scalar).
    pub fn mean(self) -> Expr {
        self.push(ExprNode::Mean)
    }
    /// Running sum, `out[i] = x[0] + … + x[i]` (NumPy's `cumsum`): a Gaussian random walk
    /// written non-centred is `(sigma * z).cumsum()` with `z ~ Normal(0, 1)`. The gradient is
    /// the running sum from the end.
    pub fn cumsum(self) -> Expr {
        self.push(ExprNode::CumSum)
    }
    /// First differences, `out[i] = x[i + 1] − x[i]` (NumPy's `diff`): one value fewer than
    /// `x`, which needs at least two.
    pub fn diff(self) -> Expr {
        self.push(ExprNode::Diff)
    }
    /// `Σ xᵢ yᵢ`
    pub fn dot(self, y: impl Into<Expr>) -> Expr {
        (self * y.into()).sum()
    }
    /// `x[index]` elementwise (PyMC's `a[county]`): `index` is integer data — a node made by
    /// `Model::int_data`, or a vector of whole numbers — each in `0..len(x)`. A matrix is read
    /// by position row by row (element `(i, j)` of an `r × c` matrix is `i·c + j`). The
    /// gradient is a scatter-add.
    pub fn at(self, index: impl Into<Expr>) -> Expr {
        Expr::combine(self, index.into(), ExprNode::Gather)
    }
    /// Element `k` of a vector (a scalar); of a matrix, by position row by row (element
    /// `(i, j)` of an `r × c` matrix is `k = i·c + j`).
    pub fn get(self, k: usize) -> Expr {
        self.push(|root| ExprNode::Get(root, k))
    }
    /// `X · v` for a data matrix `X` (`self`, a node made by `Model::data_matrix`) and a vector
    /// `v` of its column count (PyMC's `X @ beta`). The gradient is `Xᵀ ḡ`.
    pub fn matvec(self, v: impl Into<Expr>) -> Expr {
        Expr::combine(self, v.into(), ExprNode::MatVec)
    }
    /// `X · B` for a data matrix `X` (`self`, `R × C`) and a `C × k` matrix `B` given as
    /// `C·k` values row by row (PyMC's `X @ beta` with `beta` of shape `(C, k)`): an `R × k`
    /// matrix, row by row. With `k = 1` it is [`Expr::matvec`]. A row of `k` values added to
    /// the product broadcasts over its rows, as in NumPy; a softmax regression is
    /// `Categorical::logit(alpha + x.matmul(beta, k))`.
    ///
    /// ```
    /// use exmc::prelude::*;
    /// let mut m = Model::new();
    /// let x = m.data_matrix("x", 4, 2, vec![0.5, 1.0, -0.3, 0.2, 1.1, -0.7, 0.0, 0.4])?;
    /// let alpha = m.rv_vec("alpha", Normal::new(0, 2), 3)?;
    /// let beta = m.rv_vec("beta", Normal::new(0, 1), 2 * 3)?;
    /// m.observe("y", Categorical::logit(alpha + x.matmul(beta, 3)), &[0.0, 2.0, 1.0, 2.0])?;
    /// # Ok::<(), exmc::Error>(())
    /// ```
    pub fn matmul(self, b: impl Into<Expr>, k: usize) -> Expr {
        if k == 1 {
            return self.matvec(b);
        }
        Expr::combine(self, b.into(), |x, b| ExprNode::MatMul(x, b, k))
    }
    /// The value (of `rows · cols` elements) read as a `rows × cols` matrix, row by row
    /// (NumPy's `reshape`): the elements are unchanged; elementwise operations keep the shape,
    /// and a categorical with a matrix of probabilities or logits takes a row per observation.
    ///
    /// ```
    /// use exmc::prelude::*;
    /// let mut m = Model::new();
    /// // Two groups' category probabilities; each observation takes its group's row.
    /// let p = m.rv_vec("p", Dirichlet::new(vec![1.0, 1.0, 1.0]), 2 * 3)?;
    /// let rows = m.int_data("rows", &[0, 1, 2, 3, 4, 5, 0, 1, 2])?;
    /// m.observe("y", Categorical::new(p.at(rows).reshape(3, 3)), &[2.0, 0.0, 2.0])?;
    /// # Ok::<(), exmc::Error>(())
    /// ```
    pub fn reshape(self, rows: usize, cols: usize) -> Expr {
        self.push(|a| ExprNode::Reshape(a, rows, cols))
    }
    /// `L z` for a lower-triangular `K × K` factor `L` (`self`: `K²` values row by row, such as
    /// `sigma.at(&rows) * lkj`) and each `K`-row of `z` (PyMC's `pm.math.dot(chol, z)`): the
    /// non-centred multivariate normal `mu + L z`. The upper triangle of `L` is not read.
    pub fn tril_mul(self, z: impl Into<Expr>) -> Expr {
        Expr::combine(self, z.into(), ExprNode::TrilMul)
    }
    /// The lower Cholesky factor `L` (`L Lᵀ = self`) of a symmetric positive-definite `K × K`
    /// matrix (`K²` values row by row), PyMC's `pm.math.cholesky` and Stan's
    /// `cholesky_decompose`, differentiable in every element: the factor of a covariance built
    /// from parameters, such as a Gaussian process's (see [`crate::gp`]). Only the lower
    /// triangle is read; the factor is zero above its diagonal. A matrix that is not positive
    /// definite gives NaN, so the sampler rejects the point (Stan rejects it too).
    ///
    /// ```
    /// use exmc::prelude::*;
    /// let mut m = Model::new();
    /// let rho = m.rv("rho", Uniform::new(-0.9, 0.9))?;
    /// let one = Expr::from(1.0);
    /// let cov = Expr::stack([one.clone(), rho.into(), rho.into(), one]).reshape(2, 2);
    /// m.observe("y", MvNormal::new(0.0, cov.cholesky()), &[0.3, 0.5, -1.0, -0.7])?;
    /// # Ok::<(), exmc::Error>(())
    /// ```
    pub fn cholesky(self) -> Expr {
        self.push(ExprNode::Cholesky)
    }
    /// A recurrence, PyMC's `pytensor.scan`: `state_t = f(state_{t−1}, x_t)` for
    /// `t = 0 … steps − 1`, from `state_{−1} = init`, where `x_t` holds each sequence's slice
    /// for step `t` (a sequence of `steps · w` values gives `w` per step: a scalar when
    /// `w = 1`). `f` receives the previous state and the slices; the expression it returns may
    /// also read model nodes, constants and data, which are the same at every step. The value
    /// is every state in turn (`steps · len(init)` values): a GARCH(1,1) volatility is
    ///
    /// ```
    /// use exmc::prelude::*;
    /// let y = [0.3, -0.2, 0.5, 0.1];
    /// let mut m = Model::new();
    /// let mu = m.rv("mu", Normal::new(0, 1)).unwrap();
    /// let a0 = m.rv("alpha0", HalfNormal::new(1)).unwrap();
    /// let a1 = m.rv("alpha1", Beta::new(2, 2)).unwrap();
    /// let b1 = m.rv("beta1", Beta::new(2, 2)).unwrap();
    /// let sigma = Expr::scan(1.0, [&y[..3]], 3, |prev, x| {
    ///     (a0 + a1 * (x[0].clone() - mu).square() + b1 * prev.square()).sqrt()
    /// });
    /// m.observe("y", Normal::new(mu, sigma), &y[1..]).unwrap();
    /// ```
    pub fn scan<S: Into<Expr>>(
        init: impl Into<Expr>,
        sequences: impl IntoIterator<Item = S>,
        steps: usize,
        f: impl FnOnce(Expr, &[Expr]) -> Expr,
    ) -> Expr {
        let seqs: Vec<Expr> = sequences.into_iter().map(Into::into).collect();
        let slices: Vec<Expr> = (0..seqs.len()).map(|k| Expr::leaf(ExprNode::Step(k))).collect();
        let step = f(Expr::leaf(ExprNode::State), &slices);
        let init = init.into();
        let mut nodes: Vec<ExprNode> =
            Vec::with_capacity(init.len() + seqs.iter().map(Expr::len).sum::<usize>() + 1);
        let mut args = vec![Expr::append(&mut nodes, &init.nodes)];
        args.extend(seqs.iter().map(|e| Expr::append(&mut nodes, &e.nodes)));
        nodes.push(ExprNode::Scan(Box::new(ScanExpr { step, steps, args })));
        Expr { nodes: Arc::new(nodes) }
    }

    /// Scalars stacked into a vector: `Expr::stack([a, b * 2.0, c.into()])`.
    pub fn stack<E: Into<Expr>>(items: impl IntoIterator<Item = E>) -> Expr {
        let items: Vec<Expr> = items.into_iter().map(Into::into).collect();
        let mut nodes: Vec<ExprNode> = Vec::with_capacity(items.iter().map(Expr::len).sum::<usize>() + 1);
        let roots: Vec<usize> = items.iter().map(|e| Expr::append(&mut nodes, &e.nodes)).collect();
        if roots.is_empty() {
            // An empty stack is rejected by validation (a vector needs an element).
            return Expr { nodes: Arc::new(vec![ExprNode::Stack(Vec::new())]) };
        }
        nodes.push(ExprNode::Stack(roots));
        Expr { nodes: Arc::new(nodes) }
    }

    /// Appends `make(root)`, an operation reading the current value.
    fn push(self, make: impl FnOnce(usize) -> ExprNode) -> Expr {
        let mut nodes = Arc::unwrap_or_clone(self.nodes);
        nodes.push(make(nodes.len() - 1));
        Expr { nodes: Arc::new(nodes) }
    }

    /// Every node this expression reads, in order of appearance (with repeats).
    pub fn refs(&self, out: &mut Vec<NodeRef>) {
        for n in self.nodes.iter() {
            match n {
                ExprNode::Var(r) => out.push(*r),
                ExprNode::Scan(scan) => scan.step.refs(out),
                _ => {}
            }
        }
    }

    /// Whether the expression reads no node.
    pub fn is_constant(&self) -> bool {
        !self.nodes.iter().any(ExprNode::reads_model)
    }

    /// For each operation, whether the value reads it (operations nothing reads, possible only
    /// in hand-written JSON, are skipped by the passes).
    pub fn live(&self) -> Vec<bool> {
        let mut live = vec![false; self.nodes.len()];
        live[self.nodes.len() - 1] = true;
        for i in (0..self.nodes.len()).rev() {
            if live[i] {
                self.nodes[i].operands().for_each(|a| live[a] = true);
            }
        }
        live
    }

    /// For each operation, how many operations (and the value itself) read it, counting only
    /// live ones: evaluation frees an intermediate value after its last reader.
    fn readers(&self, live: &[bool]) -> Vec<u32> {
        let mut readers = vec![0u32; self.nodes.len()];
        readers[self.nodes.len() - 1] = 1;
        for (n, _) in self.nodes.iter().zip(live).filter(|(_, l)| **l) {
            n.operands().for_each(|a| readers[a] += 1);
        }
        readers
    }
}

/// The same methods on `Var`, through `Expr`.
macro_rules! var_methods {
    ($($(#[$doc:meta])* $name:ident($($arg:ident: $ty:ty),*);)*) => {
        impl Var {
            $($(#[$doc])* pub fn $name(self $(, $arg: $ty)*) -> Expr { Expr::from(self).$name($($arg),*) })*
        }
    };
}
var_methods! {
    /// `eˣ`
    exp();
    /// `ln x`
    ln();
    /// `ln(1 + x)`
    ln_1p();
    /// `√x`
    sqrt();
    /// `x²`
    square();
    /// `1 / (1 + e⁻ˣ)`
    logistic();
    /// `ln(1 + eˣ)`
    softplus();
    /// `eˣ − 1`
    expm1();
    /// `ln σ(x)`
    log_logistic();
    /// `|x|`
    abs();
    /// `tanh x`
    tanh();
    /// `sin x`
    sin();
    /// `cos x`
    cos();
    /// `atan x`
    atan();
    /// The angle wrapped into `[−π, π]`.
    wrap_angle();
    /// `xᶜ` for a constant `c`.
    powf(c: f64);
    /// `xʸ` elementwise.
    pow(y: impl Into<Expr>);
    /// Sum of the elements.
    sum();
    /// Mean of the elements.
    mean();
    /// Running sum.
    cumsum();
    /// First differences.
    diff();
    /// `Σ xᵢ yᵢ`
    dot(y: impl Into<Expr>);
    /// `x[index]` elementwise.
    at(index: impl Into<Expr>);
    /// Element `k`.
    get(k: usize);
    /// `X · v` for a data matrix `X`.
    matvec(v: impl Into<Expr>);
    /// `X · B` for a data matrix `X` and a matrix `B` of `k` columns.
    matmul(b: impl Into<Expr>, k: usize);
    /// The value read as a `rows × cols` matrix.
    reshape(rows: usize, cols: usize);
}

impl From<f64> for Expr {
    fn from(v: f64) -> Expr {
        Expr::constant(v)
    }
}
/// Integer literals where numbers go: `Normal::new(0, 5)`.
impl From<i32> for Expr {
    fn from(v: i32) -> Expr {
        Expr::constant(f64::from(v))
    }
}
impl From<&Vec<f64>> for Expr {
    fn from(v: &Vec<f64>) -> Expr {
        Expr::data(v.as_slice())
    }
}
impl From<Var> for Expr {
    fn from(v: Var) -> Expr {
        Expr::leaf(ExprNode::Var(NodeRef { index: v.index, owner: v.owner }))
    }
}
impl From<NodeRef> for Expr {
    fn from(r: NodeRef) -> Expr {
        Expr::leaf(ExprNode::Var(r))
    }
}
impl From<&Var> for Expr {
    fn from(v: &Var) -> Expr {
        Expr::from(*v)
    }
}
impl From<Vec<f64>> for Expr {
    fn from(v: Vec<f64>) -> Expr {
        Expr::data(v)
    }
}
impl From<&[f64]> for Expr {
    fn from(v: &[f64]) -> Expr {
        Expr::data(v)
    }
}
impl<const N: usize> From<[f64; N]> for Expr {
    fn from(v: [f64; N]) -> Expr {
        Expr::data(v.as_slice())
    }
}
impl<const N: usize> From<&[f64; N]> for Expr {
    fn from(v: &[f64; N]) -> Expr {
        Expr::data(v.as_slice())
    }
}
impl From<&Expr> for Expr {
    fn from(e: &Expr) -> Expr {
        e.clone()
    }
}

macro_rules! binary_ops {
    ($($trait:ident $method:ident $op:ident),*) => {$(
        impl<R: Into<Expr>> $trait<R> for Expr {
            type Output = Expr;
            fn $method(self, rhs: R) -> Expr { self.binary(BinaryOp::$op, rhs.into()) }
        }
        impl<R: Into<Expr>> $trait<R> for Var {
            type Output = Expr;
            fn $method(self, rhs: R) -> Expr { Expr::from(self).$method(rhs) }
        }
        impl $trait<Expr> for f64 {
            type Output = Expr;
            fn $method(self, rhs: Expr) -> Expr { Expr::from(self).$method(rhs) }
        }
        impl $trait<Var> for f64 {
            type Output = Expr;
            fn $method(self, rhs: Var) -> Expr { Expr::from(self).$method(rhs) }
        }
        impl $trait<Expr> for i32 {
            type Output = Expr;
            fn $method(self, rhs: Expr) -> Expr { Expr::from(self).$method(rhs) }
        }
        impl $trait<Var> for i32 {
            type Output = Expr;
            fn $method(self, rhs: Var) -> Expr { Expr::from(self).$method(rhs) }
        }
    )*};
}
binary_ops!(Add add Add, Sub sub Sub, Mul mul Mul, Div div Div);

impl Neg for Expr {
    type Output = Expr;
    fn neg(self) -> Expr {
        self.unary(UnaryOp::Neg)
    }
}
impl Neg for Var {
    type Output = Expr;
    fn neg(self) -> Expr {
        -Expr::from(self)
    }
}

/// `k` as a position in a vector of length `len`, when it is a whole number in range.
pub fn index(k: f64, len: usize) -> Option<usize> {
    (k >= 0.0 && k.fract() == 0.0 && k < len as f64).then_some(k as usize)
}

/// A constant value: its elements and whether it is a vector (a scalar has one element).
#[derive(Clone, Debug, PartialEq)]
pub struct ConstValue {
    /// Elements.
    pub values: Vec<f64>,
    /// Whether it is a vector.
    pub vector: bool,
}

impl ConstValue {
    /// Element `i`, broadcasting scalars.
    pub fn at(&self, i: usize) -> f64 {
        if self.vector { self.values[i] } else { self.values[0] }
    }
}

impl Expr {
    /// Evaluates an expression that reads no node; `None` if it reads one or if vector
    /// lengths do not broadcast.
    pub fn eval_const(&self) -> Option<ConstValue> {
        if !self.is_constant() {
            return None;
        }
        self.eval_with(&|_| None)
    }

    /// Evaluates the expression, reading node `i` through `lookup(i)`; `None` if a lookup
    /// fails or vector lengths do not broadcast. One pass in evaluation order; each
    /// intermediate value is freed after its last reader.
    pub fn eval_with(&self, lookup: &dyn Fn(usize) -> Option<ConstValue>) -> Option<ConstValue> {
        let live = self.live();
        let mut readers = self.readers(&live);
        let mut values: Vec<Option<ConstValue>> = vec![None; self.nodes.len()];
        for (i, node) in self.nodes.iter().enumerate() {
            if !live[i] {
                continue;
            }
            let mut take = |a: usize| -> Option<ConstValue> {
                readers[a] -= 1;
                if readers[a] == 0 { values[a].take() } else { values[a].clone() }
            };
            let v = match node {
                ExprNode::Var(r) => lookup(r.index)?,
                ExprNode::Scan(scan) => {
                    let args: Option<Vec<ConstValue>> = node.operands().map(&mut take).collect();
                    scan.eval(&args?, lookup)?
                }
                _ => {
                    let args: Option<Vec<ConstValue>> = node.operands().map(&mut take).collect();
                    node.apply(&args?)?
                }
            };
            values[i] = Some(v);
        }
        values.pop().flatten()
    }
}
