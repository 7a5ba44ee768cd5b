//! Measurable observations: every observed node whose value is a function of its draw
//! ([`Model::observe_transformed`]) is checked to be invertible step by step (affine, `exp`,
//! `ln`; see [`Measure`]), and listed. Lowering then evaluates the family's density at the
//! inverse and adds the inverse's log-Jacobian, so the model is unchanged here.

use crate::error::{Error, Result};
use crate::model::measure::Measure;
use crate::model::{Model, NodeKind};

/// The transformed observations of `model`, as `name (steps)`, outermost step first: `y
/// (affine)`, `z (exp ∘ affine)`. Fails, naming the node, when a value cannot be inverted.
pub fn measurable(model: &Model) -> Result<Vec<String>> {
    let mut out = Vec::new();
    for node in model.nodes() {
        if let NodeKind::Observed { value: Some(value), .. } = &node.kind {
            let m = Measure::of(value)
                .map_err(|reason| Error::InvalidNode { node: node.name.clone(), reason })?;
            out.push(format!("{} ({})", node.name, m.describe()));
        }
    }
    Ok(out)
}
