//! The multivariate Student-t in the model a PyMC user writes for multivariate data with
//! outlying rows: a location, the degrees of freedom and a scale, against PyMC's posterior of the
//! same data (`tests/data/mv_student_t_oracle.json`, from `scripts/make_mv_student_t_oracle.py`:
//! nutpie, 4 × 5000 draws) on every backend; its posterior predictive draws against the
//! distribution's moments.

mod common;

use std::collections::HashMap;

use exmc::prelude::*;

#[derive(serde::Deserialize)]
struct Data {
    data: HashMap<String, Vec<f64>>,
    posterior: HashMap<String, common::Reference>,
    divergences: usize,
}

/// `y ~ MvStudentT(nu, mu, chol = s L)` with `L` data.
fn robust_location(d: &Data) -> Model {
    let mut m = Model::new();
    let chol = m.data("chol", d.data["chol"].clone()).unwrap();
    let mu = m.rv_vec("mu", Normal::new(0, 5), 2).unwrap();
    let nu = m.rv("nu", Gamma::new(2, 0.1)).unwrap();
    let s = m.rv("s", HalfNormal::new(3)).unwrap();
    m.observe_matrix("y", MvStudentT::new(nu, mu, s * chol), d.data["y"].len() / 2, 2, &d.data["y"]).unwrap();
    m
}

#[test]
fn robust_location_matches_pymc() {
    let o: common::PymcOracle<Data> = common::pymc_oracle("mv_student_t_oracle.json");
    let d = &o.models["robust_location"];
    let m = robust_location(d);
    common::check_posterior(
        "robust location",
        &common::fits("robust location", &m),
        &d.posterior,
        d.divergences,
    );
}

/// Prior draws of `MvStudentT(5, (1, −2), L)` have the mean `(1, −2)` and the covariance
/// `ν/(ν − 2) L Lᵀ` (within 5 standard errors of 20,000 draws).
#[test]
fn draws_have_the_distributions_moments() {
    let mut m = Model::new();
    let chol = vec![1.0, 0.0, 0.6, 0.8];
    m.rv_vec("x", MvStudentT::new(5.0, vec![1.0, -2.0], chol.clone()), 2).unwrap();
    let draws = exmc::sampler::prior_predictive(&m, 20_000, 7).unwrap();
    let x = &draws.var("x").unwrap().values;
    let n = (x.len() / 2) as f64;
    let f = 5.0 / 3.0;
    let cov = [f * 1.0, f * 0.6, f * 0.6, f * (0.36 + 0.64)];
    let mean = |i: usize| x.iter().skip(i).step_by(2).sum::<f64>() / n;
    let (m0, m1) = (mean(0), mean(1));
    for (i, want) in [(0, 1.0), (1, -2.0)] {
        let got = [m0, m1][i];
        let se = (cov[3 * i] / n).sqrt();
        assert!((got - want).abs() < 5.0 * se, "mean[{i}] {got} vs {want} (se {se})");
    }
    let c01 = x.chunks(2).map(|r| (r[0] - m0) * (r[1] - m1)).sum::<f64>() / (n - 1.0);
    // The t's fourth moment is finite at ν = 5: the sample covariance's sd, from its own draws.
    let sq: Vec<f64> = x.chunks(2).map(|r| (r[0] - m0) * (r[1] - m1)).collect();
    let sd = (sq.iter().map(|v| (v - c01).powi(2)).sum::<f64>() / (n - 1.0)).sqrt() / n.sqrt();
    assert!((c01 - cov[1]).abs() < 5.0 * sd, "cov[0, 1] {c01} vs {} (se {sd})", cov[1]);
}
