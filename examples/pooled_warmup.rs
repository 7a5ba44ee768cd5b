//! Pooled many-chain warmup against per-chain adaptation (issue 12, DECISIONS 50):
//!
//! ```text
//! cargo run --release --example pooled_warmup -- [--chains 1024] [--draws 200] [--seed 1]
//!     [--variants draw_gradient:300,pooled:60] [NAME…]
//! ```
//! For each peer model (default: eight schools and the 100-d Gaussian) and each variant
//! (`adaptation:warmup`): leapfrog gradients per chain in warmup and after it, the minimum bulk
//! ESS over every scalar, ESS per 1,000 post-warmup gradients, the largest R-hat, divergences
//! and wall time, on the CPU backend.

#[path = "common/args.rs"]
#[allow(dead_code)]
mod args;
#[path = "common/peer_models.rs"]
mod peer_models;

use std::path::PathBuf;
use std::time::Instant;

use exmc::prelude::*;

fn parse_variant(s: &str) -> Option<(Adaptation, usize)> {
    let (kind, warmup) = s.split_once(':')?;
    let kind = match kind {
        "windowed" => Adaptation::Windowed,
        "draw_gradient" => Adaptation::DrawGradient,
        "pooled" => Adaptation::Pooled,
        _ => return None,
    };
    Some((kind, warmup.parse().ok()?))
}

fn main() -> exmc::Result<()> {
    let shared =
        std::env::var_os("EXMC_SHARED").map(PathBuf::from).unwrap_or_else(|| PathBuf::from("../shared"));
    let chains: usize = args::arg("--chains", 1024);
    let draws: usize = args::arg("--draws", 200);
    let seed: u64 = args::arg("--seed", 1);
    let spec = args::value("--variants").unwrap_or_else(|| "draw_gradient:300,pooled:60".into());
    let variants: Vec<(Adaptation, usize)> = spec.split(',').filter_map(parse_variant).collect();
    let mut names = args::positional();
    if names.is_empty() {
        names = vec!["eight_schools_noncentered".into(), "gaussian_100d_corr".into()];
    }
    println!(
        "| model | adaptation | warmup | chains | warmup grads/chain | post-warmup grads/chain | ESS bulk min | ESS/1k post-warmup grads | R-hat max | divergences | wall s |"
    );
    println!("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
    for name in &names {
        let path = shared.join(format!("peers/data/{name}.json"));
        let text =
            std::fs::read_to_string(&path).map_err(|e| Error::Json(format!("{}: {e}", path.display())))?;
        let data: serde_json::Value = serde_json::from_str(&text).map_err(|e| Error::Json(e.to_string()))?;
        let model = peer_models::build(name, &data)?;
        for &(adaptation, warmup) in &variants {
            let t = Instant::now();
            let fit = Sampler::new(&model)
                .chains(chains)
                .warmup(warmup)
                .draws(draws)
                .adaptation(adaptation)
                .seed(seed)
                .progress(false)
                .run()?;
            let wall = t.elapsed().as_secs_f64();
            let (d, w) = fit.trace.leapfrog_steps();
            let ess = fit.min_ess_bulk();
            let rhat = fit.summary().rows.iter().map(|r| r.r_hat).fold(0.0f64, f64::max);
            println!(
                "| {name} | {adaptation:?} | {warmup} | {chains} | {:.0} | {:.0} | {ess:.0} | {:.1} | {rhat:.4} | {} | {wall:.1} |",
                w as f64 / chains as f64,
                d as f64 / chains as f64,
                ess / d as f64 * 1000.0,
                fit.divergences()
            );
        }
    }
    Ok(())
}
