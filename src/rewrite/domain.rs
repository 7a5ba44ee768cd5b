//! Domain mistakes: a free variable whose support is wider than the domain of the parameter
//! it feeds (a Normal used as a scale, a Normal used as a probability).
//!
//! The density is −∞ wherever such a parameter leaves its domain, so NUTS never goes there and
//! the posterior it returns is the prior truncated to the domain, without a word. PyMC and Stan
//! behave alike; Stan's manual asks for declared constraints, and this check names the
//! variables instead. It is a warning, not an error, because a truncation can be meant
//! (`Normal(mu, s)` with `s` a truncated prior written that way).

use super::noncenter::Sign;
use crate::model::{Domain, Expr, ExprNode, Model, NodeKind, Support, UnaryOp};

/// At most this many warnings (each may search the model once); then a line saying so.
const MAX_WARNINGS: usize = 20;

/// One warning per (node, parameter) where a parameter with a positive, non-negative or
/// probability domain reads a free variable whose support is wider and nothing in between
/// proves the domain.
pub fn domain_warnings(model: &Model) -> Vec<String> {
    let nodes = model.nodes();
    let signs = Sign::of_nodes(nodes);
    let mut out = Vec::new();
    for node in nodes {
        let Some(dist) = node.dist() else { continue };
        for ((param, domain), expr) in dist.kind.params().iter().zip(&dist.params) {
            let proven = match domain {
                Domain::Positive => Sign::of(expr, &signs) == Sign::Positive,
                Domain::NonNegative => matches!(Sign::of(expr, &signs), Sign::Positive | Sign::NonNegative),
                Domain::Probability => unit_interval(model, expr, &signs),
                Domain::Real | Domain::Count | Domain::Fixed | Domain::Bound => true,
            };
            if proven {
                continue;
            }
            if out.len() == MAX_WARNINGS {
                out.push(format!("more domain warnings after {MAX_WARNINGS}; the rest are not listed"));
                return out;
            }
            let culprits = wide_free_reads(model, expr, *domain, &signs);
            if culprits.is_empty() {
                continue;
            }
            let what = match domain {
                Domain::Positive => "must be positive",
                Domain::NonNegative => "must be non-negative",
                _ => "must lie in [0, 1]",
            };
            out.push(format!(
                "parameter `{param}` of `{}` ({}) {what}, but it reads {} whose support is wider: \
                 draws outside get zero density, so the posterior is silently truncated there. \
                 Give {} a prior on that domain (HalfNormal, Exponential, Beta, …) or map it \
                 into the domain (exp, softplus, logistic)",
                node.name,
                dist.kind.name(),
                culprits.iter().map(|c| format!("`{c}`")).collect::<Vec<_>>().join(", "),
                if culprits.len() == 1 { "it" } else { "them" },
            ));
        }
    }
    out
}

/// Whether `e` lies in [0, 1] by construction: constants and data there, `logistic(·)`, a free
/// variable with support (0, 1) or a Uniform inside it, or a deterministic that is one of those.
fn unit_interval(model: &Model, e: &Expr, signs: &[Sign]) -> bool {
    // A loop, not recursion, through chains of deterministics (models may be 10⁵ nodes deep).
    let mut e = e;
    loop {
        if let Some(c) = e.eval_const() {
            return c.values.iter().all(|v| (0.0..=1.0).contains(v));
        }
        let Some(ExprNode::Var(r)) = e.nodes().last() else {
            return matches!(e.nodes().last(), Some(ExprNode::Unary(UnaryOp::Logistic, _)));
        };
        match model.nodes().get(r.index).map(|n| &n.kind) {
            Some(NodeKind::Free { .. }) => return unit_interval_node(model, r.index, signs),
            Some(NodeKind::Deterministic { expr }) => e = expr,
            Some(NodeKind::Data { values, .. }) => return values.iter().all(|v| (0.0..=1.0).contains(v)),
            _ => return false,
        }
    }
}

/// The free variables `e` reads (through deterministics) whose support is not inside
/// `domain`, by name, in model order.
fn wide_free_reads(model: &Model, e: &Expr, domain: Domain, signs: &[Sign]) -> Vec<String> {
    let nodes = model.nodes();
    let mut seen = vec![false; nodes.len()];
    let mut stack: Vec<usize> = vars(e);
    while let Some(i) = stack.pop() {
        if std::mem::replace(&mut seen[i], true) {
            continue;
        }
        if let NodeKind::Deterministic { expr } = &nodes[i].kind {
            stack.extend(vars(expr));
        }
    }
    (0..nodes.len())
        .filter(|&i| seen[i])
        .filter(|&i| match &nodes[i].kind {
            NodeKind::Free { .. } => match domain {
                Domain::Positive => signs[i] != Sign::Positive,
                Domain::NonNegative => !matches!(signs[i], Sign::Positive | Sign::NonNegative),
                _ => !unit_interval_node(model, i, signs),
            },
            _ => false,
        })
        .map(|i| nodes[i].name.clone())
        .collect()
}

/// Whether free node `i` has support inside (0, 1): a unit-interval family, or an interval
/// family with a non-negative lower bound and a constant upper bound ≤ 1.
fn unit_interval_node(model: &Model, i: usize, signs: &[Sign]) -> bool {
    let Some(NodeKind::Free { dist, .. }) = model.nodes().get(i).map(|n| &n.kind) else { return false };
    match dist.kind.support() {
        Support::UnitInterval | Support::Simplex => return true,
        Support::Interval => {}
        _ => return false,
    }
    matches!(Sign::of(&dist.params[0], signs), Sign::Positive | Sign::NonNegative)
        && dist.params[1].eval_const().is_some_and(|c| c.values.iter().all(|&v| v <= 1.0))
}

/// Node indices an expression reads.
fn vars(e: &Expr) -> Vec<usize> {
    e.nodes()
        .iter()
        .filter_map(|n| match n {
            ExprNode::Var(r) => Some(r.index),
            _ => None,
        })
        .collect()
}
