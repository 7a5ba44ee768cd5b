//! Multinomial(n, p): the counts of `n` trials over `K` categories.

use rand::Rng;
use rand_distr::Distribution;

use super::vector::{VecCode, VecFamily, at};
use super::{Dist, Domain, Support, is_count};
use crate::model::expr::Expr;

/// Multinomial distribution: the counts of `n` independent trials (data, a whole number) over
/// `K` categories of probabilities `p` (PyMC's `Multinomial(n, p)`). Observed only.
///
/// `log p(x) = ln n! − Σₖ ln xₖ! + Σₖ xₖ ln pₖ − n ln Σₖ pₖ`, with `0 · ln 0 = 0`.
///
/// `p` is normalised row by row, as a categorical's is: any non-negative weights work, so
/// `exp(eta)` gives the softmax of `eta` (a multinomial logistic regression) without forming
/// it, as long as `exp` neither overflows nor underflows for a whole row (`|eta|` below about
/// 700, 88 in f32 kernels; nothing subtracts the row's largest `eta` first).
///
/// A node of `B·K` counts holds `B` draws, row by row; `n` is one number shared by the
/// draws or one per draw, and `p` is a `K`-vector shared by the draws or a `B × K` matrix, a
/// row per draw (a matrix `p` with one `n` repeats `n` for every row). Each draw's counts must
/// sum to its `n`, and where `p` is constant, no category of probability zero may be
/// observed: both are model errors naming the observation.
///
/// ```
/// use exmc::prelude::*;
/// let mut m = Model::new();
/// let p = m.rv("p", Dirichlet::new(vec![1.0, 1.0, 1.0]))?;
/// // Two draws of 10 trials each.
/// m.observe("votes", Multinomial::new(10.0, p), &[2.0, 5.0, 3.0, 1.0, 6.0, 3.0])?;
/// # Ok::<(), exmc::Error>(())
/// ```
#[derive(Clone, Copy, Debug)]
pub struct Multinomial;

impl Multinomial {
    /// `Multinomial(n, p)`.
    #[allow(clippy::new_ret_no_self)]
    pub fn new(n: impl Into<Expr>, p: impl Into<Expr>) -> Dist {
        Dist { kind: super::DistKind::Multinomial, params: vec![n.into(), p.into()] }
    }
}

/// Draws and categories, `(B, K)`, of a value of `len` counts given `n_len` trial numbers and a
/// parameter `name` of `p_len` values (`K` shared by the draws or one row of `K` per draw): one
/// draw per `n` when there are several, else `len / p_len` draws. The shape rule the
/// multinomial and the Dirichlet-multinomial share.
pub(crate) fn layout(len: usize, n_len: usize, p_len: usize, name: &str) -> Result<(usize, usize), String> {
    if len == 0 {
        return Err("no observations".into());
    }
    let rows = match n_len {
        0 => return Err("`n` has no values".into()),
        1 if p_len > 0 && len.is_multiple_of(p_len) => len / p_len,
        1 => {
            return Err(format!(
                "{len} counts are not whole draws of the {p_len} categories of `{name}`"
            ));
        }
        b => b,
    };
    if !len.is_multiple_of(rows) {
        return Err(format!("{len} counts are not {rows} draws (one per value of `n`, or per row of `{name}`) of equal length"));
    }
    let k = len / rows;
    if k < 2 {
        return Err(format!("a draw needs at least 2 categories, not {k}"));
    }
    if p_len != k && p_len != len {
        return Err(format!(
            "`{name}` has {p_len} values for {rows} draws of {k} categories: it needs {k} (shared) or \
             {len} (a row per draw)"
        ));
    }
    Ok((rows, k))
}

/// The shape rules both count families share ([`layout`] with their parameter `$param`):
/// observed only, one `n` or one per draw, the parameter shared or a row per draw.
macro_rules! count_rules {
    ($what:literal, $param:literal) => {
        const DRAW_ROWS: &'static [usize] = &[1];

        fn value_len(_lens: &[usize], _consts: &[Option<&[f64]>]) -> Result<usize, String> {
            Err(concat!("a ", $what, " is observed only: the data give its length").into())
        }

        fn draw_len(n: usize, lens: &[usize], _consts: &[Option<&[f64]>]) -> Option<usize> {
            super::multinomial::layout(n, lens[0], lens[1], $param).ok().map(|(_, k)| k)
        }

        fn accepts_len(n: usize, lens: &[usize], _consts: &[Option<&[f64]>]) -> Result<(), String> {
            super::multinomial::layout(n, lens[0], lens[1], $param).map(|_| ())
        }

        fn split_per_draw(j: usize, len: usize, n: usize, draws: usize) -> bool {
            draws > 1 && len == if j == 0 { draws } else { n }
        }
    };
}
pub(crate) use count_rules;

/// Data checks shared with the Dirichlet-multinomial: whole counts ≥ 0, and each draw's
/// counts summing to its `n` where `n` is constant. Errors name the first bad element.
pub(crate) fn check_counts(
    x: &[f64],
    lens: &[usize],
    n: Option<&[f64]>,
    name: &str,
) -> Result<(usize, usize), (usize, String)> {
    let (rows, k) = layout(x.len(), lens[0], lens[1], name).map_err(|e| (0, e))?;
    if let Some(i) = x.iter().position(|&v| !is_count(v)) {
        return Err((i, "counts are whole numbers ≥ 0".into()));
    }
    if let Some(n) = n {
        for r in 0..rows {
            let sum: f64 = x[r * k..(r + 1) * k].iter().sum();
            if sum != at(n, r) {
                return Err((r * k, format!("draw {r}'s counts sum to {sum}, not to its n = {}", at(n, r))));
            }
        }
    }
    Ok((rows, k))
}

/// `ln n! − Σₖ ln xₖ!` of one draw.
pub(crate) fn ln_coefficient(n: f64, x: &[f64]) -> f64 {
    libm::lgamma(n + 1.0) - x.iter().map(|&v| libm::lgamma(v + 1.0)).sum::<f64>()
}

/// WGSL statements adding `ln n! − Σₖ ln xₖ!` of draw `r` into `lp`, given the expressions of
/// `n` and of count `i` (in a loop over `i` it writes), and `−∞` where the counts do not sum to
/// `n`.
pub(crate) fn wgsl_coefficient(lp: &str, n: &str, x: &str, i: &str, s: &str, k: usize) -> String {
    format!(
        "var {s} = real(0.0); {lp} += lgamma({n} + real(1.0)); \
         for (var {i} = 0u; {i} < {k}u; {i}++) {{ let c = {x}; {s} += c; {lp} -= lgamma(c + real(1.0)); }} \
         if ({s} != {n}) {{ {lp} = neg_inf(); }}"
    )
}

/// Draws `n` trials over weights `p` (not necessarily normalised) into `out`: a binomial per
/// category, of the trials left, with that category's share of the weight left (the weight
/// left summed afresh, so that the last category of positive weight takes all trials left).
pub(crate) fn draw<R: Rng + ?Sized>(n: f64, p: &[f64], out: &mut [f64], rng: &mut R) {
    let mut left = n;
    for (i, o) in out.iter_mut().enumerate() {
        let weight: f64 = p[i..].iter().sum();
        // A NaN weight makes a NaN draw, for the caller's check to name.
        let share = if weight.is_nan() { f64::NAN } else if weight > 0.0 { (p[i] / weight).clamp(0.0, 1.0) } else { 0.0 };
        let c = match rand_distr::Binomial::new(left as u64, share) {
            Ok(b) if share.is_finite() => b.sample(rng) as f64,
            _ => f64::NAN,
        };
        *o = c;
        left -= c;
    }
}

impl VecFamily for Multinomial {
    const NAME: &'static str = "multinomial";
    const PARAMS: &'static [(&'static str, Domain)] = &[("n", Domain::Count), ("p", Domain::NonNegative)];
    const SUPPORT: Support = Support::Count;

    count_rules!("multinomial", "p");

    fn check_params(p: &[Option<&[f64]>]) -> Result<(), String> {
        match p[1] {
            Some(w) if w.iter().all(|&v| v == 0.0) => Err("the probabilities `p` are all zero".into()),
            _ => Ok(()),
        }
    }

    fn check_value(x: &[f64], lens: &[usize], p: &[Option<&[f64]>]) -> Result<(), (usize, String)> {
        let (rows, k) = check_counts(x, lens, p[0], "p")?;
        let Some(w) = p[1] else { return Ok(()) };
        for r in 0..rows {
            let row = if w.len() == x.len() { &w[r * k..(r + 1) * k] } else { w };
            if row.iter().all(|&v| v == 0.0) {
                return Err((r * k, format!("draw {r}'s probabilities are all zero")));
            }
            if let Some(i) = (0..k).find(|&i| x[r * k + i] > 0.0 && row[i] == 0.0) {
                return Err((r * k + i, format!("category {i} has probability 0 in `p`")));
            }
        }
        Ok(())
    }

    fn lpdf_grad(args: &[&[f64]], grads: Option<&mut [Vec<f64>]>) -> f64 {
        let (x, n, p) = (args[0], args[1], args[2]);
        let Ok((rows, k)) = layout(x.len(), n.len(), p.len(), "p") else { return f64::NAN };
        let mut lp = 0.0;
        let mut grads = grads;
        for r in 0..rows {
            let xr = &x[r * k..(r + 1) * k];
            let off = if p.len() == x.len() { r * k } else { 0 };
            let pr = &p[off..off + k];
            let nr = at(n, r);
            if xr.iter().sum::<f64>() != nr {
                return f64::NEG_INFINITY;
            }
            let total: f64 = pr.iter().sum();
            lp += ln_coefficient(nr, xr) - nr * total.ln();
            for (i, (&c, &pi)) in xr.iter().zip(pr).enumerate() {
                if c > 0.0 {
                    lp += c * pi.ln();
                }
                if let Some(g) = grads.as_deref_mut() {
                    let own = if c > 0.0 { c / pi } else { 0.0 };
                    g[2][off + i] += own - nr / total;
                }
            }
        }
        lp
    }

    fn wgsl(c: &VecCode) -> String {
        let Ok((rows, k)) = layout(c.lens[0], c.lens[1], c.lens[2], "p") else {
            return format!("{} = nan_r();", c.out);
        };
        let (lp, tot, s, r, i) = (c.n("lp"), c.n("tot"), c.n("s"), c.n("r"), c.n("i"));
        let pi = if c.lens[2] == c.lens[0] { format!("{r} * {k}u + {i}") } else { i.clone() };
        let x = c.a(0, &format!("{r} * {k}u + {i}"));
        let p = c.a(2, &pi);
        let n = c.n("nr");
        format!(
            "{{ var {lp} = real(0.0); for (var {r} = 0u; {r} < {rows}u; {r}++) {{ let {n} = {nr}; \
             var {tot} = real(0.0); for (var {i} = 0u; {i} < {k}u; {i}++) {{ {tot} += {p}; }} \
             {lp} -= {n} * ln_r({tot}); {coef} \
             for (var {i} = 0u; {i} < {k}u; {i}++) {{ let c = {x}; let pk = {p}; \
             var own = real(0.0); if (c > real(0.0)) {{ {lp} += c * ln_r(pk); own = c / pk; }} {gp} }} }} \
             {out} = {lp}; }}",
            nr = c.a(1, &r),
            coef = wgsl_coefficient(&lp, &n, &x, &i, &s, k),
            gp = c.add(2, &pi, &format!("own - {n} / {tot}")),
            out = c.out,
        )
    }

    fn sample<R: Rng + ?Sized>(p: &[&[f64]], out: &mut [f64], rng: &mut R) {
        let (n, w) = (p[0], p[1]);
        let Ok((_, k)) = layout(out.len(), n.len(), w.len(), "p") else { return out.fill(f64::NAN) };
        let full = out.len();
        for (r, row) in out.chunks_mut(k).enumerate() {
            let off = if w.len() == full { r * k } else { 0 };
            draw(at(n, r), &w[off..off + k], row, rng);
        }
    }
}
