//! MvStudentT(nu, mu, chol): the multivariate Student-t given a Cholesky factor of its scale.

use rand::Rng;
use rand_distr::Distribution;
use statrs::function::gamma::digamma;

use super::mv_normal::{
    accepts_len as mv_accepts_len, check_chol, solve_lower, solve_lower_transposed, value_len as mv_value_len,
};
use super::vector::{VecCode, VecFamily, add_at, at, square_side};
use super::{Dist, Domain, LN_PI, Support, std_normal};
use crate::model::expr::Expr;

/// Multivariate Student-t with `nu > 0` degrees of freedom, location `mu` and scale matrix
/// `L Lᵀ`, for a lower-triangular `chol = L` of `K × K` values stored row by row (its upper
/// triangle is not read): PyMC's `MvStudentT(nu, mu, chol=…)`, scipy's
/// `multivariate_t(mu, L Lᵀ, df=nu)`. Heavy-tailed multivariate data, robust to outlying
/// rows; the multivariate normal is its limit as `ν → ∞`.
///
/// `log p(x) = lnΓ((ν + K)/2) − lnΓ(ν/2) − (K/2) ln(νπ) − Σ ln Lᵢᵢ − ((ν + K)/2) ln(1 + ‖z‖²/ν)`
/// with `L z = x − mu`.
///
/// A node of `B·K` values holds `B` independent vectors, row by row, sharing `nu` (a scalar)
/// and `chol`; `mu` is a scalar, a `K`-vector shared by the rows, or `B·K` values. A scale
/// matrix given as data is `Expr::cholesky` of it.
///
/// ```
/// use exmc::prelude::*;
/// let mut m = Model::new();
/// let nu = m.rv("nu", Gamma::new(2, 0.1))?;
/// let mu = m.rv_vec("mu", Normal::new(0, 5), 2)?;
/// let chol = m.data("chol", vec![1.0, 0.0, 0.6, 0.8])?;
/// m.observe("y", MvStudentT::new(nu, mu, chol), &[0.1, 0.4, -0.3, 0.2, 9.1, -4.9])?;
/// # Ok::<(), exmc::Error>(())
/// ```
#[derive(Clone, Copy, Debug)]
pub struct MvStudentT;

impl MvStudentT {
    /// `MvStudentT(nu, mu, chol)` with `chol` the lower Cholesky factor of the scale matrix.
    #[allow(clippy::new_ret_no_self)]
    pub fn new(nu: impl Into<Expr>, mu: impl Into<Expr>, chol: impl Into<Expr>) -> Dist {
        Dist { kind: super::DistKind::MvStudentT, params: vec![nu.into(), mu.into(), chol.into()] }
    }
}

/// `nu` must be one value.
fn check_nu(len: usize) -> Result<(), String> {
    if len == 1 { Ok(()) } else { Err(format!("nu has {len} values; it must be one")) }
}

impl VecFamily for MvStudentT {
    const NAME: &'static str = "mv_student_t";
    const PARAMS: &'static [(&'static str, Domain)] =
        &[("nu", Domain::Positive), ("mu", Domain::Real), ("chol", Domain::Real)];
    const SUPPORT: Support = Support::Real;
    const DRAW_ROWS: &'static [usize] = &[1];

    fn value_len(lens: &[usize], _consts: &[Option<&[f64]>]) -> Result<usize, String> {
        check_nu(lens[0])?;
        mv_value_len(&lens[1..])
    }

    fn accepts_len(n: usize, lens: &[usize], _consts: &[Option<&[f64]>]) -> Result<(), String> {
        check_nu(lens[0])?;
        mv_accepts_len(n, &lens[1..])
    }

    fn draw_len(_n: usize, lens: &[usize], _consts: &[Option<&[f64]>]) -> Option<usize> {
        square_side(lens[2])
    }

    fn split_per_draw(j: usize, len: usize, n: usize, _draws: usize) -> bool {
        j == 1 && len == n
    }

    fn check_params(p: &[Option<&[f64]>]) -> Result<(), String> {
        p[2].map_or(Ok(()), check_chol)
    }

    fn check_value(_x: &[f64], _lens: &[usize], _p: &[Option<&[f64]>]) -> Result<(), (usize, String)> {
        Ok(())
    }

    /// With `q = ‖z‖²`, `a = (ν + K)/(ν + q)` and `w = L⁻ᵀ z`: `∂/∂x = −a w`, `∂/∂mu = a w`,
    /// `∂/∂L = a w zᵀ` (lower) `− diag(1/L)`, and per row
    /// `∂/∂ν = (ψ((ν + K)/2) − ψ(ν/2))/2 − K/(2ν) − ln(1 + q/ν)/2 + (ν + K) q/(2ν(ν + q))`.
    fn lpdf_grad(args: &[&[f64]], grads: Option<&mut [Vec<f64>]>) -> f64 {
        let (x, nu, mu, l) = (args[0], args[1], args[2], args[3]);
        let Some(k) = square_side(l.len()) else { return f64::NAN };
        if nu.len() != 1 {
            return f64::NAN;
        }
        let (nu, kf) = (nu[0], k as f64);
        let rows = x.len() / k;
        let h = 0.5 * (nu + kf);
        let ld: f64 = (0..k).map(|i| l[i * k + i].ln()).sum();
        let per_row = libm::lgamma(h) - libm::lgamma(0.5 * nu) - 0.5 * kf * (nu.ln() + LN_PI) - ld;
        let mut lp = rows as f64 * per_row;
        let d_nu_row = 0.5 * (digamma(h) - digamma(0.5 * nu)) - 0.5 * kf / nu;
        let mut z = vec![0.0; k];
        let mut w = vec![0.0; k];
        let mut grads = grads;
        for b in 0..rows {
            let mi = |i: usize| if mu.len() == x.len() { b * k + i } else { i };
            let q = solve_lower(l, k, |i| x[b * k + i] - at(mu, mi(i)), &mut z);
            let log_t = (q / nu).ln_1p();
            lp -= h * log_t;
            let Some(g) = grads.as_deref_mut() else { continue };
            let a = (nu + kf) / (nu + q);
            solve_lower_transposed(l, k, &z, &mut w);
            for i in 0..k {
                g[0][b * k + i] -= a * w[i];
                add_at(&mut g[2], mi(i), a * w[i]);
                for j in 0..=i {
                    g[3][i * k + j] += a * w[i] * z[j];
                }
                g[3][i * k + i] -= 1.0 / l[i * k + i];
            }
            g[1][0] += d_nu_row - 0.5 * log_t + h * q / (nu * (nu + q));
        }
        lp
    }

    fn wgsl(c: &VecCode) -> String {
        let Some(k) = square_side(c.lens[3]) else { return format!("{} = nan_r();", c.out) };
        let rows = c.lens[0] / k;
        let (lp, ld, z, w, b, i, j, s, q, nu, h, lt, dn) = (
            c.n("lp"),
            c.n("ld"),
            c.n("z"),
            c.n("w"),
            c.n("b"),
            c.n("i"),
            c.n("j"),
            c.n("s"),
            c.n("q"),
            c.n("nu"),
            c.n("h"),
            c.n("lt"),
            c.n("dn"),
        );
        let l = |r: &str, col: &str| c.a(3, &format!("{r} * {k}u + {col}"));
        let mi = if c.lens[2] == c.lens[0] { format!("{b} * {k}u + {i}") } else { i.clone() };
        let grads = (0..4).any(|j| c.wants(j));
        let back = if grads {
            format!(
                "let a_{t} = ({nu} + real({kf:?})) / ({nu} + {q}); var {w}: array<real, {k}>; \
                 for (var r = 0u; r < {k}u; r++) {{ let {i} = {km1}u - r; var {s} = {z}[{i}]; \
                 for (var {j} = {i} + 1u; {j} < {k}u; {j}++) {{ {s} -= {lji} * {w}[{j}]; }} {w}[{i}] = {s} / {lii}; }} \
                 for (var {i} = 0u; {i} < {k}u; {i}++) {{ {g0} {g2} \
                 for (var {j} = 0u; {j} <= {i}; {j}++) {{ {g3} }} {g3d} }} \
                 {dn} += -real(0.5) * {lt} + {h} * {q} / ({nu} * ({nu} + {q}));",
                t = c.tag,
                kf = k as f64,
                km1 = k - 1,
                lji = l(&j, &i),
                lii = l(&i, &i),
                g0 = c.add(0, &format!("{b} * {k}u + {i}"), &format!("-a_{} * {w}[{i}]", c.tag)),
                g2 = c.add(2, &mi, &format!("a_{} * {w}[{i}]", c.tag)),
                g3 = c.add(3, &format!("{i} * {k}u + {j}"), &format!("a_{} * {w}[{i}] * {z}[{j}]", c.tag)),
                g3d = c.add(3, &format!("{i} * {k}u + {i}"), &format!("-real(1.0) / {}", l(&i, &i))),
            )
        } else {
            String::new()
        };
        format!(
            "{{ let {nu} = {nu_arg}; let {h} = real(0.5) * ({nu} + real({kf:?})); \
             var {ld} = real(0.0); for (var {i} = 0u; {i} < {k}u; {i}++) {{ {ld} += ln_r({lii}); }} \
             var {lp} = real({rows}.0) * (lgamma({h}) - lgamma(real(0.5) * {nu}) \
             - real({half_k:?}) * (ln_r({nu}) + LN_PI) - {ld}); \
             var {dn} = real({rows}.0) * (real(0.5) * (digamma({h}) - digamma(real(0.5) * {nu})) \
             - real({half_k:?}) / {nu}); \
             for (var {b} = 0u; {b} < {rows}u; {b}++) {{ var {z}: array<real, {k}>; var {q} = real(0.0); \
             for (var {i} = 0u; {i} < {k}u; {i}++) {{ var {s} = {x} - {m}; \
             for (var {j} = 0u; {j} < {i}; {j}++) {{ {s} -= {lij} * {z}[{j}]; }} \
             {z}[{i}] = {s} / {lii}; {q} += {z}[{i}] * {z}[{i}]; }} \
             let {lt} = log1p_r({q} / {nu}); {lp} -= {h} * {lt}; {back} }} \
             {g1} {out} = {lp}; }}",
            nu_arg = c.a(1, "0u"),
            kf = k as f64,
            half_k = 0.5 * k as f64,
            lii = l(&i, &i),
            lij = l(&i, &j),
            x = c.a(0, &format!("{b} * {k}u + {i}")),
            m = c.a(2, &mi),
            g1 = c.add(1, "0u", &dn),
            out = c.out,
        )
    }

    /// Each row `mu + L z √(ν/g)` with `z` standard normal and `g ~ χ²(ν)`.
    fn sample<R: Rng + ?Sized>(p: &[&[f64]], out: &mut [f64], rng: &mut R) {
        let (nu, mu, l) = (p[0], p[1], p[2]);
        let Some(k) = square_side(l.len()) else { return out.fill(f64::NAN) };
        let Ok(chi2) = rand_distr::ChiSquared::new(nu[0]) else { return out.fill(f64::NAN) };
        let full = out.len();
        let mut z = vec![0.0; k];
        for (b, row) in out.chunks_mut(k).enumerate() {
            z.iter_mut().for_each(|v| *v = std_normal(rng));
            let scale = (nu[0] / chi2.sample(rng)).sqrt();
            for i in 0..k {
                let m = if mu.len() == full { mu[b * k + i] } else { at(mu, i) };
                row[i] = m + scale * (0..=i).map(|j| l[i * k + j] * z[j]).sum::<f64>();
            }
        }
    }
}
