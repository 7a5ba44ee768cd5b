//! MvNormal(mu, chol): the multivariate normal given a Cholesky factor of its covariance.

use rand::Rng;

use super::vector::{VecCode, VecFamily, add_at, at, square_side};
use super::{Dist, Domain, HALF_LN_2PI, Support, std_normal};
use crate::model::expr::Expr;

/// Multivariate normal with mean `mu` and covariance `L Lᵀ`, for a lower-triangular `chol =
/// L` of `K × K` values stored row by row (its upper triangle is not read).
///
/// `log p(x) = −K ln(2π)/2 − Σ ln Lᵢᵢ − ‖z‖²/2` with `L z = x − mu`.
///
/// A node of `B·K` values holds `B` independent vectors, row by row, sharing `chol`; `mu` is a
/// scalar, a `K`-vector shared by the rows, or `B·K` values. `chol` may be data or built from
/// parameters (`sigma.at(&rows) * lkj`, the scaled Cholesky factor of an
/// [`LkjCholesky`](super::LkjCholesky)). A covariance given as data is
/// [`MvNormal::cov`].
///
/// ```
/// use exmc::prelude::*;
/// let mut m = Model::new();
/// let mu = m.rv_vec("mu", Normal::new(0, 5), 2)?;
/// let chol = m.data("chol", vec![1.0, 0.0, 0.6, 0.8])?;
/// m.observe("y", MvNormal::new(mu, chol), &[0.1, 0.4, -0.3, 0.2, 1.1, 0.9])?;
/// # Ok::<(), exmc::Error>(())
/// ```
#[derive(Clone, Copy, Debug)]
pub struct MvNormal;

impl MvNormal {
    /// `MvNormal(mu, chol)` with `chol` the lower Cholesky factor of the covariance.
    #[allow(clippy::new_ret_no_self)]
    pub fn new(mu: impl Into<Expr>, chol: impl Into<Expr>) -> Dist {
        Dist { kind: super::DistKind::MvNormal, params: vec![mu.into(), chol.into()] }
    }

    /// `MvNormal(mu, cov)` with a covariance matrix given as data (`K × K` values row by row):
    /// it must be symmetric positive definite; its Cholesky factor is computed once.
    #[allow(clippy::new_ret_no_self)]
    pub fn cov(mu: impl Into<Expr>, cov: impl Into<Expr>) -> Dist {
        Dist { kind: super::DistKind::MvNormalCov, params: vec![mu.into(), cov.into()] }
    }
}

/// The shape rule shared with [`MvNormalCov`](super::MvNormalCov): `K` from the `K × K`
/// matrix (argument `matrix`), `mu` of length 1 or `K`.
pub(crate) fn value_len(lens: &[usize]) -> Result<usize, String> {
    let k = square_side(lens[1]).ok_or_else(|| format!("the matrix has {} values, not K × K with K ≥ 2", lens[1]))?;
    match lens[0] {
        1 => Ok(k),
        m if m == k => Ok(k),
        m if m % k == 0 => Ok(m),
        m => Err(format!("mu has {m} values for {k} dimensions")),
    }
}

/// Whether `n` values are whole rows of `K` with a matching `mu`.
pub(crate) fn accepts_len(n: usize, lens: &[usize]) -> Result<(), String> {
    let k = square_side(lens[1]).ok_or_else(|| format!("the matrix has {} values, not K × K with K ≥ 2", lens[1]))?;
    if n == 0 || !n.is_multiple_of(k) {
        return Err(format!("{n} values are not whole vectors of {k}"));
    }
    if ![1, k, n].contains(&lens[0]) {
        return Err(format!("mu has {} values; it needs 1, {k} or {n}", lens[0]));
    }
    Ok(())
}

/// `z = L⁻¹ r` for the lower-triangular `L` (`K × K`, row by row) and `r(i)` the residual's
/// element `i`; returns `‖z‖²`.
pub(crate) fn solve_lower(l: &[f64], k: usize, r: impl Fn(usize) -> f64, z: &mut [f64]) -> f64 {
    let mut q = 0.0;
    for i in 0..k {
        let mut s = r(i);
        for j in 0..i {
            s -= l[i * k + j] * z[j];
        }
        z[i] = s / l[i * k + i];
        q += z[i] * z[i];
    }
    q
}

/// `w = L⁻ᵀ z` for the lower-triangular `L` (`K × K`, row by row).
pub(crate) fn solve_lower_transposed(l: &[f64], k: usize, z: &[f64], w: &mut [f64]) {
    for i in (0..k).rev() {
        let mut s = z[i];
        for j in i + 1..k {
            s -= l[j * k + i] * w[j];
        }
        w[i] = s / l[i * k + i];
    }
}

/// Checks a Cholesky factor's diagonal.
pub(crate) fn check_chol(l: &[f64]) -> Result<(), String> {
    let Some(k) = square_side(l.len()) else { return Err("not a K × K matrix".into()) };
    match (0..k).find(|&i| !(l[i * k + i] > 0.0 && l[i * k + i].is_finite())) {
        Some(i) => Err(format!("the Cholesky factor's diagonal element {i} must be positive")),
        None => Ok(()),
    }
}

impl VecFamily for MvNormal {
    const NAME: &'static str = "mv_normal";
    const PARAMS: &'static [(&'static str, Domain)] = &[("mu", Domain::Real), ("chol", Domain::Real)];
    const SUPPORT: Support = Support::Real;
    const DRAW_ROWS: &'static [usize] = &[0];

    fn value_len(lens: &[usize], _consts: &[Option<&[f64]>]) -> Result<usize, String> {
        value_len(lens)
    }

    fn accepts_len(n: usize, lens: &[usize], _consts: &[Option<&[f64]>]) -> Result<(), String> {
        accepts_len(n, lens)
    }

    fn draw_len(_n: usize, lens: &[usize], _consts: &[Option<&[f64]>]) -> Option<usize> {
        square_side(lens[1])
    }

    fn split_per_draw(j: usize, len: usize, n: usize, _draws: usize) -> bool {
        j == 0 && len == n
    }

    fn check_params(p: &[Option<&[f64]>]) -> Result<(), String> {
        p[1].map_or(Ok(()), check_chol)
    }

    fn check_value(_x: &[f64], _lens: &[usize], _p: &[Option<&[f64]>]) -> Result<(), (usize, String)> {
        Ok(())
    }

    fn lpdf_grad(args: &[&[f64]], grads: Option<&mut [Vec<f64>]>) -> f64 {
        let (x, mu, l) = (args[0], args[1], args[2]);
        let Some(k) = square_side(l.len()) else { return f64::NAN };
        let rows = x.len() / k;
        let ld: f64 = (0..k).map(|i| l[i * k + i].ln()).sum();
        let mut lp = -(rows as f64) * (k as f64 * HALF_LN_2PI + ld);
        let mut z = vec![0.0; k];
        let mut w = vec![0.0; k];
        let mut grads = grads;
        for b in 0..rows {
            let mi = |i: usize| if mu.len() == x.len() { b * k + i } else { i };
            lp -= 0.5 * solve_lower(l, k, |i| x[b * k + i] - at(mu, mi(i)), &mut z);
            let Some(g) = grads.as_deref_mut() else { continue };
            // w = L⁻ᵀ z: ∂/∂x = −w, ∂/∂mu = w, ∂/∂L = w zᵀ (lower) − diag(1/L).
            solve_lower_transposed(l, k, &z, &mut w);
            for i in 0..k {
                g[0][b * k + i] -= w[i];
                add_at(&mut g[1], mi(i), w[i]);
                for j in 0..=i {
                    g[2][i * k + j] += w[i] * z[j];
                }
                g[2][i * k + i] -= 1.0 / l[i * k + i];
            }
        }
        lp
    }

    fn wgsl(c: &VecCode) -> String {
        let Some(k) = square_side(c.lens[2]) else { return format!("{} = nan_r();", c.out) };
        let rows = c.lens[0] / k;
        let (lp, ld, z, w, b, i, j, s) =
            (c.n("lp"), c.n("ld"), c.n("z"), c.n("w"), c.n("b"), c.n("i"), c.n("j"), c.n("s"));
        let l = |r: &str, col: &str| c.a(2, &format!("{r} * {k}u + {col}"));
        let mi = if c.lens[1] == c.lens[0] { format!("{b} * {k}u + {i}") } else { i.clone() };
        let grads = c.wants(0) || c.wants(1) || c.wants(2);
        let back = if grads {
            format!(
                "var {w}: array<real, {k}>; \
                 for (var q = 0u; q < {k}u; q++) {{ let {i} = {km1}u - q; var {s} = {z}[{i}]; \
                 for (var {j} = {i} + 1u; {j} < {k}u; {j}++) {{ {s} -= {lji} * {w}[{j}]; }} {w}[{i}] = {s} / {lii}; }} \
                 for (var {i} = 0u; {i} < {k}u; {i}++) {{ {g0} {g1} \
                 for (var {j} = 0u; {j} <= {i}; {j}++) {{ {g2} }} {g2d} }}",
                km1 = k - 1,
                lji = l(&j, &i),
                lii = l(&i, &i),
                g0 = c.add(0, &format!("{b} * {k}u + {i}"), &format!("-{w}[{i}]")),
                g1 = c.add(1, &mi, &format!("{w}[{i}]")),
                g2 = c.add(2, &format!("{i} * {k}u + {j}"), &format!("{w}[{i}] * {z}[{j}]")),
                g2d = c.add(2, &format!("{i} * {k}u + {i}"), &format!("-real(1.0) / {}", l(&i, &i))),
            )
        } else {
            String::new()
        };
        format!(
            "{{ var {ld} = real(0.0); for (var {i} = 0u; {i} < {k}u; {i}++) {{ {ld} += ln_r({lii}); }} \
             var {lp} = -real({rows}.0) * (real({c0:?}) + {ld}); \
             for (var {b} = 0u; {b} < {rows}u; {b}++) {{ var {z}: array<real, {k}>; \
             for (var {i} = 0u; {i} < {k}u; {i}++) {{ var {s} = {x} - {m}; \
             for (var {j} = 0u; {j} < {i}; {j}++) {{ {s} -= {lij} * {z}[{j}]; }} \
             {z}[{i}] = {s} / {lii}; {lp} -= real(0.5) * {z}[{i}] * {z}[{i}]; }} {back} }} \
             {out} = {lp}; }}",
            c0 = k as f64 * HALF_LN_2PI,
            lii = l(&i, &i),
            lij = l(&i, &j),
            x = c.a(0, &format!("{b} * {k}u + {i}")),
            m = c.a(1, &mi),
            out = c.out,
        )
    }

    fn sample<R: Rng + ?Sized>(p: &[&[f64]], out: &mut [f64], rng: &mut R) {
        let (mu, l) = (p[0], p[1]);
        let Some(k) = square_side(l.len()) else { return out.fill(f64::NAN) };
        let full = out.len();
        let mut z = vec![0.0; k];
        for (b, row) in out.chunks_mut(k).enumerate() {
            z.iter_mut().for_each(|v| *v = std_normal(rng));
            for i in 0..k {
                let m = if mu.len() == full { mu[b * k + i] } else { at(mu, i) };
                row[i] = m + (0..=i).map(|j| l[i * k + j] * z[j]).sum::<f64>();
            }
        }
    }
}
