//! Conjugate models with analytic posteriors: mean within 4 MCSE, sd within 5%, on the CPU
//! backend and (when an adapter exists) the GPU backend.

mod common;
use common::{backends, moments};
use exmc::prelude::*;

fn check(fit: &Fit, name: &str, mean: f64, sd: f64) {
    let (m, s, mcse) = moments(fit, name, 0);
    let b = &fit.backend;
    assert!((m - mean).abs() <= 4.0 * mcse, "{b} {name}: mean {m} vs {mean} (mcse {mcse})");
    assert!((s - sd).abs() <= 0.05 * sd, "{b} {name}: sd {s} vs {sd}");
    assert_eq!(fit.divergences(), 0, "{b}");
}

#[test]
fn normal_normal_known_sigma() {
    let (m0, s0, sigma) = (1.0, 2.0, 1.5);
    let data = [2.3, 3.1, 1.7, 2.9, 3.6, 2.2, 2.8, 3.3, 1.9, 2.6, 3.0, 2.4];
    let mut m = Model::new();
    let mu = m.rv("mu", Normal::new(m0, s0)).unwrap();
    m.observe("x", Normal::new(mu, sigma), &data).unwrap();
    let n = data.len() as f64;
    let precision = 1.0 / (s0 * s0) + n / (sigma * sigma);
    let mean = (m0 / (s0 * s0) + data.iter().sum::<f64>() / (sigma * sigma)) / precision;
    for backend in backends("normal_normal_known_sigma") {
        let fit =
            Sampler::new(&m).backend(backend).chains(4).warmup(1000).draws(2000).seed(2024).progress(false);
        check(&fit.run().unwrap(), "mu", mean, precision.powf(-0.5));
    }
}

#[test]
fn gamma_exponential() {
    let (a, b) = (2.0, 1.5);
    let data = [0.8, 1.9, 0.3, 2.4, 0.9, 1.2, 0.5, 3.1, 0.7, 1.4];
    let mut m = Model::new();
    let lam = m.rv("lam", Gamma::new(a, b)).unwrap();
    m.observe("x", Exponential::new(lam), &data).unwrap();
    let (shape, rate) = (a + data.len() as f64, b + data.iter().sum::<f64>());
    for backend in backends("gamma_exponential") {
        let fit =
            Sampler::new(&m).backend(backend).chains(4).warmup(1000).draws(2000).seed(99).progress(false);
        check(&fit.run().unwrap(), "lam", shape / rate, shape.sqrt() / rate);
    }
}
