//! Likelihoods of the continuous families added together (Gumbel, Wald, ExGaussian,
//! Kumaraswamy, AsymmetricLaplace, ChiSquared, LogitNormal, Pareto) in models a PyMC user
//! writes: Bayesian quantile regression, reaction times, annual maxima, proportions, against
//! PyMC's posteriors of the same data (`tests/data/continuous_oracle.json`, from
//! `scripts/make_continuous_oracle.py`: nutpie, 4 × 5000 draws) on every backend; a Pareto tail
//! index against its conjugate posterior; the quantile regression written as a model file with
//! PyMC's `q`; Jones & Faddy's skew-t against PyMC's posterior (its own oracle file).

mod common;

use exmc::model::file::{DataSet, DataValue};
use exmc::prelude::*;
use rand::{RngExt, SeedableRng, rngs::StdRng};

type Data = common::PymcModel;

fn oracle() -> common::PymcOracle<Data> {
    common::pymc_oracle("continuous_oracle.json")
}

/// Fits `m` on every backend and checks each parameter the oracle names.
fn matches_pymc(test: &str, m: &Model, d: &Data) {
    common::check_posterior(test, &common::fits(test, m), &d.posterior, d.divergences);
}

/// `y ~ AsymmetricLaplace(q = 0.8, a + b x, rate)`.
fn quantile_regression(d: &Data) -> Model {
    let mut m = Model::new();
    let x = m.data("x", d.data["x"].clone()).unwrap();
    let a = m.rv("a", Normal::new(0, 10)).unwrap();
    let b = m.rv("b", Normal::new(0, 5)).unwrap();
    let rate = m.rv("rate", HalfNormal::new(5)).unwrap();
    m.observe("y", AsymmetricLaplace::quantile(0.8, a + b * x, rate), &d.data["y"]).unwrap();
    m
}

#[test]
fn quantile_regression_matches_pymc() {
    let o = oracle();
    let d = &o.models["quantile"];
    matches_pymc("quantile regression", &quantile_regression(d), d);
}

#[test]
fn reaction_time_models_match_pymc() {
    let o = oracle();

    let d = &o.models["ex_gaussian"];
    let mut m = Model::new();
    let mu = m.rv("mu", Normal::new(0.5, 0.3)).unwrap();
    let sigma = m.rv("sigma", HalfNormal::new(0.3)).unwrap();
    let nu = m.rv("nu", HalfNormal::new(0.5)).unwrap();
    m.observe("y", ExGaussian::new(mu, sigma, nu), &d.data["y"]).unwrap();
    matches_pymc("ex_gaussian", &m, d);

    let d = &o.models["wald"];
    let mut m = Model::new();
    let cond = m.data("cond", d.data["cond"].clone()).unwrap();
    let a = m.rv("a", Normal::new(0, 1)).unwrap();
    let b = m.rv("b", Normal::new(0, 1)).unwrap();
    let lam = m.rv("lam", HalfNormal::new(10)).unwrap();
    m.observe("y", Wald::new((a + b * cond).exp(), lam), &d.data["y"]).unwrap();
    matches_pymc("wald", &m, d);
}

#[test]
fn maxima_proportions_and_chi_squared_match_pymc() {
    let o = oracle();

    let d = &o.models["gumbel"];
    let mut m = Model::new();
    let loc = m.rv("loc", Normal::new(30, 10)).unwrap();
    let scale = m.rv("scale", HalfNormal::new(10)).unwrap();
    m.observe("y", Gumbel::new(loc, scale), &d.data["y"]).unwrap();
    matches_pymc("gumbel", &m, d);

    let d = &o.models["kumaraswamy"];
    let mut m = Model::new();
    let a = m.rv("a", HalfNormal::new(5)).unwrap();
    let b = m.rv("b", HalfNormal::new(5)).unwrap();
    m.observe("y", Kumaraswamy::new(a, b), &d.data["y"]).unwrap();
    matches_pymc("kumaraswamy", &m, d);

    let d = &o.models["logit_normal"];
    let mut m = Model::new();
    let mu = m.rv("mu", Normal::new(0, 2)).unwrap();
    let sigma = m.rv("sigma", HalfNormal::new(2)).unwrap();
    m.observe("y", LogitNormal::new(mu, sigma), &d.data["y"]).unwrap();
    matches_pymc("logit_normal", &m, d);

    let d = &o.models["chi_squared"];
    let mut m = Model::new();
    let nu = m.rv("nu", Exponential::new(0.1)).unwrap();
    m.observe("y", ChiSquared::new(nu), &d.data["y"]).unwrap();
    matches_pymc("chi_squared", &m, d);
}

/// `alpha ~ Gamma(2, 1)`, `y ~ Pareto(alpha, m = 1)`: the posterior is
/// `Gamma(2 + n, 1 + Σ ln y)`.
#[test]
fn pareto_tail_index_matches_its_conjugate_posterior() {
    let mut rng = StdRng::seed_from_u64(31);
    let y: Vec<f64> = (0..80).map(|_| (1.0 - rng.random::<f64>()).powf(-1.0 / 2.5)).collect();
    let mut m = Model::new();
    let alpha = m.rv("alpha", Gamma::new(2, 1)).unwrap();
    m.observe("y", Pareto::new(alpha, 1), &y).unwrap();
    let shape = 2.0 + y.len() as f64;
    let rate = 1.0 + y.iter().map(|v| v.ln()).sum::<f64>();
    let (mean, sd) = (shape / rate, shape.sqrt() / rate);
    for fit in common::fits("pareto", &m) {
        let (got, s, mcse) = common::moments(&fit, "alpha", 0);
        eprintln!("pareto {}: alpha {got:.4} sd {s:.4}; conjugate {mean:.4} {sd:.4}", fit.backend);
        assert!((got - mean).abs() <= 4.0 * mcse, "{}: {got} vs {mean} (mcse {mcse})", fit.backend);
        assert!((s - sd).abs() <= 0.05 * sd, "{}: sd {s} vs {sd}", fit.backend);
    }
}

/// The quantile regression as a model file, with PyMC's `q` for `kappa`, gives the builder's
/// log density and gradient.
#[test]
fn quantile_regression_in_a_model_file() {
    let o = oracle();
    let d = &o.models["quantile"];
    let text = r#"
        [rv.a]
        dist = "Normal"
        mu = 0
        sigma = 10

        [rv.b]
        dist = "Normal"
        mu = 0
        sigma = 5

        [rv.rate]
        dist = "HalfNormal"
        sigma = 5

        [observe.y]
        dist = "AsymmetricLaplace"
        q = 0.8
        mu = "a + b * x"
        b = "rate"
        data = "y_obs"
    "#;
    let mut data = DataSet::new();
    data.insert("x", DataValue::Vector { values: d.data["x"].clone(), integer: false });
    data.insert("y_obs", DataValue::Vector { values: d.data["y"].clone(), integer: false });
    let file = Model::from_model_str(text, &data, "quantile.toml").unwrap();
    common::same_density(&file, &quantile_regression(d), false);
}

/// PyMC's `q` outside (0, 1) is an error naming `q`.
#[test]
fn a_quantile_outside_the_unit_interval_is_named() {
    let text = r#"
        [rv.a]
        dist = "Normal"
        mu = 0
        sigma = 1

        [observe.y]
        dist = "asymmetric_laplace"
        q = 1.5
        mu = "a"
        b = 1
        data = "y_obs"
    "#;
    let mut data = DataSet::new();
    data.insert("y_obs", DataValue::Vector { values: vec![0.3, 1.2], integer: false });
    match Model::from_model_str(text, &data, "q.toml") {
        Err(Error::ModelFile { node, field, reason, .. }) => {
            assert_eq!((node.as_str(), field.as_str()), ("y", "q"), "{reason}");
            assert!(reason.contains("(0, 1)"), "{reason}");
        }
        other => panic!("expected a model-file error, got {other:?}"),
    }
}

/// Jones & Faddy's skew-t with free shapes, location and scale against PyMC's posterior of the
/// same 1,000 values (`tests/data/skew_student_t_oracle.json`, from
/// `scripts/make_skew_student_t_oracle.py`), and the same model as a model file (PyMC's names).
#[test]
fn skew_student_t_matches_pymc() {
    let o: common::PymcOracle<Data> = common::pymc_oracle("skew_student_t_oracle.json");
    let d = &o.models["skew_student_t"];
    let mut m = Model::new();
    let a = m.rv("a", Gamma::new(4, 1)).unwrap();
    let b = m.rv("b", Gamma::new(4, 1)).unwrap();
    let mu = m.rv("mu", Normal::new(0, 5)).unwrap();
    let sigma = m.rv("sigma", HalfNormal::new(3)).unwrap();
    m.observe("y", SkewStudentT::new(a, b, mu, sigma), &d.data["y"]).unwrap();
    matches_pymc("skew-t", &m, d);

    let text = r#"
        [rv.a]
        dist = "Gamma"
        alpha = 4
        beta = 1

        [rv.b]
        dist = "Gamma"
        alpha = 4
        beta = 1

        [rv.mu]
        dist = "Normal"
        mu = 0
        sigma = 5

        [rv.sigma]
        dist = "HalfNormal"
        sigma = 3

        [observe.y]
        dist = "SkewStudentT"
        a = "a"
        b = "b"
        mu = "mu"
        sigma = "sigma"
        data = "y_obs"
    "#;
    let mut data = DataSet::new();
    data.insert("y_obs", DataValue::Vector { values: d.data["y"].clone(), integer: false });
    let file = Model::from_model_str(text, &data, "skew_t.toml").unwrap();
    common::same_density(&file, &m, false);
}
