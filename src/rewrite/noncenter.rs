//! Automatic non-centred parameterisation of hierarchical normals.
//!
//! A free `x ~ Normal(mu, sigma)` whose `mu` and `sigma` both read other nodes becomes
//! `x_z ~ Normal(0, 1)` (same shape) and the deterministic `x = mu + sigma · x_z`, which keeps
//! the name `x` in the trace. Nodes marked with `Model::keep_centered` are left alone.

use crate::model::{Dist, DistKind, Expr, Model, Node, NodeKind, NodeRef};

/// Applies the rewrite; returns the new model and the names of rewritten nodes.
pub fn noncenter(model: &Model) -> (Model, Vec<String>) {
    let mut nodes: Vec<Node> = model.nodes().to_vec();
    let mut rewritten = Vec::new();
    for i in 0..nodes.len() {
        let NodeKind::Free { dist, reparam: true, .. } = &nodes[i].kind else { continue };
        if dist.kind != DistKind::Normal || dist.params.iter().any(Expr::is_constant) {
            continue;
        }
        let (mu, sigma) = (dist.params[0].clone(), dist.params[1].clone());
        let name = nodes[i].name.clone();
        let z_name = unique_name(&nodes, &format!("{name}_z"));
        let z = NodeRef { index: nodes.len(), owner: 0 };
        nodes.push(Node {
            name: z_name,
            shape: nodes[i].shape,
            kind: NodeKind::Free {
                dist: Dist { kind: DistKind::Normal, params: vec![Expr::Const(0.0), Expr::Const(1.0)] },
                transform: None,
                reparam: false,
            },
        });
        nodes[i].kind = NodeKind::Deterministic { expr: mu + sigma * Expr::Var(z) };
        rewritten.push(name);
    }
    (Model::from_nodes(model.id(), nodes), rewritten)
}

fn unique_name(nodes: &[Node], base: &str) -> String {
    let mut name = base.to_string();
    let mut k = 1;
    while nodes.iter().any(|n| n.name == name) {
        name = format!("{base}{k}");
        k += 1;
    }
    name
}

#[cfg(test)]
mod tests {
    use crate::prelude::*;

    #[test]
    fn rewrites_only_hierarchical_normals() {
        let mut m = Model::new();
        let mu = m.rv("mu", Normal::new(0.0, 5.0)).unwrap();
        let tau = m.rv("tau", HalfCauchy::new(5.0)).unwrap();
        let theta = m.rv_vec("theta", Normal::new(mu, tau), 8).unwrap();
        let keep = m.rv("keep", Normal::new(mu, tau)).unwrap();
        m.keep_centered(keep).unwrap();
        m.rv("fixed_scale", Normal::new(mu, 1.0)).unwrap();
        let (r, names) = super::noncenter(&m);
        assert_eq!(names, vec!["theta".to_string()]);
        assert!(matches!(r.nodes()[theta.index()].kind, NodeKind::Deterministic { .. }));
        let z = r.var("theta_z").unwrap();
        assert_eq!(r.nodes()[z.index()].shape, Shape::Vector(8));
        r.validate().unwrap();
    }
}
