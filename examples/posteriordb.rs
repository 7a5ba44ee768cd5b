//! Runs the posteriordb posteriors that have a model file (`models/posteriordb/*.toml`, all
//! 37 in `../shared/posteriordb`; ARMA(1,1) and GARCH(1,1) through `[scan.*]` recurrences)
//! and compares each with its reference draws.
//!
//! ```text
//! cargo run --release --example posteriordb -- [--backend cpu|gpu] [--precision f32|f64] [--seed 1] [--warmup 1000] [NAME…]
//! ```
//! Per posterior: the worst |Δmean| / combined MCSE (our MCSE and posteriordb's), the worst
//! |sd / reference sd − 1|, divergences, time, the settings raised where the reference run
//! raised them (adapt_delta, max_treedepth), and PASS when every parameter is within 4 combined
//! MCSE and its sd within 10%. The last line is `passed K of N`.

#[path = "common/args.rs"]
#[allow(dead_code)]
mod args;
#[path = "common/posteriordb.rs"]
mod posteriordb;

use exmc::prelude::*;

fn main() {
    let Some(shared) = posteriordb::shared() else {
        eprintln!("../shared/posteriordb not found (set EXMC_SHARED)");
        std::process::exit(2);
    };
    let models = std::path::PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/models/posteriordb"));
    let backend = match args::value("--backend").as_deref() {
        Some("gpu") => BackendChoice::Gpu,
        _ => BackendChoice::Cpu,
    };
    let seed: u64 = args::arg("--seed", 1);
    let warmup: usize = args::arg("--warmup", 1000);
    let precision = match args::value("--precision").as_deref() {
        Some("f64") => exmc::backend::gpu::Precision::F64,
        _ => exmc::backend::gpu::Precision::F32,
    };
    let chosen = args::positional();
    let all = posteriordb::names(&models);
    if let Some(unknown) = chosen.iter().find(|c| !all.contains(c)) {
        eprintln!("no posterior `{unknown}` in models/posteriordb (names look like `earnings-earn_height`)");
        std::process::exit(2);
    }
    let names: Vec<String> = all.into_iter().filter(|n| chosen.is_empty() || chosen.contains(n)).collect();
    println!("{:<44} {:>8} {:>8} {:>5} {:>8}  result", "posterior", "max |z|", "max sd", "div", "time s");
    let mut passed = 0;
    for name in &names {
        match posteriordb::run(&shared, &models, name, backend, precision, seed, warmup) {
            Ok(o) => {
                passed += usize::from(o.passed);
                let notes = if o.settings.is_empty() { String::new() } else { format!(" ({})", o.settings) };
                println!(
                    "{:<44} {:>8.2} {:>7.1}% {:>5} {:>8.2}  {}{}  worst: {}",
                    o.name,
                    o.worst_z,
                    100.0 * o.worst_sd,
                    o.divergences,
                    o.seconds,
                    if o.passed { "PASS" } else { "FAIL" },
                    notes,
                    o.worst_param
                );
            }
            Err(e) => println!("{name:<44} error: {e}"),
        }
    }
    println!("passed {passed} of {}", names.len());
}
