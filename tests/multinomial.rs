//! The multinomial likelihoods in models a PyMC user writes: a multinomial logistic regression
//! (one `n` for a matrix of probabilities) and overdispersed counts by a Dirichlet-multinomial
//! (an `n` per draw), against PyMC's posteriors of the same data
//! (`tests/data/multinomial_oracle.json`, from `scripts/make_multinomial_oracle.py`: nutpie,
//! 4 × 5000 draws) on every backend; a Dirichlet prior against its conjugate posterior; the
//! regression as a model file; and the data errors that name the observation.

mod common;

use exmc::model::file::{DataSet, DataValue};
use exmc::prelude::*;

type Data = common::PymcModel;

fn oracle() -> common::PymcOracle<Data> {
    common::pymc_oracle("multinomial_oracle.json")
}

/// Each quantity of the oracle's posterior in every fit.
fn matches_pymc(test: &str, fits: &[Fit], d: &Data) {
    common::check_posterior(test, fits, &d.posterior, d.divergences);
}

/// The design `[1, x]`, one row per draw.
fn design(x: &[f64]) -> Vec<f64> {
    x.iter().flat_map(|&v| [1.0, v]).collect()
}

/// `y ~ Multinomial(30, softmax([1, x] @ coef))`, the softmax as normalised `exp` weights.
fn softmax_regression(d: &Data) -> Model {
    let mut m = Model::new();
    let x = &d.data["x"];
    let design = m.data_matrix("design", x.len(), 2, design(x)).unwrap();
    let coef = m.rv_matrix("coef", Normal::new(0, 1), 2, 3).unwrap();
    let weights = design.matmul(coef, 3).exp();
    m.observe_matrix("y", Multinomial::new(30.0, weights), x.len(), 3, &d.data["y"]).unwrap();
    m
}

#[test]
fn softmax_regression_matches_pymc() {
    let o = oracle();
    let d = &o.models["softmax"];
    // On the CPU only: lavapipe took 170 s for this fit when measured (1.6 ms per dispatch of
    // 4 chains; 110 s with the coefficients `ln n! − Σ ln xₖ!` left out of the kernel).
    // The GPU's multinomial kernel is checked by the conjugate test below on every backend and
    // by the conformance suite's softmax regression (`dist::vector::examples`).
    let m = softmax_regression(d);
    let fit = Sampler::new(&m).chains(4).warmup(1000).draws(2000).seed(5).progress(false).run().unwrap();
    assert_eq!(fit.divergences(), 0);
    matches_pymc("softmax", &[fit], d);
}

#[test]
fn dirichlet_multinomial_counts_match_pymc() {
    let o = oracle();
    let d = &o.models["dirichlet_multinomial"];
    let mut m = Model::new();
    let frac = m.rv("frac", Dirichlet::new(vec![1.0; 4])).unwrap();
    let conc = m.rv("conc", LogNormal::new(1, 1)).unwrap();
    let n = m.data("n", d.data["n"].clone()).unwrap();
    m.observe("y", DirichletMultinomial::new(n, frac * conc), &d.data["y"]).unwrap();
    matches_pymc("dirichlet_multinomial", &common::fits("dirichlet_multinomial", &m), d);
}

/// `p ~ Dirichlet(α)` and multinomial counts `s` in total: `p | y ~ Dirichlet(α + s)`, whose
/// element `k` has mean `aₖ/A` and variance `aₖ(A − aₖ)/(A²(A + 1))`.
#[test]
fn dirichlet_prior_gives_its_conjugate_posterior() {
    let alpha = [1.0, 2.0, 0.5, 1.5];
    let counts = [3.0, 7.0, 0.0, 2.0, 1.0, 4.0, 1.0, 6.0, 5.0, 2.0, 0.0, 5.0];
    let mut m = Model::new();
    let p = m.rv("p", Dirichlet::new(alpha.to_vec())).unwrap();
    m.observe("y", Multinomial::new(vec![12.0, 12.0, 12.0], p), &counts).unwrap();
    let post: Vec<f64> = (0..4).map(|k| alpha[k] + counts.iter().skip(k).step_by(4).sum::<f64>()).collect();
    let total: f64 = post.iter().sum();
    for fit in common::fits("conjugate", &m) {
        for (k, &a) in post.iter().enumerate() {
            let sd = (a * (total - a) / (total * total * (total + 1.0))).sqrt();
            common::assert_matches_pymc(&fit, "conjugate", "p", k, (a / total, sd, 0.0));
        }
    }
}

/// The regression as a model file: `n` once, `p` a matrix expression, the counts a matrix.
#[test]
fn softmax_regression_in_a_model_file() {
    let o = oracle();
    let d = &o.models["softmax"];
    let text = r#"
        [rv.coef]
        dist = "Normal"
        mu = 0
        sigma = 1
        shape = [2, 3]

        [observe.y]
        dist = "Multinomial"
        n = 30
        p = "exp(design @ coef)"
        data = "counts"
    "#;
    let x = &d.data["x"];
    let mut data = DataSet::new();
    data.insert("design", DataValue::Matrix { rows: x.len(), cols: 2, values: design(x) });
    data.insert("counts", DataValue::Matrix { rows: x.len(), cols: 3, values: d.data["y"].clone() });
    let file = Model::from_model_str(text, &data, "softmax.toml").unwrap();
    common::same_density(&file, &softmax_regression(d), false);
}

/// The error `observe` returns for counts `y` of `Multinomial(n, p)`.
fn counts_error(n: Vec<f64>, p: Vec<f64>, y: &[f64]) -> String {
    let mut m = Model::new();
    match m.observe("y", Multinomial::new(n, p), y) {
        Err(e) => e.to_string(),
        Ok(_) => panic!("counts {y:?} were accepted"),
    }
}

#[test]
fn bad_counts_are_named() {
    let p = vec![0.2, 0.3, 0.5];
    // A draw whose counts do not sum to its n, named by its first element.
    let e = counts_error(vec![5.0, 6.0], p.clone(), &[1.0, 2.0, 2.0, 1.0, 1.0, 1.0]);
    assert!(e.contains("`y`") && e.contains("observation 3") && e.contains("not to its n = 6"), "{e}");
    let e = counts_error(vec![5.0], p.clone(), &[1.0, 2.5, 1.5]);
    assert!(e.contains("observation 1") && e.contains("whole numbers"), "{e}");
    // Counts that are not whole draws of p's categories.
    let e = counts_error(vec![5.0], p.clone(), &[1.0, 2.0, 2.0, 1.0]);
    assert!(e.contains("3 categories"), "{e}");
    // A category of probability zero observed.
    let e = counts_error(vec![4.0], vec![0.5, 0.0, 0.5], &[1.0, 1.0, 2.0]);
    assert!(e.contains("observation 1") && e.contains("probability 0"), "{e}");
    // With random probabilities the sums are still checked against the data n.
    let mut m = Model::new();
    let q = m.rv("q", Dirichlet::new(vec![1.0, 1.0])).unwrap();
    let e = m.observe("y", DirichletMultinomial::new(3.0, q * 4.0), &[1.0, 1.0]).unwrap_err().to_string();
    assert!(e.contains("draw 0's counts sum to 2"), "{e}");
}

/// A matrix of probabilities has one row per draw, of a draw's length; a one-value vector `n`
/// is repeated as a scalar is; new covariates with the old `n` are an error in the posterior
/// predictive, not NaN draws.
#[test]
fn matrix_shapes_are_checked() {
    let mut m = Model::new();
    let p = m.data_matrix("p", 3, 2, vec![0.5, 0.5, 0.2, 0.8, 0.4, 0.6]).unwrap();
    let counts = [2.0, 5.0, 3.0, 0.0, 6.0, 1.0];
    match m.observe("y", Multinomial::new(vec![10.0, 7.0], p), &counts) {
        Err(Error::ShapeMismatch { node, detail }) => {
            assert!(node == "y" && detail.contains("`p` is a [3, 2] matrix for 2 draws"), "{detail}")
        }
        other => panic!("expected a shape error, got {other:?}"),
    }
    let mut m = Model::new();
    let x = m.data_matrix("x", 2, 2, vec![1.0, 0.3, 1.0, -0.4]).unwrap();
    let coef = m.rv_matrix("coef", Normal::new(0, 1), 2, 3).unwrap();
    let y = [2.0, 5.0, 3.0, 4.0, 4.0, 2.0];
    m.observe_matrix("y", Multinomial::new(vec![10.0], x.matmul(coef, 3).exp()), 2, 3, &y).unwrap();
    let fit = Sampler::new(&m).chains(1).warmup(100).draws(20).seed(1).progress(false).run().unwrap();
    assert_eq!(log_likelihood(&m, &fit).unwrap().nodes, vec![("y".to_string(), 2)]);
    m.set_data("x", vec![1.0, 0.3, 1.0, -0.4, 1.0, 2.0]).unwrap();
    match posterior_predictive(&m, &fit, 3) {
        Err(Error::ShapeMismatch { node, detail }) => {
            assert!(node == "y" && detail.contains("`p` has 9 values"), "{detail}")
        }
        other => panic!("expected a shape error, got {:?}", other.map(|t| t.chains)),
    }
    // The log-likelihood too, on the host and compiled, rather than values of misread rows.
    let host = log_likelihood(&m, &fit).map(|l| l.nodes);
    let compiled = exmc::sampler::compute_log_likelihood(&m, &fit, BackendChoice::Cpu).map(|l| l.nodes);
    for got in [host, compiled] {
        match got {
            Err(Error::ShapeMismatch { node, detail }) => {
                assert!(node == "y" && detail.contains("`p` has 9 values"), "{detail}")
            }
            other => panic!("expected a shape error, got {other:?}"),
        }
    }
    // A free MvNormal whose matrix mean does not have a row per draw, without a shape given.
    let mut m = Model::new();
    let mu = m.data_matrix("mu", 3, 2, vec![0.0; 6]).unwrap();
    let eye3 = vec![1.0, 0.0, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0, 1.0];
    match m.rv("x", MvNormal::new(mu, eye3)) {
        Err(Error::ShapeMismatch { detail, .. }) => assert!(detail.contains("one row per draw"), "{detail}"),
        other => panic!("expected a shape error, got {other:?}"),
    }
}
