//! Throughput of every available backend against the number of chains.
//!
//! ```text
//! cargo run --release --example gpu_bench -- [--warmup 200] [--draws 200] [--max-chains 65536]
//! ```
//! For K = 1, 16, 256, 4096, 65536 chains (up to `--max-chains`) on seed_simple,
//! eight_schools_noncentered and gaussian_100d (built inline, same data as ../shared/peers):
//! leapfrog steps/s, gradient evaluations/s (leapfrog steps plus initialisation) and
//! ESS_bulk/s (minimum bulk ESS over all scalars ÷ wall time of warmup + draws), per backend:
//! the CPU backend, and the GPU backend on the default adapter (Mesa lavapipe on a machine
//! without a GPU) when one exists. Configurations whose state exceeds the adapter's storage
//! binding limit are reported with the largest chain count that fits.

use exmc::backend::gpu::Gpu;
#[path = "common/models.rs"]
mod models;
use exmc::prelude::*;

fn arg(name: &str, default: usize) -> usize {
    let args: Vec<String> = std::env::args().collect();
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn main() -> Result<()> {
    let (warmup, draws, max_chains) = (arg("--warmup", 200), arg("--draws", 200), arg("--max-chains", 65536));
    let mut backends = vec![(BackendChoice::Cpu, format!("cpu ({} threads)", rayon::current_num_threads()))];
    match Gpu::new() {
        Ok(g) => backends.push((BackendChoice::Gpu, format!("gpu f32 ({})", g.name()))),
        Err(e) => println!("no GPU backend: {e}"),
    }
    println!("{warmup} warmup + {draws} draws per chain\n");
    println!(
        "| model | backend | chains | wall s | leapfrog steps/s | grad evals/s | ESS_bulk/s | dispatches |"
    );
    println!("|---|---|---:|---:|---:|---:|---:|---:|");
    for (name, m) in models::models() {
        for (choice, label) in &backends {
            for chains in [1usize, 16, 256, 4096, 65536].into_iter().filter(|&k| k <= max_chains) {
                let s = Sampler::new(&m)
                    .chains(chains)
                    .warmup(warmup)
                    .draws(draws)
                    .seed(1)
                    .backend(*choice)
                    .progress(false);
                match s.run() {
                    Ok(fit) => {
                        let (a, b) = fit.trace.leapfrog_steps();
                        let steps = (a + b) as f64;
                        let t = fit.timing.sampling_s;
                        let ess = if chains * draws >= 8 { fit.min_ess_bulk() } else { f64::NAN };
                        println!(
                            "| {name} | {label} | {chains} | {t:.3} | {:.3e} | {:.3e} | {:.3e} | {} |",
                            steps / t,
                            (steps + chains as f64) / t,
                            ess / t,
                            fit.counters.dispatches
                        );
                    }
                    Err(e) => println!("| {name} | {label} | {chains} | – | – | – | – | {e} |"),
                }
            }
        }
    }
    Ok(())
}
