//! LKJCholesky(n, eta): the Cholesky factor of an LKJ-distributed correlation matrix.

use rand::Rng;
use rand_distr::Distribution;
use statrs::function::gamma::digamma;

use super::vector::{VecCode, VecFamily, square_side};
use super::{Dist, Domain, LN_PI, Support};
use crate::model::Shape;
use crate::model::expr::Expr;

/// The lower Cholesky factor `L` (`n × n`, row by row) of a correlation matrix `R = L Lᵀ`
/// with the LKJ density `p(R) ∝ det(R)^(η − 1)` (Lewandowski, Kurowicka and Joe 2009), as
/// Stan's `lkj_corr_cholesky` and PyMC's `LKJCholeskyCov` factor.
///
/// `log p(L) = ln c(n, η) + Σ_{i ≥ 1} (n − i + 2η − 3) ln Lᵢᵢ` (rows from 0; the Jacobian of
/// `R ↦ L` included), with `ln c = (n − 1) lnΓ(η + (n − 1)/2) − Σ_{k=1}^{n−1} [k ln π / 2 +
/// lnΓ(η + (n − 1 − k)/2)]`.
///
/// `n` is a whole number ≥ 2 given as data. Free variables are sampled through the
/// Cholesky-correlation transform (Stan's). A covariance factor with standard deviations
/// `sigma` is `sigma.at(&rows) * L`, with `rows = [0, 0, …, 1, 1, …]` the row of each element.
///
/// ```
/// use exmc::prelude::*;
/// let mut m = Model::new();
/// let corr = m.rv("corr", LkjCholesky::new(2, 2.0))?;
/// let sigma = m.rv_vec("sigma", HalfNormal::new(1), 2)?;
/// let rows = m.int_data("rows", &[0, 0, 1, 1])?;
/// let chol = m.deterministic("chol", sigma.at(rows) * corr)?;
/// m.observe("y", MvNormal::new(0, chol), &[0.3, -0.2, 1.2, 0.8])?;
/// # Ok::<(), exmc::Error>(())
/// ```
#[derive(Clone, Copy, Debug)]
pub struct LkjCholesky;

impl LkjCholesky {
    /// `LKJCholesky(n, eta)`: an `n × n` factor, concentration `eta > 0` (1: uniform over
    /// correlation matrices).
    #[allow(clippy::new_ret_no_self)]
    pub fn new(n: impl Into<Expr>, eta: impl Into<Expr>) -> Dist {
        Dist { kind: super::DistKind::LkjCholesky, params: vec![n.into(), eta.into()] }
    }
}

/// `ln c(n, η)` and its derivative in `η`.
pub(crate) fn log_normalizer(n: usize, eta: f64) -> (f64, f64) {
    let nm1 = (n - 1) as f64;
    let mut c = nm1 * libm::lgamma(eta + 0.5 * nm1);
    let mut d = nm1 * digamma(eta + 0.5 * nm1);
    for k in 1..n {
        let a = eta + 0.5 * (nm1 - k as f64);
        c -= 0.5 * k as f64 * LN_PI + libm::lgamma(a);
        d -= digamma(a);
    }
    (c, d)
}

/// Largest deviation of a row's norm from 1 accepted in data.
const NORM_TOLERANCE: f64 = 1e-6;

impl VecFamily for LkjCholesky {
    const NAME: &'static str = "lkj_cholesky";
    const PARAMS: &'static [(&'static str, Domain)] = &[("n", Domain::Count), ("eta", Domain::Positive)];
    const SUPPORT: Support = Support::CorrCholesky;

    fn value_len(lens: &[usize], consts: &[Option<&[f64]>]) -> Result<usize, String> {
        if lens[0] != 1 || lens[1] != 1 {
            return Err("n and eta must be scalars".into());
        }
        match consts[0] {
            Some(&[n]) if (2.0..=4096.0).contains(&n) => Ok(n as usize * n as usize),
            Some(&[n]) => Err(format!("n = {n} must be between 2 and 4096")),
            _ => Err("n must be a constant".into()),
        }
    }

    fn value_shape(lens: &[usize], consts: &[Option<&[f64]>]) -> Result<Shape, String> {
        let len = Self::value_len(lens, consts)?;
        let n = square_side(len).unwrap_or(len);
        Ok(Shape::Matrix(n, len / n))
    }

    fn check_value(x: &[f64], _lens: &[usize], _p: &[Option<&[f64]>]) -> Result<(), (usize, String)> {
        let Some(k) = square_side(x.len()) else { return Err((0, "not a K × K matrix".into())) };
        for i in 0..k {
            if x[i * k + i] <= 0.0 {
                return Err((i * k + i, "the diagonal must be positive".into()));
            }
            if let Some(j) = (i + 1..k).find(|&j| x[i * k + j] != 0.0) {
                return Err((i * k + j, "a Cholesky factor is lower triangular".into()));
            }
            let norm: f64 = x[i * k..i * k + i + 1].iter().map(|v| v * v).sum();
            if (norm - 1.0).abs() > NORM_TOLERANCE {
                return Err((i * k, "each row of a correlation factor has unit norm".into()));
            }
        }
        Ok(())
    }

    fn lpdf_grad(args: &[&[f64]], grads: Option<&mut [Vec<f64>]>) -> f64 {
        let (l, eta) = (args[0], args[2][0]);
        let Some(k) = square_side(l.len()) else { return f64::NAN };
        let (c, dc) = log_normalizer(k, eta);
        let mut lp = c;
        let mut sum_ln = 0.0;
        let mut grads = grads;
        for i in 1..k {
            let d = l[i * k + i];
            let coef = (k - i) as f64 + 2.0 * eta - 3.0;
            lp += coef * d.ln();
            sum_ln += d.ln();
            if let Some(g) = grads.as_deref_mut() {
                g[0][i * k + i] += coef / d;
            }
        }
        if let Some(g) = grads {
            g[2][0] += 2.0 * sum_ln + dc;
        }
        lp
    }

    fn wgsl(c: &VecCode) -> String {
        let Some(k) = square_side(c.lens[0]) else { return format!("{} = nan_r();", c.out) };
        // The normaliser depends on η only: its value and derivative come from the host when η
        // is a literal, else from lgamma/digamma terms written out.
        let eta = c.a(2, "0u");
        let (lp, sl, i) = (c.n("lp"), c.n("sl"), c.n("i"));
        let nm1 = (k - 1) as f64;
        let mut norm = format!("real({:?}) * lgamma({eta} + real({:?}))", nm1, 0.5 * nm1);
        let mut dnorm = format!("real({:?}) * digamma({eta} + real({:?}))", nm1, 0.5 * nm1);
        let mut consts = 0.0;
        for q in 1..k {
            consts += 0.5 * q as f64 * LN_PI;
            let a = 0.5 * (nm1 - q as f64);
            norm.push_str(&format!(" - lgamma({eta} + real({a:?}))"));
            dnorm.push_str(&format!(" - digamma({eta} + real({a:?}))"));
        }
        let d = c.a(0, &format!("{i} * {k}u + {i}"));
        format!(
            "{{ var {lp} = {norm} - real({consts:?}); var {sl} = real(0.0); \
             for (var {i} = 1u; {i} < {k}u; {i}++) {{ let d = {d}; let coef = real({k}u - {i}) + real(2.0) * {eta} - real(3.0); \
             {lp} += coef * ln_r(d); {sl} += ln_r(d); {g0} }} {g2} {out} = {lp}; }}",
            g0 = c.add(0, &format!("{i} * {k}u + {i}"), "coef / d"),
            g2 = if c.wants(2) { c.add(2, "0u", &format!("real(2.0) * {sl} + {dnorm}")) } else { String::new() },
            out = c.out,
        )
    }

    /// The C-vine method of Lewandowski et al. (2009): the canonical partial correlation in
    /// column `j` is `2·Beta(b, b) − 1` with `b = η + (n − 2 − j)/2`, mapped to `L` as the
    /// Cholesky-correlation transform does.
    fn sample<R: Rng + ?Sized>(p: &[&[f64]], out: &mut [f64], rng: &mut R) {
        let eta = p[1][0];
        let Some(k) = square_side(out.len()) else { return out.fill(f64::NAN) };
        out.fill(0.0);
        for i in 0..k {
            let mut w = 1.0f64;
            for j in 0..i {
                let b = eta + 0.5 * (k as f64 - 2.0 - j as f64);
                let z = rand_distr::Beta::new(b, b).map_or(f64::NAN, |d| 2.0 * d.sample(rng) - 1.0);
                out[i * k + j] = z * w;
                w *= (1.0 - z * z).max(0.0).sqrt();
            }
            out[i * k + i] = w;
        }
    }
}
