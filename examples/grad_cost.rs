//! Time per gradient of a peer model, alone and inside a sampling run (one chain, one thread):
//! `cargo run --release --example grad_cost -- radon_varying_intercept`.

use std::path::PathBuf;
use std::time::Instant;

use exmc::backend::cpu::Executor;
use exmc::prelude::*;
use serde_json::Value;

#[path = "common/peer_models.rs"]
mod peer_models;

fn main() -> Result<()> {
    let model = std::env::args().nth(1).unwrap_or_else(|| "radon_varying_intercept".into());
    let shared =
        std::env::var_os("EXMC_SHARED").map(PathBuf::from).unwrap_or_else(|| PathBuf::from("../shared"));
    let text = std::fs::read_to_string(shared.join(format!("peers/data/{model}.json")))
        .map_err(|e| Error::Json(e.to_string()))?;
    let data: Value = serde_json::from_str(&text).map_err(|e| Error::Json(e.to_string()))?;
    let m = peer_models::build(&model, &data)?;
    let compiled = exmc::compile::compile(&m, exmc::rewrite::RewriteOptions::default())?;
    let exec = Executor::new(compiled.logp_grad.clone());
    if std::env::var_os("DBG").is_some() {
        let plan = exmc::compile::hoist::plan(&compiled.logp_grad);
        for (i, (ins, h)) in compiled.logp_grad.instrs.iter().zip(&plan).enumerate() {
            eprintln!("{i}: {:?} len {} hoist {:?}", ins.op, compiled.logp_grad.lens[ins.out], h);
        }
    }
    let d = compiled.pointmap.dim;
    let mut ws = exec.workspace();
    let mut g = vec![0.0; d];
    let u: Vec<f64> = (0..d).map(|i| ((i * 7) % 13) as f64 * 0.05 - 0.3).collect();
    let reps: usize = std::env::var("REPS").ok().and_then(|s| s.parse().ok()).unwrap_or(20_000);
    let mut best = f64::INFINITY;
    for _ in 0..5 {
        let t = Instant::now();
        let mut acc = 0.0;
        for _ in 0..reps {
            acc += exec.run(&mut ws, &u, &mut g);
        }
        best = best.min(t.elapsed().as_secs_f64() / reps as f64);
        std::hint::black_box(acc);
    }
    println!(
        "{model}: {} instructions, workspace {} values; gradient alone {:.2} µs (best of 5 × {reps})",
        exec.program().len(),
        exec.workspace().len(),
        best * 1e6
    );
    // The same at 64 points spread around `u` in turn (different values each call, as in sampling).
    let points: Vec<Vec<f64>> = (0..64)
        .map(|k| {
            u.iter()
                .enumerate()
                .map(|(i, x)| x + 0.5 * (((i * 31 + k * 17) % 23) as f64 / 23.0 - 0.5))
                .collect()
        })
        .collect();
    let mut best_vary = f64::INFINITY;
    for _ in 0..5 {
        let t = Instant::now();
        let mut acc = 0.0;
        for r in 0..reps {
            acc += exec.run(&mut ws, &points[r % points.len()], &mut g);
        }
        best_vary = best_vary.min(t.elapsed().as_secs_f64() / reps as f64);
        std::hint::black_box(acc);
    }
    println!("  at 64 points in turn: {:.2} µs", best_vary * 1e6);
    if std::env::var_os("GRAD_ONLY").is_some() {
        return Ok(());
    }
    for (chains, threads) in [(1, 1), (2, 1), (4, 2)] {
        let t = Instant::now();
        let fit = Sampler::new(&m)
            .chains(chains)
            .threads(threads)
            .warmup(1000)
            .draws(1000)
            .seed(1)
            .progress(false)
            .run()?;
        let wall = t.elapsed().as_secs_f64();
        let (a, b) = fit.trace.leapfrog_steps();
        let grads = (a + b) as f64;
        println!(
            "  {chains} chain(s) on {threads} thread(s): {:.3} s sampling ({wall:.3} s wall), {grads} gradients: {:.2} µs per gradient per thread",
            fit.timing.sampling_s,
            fit.timing.sampling_s * threads as f64 / grads * 1e6
        );
    }
    Ok(())
}
