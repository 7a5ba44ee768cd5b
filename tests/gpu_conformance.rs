//! GPU (WGSL through wgpu) logp and gradient against the CPU backend at random points, for every
//! family (as likelihood and as free variable, so every transform), every expression
//! instruction and a hierarchical model. Runs on whatever adapter exists (Mesa lavapipe in CI);
//! skips with a visible message when there is none.

mod common;

use exmc::backend::cpu::Executor;
use exmc::backend::gpu::{BatchLogpGrad, Gpu, Mapping, MappingChoice, Precision};
use exmc::compile::{BinOp, Op, Program, UnOp, autodiff, compile};
use exmc::model::{Dist, DistKind};
use exmc::prelude::*;
use exmc::rewrite::RewriteOptions;
use exmc::rng::{ChainRng, Purpose};

/// Gathers (and their scatter-add adjoints), element access, stacking and matrix products on
/// `rows` observations of `cols` covariates in `groups` groups.
fn indexing_program(rows: usize, cols: usize, groups: usize) -> Program {
    let mut m = Model::new();
    let idx: Vec<i64> = (0..rows).map(|i| ((i * 7 + 3) % groups) as i64).collect();
    let group = m.int_data("group", &idx).unwrap();
    let xv: Vec<f64> = (0..rows * cols).map(|k| ((k * 7) % 5) as f64 * 0.3 - 0.6).collect();
    let x = m.data_matrix("X", rows, cols, xv).unwrap();
    let a = m.rv_vec("a", Normal::new(0, 1), groups).unwrap();
    let beta = m.rv_vec("beta", Normal::new(0, 1), cols).unwrap();
    let s = m.rv("s", HalfNormal::new(1)).unwrap();
    let b0 = m.rv("b0", Normal::new(0, 1)).unwrap();
    // A gathered vector that is computed (non-centred), not a position.
    let mu_a = m.rv("mu_a", Normal::new(0, 1)).unwrap();
    let a_eff = m.deterministic("a_eff", mu_a + s * a).unwrap();
    let stacked = Expr::stack([Expr::from(b0), s * 2, a.get(groups - 1), beta.get(0) + 1]);
    let mu = a_eff.at(group) + x.matvec(beta) + a.get(1) * 0.5;
    let y: Vec<f64> = (0..rows).map(|i| ((i * 13) % 7) as f64 * 0.2 - 0.5).collect();
    m.observe("y", Normal::new(mu, s + 0.5), &y).unwrap();
    m.observe("z", Normal::new(stacked.at(vec![0.0, 3.0, 1.0, 1.0]), 1), &[0.2, 0.4, -0.3, 0.6]).unwrap();
    compile(&m, RewriteOptions::default()).unwrap().logp_grad
}

fn programs() -> Vec<(String, Program)> {
    let mut out = Vec::new();
    for &kind in DistKind::SCALAR {
        for observed in [true, false] {
            if !observed && kind.support().observed_only() {
                continue;
            }
            let mut m = Model::new();
            let params = common::random_params(&mut m, kind);
            let dist = Dist { kind, params };
            if observed {
                m.observe("y", dist, &common::data_for(kind)).unwrap();
            } else {
                m.rv_vec("x", dist, 2).unwrap();
            }
            let label = format!("{} {}", kind.name(), if observed { "likelihood" } else { "prior" });
            let prog = compile(&m, RewriteOptions::default()).unwrap().logp_grad;
            // A likelihood without parameters (flat) has nothing to sample.
            if prog.dim > 0 {
                out.push((label, prog));
            }
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
    let mut m = Model::new();
    let a = m.rv("a", Normal::new(0, 1)).unwrap();
    let b = m.rv_vec("b", HalfNormal::new(1), 3).unwrap();
    let c = m.rv("c", Beta::new(2, 2)).unwrap();
    let e = a.expm1() * b.tanh() + (a * 2 - 1).log_logistic() + b.softplus().pow(c + 0.5)
        - (a - 0.1).abs() * b.mean()
        + b.dot(vec![0.3, -0.2, 0.1])
        + b.sum() / 3;
    let det = m.deterministic("e", e).unwrap();
    m.observe("y", Normal::new(det, b + c), &[0.5, -0.1, 2.0]).unwrap();
    out.push(("newer expressions".into(), compile(&m, RewriteOptions::default()).unwrap().logp_grad));
    // Named data read by two expressions, and a potential.
    let mut m = Model::new();
    let x = m.data("x", vec![0.5, -1.0, 2.0]).unwrap();
    let a = m.rv("a", Normal::new(0, 1)).unwrap();
    let s = m.rv("s", HalfNormal::new(1)).unwrap();
    m.observe("y", Normal::new(a * x, s + x.square()), &[0.3, -0.8, 2.2]).unwrap();
    m.potential("p", (a * x).log_logistic()).unwrap();
    out.push(("data and potential".into(), compile(&m, RewriteOptions::default()).unwrap().logp_grad));
    // ln Φ over every branch of erfc and the asymptotic series: αz from about −150 to 25.
    let mut m = Model::new();
    let a = m.rv("a", Normal::new(0, 1)).unwrap();
    let s = m.rv("s", HalfNormal::new(1)).unwrap();
    let data = [-30.0, -4.0, -2.1, -0.5, -0.1, 0.05, 0.12, 0.2, 0.7, 1.5, 6.0];
    m.observe("y", SkewNormal::new(a * 0.1, s + 0.5, a + 5), &data).unwrap();
    out.push(("skew normal tails".into(), compile(&m, RewriteOptions::default()).unwrap().logp_grad));
    // The ExGaussian on both sides of its switch to the cancellation-free tail (t from about
    // −200 to 4: ν from 0.014 to 0.3), a Kumaraswamy near 1 and a Gumbel far left of its mode.
    let mut m = Model::new();
    let a = m.rv("a", Normal::new(0, 1)).unwrap();
    let s = m.rv("s", HalfNormal::new(1)).unwrap();
    let nu = (a * 4).logistic() * 0.3 + 0.002;
    let data = [-1.5, -0.3, 0.0, 0.2, 0.6, 1.5, 4.0];
    m.observe("y", ExGaussian::new(a * 0.1, s + 0.5, nu), &data).unwrap();
    m.observe("u", Kumaraswamy::new(s + 1, a.exp() + 1), &[0.3, 0.99, 0.9999]).unwrap();
    m.observe("g", Gumbel::new(a, s + 1), &[-20.0, -6.0, 0.5, 8.0]).unwrap();
    out.push(("continuous tails".into(), compile(&m, RewriteOptions::default()).unwrap().logp_grad));
    // Discrete Weibull counts up to 10⁵ with a small shape and q near 1 (where the partials'
    // two weights, each about 1/|r|, would cancel), and skew-t values far in both tails.
    let mut m = Model::new();
    let a = m.rv("a", Normal::new(0, 1)).unwrap();
    let s = m.rv("s", HalfNormal::new(1)).unwrap();
    let counts = [0.0, 1.0, 40.0, 3000.0, 1e5];
    m.observe("n", DiscreteWeibull::new((a + 4).logistic(), s * 0.3 + 0.1), &counts).unwrap();
    m.observe("t", SkewStudentT::new(s + 1, a.exp() + 0.5, a, s + 0.5), &[-1e6, -30.0, 0.0, 2.5, 1e6])
        .unwrap();
    out.push(("count and skew-t tails".into(), compile(&m, RewriteOptions::default()).unwrap().logp_grad));
    // Sines, cosines and arctangents of arguments up to about ±10 (every branch of the
    // arctangent), angles wrapped over up to three turns.
    let mut m = Model::new();
    let a = m.rv("a", Normal::new(0, 1)).unwrap();
    let s = m.rv("s", HalfNormal::new(1)).unwrap();
    let t = m.data("t", vec![-9.0, -3.0, -0.4, 0.1, 0.7, 2.5, 6.0, 9.0]).unwrap();
    let e = (a * t).sin() + (s * t).cos() * 0.5 + (t * (a + 0.3)).atan() + (t + a * 10).wrap_angle() * 0.1;
    let det = m.deterministic("e", e).unwrap();
    m.observe("y", Normal::new(det, s + 1), &[0.1, -0.5, 0.9, 1.2, -1.0, 0.3, 0.0, 2.0]).unwrap();
    out.push(("trigonometry".into(), compile(&m, RewriteOptions::default()).unwrap().logp_grad));
    // A free angle (the circular transform), a von Mises concentration either side of the
    // Bessel series' switch at 20, and Rice magnitudes far above their noise (the asymptotic
    // series).
    let mut m = Model::new();
    let a = m.rv("a", Normal::new(0, 1)).unwrap();
    let s = m.rv("s", HalfNormal::new(1)).unwrap();
    let angle = m.rv("angle", VonMises::new(a, 0.5)).unwrap();
    m.observe("d", VonMises::new(angle, s * 40 + 0.5), &[-3.1, -0.2, 0.4, 3.1]).unwrap();
    m.observe("r", Rice::new(s * 10 + 15, s + 2), &[12.0, 20.0, 31.0]).unwrap();
    out.push(("circular and Bessel tails".into(), compile(&m, RewriteOptions::default()).unwrap().logp_grad));
    // Censoring bounds computed from data (`ln(limit)`, `3 limit`): observations sit exactly on
    // them in f64, so the bounds must reach the kernel as the host computed them.
    let mut m = Model::new();
    let limits = [0.7, 1.3, 2.9, 0.31, 5.3, 1.7];
    let limit = m.data("limit", limits.to_vec()).unwrap();
    let mu = m.rv("mu", Normal::new(0, 1)).unwrap();
    let s = m.rv("s", HalfNormal::new(1)).unwrap();
    let y: Vec<f64> =
        limits.iter().enumerate().map(|(i, l)| [l.ln(), l.ln() + 0.4, 3.0 * l][i % 3]).collect();
    m.observe("y", CensoredNormal::new(mu, s + 0.5, limit.ln(), limit * 3.0), &y).unwrap();
    out.push((
        "censored at computed bounds".into(),
        compile(&m, RewriteOptions::default()).unwrap().logp_grad,
    ));
    out.push(("indexing and linear algebra".into(), indexing_program(7, 3, 4)));
    // Long enough for the workgroup mapping's lanes to share the gathered vector and the
    // matrix rows unevenly.
    for (label, m) in exmc::model::dist::vector::examples() {
        out.push((label.into(), compile(&m, RewriteOptions::default()).unwrap().logp_grad));
    }
    out.push(("indexing, 300 rows".into(), indexing_program(300, 5, 40)));
    // A vector location with a scalar scale (the normaliser is hoisted out of the element loop),
    // on 300 points: more elements than the 64- and 2-lane workgroups have lanes.
    let mut m = Model::new();
    let a = m.rv("a", Normal::new(0.0, 1.0)).unwrap();
    let s = m.rv("s", HalfNormal::new(1.0)).unwrap();
    let x: Vec<f64> = (0..300).map(|i| (i as f64 / 150.0) - 1.0).collect();
    let y: Vec<f64> = x.iter().map(|v| 0.3 + 1.7 * v + 0.1 * (7.0 * v).sin()).collect();
    m.observe("y", Normal::new(Expr::from(a) * x, s), &y).unwrap();
    out.push(("regression".into(), compile(&m, RewriteOptions::default()).unwrap().logp_grad));
    out.push(("fusion boundaries".into(), fusion_boundaries()));
    for t in [2, 150, 1000] {
        let walk = common::random_walk(t);
        out.push((
            format!("random walk, T = {t}"),
            compile(&walk, RewriteOptions::default()).unwrap().logp_grad,
        ));
    }
    for (label, m) in common::gaussian_process_models() {
        out.push((label.into(), compile(&m, RewriteOptions::default()).unwrap().logp_grad));
    }
    let schools = common::eight_schools(&common::SCHOOLS_Y, &common::SCHOOLS_SIGMA);
    out.push(("eight schools".into(), compile(&schools, RewriteOptions::default()).unwrap().logp_grad));
    out
}

/// A hand-built program (no model produces it) that crosses every boundary of the code
/// generator's fused element loops: a vector operation reading the sum of the same run (the
/// loop must close first, and the backward pass repeats this with the sum's adjoint), runs of
/// different lengths interleaved, a density whose scalar parameters are sums, and scalar
/// arithmetic on sums deferred past a loop.
fn fusion_boundaries() -> Program {
    let mut p = Program { dim: 7, ..Program::default() };
    let u = p.push(Op::Input { offset: 0 }, 4);
    let w = p.push(Op::Input { offset: 4 }, 3);
    let s = p.push(Op::Sum(u), 1);
    let quarter = p.push(Op::Const(0.25), 1);
    let mean = p.push(Op::Binary(BinOp::Mul, s, quarter), 1);
    let c = p.push(Op::Binary(BinOp::Sub, u, mean), 4);
    let e = p.push(Op::Unary(UnOp::Exp, w), 3);
    let sq = p.push(Op::Unary(UnOp::Square, c), 4);
    let t = p.push(Op::Sum(sq), 1);
    let k = p.push(Op::Sum(e), 1);
    let half = p.push(Op::Const(-0.5), 1);
    let a = p.push(Op::Binary(BinOp::Mul, half, t), 1);
    let lp = p.push(Op::Lpdf { kind: DistKind::Normal, args: vec![w, mean, k], partials: vec![None; 3] }, 1);
    let logp = p.push(Op::Binary(BinOp::Add, a, lp), 1);
    p.logp = Some(logp);
    autodiff::differentiate(p)
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
    let Some(gpu) = common::gpu("gpu_logp_and_gradient_equal_cpu") else { return };
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

/// A regression on 1,000,000 observations (the top of item 4's range): the automatic mapping
/// is one workgroup of 256 lanes per chain, each lane's share of every element loop is fused
/// into one loop (no per-lane arrays of ⌈10⁶/256⌉ values), and logp and gradient equal the
/// CPU's in f32 to the same tolerance as the short programs (per-lane compensated sums, then a
/// pairwise tree over the lanes).
#[test]
fn gpu_logp_and_gradient_on_a_million_points_equal_cpu() {
    let Some(gpu) = common::gpu("gpu_logp_and_gradient_on_a_million_points_equal_cpu") else { return };
    let n = 1_000_000;
    let rng = ChainRng::new(7, 0);
    let x: Vec<f64> = (0..n).map(|i| 2.0 * rng.uniform(0, i as u32, Purpose::Init) - 1.0).collect();
    let y: Vec<f64> = x
        .iter()
        .enumerate()
        .map(|(i, v)| 1.0 + 2.0 * v + rng.uniform(1, i as u32, Purpose::Init) - 0.5)
        .collect();
    let mut m = Model::new();
    let a = m.rv("a", Normal::new(0.0, 10.0)).unwrap();
    let b = m.rv("b", Normal::new(0.0, 10.0)).unwrap();
    let sigma = m.rv("sigma", HalfNormal::new(2.0)).unwrap();
    m.observe("y", Normal::new(Expr::from(a) + Expr::from(b) * x, sigma), &y).unwrap();
    let prog = compile(&m, RewriteOptions::default()).unwrap().logp_grad;
    let mapping = Mapping::choose(&prog, MappingChoice::Auto);
    assert_eq!(mapping, Mapping::Workgroup { lanes: 256 });
    let kernel = BatchLogpGrad::new(&gpu, &prog, Precision::F32, mapping).unwrap();
    let exec = Executor::new(prog.clone());
    let points = [[1.1, 1.9, -1.2], [0.7, 2.4, -0.5], [1.5, 1.6, 0.1], [0.9, 2.1, -2.0]];
    let pos: Vec<f64> = points.concat();
    let (logp, grad) = kernel.run(&gpu, &pos).unwrap();
    let mut ws = exec.workspace();
    let mut g = [0.0; 3];
    let mut worst: f64 = 0.0;
    for (c, q) in points.iter().enumerate() {
        let lp = exec.run(&mut ws, q, &mut g);
        let e = (logp[c] - lp).abs() / lp.abs().max(1.0);
        assert!(e <= 2e-5, "point {c}: logp gpu {} cpu {lp} (relative error {e:e})", logp[c]);
        worst = worst.max(e);
        let gscale = g.iter().fold(1.0f64, |m, v| m.max(v.abs()));
        for i in 0..3 {
            let e = (grad[3 * c + i] - g[i]).abs() / gscale;
            assert!(
                e <= 2e-5,
                "point {c}: grad[{i}] gpu {} cpu {} (relative error {e:e})",
                grad[3 * c + i],
                g[i]
            );
            worst = worst.max(e);
        }
    }
    eprintln!("10^6 points, f32 {mapping:?}: max relative error {worst:e}");
}

/// The f64 kernels' software `exp` and `ln` (`shaders/prelude_f64.wgsl`: WGSL has no f64
/// transcendentals) against the host's over their whole range: every binary step of the
/// argument reduction (2^±64 … 2^±1000), subnormal results and arguments, and the ends
/// (e^709.78 ≈ f64::MAX, e^−745 the smallest subnormal). The program's gradient carries each
/// value out on its own: `logp = Σ eᵘ + Σ w ln v` has `∂/∂u = eᵘ` and `∂/∂w = ln v`.
#[test]
fn f64_exp_and_ln_over_the_whole_range() {
    let Some(gpu) = common::gpu("f64_exp_and_ln_over_the_whole_range") else { return };
    if !gpu.has_f64() {
        eprintln!("skipped: {} has no f64", gpu.name());
        return;
    }
    let mut u =
        vec![-745.13, -745.0, -744.4, -740.0, -708.5, -708.3, -700.0, -500.0, -354.9, -88.7, -44.4, -1.0];
    u.extend([-1e-10, 0.0, 1e-10, 0.3466, 1.0, 44.36, 88.72, 354.89, 500.0, 700.0, 709.78]);
    u.extend((0..200).map(|i| -745.0 + 1454.7 * i as f64 / 199.0));
    let p2 = |k: i32| 2f64.powi(k);
    let mut v = vec![5e-324, 1e-320, f64::MIN_POSITIVE, 1e-300, p2(-1000), p2(-1000) * (1.0 - f64::EPSILON)];
    for k in [-512, -256, -128, -64, 64, 128, 256, 512] {
        v.extend([p2(k), p2(k) * (1.0 - f64::EPSILON / 2.0), p2(k) * (1.0 + f64::EPSILON)]);
    }
    v.extend([0.5, 1.0 - f64::EPSILON / 2.0, 1.0, 1.0 + f64::EPSILON, 2.0, 1e300, f64::MAX]);
    v.extend((0..200).map(|i| 2f64.powf(-1074.0 + 2097.0 * i as f64 / 199.0)));
    let (n, m) = (u.len(), v.len());
    let mut p = Program { dim: n + 2 * m, ..Program::default() };
    let ui = p.push(Op::Input { offset: 0 }, n);
    let vi = p.push(Op::Input { offset: n }, m);
    let wi = p.push(Op::Input { offset: n + m }, m);
    let e = p.push(Op::Unary(UnOp::Exp, ui), n);
    let l = p.push(Op::Unary(UnOp::Log, vi), m);
    let wl = p.push(Op::Binary(BinOp::Mul, wi, l), m);
    let se = p.push(Op::Sum(e), 1);
    let sl = p.push(Op::Sum(wl), 1);
    let logp = p.push(Op::Binary(BinOp::Add, se, sl), 1);
    p.logp = Some(logp);
    let prog = autodiff::differentiate(p);
    let pos: Vec<f64> = u.iter().chain(&v).copied().chain(std::iter::repeat_n(1.0, m)).collect();
    let kernel = BatchLogpGrad::new(&gpu, &prog, Precision::F64, Mapping::Invocation).unwrap();
    let (_, grad) = kernel.run(&gpu, &pos).unwrap();
    let mut failures = Vec::new();
    // Within 1e-15 relative, and one unit of the last place of a subnormal result.
    let mut check = |what: &str, arg: f64, got: f64, want: f64| {
        let close = (got - want).abs() <= 1e-15 * want.abs() + 5e-324;
        if !close {
            failures.push(format!("{what}({arg:e}) = {got:e}, host {want:e}"));
        }
    };
    for (i, &x) in u.iter().enumerate() {
        check("exp", x, grad[i], x.exp());
    }
    for (j, &x) in v.iter().enumerate() {
        check("ln", x, grad[n + m + j], x.ln());
    }
    assert!(failures.is_empty(), "{} of {} values:\n{}", failures.len(), n + m, failures.join("\n"));
}

/// The f64 kernels' software sine and cosine (their own argument reduction), arctangent (every
/// branch of Cephes' reduction) and angle wrap against the host's, from 1e-300 to 7.9e8
/// (the reduction keeps its digits below 8e8, and gives NaN beyond). The program's gradient carries each value out:
/// `logp = Σ sin u + Σ cos v + Σ w atan z + Σ q wrap(u)` has `∂/∂u = cos u` at `q = 0`,
/// `∂/∂v = −sin v`, `∂/∂w = atan z` and `∂/∂q = wrap(u)`.
#[test]
fn f64_trigonometry_over_wide_ranges() {
    let Some(gpu) = common::gpu("f64_trigonometry_over_wide_ranges") else { return };
    if !gpu.has_f64() {
        eprintln!("skipped: {} has no f64", gpu.name());
        return;
    }
    let pi = std::f64::consts::PI;
    let mut u =
        vec![0.0, 1e-300, 1e-8, pi / 4.0, pi / 2.0, 3.0 * pi / 4.0, pi, -pi, 2.0 * pi, 100.0, 1e4, 1e6];
    u.extend([-3e7, 1.234567e8, 5e8, -7.9e8]);
    u.extend((0..400).map(|i| -1e5 + 2e5 * i as f64 / 399.0 + 0.1234567));
    let mut z = vec![0.0, 1e-300, 0.5, 0.66, 0.6601, 1.0, 2.4142, 2.4143, 10.0, 1e8, 1e300, f64::MAX];
    z.extend((0..200).map(|i| 10f64.powf(-8.0 + 16.0 * i as f64 / 199.0)));
    z.extend(z.clone().iter().map(|v| -v));
    let (n, k) = (u.len(), z.len());
    let mut p = Program { dim: 3 * n + 2 * k, ..Program::default() };
    let ui = p.push(Op::Input { offset: 0 }, n);
    let vi = p.push(Op::Input { offset: n }, n);
    let qi = p.push(Op::Input { offset: 2 * n }, n);
    let wi = p.push(Op::Input { offset: 3 * n }, k);
    let zi = p.push(Op::Input { offset: 3 * n + k }, k);
    let sin = p.push(Op::Unary(UnOp::Sin, ui), n);
    let cos = p.push(Op::Unary(UnOp::Cos, vi), n);
    let atan = p.push(Op::Unary(UnOp::Atan, zi), k);
    let watan = p.push(Op::Binary(BinOp::Mul, wi, atan), k);
    let wrap = p.push(Op::Unary(UnOp::WrapAngle, ui), n);
    let qwrap = p.push(Op::Binary(BinOp::Mul, qi, wrap), n);
    let sums = [sin, cos, watan, qwrap].map(|v| p.push(Op::Sum(v), 1));
    let ab = p.push(Op::Binary(BinOp::Add, sums[0], sums[1]), 1);
    let cd = p.push(Op::Binary(BinOp::Add, sums[2], sums[3]), 1);
    let logp = p.push(Op::Binary(BinOp::Add, ab, cd), 1);
    p.logp = Some(logp);
    let prog = autodiff::differentiate(p);
    // u, v = u, q = 0 (so that ∂/∂u is cos u alone), w = 1, z.
    let pos: Vec<f64> = u
        .iter()
        .chain(&u)
        .copied()
        .chain(std::iter::repeat_n(0.0, n))
        .chain(std::iter::repeat_n(1.0, k))
        .chain(z.iter().copied())
        .collect();
    let kernel = BatchLogpGrad::new(&gpu, &prog, Precision::F64, Mapping::Invocation).unwrap();
    let (_, grad) = kernel.run(&gpu, &pos).unwrap();
    let mut failures = Vec::new();
    // Within 2e-16 of 1 + |value| (the values are at most π in size), and for the wrap an ulp
    // of the argument too (a fused multiply-add may round the product 2π·turns differently).
    let mut check = |what: &str, arg: f64, got: f64, want: f64, slack: f64| {
        let close = (got - want).abs() <= 2e-16 * (1.0 + want.abs()) + slack;
        if !close {
            failures.push(format!("{what}({arg:e}) = {got:e}, host {want:e}"));
        }
    };
    for (i, &x) in u.iter().enumerate() {
        check("cos", x, grad[i], x.cos(), 0.0);
        check("sin", x, -grad[n + i], x.sin(), 0.0);
        check(
            "wrap_angle",
            x,
            grad[2 * n + i],
            exmc::model::expr::wrap_angle(x),
            2.0 * f64::EPSILON * x.abs(),
        );
    }
    for (j, &x) in z.iter().enumerate() {
        check("atan", x, grad[3 * n + j], x.atan(), 0.0);
    }
    assert!(failures.is_empty(), "{} of {} values:\n{}", failures.len(), 3 * n + k, failures.join("\n"));
}
