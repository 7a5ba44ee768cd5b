//! Sequential Monte Carlo on three models of `tests/data/smc_oracle.json`, with the settings of
//! `scripts/smc_peers.py` (PyMC's `sample_smc`): 4 chains of 2,000 particles, seeds 1 to 4,
//! each kernel. Prints, per model and kernel, the chains' log evidence (mean and sd) against
//! the oracle, the mean number of stages and the wall time per run (4 chains), as JSON lines
//! the PyMC script's can be set beside.
//!
//! ```text
//! cargo run --release --example smc_bench
//! ~/.venvs/peers/bin/python scripts/smc_peers.py
//! ```

use std::time::Instant;

use exmc::prelude::*;

fn floats(v: &serde_json::Value) -> Vec<f64> {
    v.as_array().map(|a| a.iter().filter_map(|x| x.as_f64()).collect()).unwrap_or_default()
}

fn build(name: &str, o: &serde_json::Value) -> exmc::Result<Model> {
    let y = floats(&o["y"]);
    let mut m = Model::new();
    match name {
        "normal_unknown" => {
            let mu = m.rv("mu", Normal::new(0.0, 2.0))?;
            let sigma = m.rv("sigma", HalfNormal::new(1.0))?;
            m.observe("y", Normal::new(mu, sigma), &y)?;
        }
        "eight_schools" => {
            let mu = m.rv("mu", Normal::new(0.0, 5.0))?;
            let tau = m.rv("tau", HalfCauchy::new(5.0))?;
            let theta = m.rv_vec("theta", Normal::new(mu, tau), y.len())?;
            m.observe("y", Normal::new(theta, floats(&o["sigma"])), &y)?;
        }
        _ => {
            let mu = m.rv("mu", Normal::new(0.0, 2.0))?;
            m.observe("y", Normal::new(mu * mu, 0.5), &y)?;
        }
    }
    Ok(m)
}

fn main() -> exmc::Result<()> {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/smc_oracle.json");
    let oracle: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(path).map_err(|e| Error::Json(e.to_string()))?)
            .map_err(|e| Error::Json(e.to_string()))?;
    for name in ["normal_unknown", "eight_schools", "bimodal"] {
        let m = build(name, &oracle[name])?;
        for kernel in [SmcKernel::Imh, SmcKernel::Mh, SmcKernel::Hmc] {
            let (mut logz, mut stages, mut seconds) = (Vec::new(), Vec::new(), Vec::new());
            for seed in 1..=4 {
                let t = Instant::now();
                let smc = sample_smc(&m, &SmcOptions { seed, kernel, ..SmcOptions::default() })?;
                seconds.push(t.elapsed().as_secs_f64());
                logz.extend(smc.log_marginal_likelihood.iter().copied());
                stages.extend(smc.stages.iter().map(|s| s.len() as f64));
            }
            let mean = |v: &[f64]| v.iter().sum::<f64>() / v.len() as f64;
            let sd = |v: &[f64]| {
                let m = mean(v);
                (v.iter().map(|x| (x - m).powi(2)).sum::<f64>() / (v.len() as f64 - 1.0)).sqrt()
            };
            println!(
                "{}",
                serde_json::json!({
                    "model": name,
                    "kernel": kernel.name(),
                    "oracle": oracle[name]["log_z"],
                    "log_z_mean": mean(&logz),
                    "log_z_sd": sd(&logz),
                    "stages_mean": mean(&stages),
                    "seconds_per_run": mean(&seconds),
                    "seconds_min": seconds.iter().copied().fold(f64::INFINITY, f64::min),
                })
            );
        }
    }
    Ok(())
}
