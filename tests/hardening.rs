//! Issue 9: inputs an adversarial user tried, each reproduced here with the typed error or the
//! correct result it must give. Tests run on the default 2 MiB test-thread stack, so any
//! recursion over expression depth would overflow here.

use exmc::prelude::*;

const DEPTH: usize = 100_000;

fn run(m: &Model) -> Result<Fit> {
    Sampler::new(m).backend(BackendChoice::Cpu).chains(1).warmup(30).draws(20).seed(5).progress(false).run()
}

/// `1 + e`: the new operation's right operand is the deep one.
fn prepend_one(e: Expr) -> Expr {
    1.0 + e
}

/// Item 1: `e = e + 1` (left-nested) and `e = 1 + e` (right-nested) 10⁵ deep build, compile in
/// linear time and give the right value.
#[test]
fn deep_expressions_build_compile_and_evaluate() {
    for right in [false, true] {
        let mut m = Model::new();
        let mu = m.rv("mu", Normal::new(0.0, 1.0)).unwrap();
        let mut e: Expr = mu.into();
        for _ in 0..DEPTH {
            e = if right { prepend_one(e) } else { e + 1.0 };
        }
        let d = m.deterministic("d", e).unwrap();
        // The gradient flows back through all 10⁵ operations.
        m.observe("y", Normal::new(d - DEPTH as f64, 1.0), &[0.5]).unwrap();
        let fit = run(&m).unwrap();
        // Quadratic folding took 7.6 s at depth 20,000 (≈ 190 s at 10⁵); linear passes take well
        // under a second here.
        assert!(fit.timing.compile_s < 20.0, "compile took {} s", fit.timing.compile_s);
        let mu = fit.trace.var("mu").unwrap();
        let d = fit.trace.var("d").unwrap();
        for (m, d) in mu.values.iter().zip(&d.values) {
            assert!((d - (m + DEPTH as f64)).abs() < 1e-6, "d = {d}, mu = {m}");
        }
    }
}

/// Item 1 through the public evaluator.
#[test]
fn deep_constant_expression_evaluates() {
    let mut e = Expr::constant(0.5);
    for _ in 0..DEPTH {
        e = e + 1.0;
    }
    let mut f = Expr::constant(0.5);
    for _ in 0..DEPTH {
        f = (1.0 + f).sqrt();
    }
    assert_eq!(e.eval_const().unwrap().values, vec![DEPTH as f64 + 0.5]);
    let golden = (1.0 + 5f64.sqrt()) / 2.0;
    assert!((f.eval_const().unwrap().values[0] - golden).abs() < 1e-12);
    // Clone, compare and drop are loops too.
    let g = e.clone();
    assert_eq!(g, e);
    drop(g);
}

/// Item 9: what the builder accepts, the JSON round-trips, and its size is linear in depth.
#[test]
fn deep_model_json_round_trips_compactly() {
    let mut m = Model::new();
    let mu = m.rv("mu", Normal::new(0.0, 1.0)).unwrap();
    let mut e: Expr = mu.into();
    for k in 0..DEPTH {
        e = if k % 2 == 0 { e * 1.5 } else { 0.5 + e };
    }
    m.observe("y", Normal::new(e, 1.0), &[1.0, 2.0]).unwrap();
    let json = m.to_json().unwrap();
    // Two operations per level (a literal and the operator), about 100 bytes each pretty-printed.
    let per_level = json.len() as f64 / DEPTH as f64;
    assert!(per_level < 300.0, "{per_level} bytes per level");
    let back = Model::from_json(&json).unwrap();
    assert_eq!(back, m);
    // Malformed operand references are typed errors, not panics.
    let bad = r#"{"nodes": [{"name": "d", "shape": "scalar",
        "kind": {"deterministic": {"expr": [{"const": 1.0}, {"unary": ["exp", 1]}]}}}]}"#;
    assert!(matches!(Model::from_json(bad), Err(Error::Json(_))));
    let empty = r#"{"nodes": [{"name": "d", "shape": "scalar", "kind": {"deterministic": {"expr": []}}}]}"#;
    assert!(matches!(Model::from_json(empty), Err(Error::Json(_))));
}

/// Item 3: sizes are checked (overflow-safe) before anything is allocated.
#[test]
fn huge_shapes_are_typed_errors() {
    for size in [usize::MAX, 1 << 40, Shape::MAX_LEN + 1] {
        let mut m = Model::new();
        let err = m.rv_vec("x", Normal::new(0.0, 1.0), size).unwrap_err();
        let Error::TooLarge { what, elements, .. } = &err else { panic!("{err:?}") };
        assert_eq!((what.as_str(), *elements), ("node `x`", size as u128), "{err}");
    }
    let json = r#"{"nodes": [{"name": "x", "shape": {"vector": 1099511627776},
        "kind": {"free": {"dist": {"kind": "normal", "params": [[{"const": 0.0}], [{"const": 1.0}]]}}}}]}"#;
    let err = Model::from_json(json).unwrap_err();
    assert!(
        matches!(&err, Error::TooLarge { what, elements: 1099511627776, .. } if what == "node `x`"),
        "{err:?}"
    );
    // Within the node limit, but far beyond memory: the run says so before allocating.
    let mut m = Model::new();
    m.rv_vec("x", Normal::new(0.0, 1.0), 1 << 31).unwrap();
    let err = run(&m).unwrap_err();
    assert!(matches!(err, Error::TooLarge { .. }), "{err:?}");
}

/// Item 5: a model with nothing to sample is the same typed error on every backend (the GPU
/// half is in tests/gpu_hardening.rs).
#[test]
fn no_free_variables_is_a_typed_error() {
    let mut m = Model::new();
    m.observe("y", Normal::new(0.0, 1.0), &[0.5, 1.5]).unwrap();
    assert_eq!(run(&m).unwrap_err(), Error::NoFreeVariables);
    assert_eq!(run(&Model::new()).unwrap_err(), Error::NoFreeVariables);
}

/// Item 7: non-centring keeps the scale's domain. `Normal(mu, mu − 10)` is only defined for
/// mu > 10, so mu's marginal is its N(0, 5) prior truncated at 10 (x integrates out): mean
/// 5·φ(2)/(1 − Φ(2)) = 11.866, sd 1.690 (scipy.stats.truncnorm(2, inf, 0, 5)).
#[test]
fn noncentring_keeps_the_scale_positive() {
    let mut m = Model::new();
    let mu = m.rv("mu", Normal::new(0.0, 5.0)).unwrap();
    m.rv("x", Normal::new(mu, mu - 10.0)).unwrap();
    let init = Init::Values([("mu".to_string(), vec![12.0])].into());
    let fit =
        Sampler::new(&m).init(init).chains(4).warmup(1000).draws(1000).seed(3).progress(false).run().unwrap();
    assert!(fit.noncentered.is_empty(), "{:?}", fit.noncentered);
    let draws = fit.trace.var("mu").unwrap();
    assert!(draws.values.iter().all(|&v| v > 10.0), "a draw left the domain");
    let row = fit.summary().get("mu").cloned().unwrap();
    assert!((row.mean - 11.866).abs() < 4.0 * row.mcse_mean, "{row:?}");
    assert!((row.sd - 1.690).abs() < 0.15 * 1.690, "{row:?}");
    // A scale negative everywhere leaves no point with finite density, as without the rewrite.
    let mut m = Model::new();
    let mu = m.rv("mu", Normal::new(0.0, 1.0)).unwrap();
    let tau = m.rv("tau", HalfNormal::new(1.0)).unwrap();
    m.rv("x", Normal::new(mu, -tau)).unwrap();
    assert!(matches!(run(&m), Err(Error::InitFailed { .. })));
}

/// Item 8: a clone is a model of its own.
#[test]
fn clones_have_their_own_identity() {
    let mut a = Model::new();
    let mu = a.rv("mu", Normal::new(0.0, 1.0)).unwrap();
    let mut b = a.clone();
    let nu = b.rv("nu", Normal::new(0.0, 1.0)).unwrap();
    a.rv("other", Normal::new(0.0, 1.0)).unwrap();
    // `nu` is node 1 of the clone; node 1 of the original is `other`.
    assert_eq!(a.deterministic("d", nu * 2.0).unwrap_err(), Error::ForeignVar { node: "d".into() });
    // The original's nodes copied into the clone keep working there.
    b.deterministic("e", mu + nu).unwrap();
    let late = a.rv("late", Normal::new(0.0, 1.0)).unwrap();
    assert_eq!(b.deterministic("f", late * 1.0).unwrap_err(), Error::ForeignVar { node: "f".into() });
    let mut c = b.clone();
    c.deterministic("g", mu + nu).unwrap();
    // Nor does a rewritten model share its source's identity: `theta_z`, appended by
    // non-centring, must not name the source's next node.
    let mut m = Model::new();
    let mu = m.rv("mu", Normal::new(0.0, 1.0)).unwrap();
    let tau = m.rv("tau", HalfNormal::new(1.0)).unwrap();
    m.rv("theta", Normal::new(mu, tau)).unwrap();
    let rewritten = exmc::rewrite::standard(&m, exmc::rewrite::RewriteOptions::default()).unwrap();
    let z = rewritten.model.var("theta_z").unwrap();
    m.rv("next", Normal::new(0.0, 1.0)).unwrap();
    assert_eq!(m.deterministic("w", z * 1.0).unwrap_err(), Error::ForeignVar { node: "w".into() });
    let mut r = rewritten.model.clone();
    r.deterministic("ok", Expr::from(mu) + z).unwrap();
}

/// Items 10, 11 and 12: iteration counts, repeated chains and chain ids beyond 2³².
#[test]
fn sampler_counts_and_chain_ids_are_checked() {
    let mut m = Model::new();
    m.rv("mu", Normal::new(0.0, 1.0)).unwrap();
    let option = |s: Sampler| match s.progress(false).run() {
        Err(Error::InvalidOption { option, .. }) => option,
        other => panic!("{other:?}"),
    };
    assert_eq!(option(Sampler::new(&m).warmup(usize::MAX - 5).draws(10)), "draws");
    assert_eq!(option(Sampler::new(&m).chains(2).only_chains(vec![0, 0])), "only_chains");
    assert_eq!(option(Sampler::new(&m).chains(1 << 33).only_chains(vec![0, 1 << 32])), "chains");
    assert_eq!(option(Sampler::new(&m).threads(1 << 40)), "threads");
    assert_eq!(option(Sampler::new(&m).step_size(1e300)), "step_size");
    // Counts that fit in usize but not in memory: refused before anything is allocated for
    // the chains (2³² chain ids alone would take 32 GiB).
    let err = Sampler::new(&m).warmup(1 << 59).draws(1).progress(false).run().unwrap_err();
    assert!(matches!(err, Error::TooLarge { .. }), "{err:?}");
    let t = std::time::Instant::now();
    let err = Sampler::new(&m).chains(1 << 32).progress(false).run().unwrap_err();
    assert!(matches!(err, Error::TooLarge { .. }), "{err:?}");
    assert!(t.elapsed().as_secs_f64() < 5.0, "{:?}", t.elapsed());
}

/// Item 14, the smaller ones.
#[test]
fn names_keep_centered_empty_draws_and_infinite_widths() {
    let mut m = Model::new();
    let theta = m.rv_vec("theta", Normal::new(0.0, 1.0), 2).unwrap();
    for bad in ["theta[0]", "", "a]", " x", "tab\t"] {
        assert!(matches!(m.rv(bad, Normal::new(0.0, 1.0)), Err(Error::InvalidName { .. })), "{bad:?}");
    }
    let y = m.observe("y", Normal::new(theta, 1.0), &[0.1, 0.2]).unwrap();
    let d = m.deterministic("d", theta * 2.0).unwrap();
    for v in [y, d] {
        assert!(matches!(m.keep_centered(v), Err(Error::InvalidNode { .. })));
    }
    let err = m.rv("u", Uniform::new(-1e308, 1e308)).unwrap_err();
    assert!(matches!(&err, Error::InvalidParameter { node, .. } if node == "u"), "{err:?}");
    // No draws: a warmup-only run whose summary has no numbers to show, and says so.
    let fit = Sampler::new(&m).chains(2).warmup(50).draws(0).progress(false).run().unwrap();
    let s = fit.summary();
    assert!(s.rows.iter().all(|r| r.mean.is_nan() && r.sd.is_nan()), "{s}");
    assert!(s.to_string().contains("no draws"), "{s}");
}

/// Item 17: the default backend choice prints nothing on a machine without a GPU, even where
/// Vulkan (lavapipe) is installed and `XDG_RUNTIME_DIR` is unset. The run happens in a child
/// process (this test binary, filtered to this test) whose stderr is captured.
#[test]
fn default_backend_choice_is_quiet() {
    let mut m = Model::new();
    m.rv("mu", Normal::new(0.0, 1.0)).unwrap();
    if std::env::var_os("EXMC_QUIET_CHILD").is_some() {
        Sampler::new(&m).chains(1).warmup(10).draws(10).progress(false).run().unwrap();
        return;
    }
    if exmc::backend::gpu::device::may_have_hardware_gpu() {
        eprintln!("SKIPPED default_backend_choice_is_quiet: this machine has a GPU device node");
        return;
    }
    let out = std::process::Command::new(std::env::current_exe().unwrap())
        .args(["--exact", "default_backend_choice_is_quiet", "--nocapture", "--test-threads=1"])
        .env("EXMC_QUIET_CHILD", "1")
        .env_remove("XDG_RUNTIME_DIR")
        .env_remove("EXMC_BACKEND")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(!stderr.contains("XDG_RUNTIME_DIR") && !stderr.contains("error"), "{stderr}");
}

/// Stop 23: runs made inside a caller's parallel iterator wait for their own pools without
/// taking the caller's other jobs, other runs among them, onto the same stack (nested runs
/// overflowed a worker's stack once), and each gives the trace it gives alone.
#[test]
fn runs_inside_a_callers_parallel_iterator_do_not_nest() {
    use rayon::prelude::*;
    use std::cell::Cell;
    use std::sync::atomic::{AtomicUsize, Ordering};
    thread_local!(static RUNNING: Cell<usize> = const { Cell::new(0) });
    const RUNS: u64 = 24;
    let mut m = Model::new();
    let mu = m.rv("mu", Normal::new(0.0, 1.0)).unwrap();
    m.observe("y", Normal::new(mu, 1.0), &[0.3, -0.2, 1.1]).unwrap();
    let run = |seed: u64| {
        let s = Sampler::new(&m).backend(BackendChoice::Cpu).chains(2).warmup(200).draws(200);
        s.seed(seed).threads(1).progress(false).run().unwrap()
    };
    // The most runs under way at once on one of the caller's threads.
    let deepest = AtomicUsize::new(0);
    let nested = |seed: u64| {
        let depth = RUNNING.with(|r| r.replace(r.get() + 1)) + 1;
        deepest.fetch_max(depth, Ordering::Relaxed);
        let fit = run(seed);
        RUNNING.with(|r| r.set(r.get() - 1));
        fit
    };
    let pool = rayon::ThreadPoolBuilder::new().num_threads(2).build().unwrap();
    let fits: Vec<Fit> = pool.install(|| (0..RUNS).into_par_iter().map(nested).collect());
    assert_eq!(deepest.into_inner(), 1, "runs nested on a caller's thread");
    for (seed, fit) in (0..RUNS).zip(&fits) {
        assert_eq!(fit.trace, run(seed).trace, "seed {seed}");
    }
}

/// A run made in a caller's pool without `threads` takes that pool's thread count, not the
/// global pool's (its backends are made on the run's own pool, which reports its size).
#[test]
fn a_run_in_a_callers_pool_takes_its_thread_count() {
    use exmc::backend::cpu::CpuBackend;
    use exmc::sampler::BackendFactory;
    use rayon::prelude::*;
    use std::sync::{Arc, Mutex};
    let mut m = Model::new();
    m.rv("mu", Normal::new(0.0, 1.0)).unwrap();
    for workers in [1, 3] {
        let seen = Arc::new(Mutex::new(Vec::new()));
        let record = Arc::clone(&seen);
        let factory = BackendFactory::new(move |prog, seed, ids, depth| {
            record.lock().unwrap().push(rayon::current_num_threads());
            Ok(Box::new(CpuBackend::new(prog.clone(), seed, ids, depth)))
        });
        let s = Sampler::new(&m).chains(2).warmup(20).draws(10).progress(false).backend_factory(factory);
        let pool = rayon::ThreadPoolBuilder::new().num_threads(workers).build().unwrap();
        pool.install(|| (0..2).into_par_iter().for_each(|_| drop(s.run().unwrap())));
        let seen = seen.lock().unwrap();
        assert!(!seen.is_empty() && seen.iter().all(|&n| n == workers), "{workers} workers: {seen:?}");
    }
}
