//! The local-level and stochastic-volatility models in Rust, their simulation (the data in
//! `models/local_level.json` and `models/stochastic_volatility.json`) and the values the
//! simulation used.

use exmc::prelude::*;
use rand::SeedableRng;
use rand::rngs::StdRng;
use rand_distr::{Distribution, Normal as N, StudentT as T};

/// Local level: `(l0, sigma_level, sigma_obs)` used for the simulated data, and `T`.
pub const LOCAL_LEVEL_TRUTH: [(&str, f64); 3] = [("l0", 1.0), ("sigma_level", 0.3), ("sigma_obs", 0.8)];
/// Length of the simulated local-level series.
pub const LOCAL_LEVEL_T: usize = 200;
/// Stochastic volatility: `(mu, step_size, nu)` used for the simulated returns.
pub const SV_TRUTH: [(&str, f64); 3] = [("mu", -1.0), ("step_size", 0.15), ("nu", 6.0)];
/// Length of the simulated returns.
pub const SV_T: usize = 500;

/// A local-level series of `t` points from [`LOCAL_LEVEL_TRUTH`].
pub fn simulate_local_level(t: usize, seed: u64) -> Vec<f64> {
    let mut rng = StdRng::seed_from_u64(seed);
    let [(_, l0), (_, s_level), (_, s_obs)] = LOCAL_LEVEL_TRUTH;
    let (step, noise) = (N::new(0.0, s_level).unwrap(), N::new(0.0, s_obs).unwrap());
    let mut level = l0;
    (0..t)
        .map(|_| {
            level += step.sample(&mut rng);
            level + noise.sample(&mut rng)
        })
        .collect()
}

/// `t` returns with stochastic volatility from [`SV_TRUTH`].
pub fn simulate_sv(t: usize, seed: u64) -> Vec<f64> {
    let mut rng = StdRng::seed_from_u64(seed);
    let [(_, mu), (_, step_size), (_, nu)] = SV_TRUTH;
    let (step, eps) = (N::new(0.0, step_size).unwrap(), T::new(nu).unwrap());
    let mut h = mu;
    (0..t)
        .map(|_| {
            h += step.sample(&mut rng);
            h.exp() * eps.sample(&mut rng)
        })
        .collect()
}

/// The local-level model of `models/local_level.toml`, in Rust.
pub fn local_level(y: &[f64]) -> Result<Model> {
    let mut m = Model::new();
    let l0 = m.rv("l0", Normal::new(0, 5))?;
    let s_level = m.rv("sigma_level", HalfNormal::new(1))?;
    let s_obs = m.rv("sigma_obs", HalfNormal::new(2))?;
    let z = m.rv_vec("z", Normal::new(0, 1), y.len())?;
    let level = m.deterministic("level", l0 + (s_level * z).cumsum())?;
    m.observe("y_obs", Normal::new(level, s_obs), y)?;
    Ok(m)
}

/// The stochastic-volatility model of `models/stochastic_volatility.toml`, in Rust.
pub fn stochastic_volatility(returns: &[f64]) -> Result<Model> {
    let mut m = Model::new();
    let mu = m.rv("mu", Normal::new(0, 2))?;
    let step_size = m.rv("step_size", Exponential::new(10))?;
    let nu = m.rv("nu", Exponential::new(0.1))?;
    let z = m.rv_vec("z", Normal::new(0, 1), returns.len())?;
    let log_vol = m.deterministic("log_vol", mu + (step_size * z).cumsum())?;
    m.observe("returns_obs", StudentT::new(nu, 0, log_vol.exp()), returns)?;
    Ok(m)
}
