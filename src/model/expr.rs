//! Deterministic expressions over model nodes, built by operator overloading.
//!
//! `mu + tau * z`, `(-x).exp()`, `sigma.square()`, `2.0 * x` all build an [`Expr`] tree. A
//! distribution parameter accepts anything that converts into an `Expr`: a constant, a data
//! vector, a [`Var`] or an expression.

use std::ops::{Add, Div, Mul, Neg, Sub};

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

/// Elementwise unary operations available in expressions.
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
}

impl UnaryOp {
    /// Applies the operation to one value.
    pub fn apply(self, x: f64) -> f64 {
        match self {
            UnaryOp::Neg => -x,
            UnaryOp::Exp => x.exp(),
            UnaryOp::Log => x.ln(),
            UnaryOp::Log1p => x.ln_1p(),
            UnaryOp::Sqrt => x.sqrt(),
            UnaryOp::Square => x * x,
            UnaryOp::Logistic => logistic(x),
        }
    }
}

/// Numerically stable logistic function.
pub fn logistic(x: f64) -> f64 {
    if x >= 0.0 {
        1.0 / (1.0 + (-x).exp())
    } else {
        let e = x.exp();
        e / (1.0 + e)
    }
}

/// Elementwise binary operations (scalars broadcast against vectors).
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
}

impl BinaryOp {
    /// Applies the operation to one pair.
    pub fn apply(self, a: f64, b: f64) -> f64 {
        match self {
            BinaryOp::Add => a + b,
            BinaryOp::Sub => a - b,
            BinaryOp::Mul => a * b,
            BinaryOp::Div => a / b,
        }
    }
}

/// A deterministic expression.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Expr {
    /// A scalar constant.
    Const(f64),
    /// A constant vector (data).
    Data(Vec<f64>),
    /// The value of a model node.
    Var(NodeRef),
    /// Elementwise unary operation.
    Unary(UnaryOp, Box<Expr>),
    /// Elementwise binary operation with broadcasting.
    Binary(BinaryOp, Box<Expr>, Box<Expr>),
    /// `base ^ exponent` with a constant exponent.
    Pow(Box<Expr>, f64),
}

impl Expr {
    fn unary(self, op: UnaryOp) -> Expr {
        Expr::Unary(op, Box::new(self))
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
    /// `xᶜ` for a constant `c`.
    pub fn powf(self, c: f64) -> Expr {
        Expr::Pow(Box::new(self), c)
    }

    /// Every node this expression reads, in order of appearance (with repeats).
    pub fn refs(&self, out: &mut Vec<NodeRef>) {
        match self {
            Expr::Const(_) | Expr::Data(_) => {}
            Expr::Var(r) => out.push(*r),
            Expr::Unary(_, a) | Expr::Pow(a, _) => a.refs(out),
            Expr::Binary(_, a, b) => {
                a.refs(out);
                b.refs(out);
            }
        }
    }

    /// Whether the expression reads no node.
    pub fn is_constant(&self) -> bool {
        let mut v = Vec::new();
        self.refs(&mut v);
        v.is_empty()
    }
}

impl Var {
    /// `eˣ`
    pub fn exp(self) -> Expr {
        Expr::from(self).exp()
    }
    /// `ln x`
    pub fn ln(self) -> Expr {
        Expr::from(self).ln()
    }
    /// `ln(1 + x)`
    pub fn ln_1p(self) -> Expr {
        Expr::from(self).ln_1p()
    }
    /// `√x`
    pub fn sqrt(self) -> Expr {
        Expr::from(self).sqrt()
    }
    /// `x²`
    pub fn square(self) -> Expr {
        Expr::from(self).square()
    }
    /// `1 / (1 + e⁻ˣ)`
    pub fn logistic(self) -> Expr {
        Expr::from(self).logistic()
    }
    /// `xᶜ` for a constant `c`.
    pub fn powf(self, c: f64) -> Expr {
        Expr::from(self).powf(c)
    }
}

impl From<f64> for Expr {
    fn from(v: f64) -> Expr {
        Expr::Const(v)
    }
}
impl From<Var> for Expr {
    fn from(v: Var) -> Expr {
        Expr::Var(NodeRef { index: v.index, owner: v.owner })
    }
}
impl From<&Var> for Expr {
    fn from(v: &Var) -> Expr {
        Expr::from(*v)
    }
}
impl From<Vec<f64>> for Expr {
    fn from(v: Vec<f64>) -> Expr {
        Expr::Data(v)
    }
}
impl From<&[f64]> for Expr {
    fn from(v: &[f64]) -> Expr {
        Expr::Data(v.to_vec())
    }
}
impl<const N: usize> From<[f64; N]> for Expr {
    fn from(v: [f64; N]) -> Expr {
        Expr::Data(v.to_vec())
    }
}
impl<const N: usize> From<&[f64; N]> for Expr {
    fn from(v: &[f64; N]) -> Expr {
        Expr::Data(v.to_vec())
    }
}

macro_rules! binary_ops {
    ($($trait:ident $method:ident $op:ident),*) => {$(
        impl<R: Into<Expr>> $trait<R> for Expr {
            type Output = Expr;
            fn $method(self, rhs: R) -> Expr { Expr::Binary(BinaryOp::$op, Box::new(self), Box::new(rhs.into())) }
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
        self.eval_with(&|_| None)
    }

    /// Evaluates the expression, reading node `i` through `lookup(i)`; `None` if a lookup
    /// fails or vector lengths do not broadcast.
    pub fn eval_with(&self, lookup: &dyn Fn(usize) -> Option<ConstValue>) -> Option<ConstValue> {
        match self {
            Expr::Const(v) => Some(ConstValue { values: vec![*v], vector: false }),
            Expr::Data(v) => Some(ConstValue { values: v.clone(), vector: true }),
            Expr::Var(r) => lookup(r.index),
            Expr::Unary(op, a) => {
                let mut a = a.eval_with(lookup)?;
                a.values.iter_mut().for_each(|x| *x = op.apply(*x));
                Some(a)
            }
            Expr::Pow(a, c) => {
                let mut a = a.eval_with(lookup)?;
                a.values.iter_mut().for_each(|x| *x = x.powf(*c));
                Some(a)
            }
            Expr::Binary(op, a, b) => {
                let (a, b) = (a.eval_with(lookup)?, b.eval_with(lookup)?);
                let vector = a.vector || b.vector;
                let n = match (a.vector, b.vector) {
                    (true, true) if a.values.len() != b.values.len() => return None,
                    (true, _) => a.values.len(),
                    (_, true) => b.values.len(),
                    _ => 1,
                };
                let values = (0..n).map(|i| op.apply(a.at(i), b.at(i))).collect();
                Some(ConstValue { values, vector })
            }
        }
    }
}
