//! Helpers shared by the integration tests.
#![allow(dead_code)]

use std::path::PathBuf;

pub mod browser;
pub mod fuzz;

/// The shared folder beside the repository (`EXMC_SHARED` overrides), if present.
pub fn shared_dir() -> Option<PathBuf> {
    let dir = match std::env::var_os("EXMC_SHARED") {
        Some(d) => PathBuf::from(d),
        None => PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../shared")),
    };
    dir.is_dir().then_some(dir)
}

/// Prints a visible skip message (stderr is shown even for passing tests with --nocapture;
/// the message also goes straight to the terminal's stderr).
pub fn skip(test: &str, why: &str) {
    use std::io::Write;
    let msg = format!("SKIPPED {test}: {why}");
    eprintln!("{msg}");
    let _ = writeln!(std::io::stderr().lock(), "{msg}");
}

/// Reads a JSON file under the shared folder.
pub fn shared_json(rel: &str) -> Option<serde_json::Value> {
    let path = shared_dir()?.join(rel);
    let text = std::fs::read_to_string(path).ok()?;
    serde_json::from_str(&text).ok()
}

/// One quantity of a reference posterior (PyMC's): mean, sd and Monte Carlo standard error of
/// the mean, as the oracle scripts write them.
#[derive(serde::Deserialize)]
pub struct Reference {
    pub mean: f64,
    pub sd: f64,
    pub mcse_mean: f64,
}

/// An oracle file of PyMC posteriors: PyMC's version and one entry per model (`D`: its data and
/// posterior, as each test file lays them out).
#[derive(serde::Deserialize)]
pub struct PymcOracle<D> {
    pub pymc: String,
    pub models: std::collections::HashMap<String, D>,
}

/// One model of a [`PymcOracle`] as the `scripts/pymc_reference.py` helper records it: its
/// data by name (flattened), PyMC's summary of each quantity and its divergences.
#[derive(serde::Deserialize)]
pub struct PymcModel {
    pub data: std::collections::HashMap<String, Vec<f64>>,
    pub posterior: std::collections::HashMap<String, Reference>,
    pub divergences: usize,
}

/// [`test_data`] of a [`PymcOracle`], saying which PyMC made it.
pub fn pymc_oracle<D: serde::de::DeserializeOwned>(file: &str) -> PymcOracle<D> {
    let o: PymcOracle<D> = test_data(file);
    eprintln!("oracle from PyMC {}", o.pymc);
    o
}

/// Every quantity of PyMC's `posterior` (keyed `name`, or `name[i]` for element `i`) in every
/// fit ([`assert_matches_pymc`]), after checking that PyMC did not diverge.
pub fn check_posterior(
    test: &str,
    fits: &[exmc::Fit],
    posterior: &std::collections::HashMap<String, Reference>,
    divergences: usize,
) {
    assert_eq!(divergences, 0, "{test}: PyMC diverged");
    for fit in fits {
        for (key, r) in posterior {
            let (name, elem) = match key.split_once('[') {
                Some((name, rest)) => (name, rest.trim_end_matches(']').parse().expect("an element index")),
                None => (key.as_str(), 0),
            };
            assert_matches_pymc(fit, test, name, elem, (r.mean, r.sd, r.mcse_mean));
        }
    }
}

/// A JSON file of `tests/data/` (an oracle script's output), parsed.
pub fn test_data<T: serde::de::DeserializeOwned>(file: &str) -> T {
    let path = format!("{}/tests/data/{file}", env!("CARGO_MANIFEST_DIR"));
    serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// The file's model and the Rust form have the same free elements, log density and gradient
/// at five points (`bitwise`: the gradients' bits too, else to 12 digits).
pub fn same_density(file: &Model, m: &Model, bitwise: bool) {
    let opts = exmc::rewrite::RewriteOptions::default;
    let (a, b) = (exmc::compile::compile(file, opts()).unwrap(), exmc::compile::compile(m, opts()).unwrap());
    assert_eq!(a.pointmap.element_names(), b.pointmap.element_names());
    let (ea, eb) =
        (exmc::backend::cpu::Executor::new(a.logp_grad), exmc::backend::cpu::Executor::new(b.logp_grad));
    let d = a.pointmap.dim;
    let (mut wa, mut wb) = (ea.workspace(), eb.workspace());
    let (mut ga, mut gb) = (vec![0.0; d], vec![0.0; d]);
    for k in 0..5 {
        let u: Vec<f64> = (0..d).map(|i| ((i * 7 + k * 3) % 11) as f64 * 0.2 - 1.0).collect();
        let (la, lb) = (ea.run(&mut wa, &u, &mut ga), eb.run(&mut wb, &u, &mut gb));
        assert!(la.is_finite() && (la - lb).abs() < 1e-12 * la.abs().max(1.0), "{la} vs {lb}");
        for (x, y) in ga.iter().zip(&gb) {
            assert!(if bitwise { x == y } else { (x - y).abs() < 1e-12 * x.abs().max(1.0) }, "{x} vs {y}");
        }
    }
}

/// Draws of element `elem` of `name` pooled over chains.
pub fn pooled(fit: &exmc::Fit, name: &str, elem: usize) -> Vec<f64> {
    fit.trace.chains_of(name, elem).expect("variable in trace").concat()
}

/// Mean, sd (ddof 1) and MCSE of the mean of one scalar.
pub fn moments(fit: &exmc::Fit, name: &str, elem: usize) -> (f64, f64, f64) {
    trace_moments(&fit.trace, name, elem)
}

/// [`moments`] of a trace (a fit's, or draws made from one).
pub fn trace_moments(trace: &exmc::sampler::Trace, name: &str, elem: usize) -> (f64, f64, f64) {
    let chains = trace.chains_of(name, elem).expect("variable in trace");
    let refs: Vec<&[f64]> = chains.iter().map(Vec::as_slice).collect();
    let all = chains.concat();
    let n = all.len() as f64;
    let mean = all.iter().sum::<f64>() / n;
    let sd = (all.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (n - 1.0)).sqrt();
    (mean, sd, exmc::diagnostics::mcse_mean(&refs))
}

/// One element of `fit`'s posterior against PyMC's of the same model and data (its mean, sd and
/// Monte Carlo standard error of the mean): the mean within 4·√(mcse² + mcse_ref²), the
/// standard deviation within 6% (about five standard errors of an sd estimated from some
/// 4,000 effective draws). `label` names the model in messages.
pub fn assert_matches_pymc(
    fit: &exmc::Fit,
    label: &str,
    name: &str,
    elem: usize,
    reference: (f64, f64, f64),
) {
    assert_trace_matches_pymc(&fit.trace, &format!("{label} {}", fit.backend), name, elem, reference);
}

/// [`assert_matches_pymc`] for a trace (draws made from a fit, such as a process's values at
/// new points); `label` names the model and the backend in messages.
pub fn assert_trace_matches_pymc(
    trace: &exmc::sampler::Trace,
    label: &str,
    name: &str,
    elem: usize,
    reference: (f64, f64, f64),
) {
    assert_trace_matches_pymc_within(trace, label, name, elem, reference, 0.06);
}

/// [`assert_trace_matches_pymc`] with the standard deviation within `sd_tol` of PyMC's,
/// relative.
pub fn assert_trace_matches_pymc_within(
    trace: &exmc::sampler::Trace,
    label: &str,
    name: &str,
    elem: usize,
    reference: (f64, f64, f64),
    sd_tol: f64,
) {
    let (mean_ref, sd_ref, mcse_ref) = reference;
    let (mean, sd, mcse) = trace_moments(trace, name, elem);
    let tol = 4.0 * (mcse * mcse + mcse_ref * mcse_ref).sqrt();
    let tol_sd = sd_tol * sd_ref;
    let what = format!("{label} {name}[{elem}]");
    eprintln!("{what}: mean {mean:.4} sd {sd:.4}; PyMC {mean_ref:.4} {sd_ref:.4}");
    assert!((mean - mean_ref).abs() <= tol, "{what}: mean {mean} vs PyMC {mean_ref} (tolerance {tol})");
    assert!((sd - sd_ref).abs() <= tol_sd, "{what}: sd {sd} vs PyMC {sd_ref} (tolerance {tol_sd})");
}

/// Rubin's eight schools: observed effects and their standard errors.
pub const SCHOOLS_Y: [f64; 8] = [28.0, 8.0, -3.0, 7.0, -1.0, 1.0, 18.0, 12.0];
/// Standard errors of [`SCHOOLS_Y`].
pub const SCHOOLS_SIGMA: [f64; 8] = [15.0, 10.0, 16.0, 11.0, 9.0, 11.0, 10.0, 18.0];

/// The centred eight-schools model (`theta ~ N(mu, tau)`), which auto-NCP rewrites.
pub fn eight_schools(y: &[f64], sigma: &[f64]) -> exmc::Model {
    use exmc::prelude::*;
    let mut m = Model::new();
    let mu = m.rv("mu", Normal::new(0.0, 5.0)).unwrap();
    let tau = m.rv("tau", HalfCauchy::new(5.0)).unwrap();
    let theta = m.rv_vec("theta", Normal::new(mu, tau), y.len()).unwrap();
    m.observe("y", Normal::new(theta, sigma.to_vec()), y).unwrap();
    m
}

/// A non-centred Gaussian random walk over `t ≥ 2` steps with an offset, observed directly
/// and through its first differences: running sums, differences and their adjoints (the
/// running sum from the end, scatters of slices).
pub fn random_walk(t: usize) -> exmc::Model {
    use exmc::prelude::*;
    let mut m = Model::new();
    let z = m.rv_vec("z", Normal::new(0, 1), t).unwrap();
    let s = m.rv("s", HalfNormal::new(1)).unwrap();
    let a = m.rv("a", Normal::new(0, 1)).unwrap();
    let walk = m.deterministic("walk", (s * z).cumsum() + a).unwrap();
    let y: Vec<f64> = (0..t).map(|i| (i as f64 * 0.7).sin()).collect();
    let dy: Vec<f64> = y.windows(2).map(|w| w[1] - w[0]).collect();
    m.observe("y", Normal::new(walk, 0.5), &y).unwrap();
    m.observe("dy", Normal::new(walk.diff() * 0.5, s + 0.2), &dy).unwrap();
    m
}

/// Set (to anything but `0`) where a GPU adapter must exist, as `.ci/run` does once it has
/// installed Mesa's lavapipe: a GPU test that finds no adapter then fails instead of skipping,
/// so a broken Vulkan install cannot turn the GPU suite into a row of passes.
pub const REQUIRE_GPU: &str = "EXMC_REQUIRE_GPU";

/// [`gpu`] where the adapter has 64-bit floats (`SHADER_F64`); otherwise a visible skip
/// message and `None`.
pub fn gpu_f64(test: &str) -> Option<exmc::backend::gpu::Gpu> {
    let gpu = gpu(test)?;
    if gpu.has_f64() {
        Some(gpu)
    } else {
        skip(test, "adapter lacks SHADER_F64");
        None
    }
}

/// The default GPU adapter for `test`; without one, a visible skip message and `None` — or a
/// failure when [`REQUIRE_GPU`] is set.
pub fn gpu(test: &str) -> Option<exmc::backend::gpu::Gpu> {
    match exmc::backend::gpu::Gpu::new() {
        Ok(g) => Some(g),
        Err(e) => {
            let required = std::env::var(REQUIRE_GPU).is_ok_and(|v| !v.is_empty() && v != "0");
            assert!(!required, "{test}: {REQUIRE_GPU} is set but there is no GPU adapter: {e}");
            skip(test, &e.to_string());
            None
        }
    }
}

/// The backends a posterior test runs on: the CPU backend always, and the GPU backend (f32
/// kernels) when an adapter exists — Mesa lavapipe in CI; otherwise a visible skip message.
pub fn backends(test: &str) -> Vec<exmc::prelude::BackendChoice> {
    let mut out = vec![exmc::prelude::BackendChoice::Cpu];
    if gpu(&format!("{test} on the GPU backend")).is_some() {
        out.push(exmc::prelude::BackendChoice::Gpu);
    }
    out
}

/// `m` fitted on every backend ([`backends`]) as the comparisons with PyMC are (4 chains of
/// 2000 draws after 1000 warmup, seed 5), each checked to have no divergent transition.
pub fn fits(test: &str, m: &exmc::Model) -> Vec<exmc::Fit> {
    fits_with(test, m, |s| s)
}

/// [`fits`] with further settings of every sampler (`set`).
pub fn fits_with<'m>(
    test: &str,
    m: &'m exmc::Model,
    set: impl Fn(exmc::Sampler<'m>) -> exmc::Sampler<'m>,
) -> Vec<exmc::Fit> {
    let run = |backend| {
        let fit = exmc::prelude::Sampler::new(m).backend(backend).chains(4).warmup(1000).draws(2000).seed(5);
        let fit = set(fit).progress(false).run().unwrap();
        assert_eq!(fit.divergences(), 0, "{test} {backend:?}");
        fit
    };
    backends(test).into_iter().map(run).collect()
}

use exmc::model::{DistKind, Domain, Support};
use exmc::prelude::{Beta, Expr, Gamma, LogNormal, Model, Normal};

/// Parameters of `kind`, each a random expression in its domain (bounds first and around
/// [`data_for`]'s values): the family tests' way to make every parameter random.
pub fn random_params(m: &mut Model, kind: DistKind) -> Vec<Expr> {
    let spec = kind.params();
    // Bounds first (interval families store them first), random but around the data.
    let mut out: Vec<Expr> = match kind.support() {
        Support::Interval => {
            let a = m.rv("lower", Normal::new(0.0, 1.0)).unwrap();
            let w = m.rv("width", Gamma::new(4.0, 1.0)).unwrap();
            vec![a - 3.0, a + 3.0 + w]
        }
        // A positive lower bound (Pareto's m) below `data_for`'s positive values wherever the
        // unconstrained position lies in (−1.5, 1.5).
        Support::Above if spec[0].1 == Domain::Positive => {
            vec![m.rv("lower", Normal::new(0.0, 1.0)).unwrap().exp() * 0.08]
        }
        Support::Above => vec![m.rv("lower", Normal::new(0.0, 1.0)).unwrap() - 3.0],
        Support::Below => vec![m.rv("upper", Normal::new(0.0, 1.0)).unwrap() + 3.0],
        // Censoring bounds are data: the first and last of `data_for`'s values, so that one
        // observation is censored at each bound.
        Support::Censored => vec![Expr::constant(0.4), Expr::constant(2.5)],
        _ => Vec::new(),
    };
    let rest: Vec<Expr> = spec[out.len()..]
        .iter()
        .map(|(name, domain)| {
            let p = format!("p_{name}");
            match domain {
                // A triangular's mode between its random bounds.
                Domain::Real if kind == DistKind::Triangular => {
                    let at = m.rv(&p, Normal::new(0.0, 1.0)).unwrap().logistic();
                    out[0].clone() + (out[1].clone() - out[0].clone()) * at
                }
                Domain::Real => m.rv(&p, Normal::new(0.3, 1.0)).unwrap().into(),
                Domain::Positive | Domain::NonNegative => m.rv(&p, LogNormal::new(0.5, 0.3)).unwrap().into(),
                Domain::Probability => m.rv(&p, Beta::new(2.0, 2.0)).unwrap().into(),
                Domain::Count => Expr::constant(10.0),
                Domain::Fixed | Domain::Bound => {
                    unreachable!("scalar families' data-only parameters come first")
                }
            }
        })
        .collect();
    out.extend(rest);
    out
}

/// Three observations inside `kind`'s support (and inside [`random_params`]' bounds).
pub fn data_for(kind: DistKind) -> Vec<f64> {
    match kind.support() {
        Support::Above if kind.params()[0].1 == Domain::Positive => vec![0.4, 1.1, 2.5],
        Support::Real | Support::Interval | Support::Above | Support::Below | Support::Circular => {
            vec![-1.3, 0.2, 1.7]
        }
        Support::Positive | Support::Censored => vec![0.4, 1.1, 2.5],
        Support::ZeroOrPositive => vec![0.0, 1.1, 2.5],
        Support::UnitInterval => vec![0.15, 0.5, 0.8],
        Support::Binary => vec![0.0, 1.0, 1.0],
        // The geometric's counts start at 1.
        Support::Count if kind == DistKind::Geometric => vec![1.0, 3.0, 7.0],
        Support::Count | Support::BoundedCount => vec![0.0, 3.0, 7.0],
        Support::Simplex | Support::CorrCholesky | Support::Category | Support::ZeroSum => {
            unreachable!("vector families have their own examples (dist::vector::examples)")
        }
    }
}

/// A JSON array of numbers as floats (null → NaN).
pub fn floats(v: &serde_json::Value) -> Vec<f64> {
    v.as_array().into_iter().flatten().map(|x| x.as_f64().unwrap_or(f64::NAN)).collect()
}

/// A JSON `[chain][draw][observation]` array (ArviZ's log-likelihood layout) as one vector per
/// observation, its draws chain after chain (ArviZ's stacked `__sample__` order).
pub fn per_observation(v: &serde_json::Value) -> Vec<Vec<f64>> {
    let chains: Vec<Vec<Vec<f64>>> = v
        .as_array()
        .into_iter()
        .flatten()
        .map(|c| c.as_array().into_iter().flatten().map(floats).collect())
        .collect();
    let n = chains.first().and_then(|c| c.first()).map_or(0, Vec::len);
    (0..n).map(|i| chains.iter().flat_map(|c| c.iter().map(move |d| d[i])).collect()).collect()
}

/// ArviZ's default relative efficiency for LOO: the mean over the posterior's variables
/// (`posterior[name]`, each `[chain][draw]`) of their mean-ESS, divided by `n_samples`.
pub fn arviz_reff(posterior: &serde_json::Value, names: &[&str], n_samples: usize) -> f64 {
    let ess: f64 = names
        .iter()
        .map(|v| {
            let chains: Vec<Vec<f64>> = posterior[v].as_array().into_iter().flatten().map(floats).collect();
            exmc::diagnostics::ess_mean(&chains.iter().map(Vec::as_slice).collect::<Vec<_>>())
        })
        .sum();
    ess / names.len() as f64 / n_samples as f64
}

/// Runs `machines` on backend `b` to the end, one dispatch per round, as the sampler's driver
/// does without its bookkeeping: each finished draw is read back and handed to its machine, a
/// new inverse mass diagonal from its adaptation is installed, and the draw goes to `on_draw`
/// (chain, the machine's outcome, the draw's state) with the backend.
pub fn drive_machines(
    b: &mut dyn exmc::backend::Backend,
    machines: &mut [exmc::nuts::ChainMachine],
    mut on_draw: impl FnMut(
        &mut dyn exmc::backend::Backend,
        usize,
        &exmc::nuts::DrawOutcome,
        &exmc::backend::DrawState,
    ),
) {
    use exmc::backend::{DrawState, LeafReport};
    let mut reports = vec![LeafReport::default(); machines.len()];
    let mut state = vec![DrawState::default()];
    loop {
        let cmds: Vec<_> = machines.iter().filter_map(exmc::nuts::ChainMachine::command).collect();
        if cmds.is_empty() {
            break;
        }
        b.step(&cmds, &mut reports[..cmds.len()]).unwrap();
        for (cmd, rep) in cmds.iter().zip(&reports) {
            if machines[cmd.chain].on_report(rep) {
                b.read_draws(&[cmd.chain], &mut state).unwrap();
                let out = machines[cmd.chain].finish_draw(&state[0]);
                if out.new_inv_mass {
                    b.set_inv_mass(cmd.chain, &machines[cmd.chain].inv_mass());
                }
                on_draw(b, cmd.chain, &out, &state[0]);
            }
        }
    }
}

/// Models with a covariance built from parameters and its Cholesky factor: a latent process
/// (the factor times standard normals) under a Poisson likelihood, and a marginal one (the
/// factor as a multivariate normal's), with every kernel (white noise of a sampled scale) and
/// both lengthscale forms; and a Hilbert-space approximation on points of two coordinates (a
/// sum of spectral densities).
pub fn gaussian_process_models() -> Vec<(&'static str, Model)> {
    use exmc::gp::{Cov, Latent, Lengthscale, Marginal, Mean, Points};
    use exmc::prelude::*;
    let plane = Points::new(vec![0.0, 0.1, 0.4, -0.3, 0.9, 0.5, 1.3, 0.2, 1.7, -0.6], 2).unwrap();
    let line = Points::line(&[0.0, 0.3, 0.7, 1.2, 1.6, 2.1]).unwrap();
    let mut latent = Model::new();
    let ls = latent.rv_vec("ls", Gamma::new(4, 4), 2).unwrap();
    let eta = latent.rv("eta", HalfNormal::new(1)).unwrap();
    let ell = latent.rv("ell", InverseGamma::new(4, 3)).unwrap();
    let c = latent.rv("c", Normal::new(0, 1)).unwrap();
    let per_dim = || Lengthscale::per_dimension((0..2).map(|d| ls.get(d)));
    let cov = Cov::matern52(per_dim()).scale(eta.square())
        + Cov::exp_quad(ell) * Cov::constant(0.5)
        + Cov::rat_quad(eta + 1, per_dim()).scale(0.2)
        + Cov::matern12(per_dim()).scale(0.1)
        + Cov::white_noise(ell * 0.2);
    let mut gp = Latent::new(cov).mean(Mean::Constant(c.into())).jitter(1e-4);
    let f = gp.prior(&mut latent, "f", &plane).unwrap();
    latent.observe("y", Poisson::new(f.exp()), &[1.0, 0.0, 3.0, 2.0, 1.0]).unwrap();
    let mut marginal = Model::new();
    let ell = marginal.rv("ell", InverseGamma::new(4, 3)).unwrap();
    let eta = marginal.rv("eta", HalfNormal::new(1)).unwrap();
    let c = marginal.rv("c", Normal::new(0, 1)).unwrap();
    let sigma = marginal.rv("sigma", HalfNormal::new(1)).unwrap();
    let b = marginal.rv("b", Normal::new(0, 1)).unwrap();
    let cov = Cov::matern32(ell).scale(eta.square())
        + Cov::periodic(ell, 1.5) * Cov::exponential(ell)
        + Cov::linear(c).scale(0.3)
        + Cov::rat_quad(eta + 0.5, ell).scale(0.4)
        + Cov::matern12(ell).scale(0.2)
        + Cov::white_noise(eta * 0.3);
    let mut gp = Marginal::new(cov).mean(Mean::Linear { coeffs: vec![b.into()], intercept: 0.2.into() });
    let y = [0.3, 0.1, -0.4, 0.2, 0.8, 1.1];
    gp.marginal_likelihood(&mut marginal, "y", &line, &y, sigma).unwrap();
    let mut approx = Model::new();
    let ls = approx.rv_vec("ls", InverseGamma::new(5, 5), 2).unwrap();
    let eta = approx.rv("eta", HalfNormal::new(1)).unwrap();
    let ell = approx.rv("ell", Gamma::new(4, 3)).unwrap();
    let cov = Cov::matern52(Lengthscale::per_dimension((0..2).map(|d| ls.get(d)))).scale(eta.square())
        + Cov::exp_quad(ell)
        + Cov::matern32(ell).scale(0.5)
        + Cov::exponential(ell).scale(0.2);
    let mut gp = exmc::gp::Hsgp::new(cov, &[4, 3], 1.5).unwrap();
    let f = gp.prior(&mut approx, "f", &plane).unwrap();
    approx.observe("y", Normal::new(f, 0.5), &[0.4, -0.2, 0.9, 0.1, 0.3]).unwrap();
    vec![("latent process", latent), ("marginal process", marginal), ("hilbert-space process", approx)]
}

/// A Bayesian linear regression of 30 points on two correlated covariates with a known scale
/// and normal priors: its posterior is a correlated normal, known in closed form.
pub struct GaussianRegression {
    /// `beta ~ Normal(0, prior_sd)` (two), `y ~ Normal(X beta, sd)`.
    pub model: exmc::Model,
    /// `X`, 30 × 2.
    pub design: nalgebra::DMatrix<f64>,
    /// The observations.
    pub y: Vec<f64>,
    /// The observations' scale.
    pub sd: f64,
    /// The coefficients' prior scale.
    pub prior_sd: f64,
}

impl GaussianRegression {
    /// The posterior's mean and covariance.
    pub fn posterior(&self) -> (nalgebra::DVector<f64>, nalgebra::DMatrix<f64>) {
        let (x, sd, prior_sd) = (&self.design, self.sd, self.prior_sd);
        let precision =
            x.transpose() * x / (sd * sd) + nalgebra::DMatrix::identity(2, 2) / (prior_sd * prior_sd);
        let cov = precision.try_inverse().unwrap();
        let mean = &cov * (x.transpose() * nalgebra::DVector::from_column_slice(&self.y)) / (sd * sd);
        (mean, cov)
    }

    /// The log evidence: `y ~ N(0, sd² I + prior_sd² X Xᵀ)`.
    pub fn log_evidence(&self) -> f64 {
        let (x, n) = (&self.design, self.y.len());
        let marginal =
            nalgebra::DMatrix::identity(n, n) * self.sd.powi(2) + x * x.transpose() * self.prior_sd.powi(2);
        let chol = marginal.cholesky().unwrap();
        let yv = nalgebra::DVector::from_column_slice(&self.y);
        -0.5 * (n as f64 * (2.0 * std::f64::consts::PI).ln())
            - chol.l().diagonal().iter().map(|v| v.ln()).sum::<f64>()
            - 0.5 * yv.dot(&chol.solve(&yv))
    }
}

/// The model of the approximations' starting-value tests: `mu ~ Normal(0, 10)`,
/// `sigma ~ HalfNormal(2)`, `y ~ Normal(mu, sigma)` for six values, and a deterministic
/// `twice = 2 mu`.
pub fn inits_model() -> exmc::Model {
    use exmc::prelude::*;
    let mut m = Model::new();
    let mu = m.rv("mu", Normal::new(0.0, 10.0)).unwrap();
    let sigma = m.rv("sigma", HalfNormal::new(2.0)).unwrap();
    m.deterministic("twice", mu * 2.0).unwrap();
    m.observe("y", Normal::new(mu, sigma), &[0.8, 1.4, 1.1, 0.9, 1.7, 0.4]).unwrap();
    m
}

/// An approximation's `inits` (of [`inits_model`], whose 1,000 draws are `fit`): four sets of
/// the free variables only, each the evenly spaced draw; zero chains refused; more chains than
/// draws share them; and NUTS chains started from them agree (R-hat < 1.01, `mu` near 1.05).
pub fn check_draw_inits(
    m: &exmc::Model,
    fit: &exmc::Fit,
    inits: impl Fn(usize) -> exmc::Result<exmc::prelude::Init>,
) {
    use exmc::prelude::*;
    let Init::PerChain(sets) = inits(4).unwrap() else { panic!("one set per chain") };
    assert_eq!(sets.len(), 4);
    let (mus, sigmas) = (&fit.trace.var("mu").unwrap().values, &fit.trace.var("sigma").unwrap().values);
    for (c, set) in sets.iter().enumerate() {
        let mut names: Vec<&String> = set.keys().collect();
        names.sort();
        assert_eq!(names, ["mu", "sigma"], "free variables only, no deterministic");
        assert_eq!((set["mu"][0], set["sigma"][0]), (mus[c * 250], sigmas[c * 250]));
    }
    assert!(matches!(inits(0), Err(Error::InvalidOption { option: "chains", .. })));
    assert!(matches!(inits(5000), Ok(Init::PerChain(s)) if s.len() == 5000));
    let run = Sampler::new(m).init(inits(4).unwrap()).seed(2).progress(false).run().unwrap();
    let row = run.summary().get("mu").cloned().unwrap();
    assert!(row.r_hat < 1.01 && (row.mean - 1.05).abs() < 4.0 * row.mcse_mean + 0.05, "{row:?}");
}

/// [`GaussianRegression`]'s model and data.
pub fn gaussian_regression() -> GaussianRegression {
    use exmc::prelude::*;
    let n = 30;
    let x: Vec<[f64; 2]> =
        (0..n).map(|i| [1.0 + 0.1 * i as f64, 0.5 + 0.12 * i as f64 + (i as f64).sin()]).collect();
    let y: Vec<f64> =
        x.iter().enumerate().map(|(i, r)| 0.4 * r[0] - 0.3 * r[1] + 0.2 * (i as f64 * 1.7).cos()).collect();
    let (sd, prior_sd) = (0.25, 3.0);
    let mut model = Model::new();
    let beta = model.rv_vec("beta", Normal::new(0.0, prior_sd), 2).unwrap();
    let xm = model.data_matrix("X", n, 2, x.iter().flatten().copied().collect::<Vec<_>>()).unwrap();
    model.observe("y", Normal::new(xm.matmul(beta, 1), sd), &y).unwrap();
    let design = nalgebra::DMatrix::from_fn(n, 2, |i, j| x[i][j]);
    GaussianRegression { model, design, y, sd, prior_sd }
}
