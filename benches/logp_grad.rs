//! Criterion benches: logp+gradient evaluations and fused leaf steps on the CPU backend.
//!
//! `cargo bench` — the models are the peer harness's (seed_simple, eight schools non-centred,
//! 100-d Gaussian), built inline so the bench needs no data files.

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use exmc::backend::cpu::{CpuBackend, Executor};
use exmc::backend::{Backend, Direction, LeafReport, StepCommand};
use exmc::compile::compile;
use exmc::prelude::*;
use exmc::rewrite::RewriteOptions;

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

fn logp_grad(c: &mut Criterion) {
    let mut group = c.benchmark_group("logp_grad");
    group.throughput(Throughput::Elements(1));
    for (name, m) in models() {
        let compiled = compile(&m, RewriteOptions::default()).unwrap();
        let exec = Executor::new(compiled.logp_grad);
        let d = compiled.pointmap.dim;
        let u: Vec<f64> = (0..d).map(|i| 0.1 * (i as f64 % 7.0) - 0.3).collect();
        let mut ws = exec.workspace();
        let mut g = vec![0.0; d];
        group.bench_function(BenchmarkId::from_parameter(name), |b| b.iter(|| exec.run(&mut ws, &u, &mut g)));
    }
    group.finish();
}

fn leaf_steps(c: &mut Criterion) {
    let mut group = c.benchmark_group("leaf_step_batch");
    for (name, m) in models() {
        let compiled = compile(&m, RewriteOptions::default()).unwrap();
        let d = compiled.pointmap.dim;
        for chains in [4usize, 256] {
            let ids: Vec<usize> = (0..chains).collect();
            let mut backend = CpuBackend::new(compiled.logp_grad.clone(), 1, &ids, 10);
            for c in 0..chains {
                backend.set_position(c, &vec![0.1; d]);
            }
            let mut reports = vec![LeafReport::default(); chains];
            let mut leaf = 0u32;
            group.throughput(Throughput::Elements(chains as u64));
            group.bench_function(BenchmarkId::new(name, chains), |b| {
                b.iter(|| {
                    // Depth-9 subtrees: every call is one leaf for every chain.
                    let cmds: Vec<StepCommand> = (0..chains)
                        .map(|chain| StepCommand {
                            chain,
                            begin: leaf == 0,
                            probe: false,
                            direction: Direction::Forward,
                            depth: 9,
                            leaf,
                            step_size: 0.01,
                            iteration: 0,
                        })
                        .collect();
                    backend.step(&cmds, &mut reports).unwrap();
                    leaf = (leaf + 1) % 512;
                })
            });
        }
    }
    group.finish();
}

criterion_group!(benches, logp_grad, leaf_steps);
criterion_main!(benches);
