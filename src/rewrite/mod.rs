//! Rewrite passes, each a small function `Model → Model`.
//!
//! [`standard`] runs them in order: constant folding, automatic non-centring of hierarchical
//! normals, attaching the default constraint transforms, then listing the measurable
//! (transformed) observations.

mod const_fold;
mod domain;
mod measurable;
mod noncenter;
mod transforms;

pub use const_fold::const_fold;
pub use domain::domain_warnings;
pub use measurable::measurable;
pub use noncenter::noncenter;
pub use transforms::attach_transforms;

use crate::error::Result;
use crate::model::Model;

/// Options for [`standard`].
#[derive(Clone, Copy, Debug)]
pub struct RewriteOptions {
    /// Run automatic non-centring (default on).
    pub noncenter: bool,
}

impl Default for RewriteOptions {
    fn default() -> Self {
        RewriteOptions { noncenter: true }
    }
}

/// A model after the standard passes, with what was changed.
#[derive(Clone, Debug)]
pub struct Rewritten {
    /// The rewritten model.
    pub model: Model,
    /// Names of nodes that automatic non-centring rewrote.
    pub noncentered: Vec<String>,
    /// Transformed observations, whose log density is the family's at the inverse plus its
    /// log-Jacobian: `name (steps)` (see [`measurable`]).
    pub measured: Vec<String>,
}

/// Runs the standard pipeline of passes.
pub fn standard(model: &Model, opts: RewriteOptions) -> Result<Rewritten> {
    model.validate()?;
    let model = const_fold(model);
    let (model, noncentered) = if opts.noncenter { noncenter(&model) } else { (model, vec![]) };
    let model = attach_transforms(&model);
    model.validate()?;
    let measured = measurable(&model)?;
    Ok(Rewritten { model, noncentered, measured })
}
