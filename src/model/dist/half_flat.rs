//! HalfFlat: the improper uniform prior on the positive reals.

use rand::Rng;

use super::{Dist, Domain, Family, Support};

/// The improper flat prior on `(0, ∞)` (PyMC's `HalfFlat`, Stan's `<lower=0>` parameters
/// without a prior): `log p(x) = 0`. It has no sampler (draws are NaN) and no moments.
#[derive(Clone, Copy, Debug)]
pub struct HalfFlat;

impl HalfFlat {
    /// `HalfFlat()`.
    #[allow(clippy::new_ret_no_self)]
    pub fn new() -> Dist {
        Dist { kind: super::DistKind::HalfFlat, params: vec![] }
    }
}

impl Family for HalfFlat {
    const NAME: &'static str = "half_flat";
    const PARAMS: &'static [(&'static str, Domain)] = &[];
    const SUPPORT: Support = Support::Positive;
    const WGSL: &'static str = include_str!("../../../shaders/dist/half_flat.wgsl");
    const EXAMPLES: &'static [&'static [f64]] = &[&[]];
    const PROPER: bool = false;

    fn lpdf(x: f64, p: &[f64]) -> f64 {
        if Self::in_support(x, p) { 0.0 } else { f64::NEG_INFINITY }
    }

    fn lpdf_grad(x: f64, p: &[f64], g: &mut [f64]) -> f64 {
        g[0] = 0.0;
        Self::lpdf(x, p)
    }

    fn sample<R: Rng + ?Sized>(_p: &[f64], _rng: &mut R) -> f64 {
        f64::NAN
    }
}
