//! Posteriors of models with vector families, on the CPU backend and (when an adapter exists)
//! the GPU backend: analytic answers for a Dirichlet–Categorical and an MvNormal mean, and the
//! LKJ prior's correlation moments sampled through the Cholesky-correlation transform.

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
