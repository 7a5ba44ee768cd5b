//! Zero-sum group effects (PyMC's `ZeroSumNormal`): a conjugate model against its Gaussian
//! posterior, written in Helmert's basis, and a hierarchical one (its scale non-centred)
//! against PyMC's posterior (`tests/data/zerosum_oracle.json`, from
//! `scripts/make_zerosum_oracle.py`), on every backend; every draw sums to zero, prior draws
//! too; and the typed errors.

mod common;

use std::collections::HashMap;

use exmc::prelude::*;

#[derive(serde::Deserialize)]
struct Oracle {
    pymc: String,
    conjugate: Data,
    hierarchical: Data,
}

#[derive(serde::Deserialize)]
struct Data {
    g: Vec<i64>,
    y: Vec<f64>,
    posterior: HashMap<String, Reference>,
    #[serde(default)]
    divergences: usize,
}

#[derive(serde::Deserialize)]
struct Reference {
    mean: Vec<f64>,
    sd: Vec<f64>,
    /// Absent for an analytic posterior.
    #[serde(default)]
    mcse_mean: Vec<f64>,
}

fn oracle() -> Oracle {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/zerosum_oracle.json");
    let o: Oracle = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    eprintln!("oracle from PyMC {}", o.pymc);
    o
}

/// `y ~ Normal(mu + a[g], sigma_y)` with `a ~ ZeroSumNormal(sigma_g)` over the groups.
fn model(d: &Data, sigma_g: Option<f64>, sigma_y: Option<f64>) -> Model {
    let groups = (*d.g.iter().max().unwrap() + 1) as usize;
    let mut m = Model::new();
    let g = m.int_data("g", &d.g).unwrap();
    let mu = m.rv("mu", Normal::new(0, 5)).unwrap();
    let sigma_g: Expr = match sigma_g {
        Some(s) => s.into(),
        None => m.rv("sigma_g", HalfNormal::new(1)).unwrap().into(),
    };
    let a = m.rv_vec("a", ZeroSumNormal::new(sigma_g), groups).unwrap();
    let sigma_y: Expr = match sigma_y {
        Some(s) => s.into(),
        None => m.rv("sigma_y", HalfNormal::new(2)).unwrap().into(),
    };
    m.observe("y", Normal::new(mu + Expr::from(a).at(g), sigma_y), &d.y).unwrap();
    m
}

fn check(test: &str, m: &Model, d: &Data) {
    for fit in common::fits(test, m) {
        let groups = d.posterior["a"].mean.len();
        let a: Vec<Vec<f64>> = (0..groups).map(|j| common::pooled(&fit, "a", j)).collect();
        let worst = (0..a[0].len()).map(|s| a.iter().map(|v| v[s]).sum::<f64>().abs()).fold(0.0, f64::max);
        assert!(worst < 1e-9, "{test} {}: a draw sums to {worst}", fit.backend);
        for (name, r) in &d.posterior {
            for (e, (&mean, &sd)) in r.mean.iter().zip(&r.sd).enumerate() {
                let mcse = r.mcse_mean.get(e).copied().unwrap_or(0.0);
                common::assert_matches_pymc(&fit, test, name, e, (mean, sd, mcse));
            }
        }
    }
}

#[test]
fn conjugate_zero_sum_effects_match_the_gaussian_posterior() {
    let o = oracle();
    check("zero-sum effects, conjugate", &model(&o.conjugate, Some(1.5), Some(1.0)), &o.conjugate);
}

/// PyMC samples the centred model (a few divergences in the funnel of `sigma_g`); exmc
/// non-centres it and has none.
#[test]
fn hierarchical_zero_sum_effects_match_pymc() {
    let o = oracle();
    let d = &o.hierarchical;
    eprintln!("PyMC divergences: {}", d.divergences);
    let m = model(d, None, None);
    let compiled = exmc::compile::compile(&m, Default::default()).unwrap();
    assert_eq!(compiled.noncentered, vec!["a".to_string()]);
    check("zero-sum effects, hierarchical", &m, d);
}

#[test]
fn prior_draws_sum_to_zero_and_mistakes_are_typed_errors() {
    let mut m = Model::new();
    let s = m.rv("s", HalfNormal::new(1)).unwrap();
    m.rv_vec("a", ZeroSumNormal::new(s), 6).unwrap();
    let prior = prior_predictive(&m, 500, 3).unwrap();
    let a = prior.draws("a").unwrap();
    let values = a.values();
    assert!(values.chunks(6).all(|row| row.iter().sum::<f64>().abs() < 1e-12));
    assert!(values.iter().any(|v| v.abs() > 0.1));
    // In a model file, by PyMC's name.
    let file = "[rv.s]\ndist = \"half_normal\"\nsigma = 1\n\n[rv.a]\ndist = \"ZeroSumNormal\"\nsigma = \"s\"\nshape = 4\n";
    let m = Model::from_model_str(file, &Default::default(), "zsn.toml").unwrap();
    assert_eq!(m.nodes()[1].dist().unwrap().kind, exmc::model::DistKind::ZeroSumNormal);

    let mut m = Model::new();
    let s = m.rv("s", HalfNormal::new(1)).unwrap();
    let err = m.rv_matrix("grid", ZeroSumNormal::new(s), 2, 3).unwrap_err();
    assert!(err.to_string().contains("each row must be one whole draw"), "{err}");
    let err = m.rv_vec("wide", ZeroSumNormal::new(vec![1.0, 2.0, 3.0]), 3).unwrap_err();
    assert!(err.to_string().contains("sigma must be one value"), "{err}");
    let err = m.rv_vec("one", ZeroSumNormal::new(s), 1).unwrap_err();
    assert!(err.to_string().contains("at least 2"), "{err}");
    let err = m.rv("scalar", ZeroSumNormal::new(s)).unwrap_err();
    assert!(err.to_string().contains("needs its length"), "{err}");
    let err = m.observe("d", ZeroSumNormal::new(s), &[0.5, 0.2, -0.3]).unwrap_err();
    assert!(err.to_string().contains("must sum to 0"), "{err}");
    let err = m.rv_vec("neg", ZeroSumNormal::new(-1.0), 3).unwrap_err();
    assert!(matches!(err, Error::InvalidParameter { ref param, .. } if param == "sigma"), "{err:?}");
    let effects = m.rv_vec("effects", ZeroSumNormal::new(s), 3).unwrap();
    let err = m.ordered(effects).unwrap_err();
    assert!(err.to_string().contains("real line"), "{err}");
}
