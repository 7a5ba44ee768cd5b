//! The local-level and stochastic-volatility models (non-centred random walks through
//! `cumsum`) on simulated data: each model file is fitted and its posterior compared with the
//! values the data were simulated from, with divergences and bulk ESS per second. Target
//! acceptance 0.95: the running sum's stiffest direction needs a smaller step than 0.8 gives
//! (the local level has ~280 divergences in 4,000 draws at 0.8, none at 0.95).
//!
//! ```text
//! cargo run --release --example time_series -- [--backend cpu|gpu] [--chains 4] [--seed 1] [--rust]
//! cargo run --release --example time_series -- --write-data   # re-simulate models/*.json
//! cargo run --release --example time_series -- --bench [--backend gpu] [--mapping auto|invocation|workgroup]
//!     [--chains 4] [garch11|stochastic_volatility]
//! ```

#[path = "common/args.rs"]
#[allow(dead_code)]
mod args;
#[path = "common/time_series.rs"]
mod time_series;

use exmc::model::file::DataSet;
use exmc::prelude::*;
use time_series::*;

fn write_data() -> Result<()> {
    let y = simulate_local_level(LOCAL_LEVEL_T, 20261202);
    let r = simulate_sv(SV_T, 20261203);
    let json = |name: &str, v: &[f64]| serde_json::json!({ "T": v.len(), name: v }).to_string();
    std::fs::write("models/local_level.json", json("y", &y)).expect("write models/local_level.json");
    std::fs::write("models/stochastic_volatility.json", json("returns", &r))
        .expect("write models/stochastic_volatility.json");
    println!(
        "wrote models/local_level.json ({} points), models/stochastic_volatility.json ({})",
        y.len(),
        r.len()
    );
    Ok(())
}

/// `--bench`: GARCH(1,1) on posteriordb's garch11 data (T = 200, from `../shared`) and the
/// stochastic-volatility model (T = 500), PyMC's settings (4 chains, 1000 + 1000, seed
/// 20240611; target acceptance 0.95 for the random walk, 0.8 for GARCH): one JSON line each
/// with the smallest bulk ESS over the free variables per second of sampling, as
/// `scripts/time_series_peers.py` records for PyMC and nutpie. `--chains` and `--mapping` vary
/// the run (the GPU backend's rate grows with chains while dispatches cost a fixed floor).
fn bench(backend: BackendChoice) -> Result<()> {
    let shared = concat!(env!("CARGO_MANIFEST_DIR"), "/../shared/posteriordb/garch-garch11/data.json");
    let cases = [
        ("garch11", "models/posteriordb/garch-garch11.toml", shared.to_string(), 0.8),
        (
            "stochastic_volatility",
            "models/stochastic_volatility.toml",
            "models/stochastic_volatility.json".into(),
            0.95,
        ),
    ];
    // Names given on the command line select among the cases.
    let chosen = args::positional();
    let chains = args::arg("--chains", 4);
    let device = if backend == BackendChoice::Gpu { "lavapipe" } else { "cpu" };
    let sampler = if chains == 4 { format!("exmc-{device}") } else { format!("exmc-{device}-{chains}ch") };
    for (name, model, data, target) in cases {
        if !chosen.is_empty() && !chosen.iter().any(|c| c == name) {
            continue;
        }
        let data = DataSet::from_file(&data)?;
        let m = Model::from_model_str(&std::fs::read_to_string(model).expect("model file"), &data, model)?;
        let fit = Sampler::new(&m)
            .backend(backend)
            .gpu_mapping(args::mapping())
            .chains(chains)
            .warmup(1000)
            .draws(1000)
            .seed(20240611)
            .target_accept(target)
            .progress(false)
            .run()?;
        let free: Vec<&str> = m.nodes().iter().filter(|n| n.is_free()).map(|n| n.name.as_str()).collect();
        let summary = fit.summary();
        let ess = summary
            .rows
            .iter()
            .filter(|r| free.contains(&r.name.split('[').next().unwrap_or("")))
            .map(|r| r.ess_bulk)
            .fold(f64::INFINITY, f64::min);
        let s = fit.timing.sampling_s;
        let (draw_grads, warm_grads) = fit.trace.leapfrog_steps();
        let line = serde_json::json!({
            "model": name, "sampler": sampler, "chains": chains,
            "backend": fit.backend, "sampling_s": s, "ess_bulk_min": ess, "ess_bulk_per_s": ess / s,
            "divergences": fit.divergences(), "compile_s": fit.timing.compile_s,
            "gradients": draw_grads + warm_grads, "us_per_gradient": 1e6 * s / (draw_grads + warm_grads) as f64,
        });
        println!("{line}");
    }
    Ok(())
}

fn main() -> Result<()> {
    if args::flag("--write-data") {
        return write_data();
    }
    let backend = match args::value("--backend").as_deref() {
        Some("gpu") => BackendChoice::Gpu,
        _ => BackendChoice::Cpu,
    };
    if args::flag("--bench") {
        return bench(backend);
    }
    let (chains, seed) = (args::arg("--chains", 4usize), args::arg("--seed", 1u64));
    for (name, truth) in [("local_level", LOCAL_LEVEL_TRUTH), ("stochastic_volatility", SV_TRUTH)] {
        let path = format!("models/{name}.toml");
        let data = DataSet::from_file(format!("models/{name}.json"))?;
        // The model file, or with --rust the same model built in Rust.
        let m = if args::flag("--rust") {
            let series = |key: &str| match data.get(key) {
                Some(exmc::model::file::DataValue::Vector { values, .. }) => values.clone(),
                _ => panic!("{key} is a data vector"),
            };
            if name == "local_level" {
                local_level(&series("y"))?
            } else {
                stochastic_volatility(&series("returns"))?
            }
        } else {
            Model::from_model_str(&std::fs::read_to_string(&path).expect("model file"), &data, &path)?
        };
        let fit = Sampler::new(&m)
            .backend(backend)
            .chains(chains)
            .warmup(1000)
            .draws(1000)
            .seed(seed)
            .progress(false)
            .run()?;
        let summary = fit.summary();
        println!(
            "{name} ({}): {} divergences, sampling {:.2} s",
            fit.backend,
            fit.divergences(),
            fit.timing.sampling_s
        );
        let mut min_ess = f64::INFINITY;
        for (param, value) in truth {
            let row = summary.rows.iter().find(|r| r.name == param).expect("parameter in the summary");
            min_ess = min_ess.min(row.ess_bulk);
            println!(
                "  {param:<12} true {value:>6.3}  posterior {:>7.3} ± {:.3}  z = {:+.2}  ess_bulk {:.0}",
                row.mean,
                row.sd,
                (row.mean - value) / row.sd,
                row.ess_bulk
            );
        }
        let worst = summary.rows.iter().map(|r| r.ess_bulk).fold(f64::INFINITY, f64::min);
        println!(
            "  min ess_bulk/s: {:.1} over these parameters, {:.1} over every quantity",
            min_ess / fit.timing.sampling_s,
            worst / fit.timing.sampling_s
        );
    }
    Ok(())
}
