//! Time per gradient of a peer model, alone and inside a sampling run (one chain, one thread):
//! `cargo run --release --example grad_cost -- radon_varying_intercept`.

use std::path::PathBuf;
use std::time::Instant;

use exmc::backend::cpu::Executor;
use exmc::prelude::*;
use serde_json::Value;

#[path = "common/peer_models.rs"]
mod peer_models;

/// Best time of `X·v` then `Xᵀ(X·v)` for the program's first data matrix product: the
/// gradient's multiply-adds alone (2·rows·cols of them), run by the same executor.
fn matrix_limit(prog: &exmc::compile::Program, reps: usize) -> Option<(f64, usize)> {
    use exmc::compile::{Op, Program};
    let (x, v) = prog.instrs.iter().find_map(|i| match i.op {
        Op::MatVec { x, v } => Some((x, v)),
        _ => None,
    })?;
    let data = prog.data_of(x)?.to_vec();
    let c = prog.lens[v];
    let rows = data.len() / c;
    let mut p = Program { dim: c, ..Program::default() };
    p.data.push(data);
    let xv = p.push(Op::Data(0), rows * c);
    let beta = p.push(Op::Input { offset: 0 }, c);
    let eta = p.push(Op::MatVec { x: xv, v: beta }, rows);
    let back = p.push(Op::MatTVec { x: xv, g: eta }, c);
    p.grad.push((0, back));
    let exec = Executor::new(p);
    let mut ws = exec.workspace();
    let u: Vec<f64> = (0..c).map(|i| 0.01 * i as f64).collect();
    let mut g = vec![0.0; c];
    let mut best = f64::INFINITY;
    for _ in 0..5 {
        let t = Instant::now();
        for _ in 0..reps {
            exec.run(&mut ws, &u, &mut g);
        }
        best = best.min(t.elapsed().as_secs_f64() / reps as f64);
        std::hint::black_box(&g);
    }
    Some((best, 2 * rows * c))
}

/// Best time of one gradient with its row groups' parts shared by two threads (None when no
/// group splits).
fn two_threads(prog: &exmc::compile::Program, u: &[f64], reps: usize) -> Option<f64> {
    let mut exec = Executor::new(prog.clone());
    if !exec.splits_rows() {
        return None;
    }
    exec.set_parallel(true);
    let pool = rayon::ThreadPoolBuilder::new().num_threads(2).build().ok()?;
    pool.install(|| {
        let mut ws = exec.workspace();
        let mut g = vec![0.0; u.len()];
        let mut best = f64::INFINITY;
        for _ in 0..5 {
            let t = Instant::now();
            for _ in 0..reps {
                exec.run(&mut ws, u, &mut g);
            }
            best = best.min(t.elapsed().as_secs_f64() / reps as f64);
        }
        Some(best)
    })
}

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
        eprintln!("row groups (instruction indices): {:?}", exec.row_groups());
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
    // The same gradient instruction by instruction (no row groups), timed in alternation.
    let plain = Executor::without_row_groups(compiled.logp_grad.clone());
    let mut ws_plain = plain.workspace();
    let (mut best_grouped, mut best_plain) = (f64::INFINITY, f64::INFINITY);
    for _ in 0..5 {
        for (e, w, best) in [(&exec, &mut ws, &mut best_grouped), (&plain, &mut ws_plain, &mut best_plain)] {
            let t = Instant::now();
            let mut acc = 0.0;
            for _ in 0..reps {
                acc += e.run(w, &u, &mut g);
            }
            *best = best.min(t.elapsed().as_secs_f64() / reps as f64);
            std::hint::black_box(acc);
        }
    }
    println!(
        "  row groups {:.2} µs, instruction by instruction {:.2} µs (alternating, best of 5 × {reps})",
        best_grouped * 1e6,
        best_plain * 1e6
    );
    if let Some((limit, madds)) = matrix_limit(&compiled.logp_grad, reps) {
        println!(
            "  multiply-add limit: X·v and Xᵀ(X·v) alone ({madds} multiply-adds, the same row-group kernels): {:.2} µs; gradient / limit = {:.2}",
            limit * 1e6,
            best_grouped / limit
        );
    }
    if let Some(two) = two_threads(&compiled.logp_grad, &u, reps) {
        println!("  one gradient with its row parts on 2 threads: {:.2} µs", two * 1e6);
    }
    if std::env::var_os("GRAD_ONLY").is_some() {
        return Ok(());
    }
    for (chains, threads) in [(1, 1), (1, 2), (2, 1), (4, 2)] {
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
            "  {chains} chain(s) on {threads} thread(s): {:.3} s sampling ({wall:.3} s wall), {grads} gradients: {:.2} µs per gradient per thread, {:.2} µs of wall time per gradient",
            fit.timing.sampling_s,
            fit.timing.sampling_s * threads as f64 / grads * 1e6,
            fit.timing.sampling_s / grads * 1e6
        );
    }
    Ok(())
}
