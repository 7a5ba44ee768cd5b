//! Censored likelihoods (PyMC's `pm.Censored`): a Tobit regression, a Weibull survival model
//! with right-censoring per subject (written as a model file), log-normal concentrations below
//! per-sample detection limits and exponential lifetimes from a test stopped at a fixed time,
//! against PyMC's posteriors of the same data (`tests/data/censored_oracle.json`, from
//! `scripts/make_censored_oracle.py`: 4 × 5000 draws) on every backend; the exponential one
//! also against its conjugate posterior. Replicated data pile up at the bounds as the model
//! says, and the pointwise log-likelihood is the censored density.

mod common;

use std::collections::HashMap;

use exmc::prelude::*;

#[derive(serde::Deserialize)]
struct Data {
    #[serde(default)]
    x: Vec<f64>,
    y: Vec<f64>,
    /// A missing bound is `null`.
    lower: Vec<Option<f64>>,
    upper: Vec<Option<f64>>,
    posterior: HashMap<String, common::Reference>,
    divergences: usize,
}

fn oracle() -> common::PymcOracle<Data> {
    common::pymc_oracle("censored_oracle.json")
}

/// The bounds as PyMC writes them: `∓∞` where there is none.
fn bounds(d: &Data) -> (Vec<f64>, Vec<f64>) {
    let or = |v: &[Option<f64>], none: f64| v.iter().map(|b| b.unwrap_or(none)).collect();
    (or(&d.lower, f64::NEG_INFINITY), or(&d.upper, f64::INFINITY))
}

/// Each parameter the oracle names, in every fit.
fn check(test: &str, fits: &[Fit], d: &Data) {
    common::check_posterior(test, fits, &d.posterior, d.divergences);
}

/// Fits `m` on every backend and checks each parameter the oracle names.
fn matches_pymc(test: &str, m: &Model, d: &Data) {
    check(test, &common::fits(test, m), d);
}

#[test]
fn censored_models_match_pymc() {
    let o = oracle();

    // Tobit: a normal regression recorded within [0, 3], through `Censored::new` as in PyMC.
    let d = &o.models["tobit"];
    let (lower, upper) = bounds(d);
    let mut m = Model::new();
    let x = m.data("x", d.x.clone()).unwrap();
    let a = m.rv("a", Normal::new(0, 2)).unwrap();
    let b = m.rv("b", Normal::new(0, 2)).unwrap();
    let sigma = m.rv("sigma", HalfNormal::new(2)).unwrap();
    m.observe("y", Censored::new(Normal::new(a + b * x, sigma), lower, upper).unwrap(), &d.y).unwrap();
    assert!(d.y.iter().filter(|&&y| y == 0.0).count() > 40 && d.y.contains(&3.0));
    matches_pymc("Tobit regression", &m, d);

    // Weibull survival, a model file: `alive` marks the subjects whose time is a lower bound.
    let d = &o.models["weibull"];
    let alive: Vec<f64> = d.upper.iter().map(|u| if u.is_some() { 1.0 } else { 0.0 }).collect();
    let file = format!(
        "[data]\nx = {:?}\nt = {:?}\nalive = {:?}\n\n[rv.a]\ndist = \"normal\"\nmu = 0\nsigma = 2\n\n\
         [rv.b]\ndist = \"normal\"\nmu = 0\nsigma = 2\n\n[rv.alpha]\ndist = \"gamma\"\nalpha = 2\nbeta = 1\n\n\
         [observe.t_obs]\ndist = \"CensoredWeibull\"\nalpha = \"alpha\"\nbeta = \"exp(a + b * x)\"\n\
         upper = \"where(alive, t, inf)\"\ndata = \"t\"\n",
        d.x, d.y, alive
    );
    let m = Model::from_model_str(&file, &Default::default(), "survival.toml").unwrap();
    let dist = m.nodes().last().unwrap().dist().unwrap();
    assert_eq!(dist.kind, exmc::model::DistKind::CensoredWeibull);
    let stored = dist.params[1].eval_const().unwrap().values;
    assert!(stored.iter().zip(&d.upper).all(|(s, u)| *s == u.unwrap_or(f32::MAX as f64)));
    matches_pymc("Weibull survival", &m, d);

    // Log-normal concentrations below two detection limits, recorded as the limit.
    let d = &o.models["lognormal"];
    let (lower, _) = bounds(d);
    let mut m = Model::new();
    let mu = m.rv("mu", Normal::new(0, 2)).unwrap();
    let sigma = m.rv("sigma", HalfNormal::new(1)).unwrap();
    m.observe("y", CensoredLogNormal::new(mu, sigma, lower, f64::INFINITY), &d.y).unwrap();
    matches_pymc("log-normal below detection limits", &m, d);
}

/// Exponential lifetimes from a test stopped at 2: the posterior of the rate under its
/// Gamma(2, 1) prior is Gamma(2 + d, 1 + Σt), d the failures seen, which PyMC's posterior and
/// exmc's both match. Replicated data hold only values in (0, 2] and put `e^{−2λ}` of them at 2,
/// averaged over the posterior; the pointwise log-likelihood is `ln λ − λt` for a failure and
/// `−2λ` for a unit still running.
#[test]
fn type_one_censored_lifetimes_match_the_conjugate_posterior() {
    let o = oracle();
    let d = &o.models["exponential"];
    let failures = d.y.iter().filter(|&&y| y < 2.0).count() as f64;
    let (shape, rate) = (2.0 + failures, 1.0 + d.y.iter().sum::<f64>());
    let (mean, sd) = (shape / rate, shape.sqrt() / rate);
    let r = &d.posterior["lam"];
    assert!((r.mean - mean).abs() < 4.0 * r.mcse_mean, "PyMC {} vs conjugate {mean}", r.mean);
    let mut m = Model::new();
    let lam = m.rv("lam", Gamma::new(2, 1)).unwrap();
    m.observe("t", Censored::new(Exponential::new(lam), f64::NEG_INFINITY, 2.0).unwrap(), &d.y).unwrap();
    let fits = common::fits("type I censored lifetimes", &m);
    check("type I censored lifetimes", &fits, d);
    for fit in &fits {
        common::assert_matches_pymc(fit, "conjugate", "lam", 0, (mean, sd, 0.0));
    }

    // The CPU backend's fit comes first.
    let fit = &fits[0];
    let lams = common::pooled(fit, "lam", 0);
    let rep = posterior_predictive(&m, fit, 7).unwrap();
    let t = rep.draws("t").unwrap().values().to_vec();
    assert_eq!(t.len(), lams.len() * d.y.len());
    assert!(t.iter().all(|&v| v > 0.0 && v <= 2.0));
    let at_end = t.iter().filter(|&&v| v == 2.0).count() as f64 / t.len() as f64;
    let want = lams.iter().map(|l| (-2.0 * l).exp()).sum::<f64>() / lams.len() as f64;
    // Replicates are Bernoulli draws at each of 4000 × 100 cells given λ; the spread of the
    // share over λ's posterior draws is smaller than their binomial error times 10.
    let se = (want * (1.0 - want) / t.len() as f64).sqrt();
    assert!((at_end - want).abs() < 10.0 * se, "share at 2: {at_end} vs {want}");

    let ll = log_likelihood(&m, fit).unwrap();
    for (s, lam) in lams.iter().enumerate().step_by(97) {
        for (i, &y) in d.y.iter().enumerate() {
            let want = if y == 2.0 { -2.0 * lam } else { lam.ln() - lam * y };
            let got = ll.values[i][s];
            assert!((got - want).abs() < 1e-12 * want.abs().max(1.0), "draw {s} obs {i}: {got} vs {want}");
        }
    }
}

/// Bounds outside the data, reversed bounds, bounds that read a parameter, a free censored
/// variable and a base without a censored form are typed errors; so are model-file mistakes.
#[test]
fn censoring_mistakes_are_typed_errors() {
    let mut m = Model::new();
    let mu = m.rv("mu", Normal::new(0, 1)).unwrap();
    let err = m.observe("below", CensoredNormal::new(mu, 1.0, 0.0, 5.0), &[0.0, -0.5, 2.0]).unwrap_err();
    assert!(matches!(err, Error::OutsideSupport { ref node, index: 1, .. } if node == "below"), "{err:?}");
    let err = m.observe("above", CensoredNormal::new(mu, 1.0, 0.0, vec![5.0, 1.0]), &[4.0, 1.5]).unwrap_err();
    assert!(matches!(err, Error::OutsideSupport { index: 1, .. }), "{err:?}");
    // Values the base cannot take: below 0 for an exponential (its rate random), and a
    // log-normal value at a lower bound of 0 (no mass below it).
    let err = m.observe("negative", CensoredExponential::new(mu.exp(), f64::NEG_INFINITY, 5.0), &[1.0, -1.0]);
    assert!(matches!(err, Err(Error::OutsideSupport { index: 1, .. })), "{err:?}");
    let err = m.observe("at_zero", CensoredLogNormal::new(mu, 1.0, 0.0, f64::INFINITY), &[0.0, 2.0]);
    assert!(matches!(err, Err(Error::OutsideSupport { index: 0, .. })), "{err:?}");
    let err = m.observe("reversed", CensoredNormal::new(mu, 1.0, 3.0, 1.0), &[2.0]).unwrap_err();
    assert!(err.to_string().contains("lower must be below upper"), "{err}");
    let err = m.observe("random", CensoredNormal::new(0.0, 1.0, mu, 5.0), &[2.0]).unwrap_err();
    assert!(err.to_string().contains("must be data"), "{err}");
    let err = m.observe("nan", CensoredNormal::new(0.0, 1.0, f64::NAN, 5.0), &[2.0]).unwrap_err();
    assert!(matches!(err, Error::NonFiniteConstant { ref node, .. } if node == "nan"), "{err:?}");
    let err = m.observe("far", CensoredNormal::new(0.0, 1.0, -1e39, 5.0), &[2.0]).unwrap_err();
    assert!(matches!(err, Error::InvalidParameter { ref param, .. } if param == "lower"), "{err:?}");
    let err = m.rv("free", CensoredNormal::new(0.0, 1.0, 0.0, 5.0)).unwrap_err();
    assert!(err.to_string().contains("can only be observed"), "{err}");
    let err = Censored::new(StudentT::new(3.0, 0.0, 1.0), 0.0, 1.0).unwrap_err();
    assert!(err.to_string().contains("no censored form of student_t"), "{err}");
    // A data node cannot hold ∞: the message says so, and bounds passed to the constructor can.
    let err = m.data("limits", vec![1.0, f64::INFINITY]).unwrap_err();
    assert!(matches!(err, Error::NonFiniteData { index: 1, .. }), "{err:?}");
    m.observe("ok", CensoredNormal::new(mu, 1.0, f64::NEG_INFINITY, vec![1.0, f64::INFINITY]), &[1.0, 7.0])
        .unwrap();

    let file = |observe: &str| {
        format!(
            "[data]\nt = [1.0, 2.0, 3.0]\nalive = [0, 1, 0]\n\n[rv.lam]\ndist = \"gamma\"\nalpha = 2\nbeta = 1\n\n[observe.t_obs]\n{observe}data = \"t\"\n"
        )
    };
    let load = |observe: &str| Model::from_model_str(&file(observe), &Default::default(), "c.toml");
    // Both bounds may be left out (then it is the base's density).
    let m = load("dist = \"censored_exponential\"\nlam = \"lam\"\n").unwrap();
    let bounds: Vec<f64> = m.nodes().last().unwrap().dist().unwrap().params[..2]
        .iter()
        .map(|e| e.eval_const().unwrap().values[0])
        .collect();
    assert_eq!(bounds, vec![-(f32::MAX as f64), f32::MAX as f64]);
    for (observe, field, says) in [
        ("dist = \"censored_exponential\"\nlam = \"lam\"\nupper = \"where(alive, t)\"\n", "upper", "takes 3"),
        (
            "dist = \"censored_exponential\"\nlam = \"lam\"\nupper = \"where(alive, t, lam)\"\n",
            "upper",
            "applies to data",
        ),
        (
            "dist = \"censored_exponential\"\nlam = \"lam\"\nupper = \"where(alive, slice(t, 0, 2), inf)\"\n",
            "upper",
            "lengths",
        ),
        ("dist = \"censored_exponential\"\nlam = \"lam\"\nlower = 2.5\n", "", "outside the support"),
        ("dist = \"censored_exponential\"\nlam = \"inf\"\n", "", "must be finite"),
        ("dist = \"censored_gamma\"\nalpha = 1\nbeta = \"lam\"\n", "dist", "unknown distribution"),
    ] {
        let err = load(observe).unwrap_err().to_string();
        assert!(err.contains(says) && err.contains(field), "{observe}: {err}");
    }
}
