//! What the mixtures of one scalar family share (PoissonMixture, GammaMixture, …): `K`
//! components of family `F` with weights `w` (a `K`-vector summing to one) and each of `F`'s
//! parameters given per component (`K` values) or shared (one), PyMC's
//! `Mixture(w, comp_dists=F.dist(…))`. Every element of the value is one draw, an observation of
//! its own. The shape rules, checks, density loop, its WGSL and the sampler are written here
//! once, in terms of the component's [`Family`] functions; each family's file names its
//! component ([`mixture_rules`]). [`NormalMixture`](super::NormalMixture) shares the shape
//! rules, weight check and sampler, and keeps its own density loop, which shares `1/σₖ`
//! across elements.

use rand::Rng;

use super::categorical;
use super::categorical_logit::log_sum_exp;
use super::vector::{VecCode, add_at, at};
use super::{Dist, DistKind, Domain, Family, Support};
use crate::error::{Error, Result};
use crate::model::expr::Expr;

/// Largest deviation of constant weights' sum from 1.
const SUM_TOLERANCE: f64 = 1e-6;

/// The most parameters a component may have: its WGSL `_lpdf_grad` returns them in one
/// `Lg` (value and four partials, the first for the value).
pub(crate) const MAX_COMPONENT_PARAMS: usize = 3;

/// PyMC's `Mixture(w, comp_dists)` for components of one family: `component` is that family
/// with each parameter given per component (`K` values) or shared (one), and `w` the `K`
/// weights. Returns the family's mixture ([`PoissonMixture`](super::PoissonMixture),
/// [`NormalMixture`](super::NormalMixture), …: [`Mixture::KINDS`]).
///
/// ```
/// use exmc::prelude::*;
/// let mut m = Model::new();
/// let w = m.rv("w", Dirichlet::new(vec![1.0, 1.0]))?;
/// // Ordered rates (one label per component), through ordered log rates.
/// let log_lam = m.rv_vec("log_lam", Normal::new(vec![1.0, 3.0], 1.0), 2)?;
/// m.ordered(log_lam)?;
/// let y = [1.0, 3.0, 2.0, 14.0, 19.0, 0.0];
/// m.observe("y", Mixture::new(w, Poisson::new(log_lam.exp()))?, &y)?;
/// # Ok::<(), exmc::Error>(())
/// ```
#[derive(Clone, Copy, Debug)]
pub struct Mixture;

impl Mixture {
    /// `(component, mixture)`: every family that has a mixture, and that mixture.
    pub const KINDS: &'static [(DistKind, DistKind)] = &[
        (DistKind::Normal, DistKind::NormalMixture),
        (DistKind::Poisson, DistKind::PoissonMixture),
        (DistKind::NegativeBinomial, DistKind::NegativeBinomialMixture),
        (DistKind::Exponential, DistKind::ExponentialMixture),
        (DistKind::Gamma, DistKind::GammaMixture),
        (DistKind::LogNormal, DistKind::LogNormalMixture),
        (DistKind::StudentT, DistKind::StudentTMixture),
        (DistKind::Beta, DistKind::BetaMixture),
    ];

    /// The mixture of `component`'s family with weights `w`, its parameters those of
    /// `component` after `w`. [`Error::NoMixture`] for a family not in [`Mixture::KINDS`].
    #[allow(clippy::new_ret_no_self)]
    pub fn new(w: impl Into<Expr>, component: Dist) -> Result<Dist> {
        let kind = Self::KINDS
            .iter()
            .find(|(c, _)| *c == component.kind)
            .map(|&(_, m)| m)
            .ok_or(Error::NoMixture { dist: component.kind.name() })?;
        let mut params = vec![w.into()];
        params.extend(component.params);
        Ok(Dist { kind, params })
    }
}

/// The weights and one value or `K` of every component parameter, and at least one value.
pub(crate) fn accepts_len(names: &[(&str, Domain)], n: usize, lens: &[usize]) -> Result<(), String> {
    let k = lens[0];
    if let Some((name, len)) = names
        .iter()
        .zip(lens)
        .skip(1)
        .map(|(&(name, _), &len)| (name, len))
        .find(|&(_, len)| len != 1 && len != k)
    {
        return Err(format!("`{name}` has {len} values for {k} components (`w`): give {k} or one"));
    }
    if n == 0 { Err("no values".into()) } else { Ok(()) }
}

/// Constant weights must sum to one.
pub(crate) fn check_params(p: &[Option<&[f64]>]) -> Result<(), String> {
    match p[0] {
        Some(w) if (w.iter().sum::<f64>() - 1.0).abs() > SUM_TOLERANCE => {
            Err(format!("the weights `w` must sum to 1 (they sum to {})", w.iter().sum::<f64>()))
        }
        _ => Ok(()),
    }
}

/// Every value in the component's support where no parameter moves it.
pub(crate) fn check_value<F: Family>(x: &[f64]) -> Result<(), (usize, String)> {
    match x.iter().position(|&v| !F::in_fixed_support(v)) {
        Some(i) => Err((i, format!("{} ({}'s support)", support_rule(F::SUPPORT), F::NAME))),
        None => Ok(()),
    }
}

/// The components' supports, worded for error messages.
fn support_rule(s: Support) -> String {
    match s {
        Support::Count => Domain::Count.rule().into(),
        Support::Positive => Domain::Positive.rule().into(),
        Support::Real => Domain::Real.rule().into(),
        Support::UnitInterval => "must lie in (0, 1)".into(),
        other => format!("{other:?}"),
    }
}

/// Per element, `L = ln Σₖ e^{lₖ}` with `lₖ = ln wₖ + cₖ` and `cₖ` the component's log
/// density; with responsibilities `rₖ = e^{lₖ − L} ≤ 1`: `∂/∂x = Σₖ rₖ ∂cₖ/∂x`,
/// `∂/∂wₖ = e^{cₖ − L}` (finite where `wₖ = 0`, unlike `rₖ/wₖ`), `∂/∂θₖ = rₖ ∂cₖ/∂θₖ`. A
/// component of responsibility 0 adds only its weight's partial: one at −∞ may have infinite
/// partials (a Poisson rate that underflowed to 0 has `∂/∂μ = x/μ − 1`), and `0 · ∞` would
/// make the gradient NaN where the density is finite. An element that every component puts at
/// −∞ makes the density −∞ (the partials are then not complete).
pub(crate) fn lpdf_grad<F: Family>(args: &[&[f64]], grads: Option<&mut [Vec<f64>]>) -> f64 {
    let (x, w, theta) = (args[0], args[1], &args[2..]);
    let (k, np) = (w.len(), theta.len());
    let ln_w: Vec<f64> = w.iter().map(|v| v.ln()).collect();
    // Per component at the current element: `cₖ`, `lₖ` and the component's partials.
    let (mut c, mut l) = (vec![0.0; k], vec![0.0; k]);
    let mut g_comp = vec![[0.0; 1 + MAX_COMPONENT_PARAMS]; k];
    let mut p = [0.0; MAX_COMPONENT_PARAMS];
    let mut grads = grads;
    let mut lp = 0.0;
    for (i, &xi) in x.iter().enumerate() {
        for j in 0..k {
            for (q, t) in theta.iter().enumerate() {
                p[q] = at(t, j);
            }
            c[j] = F::lpdf_grad(xi, &p[..np], &mut g_comp[j][..=np]);
            l[j] = ln_w[j] + c[j];
        }
        let total = log_sum_exp(&l);
        if total == f64::NEG_INFINITY {
            return total;
        }
        lp += total;
        let Some(g) = grads.as_deref_mut() else { continue };
        for j in 0..k {
            g[1][j] += (c[j] - total).exp();
            let r = (l[j] - total).exp();
            if r > 0.0 {
                g[0][i] += r * g_comp[j][0];
                for q in 0..np {
                    add_at(&mut g[2 + q], j, r * g_comp[j][1 + q]);
                }
            }
        }
    }
    lp
}

/// The same as [`lpdf_grad`], calling the component's WGSL `<name>_lpdf_grad` once per
/// element and component, with its results kept in `K`-element arrays for the sums.
pub(crate) fn wgsl<F: Family>(c: &VecCode) -> String {
    let (n, k, np) = (c.lens[0], c.lens[1], c.lens.len() - 2);
    let (lp, i, j, m, t, tot) = (c.n("lp"), c.n("i"), c.n("j"), c.n("m"), c.n("t"), c.n("tot"));
    let (lw, cv, lv, gv) = (c.n("lw"), c.n("cv"), c.n("lv"), c.n("gv"));
    let args: String = (0..np).map(|q| format!(", {}", c.a(2 + q, &j))).collect();
    let grads = if (0..c.lens.len()).any(|a| c.wants(a)) {
        let gt: String = (0..np)
            .map(|q| c.add(2 + q, &j, &format!("r * {gv}[{j}][{}]", q + 1)))
            .collect::<Vec<_>>()
            .join(" ");
        format!(
            "for (var {j} = 0u; {j} < {k}u; {j}++) {{ {gw} let r = exp_r({lv}[{j}] - {tot}); \
             if (r > real(0.0)) {{ {gx} {gt} }} }}",
            gx = c.add(0, &i, &format!("r * {gv}[{j}].x")),
            gw = c.add(1, &j, &format!("exp_r({cv}[{j}] - {tot})")),
        )
    } else {
        String::new()
    };
    format!(
        "{{ var {lw}: array<real, {k}>; \
         for (var {j} = 0u; {j} < {k}u; {j}++) {{ {lw}[{j}] = ln_r({w}); }} \
         var {lp} = real(0.0); \
         for (var {i} = 0u; {i} < {n}u; {i}++) {{ \
         var {cv}: array<real, {k}>; var {lv}: array<real, {k}>; var {gv}: array<vec4<real>, {k}>; \
         var {m} = neg_inf(); \
         for (var {j} = 0u; {j} < {k}u; {j}++) {{ let lg = {name}_lpdf_grad({x}{args}); \
         {cv}[{j}] = lg.v; {lv}[{j}] = {lw}[{j}] + lg.v; {gv}[{j}] = lg.g; {m} = max({m}, {lv}[{j}]); }} \
         if (!({m} > neg_inf())) {{ {lp} = neg_inf(); break; }} \
         var {t} = real(0.0); for (var {j} = 0u; {j} < {k}u; {j}++) {{ {t} += exp_r({lv}[{j}] - {m}); }} \
         let {tot} = {m} + ln_r({t}); {lp} += {tot}; {grads} }} \
         {out} = {lp}; }}",
        w = c.a(1, &j),
        name = F::NAME,
        x = c.a(0, &i),
        out = c.out,
    )
}

/// Each element from the component drawn by `w`.
pub(crate) fn sample<F: Family, R: Rng + ?Sized>(p: &[&[f64]], out: &mut [f64], rng: &mut R) {
    let (w, theta) = (p[0], &p[1..]);
    let mut q = [0.0; MAX_COMPONENT_PARAMS];
    for v in out.iter_mut() {
        let j = categorical::draw(w, rng) as usize;
        for (slot, t) in q.iter_mut().zip(theta.iter()) {
            *slot = at(t, j);
        }
        *v = F::sample(&q[..theta.len()], rng);
    }
}

/// The [`VecFamily`](super::vector::VecFamily) items every mixture of one scalar family
/// shares, given that family: elementwise draws, one set of parameters for all of them, the
/// component's support and WGSL.
macro_rules! mixture_rules {
    ($component:ident) => {
        const SUPPORT: Support = <super::$component as super::Family>::SUPPORT;
        const ELEMENTWISE: bool = true;
        const MATRIX_PARAMS: bool = false;
        const WGSL_NEEDS: &'static [super::DistKind] = &[super::DistKind::$component];

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
            super::mixture::check_value::<super::$component>(x)
        }

        fn lpdf_grad(args: &[&[f64]], grads: Option<&mut [Vec<f64>]>) -> f64 {
            super::mixture::lpdf_grad::<super::$component>(args, grads)
        }

        fn wgsl(c: &VecCode) -> String {
            super::mixture::wgsl::<super::$component>(c)
        }

        fn sample<R: Rng + ?Sized>(p: &[&[f64]], out: &mut [f64], rng: &mut R) {
            super::mixture::sample::<super::$component, R>(p, out, rng)
        }
    };
}
pub(crate) use mixture_rules;

#[cfg(test)]
mod tests {
    use super::*;

    /// Every mixture's parameters are `w` then its component's, and the error for a family
    /// without a mixture names every family that has one.
    #[test]
    fn every_mixture_is_its_components_with_weights() {
        let message = Error::NoMixture { dist: "uniform" }.to_string();
        for &(comp, mix) in Mixture::KINDS {
            assert_eq!(mix.params()[0], ("w", Domain::Probability), "{}", mix.name());
            assert_eq!(&mix.params()[1..], comp.params(), "{}", mix.name());
            assert!(comp.params().len() <= MAX_COMPONENT_PARAMS, "{}", comp.name());
            assert_eq!(mix.support(), comp.support(), "{}", mix.name());
            assert!(message.contains(comp.name()), "{message} lacks {}", comp.name());
            let d =
                Mixture::new(vec![0.5, 0.5], Dist { kind: comp, params: vec![1.0.into(); comp.n_params()] });
            assert_eq!(d.map(|d| (d.kind, d.params.len())), Ok((mix, 1 + comp.n_params())));
        }
        assert_eq!(
            Mixture::new(vec![0.5, 0.5], super::super::Uniform::new(0, 1)).map(|d| d.kind),
            Err(Error::NoMixture { dist: "uniform" })
        );
    }

    /// An element every component puts at −∞ (rates `exp(log_mu)` that underflowed to 0, for
    /// a positive count) makes the density −∞, not NaN; where one component does, the others
    /// keep the density finite and the gradient too (that component's `∂/∂μ` is infinite).
    #[test]
    fn a_component_at_neg_infinity_leaves_the_gradient_finite() {
        let (x, w) = ([1.0, 2.0], [0.5, 0.5]);
        let lp = DistKind::PoissonMixture.vec_lpdf_grad(&[&x, &w, &[0.0]], None);
        assert_eq!(lp, f64::NEG_INFINITY);
        let mut g = vec![vec![0.0; 2], vec![0.0; 2], vec![0.0; 2]];
        let mu = [0.0, 3.0];
        let lp = DistKind::PoissonMixture.vec_lpdf_grad(&[&x, &w, &mu], Some(&mut g));
        // Only the second component: Σ (ln 0.5 + x ln 3 − 3 − ln x!).
        let want = 2.0 * 0.5f64.ln() + 3.0 * 3f64.ln() - 6.0 - 2f64.ln();
        assert!((lp - want).abs() < 1e-12, "{lp} vs {want}");
        assert!(g.iter().flatten().all(|v| v.is_finite()), "{g:?}");
        // ∂/∂μ₂ = Σ (x/μ − 1) = 1/3 + 2/3 − 2; ∂/∂w₂ = Σ 1/w₂ = 4; ∂/∂μ₁ = ∂/∂w₁ = 0
        // (responsibility 0).
        assert!((g[2][1] + 1.0).abs() < 1e-15 && (g[1][1] - 4.0).abs() < 1e-14, "{g:?}");
        assert_eq!((g[2][0], g[1][0]), (0.0, 0.0));
        // An exponential rate of 0 is −∞ with `∂/∂λ = 1/λ − x = ∞` from the component itself:
        // only the responsibility guard keeps it out of the gradient.
        let mut g = vec![vec![0.0; 2], vec![0.0; 2], vec![0.0; 2]];
        let lp = DistKind::ExponentialMixture.vec_lpdf_grad(&[&x, &w, &[0.0, 1.0]], Some(&mut g));
        assert!((lp - (2.0 * 0.5f64.ln() - 3.0)).abs() < 1e-12, "{lp}");
        assert!(g.iter().flatten().all(|v| v.is_finite()) && g[2][0] == 0.0, "{g:?}");
        // A count of 0 where a rate underflowed to 0 has probability 1: `∂/∂μ = −1`, not NaN.
        let mut g = vec![vec![0.0; 1], vec![0.0; 2], vec![0.0; 2]];
        DistKind::PoissonMixture.vec_lpdf_grad(&[&[0.0], &w, &[0.0, 3.0]], Some(&mut g));
        assert!(g.iter().flatten().all(|v| v.is_finite()), "{g:?}");
    }
}
