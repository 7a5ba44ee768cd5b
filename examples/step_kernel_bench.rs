//! Kernel-only rate of the GPU backend's fused NUTS step at full occupancy.
//!
//! ```text
//! cargo run --release --example step_kernel_bench -- [--chains 65536] [--dispatches 40]
//!     [--model eight_schools_noncentered|models/NAME.toml] [--mapping auto|invocation|workgroup]
//! ```
//! Every chain takes one leaf step in every dispatch, so this isolates the step kernel (with
//! its command upload and report read-back) from the host's NUTS control flow and from the
//! occupancy of a real run. Each chain follows a synthetic trajectory schedule: trees of depth
//! 2 to 4 (drawn per trajectory), subtrees of depth 0, 1, … in random directions, a trajectory
//! start at each tree's first leaf, so that neighbouring invocations sit at different leaves,
//! depths and branches as in a real run. Reports are not acted on. Prints the median seconds
//! per dispatch and gradient evaluations per second; compare with the yardstick row of
//! `gpu_bench` on the same machine.

use std::sync::Arc;
use std::time::Instant;

use exmc::backend::gpu::{Gpu, GpuBackend, Precision};
use exmc::backend::{Backend, Direction, LeafReport, StepCommand};
use exmc::compile::compile;
use exmc::prelude::*;
use rand::{RngExt, SeedableRng};
#[path = "common/args.rs"]
#[allow(dead_code)]
mod args;
#[path = "common/models.rs"]
mod models;
use args::arg;

/// Where one chain is in its synthetic schedule.
struct Schedule {
    tree_depth: u32,
    depth: u32,
    leaf: u32,
    direction: Direction,
    iteration: u64,
}

fn main() -> Result<()> {
    let chains: usize = arg("--chains", 65536);
    let dispatches: usize = arg("--dispatches", 40);
    let name = arg("--model", "eight_schools_noncentered".to_string());
    let mapping = args::mapping();
    // A benchmark model by name, or a model file (its data beside it, `.json`).
    let model = if name.ends_with(".toml") {
        let data = name.replace(".toml", ".json");
        Model::from_files(&name, Some(std::path::Path::new(&data)))?
    } else if let Some((_, model)) = models::models().into_iter().find(|(n, _)| *n == name) {
        model
    } else {
        println!("unknown model {name}");
        return Ok(());
    };
    let compiled = compile(&model, Default::default())?;
    let gpu = match Gpu::new() {
        Ok(g) => Arc::new(g),
        Err(e) => {
            println!("no GPU backend: {e}");
            return Ok(());
        }
    };
    let ids: Vec<usize> = (0..chains).collect();
    let mut backend = match GpuBackend::new(gpu, &compiled.logp_grad, 1, &ids, 10, Precision::F32, mapping) {
        Ok(b) => b,
        Err(e) => {
            println!("{e}");
            return Ok(());
        }
    };
    let dim = backend.dim();
    let mut rng = rand::rngs::StdRng::seed_from_u64(1);
    let points: Vec<(usize, Vec<f64>)> =
        (0..chains).map(|c| (c, (0..dim).map(|_| rng.random_range(-0.5..0.5)).collect())).collect();
    backend.set_positions(&points);
    let mut schedules: Vec<Schedule> = (0..chains)
        .map(|_| {
            let tree_depth = rng.random_range(2..=4u32);
            // A random phase, so that neighbouring chains are at different leaves.
            let depth = rng.random_range(0..tree_depth);
            Schedule {
                tree_depth,
                depth,
                leaf: rng.random_range(0..1u32 << depth),
                direction: Direction::Forward,
                iteration: 0,
            }
        })
        .collect();
    let mut cmds = Vec::with_capacity(chains);
    let mut reports = vec![LeafReport::default(); chains];
    let mut times = Vec::new();
    for t in 0..dispatches + 3 {
        cmds.clear();
        for (c, s) in schedules.iter_mut().enumerate() {
            cmds.push(StepCommand {
                chain: c,
                begin: t == 0 || (s.depth == 0 && s.leaf == 0),
                probe: false,
                direction: s.direction,
                depth: s.depth,
                leaf: s.leaf,
                step_size: 0.05,
                iteration: s.iteration,
            });
            s.leaf += 1;
            if s.leaf == 1 << s.depth {
                s.leaf = 0;
                s.depth += 1;
                s.direction = if rng.random::<bool>() { Direction::Forward } else { Direction::Backward };
                if s.depth == s.tree_depth {
                    s.depth = 0;
                    s.tree_depth = rng.random_range(2..=4);
                    s.iteration += 1;
                }
            }
        }
        let t0 = Instant::now();
        backend.step(&cmds, &mut reports)?;
        if t >= 3 {
            times.push(t0.elapsed().as_secs_f64());
        }
    }
    times.sort_by(f64::total_cmp);
    let median = times[times.len() / 2];
    println!(
        "{name}, {}: {chains} chains, median {:.3} ms per dispatch, {:.3e} grad evals/s",
        backend.name(),
        1e3 * median,
        chains as f64 / median
    );
    Ok(())
}
