//! Cost per chain against the chain count on the CPU backend: the same per-chain work (one
//! model, warmup and draws) at 10³, 10⁴ and 10⁵ chains should cost the same per chain.
//!
//! ```text
//! cargo run --release --example chain_scaling -- [--warmup 100] [--draws 100]
//!     [--max-chains 100000] [--model seed_simple]
//! ```
//! Prints wall time, ms per chain, leaf steps and dispatches per chain count.

use std::time::Instant;

#[path = "common/args.rs"]
#[allow(dead_code)]
mod args;
#[path = "common/models.rs"]
mod models;
use args::arg;
use exmc::prelude::*;

fn main() -> exmc::Result<()> {
    let warmup: usize = arg("--warmup", 100);
    let draws: usize = arg("--draws", 100);
    let max_chains: usize = arg("--max-chains", 100_000);
    let name: String = arg("--model", "seed_simple".to_string());
    let (_, model) = models::models().into_iter().find(|(n, _)| *n == name).expect("unknown --model");
    println!(
        "model {name}, {warmup} + {draws} iterations, CPU backend, {} threads",
        rayon::current_num_threads()
    );
    println!(
        "{:>8} {:>10} {:>12} {:>14} {:>11}",
        "chains", "wall s", "ms / chain", "leaf steps", "dispatches"
    );
    let mut chains = 1000;
    while chains <= max_chains {
        let t = Instant::now();
        let fit = Sampler::new(&model)
            .backend(BackendChoice::Cpu)
            .chains(chains)
            .warmup(warmup)
            .draws(draws)
            .seed(1)
            .progress(false)
            .run()?;
        let s = t.elapsed().as_secs_f64();
        println!(
            "{chains:>8} {s:>10.2} {:>12.3} {:>14} {:>11}",
            1e3 * s / chains as f64,
            fit.counters.leaf_steps,
            fit.counters.dispatches
        );
        chains *= 10;
    }
    Ok(())
}
