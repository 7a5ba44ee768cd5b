//! The benchmark models (the peer harness's seed_simple, eight_schools_noncentered and
//! gaussian_100d, with their data inline), shared by `examples/gpu_bench.rs` and
//! `benches/logp_grad.rs`.

use exmc::prelude::*;

/// `(name, model)` for the three benchmark models.
pub fn models() -> Vec<(&'static str, Model)> {
    let mut simple = Model::new();
    let mu = simple.rv("mu", Normal::new(0.0, 5.0)).unwrap();
    let sigma = simple.rv("sigma", HalfNormal::new(2.0)).unwrap();
    simple.observe("x", Normal::new(mu, sigma), &[2.1, 1.8, 2.5, 2.0, 1.9, 2.3, 2.2, 1.7, 2.4, 2.6]).unwrap();

    let mut schools = Model::new();
    let mu = schools.rv("mu", Normal::new(0.0, 5.0)).unwrap();
    let tau = schools.rv("tau", HalfCauchy::new(5.0)).unwrap();
    let z = schools.rv_vec("theta_tilde", Normal::new(0.0, 1.0), 8).unwrap();
    let theta = schools.deterministic("theta", mu + tau * z).unwrap();
    let sd = vec![15.0, 10.0, 16.0, 11.0, 9.0, 11.0, 10.0, 18.0];
    schools.observe("y", Normal::new(theta, sd), &[28.0, 8.0, -3.0, 7.0, -1.0, 1.0, 18.0, 12.0]).unwrap();

    let mut gauss = Model::new();
    let sds: Vec<f64> = (0..100).map(|i| 10f64.powf(-2.0 + 4.0 * i as f64 / 99.0)).collect();
    gauss.rv_vec("x", Normal::new(0.0, sds), 100).unwrap();
    vec![("seed_simple", simple), ("eight_schools_noncentered", schools), ("gaussian_100d", gauss)]
}
