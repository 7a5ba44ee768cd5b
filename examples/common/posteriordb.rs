//! Runs a posteriordb posterior from its model file (`models/posteriordb/<name>.toml`) and
//! data (`../shared/posteriordb/<name>/data.json`) and compares the draws with the reference
//! (`reference.json`): shared by `examples/posteriordb.rs` and `tests/posteriordb.rs`.

use std::path::{Path, PathBuf};
use std::time::Instant;

use exmc::prelude::*;

/// How one posterior compared with its reference.
#[derive(Debug)]
pub struct Outcome {
    /// Posterior name.
    pub name: String,
    /// Largest |mean − reference mean| / sqrt(MCSE² + reference MCSE²) over the parameters.
    pub worst_z: f64,
    /// Largest |sd / reference sd − 1|.
    pub worst_sd: f64,
    /// Divergent draws after warmup.
    pub divergences: usize,
    /// Wall time of compilation and sampling.
    pub seconds: f64,
    /// The parameter with the largest `worst_z`.
    pub worst_param: String,
    /// Settings raised from the defaults because the reference run raised them.
    pub settings: String,
    /// Whether every parameter passed: |Δmean| ≤ 4 combined MCSE and sd within 10%.
    pub passed: bool,
}

/// Posterior names with a model file in `models`.
pub fn names(models: &Path) -> Vec<String> {
    let mut out: Vec<String> = std::fs::read_dir(models)
        .map(|d| {
            d.flatten()
                .filter_map(|e| e.file_name().to_str()?.strip_suffix(".toml").map(String::from))
                .collect()
        })
        .unwrap_or_default();
    out.sort();
    out
}

/// The shared folder (`EXMC_SHARED` or `../shared` beside the repository), if present.
pub fn shared() -> Option<PathBuf> {
    let dir = match std::env::var_os("EXMC_SHARED") {
        Some(d) => PathBuf::from(d),
        None => PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../shared")),
    };
    dir.join("posteriordb").is_dir().then_some(dir)
}

/// `beta[1]` (Stan, 1-based) → `beta[0]`.
pub fn our_name(stan: &str) -> String {
    match stan.split_once('[') {
        Some((base, rest)) => {
            let k: usize = rest.trim_end_matches(']').parse().unwrap_or(1);
            format!("{base}[{}]", k.saturating_sub(1))
        }
        None => stan.to_string(),
    }
}

/// A posterior's model, its reference record and the sampler settings its reference run used.
pub struct Posterior {
    /// The model with its data.
    pub model: Model,
    /// posteriordb's `reference.json`.
    pub reference: serde_json::Value,
    /// The reference's `adapt_delta` (at least 0.8).
    pub target_accept: f64,
    /// The reference's tree depth, capped by `EXMC_PDB_MAX_TREEDEPTH`.
    pub max_treedepth: u32,
    /// Settings raised from the defaults, for the report.
    pub settings: String,
}

/// Loads `name`'s model file, data and reference.
pub fn load(shared: &Path, models: &Path, name: &str) -> exmc::Result<Posterior> {
    let dir = shared.join("posteriordb").join(name);
    let model = Model::from_files(models.join(format!("{name}.toml")), Some(&dir.join("data.json")))?;
    let text = std::fs::read_to_string(dir.join("reference.json"))
        .map_err(|e| Error::Json(format!("{}: {e}", dir.join("reference.json").display())))?;
    let reference: serde_json::Value = serde_json::from_str(&text).map_err(|e| Error::Json(e.to_string()))?;
    let control = &reference["info"]["inference"]["method_arguments"]["control"];
    let adapt_delta = control["adapt_delta"].as_f64().unwrap_or(0.8).max(0.8);
    // The reference's tree depth, capped by `EXMC_PDB_MAX_TREEDEPTH` (default 15: diamonds'
    // reference asks for 20, where one draw may cost 10⁶ gradients).
    let cap: u64 = std::env::var("EXMC_PDB_MAX_TREEDEPTH").ok().and_then(|s| s.parse().ok()).unwrap_or(15);
    let asked = control["max_treedepth"].as_u64().unwrap_or(10).max(10);
    let treedepth = asked.min(cap.max(1)) as u32;
    let mut settings = Vec::new();
    if adapt_delta > 0.8 {
        settings.push(format!("target_accept {adapt_delta}"));
    }
    if asked > u64::from(treedepth) {
        settings.push(format!("max_treedepth {treedepth}, reference {asked}"));
    } else if treedepth > 10 {
        settings.push(format!("max_treedepth {treedepth}"));
    }
    Ok(Posterior {
        model,
        reference,
        target_accept: adapt_delta,
        max_treedepth: treedepth,
        settings: settings.join(", "),
    })
}

/// Samples `name` (4 chains, `warmup` + 1,000 draws) and compares it with its reference.
pub fn run(
    shared: &Path,
    models: &Path,
    name: &str,
    backend: BackendChoice,
    precision: exmc::backend::gpu::Precision,
    seed: u64,
    warmup: usize,
) -> exmc::Result<Outcome> {
    let Posterior { model, reference, target_accept, max_treedepth, settings } = load(shared, models, name)?;
    let t = Instant::now();
    let fit = Sampler::new(&model)
        .backend(backend)
        .gpu_precision(precision)
        .target_accept(target_accept)
        .max_treedepth(max_treedepth)
        .seed(seed)
        .warmup(warmup)
        .progress(false)
        .run()?;
    let seconds = t.elapsed().as_secs_f64();
    let summary = fit.summary();
    let (mut worst_z, mut worst_sd, mut worst_param, mut passed) = (0.0f64, 0.0f64, String::new(), true);
    for stan in reference["parameter_order"].as_array().into_iter().flatten().filter_map(|v| v.as_str()) {
        let r = &reference["parameters"][stan];
        let (mean, sd, mcse) = (
            r["mean"].as_f64().unwrap_or(f64::NAN),
            r["sd"].as_f64().unwrap_or(f64::NAN),
            r["posteriordb_mcse_mean"].as_f64().unwrap_or(f64::NAN),
        );
        let Some(row) = summary.get(&our_name(stan)) else {
            passed = false;
            worst_param = format!("{stan} (missing)");
            continue;
        };
        let z = (row.mean - mean).abs() / (row.mcse_mean.powi(2) + mcse.powi(2)).sqrt();
        let sd_err = (row.sd / sd - 1.0).abs();
        let within = z <= 4.0 && sd_err <= 0.1;
        if !within {
            passed = false;
        }
        if z.is_nan() || z > worst_z {
            worst_z = z;
            worst_param = our_name(stan);
        }
        worst_sd = worst_sd.max(sd_err);
    }
    Ok(Outcome {
        name: name.to_string(),
        worst_z,
        worst_sd,
        divergences: fit.divergences(),
        seconds,
        worst_param,
        settings,
        passed,
    })
}
