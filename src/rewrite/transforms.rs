//! Attaches each free node's bijector to the unconstrained space, chosen by its support. A
//! transform already present (e.g. from JSON) is replaced, so it always matches the support.

use crate::model::{Model, Node, NodeKind, Support, Transform};

/// Sets the transform of every free node from its family's support.
pub fn attach_transforms(model: &Model) -> Model {
    let nodes = model.nodes().iter().map(attach).collect();
    model.with_nodes(nodes)
}

fn attach(node: &Node) -> Node {
    let mut node = node.clone();
    if let NodeKind::Free { dist, transform: t, .. } = &mut node.kind {
        *t = Some(match dist.kind.support() {
            Support::Real => Transform::Identity,
            Support::Positive => Transform::Log,
            Support::UnitInterval => Transform::Logit,
            Support::Interval => {
                Transform::LogitInterval { lower: dist.params[0].clone(), upper: dist.params[1].clone() }
            }
            Support::Above => Transform::LowerBound { lower: dist.params[0].clone() },
            Support::Below => Transform::UpperBound { upper: dist.params[0].clone() },
            // Validation refuses free discrete nodes; nothing to transform.
            Support::Binary | Support::Count | Support::BoundedCount => Transform::Identity,
        });
    }
    node
}
