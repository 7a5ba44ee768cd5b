//! `PointMap`: names every element of the unconstrained vector and maps it back.

use serde::{Deserialize, Serialize};

use crate::model::{Shape, Transform};

/// One free node's slice of the unconstrained vector.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PointEntry {
    /// Node name.
    pub name: String,
    /// Start in the unconstrained vector.
    pub offset: usize,
    /// Number of unconstrained elements.
    pub len: usize,
    /// Number of constrained elements (the node's; differs from `len` for vector bijectors).
    pub value_len: usize,
    /// Node shape.
    pub shape: Shape,
    /// Bijector from unconstrained to constrained values.
    pub transform: Transform,
}

/// Layout of the unconstrained position vector.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct PointMap {
    /// Entries in position order.
    pub entries: Vec<PointEntry>,
    /// Total length.
    pub dim: usize,
}

impl PointMap {
    /// Name of every element (`mu`, `theta[3]`), with the transform's name for transformed
    /// nodes (`sigma_log__`, as PyMC names them).
    pub fn element_names(&self) -> Vec<String> {
        let mut names = Vec::with_capacity(self.dim);
        for e in &self.entries {
            let suffix = match e.transform {
                Transform::Identity => "",
                Transform::Log => "_log__",
                Transform::Circular => "_circular__",
                Transform::Logit | Transform::LogitInterval { .. } => "_interval__",
                Transform::LowerBound { .. } => "_lowerbound__",
                Transform::UpperBound { .. } => "_upperbound__",
                Transform::Vector(b) => b.suffix(),
            };
            // The node's dimensions, or flat where a bijector's unconstrained vector is shorter
            // than the node (or a scalar's longer).
            let dims = if e.len == e.shape.len() { e.shape.dims() } else { vec![e.len] };
            let base = format!("{}{suffix}", e.name);
            names.extend((0..e.len).map(|i| Shape::element_name(&base, &dims, None, i)));
        }
        names
    }

    /// The entry of node `name`.
    pub fn entry(&self, name: &str) -> Option<&PointEntry> {
        self.entries.iter().find(|e| e.name == name)
    }
}
