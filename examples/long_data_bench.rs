//! Long observation vectors: a linear regression `y ~ Normal(a + b·x, σ)` on 10⁴, 10⁵ and 10⁶
//! points, on every available backend.
//!
//! ```text
//! cargo run --release --example long_data_bench -- [--chains 4] [--warmup 50] [--draws 50]
//!     [--max-points 1000000] [--mapping auto|invocation|workgroup]
//! ```
//! Prints wall time (warmup + draws, compilation excluded), gradient evaluations per second and
//! observations processed per second (gradient evaluations × points). On the GPU backend the
//! automatic thread mapping is one workgroup of 256 lanes per chain; each lane's share of the
//! element work runs as one fused loop.

use exmc::prelude::*;
#[path = "common/args.rs"]
#[allow(dead_code)]
mod args;
use args::arg;

fn regression(n: usize) -> Result<Model> {
    // A fixed low-discrepancy design and noise, so the data need no generator.
    let x: Vec<f64> = (0..n).map(|i| ((i * 7919) % 1000) as f64 / 500.0 - 1.0).collect();
    let y: Vec<f64> =
        (0..n).map(|i| 1.0 + 2.0 * x[i] + ((i * 104_729) % 1000) as f64 / 1000.0 - 0.5).collect();
    let mut m = Model::new();
    let a = m.rv("a", Normal::new(0.0, 10.0))?;
    let b = m.rv("b", Normal::new(0.0, 10.0))?;
    let sigma = m.rv("sigma", HalfNormal::new(2.0))?;
    m.observe("y", Normal::new(Expr::from(a) + Expr::from(b) * x, sigma), &y)?;
    Ok(m)
}

fn main() -> Result<()> {
    let (chains, warmup, draws) = (arg("--chains", 4), arg("--warmup", 50), arg("--draws", 50));
    let max_points = arg("--max-points", 1_000_000);
    println!("{chains} chains, {warmup} warmup + {draws} draws\n");
    println!("| points | backend | wall s | grad evals/s | points/s |");
    println!("|---:|---|---:|---:|---:|");
    for n in [10_000, 100_000, 1_000_000].into_iter().filter(|&n| n <= max_points) {
        let m = regression(n)?;
        for backend in [BackendChoice::Cpu, BackendChoice::Gpu] {
            let run = Sampler::new(&m)
                .chains(chains)
                .warmup(warmup)
                .draws(draws)
                .seed(3)
                .backend(backend)
                .gpu_mapping(args::mapping())
                .progress(false)
                .run();
            match run {
                Ok(fit) => {
                    let (w, d) = fit.trace.leapfrog_steps();
                    let grads = (w + d) as f64 + chains as f64;
                    let t = fit.timing.sampling_s;
                    println!(
                        "| {n} | {} | {t:.2} | {:.3e} | {:.3e} |",
                        fit.backend,
                        grads / t,
                        grads * n as f64 / t
                    );
                }
                Err(e) => println!("| {n} | {backend:?} | – | – | {e} |"),
            }
        }
    }
    Ok(())
}
