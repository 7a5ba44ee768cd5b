//! Dirichlet(alpha): a density over the simplex.

use rand::Rng;
use rand_distr::Distribution;
use statrs::function::gamma::digamma;

use super::vector::{VecCode, VecFamily, add_at, at};
use super::{Dist, Domain, Support};
use crate::model::expr::Expr;

/// Dirichlet distribution over the simplex of `K` categories, with concentrations `alpha > 0`.
///
/// `log p(x) = lnΓ(Σα) − Σ lnΓ(αᵢ) + Σ (αᵢ − 1) ln xᵢ`.
///
/// `alpha` of length `K` gives a `K`-vector; a node of `B·K` values holds `B` independent
/// simplexes, row by row (`Model::rv_vec`). A scalar `alpha` is symmetric: the length then
/// comes from `Model::rv_vec`. Free Dirichlet variables are sampled through the
/// additive-log-ratio simplex transform (`Transform::Simplex`).
///
/// ```
/// use exmc::prelude::*;
/// let mut m = Model::new();
/// let p = m.rv("p", Dirichlet::new(vec![1.0, 1.0, 1.0]))?;
/// m.observe("y", Categorical::new(p), &[0.0, 2.0, 2.0, 1.0, 2.0])?;
/// # Ok::<(), exmc::Error>(())
/// ```
#[derive(Clone, Copy, Debug)]
pub struct Dirichlet;

impl Dirichlet {
    /// `Dirichlet(alpha)`.
    #[allow(clippy::new_ret_no_self)]
    pub fn new(alpha: impl Into<Expr>) -> Dist {
        Dist { kind: super::DistKind::Dirichlet, params: vec![alpha.into()] }
    }
}

/// Categories per simplex: `alpha`'s length, or the value's for a scalar `alpha`.
pub(crate) fn categories(n: usize, alpha_len: usize) -> usize {
    if alpha_len == 1 { n } else { alpha_len }
}

/// Largest deviation of a simplex's sum from 1 accepted in data.
const SUM_TOLERANCE: f64 = 1e-6;

impl VecFamily for Dirichlet {
    const NAME: &'static str = "dirichlet";
    const PARAMS: &'static [(&'static str, Domain)] = &[("alpha", Domain::Positive)];
    const SUPPORT: Support = Support::Simplex;
    const MATRIX_PARAMS: bool = false;

    fn value_len(lens: &[usize], _consts: &[Option<&[f64]>]) -> Result<usize, String> {
        match lens[0] {
            1 => Err("a Dirichlet with a scalar alpha needs its length (Model::rv_vec; one simplex \
                      of that length)"
                .into()),
            k => Ok(k),
        }
    }

    fn draw_len(n: usize, lens: &[usize], _consts: &[Option<&[f64]>]) -> Option<usize> {
        Some(categories(n, lens[0]))
    }

    fn accepts_len(n: usize, lens: &[usize], _consts: &[Option<&[f64]>]) -> Result<(), String> {
        let k = categories(n, lens[0]);
        if k < 2 {
            return Err("a Dirichlet needs at least 2 categories".into());
        }
        if !n.is_multiple_of(k) || n == 0 {
            return Err(format!("{n} values are not whole simplexes of {k} categories"));
        }
        Ok(())
    }

    fn check_value(x: &[f64], lens: &[usize], _p: &[Option<&[f64]>]) -> Result<(), (usize, String)> {
        if let Some(i) = x.iter().position(|&v| !(v > 0.0 && v < 1.0)) {
            return Err((i, "must lie in (0, 1)".into()));
        }
        let k = categories(x.len(), lens[0]);
        for (r, row) in x.chunks(k).enumerate() {
            let s: f64 = row.iter().sum();
            if (s - 1.0).abs() > SUM_TOLERANCE {
                return Err((r * k, format!("a simplex must sum to 1 (this one sums to {s})")));
            }
        }
        Ok(())
    }

    fn lpdf_grad(args: &[&[f64]], grads: Option<&mut [Vec<f64>]>) -> f64 {
        let (x, alpha) = (args[0], args[1]);
        let k = categories(x.len(), alpha.len());
        let (sum_a, lg): (f64, f64) = (0..k).map(|i| (at(alpha, i), libm::lgamma(at(alpha, i)))).fold(
            (0.0, 0.0),
            |(s, l), (a, g)| (s + a, l + g),
        );
        let rows = x.len() / k;
        let mut lp = rows as f64 * (libm::lgamma(sum_a) - lg);
        let d_sum = digamma(sum_a);
        let mut grads = grads;
        for (r, row) in x.chunks(k).enumerate() {
            for (i, &xi) in row.iter().enumerate() {
                let a = at(alpha, i);
                let ln_x = xi.ln();
                lp += (a - 1.0) * ln_x;
                if let Some(g) = grads.as_deref_mut() {
                    g[0][r * k + i] += (a - 1.0) / xi;
                    add_at(&mut g[1], i, d_sum - digamma(a) + ln_x);
                }
            }
        }
        lp
    }

    fn wgsl(c: &VecCode) -> String {
        let k = categories(c.lens[0], c.lens[1]);
        let rows = c.lens[0] / k;
        let (sa, lg, lp, da) = (c.n("sa"), c.n("lg"), c.n("lp"), c.n("da"));
        let (i, r) = (c.n("i"), c.n("r"));
        let idx = format!("{r} * {k}u + {i}");
        let a = c.a(1, &i);
        let x = c.a(0, &idx);
        format!(
            "{{ var {sa} = real(0.0); var {lg} = real(0.0); \
             for (var {i} = 0u; {i} < {k}u; {i}++) {{ {sa} += {a}; {lg} += lgamma({a}); }} \
             var {lp} = real({rows}.0) * (lgamma({sa}) - {lg}); let {da} = {dsum}; \
             for (var {r} = 0u; {r} < {rows}u; {r}++) {{ for (var {i} = 0u; {i} < {k}u; {i}++) {{ \
             let a = {a}; let x = {x}; let lx = ln_r(x); {lp} += (a - real(1.0)) * lx; {gx} {ga} }} }} \
             {out} = {lp}; }}",
            dsum = if c.wants(1) { format!("digamma({sa})") } else { "real(0.0)".into() },
            gx = c.add(0, &idx, "(a - real(1.0)) / x"),
            ga = c.add(1, &i, &format!("{da} - digamma(a) + lx")),
            out = c.out,
        )
    }

    fn sample<R: Rng + ?Sized>(p: &[&[f64]], out: &mut [f64], rng: &mut R) {
        let k = categories(out.len(), p[0].len());
        for row in out.chunks_mut(k) {
            if (0..k).all(|i| at(p[0], i) >= 1.0) {
                for (i, v) in row.iter_mut().enumerate() {
                    *v = rand_distr::Gamma::new(at(p[0], i), 1.0).map_or(f64::NAN, |g| g.sample(rng));
                }
                let s: f64 = row.iter().sum();
                row.iter_mut().for_each(|v| *v /= s);
                continue;
            }
            // Below 1 a Gamma draw may underflow to 0 (every component of a row, at
            // concentrations near 0.003): the logs of the draws instead, by Marsaglia and
            // Tsang's boost `Gamma(a) = Gamma(a + 1) U^{1/a}`, normalised in log space.
            for (i, v) in row.iter_mut().enumerate() {
                let a = at(p[0], i);
                *v = rand_distr::Gamma::new(a + 1.0, 1.0).map_or(f64::NAN, |g| {
                    let u = 1.0 - super::std_uniform(rng);
                    g.sample(rng).ln() + u.ln() / a
                });
            }
            let m = row.iter().copied().fold(f64::NEG_INFINITY, f64::max);
            let s: f64 = row.iter().map(|v| (v - m).exp()).sum();
            row.iter_mut().for_each(|v| *v = (*v - m).exp() / s);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    /// Concentrations below 1 are drawn in log space: the draws' means and variances are the
    /// Dirichlet's (within 4 standard errors), and a row at 0.003 sums to 1 with no NaN.
    #[test]
    fn small_concentrations_draw_the_dirichlet() {
        let alpha = [0.3, 0.05, 2.0];
        let n = 200_000;
        let mut out = vec![0.0; 3 * n];
        let mut rng = rand::rngs::StdRng::seed_from_u64(3);
        Dirichlet::sample(&[&alpha], &mut out, &mut rng);
        let total: f64 = alpha.iter().sum();
        for (i, a) in alpha.iter().enumerate() {
            let x: Vec<f64> = out.chunks(3).map(|r| r[i]).collect();
            let mean = x.iter().sum::<f64>() / n as f64;
            let var = x.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (n - 1) as f64;
            let want_var = a * (total - a) / (total * total * (total + 1.0));
            assert!((mean - a / total).abs() < 4.0 * (want_var / n as f64).sqrt(), "{i}: mean {mean}");
            assert!((var / want_var - 1.0).abs() < 0.03, "{i}: var {var} vs {want_var}");
        }
        let mut row = [0.0; 3];
        Dirichlet::sample(&[&[0.003; 3]], &mut row, &mut rng);
        assert!(row.iter().all(|v| v.is_finite()) && (row.iter().sum::<f64>() - 1.0).abs() < 1e-12, "{row:?}");
    }
}
