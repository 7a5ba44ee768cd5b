//! Posteriors of models with vector families, on the CPU backend and (when an adapter exists)
//! the GPU backend: analytic answers for a Dirichlet–Categorical and an MvNormal mean, the
//! LKJ prior's correlation moments sampled through the Cholesky-correlation transform, and
//! PyMC's posteriors of a softmax regression, a normal mixture, ordinal regressions (logistic
//! and probit) and a mixture with ordered means.

mod common;
use common::{backends, moments};
use exmc::prelude::*;

fn check_mean(fit: &Fit, name: &str, elem: usize, mean: f64) {
    let (m, _, mcse) = moments(fit, name, elem);
    assert!(
        (m - mean).abs() <= 4.0 * mcse,
        "{} {name}[{elem}]: mean {m} vs {mean} (mcse {mcse})",
        fit.backend
    );
}

fn check(fit: &Fit, name: &str, elem: usize, mean: f64, sd: f64) {
    check_mean(fit, name, elem, mean);
    let (_, s, _) = moments(fit, name, elem);
    assert!((s - sd).abs() <= 0.05 * sd, "{} {name}[{elem}]: sd {s} vs {sd}", fit.backend);
}

fn run(m: &Model, backend: BackendChoice, seed: u64) -> Fit {
    let fit = Sampler::new(m).backend(backend).chains(4).warmup(1000).draws(2000).seed(seed).progress(false);
    let fit = fit.run().unwrap();
    assert_eq!(fit.divergences(), 0, "{}", fit.backend);
    fit
}

#[test]
fn dirichlet_categorical_is_conjugate() {
    let alpha = [1.0, 2.0, 0.5, 1.0];
    let y = [0.0, 1.0, 1.0, 3.0, 1.0, 0.0, 2.0, 1.0, 1.0, 3.0, 0.0, 1.0];
    let mut m = Model::new();
    let p = m.rv("p", Dirichlet::new(alpha.to_vec())).unwrap();
    m.observe("y", Categorical::new(p), &y).unwrap();
    // Posterior Dirichlet(alpha + counts): marginals Beta(aᵢ, A − aᵢ).
    let post: Vec<f64> = alpha
        .iter()
        .enumerate()
        .map(|(k, a)| a + y.iter().filter(|&&v| v == k as f64).count() as f64)
        .collect();
    let total: f64 = post.iter().sum();
    for backend in backends("dirichlet_categorical_is_conjugate") {
        let fit = run(&m, backend, 31);
        for (k, a) in post.iter().enumerate() {
            let sd = (a * (total - a) / (total * total * (total + 1.0))).sqrt();
            check(&fit, "p", k, a / total, sd);
        }
    }
}

#[test]
fn mv_normal_mean_with_known_covariance() {
    // mu ~ N(0, 10² I), y_b ~ MvNormal(mu, Σ): posterior N(S Σ⁻¹ Σ_b y_b, S), S = (I/100 + B Σ⁻¹)⁻¹.
    let cov = [2.0, 0.9, 0.9, 1.0];
    let y = [1.2, 0.4, 2.5, 1.9, 0.3, -0.2, 1.8, 1.1, 2.2, 0.7];
    let mut m = Model::new();
    let mu = m.rv_vec("mu", Normal::new(0, 10), 2).unwrap();
    let c = m.data("cov", cov.to_vec()).unwrap();
    m.observe("y", MvNormal::cov(mu, c), &y).unwrap();
    let inv2 = |a: [f64; 4]| {
        let d = a[0] * a[3] - a[1] * a[2];
        [a[3] / d, -a[1] / d, -a[2] / d, a[0] / d]
    };
    let p = inv2(cov);
    let b = (y.len() / 2) as f64;
    let s = inv2([0.01 + b * p[0], b * p[1], b * p[2], 0.01 + b * p[3]]);
    let (s0, s1) = (y.iter().step_by(2).sum::<f64>(), y.iter().skip(1).step_by(2).sum::<f64>());
    let (w0, w1) = (p[0] * s0 + p[1] * s1, p[2] * s0 + p[3] * s1);
    let mean = [s[0] * w0 + s[1] * w1, s[2] * w0 + s[3] * w1];
    for backend in backends("mv_normal_mean_with_known_covariance") {
        let fit = run(&m, backend, 32);
        check(&fit, "mu", 0, mean[0], s[0].sqrt());
        check(&fit, "mu", 1, mean[1], s[3].sqrt());
    }
}

#[test]
fn lkj_prior_correlations() {
    // R = L Lᵀ with L ~ LKJCholesky(3, η): every rᵢⱼ has mean 0 and E r² = 1 / (2η + K − 1).
    let eta = 2.0;
    let mut m = Model::new();
    let l = m.rv("L", LkjCholesky::new(3, eta)).unwrap();
    let r10 = l.get(3);
    let r21 = l.get(6) * l.get(3) + l.get(7) * l.get(4);
    m.deterministic("r10", r10.clone()).unwrap();
    m.deterministic("r21", r21.clone()).unwrap();
    m.deterministic("r10sq", r10.square()).unwrap();
    m.deterministic("r21sq", r21.square()).unwrap();
    let want = 1.0 / (2.0 * eta + 2.0);
    for backend in backends("lkj_prior_correlations") {
        let fit = run(&m, backend, 33);
        check_mean(&fit, "r10", 0, 0.0);
        check_mean(&fit, "r21", 0, 0.0);
        check_mean(&fit, "r10sq", 0, want);
        check_mean(&fit, "r21sq", 0, want);
        // Every draw is a correlation factor: unit rows, positive diagonal.
        for draw in 0..50 {
            let row = |i: usize| common::pooled(&fit, "L", i)[draw];
            assert!((row(3).powi(2) + row(4).powi(2) - 1.0).abs() < 1e-5 && row(4) > 0.0);
        }
    }
}

#[derive(serde::Deserialize)]
struct SoftmaxOracle {
    pymc: String,
    n: usize,
    c: usize,
    k: usize,
    x: Vec<f64>,
    y: Vec<f64>,
    posterior: std::collections::HashMap<String, Summary>,
}

#[derive(serde::Deserialize)]
struct Summary {
    mean: Vec<f64>,
    sd: Vec<f64>,
    mcse_mean: Vec<f64>,
}

#[test]
fn softmax_regression_matches_pymc() {
    // tests/data/softmax_oracle.json (scripts/make_softmax_oracle.py): 240 simulated choices
    // among 3 categories from 2 covariates, and PyMC's posterior (4 × 5000 draws).
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/softmax_oracle.json");
    let o: SoftmaxOracle = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    eprintln!("oracle from PyMC {}", o.pymc);
    let mut m = Model::new();
    let x = m.data_matrix("x", o.n, o.c, o.x.clone()).unwrap();
    let alpha = m.rv_vec("alpha", Normal::new(0, 2), o.k).unwrap();
    // PyMC's `shape=(c, k)`: the trace keeps both dimensions.
    let beta = m.rv_matrix("beta", Normal::new(0, 1), o.c, o.k).unwrap();
    m.observe("y", Categorical::logit(alpha + x.matmul(beta, o.k)), &o.y).unwrap();
    assert_eq!(m.nodes()[3].dist().unwrap().kind, DistKind::CategoricalLogitRows);
    // The CPU backend only: on lavapipe, four chains' serial loops over 240 rows take minutes.
    // gpu_conformance checks the WGSL density and gradient on the same form.
    {
        let fit = run(&m, BackendChoice::Cpu, 33);
        assert_eq!(fit.trace.var("beta").unwrap().shape, [o.c, o.k]);
        // Named row by row: `beta[1, 0]` is the fourth value stored.
        assert_eq!(fit.summary().get("beta[1, 0]").unwrap().mean, moments(&fit, "beta", 3).0);
        matches_pymc(&fit, "softmax regression", &o.posterior);
    }
}

/// Every element of every variable in `reference` against PyMC's posterior of the same model
/// and data ([`common::assert_matches_pymc`]).
fn matches_pymc(fit: &Fit, label: &str, reference: &std::collections::HashMap<String, Summary>) {
    for (name, r) in reference {
        for e in 0..r.mean.len() {
            common::assert_matches_pymc(fit, label, name, e, (r.mean[e], r.sd[e], r.mcse_mean[e]));
        }
    }
}

#[derive(serde::Deserialize)]
struct MixtureOracle {
    pymc: String,
    y: Vec<f64>,
    posterior: std::collections::HashMap<String, Summary>,
}

#[test]
fn normal_mixture_matches_pymc() {
    // tests/data/mixture_oracle.json (scripts/make_mixture_oracle.py): 200 values from two
    // normals, and PyMC's NormalMixture posterior (4 × 5000 draws). The priors keep the
    // components apart, so no chain switches labels.
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/mixture_oracle.json");
    let o: MixtureOracle = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    eprintln!("oracle from PyMC {}", o.pymc);
    let mut m = Model::new();
    let w = m.rv("w", Dirichlet::new(vec![2.0, 2.0])).unwrap();
    let mu = m.rv_vec("mu", Normal::new(vec![-2.0, 2.0], 1.0), 2).unwrap();
    let sigma = m.rv_vec("sigma", HalfNormal::new(2.0), 2).unwrap();
    m.observe("y", NormalMixture::new(w, mu, sigma), &o.y).unwrap();
    // The posterior on every backend (on lavapipe one lane per chain loops over all 200
    // values: 17 s); the pointwise values and replicates below on the CPU, where the compiled
    // form's one instruction per observation is cheap.
    for backend in backends("normal_mixture_matches_pymc").into_iter().skip(1) {
        matches_pymc(&run(&m, backend, 21), "normal mixture", &o.posterior);
    }
    let backend = BackendChoice::Cpu;
    let fit = run(&m, backend, 21);
    matches_pymc(&fit, "normal mixture", &o.posterior);
    // Replicated data: each element a draw of the mixture at that posterior draw, so the
    // replicates' pooled mean and variance match the data's.
    let rep = exmc::sampler::posterior_predictive(&m, &fit, 3).unwrap();
    let pooled: Vec<f64> = (0..o.y.len()).flat_map(|i| rep.chains_of("y", i).unwrap().concat()).collect();
    let (n, mean_y) = (o.y.len() as f64, o.y.iter().sum::<f64>() / o.y.len() as f64);
    let var_y = o.y.iter().map(|y| (y - mean_y).powi(2)).sum::<f64>() / n;
    let mean_rep = pooled.iter().sum::<f64>() / pooled.len() as f64;
    let var_rep = pooled.iter().map(|y| (y - mean_rep).powi(2)).sum::<f64>() / pooled.len() as f64;
    // The replicates' pooled mean estimates the posterior mean of Σ wₖ μₖ, which the
    // fitted mixture puts at the data's mean to about 0.01 (0.1 leaves a margin); the
    // pooled variance within 10% of the data's.
    assert!((mean_rep - mean_y).abs() < 0.1, "replicated mean {mean_rep} vs data {mean_y}");
    assert!((var_rep / var_y - 1.0).abs() < 0.1, "replicated variance {var_rep} vs data {var_y}");
    // One pointwise log-likelihood value per observation, on the host and compiled, each
    // ln Σₖ wₖ N(yᵢ | μₖ, σₖ) written out from the draws; summed, the likelihood term.
    let host = exmc::sampler::log_likelihood(&m, &fit).unwrap();
    let compiled = exmc::sampler::compute_log_likelihood(&m, &fit, backend).unwrap();
    assert_eq!((host.values.len(), compiled.values.len()), (o.y.len(), o.y.len()));
    let draw = |name: &str, e: usize, d: usize| common::pooled(&fit, name, e)[d];
    for d in [0, 777, 7999] {
        for (i, &y) in o.y.iter().enumerate().step_by(17) {
            let by_hand = (0..2)
                .map(|k| {
                    let (w, mu, s) = (draw("w", k, d), draw("mu", k, d), draw("sigma", k, d));
                    w * (-0.5 * ((y - mu) / s).powi(2)).exp() / (s * (2.0 * std::f64::consts::PI).sqrt())
                })
                .sum::<f64>()
                .ln();
            for (what, ll) in [("host", &host), ("compiled", &compiled)] {
                let v = ll.values[i][d];
                assert!((v - by_hand).abs() <= 1e-12, "{what} y[{i}] draw {d}: {v} vs {by_hand}");
            }
        }
    }
    let term = exmc::sampler::likelihood_term(&m, &fit, backend).unwrap();
    for d in [0, 777, 7999] {
        let sum: f64 = host.values.iter().map(|v| v[d]).sum();
        assert!((sum - term[d]).abs() <= 1e-9 * term[d].abs(), "draw {d}: Σ {sum} vs term {}", term[d]);
    }
}

#[derive(serde::Deserialize)]
struct OrdinalOracle {
    pymc: String,
    ordinal: Case,
    mixture: Case,
    probit: Case,
}

/// One model's data (covariates row by row, where it has some) and PyMC's posterior.
#[derive(serde::Deserialize)]
struct Case {
    #[serde(default)]
    x: Vec<f64>,
    y: Vec<f64>,
    posterior: std::collections::HashMap<String, Summary>,
}

fn ordinal_oracle() -> OrdinalOracle {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/ordinal_oracle.json");
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

#[test]
fn ordinal_regression_matches_pymc() {
    // tests/data/ordinal_oracle.json (scripts/make_ordinal_oracle.py): 300 outcomes in 4
    // ordered categories from 2 covariates, and PyMC's posterior (4 × 5000 draws) with the
    // cut points under `transform=ordered`. Written as a model file.
    let o = ordinal_oracle();
    eprintln!("oracle from PyMC {}", o.pymc);
    let file = r#"
        [rv.beta]
        dist = "normal"
        mu = 0
        sigma = 2
        shape = 2

        [rv.cutpoints]
        dist = "normal"
        mu = 0
        sigma = 5
        shape = 3
        transform = "ordered"

        [observe.y]
        dist = "ordered_logistic"
        eta = "X @ beta"
        cutpoints = "cutpoints"
        data = "outcome"
    "#;
    let rows: Vec<serde_json::Value> = o.ordinal.x.chunks(2).map(|r| serde_json::json!(r)).collect();
    let data = serde_json::json!({ "X": rows, "outcome": o.ordinal.y }).to_string();
    let data = exmc::model::file::DataSet::from_json(&data, "data.json").unwrap();
    let m = Model::from_model_str(file, &data, "ordinal.toml").unwrap();
    for backend in backends("ordinal_regression_matches_pymc") {
        // On lavapipe one invocation per chain: `Auto` gives each chain 256 lanes for the
        // 300-row product, and every lane then runs the density's loop over the rows whole
        // (73 s against 9.6 s). gpu_conformance checks the density under every mapping.
        let sampler = Sampler::new(&m).gpu_mapping(exmc::backend::gpu::MappingChoice::Invocation);
        let fit = sampler.backend(backend).chains(4).warmup(1000).draws(2000).seed(41).progress(false);
        let fit = fit.run().unwrap();
        assert_eq!(fit.divergences(), 0, "{}", fit.backend);
        matches_pymc(&fit, "ordinal regression", &o.ordinal.posterior);
        let cut = fit.trace.var("cutpoints").unwrap();
        assert!(
            cut.values.chunks(3).all(|c| c[0] < c[1] && c[1] < c[2]),
            "{}: every draw increasing",
            fit.backend
        );
        if backend != BackendChoice::Cpu {
            continue;
        }
        // One pointwise value per outcome, on the host and compiled, each
        // ln(σ(η − cₖ₋₁) − σ(η − cₖ)) written out from the draws; summed, the likelihood term.
        let ll = exmc::sampler::log_likelihood(&m, &fit).unwrap();
        let compiled = exmc::sampler::compute_log_likelihood(&m, &fit, backend).unwrap();
        assert_eq!((ll.values.len(), compiled.values.len()), (o.ordinal.y.len(), o.ordinal.y.len()));
        let draw = |name: &str, e: usize, d: usize| common::pooled(&fit, name, e)[d];
        let sigma = |v: f64| 1.0 / (1.0 + (-v).exp());
        for d in [0, 4321, 7999] {
            for (i, &y) in o.ordinal.y.iter().enumerate().step_by(23) {
                let eta =
                    draw("beta", 0, d) * o.ordinal.x[2 * i] + draw("beta", 1, d) * o.ordinal.x[2 * i + 1];
                let above = |k: usize| match k {
                    0 => 1.0,
                    4 => 0.0,
                    _ => sigma(eta - draw("cutpoints", k - 1, d)),
                };
                let by_hand = (above(y as usize) - above(y as usize + 1)).ln();
                for (what, ll) in [("host", &ll), ("compiled", &compiled)] {
                    let v = ll.values[i][d];
                    assert!((v - by_hand).abs() <= 1e-10, "{what} y[{i}] draw {d}: {v} vs {by_hand}");
                }
            }
            let term = exmc::sampler::likelihood_term(&m, &fit, backend).unwrap();
            let sum: f64 = ll.values.iter().map(|v| v[d]).sum();
            assert!((sum - term[d]).abs() <= 1e-9 * term[d].abs(), "draw {d}: Σ {sum} vs term {}", term[d]);
        }
    }
}

#[test]
fn ordered_mixture_means_match_pymc() {
    // The same file's second model: a two-component mixture whose means have one exchangeable
    // prior, Normal(0, 5), ordered (PyMC's `transform=ordered`). Without the ordering the
    // posterior has two symmetric modes and chains settle in either; with it every chain finds
    // the one PyMC does (R-hat near 1).
    let o = ordinal_oracle();
    let model = |ordered: bool| {
        let mut m = Model::new();
        let w = m.rv("w", Dirichlet::new(vec![2.0, 2.0])).unwrap();
        let mu = m.rv_vec("mu", Normal::new(0, 5), 2).unwrap();
        if ordered {
            m.ordered(mu).unwrap();
        }
        let sigma = m.rv_vec("sigma", HalfNormal::new(2.0), 2).unwrap();
        m.observe("y", NormalMixture::new(w, mu, sigma), &o.mixture.y).unwrap();
        m
    };
    let fit = run(&model(true), BackendChoice::Cpu, 43);
    matches_pymc(&fit, "ordered mixture", &o.mixture.posterior);
    let summary = fit.summary();
    for e in ["mu[0]", "mu[1]", "w[0]"] {
        let r = summary.get(e).unwrap().r_hat;
        assert!(r <= 1.01, "{e}: R-hat {r}");
    }
    // The same chains without the ordering split between the two labellings (R-hat 1.53).
    let unordered = model(false);
    let fit = Sampler::new(&unordered).chains(4).warmup(1000).draws(2000).seed(43).progress(false).run();
    let r = fit.unwrap().summary().get("mu[0]").unwrap().r_hat;
    assert!(r > 1.1, "unordered mu[0]: R-hat {r}");
}

#[test]
fn ordinal_probit_regression_matches_pymc() {
    // The same file's third model: 250 outcomes from a latent normal, PyMC's OrderedProbit
    // (sigma = 1) with ordered cut points. The CPU backend; gpu_conformance checks the WGSL.
    let o = ordinal_oracle();
    let mut m = Model::new();
    let n = o.probit.y.len();
    let x = m.data_matrix("X", n, 2, o.probit.x.clone()).unwrap();
    let beta = m.rv_vec("beta", Normal::new(0, 2), 2).unwrap();
    let cut = m.rv_vec("cutpoints", Normal::new(0, 5), 3).unwrap();
    m.ordered(cut).unwrap();
    m.observe("y", OrderedProbit::new(x.matvec(beta), cut), &o.probit.y).unwrap();
    let fit = run(&m, BackendChoice::Cpu, 47);
    matches_pymc(&fit, "ordinal probit regression", &o.probit.posterior);
}

#[test]
fn free_scalar_mixture_samples_its_law() {
    // `Model::rv` without a length: one draw of the mixture (PyMC's default shape), here the
    // whole posterior. Mean Σ wₖ μₖ = 0.4, variance Σ wₖ (σ² + μₖ²) − 0.4² = 1.84.
    let mut m = Model::new();
    m.rv("x", NormalMixture::new(vec![0.3, 0.7], vec![-1.0, 1.0], 1.0)).unwrap();
    let fit = run(&m, BackendChoice::Cpu, 49);
    assert!(fit.trace.var("x").unwrap().shape.is_empty(), "a scalar");
    check(&fit, "x", 0, 0.4, 1.84f64.sqrt());
}
