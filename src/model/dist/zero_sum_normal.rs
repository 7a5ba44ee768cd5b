//! ZeroSumNormal(sigma): a normal vector constrained to sum to zero.

use rand::Rng;

use super::vector::{VecCode, VecFamily};
use super::{Dist, Domain, HALF_LN_2PI, Support, std_normal};
use crate::model::bijector::zero_sum_excess;
use crate::model::expr::Expr;

/// Normal vector of `n` values with scale `sigma` constrained to sum to zero (PyMC's
/// `ZeroSumNormal(sigma)`): `n` independent `Normal(0, σ)` draws minus their mean, whose law
/// lives on the `n − 1`-dimensional zero-sum plane. The effects of the levels of a categorical
/// predictor are written this way, identified against the intercept without a reference level.
///
/// `log p(x) = −Σxᵢ²/(2σ²) − (n − 1)(ln σ + ln(2π)/2)` on the plane (PyMC's density). Free
/// variables are sampled through the zero-sum transform (`n − 1` unconstrained coordinates);
/// a hierarchical `sigma` is non-centred (`x = σ z`, `z ~ ZeroSumNormal(1)`) as a normal's
/// is. The length comes from [`Model::rv_vec`](crate::model::Model::rv_vec); `sigma` is one
/// value.
///
/// ```
/// use exmc::prelude::*;
/// # fn main() -> exmc::Result<()> {
/// let mut m = Model::new();
/// let intercept = m.rv("intercept", Normal::new(0.0, 5.0))?;
/// let sigma_g = m.rv("sigma_g", HalfNormal::new(1.0))?;
/// // Four levels whose effects sum to zero: the intercept is the grand mean.
/// let effect = m.rv_vec("effect", ZeroSumNormal::new(sigma_g), 4)?;
/// let group = m.int_data("group", &[0, 1, 2, 3, 0, 2])?;
/// let y = [1.2, 0.3, 2.1, -0.4, 1.5, 1.8];
/// m.observe("y", Normal::new(intercept + effect.at(group), 1.0), &y)?;
/// # Ok(())
/// # }
/// ```
#[derive(Clone, Copy, Debug)]
pub struct ZeroSumNormal;

impl ZeroSumNormal {
    /// `ZeroSumNormal(sigma)`.
    #[allow(clippy::new_ret_no_self)]
    pub fn new(sigma: impl Into<Expr>) -> Dist {
        Dist { kind: super::DistKind::ZeroSumNormal, params: vec![sigma.into()] }
    }
}

impl VecFamily for ZeroSumNormal {
    const NAME: &'static str = "zero_sum_normal";
    const PARAMS: &'static [(&'static str, Domain)] = &[("sigma", Domain::Positive)];
    const SUPPORT: Support = Support::ZeroSum;
    const MATRIX_PARAMS: bool = false;

    fn value_len(_lens: &[usize], _consts: &[Option<&[f64]>]) -> Result<usize, String> {
        Err("a ZeroSumNormal needs its length (Model::rv_vec, or `shape` in a model file)".into())
    }

    fn draw_len(n: usize, _lens: &[usize], _consts: &[Option<&[f64]>]) -> Option<usize> {
        Some(n)
    }

    fn accepts_len(n: usize, lens: &[usize], _consts: &[Option<&[f64]>]) -> Result<(), String> {
        if lens[0] != 1 {
            return Err(format!("sigma must be one value (got {}): the scale of every element", lens[0]));
        }
        if n < 2 {
            return Err("a zero-sum vector needs at least 2 values".into());
        }
        Ok(())
    }

    fn check_value(x: &[f64], _lens: &[usize], _p: &[Option<&[f64]>]) -> Result<(), (usize, String)> {
        match zero_sum_excess(x) {
            Some(s) => Err((0, format!("a zero-sum vector must sum to 0 (this one sums to {s})"))),
            None => Ok(()),
        }
    }

    /// `∂/∂xᵢ = −xᵢ/σ²`, `∂/∂σ = Σx²/σ³ − (n − 1)/σ`.
    fn lpdf_grad(args: &[&[f64]], grads: Option<&mut [Vec<f64>]>) -> f64 {
        let (x, sigma) = (args[0], args[1][0]);
        let inv2 = 1.0 / (sigma * sigma);
        let ss: f64 = x.iter().map(|v| v * v).sum();
        let dof = (x.len() - 1) as f64;
        if let Some(g) = grads {
            g[0].iter_mut().zip(x).for_each(|(g, v)| *g -= v * inv2);
            g[1][0] += (ss * inv2 - dof) / sigma;
        }
        -0.5 * ss * inv2 - dof * (sigma.ln() + HALF_LN_2PI)
    }

    fn wgsl(c: &VecCode) -> String {
        let (n, dof) = (c.lens[0], c.lens[0] - 1);
        let (i, ss, inv2, s) = (c.n("i"), c.n("ss"), c.n("inv2"), c.n("s"));
        let x = c.a(0, &i);
        format!(
            "{{ let {s} = {sigma}; let {inv2} = real(1.0) / ({s} * {s}); var {ss} = real(0.0); \
             for (var {i} = 0u; {i} < {n}u; {i}++) {{ let x = {x}; {ss} += x * x; {gx} }} \
             {out} = real(-0.5) * {ss} * {inv2} - real({dof}.0) * (ln_r({s}) + HALF_LN_2PI); {gs} }}",
            sigma = c.a(1, "0u"),
            gx = c.add(0, &i, &format!("-x * {inv2}")),
            gs = c.add(1, "0u", &format!("({ss} * {inv2} - real({dof}.0)) / {s}")),
            out = c.out,
        )
    }

    /// `n` normal draws minus their mean: the projection of `N(0, σ² I)` onto the plane.
    fn sample<R: Rng + ?Sized>(p: &[&[f64]], out: &mut [f64], rng: &mut R) {
        out.iter_mut().for_each(|v| *v = p[0][0] * std_normal(rng));
        let mean = out.iter().sum::<f64>() / out.len() as f64;
        out.iter_mut().for_each(|v| *v -= mean);
    }
}
