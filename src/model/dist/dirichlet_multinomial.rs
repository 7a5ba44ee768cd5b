//! DirichletMultinomial(n, a): multinomial counts whose probabilities are Dirichlet(a).

use rand::Rng;
use rand_distr::Distribution;
use statrs::function::gamma::digamma;

use super::multinomial::{check_counts, draw, layout, ln_coefficient, wgsl_coefficient};
use super::vector::{VecCode, VecFamily, at};
use super::{Dist, Domain, Support};
use crate::model::expr::Expr;

/// Dirichlet-multinomial distribution: the counts of `n` trials (data, a whole number) over `K`
/// categories whose probabilities are `Dirichlet(a)` distributed, integrated out (PyMC's
/// `DirichletMultinomial(n, a)`): overdispersed multinomial counts. Observed only.
///
/// `log p(x) = ln n! − Σₖ ln xₖ! + lnΓ(A) − lnΓ(n + A) + Σₖ [lnΓ(xₖ + aₖ) − lnΓ(aₖ)]`,
/// `A = Σₖ aₖ`. Each difference `lnΓ(a + x) − lnΓ(a)` is the rising factorial's logarithm
/// `Σⱼ₌₀ˣ⁻¹ ln(a + j)` below 16 counts and Stirling's series for the difference from
/// `a = 10` (no cancellation between two large log-gammas, which matters in f32 when `a` or
/// `A` is large), the two log-gammas otherwise.
///
/// The layout is the [`Multinomial`](super::Multinomial)'s: a node of `B·K` counts holds `B`
/// draws, row by row; `n` shared or one per draw; `a` a `K`-vector shared by the draws or a
/// `B × K` matrix, a row per draw. Each draw's counts must sum to its `n`.
///
/// ```
/// use exmc::prelude::*;
/// let mut m = Model::new();
/// let frac = m.rv("frac", Dirichlet::new(vec![1.0, 1.0, 1.0]))?;
/// let conc = m.rv("conc", LogNormal::new(1.0, 1.0))?;
/// let counts = [2.0, 5.0, 3.0, 0.0, 9.0, 1.0];
/// m.observe("counts", DirichletMultinomial::new(10.0, frac * conc), &counts)?;
/// # Ok::<(), exmc::Error>(())
/// ```
#[derive(Clone, Copy, Debug)]
pub struct DirichletMultinomial;

impl DirichletMultinomial {
    /// `DirichletMultinomial(n, a)`.
    #[allow(clippy::new_ret_no_self)]
    pub fn new(n: impl Into<Expr>, a: impl Into<Expr>) -> Dist {
        Dist { kind: super::DistKind::DirichletMultinomial, params: vec![n.into(), a.into()] }
    }
}

/// Counts below which a rising factorial is summed term by term.
const RISING_TERMS: f64 = 16.0;

/// Concentrations from which more counts take Stirling's series for the difference.
const STIRLING_FROM: f64 = 10.0;

/// `ln Γ(a + x) − ln Γ(a)` for a whole `x ≥ 0` and `a > 0`: the sum of `ln(a + j)` below 16
/// counts; from `a = 10`, Stirling's series for the difference,
/// `(a − ½) ln(1 + x/a) + x (ln(a + x) − 1) + S(a + x) − S(a)` with
/// `S(z) = 1/(12z) − 1/(360z³) + 1/(1260z⁵) − 1/(1680z⁷)` (error below 1e-12), which never
/// forms the two large log-gammas (in f32 their difference would keep `a·ε` of error); the
/// log-gammas otherwise.
pub(crate) fn ln_rising(a: f64, x: f64) -> f64 {
    if x < RISING_TERMS {
        (0..x as usize).map(|j| (a + j as f64).ln()).sum()
    } else if a >= STIRLING_FROM {
        let s = |z: f64| {
            let r = 1.0 / (z * z);
            (1.0 / 12.0 - r * (1.0 / 360.0 - r * (1.0 / 1260.0 - r / 1680.0))) / z
        };
        (a - 0.5) * (x / a).ln_1p() + x * ((a + x).ln() - 1.0) + (s(a + x) - s(a))
    } else {
        libm::lgamma(a + x) - libm::lgamma(a)
    }
}

/// `ψ(a + x) − ψ(a)`, the partial of [`ln_rising`] in `a`, in the same three forms: from
/// `a = 10`, `ln(1 + x/a) + x/(2a(a + x)) − T(a + x) + T(a)` with
/// `T(z) = 1/(12z²) − 1/(120z⁴) + 1/(252z⁶) − 1/(240z⁸)`.
pub(crate) fn digamma_rising(a: f64, x: f64) -> f64 {
    if x < RISING_TERMS {
        (0..x as usize).map(|j| 1.0 / (a + j as f64)).sum()
    } else if a >= STIRLING_FROM {
        let t = |z: f64| {
            let r = 1.0 / (z * z);
            r * (1.0 / 12.0 - r * (1.0 / 120.0 - r * (1.0 / 252.0 - r / 240.0)))
        };
        (x / a).ln_1p() + x / (2.0 * a * (a + x)) - t(a + x) + t(a)
    } else {
        digamma(a + x) - digamma(a)
    }
}

impl VecFamily for DirichletMultinomial {
    const NAME: &'static str = "dirichlet_multinomial";
    const PARAMS: &'static [(&'static str, Domain)] = &[("n", Domain::Count), ("a", Domain::Positive)];
    const SUPPORT: Support = Support::Count;

    super::multinomial::count_rules!("Dirichlet-multinomial", "a");

    fn check_value(x: &[f64], lens: &[usize], p: &[Option<&[f64]>]) -> Result<(), (usize, String)> {
        check_counts(x, lens, p[0], "a").map(|_| ())
    }

    fn lpdf_grad(args: &[&[f64]], grads: Option<&mut [Vec<f64>]>) -> f64 {
        let (x, n, a) = (args[0], args[1], args[2]);
        let Ok((rows, k)) = layout(x.len(), n.len(), a.len(), "a") else { return f64::NAN };
        let mut lp = 0.0;
        let mut grads = grads;
        for r in 0..rows {
            let xr = &x[r * k..(r + 1) * k];
            let off = if a.len() == x.len() { r * k } else { 0 };
            let ar = &a[off..off + k];
            let nr = at(n, r);
            if xr.iter().sum::<f64>() != nr {
                return f64::NEG_INFINITY;
            }
            let total: f64 = ar.iter().sum();
            lp += ln_coefficient(nr, xr) - ln_rising(total, nr);
            let d_total = if grads.is_some() { digamma_rising(total, nr) } else { 0.0 };
            for (i, (&c, &ai)) in xr.iter().zip(ar).enumerate() {
                lp += ln_rising(ai, c);
                if let Some(g) = grads.as_deref_mut() {
                    g[2][off + i] += digamma_rising(ai, c) - d_total;
                }
            }
        }
        lp
    }

    fn wgsl(c: &VecCode) -> String {
        let Ok((rows, k)) = layout(c.lens[0], c.lens[1], c.lens[2], "a") else {
            return format!("{} = nan_r();", c.out);
        };
        let (lp, tot, s, r, i, dt) = (c.n("lp"), c.n("tot"), c.n("s"), c.n("r"), c.n("i"), c.n("dt"));
        let ai = if c.lens[2] == c.lens[0] { format!("{r} * {k}u + {i}") } else { i.clone() };
        let x = c.a(0, &format!("{r} * {k}u + {i}"));
        let a = c.a(2, &ai);
        let n = c.n("nr");
        let d_total =
            if c.wants(2) { format!("digamma_rising({tot}, {n})") } else { "real(0.0)".into() };
        format!(
            "{{ var {lp} = real(0.0); for (var {r} = 0u; {r} < {rows}u; {r}++) {{ let {n} = {nr}; \
             var {tot} = real(0.0); for (var {i} = 0u; {i} < {k}u; {i}++) {{ {tot} += {a}; }} \
             {lp} -= ln_rising({tot}, {n}); {coef} let {dt} = {d_total}; \
             for (var {i} = 0u; {i} < {k}u; {i}++) {{ let c = {x}; let ak = {a}; \
             {lp} += ln_rising(ak, c); {ga} }} }} \
             {out} = {lp}; }}",
            nr = c.a(1, &r),
            coef = wgsl_coefficient(&lp, &n, &x, &i, &s, k),
            ga = c.add(2, &ai, &format!("digamma_rising(ak, c) - {dt}")),
            out = c.out,
        )
    }

    fn sample<R: Rng + ?Sized>(p: &[&[f64]], out: &mut [f64], rng: &mut R) {
        let (n, a) = (p[0], p[1]);
        let Ok((_, k)) = layout(out.len(), n.len(), a.len(), "a") else { return out.fill(f64::NAN) };
        let full = out.len();
        let mut probs = vec![0.0; k];
        for (r, row) in out.chunks_mut(k).enumerate() {
            let off = if a.len() == full { r * k } else { 0 };
            for (q, &ai) in probs.iter_mut().zip(&a[off..off + k]) {
                *q = rand_distr::Gamma::new(ai, 1.0).map_or(f64::NAN, |g| g.sample(rng));
            }
            if probs.iter().all(|&q| q == 0.0) {
                // Every gamma draw underflowed (all `a` tiny): the Dirichlet's limit, a vertex
                // chosen with probabilities `a / A`.
                let at = super::categorical::draw(&a[off..off + k], rng) as usize;
                probs.iter_mut().enumerate().for_each(|(i, q)| *q = f64::from(u8::from(i == at)));
            }
            draw(at(n, r), &probs, row, rng);
        }
    }
}
