//! The multivariate Student-t in the model a PyMC user writes for multivariate data with
//! outlying rows: a location, the degrees of freedom and a scale, against PyMC's posterior of the
//! same data (`tests/data/mv_student_t_oracle.json`, from `scripts/make_mv_student_t_oracle.py`:
//! nutpie, 4 × 5000 draws) on every backend; its prior draws against the distribution's
//! moments.

mod common;

use exmc::prelude::*;

type Data = common::PymcModel;

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
/// `Σ = ν/(ν − 2) L Lᵀ` (every element within 5 standard errors of 20,000 draws). The standard
/// errors are exact: with `x − mu = y √(ν/g)`, `y ~ N(0, LLᵀ)`, `g ~ χ²(ν)`,
/// `E[ν²/g²] = ν²/((ν − 2)(ν − 4))` and `E[yᵢ² yⱼ²] = SᵢᵢSⱼⱼ + 2Sᵢⱼ²` (`S = LLᵀ`), so the
/// products' variances are `E[ν²/g²](SᵢᵢSⱼⱼ + 2Sᵢⱼ²) − Σᵢⱼ²`.
#[test]
fn draws_have_the_distributions_moments() {
    let (nu, mean) = (5.0, [1.0, -2.0]);
    let l = [1.0, 0.0, 0.6, 0.8];
    let s = [1.0, 0.6, 0.6, 1.0];
    let mut m = Model::new();
    m.rv_vec("x", MvStudentT::new(nu, mean.to_vec(), l.to_vec()), 2).unwrap();
    let draws = exmc::sampler::prior_predictive(&m, 20_000, 7).unwrap();
    let x = &draws.var("x").unwrap().values;
    let n = (x.len() / 2) as f64;
    let (f, f2) = (nu / (nu - 2.0), nu * nu / ((nu - 2.0) * (nu - 4.0)));
    for i in 0..2 {
        let got = x.iter().skip(i).step_by(2).sum::<f64>() / n;
        let se = (f * s[3 * i] / n).sqrt();
        assert!((got - mean[i]).abs() < 5.0 * se, "mean[{i}] {got} vs {} (se {se})", mean[i]);
    }
    for (i, j) in [(0, 0), (0, 1), (1, 1)] {
        let got = x.chunks(2).map(|r| (r[i] - mean[i]) * (r[j] - mean[j])).sum::<f64>() / n;
        let want = f * s[2 * i + j];
        let var = f2 * (s[3 * i] * s[3 * j] + 2.0 * s[2 * i + j].powi(2)) - want * want;
        let se = (var / n).sqrt();
        assert!((got - want).abs() < 5.0 * se, "cov[{i}, {j}] {got} vs {want} (se {se})");
    }
}
