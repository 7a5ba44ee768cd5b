//! Gaussian processes (`exmc::gp`) against PyMC's `pm.gp` on the same data
//! (`scripts/make_gp_oracle.py`; hyperparameters, latent values and predictions at new points,
//! on the CPU backend: on lavapipe these runs take minutes) and against the Gaussian posterior
//! of a process whose covariance is known (on every backend: the GPU's f64 kernels, since a
//! smooth kernel's matrix needs more than f32's digits for PyMC's jitter of 10⁻⁶). The GPU's
//! factor and its adjoint are checked against the CPU's on the larger models by
//! `gpu_conformance`.

mod common;

use exmc::backend::gpu::Precision;
use exmc::gp::{Cov, Hsgp, Latent, Marginal, Mean, Points};
use exmc::prelude::*;
use nalgebra::{DMatrix, DVector};
use serde_json::Value;

fn oracle(model: &str) -> Value {
    let text = include_str!("data/gp_oracle.json");
    let all: Value = serde_json::from_str(text).unwrap();
    all["models"][model].clone()
}

fn reference(o: &Value, key: &str) -> (f64, f64, f64) {
    let p = &o["posterior"][key];
    let f = |k: &str| p[k].as_f64().unwrap_or_else(|| panic!("{key}.{k} in the oracle"));
    (f("mean"), f("sd"), f("mcse_mean"))
}

/// The relative tolerance of `trace`'s sd of `name[elem]` against the oracle's `key`: 6%, or
/// four standard errors of the difference where the Monte Carlo errors of both sds say more
/// (a lengthscale's heavy right tail), `4·√(rel² + rel_ref²)` with `rel = mcse_sd/sd`, at
/// most 20%.
fn sd_tolerance(o: &Value, key: &str, trace: &exmc::sampler::Trace, name: &str, elem: usize) -> f64 {
    let p = &o["posterior"][key];
    let rel_ref = p["mcse_sd"].as_f64().unwrap() / p["sd"].as_f64().unwrap();
    let chains = trace.chains_of(name, elem).unwrap();
    let draws: Vec<&[f64]> = chains.iter().map(Vec::as_slice).collect();
    let sd = common::trace_moments(trace, name, elem).1;
    let rel = exmc::diagnostics::mcse_sd(&draws) / sd;
    (4.0 * (rel * rel + rel_ref * rel_ref).sqrt()).clamp(0.06, 0.2)
}

/// `fit`'s posterior of the oracle's entries `keys` (`ls`, `f[10]`) and the predictions
/// `pred` at the oracle's new points (`f_new`) against PyMC's.
fn assert_matches_oracle(o: &Value, label: &str, fit: &Fit, keys: &[&str], pred: &exmc::sampler::Trace) {
    let check = |trace: &exmc::sampler::Trace, label: &str, key: &str| {
        let (name, elem) = match key.split_once('[') {
            Some((name, e)) => (name, e.trim_end_matches(']').parse().unwrap()),
            None => (key, 0),
        };
        let tol = sd_tolerance(o, key, trace, name, elem);
        common::assert_trace_matches_pymc_within(trace, label, name, elem, reference(o, key), tol);
    };
    let label = format!("{label} {}", fit.backend);
    for key in keys {
        check(&fit.trace, &label, key);
    }
    for e in 0..pred.var("f_new").unwrap().size() {
        check(pred, &label, &format!("f_new[{e}]"));
    }
}

/// A fit on the CPU backend as [`common::fits`] makes them, with PyMC's target acceptance rate,
/// and no divergent transition.
fn fit(test: &str, m: &Model, target_accept: f64) -> Fit {
    let fit = Sampler::new(m).backend(BackendChoice::Cpu).chains(4).warmup(1000).draws(2000).seed(5);
    let fit = fit.target_accept(target_accept).progress(false).run().unwrap();
    assert_eq!(fit.divergences(), 0, "{test}");
    fit
}

/// [`fit`], and the same on the GPU backend's f64 kernels where an adapter has them.
fn fits_on_every_backend(test: &str, m: &Model, target_accept: f64) -> Vec<Fit> {
    let mut out = vec![fit(test, m, target_accept)];
    if common::gpu_f64(&format!("{test} on the GPU backend")).is_some() {
        let gpu = Sampler::new(m).backend(BackendChoice::Gpu).gpu_precision(Precision::F64);
        let gpu = gpu.target_accept(target_accept);
        let gpu = gpu.chains(4).warmup(1000).draws(2000).seed(5).progress(false).run().unwrap();
        assert_eq!(gpu.divergences(), 0, "{test} on the GPU backend");
        out.push(gpu);
    }
    out
}

#[test]
fn marginal_process_matches_pymc() {
    let o = oracle("marginal");
    let (x, y) = (common::floats(&o["x"]), common::floats(&o["y"]));
    let mut m = Model::new();
    let ls = m.rv("ls", Gamma::new(2, 1)).unwrap();
    let eta = m.rv("eta", HalfNormal::new(2)).unwrap();
    let sigma = m.rv("sigma", HalfNormal::new(1)).unwrap();
    let mut gp = Marginal::new(Cov::exp_quad(ls).scale(eta.square()));
    gp.marginal_likelihood(&mut m, "y", &Points::line(&x).unwrap(), &y, sigma).unwrap();
    let x_new = Points::line(&common::floats(&o["x_new"])).unwrap();
    let fit = fit("marginal process", &m, 0.8);
    let pred = gp.conditional("f_new", &x_new, false, &m, &fit, 3).unwrap();
    assert_eq!(pred.draws("f_new").unwrap().shape(), vec![4, 2000, 5]);
    assert_matches_oracle(&o, "marginal process", &fit, &["ls", "eta", "sigma"], &pred);
}

#[test]
fn latent_process_under_a_poisson_likelihood_matches_pymc() {
    let o = oracle("latent");
    let (x, y) = (common::floats(&o["x"]), common::floats(&o["y"]));
    let mut m = Model::new();
    let ls = m.rv("ls", Gamma::new(3, 2)).unwrap();
    let eta = m.rv("eta", HalfNormal::new(1)).unwrap();
    let c = m.rv("c", Normal::new(0, 2)).unwrap();
    let mut gp = Latent::new(Cov::matern52(ls).scale(eta.square())).mean(Mean::Constant(c.into()));
    let f = gp.prior(&mut m, "f", &Points::line(&x).unwrap()).unwrap();
    m.observe("y", Poisson::new(f.exp()), &y).unwrap();
    let x_new = Points::line(&common::floats(&o["x_new"])).unwrap();
    // Near a long lengthscale the covariance is nearly singular and the factor's gradient
    // steep: at a target of 0.9 both samplers diverge (nutpie 55 times in 20,000 draws, exmc 31
    // in 8,000) and eta's sd comes out several percent off; at 0.99 neither does.
    let fit = fit("latent process", &m, 0.99);
    let pred = gp.conditional("f_new", &x_new, &m, &fit, 3).unwrap();
    let keys = ["ls", "eta", "c", "f[0]", "f[10]", "f[20]", "f[29]"];
    assert_matches_oracle(&o, "latent process", &fit, &keys, &pred);
}

/// The Hilbert-space approximation (PyMC's `pm.gp.HSGP`, 30 basis functions, c = 1.5) of a
/// Matérn 5/2 process on 200 points under a normal likelihood. Its basis is a data matrix, a
/// matrix-vector product on either backend; the GPU's program is checked against the CPU's
/// by `gpu_conformance` (a run of this length on lavapipe takes 75 s).
#[test]
fn hilbert_space_approximation_matches_pymc() {
    let o = oracle("hsgp");
    let (x, y) = (common::floats(&o["x"]), common::floats(&o["y"]));
    let mut m = Model::new();
    let ls = m.rv("ls", InverseGamma::new(5, 5)).unwrap();
    let eta = m.rv("eta", HalfNormal::new(1)).unwrap();
    let sigma = m.rv("sigma", HalfNormal::new(1)).unwrap();
    let mut gp = Hsgp::new(Cov::matern52(ls).scale(eta.square()), &[30], 1.5).unwrap();
    let f = gp.prior(&mut m, "f", &Points::line(&x).unwrap()).unwrap();
    m.observe("y", Normal::new(f, sigma), &y).unwrap();
    let x_new = Points::line(&common::floats(&o["x_new"])).unwrap();
    let fit = fit("hsgp", &m, 0.95);
    let pred = gp.conditional("f_new", &x_new, &m, &fit).unwrap();
    assert_matches_oracle(&o, "hsgp", &fit, &["ls", "eta", "sigma", "f[0]", "f[100]", "f[199]"], &pred);
}

/// A rational quadratic kernel whose shape is a parameter (as in PyMC's Mauna Loa example), a
/// fixed Matérn 1/2 and white noise in a marginal process; the predictions carry the white
/// noise's variance, as PyMC's `conditional` (its `cov(Xnew)`) does.
#[test]
fn rational_quadratic_and_white_noise_match_pymc() {
    let o = oracle("rat_quad");
    let (x, y) = (common::floats(&o["x"]), common::floats(&o["y"]));
    let mut m = Model::new();
    let ls = m.rv("ls", Gamma::new(2, 1)).unwrap();
    let alpha = m.rv("alpha", Gamma::new(2, 1)).unwrap();
    let eta = m.rv("eta", HalfNormal::new(1)).unwrap();
    let sigma = m.rv("sigma", HalfNormal::new(1)).unwrap();
    let cov =
        Cov::rat_quad(alpha, ls).scale(eta.square()) + Cov::matern12(2.0).scale(0.25) + Cov::white_noise(0.1);
    let mut gp = Marginal::new(cov);
    gp.marginal_likelihood(&mut m, "y", &Points::line(&x).unwrap(), &y, sigma).unwrap();
    let x_new = Points::line(&common::floats(&o["x_new"])).unwrap();
    let fit = fit("rational quadratic", &m, 0.8);
    let pred = gp.conditional("f_new", &x_new, false, &m, &fit, 3).unwrap();
    assert_matches_oracle(&o, "rational quadratic", &fit, &["ls", "alpha", "eta", "sigma"], &pred);
}

/// The Gaussian posterior of the process at new points when its covariance is known and its
/// constant mean `c ~ Normal(0, 3)` is the only parameter: `y` and `f*` are jointly Gaussian
/// with `c` integrated out (covariances `K + σ² I + 9·11ᵀ`, `K* + 9·11ᵀ`, `K** + 9·11ᵀ`), so
/// `f* | y` has the usual conditional mean and covariance (a joint conditioning, not the
/// two stages `conditional` takes). Checked for the marginal process and for the latent one
/// under a normal likelihood, which has the same posterior.
#[test]
fn predictions_match_the_gaussian_posterior_of_a_known_covariance() {
    let x: Vec<f64> = (0..12).map(|i| 0.45 * i as f64 + 0.1 * (i % 3) as f64).collect();
    let y: Vec<f64> = x.iter().map(|v| 1.0 + (0.8 * v).sin() + 0.1 * (3.1 * v).cos()).collect();
    let x_new = [-0.5, 1.7, 4.0, 6.2];
    let (ls, eta, sigma, prior_var, jitter) = (1.2, 0.9, 0.25, 9.0, 1e-6);
    let cov = || Cov::matern32(ls).scale(eta * eta);
    let (px, pn) = (Points::line(&x).unwrap(), Points::line(&x_new).unwrap());
    // The joint Gaussian.
    let value = |a: &Points, b: &Points| {
        let e = cov().matrix(a, b).unwrap();
        DMatrix::from_row_slice(a.len(), b.len(), &e.eval_const().unwrap().values)
    };
    let (n, s) = (x.len(), x_new.len());
    let cyy = value(&px, &px)
        + DMatrix::identity(n, n) * (sigma * sigma + jitter)
        + DMatrix::from_element(n, n, prior_var);
    let csy = value(&pn, &px) + DMatrix::from_element(s, n, prior_var);
    let css = value(&pn, &pn) + DMatrix::from_element(s, s, prior_var);
    let inv = cyy.clone().cholesky().unwrap().inverse();
    let mean = &csy * &inv * DVector::from_vec(y.clone());
    let var = css - &csy * &inv * csy.transpose();
    // c and y are jointly Gaussian too: Cov(c, y) = 9·1ᵀ.
    let ones = DVector::from_element(n, 1.0);
    let c_var = prior_var - prior_var * prior_var * (ones.transpose() * &inv * &ones)[0];
    let c_mean = prior_var * (ones.transpose() * &inv * DVector::from_vec(y.clone()))[0];

    let check = |label: &str, fit: &Fit, pred: &exmc::sampler::Trace| {
        let (cm, csd, cmcse) = common::moments(fit, "c", 0);
        eprintln!("{label}: c {cm:.4} ± {csd:.4} (analytic {c_mean:.4} ± {:.4})", c_var.sqrt());
        assert!((cm - c_mean).abs() <= 4.0 * cmcse, "{label}: c mean {cm} vs {c_mean}");
        assert!((csd / c_var.sqrt() - 1.0).abs() < 0.06, "{label}: c sd {csd}");
        for e in 0..s {
            let (pm, psd, pmcse) = common::trace_moments(pred, "f_new", e);
            let (want, want_sd) = (mean[e], var[(e, e)].sqrt());
            eprintln!("{label}: f_new[{e}] {pm:.4} ± {psd:.4} (analytic {want:.4} ± {want_sd:.4})");
            assert!((pm - want).abs() <= 4.0 * pmcse, "{label}: f_new[{e}] mean {pm} vs {want}");
            assert!((psd / want_sd - 1.0).abs() < 0.06, "{label}: f_new[{e}] sd {psd} vs {want_sd}");
        }
    };
    let mut marginal = Model::new();
    let c = marginal.rv("c", Normal::new(0, 3)).unwrap();
    let mut gp = Marginal::new(cov()).mean(Mean::Constant(c.into()));
    gp.marginal_likelihood(&mut marginal, "y", &px, &y, sigma).unwrap();
    for fit in fits_on_every_backend("known covariance, marginal", &marginal, 0.8) {
        let pred = gp.conditional("f_new", &pn, false, &marginal, &fit, 11).unwrap();
        check(&format!("marginal {}", fit.backend), &fit, &pred);
        // With the noise, new observations: the variance grows by σ².
        let noisy = gp.conditional("y_new", &pn, true, &marginal, &fit, 11).unwrap();
        let (_, sd, _) = common::trace_moments(&noisy, "y_new", 1);
        let want = (var[(1, 1)] + sigma * sigma).sqrt();
        assert!((sd / want - 1.0).abs() < 0.06, "y_new[1] sd {sd} vs {want}");
    }
    let mut latent = Model::new();
    let c = latent.rv("c", Normal::new(0, 3)).unwrap();
    let mut gp = Latent::new(cov()).mean(Mean::Constant(c.into()));
    let f = gp.prior(&mut latent, "f", &px).unwrap();
    latent.observe("y", Normal::new(f, sigma), &y).unwrap();
    for fit in fits_on_every_backend("known covariance, latent", &latent, 0.8) {
        let pred = gp.conditional("f_new", &pn, &latent, &fit, 11).unwrap();
        check(&format!("latent {}", fit.backend), &fit, &pred);
    }
}

#[test]
fn mistakes_are_typed_errors() {
    let x = Points::line(&[0.0, 1.0, 2.0]).unwrap();
    let plane = Points::new(vec![0.0, 1.0, 2.0, 3.0], 2).unwrap();
    let mut m = Model::new();
    let ls = m.rv("ls", Gamma::new(2, 1)).unwrap();
    // Observations at the wrong number of points; a negative jitter; a mean of the wrong
    // dimension.
    let mut gp = Marginal::new(Cov::exp_quad(ls));
    assert!(gp.marginal_likelihood(&mut m, "y", &x, &[1.0, 2.0], 0.5).is_err());
    let mut neg = Latent::new(Cov::exp_quad(ls)).jitter(-1.0);
    assert!(neg.prior(&mut m, "f", &x).is_err());
    let linear = Mean::Linear { coeffs: vec![1.0.into(), 2.0.into()], intercept: 0.0.into() };
    let mut bad_mean = Latent::new(Cov::exp_quad(ls)).mean(linear);
    assert!(bad_mean.prior(&mut m, "f", &x).is_err());
    let one = Points::line(&[0.5]).unwrap();
    assert!(Latent::new(Cov::exp_quad(ls)).prior(&mut m, "f", &one).is_err());
    // A failed prior adds nothing; a name in use is refused before anything is added.
    assert!(m.var("f_rotated_").is_err() && m.var("f").is_err());
    assert!(matches!(Latent::new(Cov::exp_quad(ls)).prior(&mut m, "ls", &x), Err(Error::DuplicateName(_))));
    assert!(m.var("ls_rotated_").is_err());
    // A vector lengthscale for an isotropic kernel fails once the standard normals are in the
    // model: they are removed again.
    let lv = m.rv_vec("lv", Gamma::new(2, 1), 2).unwrap();
    let count = m.nodes().len();
    assert!(Latent::new(Cov::exp_quad(lv)).prior(&mut m, "g", &x).is_err());
    assert!(Hsgp::new(Cov::exp_quad(lv), &[5], 1.5).unwrap().prior(&mut m, "g", &x).is_err());
    assert_eq!(m.nodes().len(), count);
    assert!(m.var("g_rotated_").is_err() && m.var("g_hsgp_coeffs").is_err());
    // The approximation's settings and kernels.
    assert!(Hsgp::new(Cov::exp_quad(ls), &[0], 1.5).is_err());
    assert!(Hsgp::new(Cov::exp_quad(ls), &[5], 1.0).is_err());
    assert!(Hsgp::new(Cov::exp_quad(ls), &[5, 5], 1.5).unwrap().prior(&mut m, "g", &x).is_err());
    assert!(Hsgp::new(Cov::periodic(ls, 2.0), &[5], 1.5).unwrap().prior(&mut m, "g", &x).is_err());
    let same = Points::line(&[1.0, 1.0]).unwrap();
    assert!(Hsgp::new(Cov::exp_quad(ls), &[5], 1.5).unwrap().prior(&mut m, "g", &same).is_err());
    // Predictions before the process is in a model, and at points of another dimension.
    let fresh = Latent::new(Cov::exp_quad(ls));
    let mut ok = Model::new();
    let l2 = ok.rv("ls", Gamma::new(2, 1)).unwrap();
    let mut gp = Latent::new(Cov::exp_quad(l2));
    let f = gp.prior(&mut ok, "f", &x).unwrap();
    ok.observe("y", Normal::new(f, 1), &[0.1, 0.3, 0.2]).unwrap();
    let fit = Sampler::new(&ok).chains(1).warmup(50).draws(5).seed(1).progress(false).run().unwrap();
    assert!(fresh.conditional("g", &x, &ok, &fit, 1).is_err());
    assert!(gp.conditional("g", &plane, &ok, &fit, 1).is_err());
    // A Cholesky factor of a value that is not a square matrix.
    let mut sq = Model::new();
    let v = sq.rv_vec("v", Normal::new(0, 1), 6).unwrap();
    assert!(sq.deterministic("l", Expr::from(v).reshape(2, 3).cholesky()).is_err());
    // A matrix that is not positive definite is rejected by the sampler, not an error: the
    // correlation's factor is NaN outside (−1, 1), so every draw stays inside.
    let mut pd = Model::new();
    let r = pd.rv("r", Normal::new(0, 2)).unwrap();
    let one = Expr::from(1.0);
    let k = Expr::stack([one.clone(), r.into(), r.into(), one]).reshape(2, 2);
    pd.observe("y", MvNormal::new(0.0, k.cholesky()), &[0.5, 0.4, -0.2, -0.3, 1.0, 0.8]).unwrap();
    let fit = Sampler::new(&pd).chains(2).warmup(300).draws(300).seed(2).progress(false).run().unwrap();
    let draws = fit.trace.chains_of("r", 0).unwrap().concat();
    assert!(draws.iter().all(|r| r.abs() < 1.0), "a draw outside the positive-definite range");
}
