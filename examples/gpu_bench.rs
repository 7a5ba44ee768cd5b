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
use exmc::prelude::*;

fn models() -> Vec<(&'static str, Model)> {
    let mut simple = Model::new();
    let mu = simple.rv("mu", Normal::new(0.0, 5.0)).unwrap();
    let sigma = simple.rv("sigma", HalfNormal::new(2.0)).unwrap();
    simple.observe("x", Normal::new(mu, sigma), &[2.1, 1.8, 2.5, 2.0, 1.9, 2.3, 2.2, 1.7, 2.4, 2.6]).unwrap();
    let mut schools = Model::new();
    let mu = schools.rv("mu", Normal::new(0.0, 5.0)).unwrap();
    let tau = schools.rv("tau", HalfCauchy::new(5.0)).unwrap();
    let z = schools.rv_vec("theta_tilde", Normal::new(0.0, 1.0), 8).unwrap();
    let theta = schools.deterministic("theta", mu + tau * z).unwrap();
    let sd = vec![15.0, 10.0, 16.0, 11.0, 9.0, 11.0, 10.0, 18.0];
    schools.observe("y", Normal::new(theta, sd), &[28.0, 8.0, -3.0, 7.0, -1.0, 1.0, 18.0, 12.0]).unwrap();
    let mut gauss = Model::new();
    let sds: Vec<f64> = (0..100).map(|i| 10f64.powf(-2.0 + 4.0 * i as f64 / 99.0)).collect();
    gauss.rv_vec("x", Normal::new(0.0, sds), 100).unwrap();
    vec![("seed_simple", simple), ("eight_schools_noncentered", schools), ("gaussian_100d", gauss)]
}

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
    for (name, m) in models() {
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
