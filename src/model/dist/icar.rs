//! Icar(W, sigma): the intrinsic conditional autoregressive prior on a connected graph.

use rand::Rng;

use super::adjacency::{self, PackedWgsl, Spectrum};
use super::mv_normal_cov::cholesky;
use super::vector::{VecCode, VecFamily};
use super::{Dist, Domain, HALF_LN_2PI, Support, std_normal};
use crate::model::bijector::zero_sum_excess;
use crate::model::expr::Expr;

/// The intrinsic CAR (ICAR) distribution of `K` areas (PyMC's `ICAR(W, sigma)`, Besag's
/// spatial random effect): the density `∝ exp(−Σᵢ<ⱼ Wᵢⱼ(xᵢ − xⱼ)²/(2σ²))` on the plane
/// `Σxᵢ = 0`, where `W` is the `K × K` adjacency matrix of the areas (data: symmetric,
/// non-negative weights, zero diagonal, every area with a neighbour) and the graph must be
/// connected. The precision is the graph Laplacian `Q = D − W` over `σ²`; its one null
/// direction (a constant) is what the sum-to-zero plane removes, so on the plane the law is a
/// proper normal. `sigma > 0` is one value. Free variables are sampled through the zero-sum
/// transform (`K − 1` coordinates), and a random `sigma` is non-centred (`x = σz`,
/// `z ~ Icar(W, 1)`), as a [`ZeroSumNormal`](super::ZeroSumNormal)'s.
///
/// `log p(x) = −xᵀQx/(2σ²) − (K − 1)(ln σ + ln(2π)/2) + ln pdet(Q)/2` on the plane, with
/// `pdet` the product of `Q`'s `K − 1` non-zero eigenvalues (computed once when the model is
/// compiled). PyMC's `ICAR` differs in three ways: it holds the sum near 0 by a normal of sd
/// `0.001·K` rather than on the plane; its density has no `−(K − 1) ln σ`, so a prior on its
/// own `sigma` is a different model (PyMC's documentation keeps `sigma = 1` and scales the
/// draw, which this density's automatic non-centring does for a random `sigma`); and it
/// reads only the edges of weight 1 (here any positive weight counts). Observed values must
/// sum to 0.
///
/// A graph of several parts (islands) is refused: each part's mean would be free. Model each
/// part with its own `Icar`, or its island areas with a
/// [`Normal`](super::Normal).
///
/// ```
/// use exmc::prelude::*;
/// # fn main() -> exmc::Result<()> {
/// // Five areas on a line: 0 – 1 – 2 – 3 – 4.
/// let mut w = vec![0.0; 25];
/// for i in 0..4 {
///     w[i * 5 + i + 1] = 1.0;
///     w[(i + 1) * 5 + i] = 1.0;
/// }
/// let mut m = Model::new();
/// let w = m.data_matrix("W", 5, 5, w)?;
/// let sigma = m.rv("sigma", HalfNormal::new(1.0))?;
/// let phi = m.rv("phi", Icar::new(w, sigma))?;
/// let b0 = m.rv("b0", Normal::new(0.0, 2.0))?;
/// m.observe("y", Normal::new(b0 + phi, 0.5), &[0.1, 0.4, 1.1, 0.8, 1.6])?;
/// # Ok(())
/// # }
/// ```
#[derive(Clone, Copy, Debug)]
pub struct Icar;

impl Icar {
    /// `Icar(W, sigma)`.
    #[allow(clippy::new_ret_no_self)]
    pub fn new(w: impl Into<Expr>, sigma: impl Into<Expr>) -> Dist {
        Dist { kind: super::DistKind::Icar, params: vec![w.into(), sigma.into()] }
    }

    /// The BYM2 scaling factor of a connected graph (Riebler et al. 2016): the geometric mean
    /// of the marginal variances of `Icar(W, 1)`, `exp(mean(ln diag Q⁺))` with `Q⁺` the
    /// pseudo-inverse of the Laplacian `D − W` (`W` row by row, `K × K`). Dividing an ICAR draw
    /// by its square root gives it a typical variance of 1, so that BYM2's mixing weight `rho`
    /// means the share of the spatial part:
    /// `sigma · (√(1 − rho) · theta + √(rho / s) · phi)` with `theta` independent `N(0, 1)` and
    /// `phi ~ Icar(W, 1)`. An [`Error::InvalidOption`](crate::Error::InvalidOption) naming `W` where the matrix breaks an
    /// ICAR's rule.
    ///
    /// ```
    /// use exmc::prelude::*;
    /// # fn main() -> exmc::Result<()> {
    /// // Six areas on a line.
    /// let mut w = vec![0.0; 36];
    /// for i in 0..5 {
    ///     w[i * 6 + i + 1] = 1.0;
    ///     w[(i + 1) * 6 + i] = 1.0;
    /// }
    /// let s = Icar::scaling_factor(&w)?;
    /// let mut m = Model::new();
    /// let adj = m.data_matrix("W", 6, 6, w)?;
    /// let b0 = m.rv("b0", Normal::new(0.0, 2.0))?;
    /// let sigma = m.rv("sigma", HalfNormal::new(1.0))?;
    /// let rho = m.rv("rho", Beta::new(0.5, 0.5))?;
    /// let theta = m.rv_vec("theta", Normal::new(0.0, 1.0), 6)?;
    /// let phi = m.rv("phi", Icar::new(adj, 1.0))?;
    /// let convolved = m.deterministic(
    ///     "convolved",
    ///     sigma * ((1.0 - rho).sqrt() * theta + (rho / s).sqrt() * phi),
    /// )?;
    /// let expected = m.data("E", vec![4.0, 6.5, 3.2, 8.0, 5.1, 2.7])?;
    /// m.observe("y", Poisson::new((b0 + convolved + expected.ln()).exp()), &[3.0, 9.0, 2.0, 11.0, 4.0, 1.0])?;
    /// # Ok(())
    /// # }
    /// ```
    pub fn scaling_factor(w: &[f64]) -> crate::Result<f64> {
        Self::check_params(&[Some(w), None]).map_err(|reason| crate::Error::invalid_option("W", reason))?;
        let k = (w.len() as f64).sqrt().round() as usize;
        // Q⁺ = (Q + c·11ᵀ/K)⁻¹ − 11ᵀ/(cK) on a connected graph: the constant is Q's one null
        // direction, where c·11ᵀ/K has the eigenvalue c, the mean degree (the scale of Q, so
        // that the subtraction keeps its digits whatever the weights' scale).
        let (q, c) = laplacian_plus_mean(w, k);
        let inverse = nalgebra::DMatrix::from_row_slice(k, k, &q)
            .cholesky()
            .ok_or_else(|| crate::Error::invalid_option("W", "the Laplacian is not positive semi-definite"))?
            .inverse();
        let ln_mean = (0..k).map(|i| (inverse[(i, i)] - 1.0 / (c * k as f64)).ln()).sum::<f64>() / k as f64;
        let s = ln_mean.exp();
        if !(s > 0.0 && s.is_finite()) {
            return Err(crate::Error::invalid_option("W", format!("the marginal variances are not finite and positive ({s})")));
        }
        Ok(s)
    }
}

/// `Q + c·11ᵀ/K` for the Laplacian `Q = D − W` of a `K × K` adjacency matrix (row by row), and
/// `c`, the mean degree: `Q` on the zero-sum plane and `c` along the constant, positive
/// definite for a connected graph.
fn laplacian_plus_mean(w: &[f64], k: usize) -> (Vec<f64>, f64) {
    let c = w.iter().sum::<f64>() / k as f64;
    let mut q: Vec<f64> = w.iter().map(|v| -v + c / k as f64).collect();
    for i in 0..k {
        q[i * k + i] = w[i * k..(i + 1) * k].iter().sum::<f64>() + c / k as f64;
    }
    (q, c)
}

impl VecFamily for Icar {
    const NAME: &'static str = "icar";
    const PARAMS: &'static [(&'static str, Domain)] = &[("W", Domain::Fixed), ("sigma", Domain::Positive)];
    const SUPPORT: Support = Support::ZeroSum;

    fn value_len(lens: &[usize], _consts: &[Option<&[f64]>]) -> Result<usize, String> {
        adjacency::side(lens[0])
    }

    fn accepts_len(n: usize, lens: &[usize], consts: &[Option<&[f64]>]) -> Result<(), String> {
        let k = Self::value_len(lens, consts)?;
        if n != k {
            return Err(format!("the value has {n} elements; W is {k} × {k}"));
        }
        if lens[1] != 1 {
            return Err(format!("sigma must be one value (got {})", lens[1]));
        }
        Ok(())
    }

    fn check_params(p: &[Option<&[f64]>]) -> Result<(), String> {
        let Some(w) = p[0] else { return Ok(()) };
        let k = adjacency::check(w)?;
        match adjacency::components(w, k) {
            1 => Ok(()),
            parts => Err(adjacency::parts_refused(parts)),
        }
    }

    fn check_value(x: &[f64], _lens: &[usize], _p: &[Option<&[f64]>]) -> Result<(), (usize, String)> {
        match zero_sum_excess(x) {
            Some(s) => Err((0, format!("an ICAR value must sum to 0 (this one sums to {s})"))),
            None => Ok(()),
        }
    }

    fn prepare(j: usize, value: &[f64]) -> Option<Result<Vec<f64>, String>> {
        (j == 0).then(|| adjacency::pack(value, Spectrum::Laplacian))
    }

    /// `∂/∂xᵢ = −Σⱼ Wᵢⱼ(xᵢ − xⱼ)/σ²`, `∂/∂σ = xᵀQx/σ³ − (K − 1)/σ`; `W` is data.
    fn lpdf_grad(args: &[&[f64]], grads: Option<&mut [Vec<f64>]>) -> f64 {
        let (x, sigma) = (args[0], args[2][0]);
        let k = x.len();
        adjacency::with_packed(args[1], k, Spectrum::Laplacian, |g| {
            let inv2 = 1.0 / (sigma * sigma);
            let mut quad = 0.0;
            let mut grads = grads;
            for e in 0..g.edge_count() {
                let (i, j, w) = g.edge(e);
                let d = x[i] - x[j];
                quad += w * d * d;
                if let Some(gr) = grads.as_deref_mut() {
                    gr[0][i] -= w * d * inv2;
                    gr[0][j] += w * d * inv2;
                }
            }
            let dof = (k - 1) as f64;
            if let Some(gr) = grads {
                gr[2][0] += (quad * inv2 - dof) / sigma;
            }
            -0.5 * quad * inv2 - dof * (sigma.ln() + HALF_LN_2PI) + 0.5 * g.constant
        })
    }

    fn wgsl(c: &VecCode) -> String {
        let k = c.lens[0];
        let g = PackedWgsl::new(c, 1, k);
        let Some(m) = g.edge_count() else { return format!("{} = nan_r();", c.out) };
        let (e, ei, ej, d, w, quad, s, inv2) =
            (c.n("e"), c.n("ei"), c.n("ej"), c.n("d"), c.n("w"), c.n("quad"), c.n("s"), c.n("inv2"));
        format!(
            "{{ let {s} = {sigma}; let {inv2} = real(1.0) / ({s} * {s}); var {quad} = real(0.0); \
             for (var {e} = 0u; {e} < {m}u; {e}++) {{ let {ei} = u32({edge_i}); let {ej} = u32({edge_j}); \
             let {w} = {edge_w}; let {d} = {xi} - {xj}; {quad} += {w} * {d} * {d}; {gi} {gj} }} \
             {out} = real(-0.5) * {quad} * {inv2} - real({dof}.0) * (ln_r({s}) + HALF_LN_2PI) + real(0.5) * {constant}; \
             {gs} }}",
            sigma = c.a(2, "0u"),
            constant = g.constant(),
            edge_i = g.edge(&e, 0),
            edge_j = g.edge(&e, 1),
            edge_w = g.edge(&e, 2),
            xi = c.a(0, &ei),
            xj = c.a(0, &ej),
            gi = c.add(0, &ei, &format!("-{w} * {d} * {inv2}")),
            gj = c.add(0, &ej, &format!("{w} * {d} * {inv2}")),
            out = c.out,
            dof = k - 1,
            gs = c.add(2, "0u", &format!("({quad} * {inv2} - real({}.0)) / {s}", k - 1)),
        )
    }

    /// `σ L⁻ᵀz` with `L Lᵀ = Q + c·11ᵀ/K` (`c` the mean degree), less its mean: that is `Q` on
    /// the plane and `c` along the constant, so the projection onto the plane has covariance
    /// `σ²Q⁺` (a Cholesky factorisation per draw, `O(K³)`); NaN where `W` breaks a rule.
    fn sample<R: Rng + ?Sized>(p: &[&[f64]], out: &mut [f64], rng: &mut R) {
        let (w, sigma) = (p[0], p[1][0]);
        let k = out.len();
        if Self::check_params(&[Some(w), None]).is_err() || w.len() != k * k {
            return out.fill(f64::NAN);
        }
        let Ok(l) = cholesky(&laplacian_plus_mean(w, k).0) else { return out.fill(f64::NAN) };
        let z: Vec<f64> = (0..k).map(|_| std_normal(rng)).collect();
        super::mv_normal::solve_lower_transposed(&l, k, &z, out);
        let mean = out.iter().sum::<f64>() / k as f64;
        out.iter_mut().for_each(|v| *v = sigma * (*v - mean));
    }
}
