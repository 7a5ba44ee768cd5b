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
        let values: &[f64] = match &node.kind {
            NodeKind::Observed { data, .. } => data,
            NodeKind::Data { values, .. } => values,
            _ => &[],
        };
        found = found.or(values.iter().find(|x| unrepresentable(**x)).map(|&x| ("data value", x)));
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

/// Warnings for coordinates that f32 positions cannot resolve: in some chain, the sd of the
/// kept draws (unconstrained scale) is below [`MIN_SPACINGS`] f32 spacings at their mean. With
/// f32 kernels a leapfrog step below half a spacing leaves a coordinate where it is, so such a
/// posterior is frozen or quantised, whatever the sampler reports. Chains are looked at one by
/// one: chains frozen at different values have a large pooled sd.
pub fn resolution_warnings(pointmap: &PointMap, chains: &[Welford]) -> Vec<String> {
    let names = pointmap.element_names();
    let mut out = Vec::new();
    for (i, name) in names.iter().enumerate() {
        let frozen: Vec<(f64, f64)> = chains
            .iter()
            .filter(|w| w.count() >= 2 && i < w.mean().len())
            .map(|w| (w.mean()[i], w.variance()[i].sqrt()))
            .filter(|&(mean, sd)| mean != 0.0 && sd < MIN_SPACINGS * f32_spacing(mean))
            .collect();
        let Some(&(mean, sd)) = frozen.first() else { continue };
        out.push(format!(
            "`{name}`: in {} of {} chains its draws vary by less than {MIN_SPACINGS} f32 spacings at their magnitude (e.g. sd {sd:.3e} at {mean:.6e}, spacing {:.1e}): f32 kernels cannot resolve this posterior; use f64 kernels (Sampler::gpu_precision(Precision::F64)) or recentre the variable",
            frozen.len(),
            chains.len(),
            f32_spacing(mean)
        ));
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
        // Two chains frozen at different values: the pooled sd is large, each chain's is 0.
        let (mut w, mut v) = (Welford::new(2), Welford::new(2));
        for k in 0..100 {
            w.add(&[1e7, 0.3 * (k % 5) as f64]);
            v.add(&[1e7 + 64.0, 0.3 * (k % 3) as f64]);
        }
        let pm = PointMap {
            entries: vec![crate::compile::PointEntry {
                name: "x".into(),
                offset: 0,
                len: 2,
                value_len: 2,
                shape: crate::model::Shape::Vector(2),
                transform: crate::model::Transform::Identity,
            }],
            dim: 2,
        };
        let w = resolution_warnings(&pm, &[w, v]);
        assert_eq!(w.len(), 1, "{w:?}");
        assert!(w[0].starts_with("`x[0]`: in 2 of 2 chains") && w[0].contains("f64"), "{w:?}");
    }
}
