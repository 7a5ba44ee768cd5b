//! The CPU executor's row groups (DECISIONS 49): data-heavy programs run tile by tile, in parts
//! that threads may share. Checked against the same program run instruction by instruction
//! (same values up to summation order), against central finite differences, and for bit-equal
//! results whether the parts run on one thread or two.

use exmc::backend::cpu::Executor;
use exmc::compile::{Program, compile};
use exmc::prelude::*;
use exmc::rewrite::RewriteOptions;

/// Deterministic pseudo-data in (−1, 1) (splitmix64).
fn noise(seed: u64, n: usize) -> Vec<f64> {
    let mut s = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15);
    (0..n)
        .map(|_| {
            s = s.wrapping_add(0x9E37_79B9_7F4A_7C15);
            let mut z = s;
            z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
            z ^= z >> 31;
            (z >> 11) as f64 / (1u64 << 53) as f64 * 2.0 - 1.0
        })
        .collect()
}

/// A logistic regression: `n` rows, `d` columns (`X β` and `Xᵀ g` in one group).
fn logistic(n: usize, d: usize) -> Model {
    let mut m = Model::new();
    let x = m.data_matrix("X", n, d, noise(1, n * d)).unwrap();
    let alpha = m.rv("alpha", Normal::new(0, 2)).unwrap();
    let beta = m.rv_vec("beta", Normal::new(0, 1), d).unwrap();
    let y: Vec<f64> = noise(2, n).iter().map(|&u| f64::from(u8::from(u > 0.1))).collect();
    m.observe("y", Bernoulli::logit(alpha + x.matvec(beta)), &y).unwrap();
    m
}

/// A varying-intercept regression: a gather of group intercepts and its scatter-add adjoint,
/// a scalar scale (its normaliser hoisted), a deterministic row vector (an escaping value in
/// the constrain program).
fn varying_intercept(n: usize, groups: usize) -> Model {
    let mut m = Model::new();
    let g: Vec<i64> = (0..n).map(|i| ((i * 7 + i / 3) % groups) as i64).collect();
    let group = m.int_data("group", &g).unwrap();
    let x = m.data("x", noise(3, n)).unwrap();
    let mu_a = m.rv("mu_a", Normal::new(0, 10)).unwrap();
    let sigma_a = m.rv("sigma_a", HalfNormal::new(5)).unwrap();
    let z = m.rv_vec("z_a", Normal::new(0, 1), groups).unwrap();
    let a = m.deterministic("a", mu_a + sigma_a * z).unwrap();
    let b = m.rv("b", Normal::new(0, 10)).unwrap();
    let sigma = m.rv("sigma_y", HalfNormal::new(5)).unwrap();
    let mu = m.deterministic("mu", a.at(group) + b * x).unwrap();
    m.observe("y", Normal::new(mu, sigma), &noise(4, n)).unwrap();
    m
}

/// A Poisson regression on a log link with an offset: exp and a vector of counts.
fn poisson(n: usize) -> Model {
    let mut m = Model::new();
    let x = m.data("x", noise(5, n)).unwrap();
    let offset = m.data("offset", noise(6, n).iter().map(|u| 0.5 * u).collect::<Vec<f64>>()).unwrap();
    let a = m.rv("a", Normal::new(0, 1)).unwrap();
    let b = m.rv("b", Normal::new(0, 1)).unwrap();
    let counts: Vec<f64> = noise(7, n).iter().map(|u| (3.0 * (u + 1.0)).floor()).collect();
    m.observe("k", Poisson::log(a + b * x + offset), &counts).unwrap();
    m
}

fn models() -> Vec<(&'static str, Model)> {
    vec![
        ("logistic 5000×25", logistic(5000, 25)),
        ("logistic 300×3", logistic(300, 3)),
        ("varying intercept 3001 rows", varying_intercept(3001, 17)),
        ("poisson 2500", poisson(2500)),
    ]
}

fn point(dim: usize, seed: u64) -> Vec<f64> {
    noise(seed, dim).iter().map(|u| 0.3 * u).collect()
}

fn eval(exec: &Executor, u: &[f64]) -> (f64, Vec<f64>) {
    let mut ws = exec.workspace();
    let mut g = vec![0.0; u.len()];
    let lp = exec.run(&mut ws, u, &mut g);
    (lp, g)
}

fn logp_grad(m: &Model) -> Program {
    compile(m, RewriteOptions::default()).unwrap().logp_grad
}

#[test]
fn data_heavy_programs_form_row_groups() {
    for (name, m) in models() {
        let exec = Executor::new(logp_grad(&m));
        let groups = exec.row_groups();
        assert!(!groups.is_empty(), "{name}: no row group");
        assert!(groups.iter().all(|g| g.len() >= 3), "{name}: {groups:?}");
    }
    // The 5000-row logistic regression's group holds X β, the density and Xᵀ g, in parts.
    let exec = Executor::new(logp_grad(&logistic(5000, 25)));
    let prog = exec.program();
    let ops: Vec<String> = exec.row_groups()[0]
        .iter()
        .map(|&k| format!("{:?}", prog.instrs[k].op).chars().take(8).collect())
        .collect();
    assert!(
        ops.iter().any(|o| o.starts_with("MatVec")) && ops.iter().any(|o| o.starts_with("MatTVec")),
        "{ops:?}"
    );
    assert!(exec.splits_rows());
    // Short axes keep the plain path.
    assert!(Executor::new(logp_grad(&logistic(100, 3))).row_groups().is_empty());
}

#[test]
fn row_groups_equal_the_instruction_by_instruction_program() {
    for (name, m) in models() {
        let prog = logp_grad(&m);
        let grouped = Executor::new(prog.clone());
        let plain = Executor::without_row_groups(prog.clone());
        for seed in 0..5 {
            let u = point(prog.dim, 100 + seed);
            let (lp_a, g_a) = eval(&grouped, &u);
            let (lp_b, g_b) = eval(&plain, &u);
            assert!(lp_a.is_finite(), "{name}");
            assert!((lp_a - lp_b).abs() <= 1e-12 * lp_b.abs().max(1.0), "{name}: logp {lp_a} vs {lp_b}");
            let scale = g_b.iter().fold(1.0f64, |s, g| s.max(g.abs()));
            for (i, (a, b)) in g_a.iter().zip(&g_b).enumerate() {
                assert!((a - b).abs() <= 1e-11 * scale, "{name}: ∂{i} {a} vs {b}");
            }
        }
    }
}

#[test]
fn row_group_gradients_equal_finite_differences() {
    for (name, m) in models() {
        let prog = logp_grad(&m);
        let exec = Executor::new(prog.clone());
        let u = point(prog.dim, 7);
        let (_, g) = eval(&exec, &u);
        for i in 0..prog.dim {
            let h = 1e-5;
            let (mut up, mut down) = (u.clone(), u.clone());
            up[i] += h;
            down[i] -= h;
            let fd = (eval(&exec, &up).0 - eval(&exec, &down).0) / (2.0 * h);
            let tol = 1e-6 * fd.abs().max(1.0) + 1e-6 * g.iter().fold(0.0f64, |s, x| s.max(x.abs()));
            assert!((fd - g[i]).abs() <= tol, "{name}: ∂{i}: analytic {} vs finite difference {fd}", g[i]);
        }
    }
}

#[test]
fn parts_on_two_threads_give_the_same_bits() {
    let pool = rayon::ThreadPoolBuilder::new().num_threads(2).build().unwrap();
    for (name, m) in models() {
        let prog = logp_grad(&m);
        let serial = Executor::new(prog.clone());
        let mut parallel = Executor::new(prog.clone());
        parallel.set_parallel(true);
        for seed in 0..3 {
            let u = point(prog.dim, 200 + seed);
            let a = eval(&serial, &u);
            let b = pool.install(|| eval(&parallel, &u));
            assert_eq!(a.0.to_bits(), b.0.to_bits(), "{name}");
            assert!(a.1.iter().zip(&b.1).all(|(x, y)| x.to_bits() == y.to_bits()), "{name}");
        }
    }
}

#[test]
fn escaping_row_values_reach_the_constrained_outputs() {
    // The constrain program computes `mu` (3001 rows) inside a row group and returns it.
    let m = varying_intercept(3001, 17);
    let compiled = compile(&m, RewriteOptions::default()).unwrap();
    let grouped = Executor::new(compiled.constrain.clone());
    let plain = Executor::without_row_groups(compiled.constrain.clone());
    assert!(!grouped.row_groups().is_empty(), "the constrain program forms no group");
    let u = point(compiled.pointmap.dim, 9);
    let (mut wa, mut wb) = (grouped.workspace(), plain.workspace());
    grouped.run(&mut wa, &u, &mut []);
    plain.run(&mut wb, &u, &mut []);
    for (name, v) in &compiled.constrain.outputs {
        let (a, b) = (grouped.value(&wa, *v), plain.value(&wb, *v));
        assert_eq!(a.len(), b.len());
        for (x, y) in a.iter().zip(b) {
            assert!((x - y).abs() <= 1e-12 * y.abs().max(1.0), "{name}: {x} vs {y}");
        }
    }
}

#[test]
fn one_chain_run_is_the_same_on_one_thread_and_two() {
    // A single chain on two threads shares its gradient's rows; the draws are the same bits.
    let m = logistic(2500, 4);
    let run = |threads| {
        Sampler::new(&m)
            .chains(1)
            .threads(threads)
            .warmup(100)
            .draws(100)
            .seed(3)
            .progress(false)
            .run()
            .unwrap()
    };
    let (a, b) = (run(1), run(2));
    assert_eq!(a.trace, b.trace);
}
