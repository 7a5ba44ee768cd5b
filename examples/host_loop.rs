//! The host loop's cost (issue 12, item 4): the driver and the chains' state machines, apart
//! from the backend's batched steps.
//!
//! ```text
//! cargo run --release --example host_loop -- [--chains 65536] [--warmup 100] [--draws 100]
//!     [--threads 1,2] [--backend cpu|gpu] [--model eight_schools_noncentered]
//! ```
//! For each thread count: wall time, thread-seconds in the host loop and in the backend's steps,
//! the host's share, and nanoseconds of host loop per chain per dispatch (thread time ÷ chain
//! leaf steps). On the GPU backend the host share is what keeps a device waiting.

#[path = "common/args.rs"]
#[allow(dead_code)]
mod args;
#[path = "common/models.rs"]
mod models;

use std::time::Instant;

use exmc::prelude::*;

fn main() -> Result<()> {
    let chains: usize = args::arg("--chains", 65_536);
    let (warmup, draws): (usize, usize) = (args::arg("--warmup", 100), args::arg("--draws", 100));
    let threads: Vec<usize> = args::value("--threads")
        .unwrap_or_else(|| "1,2".into())
        .split(',')
        .filter_map(|t| t.parse().ok())
        .collect();
    let backend = match args::value("--backend").as_deref() {
        Some("gpu") => BackendChoice::Gpu,
        _ => BackendChoice::Cpu,
    };
    let name = args::value("--model").unwrap_or_else(|| "eight_schools_noncentered".into());
    let Some((_, model)) = models::models().into_iter().find(|(n, _)| *n == name) else {
        eprintln!("unknown model {name}");
        std::process::exit(2);
    };
    println!("{name}, {chains} chains, {warmup} + {draws} iterations, {backend:?} backend\n");
    println!(
        "| threads | wall s | host thread-s | step thread-s | host share | host ns per chain per dispatch | chain leaf steps | dispatches |"
    );
    println!("|---:|---:|---:|---:|---:|---:|---:|---:|");
    for &t in &threads {
        let start = Instant::now();
        let fit = Sampler::new(&model)
            .chains(chains)
            .threads(t)
            .warmup(warmup)
            .draws(draws)
            .backend(backend)
            .seed(1)
            .progress(false)
            .run()?;
        let wall = start.elapsed().as_secs_f64();
        let c = &fit.counters;
        println!(
            "| {t} | {wall:.2} | {:.2} | {:.2} | {:.1}% | {:.0} | {} | {} |",
            c.host_s,
            c.step_s,
            100.0 * c.host_s / (c.host_s + c.step_s),
            c.host_ns_per_chain_step(),
            c.leaf_steps,
            c.dispatches
        );
    }
    Ok(())
}
