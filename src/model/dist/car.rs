//! Car(mu, W, alpha, tau): the conditional autoregressive prior of areal data.

use rand::Rng;

use super::adjacency::{self, PackedWgsl, Spectrum};
use super::mv_normal_cov::cholesky;
use super::vector::{VecCode, VecFamily, add_at, at};
use super::{Dist, Domain, HALF_LN_2PI, Support, std_normal};
use crate::model::expr::Expr;

/// The conditional autoregressive (CAR) distribution of `K` areas (PyMC's `CAR(mu, W, alpha,
/// tau)`): a multivariate normal with mean `mu` and precision `τ(D − αW)`, where `W` is the
/// `K × K` adjacency matrix of the areas (data: symmetric, non-negative weights, zero
/// diagonal, every area with a neighbour) and `D` the diagonal of its row sums. Each area's
/// value given the others is normal about `mu` plus `α` times the weighted mean of its
/// neighbours' deviations, with precision `τDᵢ`. `alpha` lies in `(−1, 1)` (a value there
/// always gives a proper density); `tau > 0`. Both are one value, random or not.
///
/// `log p(x) = (K ln τ + Σ ln Dᵢ + Σ ln(1 − αλᵢ) − K ln 2π)/2 − τ δᵀ(D − αW)δ/2` with
/// `δ = x − mu` and `λ` the eigenvalues of `D^{-1/2} W D^{-1/2}`, computed once when the model
/// is compiled; each evaluation then reads the edges only (`O(K + edges)`). PyMC's `CAR`
/// leaves out the terms that do not depend on the parameters (`Σ ln Dᵢ − K ln 2π`); this is
/// the whole density, so pointwise log-likelihoods of an observed CAR compare across models.
///
/// ```
/// use exmc::prelude::*;
/// # fn main() -> exmc::Result<()> {
/// // Four areas in a ring.
/// let w = vec![
///     0.0, 1.0, 0.0, 1.0, //
///     1.0, 0.0, 1.0, 0.0, //
///     0.0, 1.0, 0.0, 1.0, //
///     1.0, 0.0, 1.0, 0.0,
/// ];
/// let mut m = Model::new();
/// let w = m.data_matrix("W", 4, 4, w)?;
/// let alpha = m.rv("alpha", Beta::new(2.0, 2.0))?;
/// let tau = m.rv("tau", Gamma::new(2.0, 1.0))?;
/// let phi = m.rv("phi", Car::new(0.0, w, alpha, tau))?;
/// let expected = m.data("expected", vec![3.1, 8.0, 5.5, 2.2])?;
/// m.observe("cases", Poisson::new((phi + expected.ln()).exp()), &[4.0, 9.0, 3.0, 2.0])?;
/// # Ok(())
/// # }
/// ```
#[derive(Clone, Copy, Debug)]
pub struct Car;

impl Car {
    /// `Car(mu, W, alpha, tau)`.
    #[allow(clippy::new_ret_no_self)]
    pub fn new(mu: impl Into<Expr>, w: impl Into<Expr>, alpha: impl Into<Expr>, tau: impl Into<Expr>) -> Dist {
        Dist { kind: super::DistKind::Car, params: vec![mu.into(), w.into(), alpha.into(), tau.into()] }
    }
}

/// The precision `τ(D − αW)` of a `K × K` adjacency matrix, row by row.
fn precision(w: &[f64], k: usize, alpha: f64, tau: f64) -> Vec<f64> {
    let mut q: Vec<f64> = w.iter().map(|v| -tau * alpha * v).collect();
    for i in 0..k {
        q[i * k + i] = tau * w[i * k..(i + 1) * k].iter().sum::<f64>();
    }
    q
}

impl VecFamily for Car {
    const NAME: &'static str = "car";
    const PARAMS: &'static [(&'static str, Domain)] =
        &[("mu", Domain::Real), ("W", Domain::Fixed), ("alpha", Domain::Real), ("tau", Domain::Positive)];
    const SUPPORT: Support = Support::Real;

    fn value_len(lens: &[usize], _consts: &[Option<&[f64]>]) -> Result<usize, String> {
        adjacency::side(lens[1])
    }

    fn accepts_len(n: usize, lens: &[usize], consts: &[Option<&[f64]>]) -> Result<(), String> {
        let k = Self::value_len(lens, consts)?;
        if n != k {
            return Err(format!("the value has {n} elements; W is {k} × {k}"));
        }
        if ![1, k].contains(&lens[0]) {
            return Err(format!("mu has {} values; it needs 1 or {k}", lens[0]));
        }
        for (j, name) in [(2, "alpha"), (3, "tau")] {
            if lens[j] != 1 {
                return Err(format!("{name} must be one value (got {})", lens[j]));
            }
        }
        Ok(())
    }

    fn check_params(p: &[Option<&[f64]>]) -> Result<(), String> {
        if let Some(w) = p[1] {
            adjacency::check(w)?;
        }
        match p[2] {
            Some(a) if !a.iter().all(|a| a.abs() < 1.0) => Err(format!("alpha = {} must lie in (−1, 1)", a[0])),
            _ => Ok(()),
        }
    }

    fn check_value(_x: &[f64], _lens: &[usize], _p: &[Option<&[f64]>]) -> Result<(), (usize, String)> {
        Ok(())
    }

    fn prepare(j: usize, value: &[f64]) -> Option<Result<Vec<f64>, String>> {
        (j == 1).then(|| adjacency::pack(value, Spectrum::Normalised))
    }

    /// `∂/∂x = −τ(D − αW)δ = −∂/∂mu`, `∂/∂α = −Σ λᵢ/(1 − αλᵢ)/2 + τ δᵀWδ/2`,
    /// `∂/∂τ = K/(2τ) − δᵀ(D − αW)δ/2`; `W` is data (no partial). Outside `|α| < 1`,
    /// `−∞`.
    fn lpdf_grad(args: &[&[f64]], grads: Option<&mut [Vec<f64>]>) -> f64 {
        let (x, mu, alpha, tau) = (args[0], args[1], args[3][0], args[4][0]);
        let k = x.len();
        // |α| < 1 (PyMC's rule): on a graph that is not bipartite the smallest λ is above −1,
        // and the density would stay finite a little below α = −1.
        if alpha.abs().partial_cmp(&1.0) != Some(std::cmp::Ordering::Less) {
            return f64::NEG_INFINITY;
        }
        adjacency::with_packed(args[2], k, Spectrum::Normalised, |g| {
            let (mut ld, mut dld, mut q) = (0.0, 0.0, 0.0);
            for (i, (&lam, &deg)) in g.lam.iter().zip(g.degree).enumerate() {
                let r = 1.0 - alpha * lam;
                // NaN (an undefined alpha) included.
                if r.partial_cmp(&0.0) != Some(std::cmp::Ordering::Greater) {
                    return f64::NEG_INFINITY;
                }
                ld += r.ln();
                dld -= lam / r;
                let d = x[i] - at(mu, i);
                q += deg * d * d;
            }
            // s = Σ over edges of w δᵢδⱼ: δᵀWδ = 2s.
            let s: f64 = (0..g.edge_count())
                .map(|e| {
                    let (i, j, w) = g.edge(e);
                    w * (x[i] - at(mu, i)) * (x[j] - at(mu, j))
                })
                .sum();
            let quad = q - 2.0 * alpha * s;
            if let Some(gr) = grads {
                for i in 0..k {
                    let d = -tau * g.degree[i] * (x[i] - at(mu, i));
                    gr[0][i] += d;
                    add_at(&mut gr[1], i, -d);
                }
                for e in 0..g.edge_count() {
                    let (i, j, w) = g.edge(e);
                    let (di, dj) = (x[i] - at(mu, i), x[j] - at(mu, j));
                    let c = tau * alpha * w;
                    gr[0][i] += c * dj;
                    gr[0][j] += c * di;
                    add_at(&mut gr[1], i, -c * dj);
                    add_at(&mut gr[1], j, -c * di);
                }
                gr[3][0] += 0.5 * dld + tau * s;
                gr[4][0] += 0.5 * k as f64 / tau - 0.5 * quad;
            }
            0.5 * (k as f64 * tau.ln() + g.constant + ld) - k as f64 * HALF_LN_2PI - 0.5 * tau * quad
        })
    }

    fn wgsl(c: &VecCode) -> String {
        let k = c.lens[0];
        let g = PackedWgsl::new(c, 2, k);
        let Some(m) = g.edge_count() else { return format!("{} = nan_r();", c.out) };
        let (i, e, ld, dld, q, s, a, t, d, di, dj, r) = (
            c.n("i"),
            c.n("e"),
            c.n("ld"),
            c.n("dld"),
            c.n("q"),
            c.n("s"),
            c.n("a"),
            c.n("t"),
            c.n("d"),
            c.n("di"),
            c.n("dj"),
            c.n("r"),
        );
        let (ei, ej) = (c.n("ei"), c.n("ej"));
        let delta = |at: &str| format!("({} - {})", c.a(0, at), c.a(1, at));
        format!(
            "{{ let {a} = {alpha}; let {t} = {tau}; var {ld} = real(0.0); var {dld} = real(0.0); \
             var {q} = real(0.0); var {s} = real(0.0); \
             for (var {i} = 0u; {i} < {k}u; {i}++) {{ let {r} = real(1.0) - {a} * {lam}; \
             {ld} += select(nan_r(), ln_r({r}), {r} > real(0.0) && abs({a}) < real(1.0)); {dld} -= {lam} / {r}; \
             let {d} = {di_}; {q} += {deg} * {d} * {d}; {gx} {gm} }} \
             for (var {e} = 0u; {e} < {m}u; {e}++) {{ let {ei} = u32({edge_i}); let {ej} = u32({edge_j}); \
             let w = {edge_w}; let {di} = {delta_i}; let {dj} = {delta_j}; {s} += w * {di} * {dj}; \
             {gxi} {gxj} {gmi} {gmj} }} \
             {out} = real(0.5) * (real({k}.0) * ln_r({t}) + {constant} + {ld}) - real({c0:?}) \
             - real(0.5) * {t} * ({q} - real(2.0) * {a} * {s}); {ga} {gt} }}",
            alpha = c.a(3, "0u"),
            tau = c.a(4, "0u"),
            lam = g.lam(&i),
            constant = g.constant(),
            deg = g.degree(&i),
            di_ = delta(&i),
            gx = c.add(0, &i, &format!("-{t} * {} * {d}", g.degree(&i))),
            gm = c.add(1, &i, &format!("{t} * {} * {d}", g.degree(&i))),
            edge_i = g.edge(&e, 0),
            edge_j = g.edge(&e, 1),
            edge_w = g.edge(&e, 2),
            delta_i = delta(&ei),
            delta_j = delta(&ej),
            gxi = c.add(0, &ei, &format!("{t} * {a} * w * {dj}")),
            gxj = c.add(0, &ej, &format!("{t} * {a} * w * {di}")),
            gmi = c.add(1, &ei, &format!("-{t} * {a} * w * {dj}")),
            gmj = c.add(1, &ej, &format!("-{t} * {a} * w * {di}")),
            out = c.out,
            c0 = k as f64 * HALF_LN_2PI,
            ga = c.add(3, "0u", &format!("real(0.5) * {dld} + {t} * {s}")),
            gt = c.add(4, "0u", &format!("real(0.5) * real({k}.0) / {t} - real(0.5) * ({q} - real(2.0) * {a} * {s})")),
        )
    }

    /// `mu + L⁻ᵀz` with `L Lᵀ = τ(D − αW)` (a Cholesky factorisation per draw, `O(K³)`); NaN
    /// where `W` or `α` breaks its rule.
    fn sample<R: Rng + ?Sized>(p: &[&[f64]], out: &mut [f64], rng: &mut R) {
        let (mu, w, alpha, tau) = (p[0], p[1], p[2][0], p[3][0]);
        let k = out.len();
        if adjacency::check(w) != Ok(k) || alpha.abs().partial_cmp(&1.0) != Some(std::cmp::Ordering::Less) {
            return out.fill(f64::NAN);
        }
        let Ok(l) = cholesky(&precision(w, k, alpha, tau)) else { return out.fill(f64::NAN) };
        let z: Vec<f64> = (0..k).map(|_| std_normal(rng)).collect();
        super::mv_normal::solve_lower_transposed(&l, k, &z, out);
        out.iter_mut().enumerate().for_each(|(i, v)| *v += at(mu, i));
    }
}
