//! exmc against PyMC, nutpie and NumPyro on the peer harness's models and data.
//!
//! ```text
//! PEERS_OUT=/tmp/peers ~/.venvs/peers/bin/python ../shared/peers/run_peers.py <model>   # peers
//! PEERS_OUT=/tmp/peers cargo run --release --example bench_peers                        # exmc + table
//! ```
//! (`scripts/bench_peers.sh` runs both in one sitting.) Every sampler: 4 chains, 1000 warmup +
//! 1000 draws. ESS_bulk/s = minimum bulk ESS over every scalar of the model's variables divided
//! by the wall time of warmup plus draws (compilation excluded), as `../shared/peers/README.md`
//! defines it. exmc's time is the median of `EXMC_BENCH_REPS` runs (default 7);
//! `EXMC_BENCH_MODELS=a,b` runs only those models.

use std::path::PathBuf;

use exmc::prelude::*;
use serde_json::Value;

#[path = "common/peer_models.rs"]
mod peer_models;

const MODELS: [&str; 5] = [
    "seed_simple",
    "eight_schools_noncentered",
    "gaussian_100d_corr",
    "radon_varying_intercept",
    "logistic_regression",
];
const SEED: u64 = 20240611;

fn shared() -> PathBuf {
    std::env::var_os("EXMC_SHARED")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../shared")))
}

fn read_json(path: &std::path::Path) -> Option<Value> {
    serde_json::from_str(&std::fs::read_to_string(path).ok()?).ok()
}

struct Row {
    sampler: String,
    sampling_s: f64,
    grads: f64,
    ess: f64,
}

impl Row {
    fn print(&self, model: &str, nutpie_ess_s: Option<f64>) {
        let ess_s = self.ess / self.sampling_s;
        let ratio = nutpie_ess_s.map(|n| format!("{:.2}", ess_s / n)).unwrap_or_else(|| "–".into());
        println!(
            "| {model} | {} | {:.4} | {:.0} | {:.0} | {:.0} | {:.3e} | {:.1} | {ratio} |",
            self.sampler,
            self.sampling_s,
            self.grads,
            self.ess,
            ess_s,
            self.grads / self.sampling_s,
            1000.0 * self.ess / self.grads,
        );
    }
}

/// The largest |exmc mean − peer mean| / combined MCSE over the parameters the peer record
/// reports (its MCSE taken as sd / sqrt(bulk ESS of that variable), the variable's minimum),
/// and PASS when it is at most 4.
fn agreement(fit: &Fit, record: &Value) -> String {
    let summary = fit.summary();
    let mut worst = 0.0f64;
    for (name, p) in record["params"].as_object().into_iter().flatten() {
        let base = name.split('[').next().unwrap_or(name);
        let ess = record["per_variable"][base]["ess_bulk_min"].as_f64().unwrap_or(f64::NAN);
        let (mean, sd) = (p["mean"].as_f64().unwrap_or(f64::NAN), p["sd"].as_f64().unwrap_or(f64::NAN));
        let z = match summary.get(name) {
            Some(row) => (row.mean - mean).abs() / (row.mcse_mean.powi(2) + sd * sd / ess).sqrt(),
            None => f64::INFINITY,
        };
        if z.is_nan() || z > worst {
            worst = z;
        }
    }
    let verdict = if worst <= 4.0 { "PASS" } else { "FAIL" };
    format!("vs {}: max z {worst:.2} {verdict}", record["sampler"].as_str().unwrap_or("?"))
}

fn main() -> Result<()> {
    let reps: usize = std::env::var("EXMC_BENCH_REPS").ok().and_then(|s| s.parse().ok()).unwrap_or(7).max(1);
    let (peers_path, peers_label) = match std::env::var_os("PEERS_OUT") {
        Some(dir) => (PathBuf::from(dir).join("results.json"), "this sitting (PEERS_OUT)"),
        None => (shared().join("peers/results.json"), "STORED results (not this sitting)"),
    };
    let peers = read_json(&peers_path);
    println!("peers: {} — {peers_label}", peers_path.display());
    println!("exmc: median of {reps} runs, {} threads\n", rayon::current_num_threads());
    println!(
        "| model | sampler | sampling s | grads (warmup+draws) | ESS bulk min | ESS_bulk/s | grad evals/s | ESS/1k grads | ESS/s ÷ nutpie |"
    );
    println!("|---|---|---:|---:|---:|---:|---:|---:|---:|");
    let only = std::env::var("EXMC_BENCH_MODELS").ok();
    for model in
        MODELS.iter().copied().filter(|m| only.as_ref().is_none_or(|o| o.split(',').any(|x| x == *m)))
    {
        let Some(data) = read_json(&shared().join(format!("peers/data/{model}.json"))) else {
            println!("| {model} | SKIPPED: ../shared/peers/data not found | | | | | | | |");
            continue;
        };
        let m = peer_models::build(model, &data)?;
        let mut times = Vec::with_capacity(reps);
        let mut last = None;
        for _ in 0..reps {
            let fit = Sampler::new(&m).chains(4).warmup(1000).draws(1000).seed(SEED).progress(false).run()?;
            times.push(fit.timing.sampling_s);
            last = Some(fit);
        }
        times.sort_by(f64::total_cmp);
        let fit = last.expect("at least one run");
        let (draw_grads, warm_grads) = fit.trace.leapfrog_steps();
        let ours = Row {
            sampler: "exmc".into(),
            sampling_s: times[reps / 2],
            grads: (draw_grads + warm_grads) as f64,
            ess: fit.min_ess_bulk(),
        };
        let records: Vec<&Value> = peers
            .as_ref()
            .and_then(Value::as_array)
            .map(|a| a.iter().filter(|r| r["model"] == model && r["ok"] == true).collect())
            .unwrap_or_default();
        let peer_rows: Vec<Row> = records
            .iter()
            .map(|r| Row {
                sampler: r["sampler"].as_str().unwrap_or("?").to_string(),
                sampling_s: r["sampling_s"].as_f64().unwrap_or(f64::NAN),
                grads: r["grad_evals_sampling"].as_f64().unwrap_or(0.0)
                    + r["grad_evals_warmup"].as_f64().unwrap_or(0.0),
                ess: r["ess_bulk_min"].as_f64().unwrap_or(f64::NAN),
            })
            .collect();
        let nutpie = peer_rows.iter().find(|r| r.sampler == "nutpie").map(|r| r.ess / r.sampling_s);
        ours.print(model, nutpie);
        peer_rows.iter().for_each(|r| r.print(model, nutpie));
        let agreement: Vec<String> = records.iter().map(|r| agreement(&fit, r)).collect();
        println!(
            "|  | exmc detail | divergences {} | R-hat max {:.3} | step sizes {:?} | {} | | | |",
            fit.divergences(),
            fit.summary().rows.iter().map(|r| r.r_hat).fold(0.0, f64::max),
            fit.trace.stats.iter().map(|c| format!("{:.3}", c[0].step_size)).collect::<Vec<_>>(),
            agreement.join("; "),
        );
    }
    Ok(())
}
