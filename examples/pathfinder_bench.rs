//! Pathfinder over the posteriordb suite: for each posterior with a model file, Pathfinder's
//! defaults (4 paths, a history of 20, 1,000 resampled draws; seed 1), its wall time,
//! evaluations of the log density, Pareto k̂, and the draws against the reference posterior:
//! the largest |mean − reference mean| / reference sd and |sd / reference sd − 1| over the
//! parameters. `EXMC_PF_HISTORY` sets another history. `EXMC_VI=meanfield` or `fullrank`
//! runs ADVI's defaults instead (Stan's `variational`; 1,000 draws, seed 1), with the same
//! columns; `EXMC_VI_STAN_START=1` starts it as Stan does. `EXMC_VI=smc` runs sequential
//! Monte Carlo's defaults (PyMC's `sample_smc`: 4 chains of 2,000 particles, IMH; seed 1),
//! with the chains' largest R̂ where the others show k̂, trusted below 1.01, and the chains'
//! log evidence (mean and sd) after the worst parameter; `EXMC_SMC_KERNEL=mh` or `hmc`
//! chooses the moves. The summary line's medians are
//! the upper ones; rows where no parameter matched are left out of its counts.
//!
//! ```text
//! cargo run --release --example pathfinder_bench [-- name ...]
//! EXMC_PF_HISTORY=5 cargo run --release --example pathfinder_bench
//! EXMC_VI=fullrank cargo run --release --example pathfinder_bench
//! EXMC_VI=smc cargo run --release --example pathfinder_bench
//! ```
//! Needs `../shared/posteriordb` (or `EXMC_SHARED`). The table shows where k̂ is a trustworthy
//! signal: below 0.7 the draws should be close to the posterior; above, they need not be.

use std::path::PathBuf;
use std::time::Instant;

use exmc::prelude::*;

// Only the loading half: the sampling half serves `examples/posteriordb.rs`.
#[path = "common/posteriordb.rs"]
#[allow(dead_code)]
mod posteriordb;

/// What the table reads of an approximation.
struct Approximation {
    fit: Fit,
    /// k̂ (SMC: the largest R̂) and whether it says the draws can be trusted.
    signal: (f64, bool),
    evaluations: u64,
    /// SMC's log evidence, pooled, and the chains' sd.
    evidence: Option<(f64, f64)>,
}

/// The signal of an approximation with Pareto k̂ `k`.
fn k_signal(k: f64) -> (f64, bool) {
    (k, k < 0.7)
}

/// Pathfinder, ADVI where `EXMC_VI` names a family, or sequential Monte Carlo.
fn approximate(model: &Model) -> Result<Approximation> {
    let method = match std::env::var("EXMC_VI").as_deref() {
        Ok("meanfield") => Some(AdviMethod::MeanField),
        Ok("fullrank") => Some(AdviMethod::FullRank),
        _ => None,
    };
    if std::env::var("EXMC_VI").as_deref() == Ok("smc") {
        let kernel = match std::env::var("EXMC_SMC_KERNEL").as_deref() {
            Ok("mh") => SmcKernel::Mh,
            Ok("hmc") => SmcKernel::Hmc,
            _ => SmcKernel::Imh,
        };
        let smc = sample_smc(model, &SmcOptions { seed: 1, kernel, ..SmcOptions::default() })?;
        // A NaN R̂ (a constant quantity) reads as untrusted.
        let r_hat = smc
            .fit
            .summary()
            .rows
            .iter()
            .map(|r| r.r_hat)
            .fold(0.0f64, |m, r| if m.is_nan() || r.is_nan() { f64::NAN } else { m.max(r) });
        let evidence = Some((smc.log_evidence(), smc.log_evidence_sd()));
        return Ok(Approximation {
            fit: smc.fit,
            signal: (r_hat, r_hat < 1.01),
            evaluations: smc.evaluations,
            evidence,
        });
    }
    if let Some(method) = method {
        let laplace_start = std::env::var_os("EXMC_VI_STAN_START").is_none();
        let options = AdviOptions { method, laplace_start, ..AdviOptions::default() };
        let vi = Optimizer::new(model).seed(1).advi(&options)?;
        return Ok(Approximation {
            fit: vi.fit,
            signal: k_signal(vi.pareto_k),
            evaluations: vi.evaluations,
            evidence: None,
        });
    }
    let history = std::env::var("EXMC_PF_HISTORY").ok().and_then(|h| h.parse().ok()).unwrap_or(20);
    let options = PathfinderOptions { history, ..PathfinderOptions::default() };
    let pf = Optimizer::new(model).seed(1).pathfinder(&options)?;
    let evaluations = pf.paths.iter().map(|p| p.evaluations).sum();
    Ok(Approximation { fit: pf.fit, signal: k_signal(pf.pareto_k), evaluations, evidence: None })
}

fn main() {
    let Some(shared) = posteriordb::shared() else {
        eprintln!("SKIPPED pathfinder_bench: no ../shared/posteriordb (set EXMC_SHARED)");
        return;
    };
    let models = PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/models/posteriordb"));
    let asked: Vec<String> = std::env::args().skip(1).collect();
    let names: Vec<String> =
        posteriordb::names(&models).into_iter().filter(|n| asked.is_empty() || asked.contains(n)).collect();
    let smc = std::env::var("EXMC_VI").as_deref() == Ok("smc");
    let (signal, trusted) = if smc { ("max R̂", "R̂ < 1.01") } else { ("k̂", "k̂ < 0.7") };
    println!("| posterior | dim | seconds | evaluations | {signal} | max Δmean/sd | max sd error | worst |");
    println!("|---|---|---|---|---|---|---|---|");
    let (mut good, mut poor) = (Vec::new(), Vec::new());
    for name in &names {
        let p = match posteriordb::load(&shared, &models, name) {
            Ok(p) => p,
            Err(e) => {
                println!("| {name} | – | – | – | – | – | – | {e} |");
                continue;
            }
        };
        let t = Instant::now();
        let pf = match approximate(&p.model) {
            Ok(pf) => pf,
            Err(e) => {
                println!("| {name} | – | – | – | – | – | – | {e} |");
                continue;
            }
        };
        let seconds = t.elapsed().as_secs_f64();
        let evaluations = pf.evaluations;
        let summary = pf.fit.summary();
        let (mut worst_mean, mut worst_sd, mut worst) = (0.0f64, 0.0f64, String::new());
        let mut matched = 0;
        let order = p.reference["parameter_order"].as_array().cloned().unwrap_or_default();
        for stan in order.iter().filter_map(|v| v.as_str()) {
            let r = &p.reference["parameters"][stan];
            let (mean, sd) = (r["mean"].as_f64().unwrap_or(f64::NAN), r["sd"].as_f64().unwrap_or(f64::NAN));
            let ours = posteriordb::our_name(stan);
            let Some(row) = summary.rows.iter().find(|r| r.name == ours) else { continue };
            matched += 1;
            let dm = (row.mean - mean).abs() / sd;
            let ds = (row.sd / sd - 1.0).abs();
            if dm > worst_mean {
                (worst_mean, worst) = (dm, ours.clone());
            }
            worst_sd = worst_sd.max(ds);
        }
        let dim = pf.fit.pointmap.dim;
        if matched == 0 {
            println!(
                "| {name} | {dim} | {seconds:.3} | {evaluations} | {:.3} | – | – | no parameter matched |",
                pf.signal.0
            );
            continue;
        }
        let evidence = pf
            .evidence
            .map_or(String::new(), |(z, sd)| format!(" (log evidence {z:.3}, chains' sd {sd:.3})"));
        println!(
            "| {name} | {dim} | {seconds:.3} | {evaluations} | {:.3} | {worst_mean:.3} | {worst_sd:.3} | {worst}{evidence} |",
            pf.signal.0
        );
        if pf.signal.1 { &mut good } else { &mut poor }.push(worst_mean);
    }
    let median = |v: &mut Vec<f64>| {
        v.sort_by(f64::total_cmp);
        if v.is_empty() { f64::NAN } else { v[v.len() / 2] }
    };
    let (ng, np) = (good.len(), poor.len());
    let (gmax, pmax) =
        (good.iter().fold(0.0f64, |a, &b| a.max(b)), poor.iter().fold(0.0f64, |a, &b| a.max(b)));
    println!(
        "\n{trusted}: {ng} posteriors, median max Δmean/sd {:.3}, largest {gmax:.3}; otherwise: {np}, median {:.3}, \
         largest {pmax:.3}",
        median(&mut good),
        median(&mut poor)
    );
}
