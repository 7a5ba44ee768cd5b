//! NormalMixture(w, mu, sigma): each value from one of `K` normals.

use rand::Rng;

use super::categorical_logit::log_sum_exp;
use super::vector::{VecCode, VecFamily, add_at, at};
use super::{Dist, Domain, HALF_LN_2PI, Support};
use crate::model::expr::Expr;

/// Mixture of `K` normal distributions with weights `w` (a `K`-vector summing to one, such as a
/// Dirichlet draw) and component means `mu` and scales `sigma` (each a `K`-vector or one value
/// shared by the components): PyMC's `NormalMixture(w, mu, sigma)`. Every element of the value
/// is one independent draw, an observation of its own in the pointwise log-likelihood; a free
/// mixture without a length ([`Model::rv`](crate::model::Model::rv)) is one draw, a scalar.
///
/// `log p(x) = ln Σₖ wₖ N(x | μₖ, σₖ)`, a log-sum-exp per element. The components are not
/// ordered: a posterior with well separated components has `K!` symmetric modes, which chains
/// may visit apart (order `mu` to break the symmetry).
///
/// ```
/// use exmc::prelude::*;
/// let mut m = Model::new();
/// let w = m.rv("w", Dirichlet::new(vec![1.0, 1.0]))?;
/// let mu = m.rv_vec("mu", Normal::new(vec![-2.0, 2.0], 1.0), 2)?;
/// let sigma = m.rv("sigma", HalfNormal::new(1.0))?;
/// m.observe("y", NormalMixture::new(w, mu, sigma), &[-2.1, -1.7, 2.2, 1.9, 2.4])?;
/// # Ok::<(), exmc::Error>(())
/// ```
#[derive(Clone, Copy, Debug)]
pub struct NormalMixture;

impl NormalMixture {
    /// `NormalMixture(w, mu, sigma)`.
    #[allow(clippy::new_ret_no_self)]
    pub fn new(w: impl Into<Expr>, mu: impl Into<Expr>, sigma: impl Into<Expr>) -> Dist {
        Dist { kind: super::DistKind::NormalMixture, params: vec![w.into(), mu.into(), sigma.into()] }
    }
}

/// Per component, what every element shares: `ln wₖ`, `−ln σₖ` and `1/σₖ`.
fn components(w: &[f64], mu: &[f64], sigma: &[f64]) -> Vec<[f64; 4]> {
    (0..w.len()).map(|k| [w[k].ln(), -at(sigma, k).ln(), 1.0 / at(sigma, k), at(mu, k)]).collect()
}

impl VecFamily for NormalMixture {
    const NAME: &'static str = "normal_mixture";
    const PARAMS: &'static [(&'static str, Domain)] =
        &[("w", Domain::Probability), ("mu", Domain::Real), ("sigma", Domain::Positive)];
    const SUPPORT: Support = Support::Real;
    const ELEMENTWISE: bool = true;
    const MATRIX_PARAMS: bool = false;

    fn value_len(_lens: &[usize], _consts: &[Option<&[f64]>]) -> Result<usize, String> {
        Ok(1)
    }

    /// One draw, a scalar (PyMC's default shape), where the node gives no length.
    fn value_shape(lens: &[usize], consts: &[Option<&[f64]>]) -> Result<crate::model::Shape, String> {
        Self::accepts_len(1, lens, consts).map(|()| crate::model::Shape::Scalar)
    }

    fn accepts_len(n: usize, lens: &[usize], _consts: &[Option<&[f64]>]) -> Result<(), String> {
        super::mixture::accepts_len(Self::PARAMS, n, lens)
    }

    fn check_params(p: &[Option<&[f64]>]) -> Result<(), String> {
        super::mixture::check_params(p)
    }

    fn check_value(x: &[f64], _lens: &[usize], _p: &[Option<&[f64]>]) -> Result<(), (usize, String)> {
        match x.iter().position(|v| !v.is_finite()) {
            Some(i) => Err((i, "must be finite".into())),
            None => Ok(()),
        }
    }

    /// Per element, `L = ln Σₖ e^{lₖ}` with `lₖ = ln wₖ + cₖ`, `cₖ = −zₖ²/2 − ln σₖ` (the
    /// constant `−ln(2π)/2` added once); with responsibilities `rₖ = e^{lₖ − L} ≤ 1`:
    /// `∂/∂x = −Σₖ rₖ zₖ/σₖ`, `∂/∂wₖ = e^{cₖ − L}` (which a zero weight leaves finite, where
    /// `rₖ/wₖ` is not), `∂/∂μₖ = rₖ zₖ/σₖ`, `∂/∂σₖ = rₖ (zₖ² − 1)/σₖ`.
    fn lpdf_grad(args: &[&[f64]], grads: Option<&mut [Vec<f64>]>) -> f64 {
        let (x, w) = (args[0], args[1]);
        let comps = components(w, args[2], args[3]);
        // Per component at the current element: `lₖ`, and `cₖ` with `zₖ`.
        let (mut l, mut cz) = (vec![0.0; comps.len()], vec![(0.0, 0.0); comps.len()]);
        let mut grads = grads;
        let mut lp = -(x.len() as f64) * HALF_LN_2PI;
        for (i, &xi) in x.iter().enumerate() {
            for (k, &[lw, nls, inv, mu]) in comps.iter().enumerate() {
                let z = (xi - mu) * inv;
                cz[k] = (nls - 0.5 * z * z, z);
                l[k] = lw + cz[k].0;
            }
            let total = log_sum_exp(&l);
            lp += total;
            let Some(g) = grads.as_deref_mut() else { continue };
            for (j, comp) in comps.iter().enumerate() {
                let ((cj, z), inv) = (cz[j], comp[2]);
                let r = (l[j] - total).exp();
                g[0][i] -= r * z * inv;
                g[1][j] += (cj - total).exp();
                add_at(&mut g[2], j, r * z * inv);
                add_at(&mut g[3], j, r * (z * z - 1.0) * inv);
            }
        }
        lp
    }

    /// The same as [`lpdf_grad`](Self::lpdf_grad), with the per-component terms in three
    /// `K`-element arrays filled once.
    fn wgsl(c: &VecCode) -> String {
        let (n, k) = (c.lens[0], c.lens[1]);
        let (lp, i, j, m, t, tot) = (c.n("lp"), c.n("i"), c.n("j"), c.n("m"), c.n("t"), c.n("tot"));
        let (lw, nls, inv) = (c.n("lw"), c.n("nls"), c.n("inv"));
        let x = c.a(0, &i);
        // Component j at element i: z, cj (without ln w) and lj.
        let comp = format!(
            "let z = ({x} - {mu}) * {inv}[{j}]; let cj = {nls}[{j}] - real(0.5) * z * z; \
             let lj = {lw}[{j}] + cj;",
            mu = c.a(2, &j)
        );
        format!(
            "{{ var {lw}: array<real, {k}>; var {nls}: array<real, {k}>; var {inv}: array<real, {k}>; \
             for (var {j} = 0u; {j} < {k}u; {j}++) {{ \
             {lw}[{j}] = ln_r({w}); {nls}[{j}] = -ln_r({s}); {inv}[{j}] = real(1.0) / {s}; }} \
             var {lp} = real(0.0); \
             for (var {i} = 0u; {i} < {n}u; {i}++) {{ \
             var {m} = neg_inf(); for (var {j} = 0u; {j} < {k}u; {j}++) {{ {comp} {m} = max({m}, lj); }} \
             var {t} = real(0.0); for (var {j} = 0u; {j} < {k}u; {j}++) {{ {comp} {t} += exp_r(lj - {m}); }} \
             let {tot} = {m} + ln_r({t}); {lp} += {tot}; {grads} }} \
             {out} = {lp} - real({n}.0) * HALF_LN_2PI; }}",
            w = c.a(1, &j),
            s = c.a(3, &j),
            grads = if (0..4).any(|a| c.wants(a)) {
                format!(
                    "for (var {j} = 0u; {j} < {k}u; {j}++) {{ {comp} let r = exp_r(lj - {tot}); \
                     let d = r * z * {inv}[{j}]; {gx} {gw} {gm} {gs} }}",
                    gx = c.add(0, &i, "-d"),
                    gw = c.add(1, &j, &format!("exp_r(cj - {tot})")),
                    gm = c.add(2, &j, "d"),
                    gs = c.add(3, &j, &format!("r * (z * z - real(1.0)) * {inv}[{j}]")),
                )
            } else {
                String::new()
            },
            out = c.out,
        )
    }

    fn sample<R: Rng + ?Sized>(p: &[&[f64]], out: &mut [f64], rng: &mut R) {
        super::mixture::sample::<super::Normal, R>(p, out, rng)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A value on a component of weight 0, far from the others: the density is finite, and
    /// so is every partial (the responsibility of that component is 0, not 0 · ∞).
    #[test]
    fn a_zero_weight_leaves_every_partial_finite() {
        let (x, w, mu, sigma) = ([30.0], [1.0, 0.0], [0.0, 30.0], [1.0]);
        let mut g = vec![vec![0.0], vec![0.0; 2], vec![0.0; 2], vec![0.0]];
        let lp = NormalMixture::lpdf_grad(&[&x, &w, &mu, &sigma], Some(&mut g));
        assert!((lp - (-450.0 - HALF_LN_2PI)).abs() < 1e-9, "{lp}");
        assert!(g.iter().flatten().all(|v| v.is_finite()), "{g:?}");
        // ∂/∂w₁ = N(30 | 30, 1)/p(30) = e⁴⁵⁰: large, as the density's slope there is.
        assert_eq!((g[0][0], g[2][1], g[1][1]), (-30.0, 0.0, 450f64.exp()));
    }
}
