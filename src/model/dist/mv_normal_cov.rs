//! MvNormal(mu, cov) with a covariance matrix given as data.

use rand::Rng;

use super::vector::{VecCode, VecFamily, square_side};
use super::{Domain, MvNormal, Support};

/// The multivariate normal with a data covariance matrix (built by [`MvNormal::cov`]). The
/// compiler replaces the covariance by its Cholesky factor, computed once, and evaluates
/// [`MvNormal`]; a covariance that is not symmetric positive definite is an error naming the
/// node.
#[derive(Clone, Copy, Debug)]
pub struct MvNormalCov;

/// Largest asymmetry `|Σᵢⱼ − Σⱼᵢ| / max(|Σᵢⱼ|, |Σⱼᵢ|, 1)` accepted in a covariance.
const SYMMETRY_TOLERANCE: f64 = 1e-10;

/// The lower Cholesky factor (row by row) of a symmetric positive-definite `K × K` matrix, or
/// the rule it breaks.
pub fn cholesky(a: &[f64]) -> Result<Vec<f64>, String> {
    let k = square_side(a.len()).ok_or_else(|| format!("{} values are not a K × K matrix with K ≥ 2", a.len()))?;
    for i in 0..k {
        for j in 0..i {
            let (x, y) = (a[i * k + j], a[j * k + i]);
            if (x - y).abs() > SYMMETRY_TOLERANCE * x.abs().max(y.abs()).max(1.0) {
                return Err(format!("the covariance must be symmetric (element [{i}, {j}] = {x}, [{j}, {i}] = {y})"));
            }
        }
    }
    let mut l = vec![0.0; k * k];
    for j in 0..k {
        let d = a[j * k + j] - (0..j).map(|t| l[j * k + t] * l[j * k + t]).sum::<f64>();
        if !(d > 0.0 && d.is_finite()) {
            return Err(format!("the covariance must be positive definite (its leading {} × {} minor is not)", j + 1, j + 1));
        }
        let ljj = d.sqrt();
        l[j * k + j] = ljj;
        for i in j + 1..k {
            let s = a[i * k + j] - (0..j).map(|t| l[i * k + t] * l[j * k + t]).sum::<f64>();
            l[i * k + j] = s / ljj;
        }
    }
    Ok(l)
}

impl VecFamily for MvNormalCov {
    const NAME: &'static str = "mv_normal_cov";
    const PARAMS: &'static [(&'static str, Domain)] = &[("mu", Domain::Real), ("cov", Domain::Fixed)];
    const SUPPORT: Support = Support::Real;
    const DRAW_ROWS: &'static [usize] = &[0];

    fn value_len(lens: &[usize], _consts: &[Option<&[f64]>]) -> Result<usize, String> {
        super::mv_normal::value_len(lens)
    }

    fn accepts_len(n: usize, lens: &[usize], _consts: &[Option<&[f64]>]) -> Result<(), String> {
        super::mv_normal::accepts_len(n, lens)
    }

    fn draw_len(_n: usize, lens: &[usize], _consts: &[Option<&[f64]>]) -> Option<usize> {
        super::vector::square_side(lens[1])
    }

    fn split_per_draw(j: usize, len: usize, n: usize, _draws: usize) -> bool {
        j == 0 && len == n
    }

    fn check_params(p: &[Option<&[f64]>]) -> Result<(), String> {
        p[1].map_or(Ok(()), |c| cholesky(c).map(|_| ()))
    }

    fn check_value(_x: &[f64], _lens: &[usize], _p: &[Option<&[f64]>]) -> Result<(), (usize, String)> {
        Ok(())
    }

    /// The density through the Cholesky factor; the partial of the covariance (data) is not
    /// computed.
    fn lpdf_grad(args: &[&[f64]], grads: Option<&mut [Vec<f64>]>) -> f64 {
        let Ok(l) = cholesky(args[2]) else { return f64::NAN };
        let mut scratch = grads.as_ref().map(|g| vec![vec![0.0; g[0].len()], vec![0.0; g[1].len()], vec![0.0; l.len()]]);
        let lp = MvNormal::lpdf_grad(&[args[0], args[1], &l], scratch.as_deref_mut());
        if let (Some(g), Some(s)) = (grads, scratch) {
            for j in 0..2 {
                g[j].iter_mut().zip(&s[j]).for_each(|(a, b)| *a += b);
            }
        }
        lp
    }

    /// Never reached: the compiler lowers this family to [`MvNormal`] with the factor as data.
    fn wgsl(c: &VecCode) -> String {
        format!("{} = nan_r();", c.out)
    }

    fn sample<R: Rng + ?Sized>(p: &[&[f64]], out: &mut [f64], rng: &mut R) {
        match cholesky(p[1]) {
            Ok(l) => MvNormal::sample(&[p[0], &l], out, rng),
            Err(_) => out.fill(f64::NAN),
        }
    }
}
