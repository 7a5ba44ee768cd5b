//! Measurable observations: an observation that is an invertible function of a draw from a
//! continuous family (PyMC's `CustomDist(dist=lambda …: a + b * pm.Normal.dist(…))`, or
//! `pm.math.exp` of one). Its log density is the family's at the inverse, plus the log-Jacobian
//! of the inverse: for `y = a + b·x`, `log p(y) = log p_x((y − a)/b) − log|b|`; for
//! `y = exp(x)`, `log p_x(ln y) − ln y`; for `y = ln x`, `log p_x(eʸ) + y`.
//!
//! [`Measure::of`] takes the value expression apart, outermost operation first, into such
//! steps; the other operand of each step (`a`, `b`) may read parameters and data but not the
//! draw. Compositions (`exp(mu + sigma * x)`) work step by step.

use super::expr::{BinaryOp, Expr, ExprNode, UnaryOp};

/// One invertible step `y = f(x)` of a measurable value.
#[derive(Clone, Debug, PartialEq)]
pub enum Step {
    /// `y = loc + scale · x` (a missing part is 0 or 1).
    Affine {
        /// `loc`, when not 0.
        loc: Option<Expr>,
        /// `scale`, when not 1.
        scale: Option<Expr>,
    },
    /// `y = eˣ`.
    Exp,
    /// `y = ln x`.
    Log,
}

/// A value as invertible steps from the draw, outermost first.
#[derive(Clone, Debug, PartialEq)]
pub struct Measure {
    /// The steps, outermost (applied last) first.
    pub steps: Vec<Step>,
}

impl Measure {
    /// Takes `value` (an expression of [`Expr::argument`], the draw) apart into invertible
    /// steps; `Err` says which operation is not an invertible function of the draw.
    pub fn of(value: &Expr) -> Result<Measure, String> {
        let nodes = value.nodes();
        // Which operations depend on the draw.
        let mut dep = vec![false; nodes.len()];
        for (i, n) in nodes.iter().enumerate() {
            dep[i] = matches!(n, ExprNode::State) || n.operands().any(|a| dep[a]);
        }
        let uses = nodes.iter().filter(|n| matches!(n, ExprNode::State)).count();
        if uses == 0 {
            return Err("the value does not read the draw".into());
        }
        let sub = |k: usize| value.sub_expr(k);
        let mut steps = Vec::new();
        let mut at = nodes.len() - 1;
        loop {
            let step = match &nodes[at] {
                ExprNode::State => break,
                ExprNode::Unary(UnaryOp::Exp, a) => (Step::Exp, *a),
                ExprNode::Unary(UnaryOp::Log, a) => (Step::Log, *a),
                ExprNode::Unary(UnaryOp::Neg, a) => {
                    (Step::Affine { loc: None, scale: Some(Expr::constant(-1.0)) }, *a)
                }
                ExprNode::Binary(op, a, b) if dep[*a] != dep[*b] => {
                    let (inner, other) = if dep[*a] { (*a, *b) } else { (*b, *a) };
                    let o = sub(other);
                    let step = match op {
                        BinaryOp::Add => Step::Affine { loc: Some(o), scale: None },
                        BinaryOp::Mul => Step::Affine { loc: None, scale: Some(o) },
                        // y = u − o, or o − u.
                        BinaryOp::Sub if dep[*a] => Step::Affine { loc: Some(-o), scale: None },
                        BinaryOp::Sub => Step::Affine { loc: Some(o), scale: Some(Expr::constant(-1.0)) },
                        BinaryOp::Div if dep[*a] => Step::Affine { loc: None, scale: Some(1.0 / o) },
                        _ => return Err(format!("operation {at} ({op:?}) is not affine in the draw")),
                    };
                    (step, inner)
                }
                ExprNode::Binary(..) => {
                    return Err(format!("operation {at} reads the draw through both operands"));
                }
                other => {
                    return Err(format!(
                        "operation {at} ({}) is not an invertible function of the draw (affine, exp, log)",
                        describe(other)
                    ));
                }
            };
            steps.push(step.0);
            at = step.1;
        }
        if uses > 1 {
            return Err("the value reads the draw more than once".into());
        }
        Ok(Measure { steps })
    }

    /// The draw from the observation `y`, and the log-Jacobian of that inverse elementwise
    /// (`None` when it is 0; a scalar broadcasts).
    pub fn inverse(&self, y: Expr) -> (Expr, Option<Expr>) {
        let mut v = y;
        let mut lj: Option<Expr> = None;
        for step in &self.steps {
            let (next, l) = match step {
                Step::Affine { loc, scale } => {
                    let shifted = match loc {
                        Some(loc) => v - loc.clone(),
                        None => v,
                    };
                    match scale {
                        Some(s) => (shifted / s.clone(), Some(-(s.clone().abs().ln()))),
                        None => (shifted, None),
                    }
                }
                Step::Exp => (v.clone().ln(), Some(-(v.ln()))),
                Step::Log => (v.clone().exp(), Some(v)),
            };
            if let Some(l) = l {
                lj = Some(match lj {
                    Some(prev) => prev + l,
                    None => l,
                });
            }
            v = next;
        }
        (v, lj)
    }

    /// `affine ∘ exp`-style description, outermost first.
    pub fn describe(&self) -> String {
        let names: Vec<&str> = self
            .steps
            .iter()
            .map(|s| match s {
                Step::Affine { .. } => "affine",
                Step::Exp => "exp",
                Step::Log => "log",
            })
            .collect();
        names.join(" ∘ ")
    }
}

fn describe(n: &ExprNode) -> String {
    let s = format!("{n:?}");
    s.split(['(', ' ', '{']).next().unwrap_or("").to_lowercase()
}
