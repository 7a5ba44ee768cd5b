//! The peer models of `../shared/peers` written as exmc models (shared by the benchmarks).

use exmc::prelude::*;
use serde_json::Value;

/// The numbers of a JSON array.
pub fn floats(v: &Value) -> Vec<f64> {
    v.as_array().map(|a| a.iter().filter_map(Value::as_f64).collect()).unwrap_or_default()
}

/// Builds `model` from its peer data.
pub fn build(model: &str, data: &Value) -> Result<Model> {
    let mut m = Model::new();
    match model {
        "seed_simple" => {
            let mu = m.rv("mu", Normal::new(0.0, 5.0))?;
            let sigma = m.rv("sigma", HalfNormal::new(2.0))?;
            m.observe("x_obs", Normal::new(mu, sigma), &floats(&data["x_obs"]))?;
        }
        "eight_schools_noncentered" => {
            let mu = m.rv("mu", Normal::new(0.0, 5.0))?;
            let tau = m.rv("tau", HalfCauchy::new(5.0))?;
            let z = m.rv_vec("theta_tilde", Normal::new(0.0, 1.0), 8)?;
            let theta = m.deterministic("theta", mu + tau * z)?;
            m.observe("y", Normal::new(theta, floats(&data["sigma"])), &floats(&data["y"]))?;
        }
        "gaussian_100d_corr" => {
            let sds = floats(&data["sds"]);
            let n = sds.len();
            m.rv_vec("x", Normal::new(0.0, sds), n)?;
        }
        "radon_varying_intercept" => {
            let groups = data["n_groups"].as_u64().unwrap_or(0) as usize;
            let group: Vec<i64> = floats(&data["group"]).iter().map(|&g| g as i64).collect();
            let county = m.int_data("group", &group)?;
            let x = m.data("x", floats(&data["x"]))?;
            let mu_a = m.rv("mu_a", Normal::new(0, 10))?;
            let sigma_a = m.rv("sigma_a", HalfNormal::new(5))?;
            let z_a = m.rv_vec("z_a", Normal::new(0, 1), groups)?;
            let a = m.deterministic("a", mu_a + sigma_a * z_a)?;
            let b = m.rv("b", Normal::new(0, 10))?;
            let sigma_y = m.rv("sigma_y", HalfNormal::new(5))?;
            m.observe("y", Normal::new(a.at(county) + b * x, sigma_y), &floats(&data["y"]))?;
        }
        "logistic_regression" => {
            let rows: Vec<f64> = data["X"].as_array().into_iter().flatten().flat_map(floats).collect();
            let (n, d) = (data["N"].as_u64().unwrap_or(0) as usize, data["D"].as_u64().unwrap_or(0) as usize);
            let x = m.data_matrix("X", n, d, rows)?;
            let alpha = m.rv("alpha", Normal::new(0, 2))?;
            let beta = m.rv_vec("beta", Normal::new(0, 1), d)?;
            m.observe("y", Bernoulli::logit(alpha + x.matvec(beta)), &floats(&data["y"]))?;
        }
        other => return Err(Error::InvalidOption { option: "model", reason: other.to_string() }),
    }
    Ok(m)
}
