//! Attaches each free node's bijector to the unconstrained space, chosen by its support (and,
//! for an ordered node, its rows). A transform already present (e.g. from JSON) is replaced, so
//! it always matches the support.

use crate::model::{Model, Node, NodeKind, Support, Transform, VecBijector};

/// Sets the transform of every free node from its family's support.
pub fn attach_transforms(model: &Model) -> Model {
    let nodes = model.nodes().iter().map(|n| attach(model, n)).collect();
    model.with_nodes(nodes)
}

fn attach(model: &Model, node: &Node) -> Node {
    let mut node = node.clone();
    let len = node.len();
    let row = node.shape.row_len();
    if let NodeKind::Free { dist, transform: t, ordered, .. } = &mut node.kind {
        *t = Some(match dist.kind.support() {
            // Validation allows ordering on the real line only.
            Support::Real if *ordered => Transform::Vector(VecBijector::Ordered { k: row }),
            Support::Real => Transform::Identity,
            Support::Circular => Transform::Circular,
            Support::Positive => Transform::Log,
            Support::UnitInterval => Transform::Logit,
            Support::Interval => {
                Transform::LogitInterval { lower: dist.params[0].clone(), upper: dist.params[1].clone() }
            }
            Support::Above => Transform::LowerBound { lower: dist.params[0].clone() },
            Support::Below => Transform::UpperBound { upper: dist.params[0].clone() },
            // Validation allows zero-sum vectors only (one draw is the whole node).
            Support::ZeroSum => Transform::Vector(VecBijector::ZeroSum { k: row }),
            // Validation refuses free nodes of these (observed-only) supports; nothing to
            // transform.
            Support::Binary
            | Support::Count
            | Support::BoundedCount
            | Support::Category
            | Support::ZeroOrPositive
            | Support::Censored => Transform::Identity,
            Support::Simplex => {
                let alpha = model.expr_len(&dist.params[0]).unwrap_or(1);
                let k = crate::model::dist::dirichlet_categories(len, alpha);
                Transform::Vector(VecBijector::Simplex { k })
            }
            Support::CorrCholesky => {
                let k = (len as f64).sqrt().round() as usize;
                Transform::Vector(VecBijector::CorrCholesky { k })
            }
        });
    }
    node
}
