//! What the ordinal families share (OrderedLogistic, OrderedProbit): an outcome
//! `y ∈ {0, …, K − 1}` counts the `K − 1` increasing cut points `c` below a latent `η + ε`,
//! with `ε` of a standard law whose CDF is `F` (the link), so `P(y = k) = F(β) − F(α)` with
//! `α = cₖ₋₁ − η` and `β = cₖ − η` (`c₋₁ = −∞`, `c_{K−1} = ∞`). The shape rules, checks, density
//! loop, its WGSL and the sampler are written here once; each family gives its link.

use rand::Rng;

use super::categorical::category;
use super::vector::{VecCode, add_at, at};
use crate::model::bijector::first_not_increasing;

/// The latent variable's standard law.
pub(crate) trait Link {
    /// The WGSL function (in `shaders/special.wgsl`) `fn(alpha, beta, lo, hi) -> vec4<real>`
    /// that mirrors [`mass`](Self::mass).
    const WGSL_MASS: &'static str;

    /// `(ln(F(β) − F(α)), ∂/∂α, ∂/∂β, ∂/∂α + ∂/∂β)` for `α < β`, where `lo`/`hi` say whether
    /// each bound exists (a missing one is ∓∞, passed as 0, its partial 0). The sum is formed
    /// without cancellation: a thin category's two partials are large and nearly opposite.
    fn mass(alpha: f64, beta: f64, lo: bool, hi: bool) -> [f64; 4];

    /// One draw of the standard latent variable.
    fn draw<R: Rng + ?Sized>(rng: &mut R) -> f64;
}

/// Any number of outcomes and at least one cut point (validation checks that `eta`, an
/// aligned parameter, has one value per outcome or is a scalar).
pub(crate) fn accepts_len(n: usize, lens: &[usize]) -> Result<(), String> {
    if n == 0 {
        Err("no observations".into())
    } else if lens[1] == 0 {
        Err("no cut points".into())
    } else {
        Ok(())
    }
}

/// Constant cut points must increase.
pub(crate) fn check_params(p: &[Option<&[f64]>]) -> Result<(), String> {
    let Some(c) = p[1] else { return Ok(()) };
    match first_not_increasing(c) {
        Some(i) => Err(format!(
            "the cut points must increase: cutpoints[{}] = {} follows cutpoints[{i}] = {}",
            i + 1,
            c[i + 1],
            c[i]
        )),
        None => Ok(()),
    }
}

/// Outcomes are categories `0..K`, `K` one more than the cut points.
pub(crate) fn check_value(x: &[f64], lens: &[usize]) -> Result<(), (usize, String)> {
    let k = lens[1] + 1;
    match x.iter().position(|&y| category(y, k).is_none()) {
        Some(i) => Err((i, format!("categories are whole numbers in 0..{k} ({} cut points)", lens[1]))),
        None => Ok(()),
    }
}

/// `Σ ln(F(β) − F(α))` over the outcomes `args[0]` given `eta` and the cut points; with
/// `[l, dα, dβ, dα + dβ]` from the link: `∂/∂η = −(dα + dβ)`, `∂/∂cₖ₋₁ = dα`, `∂/∂cₖ = dβ`.
/// Cut points that do not increase give −∞, whatever the outcomes (some category would have a
/// negative probability), as PyMC's check of the probabilities does.
pub(crate) fn lpdf_grad<L: Link>(args: &[&[f64]], grads: Option<&mut [Vec<f64>]>) -> f64 {
    let (y, eta, c) = (args[0], args[1], args[2]);
    if first_not_increasing(c).is_some() {
        return f64::NEG_INFINITY;
    }
    let last = c.len();
    let mut grads = grads;
    let mut lp = 0.0;
    for (i, &yi) in y.iter().enumerate() {
        let Some(k) = category(yi, last + 1) else { return f64::NAN };
        let e = at(eta, i);
        let (lo, hi) = (k > 0, k < last);
        let alpha = if lo { c[k - 1] - e } else { 0.0 };
        let beta = if hi { c[k] - e } else { 0.0 };
        let [l, da, db, sum] = L::mass(alpha, beta, lo, hi);
        lp += l;
        if let Some(g) = grads.as_deref_mut() {
            add_at(&mut g[1], i, -sum);
            if lo {
                g[2][k - 1] += da;
            }
            if hi {
                g[2][k] += db;
            }
        }
    }
    lp
}

/// The same as [`lpdf_grad`] in WGSL, calling the link's [`Link::WGSL_MASS`].
pub(crate) fn wgsl<L: Link>(c: &VecCode) -> String {
    let (n, last) = (c.lens[0], c.lens[2]);
    let [lp, i, j, up, y, e, lo, hi, m] = ["lp", "i", "j", "up", "y", "e", "lo", "hi", "m"].map(|s| c.n(s));
    let cut = |k: &str| (c.arg)(2, k);
    let lower = c.add(2, &format!("{y} - 1u"), &format!("{m}.y"));
    let upper = c.add(2, &y, &format!("{m}.z"));
    // The cut points below and above outcome `y`, read inside the array at either end.
    format!(
        "{{ var {lp} = real(0.0); var {up} = true; \
         for (var {j} = 1u; {j} < {last}u; {j}++) {{ {up} = {up} && {cj} > {cj1}; }} \
         for (var {i} = 0u; {i} < {n}u && {up}; {i}++) {{ \
         let {y} = min(u32({x}), {last}u); let {e} = {eta}; let {lo} = {y} > 0u; let {hi} = {y} < {last}u; \
         let {m} = {mass}(select(real(0.0), {cl} - {e}, {lo}), select(real(0.0), {ch} - {e}, {hi}), {lo}, {hi}); \
         {lp} += {m}.x; {ge} if ({lo}) {{ {lower} }} if ({hi}) {{ {upper} }} }} \
         {out} = select(neg_inf(), {lp}, {up}); }}",
        cj = cut(&j),
        cj1 = cut(&format!("{j} - 1u")),
        x = c.a(0, &i),
        eta = c.a(1, &i),
        cl = cut(&format!("max({y}, 1u) - 1u")),
        ch = cut(&format!("min({y}, {}u)", last - 1)),
        mass = L::WGSL_MASS,
        ge = c.add(1, &i, &format!("-{m}.w")),
        out = c.out,
    )
}

/// `y` counts the cut points below a latent draw `η + ε`: `P(y > k) = 1 − F(cₖ − η)`.
pub(crate) fn sample<L: Link, R: Rng + ?Sized>(p: &[&[f64]], out: &mut [f64], rng: &mut R) {
    let (eta, c) = (p[0], p[1]);
    for (i, v) in out.iter_mut().enumerate() {
        let z = at(eta, i) + L::draw(rng);
        *v = c.iter().filter(|&&ck| z > ck).count() as f64;
    }
}

/// The [`VecFamily`](super::vector::VecFamily) items every ordinal family shares, given its
/// link: observed only, outcomes elementwise with `eta` aligned to them, one set of cut points.
macro_rules! ordinal_rules {
    ($link:ty) => {
        const SUPPORT: Support = Support::Category;
        const MATRIX_PARAMS: bool = false;
        const ALIGNED_PARAMS: &'static [usize] = &[0];

        fn value_len(_lens: &[usize], _consts: &[Option<&[f64]>]) -> Result<usize, String> {
            Err(format!("{} is observed only: the data give its length", Self::NAME))
        }

        fn accepts_len(n: usize, lens: &[usize], _consts: &[Option<&[f64]>]) -> Result<(), String> {
            super::ordinal::accepts_len(n, lens)
        }

        fn check_params(p: &[Option<&[f64]>]) -> Result<(), String> {
            super::ordinal::check_params(p)
        }

        fn check_value(x: &[f64], lens: &[usize], _p: &[Option<&[f64]>]) -> Result<(), (usize, String)> {
            super::ordinal::check_value(x, lens)
        }

        fn lpdf_grad(args: &[&[f64]], grads: Option<&mut [Vec<f64>]>) -> f64 {
            super::ordinal::lpdf_grad::<$link>(args, grads)
        }

        fn wgsl(c: &VecCode) -> String {
            super::ordinal::wgsl::<$link>(c)
        }

        fn sample<R: Rng + ?Sized>(p: &[&[f64]], out: &mut [f64], rng: &mut R) {
            super::ordinal::sample::<$link, R>(p, out, rng)
        }
    };
}
pub(crate) use ordinal_rules;

#[cfg(test)]
mod tests {
    use super::super::DistKind;

    /// Cut points out of order give −∞ on either link even when every outcome lies in an end
    /// category, whose own mass would be finite: a middle category's is negative.
    #[test]
    fn cut_points_out_of_order_have_no_density() {
        for kind in [DistKind::OrderedLogistic, DistKind::OrderedProbit] {
            let (y, eta) = ([0.0, 2.0], [0.3]);
            assert!(kind.vec_lpdf_grad(&[&y, &eta, &[-1.0, 1.0]], None).is_finite());
            assert_eq!(kind.vec_lpdf_grad(&[&y, &eta, &[1.0, -1.0]], None), f64::NEG_INFINITY);
        }
    }
}
