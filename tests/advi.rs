//! ADVI (Stan's `variational`) against closed forms and quadrature: the full-rank family is
//! exact on a Gaussian posterior (its mean, covariance, and an ELBO at the log evidence), the
//! mean-field family has the posterior's mean and the known underdispersed scales
//! `1/√Λᵢᵢ`; on two non-Gaussian posteriors both match the ELBO optimum a Gauss–Hermite rule
//! finds (`scripts/make_advi_oracle.py`). ADVI's answer is a stochastic ascent's averaged
//! iterate, so each comparison averages independent seeds and allows four standard errors of that
//! average (from the seeds' own spread) and a small floor for the ascent's bias.

mod common;

use std::collections::HashMap;

use exmc::prelude::*;

/// Mean and standard error of the mean.
fn mean_se(v: &[f64]) -> (f64, f64) {
    let n = v.len() as f64;
    let mean = v.iter().sum::<f64>() / n;
    let var = v.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (n - 1.0);
    (mean, (var / n).sqrt())
}

/// Seeds of each comparison.
const SEEDS: u64 = 8;

/// Runs `SEEDS` fits and checks the average of `read(fit)` (one value per coordinate) against
/// `want`, within four standard errors and `floor`.
fn agrees(what: &str, fits: &[Advi], read: impl Fn(&Advi) -> Vec<f64>, want: &[f64], floor: f64) {
    for (i, w) in want.iter().enumerate() {
        let values: Vec<f64> = fits.iter().map(|f| read(f)[i]).collect();
        let (got, se) = mean_se(&values);
        eprintln!("{what}[{i}]: {got:.5} ± {se:.5} vs {w:.5}");
        assert!((got - w).abs() < 4.0 * se + floor, "{what}[{i}]: {got} ± {se} vs {w}");
    }
}

fn fits(m: &Model, options: &AdviOptions) -> Vec<Advi> {
    (0..SEEDS).map(|seed| Optimizer::new(m).seed(seed).advi(options).unwrap()).collect()
}

/// Settings that let the ascent settle: ten draws per gradient, the full 10,000 iterations.
fn settled(method: AdviMethod) -> AdviOptions {
    AdviOptions { method, grad_samples: 10, tol_rel_obj: 1e-4, ..AdviOptions::default() }
}

/// [`settled`] from Stan's start (random, unit scale, Stan's grid).
fn settled_from_stan_start(method: AdviMethod) -> AdviOptions {
    AdviOptions { laplace_start: false, ..settled(method) }
}

#[test]
fn gaussian_posterior_fullrank_is_exact_and_meanfield_underdisperses() {
    let reg = common::gaussian_regression();
    let m = &reg.model;
    let (mean, cov) = reg.posterior();
    let precision = cov.clone().try_inverse().unwrap();
    eprintln!("correlation {:.3}", cov[(0, 1)] / (cov[(0, 0)] * cov[(1, 1)]).sqrt());
    // From the Laplace start (the answer itself here: the ascent must stay) and from Stan's
    // (random, unit scale: it must travel).
    let cov_of = |f: &Advi| {
        let l = f.cholesky.as_ref().unwrap();
        vec![l[2] * l[0]]
    };
    let log_z = reg.log_evidence();
    for (start, options) in
        [("laplace", settled(AdviMethod::FullRank)), ("stan", settled_from_stan_start(AdviMethod::FullRank))]
    {
        let full = fits(m, &options);
        agrees(&format!("{start}: fullrank mean"), &full, |f| f.mean.clone(), &[mean[0], mean[1]], 1e-3);
        let sd = [cov[(0, 0)].sqrt(), cov[(1, 1)].sqrt()];
        agrees(&format!("{start}: fullrank sd"), &full, |f| f.sd.clone(), &sd, 1e-3);
        agrees(&format!("{start}: fullrank cov[0,1]"), &full, cov_of, &[cov[(0, 1)]], 1e-5);
        // The ELBO of each fit, from its draws, is at most the log evidence (to four standard
        // errors: both densities are normalised) and close to it (a KL divergence below
        // 0.05); the family is exact here, so the importance ratios are nearly constant.
        for f in &full {
            let ratios: Vec<f64> = f.log_p.iter().zip(&f.log_q).map(|(p, q)| p - q).collect();
            let (elbo, se) = mean_se(&ratios);
            assert!(elbo < log_z + 4.0 * se && elbo > log_z - 0.05, "{start}: ELBO {elbo} ± {se} vs {log_z}");
            assert!(f.pareto_k < 0.5, "{start}: k {} ({})", f.pareto_k, f.message);
        }
    }
    let mf = fits(m, &settled(AdviMethod::MeanField));
    // The Laplace start is the mean-field answer of a normal posterior (its mean, and the
    // scales `1/√Λᵢᵢ`): the ascent must stay there. (From Stan's start the mean creeps along
    // the narrow valley, correlation −0.96: after 10,000 iterations the seeds still spread by
    // two posterior sds; not asserted.)
    agrees("meanfield mean", &mf, |f| f.mean.clone(), &[mean[0], mean[1]], 1e-3);
    let under = [1.0 / precision[(0, 0)].sqrt(), 1.0 / precision[(1, 1)].sqrt()];
    agrees("meanfield sd", &mf, |f| f.sd.clone(), &under, 1e-3);
}

/// The quadrature oracle's optimum for one model and family.
#[derive(serde::Deserialize)]
struct Optimum {
    mean: Vec<f64>,
    sd: Vec<f64>,
}

fn oracle() -> HashMap<String, Optimum> {
    serde_json::from_str(include_str!("data/advi_oracle.json")).unwrap()
}

#[test]
fn non_gaussian_posteriors_match_the_quadrature_optimum() {
    let o = oracle();
    let mut beta_binomial = Model::new();
    let p = beta_binomial.rv("p", Beta::new(2.0, 2.0)).unwrap();
    beta_binomial.observe("y", Binomial::new(10.0, p), &[7.0]).unwrap();
    let cases = [
        (normal_model(), AdviMethod::MeanField, "normal_meanfield"),
        (normal_model(), AdviMethod::FullRank, "normal_fullrank"),
        (beta_binomial.clone(), AdviMethod::MeanField, "beta_binomial"),
        // One coordinate: the full-rank family is the mean-field one.
        (beta_binomial, AdviMethod::FullRank, "beta_binomial"),
    ];
    for (m, method, key) in &cases {
        // The Laplace start is not the answer: its mean is more than 0.01 from the optimum.
        let mode = Optimizer::new(m).jacobian(true).run().unwrap().u;
        let gap = mode.iter().zip(&o[*key].mean).map(|(a, b)| (a - b).abs()).fold(0.0, f64::max);
        eprintln!("{key}: the mode is {gap:.4} from the optimum's mean");
        assert!(gap > 0.01, "{key}: mode {mode:?}");
        for (start, options) in [("laplace", settled(*method)), ("stan", settled_from_stan_start(*method))] {
            let f = fits(m, &options);
            agrees(&format!("{start}: {key} mean"), &f, |f| f.mean.clone(), &o[*key].mean, 2e-3);
            agrees(&format!("{start}: {key} sd"), &f, |f| f.sd.clone(), &o[*key].sd, 2e-3);
        }
    }
}

fn normal_model() -> Model {
    let mut m = Model::new();
    let mu = m.rv("mu", Normal::new(0.0, 10.0)).unwrap();
    let sigma = m.rv("sigma", HalfNormal::new(2.0)).unwrap();
    m.observe("y", Normal::new(mu, sigma), &[0.8, 1.4, 1.1, 0.9, 1.7, 0.4]).unwrap();
    m
}

/// With Stan's defaults: the draws are the approximation's (their moments, each one's
/// statistics and densities), the report is consistent, and a seed fixes everything.
#[test]
fn draws_and_report_follow_the_approximation() {
    let m = normal_model();
    let vi = Optimizer::new(&m).seed(3).advi(&AdviOptions::default()).unwrap();
    eprintln!("eta {} iterations {} k {:.2}: {}", vi.eta, vi.iterations, vi.pareto_k, vi.message);
    assert_eq!(vi.fit.backend, "advi");
    assert_eq!((vi.fit.trace.chains, vi.fit.trace.draws), (1, 1000));
    assert_eq!(vi.coordinates, ["mu", "sigma_log__"]);
    assert!(vi.cholesky.is_none() && vi.method == AdviMethod::MeanField);
    assert!(vi.converged, "{}", vi.message);
    assert!([0.1, 0.01].contains(&vi.eta), "the Laplace start's grid: {}", vi.eta);
    assert!(vi.laplace_start);
    // ELBO estimates every 100 iterations, the last at the end.
    assert!(vi.elbo.iter().enumerate().all(|(i, e)| e.iteration == 100 * (i as u64 + 1)));
    assert_eq!(vi.elbo.last().unwrap().iteration, vi.iterations);
    assert_eq!(vi.elbo[0].rel_mean, 1.0);
    // Every gradient, ELBO and draw is one evaluation: more than the ascent's gradients and
    // its ELBO draws.
    assert!(vi.evaluations > vi.iterations + 100 * vi.elbo.len() as u64 + 1000);
    // Draws: mu is the identity coordinate, sigma = exp(coordinate 1).
    let mu: Vec<f64> = vi.fit.trace.draws("mu").unwrap().element(0).unwrap().concat();
    let ln_sigma: Vec<f64> =
        vi.fit.trace.draws("sigma").unwrap().element(0).unwrap().concat().iter().map(|s| s.ln()).collect();
    for (i, draws) in [mu, ln_sigma].iter().enumerate() {
        let (mean, se) = mean_se(draws);
        let sd = se * (draws.len() as f64).sqrt();
        assert!((mean - vi.mean[i]).abs() < 5.0 * vi.sd[i] / 1000f64.sqrt(), "{i}: {mean} vs {}", vi.mean[i]);
        assert!((sd / vi.sd[i] - 1.0).abs() < 0.15, "{i}: sd {sd} vs {}", vi.sd[i]);
    }
    assert_eq!(vi.mean_values[0].values, [vi.mean[0]]);
    assert!((vi.mean_values[1].values[0] - vi.mean[1].exp()).abs() < 1e-12);
    // log q is the mean-field normal's density of each draw; lp is log p.
    let sigma: Vec<f64> = vi.fit.trace.draws("sigma").unwrap().element(0).unwrap().concat();
    let mu: Vec<f64> = vi.fit.trace.draws("mu").unwrap().element(0).unwrap().concat();
    for k in [0, 17, 999] {
        let z = [(mu[k] - vi.mean[0]) / vi.sd[0], (sigma[k].ln() - vi.mean[1]) / vi.sd[1]];
        let want = -0.5 * (z[0] * z[0] + z[1] * z[1])
            - (2.0 * std::f64::consts::PI).ln()
            - vi.sd[0].ln()
            - vi.sd[1].ln();
        assert!((vi.log_q[k] - want).abs() < 1e-9, "{k}: {} vs {want}", vi.log_q[k]);
        assert_eq!(vi.fit.trace.stats[0][k].lp, vi.log_p[k]);
    }
    assert!(vi.pareto_k.is_finite());
    let again = Optimizer::new(&m).seed(3).advi(&AdviOptions::default()).unwrap();
    assert_eq!((again.log_p, again.mean, again.eta), (vi.log_p.clone(), vi.mean.clone(), vi.eta));
    // Every draw is numbered, and sums run in order: one thread gives the same bits.
    let pool = rayon::ThreadPoolBuilder::new().num_threads(1).build().unwrap();
    let alone = pool.install(|| Optimizer::new(&m).seed(3).advi(&AdviOptions::default()).unwrap());
    assert_eq!((alone.log_p, alone.mean, alone.eta), (vi.log_p.clone(), vi.mean.clone(), vi.eta));
    let other = Optimizer::new(&m).seed(4).advi(&AdviOptions::default()).unwrap();
    assert_ne!(other.log_p, vi.log_p);
    // A given scale skips the grid search.
    let given = AdviOptions { eta: Some(0.3), ..AdviOptions::default() };
    assert_eq!(Optimizer::new(&m).seed(3).advi(&given).unwrap().eta, 0.3);
}

/// Each option out of range is refused naming it, before anything runs; a model without free
/// variables has nothing to fit.
#[test]
fn options_are_checked() {
    let m = normal_model();
    let d = AdviOptions::default();
    let bad = [
        ("draws", AdviOptions { draws: 0, ..d.clone() }),
        ("grad_samples", AdviOptions { grad_samples: 0, ..d.clone() }),
        ("elbo_samples", AdviOptions { elbo_samples: 1 << 32, ..d.clone() }),
        ("iterations", AdviOptions { iterations: 0, ..d.clone() }),
        ("eval_elbo", AdviOptions { eval_elbo: 0, ..d.clone() }),
        ("eval_elbo", AdviOptions { eval_elbo: 101, iterations: 100, ..d.clone() }),
        ("adapt_iterations", AdviOptions { adapt_iterations: 0, ..d.clone() }),
        ("tol_rel_obj", AdviOptions { tol_rel_obj: f64::NAN, ..d.clone() }),
        ("eta", AdviOptions { eta: Some(0.0), ..d.clone() }),
        ("eta", AdviOptions { eta: Some(f64::INFINITY), ..d.clone() }),
    ];
    for (name, options) in bad {
        match Optimizer::new(&m).advi(&options) {
            Err(Error::InvalidOption { option, .. }) => assert_eq!(option, name),
            other => panic!("{name}: {other:?}"),
        }
    }
    let mut empty = Model::new();
    empty.data("x", vec![1.0]).unwrap();
    assert!(matches!(Optimizer::new(&empty).advi(&d), Err(Error::NoFreeVariables)));
}

/// ADVI's draws start NUTS chains (PyMC's `init="advi"`): one evenly spaced draw per chain,
/// free variables only; the chains then agree.
#[test]
fn advi_draws_start_chains() {
    let m = common::inits_model();
    let vi = Optimizer::new(&m).seed(1).advi(&AdviOptions::default()).unwrap();
    common::check_draw_inits(&m, &vi.fit, |chains| vi.inits(chains));
}

/// The centred eight schools has no mode with the log-Jacobians (`τ → 0` with every `θⱼ = μ`):
/// the Laplace start is not taken, the report says why, and the ascent runs from Stan's start.
#[test]
fn a_funnel_starts_as_stan_does() {
    let m = common::eight_schools(&common::SCHOOLS_Y, &common::SCHOOLS_SIGMA);
    let vi = Optimizer::new(&m).seed(1).advi(&AdviOptions::default()).unwrap();
    eprintln!("eta {} k {:.2}: {}", vi.eta, vi.pareto_k, vi.message);
    assert!(vi.message.contains("started as Stan does") && vi.message.contains("`tau`"), "{}", vi.message);
    assert!(!vi.laplace_start);
    assert!([100.0, 10.0, 1.0, 0.1, 0.01].contains(&vi.eta), "Stan's grid: {}", vi.eta);
    assert!(vi.mean.iter().chain(&vi.sd).all(|v| v.is_finite()) && vi.pareto_k.is_finite());
    // Written non-centred, the same posterior has a mode over its coordinates: the Laplace
    // start is taken.
    let mut nc = Model::new();
    let mu = nc.rv("mu", Normal::new(0.0, 5.0)).unwrap();
    let tau = nc.rv("tau", HalfCauchy::new(5.0)).unwrap();
    let z = nc.rv_vec("theta_z", Normal::new(0.0, 1.0), 8).unwrap();
    let theta = nc.deterministic("theta", mu + tau * z).unwrap();
    nc.observe("y", Normal::new(theta, common::SCHOOLS_SIGMA.to_vec()), &common::SCHOOLS_Y).unwrap();
    let nc = Optimizer::new(&nc).seed(1).advi(&AdviOptions::default()).unwrap();
    assert!(nc.laplace_start && !nc.message.contains("started as Stan does"), "{}", nc.message);
}
