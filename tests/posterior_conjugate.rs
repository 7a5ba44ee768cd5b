//! Conjugate models with analytic posteriors: mean within 4 MCSE, sd within 5%.

mod common;
use common::moments;
use exmc::prelude::*;

fn check(fit: &Fit, name: &str, mean: f64, sd: f64) {
    let (m, s, mcse) = moments(fit, name, 0);
    assert!((m - mean).abs() <= 4.0 * mcse, "{name}: mean {m} vs {mean} (mcse {mcse})");
    assert!((s - sd).abs() <= 0.05 * sd, "{name}: sd {s} vs {sd}");
    assert_eq!(fit.divergences(), 0);
}

#[test]
fn normal_normal_known_sigma() {
    let (m0, s0, sigma) = (1.0, 2.0, 1.5);
    let data = [2.3, 3.1, 1.7, 2.9, 3.6, 2.2, 2.8, 3.3, 1.9, 2.6, 3.0, 2.4];
    let mut m = Model::new();
    let mu = m.rv("mu", Normal::new(m0, s0)).unwrap();
    m.observe("x", Normal::new(mu, sigma), &data).unwrap();
    let fit = Sampler::new(&m)
        .backend(BackendChoice::Cpu)
        .chains(4)
        .warmup(1000)
        .draws(2000)
        .seed(2024)
        .progress(false)
        .run()
        .unwrap();
    let n = data.len() as f64;
    let precision = 1.0 / (s0 * s0) + n / (sigma * sigma);
    let mean = (m0 / (s0 * s0) + data.iter().sum::<f64>() / (sigma * sigma)) / precision;
    check(&fit, "mu", mean, precision.powf(-0.5));
}

#[test]
fn gamma_exponential() {
    let (a, b) = (2.0, 1.5);
    let data = [0.8, 1.9, 0.3, 2.4, 0.9, 1.2, 0.5, 3.1, 0.7, 1.4];
    let mut m = Model::new();
    let lam = m.rv("lam", Gamma::new(a, b)).unwrap();
    m.observe("x", Exponential::new(lam), &data).unwrap();
    let fit = Sampler::new(&m)
        .backend(BackendChoice::Cpu)
        .chains(4)
        .warmup(1000)
        .draws(2000)
        .seed(99)
        .progress(false)
        .run()
        .unwrap();
    let (shape, rate) = (a + data.len() as f64, b + data.iter().sum::<f64>());
    check(&fit, "lam", shape / rate, shape.sqrt() / rate);
}
