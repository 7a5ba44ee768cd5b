//! Model → `Program`: lowering, reverse-mode autodiff and the point map.

pub mod autodiff;
pub mod builder;
pub mod hoist;
pub mod lower;
pub mod pointmap;
pub mod program;
pub mod scan;
pub mod tril;

pub use pointmap::{PointEntry, PointMap};
pub use program::{BinOp, Instr, Op, Program, UnOp, ValueId};

use crate::error::Result;
use crate::model::{Model, Shape};
use crate::rewrite::{self, RewriteOptions, Rewritten};

/// A model compiled for sampling.
#[derive(Clone, Debug)]
pub struct Compiled {
    /// `logp` and `∂logp/∂u` over the unconstrained vector.
    pub logp_grad: Program,
    /// Constrained values of free nodes and deterministics, as named outputs.
    pub constrain: Program,
    /// Layout of the unconstrained vector.
    pub pointmap: PointMap,
    /// Shapes of the named outputs of `constrain`, in order.
    pub output_shapes: Vec<Shape>,
    /// Nodes rewritten by automatic non-centring.
    pub noncentered: Vec<String>,
    /// Transformed observations and their steps (see [`rewrite::measurable`]).
    pub measured: Vec<String>,
    /// The model after rewriting.
    pub model: Model,
}

/// Runs the rewrite passes, lowers and differentiates.
pub fn compile(model: &Model, opts: RewriteOptions) -> Result<Compiled> {
    compile_for(model, opts, lower::Target::LogDensity)
}

/// [`compile`] with the log density of `target`: [`lower::Target::LogDensity`] (what NUTS
/// samples) or [`lower::Target::ModeDensity`] (no log-Jacobians: what a maximum a posteriori
/// search maximises) or [`lower::Target::Tempered`] (sequential Monte Carlo's, with one more
/// input, the inverse temperature); no other target has a density over the unconstrained
/// vector.
pub(crate) fn compile_for(model: &Model, opts: RewriteOptions, target: lower::Target) -> Result<Compiled> {
    let Rewritten { model, noncentered, measured } = rewrite::standard(model, opts)?;
    let (density, pointmap) = lower::lower(&model, target)?;
    let logp_grad = autodiff::differentiate(density);
    let (constrain, _) = lower::lower(&model, lower::Target::Constrained)?;
    let output_shapes = constrain
        .outputs
        .iter()
        .map(|(name, _)| {
            model.nodes().iter().find(|n| &n.name == name).map(|n| n.shape).unwrap_or(Shape::Scalar)
        })
        .collect();
    Ok(Compiled { logp_grad, constrain, pointmap, output_shapes, noncentered, measured, model })
}
