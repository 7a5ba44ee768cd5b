//! Floating-point precision of GPU kernels: values f32 kernels cannot hold, checked against the
//! model before code is generated.

use crate::compile::PointMap;
use crate::error::{Error, Result};
use crate::model::{ExprNode, Model, NodeKind};
use crate::nuts::mass_matrix::Welford;

/// Whether `x` changes meaning in f32: finite but beyond its range, or nonzero but rounded to 0.
fn unrepresentable(x: f64) -> bool {
    x.is_finite() && ((x as f32).is_infinite() || (x != 0.0 && x as f32 == 0.0))
}

/// Fails, naming the node, when a constant, exponent or data value of `model` cannot be held by
/// f32 kernels, and says what to do instead.
pub fn check_f32_model(model: &Model) -> Result<()> {
    for node in model.nodes() {
        let mut found: Option<(&str, f64)> = None;
        for e in node.exprs() {
            for n in e.nodes() {
                let hit = match n {
                    ExprNode::Const(c) => unrepresentable(*c).then_some(("constant", *c)),
                    ExprNode::Pow(_, c) => unrepresentable(*c).then_some(("exponent", *c)),
                    ExprNode::Data(v) => v.iter().find(|x| unrepresentable(**x)).map(|&x| ("data value", x)),
                    _ => None,
                };
                found = found.or(hit);
            }
        }
        if let NodeKind::Observed { data, .. } = &node.kind {
            found = found.or(data.iter().find(|x| unrepresentable(**x)).map(|&x| ("observation", x)));
        }
        if let Some((what, value)) = found {
            return Err(Error::Backend {
                backend: "gpu",
                reason: format!(
                    "node `{}`: {what} {value:e} cannot be represented in f32 kernels (finite magnitudes 1.4e-45 ..= 3.4e38); use f64 kernels (Sampler::gpu_precision(Precision::F64)) or rescale the model",
                    node.name
                ),
            });
        }
    }
    Ok(())
}

/// Spacing of f32 numbers at `x` (the distance to the next one away from zero).
pub fn f32_spacing(x: f64) -> f64 {
    let a = (x.abs() as f32).min(f32::MAX);
    f64::from(f32::from_bits(a.to_bits() + 1)) - f64::from(a)
}

/// Coordinates whose kept draws vary by less than this many f32 spacings at their magnitude
/// are reported: f32 positions cannot resolve them.
pub const MIN_SPACINGS: f64 = 4.0;

/// Warnings for coordinates that f32 positions cannot resolve: the pooled sd of the kept
/// draws (unconstrained scale) is below [`MIN_SPACINGS`] f32 spacings at their mean. With f32
/// kernels a leapfrog step below half a spacing leaves a coordinate where it is, so such a
/// posterior is frozen or quantised, whatever the sampler reports.
pub fn resolution_warnings(pointmap: &PointMap, moments: &Welford) -> Vec<String> {
    if moments.count() < 2 {
        return Vec::new();
    }
    let names = pointmap.element_names();
    let sd: Vec<f64> = moments.variance().iter().map(|v| v.sqrt()).collect();
    let mut out = Vec::new();
    for ((name, &mean), sd) in names.iter().zip(moments.mean()).zip(sd) {
        let spacing = f32_spacing(mean);
        if mean != 0.0 && sd < MIN_SPACINGS * spacing {
            out.push(format!(
                "`{name}`: its draws vary by {sd:.3e}, less than {MIN_SPACINGS} f32 spacings at its magnitude ({mean:.6e}, spacing {spacing:.1e}): f32 kernels cannot resolve this posterior; use f64 kernels (Sampler::gpu_precision(Precision::F64)) or recentre the variable"
            ));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spacing_and_frozen_coordinates() {
        assert_eq!(f32_spacing(1e7), 1.0);
        assert_eq!(f32_spacing(1.0), f64::from(f32::EPSILON));
        let mut w = Welford::new(2);
        for k in 0..100 {
            w.add(&[1e7, 0.3 * (k % 5) as f64]);
        }
        let pm = PointMap {
            entries: vec![crate::compile::PointEntry {
                name: "x".into(),
                offset: 0,
                len: 2,
                shape: crate::model::Shape::Vector(2),
                transform: crate::model::Transform::Identity,
            }],
            dim: 2,
        };
        let w = resolution_warnings(&pm, &w);
        assert_eq!(w.len(), 1, "{w:?}");
        assert!(w[0].starts_with("`x[0]`") && w[0].contains("f64"), "{w:?}");
    }
}
