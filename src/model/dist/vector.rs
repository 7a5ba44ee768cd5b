//! The second kind of family: densities over a whole vector (Dirichlet, MvNormal,
//! LKJCholesky, Categorical, NormalMixture, OrderedLogistic, OrderedProbit, ZeroSumNormal,
//! Multinomial, DirichletMultinomial, MvStudentT, and the mixtures of one scalar family:
//! PoissonMixture, NegativeBinomialMixture, ExponentialMixture, GammaMixture,
//! LogNormalMixture, StudentTMixture, BetaMixture, and the areal Car and Icar),
//! evaluated by one fused instruction (`Op::VecLpdf`) that also writes its analytic partials.
//!
//! A vector family sees its arguments whole (value first, then the parameters, each a flat
//! vector; matrices row by row) and writes its WGSL as statements generated for the lengths at
//! hand ([`VecCode`]), since WGSL functions cannot take arrays of varying length.

use rand::Rng;

use super::{Domain, Support};
use crate::model::Shape;

/// One family whose density is over a whole vector.
pub trait VecFamily {
    /// Lower-case name used in messages and model files ("dirichlet").
    const NAME: &'static str;
    /// Parameter names and elementwise domains, in order.
    const PARAMS: &'static [(&'static str, Domain)];
    /// Support of the values (its transform for free variables).
    const SUPPORT: Support;
    /// Whether each element of the value is a draw of its own, and so an observation of its
    /// own in the pointwise log-likelihood (a categorical's draws, a mixture's values);
    /// otherwise each whole draw (a matrix's rows: [`super::DistKind::observations`]) is one.
    const ELEMENTWISE: bool = matches!(Self::SUPPORT, Support::Category);
    /// Whether a parameter may be a matrix, read row by row (an MvNormal's Cholesky factor or
    /// a mean per row, a categorical's rows). A family whose parameters are one set shared by
    /// every draw refuses a matrix, rather than read its rows as one long vector.
    const MATRIX_PARAMS: bool = true;
    /// For an [`ELEMENTWISE`](Self::ELEMENTWISE) family, the parameters (by position) that hold
    /// one value per element, or one shared by all: taken element by element with the value's
    /// elements (an ordered logistic's `eta`). The others are whole for every element.
    const ALIGNED_PARAMS: &'static [usize] = &[];
    /// Scalar families whose WGSL functions [`wgsl`](Self::wgsl) calls (a mixture's
    /// component): the GPU module includes them with this one.
    const WGSL_NEEDS: &'static [super::DistKind] = &[];

    /// The value's length given the parameters' lengths and the values of the parameters that
    /// are constants (`None` where they are not): the shape rule of the family. `Err` says
    /// what is wrong.
    fn value_len(lens: &[usize], consts: &[Option<&[f64]>]) -> Result<usize, String>;

    /// The value's shape when the node gives none: a vector of [`value_len`](Self::value_len)
    /// elements, unless the family's value is a matrix (an LKJ Cholesky factor is `n × n`).
    fn value_shape(lens: &[usize], consts: &[Option<&[f64]>]) -> Result<Shape, String> {
        Self::value_len(lens, consts).map(Shape::Vector)
    }

    /// Values in one draw, in a value of `n` elements (a node may hold several draws: a matrix
    /// holds one per row). By default the family's value length.
    fn draw_len(_n: usize, lens: &[usize], consts: &[Option<&[f64]>]) -> Option<usize> {
        Self::value_len(lens, consts).ok()
    }

    /// Parameters (by position) that a matrix gives row by row, a row per draw (an MvNormal's
    /// mean, a multinomial's probabilities): such a matrix must have one row per draw, or one
    /// row shared by all, each as long as a draw.
    const DRAW_ROWS: &'static [usize] = &[];

    /// Whether one draw of a value of `n` elements holding `draws` draws reads its own part of
    /// parameter `j` (of `len` values, split evenly among the draws: an MvNormal's mean per
    /// row, a multinomial's `n` and row of probabilities) rather than all of it: how the
    /// pointwise log-likelihood takes a node of several draws apart. By default every draw
    /// reads every parameter whole.
    fn split_per_draw(_j: usize, _len: usize, _n: usize, _draws: usize) -> bool {
        false
    }

    /// Whether a value of `n` elements fits parameters of lengths `lens` (a node may hold
    /// several independent draws where the family allows it).
    fn accepts_len(n: usize, lens: &[usize], consts: &[Option<&[f64]>]) -> Result<(), String> {
        let want = Self::value_len(lens, consts)?;
        if n == want {
            Ok(())
        } else {
            Err(format!("the value has {n} elements; {} needs {want}", Self::NAME))
        }
    }

    /// Checks of the parameters that are constants (`None` for the others) beyond their
    /// elementwise domains (a Cholesky factor's diagonal, a covariance that is positive
    /// definite). Returns the rule broken.
    fn check_params(_p: &[Option<&[f64]>]) -> Result<(), String> {
        Ok(())
    }

    /// Whether data `x` lie in the support given the parameters' lengths `lens` and the values
    /// `p` of those that are constants (`None` for a random one: only the checks that do not
    /// depend on it). `Err((index, rule))` names the first bad element.
    fn check_value(x: &[f64], lens: &[usize], p: &[Option<&[f64]>]) -> Result<(), (usize, String)>;

    /// A data parameter (by position) that the compiler replaces, once, by a form cheaper to
    /// evaluate (`Some`): an adjacency matrix by its packed graph (its edges, degrees and
    /// spectrum). [`lpdf_grad`](Self::lpdf_grad) then receives either form (the compiled
    /// program the prepared one, a caller with the model's values the data) and
    /// [`wgsl`](Self::wgsl) the prepared one. `Err` says why the data do not fit.
    fn prepare(_j: usize, _value: &[f64]) -> Option<Result<Vec<f64>, String>> {
        None
    }

    /// Log density of `x` (`args[0]`) given the parameters (`args[1..]`), all constants
    /// included; when `grads` is given, adds `∂/∂args[j]` into `grads[j]` (each as long as its
    /// argument).
    fn lpdf_grad(args: &[&[f64]], grads: Option<&mut [Vec<f64>]>) -> f64;

    /// WGSL statements computing the density into `code.out` and adding the wanted partials.
    fn wgsl(code: &VecCode) -> String;

    /// One random draw of a value of `n` elements into `out`.
    fn sample<R: Rng + ?Sized>(p: &[&[f64]], out: &mut [f64], rng: &mut R);
}

/// What a vector family's WGSL generator works with: how to read each argument, and where
/// its results go.
pub struct VecCode<'a> {
    /// `arg(j, k)`: the WGSL expression of element `k` (a `u32` expression) of argument `j`.
    pub arg: &'a dyn Fn(usize, &str) -> String,
    /// Length of every argument (value first).
    pub lens: &'a [usize],
    /// Per argument, the function-scope array (as long as the argument, zeroed) that its
    /// partial is added to, when it is wanted.
    pub partial: &'a [Option<String>],
    /// The `real` variable the density is assigned to.
    pub out: &'a str,
    /// A suffix that makes local names unique.
    pub tag: String,
}

impl VecCode<'_> {
    /// Element `k` of argument `j`; a scalar argument broadcasts.
    pub fn a(&self, j: usize, k: &str) -> String {
        (self.arg)(j, if self.lens[j] == 1 { "0u" } else { k })
    }

    /// `partial[j][k] += (e);` when partial `j` is wanted (a scalar argument's partial is
    /// its element 0), else nothing.
    pub fn add(&self, j: usize, k: &str, e: &str) -> String {
        match &self.partial[j] {
            Some(p) => format!("{p}[{}] += {e};", if self.lens[j] == 1 { "0u" } else { k }),
            None => String::new(),
        }
    }

    /// Whether partial `j` is wanted.
    pub fn wants(&self, j: usize) -> bool {
        self.partial[j].is_some()
    }

    /// A local name unique to this instruction (`name` + tag).
    pub fn n(&self, name: &str) -> String {
        format!("{name}_{}", self.tag)
    }
}

/// Element `i` of `v`, broadcasting a scalar.
pub(crate) fn at(v: &[f64], i: usize) -> f64 {
    if v.len() == 1 { v[0] } else { v[i] }
}

/// Adds `d` to element `i` of a partial, summing into element 0 for a scalar argument.
pub(crate) fn add_at(g: &mut [f64], i: usize, d: f64) {
    if g.len() == 1 {
        g[0] += d;
    } else {
        g[i] += d;
    }
}

/// `K` with `K² = n`, when `n` is a perfect square of at least 4.
pub(crate) fn square_side(n: usize) -> Option<usize> {
    let k = (n as f64).sqrt().round() as usize;
    (k >= 2 && k * k == n).then_some(k)
}

/// Representative models for every vector family, each with every argument random that can be
/// (so every partial and both bijectors are exercised): the test suite checks their gradients
/// against finite differences and the GPU backend against the CPU on them.
pub fn examples() -> Vec<(&'static str, crate::model::Model)> {
    use crate::model::dist::families::*;
    use crate::model::{Expr, Model};
    let build = |f: &dyn Fn(&mut Model) -> crate::error::Result<()>| {
        let mut m = Model::new();
        f(&mut m).map(|()| m)
    };
    let models: Vec<(&'static str, crate::error::Result<Model>)> = vec![
        (
            "dirichlet prior, categorical likelihood",
            build(&|m| {
                let p = m.rv("p", Dirichlet::new(vec![1.5, 2.0, 0.7]))?;
                m.observe("y", Categorical::new(p), &[0.0, 2.0, 2.0, 1.0, 2.0, 0.0])?;
                Ok(())
            }),
        ),
        (
            "dirichlet rows with random alpha",
            build(&|m| {
                let a = m.rv_vec("a", HalfNormal::new(2), 3)?;
                let p = m.rv_vec("p", Dirichlet::new(a + 0.5), 6)?;
                m.observe("z", Normal::new(p, 0.3), &[0.2, 0.5, 0.3, 0.6, 0.1, 0.3])?;
                m.observe("s", Dirichlet::new(a + 0.2), &[0.2, 0.3, 0.5, 0.1, 0.1, 0.8])?;
                Ok(())
            }),
        ),
        (
            "symmetric dirichlet",
            build(&|m| {
                let a = m.rv("a", Gamma::new(2, 1))?;
                let q = m.rv_vec("q", Dirichlet::new(a), 4)?;
                m.observe("y", Categorical::new(q), &[3.0, 3.0, 1.0])?;
                Ok(())
            }),
        ),
        (
            "categorical logits",
            build(&|m| {
                let l = m.rv_vec("l", Normal::new(0, 2), 4)?;
                m.observe("y", Categorical::logit(l), &[0.0, 3.0, 3.0, 1.0, 2.0, 3.0])?;
                Ok(())
            }),
        ),
        (
            "softmax regression",
            build(&|m| {
                let x =
                    m.data_matrix("x", 5, 2, vec![0.3, -1.2, 1.1, 0.4, -0.7, 0.9, 0.0, 1.5, 2.1, -0.3])?;
                let alpha = m.rv_vec("alpha", Normal::new(0, 2), 3)?;
                let beta = m.rv_vec("beta", Normal::new(0, 1), 2 * 3)?;
                m.observe("y", Categorical::logit(alpha + x.matmul(beta, 3)), &[0.0, 2.0, 1.0, 2.0, 0.0])?;
                Ok(())
            }),
        ),
        (
            "categorical rows by group",
            build(&|m| {
                let p = m.rv_vec("p", Dirichlet::new(vec![1.5, 1.0, 2.0]), 2 * 3)?;
                let rows = m.int_data("rows", &[0, 1, 2, 3, 4, 5, 3, 4, 5, 0, 1, 2])?;
                m.observe("y", Categorical::new(p.at(rows).reshape(4, 3)), &[2.0, 0.0, 1.0, 2.0])?;
                Ok(())
            }),
        ),
        (
            "mv_normal likelihood, data factor",
            build(&|m| {
                let mu = m.rv_vec("mu", Normal::new(0, 3), 2)?;
                let chol = m.data("chol", vec![1.2, 0.0, 0.5, 0.7])?;
                m.observe("y", MvNormal::new(mu, chol), &[0.1, 0.4, -0.3, 0.2, 1.1, 0.9])?;
                Ok(())
            }),
        ),
        (
            "mv_student_t likelihood with random nu, mean rows and factor",
            build(&|m| {
                let nu = m.rv("nu", Gamma::new(2, 0.2))?;
                let corr = m.rv("corr", LkjCholesky::new(2, 2))?;
                let sigma = m.rv_vec("sigma", HalfNormal::new(1), 2)?;
                let rows = m.int_data("rows", &[0, 0, 1, 1])?;
                let chol = m.deterministic("chol", sigma.at(rows) * corr)?;
                let mu = m.rv_vec("mu", Normal::new(0, 3), 6)?;
                m.observe("y", MvStudentT::new(nu, mu, chol), &[0.1, 0.4, -0.3, 0.2, 7.1, -4.9])?;
                Ok(())
            }),
        ),
        (
            "mv_student_t prior with a shared mean",
            build(&|m| {
                let nu = m.rv("nu", Gamma::new(4, 0.5))?;
                let mu = m.rv_vec("mu", Normal::new(0, 1), 2)?;
                let chol = m.data("chol", vec![0.9, 0.0, -0.4, 0.6])?;
                let b = m.rv_vec("b", MvStudentT::new(nu, mu, chol), 6)?;
                m.observe("y", Normal::new(Expr::from(b), 0.5), &[0.3, -0.2, 1.2, 0.8, 0.1, -0.4])?;
                Ok(())
            }),
        ),
        (
            "mv_normal covariance",
            build(&|m| {
                let mu = m.rv_vec("mu", Normal::new(0, 3), 3)?;
                let cov = m.data("cov", vec![2.0, 0.3, 0.1, 0.3, 1.0, -0.2, 0.1, -0.2, 0.5])?;
                m.observe("y", MvNormal::cov(mu, cov), &[0.1, 0.4, -0.3, 0.2, 1.1, 0.9])?;
                Ok(())
            }),
        ),
        (
            "lkj correlated effects",
            build(&|m| {
                let eta = m.rv("eta", Gamma::new(4, 2))?;
                let corr = m.rv("corr", LkjCholesky::new(3, eta))?;
                let sigma = m.rv_vec("sigma", HalfNormal::new(1), 3)?;
                let rows = m.int_data("rows", &[0, 0, 0, 1, 1, 1, 2, 2, 2])?;
                let chol = m.deterministic("chol", sigma.at(rows) * corr)?;
                let mu = m.rv_vec("mu", Normal::new(0, 1), 3)?;
                let b = m.rv_vec("b", MvNormal::new(mu, chol), 6)?;
                m.observe("y", Normal::new(Expr::from(b), 0.5), &[0.3, -0.2, 1.2, 0.8, 0.1, -0.4])?;
                m.observe("w", MvNormal::new(0, chol), &[0.5, -0.1, 0.3, 0.2, 0.2, -0.6, -0.3, 0.4, 0.1])?;
                Ok(())
            }),
        ),
        (
            "mv_normal prior kept centred",
            build(&|m| {
                let corr = m.rv("corr", LkjCholesky::new(2, 1.5))?;
                let sigma = m.rv_vec("sigma", HalfNormal::new(1), 2)?;
                let rows = m.int_data("rows", &[0, 0, 1, 1])?;
                let chol = m.deterministic("chol", sigma.at(rows) * corr)?;
                let b = m.rv_vec("b", MvNormal::new(vec![0.5, -0.5], chol), 4)?;
                m.keep_centered(b)?;
                m.observe("y", Normal::new(Expr::from(b), 0.5), &[0.3, -0.2, 1.2, 0.8])?;
                Ok(())
            }),
        ),
        (
            "normal mixture likelihood",
            build(&|m| {
                let w = m.rv("w", Dirichlet::new(vec![2.0, 2.0, 2.0]))?;
                let mu = m.rv_vec("mu", Normal::new(vec![-2.0, 0.0, 2.0], 1.0), 3)?;
                let sigma = m.rv_vec("sigma", HalfNormal::new(1), 3)?;
                m.observe("y", NormalMixture::new(w, mu, sigma), &[-2.3, -1.6, 0.2, 1.9, 2.6, 0.1, -0.4])?;
                Ok(())
            }),
        ),
        (
            "normal mixture prior, shared scale",
            build(&|m| {
                let w = m.rv("w", Dirichlet::new(vec![1.5, 1.5]))?;
                let s = m.rv("s", HalfNormal::new(1))?;
                let x = m.rv_vec("x", NormalMixture::new(w, vec![-1.0, 1.0], s), 4)?;
                m.observe("y", Normal::new(Expr::from(x), 0.5), &[-1.2, 0.8, 1.1, -0.7])?;
                // One draw, a scalar.
                let one = m.rv("one", NormalMixture::new(w, vec![-1.0, 1.0], s))?;
                m.observe("z", Normal::new(one, 0.5), &[0.9, 1.3])?;
                Ok(())
            }),
        ),
        (
            "mixtures of one family, counts and positive values",
            build(&|m| {
                let w = m.rv("w", Dirichlet::new(vec![2.0, 2.0]))?;
                // Ordered rates, through ordered log rates.
                let log_mu = m.rv_vec("log_mu", Normal::new(vec![1.0, 3.0], 1.0), 2)?;
                m.ordered(log_mu)?;
                let mu = m.deterministic("mu", log_mu.exp())?;
                let alpha = m.rv("alpha", Exponential::new(0.2))?;
                m.observe("n", PoissonMixture::new(w, mu), &[1.0, 3.0, 2.0, 14.0, 19.0, 0.0])?;
                let nb = NegativeBinomialMixture::new(w, mu, alpha);
                m.observe("nb", nb, &[0.0, 5.0, 2.0, 24.0, 31.0])?;
                let lam = m.rv_vec("lam", Gamma::new(2.0, 1.0), 2)?;
                m.observe("e", ExponentialMixture::new(w, lam), &[0.1, 2.3, 0.05, 4.1])?;
                m.observe("g", GammaMixture::new(w, alpha, lam), &[0.5, 2.3, 0.8, 9.1])?;
                Ok(())
            }),
        ),
        (
            "mixtures of one family, real values and proportions; a free positive mixture",
            build(&|m| {
                let w = m.rv("w", Dirichlet::new(vec![2.0, 2.0, 2.0]))?;
                let mu = m.rv_vec("mu", Normal::new(vec![-2.0, 0.0, 2.0], 1.0), 3)?;
                let sigma = m.rv_vec("sigma", HalfNormal::new(1.0), 3)?;
                let nu = m.rv("nu", Gamma::new(4.0, 0.5))?;
                m.observe("t", StudentTMixture::new(w, nu, mu, sigma), &[-2.1, -1.7, 0.3, 2.2, 9.4])?;
                m.observe("ln", LogNormalMixture::new(w, mu, 0.7), &[0.9, 1.2, 7.5, 0.1])?;
                let a = m.rv_vec("a", Gamma::new(2.0, 0.5), 3)?;
                m.observe("b", BetaMixture::new(w, a, sigma), &[0.1, 0.2, 0.8, 0.7, 0.15])?;
                // A free positive mixture: its values get the log transform.
                let x = m.rv_vec("x", GammaMixture::new(w, vec![2.0, 5.0, 9.0], 1.5), 3)?;
                m.observe("y", Normal::new(Expr::from(x), 0.5), &[1.2, 3.8, 6.1])?;
                Ok(())
            }),
        ),
        (
            "ordinal regression, ordered cut points",
            build(&|m| {
                let x = m.data("x", vec![-1.2, 0.3, 0.8, 1.9, -0.4, 0.1, 2.5])?;
                let beta = m.rv("beta", Normal::new(0, 2))?;
                let cut = m.rv_vec("cut", Normal::new(0, 3), 3)?;
                m.ordered(cut)?;
                m.observe("y", OrderedLogistic::new(beta * x, cut), &[0.0, 1.0, 3.0, 3.0, 1.0, 2.0, 3.0])?;
                Ok(())
            }),
        ),
        (
            "ordered rows, probit outcomes with a shared predictor",
            build(&|m| {
                let rows = m.rv_matrix("rows", Normal::new(0, 2), 2, 3)?;
                m.ordered(rows)?;
                m.observe("z", Normal::new(rows, 0.5), &[-1.0, 0.2, 1.5, -2.0, -0.3, 0.4])?;
                let eta = m.rv("eta", Normal::new(0, 1))?;
                let cut = m.rv_vec("cut", Normal::new(vec![-1.0, 1.0], 2), 2)?;
                m.ordered(cut)?;
                m.observe("y", OrderedProbit::new(eta, cut), &[0.0, 2.0, 1.0, 1.0])?;
                // One cut point: two categories.
                let one = m.rv_vec("one", Normal::new(0, 2), 1)?;
                m.observe("w", OrderedLogistic::new(eta, one), &[0.0, 1.0, 1.0])?;
                Ok(())
            }),
        ),
        (
            "zero-sum effects with a hierarchical scale, a zero-sum observation",
            build(&|m| {
                let s = m.rv("s", HalfNormal::new(1))?;
                // Non-centred (`effect = s · effect_z`, `effect_z ~ ZeroSumNormal(1)`).
                let effect = m.rv_vec("effect", ZeroSumNormal::new(s), 4)?;
                let group = m.int_data("group", &[0, 1, 2, 3, 0, 2, 1])?;
                let y = [0.4, -0.3, 1.2, -1.0, 0.6, 0.9, -0.2];
                m.observe("y", Normal::new(Expr::from(effect).at(group), 0.5), &y)?;
                // Centred (a constant scale), and zero-sum data.
                let pair = m.rv_vec("pair", ZeroSumNormal::new(2.0), 2)?;
                m.observe("z", Normal::new(pair, 1.0), &[0.3, -0.5])?;
                m.observe("d", ZeroSumNormal::new(s), &[0.5, -0.2, -0.3])?;
                Ok(())
            }),
        ),
        (
            "multinomial counts: dirichlet probabilities, a softmax regression with one n",
            build(&|m| {
                let p = m.rv("p", Dirichlet::new(vec![1.0, 2.0, 1.5]))?;
                m.observe("y", Multinomial::new(vec![10.0, 7.0], p), &[2.0, 5.0, 3.0, 0.0, 6.0, 1.0])?;
                let x = m.data_matrix("x", 3, 2, vec![0.3, -1.2, 1.1, 0.4, -0.7, 0.9])?;
                let beta = m.rv_vec("beta", Normal::new(0, 1), 2 * 3)?;
                // exp(x β) as weights: the rows are normalised, a softmax.
                let weights = x.matmul(beta, 3).exp();
                m.observe(
                    "z",
                    Multinomial::new(12.0, weights),
                    &[3.0, 4.0, 5.0, 0.0, 2.0, 10.0, 6.0, 6.0, 0.0],
                )?;
                Ok(())
            }),
        ),
        (
            "dirichlet-multinomial: fractions and a concentration, a row per draw",
            build(&|m| {
                let frac = m.rv("frac", Dirichlet::new(vec![1.0, 1.0, 1.0]))?;
                let conc = m.rv("conc", LogNormal::new(2.0, 1.0))?;
                let counts = [3.0, 20.0, 1.0, 0.0, 2.0, 7.0];
                m.observe("y", DirichletMultinomial::new(vec![24.0, 9.0], frac * conc), &counts)?;
                // Concentrations from 10 up and counts from 16: Stirling's series for the
                // rising factorials.
                m.observe(
                    "w",
                    DirichletMultinomial::new(52.0, frac * conc * 40.0 + 10.0),
                    &[11.0, 24.0, 17.0],
                )?;
                let a = m.rv_matrix("a", Gamma::new(2.0, 0.5), 2, 2)?;
                m.observe("z", DirichletMultinomial::new(30.0, a), &[12.0, 18.0, 29.0, 1.0])?;
                Ok(())
            }),
        ),
        (
            "areal effects: a CAR of random mean, alpha and precision, an ICAR of a hierarchical scale",
            build(&|m| {
                // Five areas in a ring, with a chord 0 – 2 of weight 0.5.
                let mut w = vec![0.0; 25];
                for (i, j, v) in
                    [(0, 1, 1.0), (1, 2, 1.0), (2, 3, 1.0), (3, 4, 1.0), (4, 0, 1.0), (0, 2, 0.5)]
                {
                    w[i * 5 + j] = v;
                    w[j * 5 + i] = v;
                }
                let w = m.data_matrix("W", 5, 5, w)?;
                let mu = m.rv_vec("mu", Normal::new(0, 1), 5)?;
                let alpha = m.rv("alpha", Uniform::new(-1.0, 1.0))?;
                let tau = m.rv("tau", Gamma::new(3.0, 1.0))?;
                let phi = m.rv("phi", Car::new(mu, w, alpha, tau))?;
                m.observe("y", Normal::new(phi, 0.5), &[0.3, -0.4, 1.2, 0.1, -0.8])?;
                // Non-centred (`psi = s · psi_z`, `psi_z ~ Icar(W, 1)`).
                let s = m.rv("s", HalfNormal::new(1))?;
                let psi = m.rv("psi", Icar::new(w, s))?;
                m.observe("z", Poisson::new((Expr::from(psi) + 1.0).exp()), &[2.0, 4.0, 1.0, 3.0, 0.0])?;
                // Observed, with a random scalar mean; zero-sum data.
                let m0 = m.rv("m0", Normal::new(0.3, 1))?;
                m.observe("c", Car::new(m0, w, alpha, tau), &[0.5, 0.1, -0.2, 0.9, 0.4])?;
                m.observe("d", Icar::new(w, s), &[0.5, -0.2, -0.3, 0.1, -0.1])?;
                Ok(())
            }),
        ),
    ];
    models.into_iter().map(|(label, m)| (label, m.expect("example models are valid"))).collect()
}
