//! Recurrences (`Op::Scan`): the forward states against a direct loop, the gradient through
//! them against central finite differences (scalar and vector states, T = 1, 2 and 1,000), and
//! the GPU backend against the CPU at random points (every thread mapping, f32 and f64; T = 1,
//! 2, 64 and 1,000 there).

mod common;

use exmc::backend::cpu::Executor;
use exmc::backend::gpu::{BatchLogpGrad, Mapping, Precision};
use exmc::compile::scan::{Scan, ScanError};
use exmc::compile::{BinOp, Op, Program, UnOp, autodiff};
use exmc::model::DistKind;
use exmc::rng::{ChainRng, Purpose};

fn input(p: &mut Program, offset: usize, len: usize) -> usize {
    p.push(Op::Input { offset }, len)
}

fn bin(p: &mut Program, op: BinOp, a: usize, b: usize) -> usize {
    let n = p.lens[a].max(p.lens[b]);
    p.push(Op::Binary(op, a, b), n)
}

fn konst(p: &mut Program, c: f64) -> usize {
    p.push(Op::Const(c), 1)
}

fn series(t: usize, seed: u64) -> Vec<f64> {
    let rng = ChainRng::new(seed, 0);
    (0..t).map(|i| 2.0 * rng.uniform(0, i as u32, Purpose::Init) - 1.0).collect()
}

/// GARCH(1,1)'s volatility: `σ_t = √(a0 + a1 (y_{t−1} − μ)² + b1 σ²_{t−1})`, a scalar state
/// with a data sequence and four scalar parameters.
fn garch_body() -> Program {
    let mut b = Program { dim: 6, ..Program::default() };
    let prev = input(&mut b, 0, 1);
    let x = input(&mut b, 1, 1);
    let (mu, a0, a1, b1) =
        (input(&mut b, 2, 1), input(&mut b, 3, 1), input(&mut b, 4, 1), input(&mut b, 5, 1));
    let d = bin(&mut b, BinOp::Sub, x, mu);
    let d2 = b.push(Op::Unary(UnOp::Square, d), 1);
    let t1 = bin(&mut b, BinOp::Mul, a1, d2);
    let p2 = b.push(Op::Unary(UnOp::Square, prev), 1);
    let t2 = bin(&mut b, BinOp::Mul, b1, p2);
    let s = bin(&mut b, BinOp::Add, a0, t1);
    let s = bin(&mut b, BinOp::Add, s, t2);
    let next = b.push(Op::Unary(UnOp::Sqrt, s), 1);
    b.outputs.push(("sigma".into(), next));
    b
}

/// The GARCH(1,1) log density over `[μ, ln a0, logit(2 a1), logit(2.5 b1), ln σ₀]`, and a
/// direct f64 evaluation of its states at a point.
fn garch_program(t: usize) -> (Program, impl Fn(&[f64]) -> Vec<f64>) {
    let y = series(t + 1, 3);
    let (lag, obs) = (y[..t].to_vec(), y[1..].to_vec());
    let mut p = Program { dim: 5, ..Program::default() };
    let mu = input(&mut p, 0, 1);
    let la0 = input(&mut p, 1, 1);
    let a0 = p.push(Op::Unary(UnOp::Exp, la0), 1);
    let half = konst(&mut p, 0.5);
    let r1 = input(&mut p, 2, 1);
    let l1 = p.push(Op::Unary(UnOp::Logistic, r1), 1);
    let a1 = bin(&mut p, BinOp::Mul, l1, half);
    let r2 = input(&mut p, 3, 1);
    let l2 = p.push(Op::Unary(UnOp::Logistic, r2), 1);
    let c = konst(&mut p, 0.4);
    let b1 = bin(&mut p, BinOp::Mul, l2, c);
    let li = input(&mut p, 4, 1);
    let init = p.push(Op::Unary(UnOp::Exp, li), 1);
    p.data.push(lag.clone());
    let lag_v = p.push(Op::Data(0), t);
    p.data.push(obs);
    let obs_v = p.push(Op::Data(1), t);
    let scan = Scan::new(garch_body(), init, vec![lag_v], vec![mu, a0, a1, b1], t, &p.lens).unwrap();
    let states = p.push(Op::Scan(Box::new(scan)), t);
    let lp = p
        .push(Op::Lpdf { kind: DistKind::Normal, args: vec![obs_v, mu, states], partials: vec![None; 3] }, 1);
    p.logp = Some(lp);
    p.outputs.push(("sigma".into(), states));
    let direct = move |u: &[f64]| {
        let logistic = |x: f64| 1.0 / (1.0 + (-x).exp());
        let (mu, a0, a1, b1) = (u[0], u[1].exp(), 0.5 * logistic(u[2]), 0.4 * logistic(u[3]));
        let mut s = u[4].exp();
        lag.iter()
            .map(|&x| {
                s = (a0 + a1 * (x - mu).powi(2) + b1 * s * s).sqrt();
                s
            })
            .collect()
    };
    (p, direct)
}

/// A two-element state `[p0 x0 + p1 x1 + x_t, tanh(c x0) − 0.3 x1 + 0.1 x_t]` whose sequence
/// `x = w · data` and vector parameter depend on the position, over
/// `[atanh-ish p (2), c, init (2), w]`.
fn vector_program(t: usize) -> (Program, impl Fn(&[f64]) -> Vec<f64>) {
    let mut b = Program { dim: 6, ..Program::default() };
    let prev = input(&mut b, 0, 2);
    let x = input(&mut b, 2, 1);
    let pv = input(&mut b, 3, 2);
    let c = input(&mut b, 5, 1);
    let x0 = b.push(Op::Get(prev, 0), 1);
    let x1 = b.push(Op::Get(prev, 1), 1);
    let p0 = b.push(Op::Get(pv, 0), 1);
    let p1 = b.push(Op::Get(pv, 1), 1);
    let a = bin(&mut b, BinOp::Mul, p0, x0);
    let bb = bin(&mut b, BinOp::Mul, p1, x1);
    let n0 = bin(&mut b, BinOp::Add, a, bb);
    let n0 = bin(&mut b, BinOp::Add, n0, x);
    let cx = bin(&mut b, BinOp::Mul, c, x0);
    let th = b.push(Op::Unary(UnOp::Tanh, cx), 1);
    let k = konst(&mut b, 0.3);
    let k1 = bin(&mut b, BinOp::Mul, k, x1);
    let n1 = bin(&mut b, BinOp::Sub, th, k1);
    let tenth = konst(&mut b, 0.1);
    let kx = bin(&mut b, BinOp::Mul, tenth, x);
    let n1 = bin(&mut b, BinOp::Add, n1, kx);
    let next = b.push(Op::Stack(vec![n0, n1]), 2);
    b.outputs.push(("state".into(), next));

    let xs = series(t, 5);
    let ys = series(2 * t, 7);
    let mut p = Program { dim: 6, ..Program::default() };
    let raw = input(&mut p, 0, 2);
    let th = p.push(Op::Unary(UnOp::Tanh, raw), 2);
    let half = konst(&mut p, 0.5);
    let pv = bin(&mut p, BinOp::Mul, th, half);
    let c = input(&mut p, 2, 1);
    let init = input(&mut p, 3, 2);
    let w = input(&mut p, 5, 1);
    p.data.push(xs.clone());
    let xd = p.push(Op::Data(0), t);
    let seq = bin(&mut p, BinOp::Mul, w, xd);
    p.data.push(ys);
    let yv = p.push(Op::Data(1), 2 * t);
    let scan = Scan::new(b, init, vec![seq], vec![pv, c], t, &p.lens).unwrap();
    let states = p.push(Op::Scan(Box::new(scan)), 2 * t);
    let sd = konst(&mut p, 0.7);
    let lp =
        p.push(Op::Lpdf { kind: DistKind::Normal, args: vec![yv, states, sd], partials: vec![None; 3] }, 1);
    // The initial state also enters the density directly (its adjoint has two parts).
    let sq = p.push(Op::Unary(UnOp::Square, init), 2);
    let s = p.push(Op::Sum(sq), 1);
    let m = konst(&mut p, -0.5);
    let prior = bin(&mut p, BinOp::Mul, m, s);
    let total = bin(&mut p, BinOp::Add, lp, prior);
    p.logp = Some(total);
    p.outputs.push(("state".into(), states));
    let direct = move |u: &[f64]| {
        let (p0, p1, c, w) = (0.5 * u[0].tanh(), 0.5 * u[1].tanh(), u[2], u[5]);
        let (mut a, mut b) = (u[3], u[4]);
        let mut out = Vec::new();
        for &x in &xs {
            let x = w * x;
            (a, b) = (p0 * a + p1 * b + x, (c * a).tanh() - 0.3 * b + 0.1 * x);
            out.extend([a, b]);
        }
        out
    };
    (p, direct)
}

/// The states (a named output) of `prog` at `u`, through the CPU executor.
fn states(prog: &Program, u: &[f64]) -> Vec<f64> {
    let mut fwd = prog.clone();
    fwd.logp = None;
    let exec = Executor::new(fwd);
    let mut ws = exec.workspace();
    exec.run(&mut ws, u, &mut []);
    exec.value(&ws, prog.outputs[0].1).to_vec()
}

/// Largest |analytic − central difference| / max(1, |gradient|∞) at `u`.
fn fd_error(grad_prog: &Program, u: &[f64]) -> f64 {
    let exec = Executor::new(grad_prog.clone());
    let mut ws = exec.workspace();
    let mut g = vec![0.0; u.len()];
    exec.run(&mut ws, u, &mut g);
    let scale = g.iter().fold(1.0f64, |m, x| m.max(x.abs()));
    let mut scratch = vec![0.0; u.len()];
    let mut worst: f64 = 0.0;
    for i in 0..u.len() {
        let h = 1e-5 * u[i].abs().max(1.0);
        let mut up = u.to_vec();
        up[i] += h;
        let f1 = exec.run(&mut ws, &up, &mut scratch);
        up[i] -= 2.0 * h;
        let f0 = exec.run(&mut ws, &up, &mut scratch);
        let fd = (f1 - f0) / (2.0 * h);
        worst = worst.max((fd - g[i]).abs() / scale);
    }
    worst
}

/// The test programs at each length in `ts`: label, program, a point, the states there.
fn cases(ts: &[usize]) -> Vec<(String, Program, Vec<f64>, Vec<f64>)> {
    let mut out = Vec::new();
    for &t in ts {
        let u = vec![0.1, -1.2, 0.3, 0.5, -0.4];
        let (p, direct) = garch_program(t);
        let want = direct(&u);
        out.push((format!("scalar state, T = {t}"), p, u, want));
        let u = vec![0.4, -0.9, 1.3, 0.2, -0.5, 0.8];
        let (p, direct) = vector_program(t);
        let want = direct(&u);
        out.push((format!("vector state, T = {t}"), p, u, want));
    }
    out
}

#[test]
fn states_equal_a_direct_loop_and_gradients_equal_finite_differences() {
    for (label, prog, u, want) in cases(&[1, 2, 1000]) {
        let got = states(&prog, &u);
        assert_eq!(got.len(), want.len(), "{label}");
        for (k, (a, b)) in got.iter().zip(&want).enumerate() {
            assert!((a - b).abs() <= 1e-12 * b.abs().max(1.0), "{label}: state {k}: {a} vs {b}");
        }
        let grad = autodiff::differentiate(prog);
        let e = fd_error(&grad, &u);
        eprintln!("{label}: max |gradient − finite difference| / scale = {e:.2e}");
        assert!(e < 1e-6, "{label}: gradient against finite differences {e:e}");
    }
}

#[test]
fn gpu_scan_logp_and_gradient_equal_cpu() {
    let Some(gpu) = common::gpu("gpu_scan_logp_and_gradient_equal_cpu") else { return };
    // The states and adjoints live in the storage scratch region, so T = 1,000 compiles and
    // runs in about a second per kernel on lavapipe (function-scope arrays took minutes).
    for (label, prog, u0, _) in cases(&[1, 2, 64, 1000]) {
        let prog = autodiff::differentiate(prog);
        let d = prog.dim;
        let chains = 16;
        let rng = ChainRng::new(11, 0);
        let pos: Vec<f64> = (0..chains * d)
            .map(|k| u0[k % d] + 0.6 * rng.uniform(0, k as u32, Purpose::Init) - 0.3)
            .collect();
        let exec = Executor::new(prog.clone());
        let mut ws = exec.workspace();
        let mut g = vec![0.0; d];
        let cpu: Vec<(f64, Vec<f64>)> = (0..chains)
            .map(|c| {
                let lp = exec.run(&mut ws, &pos[c * d..(c + 1) * d], &mut g);
                (lp, g.clone())
            })
            .collect();
        for mapping in
            [Mapping::Invocation, Mapping::Workgroup { lanes: 2 }, Mapping::Workgroup { lanes: 64 }]
        {
            let precisions: &[(Precision, f64)] = if gpu.has_f64() {
                &[(Precision::F32, 2e-4), (Precision::F64, 1e-11)]
            } else {
                &[(Precision::F32, 2e-4)]
            };
            for &(precision, tol) in precisions {
                let kernel = BatchLogpGrad::new(&gpu, &prog, precision, mapping).unwrap();
                let (logp, grad) = kernel.run(&gpu, &pos).unwrap();
                let mut worst: f64 = 0.0;
                for (c, (lp, g)) in cpu.iter().enumerate() {
                    worst = worst.max((logp[c] - lp).abs() / lp.abs().max(1.0));
                    let scale = g.iter().fold(1.0f64, |m, x| m.max(x.abs()));
                    for i in 0..d {
                        worst = worst.max((grad[c * d + i] - g[i]).abs() / scale);
                    }
                }
                eprintln!("{label}, {precision:?} {mapping:?}: max relative error {worst:.2e}");
                assert!(worst <= tol, "{label}, {precision:?} {mapping:?}: {worst:e}");
            }
        }
    }
}

#[test]
fn malformed_scans_are_typed_errors() {
    let lens = [1, 10, 2];
    let body = garch_body();
    // A sequence of 10 over 3 steps.
    let e = Scan::new(body.clone(), 0, vec![1], vec![0, 0, 0, 0], 3, &lens).unwrap_err();
    assert_eq!(e, ScanError::SequenceLength { index: 0, len: 10, steps: 3 });
    assert_eq!(
        Scan::new(body.clone(), 0, vec![1], vec![0, 0, 0, 0], 0, &lens).unwrap_err(),
        ScanError::NoSteps
    );
    // A two-element state into a body that returns one.
    let mut wide = body.clone();
    wide.dim = 7;
    let e = Scan::new(wide, 2, vec![1], vec![0, 0, 0, 0], 10, &lens).unwrap_err();
    assert_eq!(e, ScanError::StateShape { want: 2, got: 1 });
    // Too few parameters for the body.
    assert!(matches!(Scan::new(body, 0, vec![1], vec![0], 10, &lens), Err(ScanError::Body(_))));
}
