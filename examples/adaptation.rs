//! Warmup schemes side by side: gradients per effective draw under Stan's windowed adaptation
//! and nutpie's draw-and-gradient adaptation (and shorter warmups), over the peer models and
//! the posteriordb posteriors.
//!
//! ```text
//! cargo run --release --example adaptation -- [--set peers|posteriordb|all] [--seeds 3]
//!     [--variants windowed:1000,draw_gradient:1000,draw_gradient:300:low_rank] [NAME…]
//! ```
//! A variant is `adaptation:warmup`, with `:low_rank` for the low-rank-plus-diagonal metric
//! (`Metric::low_rank()`) or `:auto` for the default choice (`Metric::Auto`); the diagonal
//! otherwise.
//! Every run: 4 chains, the given warmup, 1000 draws, on the CPU. Per model and variant, the
//! median over seeds of: gradients in warmup and in draws, the minimum bulk ESS over every
//! scalar, ESS per 1,000 gradients (warmup included: the cost of a run), divergences, and
//! sampling time. The last column divides ESS per gradient by the first variant's; the last
//! line is the geometric mean of those ratios over the models.

#[path = "common/args.rs"]
#[allow(dead_code)]
mod args;
#[path = "common/peer_models.rs"]
mod peer_models;
#[path = "common/posteriordb.rs"]
#[allow(dead_code)]
mod posteriordb;

use std::path::PathBuf;

use exmc::prelude::*;

const PEERS: [&str; 5] = [
    "seed_simple",
    "eight_schools_noncentered",
    "gaussian_100d_corr",
    "radon_varying_intercept",
    "logistic_regression",
];

/// One model to run: the model and its sampler settings.
struct Case {
    name: String,
    model: Model,
    target_accept: f64,
    max_treedepth: u32,
}

fn cases(shared: &std::path::Path, set: &str, chosen: &[String]) -> Vec<Case> {
    let mut out = Vec::new();
    let wanted = |n: &str| chosen.is_empty() || chosen.iter().any(|c| c == n);
    if set == "peers" || set == "all" {
        for name in PEERS.iter().filter(|n| wanted(n)) {
            let path = shared.join(format!("peers/data/{name}.json"));
            let data = std::fs::read_to_string(&path).ok().and_then(|t| serde_json::from_str(&t).ok());
            match data.map(|d| peer_models::build(name, &d)) {
                Some(Ok(model)) => {
                    out.push(Case { name: name.to_string(), model, target_accept: 0.8, max_treedepth: 10 })
                }
                _ => eprintln!("skipped {name}: {} not readable", path.display()),
            }
        }
    }
    if set == "posteriordb" || set == "all" {
        let models = PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/models/posteriordb"));
        for name in posteriordb::names(&models).iter().filter(|n| wanted(n)) {
            match posteriordb::load(shared, &models, name) {
                Ok(p) => out.push(Case {
                    name: name.clone(),
                    model: p.model,
                    target_accept: p.target_accept,
                    max_treedepth: p.max_treedepth,
                }),
                Err(e) => eprintln!("skipped {name}: {e}"),
            }
        }
    }
    out
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    let n = v.len();
    if n % 2 == 1 { v[n / 2] } else { 0.5 * (v[n / 2 - 1] + v[n / 2]) }
}

fn parse_variant(s: &str) -> Option<(Adaptation, usize, Metric)> {
    let mut parts = s.split(':');
    let kind = match parts.next()? {
        "windowed" => Adaptation::Windowed,
        "draw_gradient" => Adaptation::DrawGradient,
        _ => return None,
    };
    let warmup = parts.next()?.parse().ok()?;
    let metric = match parts.next() {
        None => Metric::Diagonal,
        Some("low_rank") => Metric::low_rank(),
        Some("auto") => Metric::Auto,
        Some(_) => return None,
    };
    Some((kind, warmup, metric))
}

fn label(kind: Adaptation, metric: Metric) -> String {
    match metric {
        Metric::Diagonal => format!("{kind:?}"),
        Metric::Auto => format!("{kind:?} auto metric"),
        Metric::LowRank(_) => format!("{kind:?} low rank"),
    }
}

fn main() -> exmc::Result<()> {
    let Some(shared) = posteriordb::shared() else {
        eprintln!("../shared not found (set EXMC_SHARED)");
        std::process::exit(2);
    };
    let set = args::value("--set").unwrap_or_else(|| "peers".into());
    let seeds: u64 = args::arg("--seeds", 3);
    let spec = args::value("--variants").unwrap_or_else(|| "windowed:1000,draw_gradient:1000".into());
    let variants: Vec<(Adaptation, usize, Metric)> = spec.split(',').filter_map(parse_variant).collect();
    if variants.is_empty() {
        eprintln!("--variants: expected e.g. windowed:1000,draw_gradient:300,draw_gradient:300:low_rank");
        std::process::exit(2);
    }
    let chosen = args::positional();
    println!("4 chains × (warmup + 1000 draws), CPU, median of {seeds} seeds\n");
    println!(
        "| model | adaptation | warmup | grads warmup | grads draws | ESS bulk min | ESS/1k grads | divergences | sampling s | ESS/grad ÷ first |"
    );
    println!("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|");
    let mut log_ratios = vec![Vec::new(); variants.len()];
    for case in cases(&shared, &set, &chosen) {
        let mut first = None;
        for (v, &(kind, warmup, metric)) in variants.iter().enumerate() {
            let mut cols: [Vec<f64>; 6] = Default::default();
            for seed in 1..=seeds {
                let fit = Sampler::new(&case.model)
                    .adaptation(kind)
                    .metric(metric)
                    .warmup(warmup)
                    .target_accept(case.target_accept)
                    .max_treedepth(case.max_treedepth)
                    .seed(seed)
                    .progress(false)
                    .run()?;
                let (draw_grads, warm_grads) = fit.trace.leapfrog_steps();
                let ess = fit.min_ess_bulk();
                let vals = [
                    warm_grads as f64,
                    draw_grads as f64,
                    ess,
                    1000.0 * ess / (warm_grads + draw_grads) as f64,
                    fit.divergences() as f64,
                    fit.timing.sampling_s,
                ];
                for (c, x) in cols.iter_mut().zip(vals) {
                    c.push(x);
                }
            }
            let [wg, dg, ess, per_k, div, secs] = cols.map(median);
            let ratio = match first {
                None => {
                    first = Some(per_k);
                    1.0
                }
                Some(f) => per_k / f,
            };
            log_ratios[v].push(ratio.ln());
            println!(
                "| {} | {} | {warmup} | {wg:.0} | {dg:.0} | {ess:.0} | {per_k:.1} | {div:.0} | {secs:.3} | {ratio:.2} |",
                case.name,
                label(kind, metric)
            );
        }
    }
    for ((kind, warmup, metric), logs) in variants.iter().zip(&log_ratios) {
        let n = logs.len().max(1) as f64;
        let gm = (logs.iter().sum::<f64>() / n).exp();
        println!(
            "geometric mean of ESS/grad ÷ first, {} warmup {warmup}: {gm:.2} over {} models",
            label(*kind, *metric),
            logs.len()
        );
    }
    Ok(())
}
