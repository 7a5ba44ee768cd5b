//! Angles and the families added with the trigonometric functions (VonMises, Rice, Moyal,
//! Triangular, Geometric) in models a PyMC user writes: a circular regression (a free angle,
//! `atan`), a mean direction whose posterior wraps around ±π, a seasonal curve with a free
//! phase (`cos`), noisy magnitudes, energy losses, a triangular mode and trial counts, against
//! PyMC's posteriors of the same data (`tests/data/circular_oracle.json`, from
//! `scripts/make_circular_oracle.py`: nutpie, 4 × 5000 draws) on every backend; the circular
//! regression as a model file; data and initial values outside the supports.

mod common;

use std::collections::HashMap;
use std::f64::consts::PI;

use exmc::model::file::{DataSet, DataValue};
use exmc::prelude::*;

type Data = common::PymcModel;

fn oracle() -> common::PymcOracle<Data> {
    common::pymc_oracle("circular_oracle.json")
}

/// Fits `m` on every backend (with `set` applied to each sampler), checks every draw of the
/// angles `angles` lies in `[−π, π]`, and each parameter the oracle names against PyMC's.
fn matches_pymc_with<'m>(
    test: &str,
    m: &'m Model,
    d: &Data,
    angles: &[&str],
    set: impl Fn(Sampler<'m>) -> Sampler<'m>,
) {
    let fits = common::fits_with(test, m, set);
    for fit in &fits {
        for &name in angles {
            let draws = common::pooled(fit, name, 0);
            assert!(draws.iter().all(|x| x.abs() <= PI), "{test} {}: `{name}` outside [−π, π]", fit.backend);
        }
    }
    common::check_posterior(test, &fits, &d.posterior, d.divergences);
}

fn matches_pymc(test: &str, m: &Model, d: &Data, angles: &[&str]) {
    matches_pymc_with(test, m, d, angles, |s| s);
}

/// PyMC's circular regression: `y ~ VonMises(beta0 + 2 atan(beta1 x), kappa)`.
fn circular_regression(d: &Data) -> Model {
    let mut m = Model::new();
    let x = m.data("x", d.data["x"].clone()).unwrap();
    let beta0 = m.rv("beta0", VonMises::new(0, 2.5)).unwrap();
    let beta1 = m.rv("beta1", Normal::new(0, 1)).unwrap();
    let kappa = m.rv("kappa", HalfNormal::new(10)).unwrap();
    m.observe("y", VonMises::new(beta0 + (beta1 * x).atan() * 2, kappa), &d.data["y"]).unwrap();
    m
}

/// Every chain at PyMC's starting point (the likelihood has a minor mode a random start may
/// stay in; the oracle script says more).
fn circular_regression_start() -> Init {
    Init::Values(HashMap::from([
        ("beta0".to_string(), vec![0.5]),
        ("beta1".to_string(), vec![0.5]),
        ("kappa".to_string(), vec![5.0]),
    ]))
}

#[test]
fn circular_regression_matches_pymc() {
    let o = oracle();
    let d = &o.models["circular_regression"];
    let m = circular_regression(d);
    matches_pymc_with("circular regression", &m, d, &["beta0"], |s| s.init(circular_regression_start()));
}

/// A mean direction near 3 rad: its posterior straddles ±π, so a draw is near +π or near −π as
/// the wrap puts it, PyMC's and exmc's alike.
#[test]
fn a_mean_direction_wraps_as_pymcs() {
    let o = oracle();
    let d = &o.models["mean_direction"];
    let mut m = Model::new();
    let mu = m.rv("mu", VonMises::new(0, 0.1)).unwrap();
    let kappa = m.rv("kappa", HalfNormal::new(5)).unwrap();
    m.observe("y", VonMises::new(mu, kappa), &d.data["y"]).unwrap();
    matches_pymc("mean direction", &m, d, &["mu"]);
}

/// `y ~ Normal(amp cos(2π t/12 − phase), sigma)` with a free phase.
#[test]
fn a_seasonal_phase_matches_pymc() {
    let o = oracle();
    let d = &o.models["seasonal"];
    let mut m = Model::new();
    let t = m.data("t", d.data["t"].clone()).unwrap();
    let amp = m.rv("amp", HalfNormal::new(3)).unwrap();
    let phase = m.rv("phase", VonMises::new(0, 0.01)).unwrap();
    let sigma = m.rv("sigma", HalfNormal::new(2)).unwrap();
    let curve = amp * (t * (2.0 * PI / 12.0) - phase).cos();
    m.observe("y", Normal::new(curve, sigma), &d.data["y"]).unwrap();
    matches_pymc("seasonal", &m, d, &["phase"]);
}

#[test]
fn magnitudes_energy_losses_modes_and_trials_match_pymc() {
    let o = oracle();

    let d = &o.models["rice"];
    let mut m = Model::new();
    let nu = m.rv("nu", HalfNormal::new(5)).unwrap();
    let sigma = m.rv("sigma", HalfNormal::new(2)).unwrap();
    m.observe("y", Rice::new(nu, sigma), &d.data["y"]).unwrap();
    matches_pymc("rice", &m, d, &[]);

    let d = &o.models["moyal"];
    let mut m = Model::new();
    let mu = m.rv("mu", Normal::new(0, 10)).unwrap();
    let sigma = m.rv("sigma", HalfNormal::new(5)).unwrap();
    m.observe("y", Moyal::new(mu, sigma), &d.data["y"]).unwrap();
    matches_pymc("moyal", &m, d, &[]);

    let d = &o.models["triangular"];
    let mut m = Model::new();
    let c = m.rv("c", Uniform::new(0, 10)).unwrap();
    m.observe("y", Triangular::new(0, c, 10), &d.data["y"]).unwrap();
    matches_pymc("triangular", &m, d, &[]);

    let d = &o.models["geometric"];
    let mut m = Model::new();
    let x = m.data("x", d.data["x"].clone()).unwrap();
    let a = m.rv("a", Normal::new(0, 2)).unwrap();
    let b = m.rv("b", Normal::new(0, 2)).unwrap();
    m.observe("y", Geometric::new((a + b * x).logistic()), &d.data["y"]).unwrap();
    matches_pymc("geometric", &m, d, &[]);
}

/// The circular regression as a model file (`arctan`, PyMC's name) gives the builder's log
/// density and gradient.
#[test]
fn circular_regression_in_a_model_file() {
    let o = oracle();
    let d = &o.models["circular_regression"];
    let text = r#"
        [rv.beta0]
        dist = "VonMises"
        mu = 0
        kappa = 2.5

        [rv.beta1]
        dist = "Normal"
        mu = 0
        sigma = 1

        [rv.kappa]
        dist = "HalfNormal"
        sigma = 10

        [observe.y]
        dist = "VonMises"
        mu = "beta0 + 2 * arctan(beta1 * x)"
        kappa = "kappa"
        data = "y_obs"
    "#;
    let mut data = DataSet::new();
    data.insert("x", DataValue::Vector { values: d.data["x"].clone(), integer: false });
    data.insert("y_obs", DataValue::Vector { values: d.data["y"].clone(), integer: false });
    let file = Model::from_model_str(text, &data, "circular.toml").unwrap();
    common::same_density(&file, &circular_regression(d), false);
}

/// An observed angle beyond π, a geometric count of 0 (its counts start at 1) with a random `p`,
/// and a starting angle beyond π are errors naming the node.
#[test]
fn values_outside_the_supports_are_named() {
    let mut m = Model::new();
    let mu = m.rv("mu", Normal::new(0, 1)).unwrap();
    match m.observe("y", VonMises::new(mu, 2), &[0.5, 3.2]) {
        Err(Error::OutsideSupport { node, index, .. }) => assert_eq!((node.as_str(), index), ("y", 1)),
        other => panic!("expected an outside-support error, got {other:?}"),
    }
    let p = m.rv("p", Beta::new(2, 2)).unwrap();
    match m.observe("n", Geometric::new(p), &[3.0, 0.0]) {
        Err(Error::OutsideSupport { node, index, .. }) => assert_eq!((node.as_str(), index), ("n", 1)),
        other => panic!("expected an outside-support error, got {other:?}"),
    }
    let mut m = Model::new();
    m.rv("angle", VonMises::new(0, 1)).unwrap();
    let start = Init::Values(HashMap::from([("angle".to_string(), vec![4.0])]));
    match Sampler::new(&m).init(start).chains(1).warmup(10).draws(10).progress(false).run() {
        Err(Error::InvalidOption { option, reason }) => {
            assert_eq!(option, "init");
            assert!(reason.contains("angle"), "{reason}");
        }
        other => panic!("expected an init error, got {:?}", other.map(|_| ())),
    }
}
