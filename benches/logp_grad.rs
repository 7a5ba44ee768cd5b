//! Criterion benches: logp+gradient evaluations and fused leaf steps on the CPU backend.
//!
//! `cargo bench` — the models are the peer harness's (seed_simple, eight schools non-centred,
//! 100-d Gaussian), built inline so the bench needs no data files, and regressions of 5,000
//! observations (`cargo bench --bench logp_grad -- regression`), whose likelihood kernels are
//! evaluated without their data-only terms (`−ln x!`) or a shared shape's or scale's
//! (`−lnΓ(α)`, `−ln σ`).

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use exmc::backend::cpu::{CpuBackend, Executor};
use exmc::backend::{Backend, Direction, LeafReport, StepCommand};
use exmc::compile::compile;
#[path = "../examples/common/models.rs"]
mod models;
use exmc::rewrite::RewriteOptions;

fn logp_grad(c: &mut Criterion) {
    let mut group = c.benchmark_group("logp_grad");
    group.throughput(Throughput::Elements(1));
    for (name, m) in models::models() {
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

/// `y ~ family(a + b·x)` with 5,000 observations: Poisson (log rate, and rate `exp(η)`), the
/// negative binomial (log mean, and a dispersion `alpha`), the binomial of 10 trials
/// (probability `logistic(η)`), the gamma (shape `alpha`, mean `exp(η)`) and the log-normal
/// (location `η`, scale `sigma`).
fn regression_logp_grad(c: &mut Criterion) {
    use exmc::prelude::*;
    let mut group = c.benchmark_group("regression_logp_grad");
    group.throughput(Throughput::Elements(1));
    let n = 5000;
    let x: Vec<f64> = (0..n).map(|i| ((i * 37) % 101) as f64 / 50.0 - 1.0).collect();
    let y: Vec<f64> = (0..n).map(|i| ((i * 13) % 7) as f64).collect();
    for family in ["poisson_log", "poisson", "negative_binomial_log", "binomial", "gamma", "log_normal"] {
        let mut m = Model::new();
        let a = m.rv("a", Normal::new(0.0, 1.0)).unwrap();
        let b = m.rv("b", Normal::new(0.0, 1.0)).unwrap();
        let eta = a + b * m.data("x", x.clone()).unwrap();
        let likelihood = match family {
            "poisson_log" => PoissonLog::new(eta),
            "poisson" => Poisson::new(eta.exp()),
            "negative_binomial_log" => {
                NegativeBinomial::log(eta, m.rv("alpha", HalfNormal::new(5.0)).unwrap())
            }
            "binomial" => Binomial::new(Expr::from(vec![10.0; n]), eta.logistic()),
            "gamma" => {
                let alpha = m.rv("alpha", HalfNormal::new(5.0)).unwrap();
                Gamma::new(alpha, alpha / eta.exp())
            }
            _ => LogNormal::new(eta, m.rv("sigma", HalfNormal::new(5.0)).unwrap()),
        };
        let positive = matches!(family, "gamma" | "log_normal");
        let y: Vec<f64> = if positive { y.iter().map(|v| v + 0.2).collect() } else { y.clone() };
        m.observe("y", likelihood, &y).unwrap();
        let compiled = compile(&m, RewriteOptions::default()).unwrap();
        let exec = Executor::new(compiled.logp_grad);
        let d = compiled.pointmap.dim;
        let u: Vec<f64> = (0..d).map(|i| 0.1 + 0.05 * i as f64).collect();
        let mut ws = exec.workspace();
        let mut g = vec![0.0; d];
        group.bench_function(BenchmarkId::from_parameter(family), |b| {
            b.iter(|| exec.run(&mut ws, &u, &mut g))
        });
    }
    group.finish();
}

fn leaf_steps(c: &mut Criterion) {
    let mut group = c.benchmark_group("leaf_step_batch");
    for (name, m) in models::models() {
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

criterion_group!(benches, logp_grad, regression_logp_grad, leaf_steps);
criterion_main!(benches);
