//! Constant folding: every subexpression that reads no node becomes a constant, and a
//! censoring bound computed from data (`ln(limit)`) becomes the host's value.

use crate::model::expr::ConstValue;
use crate::model::{Domain, Expr, ExprNode, Model, Node, NodeKind};

/// Folds constant subexpressions in every node.
pub fn const_fold(model: &Model) -> Model {
    let nodes = model.nodes().iter().map(|n| fold_node(n, model.nodes())).collect();
    model.with_nodes(nodes)
}

fn fold_node(node: &Node, all: &[Node]) -> Node {
    let mut node = node.clone();
    // A censored observation sits exactly on its bound: the bound is evaluated here, in f64
    // as validation compared it, and reaches the backend converted as the data are, so the
    // equality holds in f32 kernels too.
    if let NodeKind::Observed { dist, .. } = &mut node.kind {
        let domains = dist.kind.params();
        for (e, _) in dist.params.iter_mut().zip(domains).filter(|(_, (_, d))| *d == Domain::Bound) {
            if let Some(v) = crate::model::validate::eval_data(all, e) {
                *e = Expr::leaf(literal(&v));
            }
        }
    }
    match &mut node.kind {
        NodeKind::Free { dist, transform, .. } => {
            dist.params.iter_mut().for_each(fold_in_place);
            if let Some(t) = transform {
                t.bounds_mut().into_iter().for_each(fold_in_place);
            }
        }
        NodeKind::Observed { dist, value, .. } => dist.params.iter_mut().chain(value).for_each(fold_in_place),
        NodeKind::Deterministic { expr } | NodeKind::Potential { expr } => fold_in_place(expr),
        NodeKind::Data { .. } => {}
    }
    node
}

fn fold_in_place(e: &mut Expr) {
    *e = fold(e);
}

/// Returns `e` with every constant sub-expression evaluated: one pass in evaluation order,
/// linear in the expression's size, each intermediate value freed after its last reader.
/// Literal leaves are kept as they are (data stay shared); a constant operation becomes one
/// literal where an operation that reads the model uses it.
pub(crate) fn fold(e: &Expr) -> Expr {
    let nodes = e.nodes();
    let live = e.live();
    let is_leaf = |n: &ExprNode| matches!(n, ExprNode::Const(_) | ExprNode::Data(_));
    // Whether each operation reads no model node, and how many live operations read it.
    let mut constant = vec![false; nodes.len()];
    let mut readers = vec![0u32; nodes.len()];
    readers[nodes.len() - 1] = 1;
    for (i, n) in nodes.iter().enumerate().filter(|(i, _)| live[*i]) {
        // A reshape stays: a folded literal would be a vector, not the matrix it makes.
        constant[i] =
            !matches!(n, ExprNode::Var(_) | ExprNode::Reshape(..)) && n.operands().all(|a| constant[a]);
        n.operands().for_each(|a| readers[a] += 1);
    }
    // Values of constant operations (leaves evaluated when a constant operation reads them).
    let mut values: Vec<Option<ConstValue>> = vec![None; nodes.len()];
    let mut out: Vec<ExprNode> = Vec::with_capacity(nodes.len());
    let mut at: Vec<Option<usize>> = vec![None; nodes.len()];
    for (i, n) in nodes.iter().enumerate().filter(|(i, _)| live[*i]) {
        if constant[i] {
            if !is_leaf(n) {
                let args: Option<Vec<ConstValue>> = n
                    .operands()
                    .map(|a| {
                        let v = values[a].clone().or_else(|| nodes[a].apply(&[]));
                        release(a, &mut readers, &mut values);
                        v
                    })
                    .collect();
                match args.and_then(|args| n.apply(&args)) {
                    Some(v) => values[i] = Some(v),
                    // Lengths that do not fit: validation reports it; leave `e` alone.
                    None => return e.clone(),
                }
            }
            continue;
        }
        // An operation that reads the model: its constant operands become literals.
        for a in n.operands() {
            if at[a].is_none() {
                out.push(match &values[a] {
                    Some(v) if !is_leaf(&nodes[a]) => literal(v),
                    _ => nodes[a].clone(),
                });
                at[a] = Some(out.len() - 1);
            }
            release(a, &mut readers, &mut values);
        }
        out.push(nodes[i].remap(|a| at[a].expect("operands come first")));
        at[i] = Some(out.len() - 1);
    }
    let last = nodes.len() - 1;
    match (constant[last], &values[last]) {
        (false, _) => Expr::from_nodes(out),
        (true, Some(v)) => Expr::from_nodes(vec![literal(v)]),
        (true, None) => Ok(e.clone()),
    }
    .unwrap_or_else(|_| e.clone())
}

fn literal(v: &ConstValue) -> ExprNode {
    if v.vector { ExprNode::Data(v.values.as_slice().into()) } else { ExprNode::Const(v.values[0]) }
}

/// One reader of operation `a` is done with it; its value is dropped after the last.
fn release(a: usize, readers: &mut [u32], values: &mut [Option<ConstValue>]) {
    readers[a] = readers[a].saturating_sub(1);
    if readers[a] == 0 {
        values[a] = None;
    }
}

#[cfg(test)]
mod tests {
    use crate::model::ExprNode;
    use crate::prelude::*;

    #[test]
    fn folds_constant_subtrees() {
        let mut m = Model::new();
        let mu = m.rv("mu", Normal::new(0.0, Expr::constant(2.0) * 2.5)).unwrap();
        m.deterministic("d", mu + Expr::constant(1.0).exp()).unwrap();
        let f = super::const_fold(&m);
        let NodeKind::Free { dist, .. } = &f.nodes()[0].kind else { panic!() };
        assert_eq!(dist.params[1], Expr::constant(5.0));
        let NodeKind::Deterministic { expr } = &f.nodes()[1].kind else { panic!() };
        assert_eq!(expr.len(), 3);
        assert_eq!(expr.nodes()[1], ExprNode::Const(std::f64::consts::E));
    }

    #[test]
    fn folding_is_linear_and_keeps_data_shared() {
        // (((mu + 1) + 2) + …) keeps its shape; (x + 1) * 2 with data x becomes one vector.
        let mut m = Model::new();
        let mu = m.rv("mu", Normal::new(0.0, 1.0)).unwrap();
        let mut e: Expr = mu.into();
        for k in 0..50_000 {
            e = e + (Expr::constant(k as f64) * 2.0);
        }
        let x = vec![1.0, 2.0, 3.0];
        let d = m.deterministic("d", e).unwrap();
        m.deterministic("v", (Expr::from(x) + 1.0) * 2.0 + d).unwrap();
        let t = std::time::Instant::now();
        let f = super::const_fold(&m);
        assert!(t.elapsed().as_secs_f64() < 2.0, "folding 150k operations took {:?}", t.elapsed());
        let NodeKind::Deterministic { expr } = &f.nodes()[1].kind else { panic!() };
        assert_eq!(expr.len(), 1 + 2 * 50_000, "each (k * 2) became one literal");
        let NodeKind::Deterministic { expr } = &f.nodes()[2].kind else { panic!() };
        assert_eq!(expr.len(), 3);
        assert!(expr.nodes().contains(&ExprNode::Data(vec![4.0, 6.0, 8.0].into())));
    }
}
