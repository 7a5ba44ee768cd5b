//! Constant folding: every subexpression that reads no node becomes a constant.

use crate::model::{Expr, Model, Node, NodeKind, Transform};

/// Folds constant subexpressions in every node.
pub fn const_fold(model: &Model) -> Model {
    let nodes = model.nodes().iter().map(fold_node).collect();
    Model::from_nodes(model.id(), nodes)
}

fn fold_node(node: &Node) -> Node {
    let mut node = node.clone();
    match &mut node.kind {
        NodeKind::Free { dist, transform, .. } => {
            dist.params.iter_mut().for_each(fold_in_place);
            if let Some(Transform::LogitInterval { lower, upper }) = transform {
                fold_in_place(lower);
                fold_in_place(upper);
            }
        }
        NodeKind::Observed { dist, .. } => dist.params.iter_mut().for_each(fold_in_place),
        NodeKind::Deterministic { expr } => fold_in_place(expr),
    }
    node
}

fn fold_in_place(e: &mut Expr) {
    *e = fold(e);
}

/// Returns `e` with every constant subtree evaluated.
pub(crate) fn fold(e: &Expr) -> Expr {
    if let Some(c) = e.eval_const() {
        return if c.vector { Expr::Data(c.values) } else { Expr::Const(c.values[0]) };
    }
    match e {
        Expr::Unary(op, a) => Expr::Unary(*op, Box::new(fold(a))),
        Expr::Pow(a, c) => Expr::Pow(Box::new(fold(a)), *c),
        Expr::Binary(op, a, b) => Expr::Binary(*op, Box::new(fold(a)), Box::new(fold(b))),
        other => other.clone(),
    }
}

#[cfg(test)]
mod tests {
    use crate::prelude::*;

    #[test]
    fn folds_constant_subtrees() {
        let mut m = Model::new();
        let mu = m.rv("mu", Normal::new(0.0, Expr::Const(2.0) * 2.5)).unwrap();
        m.deterministic("d", mu + Expr::Const(1.0).exp()).unwrap();
        let f = super::const_fold(&m);
        let NodeKind::Free { dist, .. } = &f.nodes()[0].kind else { panic!() };
        assert_eq!(dist.params[1], Expr::Const(5.0));
        let NodeKind::Deterministic { expr } = &f.nodes()[1].kind else { panic!() };
        let Expr::Binary(_, _, b) = expr else { panic!() };
        assert_eq!(**b, Expr::Const(std::f64::consts::E));
    }
}
