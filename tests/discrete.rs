//! Discrete likelihoods (issue 10, item 3): GLMs recover the coefficients they were simulated
//! with (each within 3 posterior sd) on both backends, zero-inflated, hurdle and beta-binomial
//! models match PyMC's posteriors, and bad counts are typed errors.

mod common;

use exmc::model::DistKind;
use exmc::prelude::*;
use rand::SeedableRng;
use rand::rngs::StdRng;

/// Covariate values in [-1, 1].
fn covariate(n: usize) -> Vec<f64> {
    (0..n).map(|i| ((i * 37) % 101) as f64 / 50.0 - 1.0).collect()
}

/// Simulates `n` draws of `kind` with parameters `params(x_i)`.
fn simulate(kind: DistKind, x: &[f64], params: impl Fn(f64) -> Vec<f64>, seed: u64) -> Vec<f64> {
    let mut rng = StdRng::seed_from_u64(seed);
    x.iter().map(|&xi| kind.sample(&params(xi), &mut rng)).collect()
}

/// Fits on every backend and checks each named coefficient against its truth.
fn recovers(test: &str, m: &Model, truth: &[(&str, f64)]) {
    for backend in common::backends(test) {
        let f = Sampler::new(m)
            .backend(backend)
            .chains(4)
            .warmup(500)
            .draws(500)
            .seed(11)
            .progress(false)
            .run()
            .unwrap();
        let s = f.summary();
        for (name, value) in truth {
            let row = s.get(name).unwrap_or_else(|| panic!("{name} in {s}"));
            assert!(
                (row.mean - value).abs() < 3.0 * row.sd,
                "{test} {backend:?} {name}: {row:?} vs truth {value}"
            );
            assert!(row.r_hat < 1.01, "{test} {backend:?} {name}: {row:?}");
        }
        assert_eq!(f.divergences(), 0, "{test} {backend:?}");
    }
}

#[test]
fn poisson_log_link_regression() {
    let x = covariate(200);
    let y = simulate(DistKind::PoissonLog, &x, |xi| vec![0.7 + 1.2 * xi], 1);
    let mut m = Model::new();
    let xd = m.data("x", x).unwrap();
    let a = m.rv("a", Normal::new(0, 5)).unwrap();
    let b = m.rv("b", Normal::new(0, 5)).unwrap();
    m.observe("y", Poisson::log(a + b * xd), &y).unwrap();
    recovers("poisson_log_link_regression", &m, &[("a", 0.7), ("b", 1.2)]);
    // The rate form gives the same posterior.
    let mut m2 = Model::new();
    let xd = m2.data("x", covariate(200)).unwrap();
    let a = m2.rv("a", Normal::new(0, 5)).unwrap();
    let b = m2.rv("b", Normal::new(0, 5)).unwrap();
    m2.observe("y", Poisson::new((a + b * xd).exp()), &y).unwrap();
    recovers("poisson_rate_regression", &m2, &[("a", 0.7), ("b", 1.2)]);
}

#[test]
fn binomial_logit_regression() {
    let x = covariate(150);
    let trials: Vec<f64> = (0..150).map(|i| 5.0 + (i % 20) as f64).collect();
    let mut rng = StdRng::seed_from_u64(2);
    let y: Vec<f64> = x
        .iter()
        .zip(&trials)
        .map(|(xi, n)| DistKind::BinomialLogit.sample(&[*n, -0.4 + 2.0 * xi], &mut rng))
        .collect();
    let mut m = Model::new();
    let xd = m.data("x", x).unwrap();
    let n = m.int_data("n", &trials.iter().map(|&t| t as i64).collect::<Vec<_>>()).unwrap();
    let a = m.rv("a", Normal::new(0, 5)).unwrap();
    let b = m.rv("b", Normal::new(0, 5)).unwrap();
    m.observe("y", Binomial::logit(n, a + b * xd), &y).unwrap();
    recovers("binomial_logit_regression", &m, &[("a", -0.4), ("b", 2.0)]);
}

#[test]
fn negative_binomial_regression() {
    let x = covariate(300);
    let y = simulate(DistKind::NegativeBinomialLog, &x, |xi| vec![1.5 - 0.8 * xi, 3.0], 3);
    let mut m = Model::new();
    let xd = m.data("x", x).unwrap();
    let a = m.rv("a", Normal::new(0, 5)).unwrap();
    let b = m.rv("b", Normal::new(0, 5)).unwrap();
    let alpha = m.rv("alpha", HalfNormal::new(10)).unwrap();
    m.observe("y", NegativeBinomial::log(a + b * xd, alpha), &y).unwrap();
    recovers("negative_binomial_regression", &m, &[("a", 1.5), ("b", -0.8), ("alpha", 3.0)]);
}

#[test]
fn bernoulli_logit_regression_with_a_design_matrix() {
    let rows = 400;
    let x: Vec<f64> =
        (0..rows * 3).map(|k| if k % 3 == 0 { 1.0 } else { ((k * 53) % 97) as f64 / 48.0 - 1.0 }).collect();
    let beta = [0.3, -1.5, 2.0];
    let mut rng = StdRng::seed_from_u64(4);
    let y: Vec<f64> = (0..rows)
        .map(|i| DistKind::BernoulliLogit.sample(&[(0..3).map(|j| x[i * 3 + j] * beta[j]).sum()], &mut rng))
        .collect();
    let mut m = Model::new();
    let xm = m.data_matrix("X", rows, 3, x).unwrap();
    let b = m.rv_vec("beta", Normal::new(0, 5), 3).unwrap();
    m.observe("y", Bernoulli::logit(xm.matvec(b)), &y).unwrap();
    recovers("bernoulli_logit_regression", &m, &[("beta[0]", 0.3), ("beta[1]", -1.5), ("beta[2]", 2.0)]);
}

/// Item 10's bad counts: non-integer or negative counts, y > n, a free discrete variable, a
/// sampled count parameter — each a typed error naming the node.
#[test]
fn bad_counts_are_typed_errors() {
    let mut m = Model::new();
    let mu = m.rv("mu", HalfNormal::new(1)).unwrap();
    let p = m.rv("p", Beta::new(2, 2)).unwrap();
    for (y, index) in [(vec![1.0, 2.5], 1), (vec![-1.0], 0)] {
        let err = m.observe("y", Poisson::new(mu), &y).unwrap_err();
        assert!(
            matches!(err, Error::OutsideSupport { ref node, index: i, .. } if node == "y" && i == index),
            "{err:?}"
        );
    }
    let err = m.observe("b", Bernoulli::new(p), &[0.0, 2.0]).unwrap_err();
    assert!(matches!(err, Error::OutsideSupport { index: 1, .. }), "{err:?}");
    let n = m.int_data("n", &[5, 5]).unwrap();
    let err = m.observe("k", Binomial::new(n, p), &[3.0, 6.0]).unwrap_err();
    assert!(matches!(err, Error::OutsideSupport { ref node, index: 1, .. } if node == "k"), "{err:?}");
    let err = m.rv("c", Poisson::new(3)).unwrap_err();
    assert!(matches!(err, Error::InvalidNode { ref node, .. } if node == "c"), "{err:?}");
    let err = m.observe("r", Binomial::new(mu * 10, p), &[1.0]).unwrap_err();
    assert!(matches!(err, Error::InvalidNode { ref node, .. } if node == "r"), "{err:?}");
    let err = m.observe("q", Binomial::new(4.5, p), &[1.0]).unwrap_err();
    assert!(matches!(err, Error::InvalidParameter { ref node, .. } if node == "q"), "{err:?}");
    // The bound of a bounded count is the family's `n`, wherever it stands among the parameters.
    let err = m.observe("zk", ZeroInflatedBinomial::new(p, n, p), &[3.0, 6.0]).unwrap_err();
    assert!(matches!(err, Error::OutsideSupport { ref node, index: 1, .. } if node == "zk"), "{err:?}");
    let err = m.observe("bk", BetaBinomial::new(mu, mu, n), &[6.0, 1.0]).unwrap_err();
    assert!(matches!(err, Error::OutsideSupport { ref node, index: 0, .. } if node == "bk"), "{err:?}");
    let err = m.observe("br", BetaBinomial::new(mu, mu, mu * 10), &[1.0]).unwrap_err();
    assert!(matches!(err, Error::InvalidNode { ref node, .. } if node == "br"), "{err:?}");
    let err = m.observe("zp", ZeroInflatedPoisson::new(1.5, mu), &[0.0, 2.0]).unwrap_err();
    assert!(matches!(err, Error::InvalidParameter { ref node, .. } if node == "zp"), "{err:?}");
    let err = m.observe("zn", ZeroInflatedNegativeBinomial::new(p, mu, mu), &[0.0, -2.0]).unwrap_err();
    assert!(matches!(err, Error::OutsideSupport { ref node, index: 1, .. } if node == "zn"), "{err:?}");
    let err = m.observe("hp", HurdlePoisson::new(1.5, mu), &[0.0, 2.0]).unwrap_err();
    assert!(matches!(err, Error::InvalidParameter { ref node, .. } if node == "hp"), "{err:?}");
    let err = m.observe("hn", HurdleNegativeBinomial::new(p, mu, mu), &[0.0, 1.5]).unwrap_err();
    assert!(matches!(err, Error::OutsideSupport { ref node, index: 1, .. } if node == "hn"), "{err:?}");
    // A continuous hurdle has a point mass at 0: observed only, and its data are not negative.
    let err = m.rv("hg", HurdleGamma::new(p, mu, mu)).unwrap_err();
    assert!(matches!(err, Error::InvalidNode { ref node, .. } if node == "hg"), "{err:?}");
    let err = m.observe("hl", HurdleLogNormal::new(p, 0.0, mu), &[0.0, 2.5, -0.1]).unwrap_err();
    assert!(matches!(err, Error::OutsideSupport { ref node, index: 2, .. } if node == "hl"), "{err:?}");
    m.observe("hg", HurdleGamma::new(p, mu, mu), &[0.0, 2.5, 0.1]).unwrap();
}

#[derive(serde::Deserialize)]
struct CountOracle {
    pymc: String,
    models: std::collections::HashMap<String, CountModel>,
}

#[derive(serde::Deserialize)]
struct CountModel {
    #[serde(default)]
    x: Vec<f64>,
    #[serde(default)]
    n: Vec<f64>,
    y: Vec<f64>,
    posterior: std::collections::HashMap<String, Reference>,
}

#[derive(serde::Deserialize)]
struct Reference {
    mean: f64,
    sd: f64,
    mcse_mean: f64,
}

/// Fits `m` on every backend and checks each parameter the oracle names
/// ([`common::assert_matches_pymc`]).
fn matches_pymc(test: &str, m: &Model, reference: &std::collections::HashMap<String, Reference>) {
    for fit in common::fits(test, m) {
        for (name, r) in reference {
            common::assert_matches_pymc(&fit, test, name, 0, (r.mean, r.sd, r.mcse_mean));
        }
    }
}

/// Zero-inflated Poisson, negative binomial and binomial regressions and a beta-binomial with
/// a mean and a concentration, against PyMC's posteriors of the same data
/// (`tests/data/count_oracle.json`, from `scripts/make_count_oracle.py`: 4 × 5000 draws). The
/// zero-inflated Poisson model is written as a model file, the others in Rust.
#[test]
fn zero_inflated_and_beta_binomial_models_match_pymc() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/count_oracle.json");
    let o: CountOracle = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    eprintln!("oracle from PyMC {}", o.pymc);
    let floats = |v: &[f64]| format!("{v:?}");

    let d = &o.models["zip"];
    let file = format!(
        "[data]\nx = {}\ny_obs = {}\n\n[rv.a]\ndist = \"normal\"\nmu = 0\nsigma = 2\n\n[rv.b]\n\
         dist = \"normal\"\nmu = 0\nsigma = 2\n\n[rv.psi]\ndist = \"beta\"\nalpha = 2\nbeta = 2\n\n\
         [observe.y]\ndist = \"ZeroInflatedPoisson\"\npsi = \"psi\"\nmu = \"exp(a + b * x)\"\ndata = \"y_obs\"\n",
        floats(&d.x),
        floats(&d.y)
    );
    let m = Model::from_model_str(&file, &Default::default(), "zip.toml").unwrap();
    assert_eq!(m.nodes().last().unwrap().dist().unwrap().kind, DistKind::ZeroInflatedPoisson);
    matches_pymc("zero-inflated Poisson", &m, &d.posterior);

    let d = &o.models["zinb"];
    let m = nb_regression(d, ZeroInflatedNegativeBinomial::new);
    matches_pymc("zero-inflated negative binomial", &m, &d.posterior);

    let d = &o.models["zib"];
    let mut m = Model::new();
    let x = m.data("x", d.x.clone()).unwrap();
    let n = m.int_data("n", &d.n.iter().map(|&t| t as i64).collect::<Vec<_>>()).unwrap();
    let a = m.rv("a", Normal::new(0, 2)).unwrap();
    let b = m.rv("b", Normal::new(0, 2)).unwrap();
    let psi = m.rv("psi", Beta::new(2, 2)).unwrap();
    m.observe("y", ZeroInflatedBinomial::new(psi, n, (a + b * x).logistic()), &d.y).unwrap();
    matches_pymc("zero-inflated binomial", &m, &d.posterior);

    let d = &o.models["beta_binomial"];
    let mut m = Model::new();
    let n = m.int_data("n", &d.n.iter().map(|&t| t as i64).collect::<Vec<_>>()).unwrap();
    let mu = m.rv("mu", Beta::new(2, 2)).unwrap();
    let kappa = m.rv("kappa", Gamma::new(2, 0.1)).unwrap();
    m.observe("y", BetaBinomial::new(mu * kappa, (1.0 - mu) * kappa, n), &d.y).unwrap();
    matches_pymc("beta-binomial", &m, &d.posterior);
}

/// Hurdle Poisson, negative binomial, gamma and log-normal regressions against PyMC's
/// posteriors of the same data (the same oracle file). Every zero comes from the hurdle, so
/// `psi` is near the share of positive values; the values above 0 inform the base (truncated
/// above 0 for the counts). The Poisson model is written as a model file.
#[test]
fn hurdle_models_match_pymc() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/count_oracle.json");
    let o: CountOracle = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let d = &o.models["hurdle_poisson"];
    let file = format!(
        "[data]\nx = {:?}\ncounts = {:?}\n\n[rv.a]\ndist = \"normal\"\nmu = 0\nsigma = 2\n\n[rv.b]\n\
         dist = \"normal\"\nmu = 0\nsigma = 2\n\n[rv.psi]\ndist = \"beta\"\nalpha = 2\nbeta = 2\n\n\
         [observe.y]\ndist = \"HurdlePoisson\"\npsi = \"psi\"\nmu = \"exp(a + b * x)\"\ndata = \"counts\"\n",
        d.x, d.y
    );
    let m = Model::from_model_str(&file, &Default::default(), "hurdle.toml").unwrap();
    assert_eq!(m.nodes().last().unwrap().dist().unwrap().kind, DistKind::HurdlePoisson);
    // The oracle reads `psi` as PyMC does, the chance of a positive count: its posterior is
    // the conjugate Beta(k + 2, n − k + 2), k of the n counts positive.
    let k = d.y.iter().filter(|&&y| y > 0.0).count() as f64;
    let conjugate = (k + 2.0) / (d.y.len() as f64 + 4.0);
    assert!((d.posterior["psi"].mean - conjugate).abs() < 4.0 * d.posterior["psi"].mcse_mean);
    matches_pymc("hurdle Poisson", &m, &d.posterior);

    let d = &o.models["hurdle_nb"];
    let m = nb_regression(d, HurdleNegativeBinomial::new);
    matches_pymc("hurdle negative binomial", &m, &d.posterior);

    // Amounts: a point mass at 0 beside a gamma (mean exp(a + b x)) or a log-normal density.
    for (key, label) in [("hurdle_gamma", "hurdle gamma"), ("hurdle_log_normal", "hurdle log-normal")] {
        let d = &o.models[key];
        let mut m = Model::new();
        let x = m.data("x", d.x.clone()).unwrap();
        let a = m.rv("a", Normal::new(0, 2)).unwrap();
        let b = m.rv("b", Normal::new(0, 2)).unwrap();
        let psi = m.rv("psi", Beta::new(2, 2)).unwrap();
        let eta = a + b * x;
        let family = if key == "hurdle_gamma" {
            let alpha = m.rv("alpha", HalfNormal::new(5)).unwrap();
            HurdleGamma::new(psi, alpha, alpha / eta.exp())
        } else {
            let sigma = m.rv("sigma", HalfNormal::new(2)).unwrap();
            HurdleLogNormal::new(psi, eta, sigma)
        };
        m.observe("y", family, &d.y).unwrap();
        matches_pymc(label, &m, &d.posterior);
    }
}

/// `y ~ family(psi, exp(a + b x), alpha)` with the priors of `scripts/make_count_oracle.py`:
/// `a, b ~ Normal(0, 2)`, `psi ~ Beta(2, 2)`, `alpha ~ HalfNormal(5)`.
fn nb_regression(d: &CountModel, family: fn(Var, Expr, Var) -> Dist) -> Model {
    let mut m = Model::new();
    let x = m.data("x", d.x.clone()).unwrap();
    let a = m.rv("a", Normal::new(0, 2)).unwrap();
    let b = m.rv("b", Normal::new(0, 2)).unwrap();
    let psi = m.rv("psi", Beta::new(2, 2)).unwrap();
    let alpha = m.rv("alpha", HalfNormal::new(5)).unwrap();
    m.observe("y", family(psi, (a + b * x).exp(), alpha), &d.y).unwrap();
    m
}

/// A discrete Weibull regression, `y ~ DiscreteWeibull(logistic(a + b x), beta)` with a free
/// shape, against PyMC's posterior of the same data (`tests/data/discrete_weibull_oracle.json`,
/// from `scripts/make_discrete_weibull_oracle.py`: 4 × 5000 draws), written in Rust and as a
/// model file (PyMC's family name), which give the same log density.
#[test]
fn discrete_weibull_regression_matches_pymc() {
    let o: common::PymcOracle<common::PymcModel> = common::pymc_oracle("discrete_weibull_oracle.json");
    let d = &o.models["discrete_weibull"];
    let mut m = Model::new();
    let x = m.data("x", d.data["x"].clone()).unwrap();
    let a = m.rv("a", Normal::new(0, 2)).unwrap();
    let b = m.rv("b", Normal::new(0, 2)).unwrap();
    let beta = m.rv("beta", Gamma::new(2, 1)).unwrap();
    m.observe("y", DiscreteWeibull::new((a + b * x).logistic(), beta), &d.data["y"]).unwrap();
    common::check_posterior(
        "discrete Weibull",
        &common::fits("discrete Weibull", &m),
        &d.posterior,
        d.divergences,
    );

    let file = format!(
        "[data]\nx = {:?}\ny_obs = {:?}\n\n[rv.a]\ndist = \"normal\"\nmu = 0\nsigma = 2\n\n[rv.b]\n\
         dist = \"normal\"\nmu = 0\nsigma = 2\n\n[rv.beta]\ndist = \"gamma\"\nalpha = 2\nbeta = 1\n\n\
         [observe.y]\ndist = \"DiscreteWeibull\"\nq = \"invlogit(a + b * x)\"\nbeta = \"beta\"\ndata = \"y_obs\"\n",
        d.data["x"], d.data["y"]
    );
    let from_file = Model::from_model_str(&file, &Default::default(), "dw.toml").unwrap();
    common::same_density(&from_file, &m, false);
}
