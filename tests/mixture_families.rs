//! Mixtures of one scalar family (PyMC's `Mixture(w, comp_dists=F.dist(…))`) in the models a
//! PyMC user writes: a Poisson mixture of counts with ordered log rates, a gamma mixture of
//! waiting times with a shared shape, a robust Student-t clustering and a beta mixture of
//! proportions, against PyMC's posteriors of the same data
//! (`tests/data/mixture_family_oracle.json`, from `scripts/make_mixture_family_oracle.py`:
//! nutpie, 4 × 5000 draws) on every backend; the pointwise log-likelihood and the posterior
//! predictive of a mixture against their definitions.

mod common;

use std::collections::HashMap;

use exmc::prelude::*;
use exmc::sampler::{log_likelihood, posterior_predictive};

type Data = common::PymcModel;

fn oracle() -> common::PymcOracle<Data> {
    common::pymc_oracle("mixture_family_oracle.json")
}

fn matches_pymc_with<'m>(
    test: &str,
    m: &'m Model,
    d: &Data,
    set: impl Fn(Sampler<'m>) -> Sampler<'m>,
) -> Vec<exmc::Fit> {
    let fits = common::fits_with(test, m, set);
    common::check_posterior(test, &fits, &d.posterior, d.divergences);
    fits
}

/// `y ~ Mixture(w, Poisson(exp(log_mu)))` with ordered log rates, through the generic
/// constructor.
fn poisson_mixture(y: &[f64]) -> Model {
    let mut m = Model::new();
    let w = m.rv("w", Dirichlet::new(vec![2.0, 2.0])).unwrap();
    let log_mu = m.rv_vec("log_mu", Normal::new(vec![0.5, 2.5], 1.0), 2).unwrap();
    m.ordered(log_mu).unwrap();
    m.observe("y", Mixture::new(w, Poisson::new(log_mu.exp())).unwrap(), y).unwrap();
    m
}

#[test]
fn a_poisson_mixture_matches_pymc() {
    let o = oracle();
    let d = &o.models["poisson"];
    let m = poisson_mixture(&d.data["y"]);
    matches_pymc_with("poisson mixture", &m, d, |s| s);
}

#[test]
fn a_gamma_mixture_with_a_shared_shape_matches_pymc() {
    let o = oracle();
    let d = &o.models["gamma"];
    let mut m = Model::new();
    let w = m.rv("w", Dirichlet::new(vec![2.0, 2.0])).unwrap();
    let alpha = m.rv("alpha", Gamma::new(2.0, 0.5)).unwrap();
    let log_beta = m.rv_vec("log_beta", Normal::new(vec![0.0, -1.0], 1.0), 2).unwrap();
    m.ordered(log_beta).unwrap();
    m.observe("y", GammaMixture::new(w, alpha, log_beta.exp()), &d.data["y"]).unwrap();
    matches_pymc_with("gamma mixture", &m, d, |s| s);
}

#[test]
fn a_robust_student_t_clustering_matches_pymc() {
    let o = oracle();
    let d = &o.models["student_t"];
    let mut m = Model::new();
    let w = m.rv("w", Dirichlet::new(vec![2.0, 2.0])).unwrap();
    let mu = m.rv_vec("mu", Normal::new(vec![-1.0, 1.0], 3.0), 2).unwrap();
    m.ordered(mu).unwrap();
    let sigma = m.rv_vec("sigma", HalfNormal::new(2.0), 2).unwrap();
    m.observe("y", StudentTMixture::new(w, 4.0, mu, sigma), &d.data["y"]).unwrap();
    matches_pymc_with("student_t mixture", &m, d, |s| s);
}

/// Unordered components: every chain starts at PyMC's starting point, which picks the
/// labelling with the low proportions first (the oracle script says more).
#[test]
fn a_beta_mixture_of_proportions_matches_pymc() {
    let o = oracle();
    let d = &o.models["beta"];
    let mut m = Model::new();
    let w = m.rv("w", Dirichlet::new(vec![2.0, 2.0])).unwrap();
    let a = m.rv_vec("a", Gamma::new(2.0, 0.3), 2).unwrap();
    let b = m.rv_vec("b", Gamma::new(2.0, 0.3), 2).unwrap();
    m.observe("y", BetaMixture::new(w, a, b), &d.data["y"]).unwrap();
    let start = Init::Values(HashMap::from([
        ("w".to_string(), vec![0.5, 0.5]),
        ("a".to_string(), vec![2.0, 9.0]),
        ("b".to_string(), vec![8.0, 3.0]),
    ]));
    matches_pymc_with("beta mixture", &m, d, |s| s.init(start.clone()));
}

/// `ln Σₖ wₖ Poisson(y | μₖ)` by hand.
fn ln_poisson_mixture(y: f64, w: [f64; 2], mu: [f64; 2]) -> f64 {
    let l: Vec<f64> = (0..2).map(|k| w[k].ln() + y * mu[k].ln() - mu[k] - libm::lgamma(y + 1.0)).collect();
    let top = l[0].max(l[1]);
    top + l.iter().map(|v| (v - top).exp()).sum::<f64>().ln()
}

/// Each count is an observation of its own in the pointwise log-likelihood, at the mixture's
/// density by hand; the posterior predictive draws each count from a component picked by `w`,
/// so its mean is the posterior mean of `Σ wₖ μₖ` within Monte Carlo error.
#[test]
fn pointwise_log_likelihood_and_predictive_of_a_mixture() {
    let o = oracle();
    let y = &o.models["poisson"].data["y"][..60];
    let m = poisson_mixture(y);
    let fit = Sampler::new(&m).chains(2).warmup(400).draws(300).seed(8).progress(false).run().unwrap();
    let ll = log_likelihood(&m, &fit).unwrap();
    assert_eq!(ll.nodes, vec![("y".to_string(), y.len())]);
    let (w, log_mu) = (fit.draws("w").unwrap(), fit.draws("log_mu").unwrap());
    let at = |d: &exmc::sampler::Draws, c, s, e| d.get(c, s, e).unwrap();
    let mut expected = Vec::new();
    for c in 0..2 {
        for s in 0..300 {
            let wk = [at(&w, c, s, 0), at(&w, c, s, 1)];
            let mu = [at(&log_mu, c, s, 0).exp(), at(&log_mu, c, s, 1).exp()];
            for (i, &yi) in y.iter().enumerate() {
                let want = ln_poisson_mixture(yi, wk, mu);
                let got = ll.values[i][c * 300 + s];
                assert!((got - want).abs() < 1e-10 * want.abs().max(1.0), "y[{i}] draw {s}: {got} vs {want}");
            }
            expected.push(wk[0] * mu[0] + wk[1] * mu[1]);
        }
    }
    let rep = posterior_predictive(&m, &fit, 3).unwrap();
    let draws = rep.draws("y").unwrap();
    // Per posterior draw, the mean of its replicated counts against Σ wₖ μₖ: independent
    // across draws given the posterior, each with the mixture's variance over `n` counts.
    let n = y.len() as f64;
    let (mut diff, mut var) = (0.0, 0.0);
    for c in 0..2 {
        for s in 0..300 {
            let reps: Vec<f64> = (0..y.len()).map(|i| at(&draws, c, s, i)).collect();
            assert!(reps.iter().all(|v| *v >= 0.0 && v.fract() == 0.0), "counts");
            let mean = reps.iter().sum::<f64>() / n;
            let e = expected[c * 300 + s];
            diff += mean - e;
            let wk = [at(&w, c, s, 0), at(&w, c, s, 1)];
            let mu = [at(&log_mu, c, s, 0).exp(), at(&log_mu, c, s, 1).exp()];
            let second: f64 = (0..2).map(|k| wk[k] * (mu[k] + mu[k] * mu[k])).sum();
            var += (second - e * e) / n;
        }
    }
    let (k, se) = (600.0, var.sqrt());
    assert!((diff / k).abs() <= 4.5 * se / k, "predictive mean off by {} (se {})", diff / k, se / k);
}
