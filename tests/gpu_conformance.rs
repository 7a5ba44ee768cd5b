//! GPU (WGSL through wgpu) logp and gradient against the CPU backend at random points, for every
//! family (as likelihood and as free variable, so every transform), every expression
//! instruction and a hierarchical model. Runs on whatever adapter exists (Mesa lavapipe in CI);
//! skips with a visible message when there is none.

mod common;

use exmc::backend::cpu::Executor;
use exmc::backend::gpu::{BatchLogpGrad, Gpu, Mapping, Precision};
use exmc::compile::{Program, compile};
use exmc::model::{Dist, DistKind, Domain, Support};
use exmc::prelude::*;
use exmc::rewrite::RewriteOptions;
use exmc::rng::{ChainRng, Purpose};

fn programs() -> Vec<(String, Program)> {
    let mut out = Vec::new();
    for &kind in DistKind::ALL {
        for observed in [true, false] {
            let mut m = Model::new();
            let params: Vec<Expr> = if kind == DistKind::Uniform {
                let a = m.rv("a", Normal::new(0.0, 1.0)).unwrap();
                let w = m.rv("w", Gamma::new(4.0, 1.0)).unwrap();
                vec![a - 3.0, a + 3.0 + w]
            } else {
                kind.params()
                    .iter()
                    .map(|(name, d)| match d {
                        Domain::Real => m.rv(name, Normal::new(0.3, 1.0)).unwrap().into(),
                        Domain::Positive => m.rv(name, LogNormal::new(0.5, 0.3)).unwrap().into(),
                    })
                    .collect()
            };
            let dist = Dist { kind, params };
            if observed {
                let data = match kind.support() {
                    Support::UnitInterval => vec![0.15, 0.5, 0.8],
                    Support::Positive => vec![0.4, 1.1, 2.5],
                    _ => vec![-1.3, 0.2, 1.7],
                };
                m.observe("y", dist, &data).unwrap();
            } else {
                m.rv_vec("x", dist, 2).unwrap();
            }
            let label = format!("{} {}", kind.name(), if observed { "likelihood" } else { "prior" });
            out.push((label, compile(&m, RewriteOptions::default()).unwrap().logp_grad));
        }
    }
    let mut m = Model::new();
    let a = m.rv("a", Normal::new(0.0, 1.0)).unwrap();
    let b = m.rv_vec("b", HalfNormal::new(1.0), 3).unwrap();
    let c = m.rv("c", Beta::new(2.0, 2.0)).unwrap();
    let e =
        (-a).exp() * b.sqrt() + b.ln() - c.ln_1p() / b.square() + a.logistic() * b.powf(1.7) - b.powf(3.0);
    let det = m.deterministic("e", e).unwrap();
    m.observe("y", Normal::new(det, b + c), &[0.5, -0.1, 2.0]).unwrap();
    out.push(("expressions".into(), compile(&m, RewriteOptions::default()).unwrap().logp_grad));
    // A vector location with a scalar scale (the normaliser is hoisted out of the element loop),
    // on 300 points: more elements than the 64- and 2-lane workgroups have lanes.
    let mut m = Model::new();
    let a = m.rv("a", Normal::new(0.0, 1.0)).unwrap();
    let s = m.rv("s", HalfNormal::new(1.0)).unwrap();
    let x: Vec<f64> = (0..300).map(|i| (i as f64 / 150.0) - 1.0).collect();
    let y: Vec<f64> = x.iter().map(|v| 0.3 + 1.7 * v + 0.1 * (7.0 * v).sin()).collect();
    m.observe("y", Normal::new(Expr::from(a) * x, s), &y).unwrap();
    out.push(("regression".into(), compile(&m, RewriteOptions::default()).unwrap().logp_grad));
    let schools = common::eight_schools(&common::SCHOOLS_Y, &common::SCHOOLS_SIGMA);
    out.push(("eight schools".into(), compile(&schools, RewriteOptions::default()).unwrap().logp_grad));
    out
}

/// Largest |gpu − cpu| / max(1, scale) over logp and every gradient element.
fn max_error(gpu: &Gpu, precision: Precision, mapping: Mapping) -> f64 {
    let mut worst: f64 = 0.0;
    for (label, prog) in programs() {
        let before = worst;
        worst = 0.0;
        let exec = Executor::new(prog.clone());
        let kernel = BatchLogpGrad::new(gpu, &prog, precision, mapping).unwrap();
        let d = prog.dim;
        let chains = 64;
        let rng = ChainRng::new(5, 0);
        let pos: Vec<f64> =
            (0..chains * d).map(|k| 1.6 * rng.uniform(0, k as u32, Purpose::Init) - 0.8).collect();
        let (logp, grad) = kernel.run(gpu, &pos).unwrap();
        let mut ws = exec.workspace();
        let mut g = vec![0.0; d];
        for c in 0..chains {
            let lp = exec.run(&mut ws, &pos[c * d..(c + 1) * d], &mut g);
            let scale = lp.abs().max(1.0);
            let e = (logp[c] - lp).abs() / scale;
            assert!(e.is_finite(), "{label}: chain {c} logp gpu {} cpu {lp}", logp[c]);
            worst = worst.max(e);
            let gscale = g.iter().fold(1.0f64, |m, x| m.max(x.abs()));
            for i in 0..d {
                let e = (grad[c * d + i] - g[i]).abs() / gscale;
                assert!(e.is_finite(), "{label}: chain {c} grad[{i}] gpu {} cpu {}", grad[c * d + i], g[i]);
                worst = worst.max(e);
            }
        }
        if std::env::var_os("EXMC_GPU_VERBOSE").is_some() {
            eprintln!("{label:>24} {mapping:?}: {worst:e}");
        }
        worst = worst.max(before);
    }
    worst
}

#[test]
fn gpu_logp_and_gradient_equal_cpu() {
    let gpu = match Gpu::new() {
        Ok(g) => g,
        Err(e) => return common::skip("gpu_logp_and_gradient_equal_cpu", &format!("{e}")),
    };
    eprintln!("adapter: {}", gpu.name());
    // Both thread mappings; two lanes split the 3-element vectors unevenly over lanes, so the
    // lane-strided loops and the workgroup reductions are exercised with partial shares.
    for mapping in [Mapping::Invocation, Mapping::Workgroup { lanes: 2 }, Mapping::Workgroup { lanes: 64 }] {
        let f32_err = max_error(&gpu, Precision::F32, mapping);
        eprintln!("f32 {mapping:?}: max relative error {f32_err:e}");
        assert!(f32_err <= 2e-5, "f32 {mapping:?} max relative error {f32_err:e}");
        if gpu.has_f64() {
            let f64_err = max_error(&gpu, Precision::F64, mapping);
            eprintln!("f64 {mapping:?}: max relative error {f64_err:e}");
            assert!(f64_err <= 1e-12, "f64 {mapping:?} max relative error {f64_err:e}");
        }
    }
}
