//! Pathfinder against closed forms and NUTS: a Gaussian posterior (whose normalising constant
//! bounds the ELBO), a skewed conjugate posterior corrected by importance resampling, and a
//! logistic regression against exmc's NUTS; and its options.

mod common;

use std::collections::HashMap;

use exmc::prelude::*;

/// Mean and sample sd.
fn mean_sd(v: &[f64]) -> (f64, f64) {
    let n = v.len() as f64;
    let mean = v.iter().sum::<f64>() / n;
    (mean, (v.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (n - 1.0)).sqrt())
}

/// The correlated Gaussian posterior of a linear regression with a known scale. The ELBO is
/// at most the log evidence, the gap the approximation's KL divergence from the posterior:
/// each path's chosen approximation, re-estimated from its 1,000 fresh draws (the pool in
/// path order, free of the choice's upward bias), is within 0.01 of it (a KL of 0.01 is a
/// variance off by about 20%) and not above it by more than 4 standard errors (and rounding:
/// an exact approximation's ratios are all equal). k̂ is small, and the resampled draws have
/// the posterior's mean and sd within Monte Carlo error (5 standard errors, with the effective
/// size taken as a quarter of the draws for the resampling's repeats).
#[test]
fn gaussian_posterior_elbo_reaches_the_log_evidence() {
    let reg = common::gaussian_regression();
    let m = &reg.model;
    let (mean, cov) = reg.posterior();
    let log_z = reg.log_evidence();

    let pool = PathfinderOptions { resample: false, ..PathfinderOptions::default() };
    let pooled = Optimizer::new(m).seed(5).pathfinder(&pool).unwrap();
    let per_path = pool.draws_per_path;
    assert_eq!(pooled.paths.len(), 4);
    assert!(pooled.paths.iter().all(|r| r.elbo.is_finite()), "{:?}", pooled.paths);
    assert_eq!(pooled.log_p.len(), 4 * per_path);
    eprintln!("log evidence {log_z:.5}");
    for (p, report) in pooled.paths.iter().enumerate() {
        let ratios: Vec<f64> =
            (p * per_path..(p + 1) * per_path).map(|i| pooled.log_p[i] - pooled.log_q[i]).collect();
        let (elbo, sd) = mean_sd(&ratios);
        let se = sd / (ratios.len() as f64).sqrt();
        eprintln!(
            "  path {p}: ELBO {elbo:.5} (se {se:.1e}; {:.5} when chosen) at {} of {} iterations, {} evaluations",
            report.elbo, report.iteration, report.iterations, report.evaluations
        );
        assert!(
            elbo > log_z - 0.01 && elbo < log_z + 4.0 * se + 1e-9,
            "ELBO {elbo} vs log evidence {log_z}: {report:?}"
        );
        assert!(report.iteration >= 1 && report.iteration <= report.iterations, "{report:?}");
    }
    let options = PathfinderOptions { draws: 4000, ..PathfinderOptions::default() };
    let pf = Optimizer::new(m).seed(5).pathfinder(&options).unwrap();
    eprintln!("k {:.3}", pf.pareto_k);
    assert!(pf.pareto_k < 0.5, "k {}", pf.pareto_k);
    assert_eq!((pf.fit.trace.draws, pf.log_p.len(), pf.log_q.len()), (4000, 4000, 4000));
    assert_eq!(pf.fit.backend, "pathfinder");
    let b = pf.fit.trace.draws("beta").unwrap();
    for i in 0..2 {
        let (got, got_sd) = mean_sd(&b.element(i).unwrap().concat());
        let want_sd = cov[(i, i)].sqrt();
        eprintln!("beta[{i}]: mean {got:.5} vs {:.5}, sd {got_sd:.5} vs {want_sd:.5}", mean[i]);
        let se = want_sd / (4000.0f64 / 4.0).sqrt();
        assert!((got - mean[i]).abs() < 5.0 * se, "beta[{i}] mean {got} vs {}", mean[i]);
        assert!((got_sd / want_sd - 1.0).abs() < 0.1, "beta[{i}] sd {got_sd} vs {want_sd}");
    }
    // Each draw's statistics carry its log density.
    assert!(pf.fit.trace.stats[0].iter().zip(&pf.log_p).all(|(s, lp)| s.lp == *lp));
}

/// A skewed posterior, `λ | y ~ Gamma(a + Σy, b + n)` with few counts: the normal
/// approximations over `ln λ` are not exact, and the resampled draws' mean and sd of `λ`
/// match the closed form within Monte Carlo error (as above).
#[test]
fn skewed_posterior_is_corrected_by_resampling() {
    let (a, b) = (1.5, 1.0);
    let y = [0.0, 1.0, 0.0, 2.0, 1.0];
    let mut m = Model::new();
    let lam = m.rv("lam", Gamma::new(a, b)).unwrap();
    m.observe("y", Poisson::new(lam), &y).unwrap();
    let (shape, rate) = (a + y.iter().sum::<f64>(), b + y.len() as f64);
    let (want, want_sd) = (shape / rate, shape.sqrt() / rate);
    let draws = 4000;
    let options = PathfinderOptions { draws, ..PathfinderOptions::default() };
    let pf = Optimizer::new(&m).seed(2).pathfinder(&options).unwrap();
    assert!(pf.pareto_k < 0.7, "k {}", pf.pareto_k);
    let (got, got_sd) = mean_sd(&pf.fit.trace.var("lam").unwrap().values);
    let se = want_sd / (draws as f64 / 4.0).sqrt();
    eprintln!(
        "lam: mean {got:.5} vs {want:.5} (se {se:.4}), sd {got_sd:.5} vs {want_sd:.5}, k {:.3}",
        pf.pareto_k
    );
    assert!((got - want).abs() < 5.0 * se, "mean {got} vs {want} (se {se})");
    assert!((got_sd / want_sd - 1.0).abs() < 0.1, "sd {got_sd} vs {want_sd}");
    // The approximation is not exact: the importance ratios vary.
    let ratios: Vec<f64> = pf.log_p.iter().zip(&pf.log_q).map(|(p, q)| p - q).collect();
    let (_, spread) = mean_sd(&ratios);
    assert!(spread > 1e-3, "ratios' sd {spread}");
}

/// A logistic regression: Pathfinder's means within 0.15 posterior sd of NUTS's (4 chains ×
/// 1000 draws, Monte Carlo error about 0.02 sd; Pathfinder's 1000 resampled draws about 0.05
/// sd) and its sds within 10%.
#[test]
fn logistic_regression_matches_nuts() {
    let n = 120;
    let x: Vec<f64> = (0..n * 3)
        .map(|k| if k % 3 == 0 { 1.0 } else { ((k * 37 % 101) as f64 / 101.0 - 0.5) * 3.0 })
        .collect();
    let beta_true = [0.3, 1.2, -0.8];
    let y: Vec<f64> = (0..n)
        .map(|i| {
            let eta: f64 = (0..3).map(|j| x[i * 3 + j] * beta_true[j]).sum();
            let u = ((i * 7919 % 1000) as f64 + 0.5) / 1000.0;
            f64::from(u < 1.0 / (1.0 + (-eta).exp()))
        })
        .collect();
    let mut m = Model::new();
    let b = m.rv_vec("b", Normal::new(0.0, 2.5), 3).unwrap();
    let xm = m.data_matrix("X", n, 3, x).unwrap();
    m.observe("y", Bernoulli::logit(xm.matvec(b)), &y).unwrap();
    let pf = Optimizer::new(&m).seed(9).pathfinder(&PathfinderOptions::default()).unwrap();
    assert!(pf.pareto_k < 0.7, "k {}", pf.pareto_k);
    let nuts = Sampler::new(&m).chains(4).draws(1000).seed(9).run().unwrap();
    let (got, want) = (pf.fit.trace.draws("b").unwrap(), nuts.trace.draws("b").unwrap());
    for i in 0..3 {
        let (gm, gs) = mean_sd(&got.element(i).unwrap().concat());
        let (wm, ws) = mean_sd(&want.element(i).unwrap().concat());
        eprintln!("b[{i}]: mean {gm:.4} vs NUTS {wm:.4}, sd {gs:.4} vs {ws:.4} (k {:.3})", pf.pareto_k);
        assert!((gm - wm).abs() < 0.15 * ws, "b[{i}] mean {gm} vs NUTS {wm} (sd {ws})");
        assert!((gs / ws - 1.0).abs() < 0.1, "b[{i}] sd {gs} vs NUTS {ws}");
    }
}

/// The same seed gives the same draws (the paths run in parallel); without resampling every
/// path's draws come back in order; the options are checked.
#[test]
fn options_and_determinism() {
    let mut m = Model::new();
    let mu = m.rv("mu", Normal::new(0.0, 10.0)).unwrap();
    let sigma = m.rv("sigma", HalfNormal::new(2.0)).unwrap();
    m.observe("y", Normal::new(mu, sigma), &[0.8, 1.4, 1.1, 0.9, 1.7, 0.4]).unwrap();
    let small =
        PathfinderOptions { paths: 3, draws_per_path: 50, draws: 80, elbo_draws: 5, ..Default::default() };
    let one = Optimizer::new(&m).seed(4).pathfinder(&small).unwrap();
    let two = Optimizer::new(&m).seed(4).pathfinder(&small).unwrap();
    assert_eq!(one.log_p, two.log_p);
    assert_eq!(one.fit.trace.var("sigma").unwrap().values, two.fit.trace.var("sigma").unwrap().values);
    assert_eq!(one.fit.trace.draws, 80);
    assert!(one.fit.trace.var("sigma").unwrap().values.iter().all(|s| *s > 0.0));
    let other = Optimizer::new(&m).seed(5).pathfinder(&small).unwrap();
    assert_ne!(one.log_p, other.log_p);
    let pooled = Optimizer::new(&m)
        .seed(4)
        .pathfinder(&PathfinderOptions { resample: false, ..small.clone() })
        .unwrap();
    assert_eq!(pooled.fit.trace.draws, 150);
    for p in &pooled.paths {
        assert!(p.elbo.is_finite() && p.evaluations > 50, "{p:?}");
    }
    // Pathfinder's own history, not the optimiser's: a history of 0 there is ignored, and
    // another history gives other draws.
    let ignored = Optimizer::new(&m).seed(4).history(0).pathfinder(&small).unwrap();
    assert_eq!(ignored.log_p, one.log_p);
    let short =
        Optimizer::new(&m).seed(4).pathfinder(&PathfinderOptions { history: 1, ..small.clone() }).unwrap();
    assert_ne!(short.log_p, one.log_p);
    let unknown = Init::Values([("nope".to_string(), vec![1.0])].into());
    let err = Optimizer::new(&m).init(unknown).pathfinder(&small).unwrap_err();
    assert!(matches!(err, Error::InvalidOption { option: "init", .. }), "{err:?}");
    for (option, bad) in [
        ("paths", PathfinderOptions { paths: 0, ..small.clone() }),
        ("history", PathfinderOptions { history: 0, ..small.clone() }),
        ("draws_per_path", PathfinderOptions { draws_per_path: 0, ..small.clone() }),
        ("draws_per_path", PathfinderOptions { draws_per_path: 1 << 32, ..small.clone() }),
        ("paths", PathfinderOptions { paths: usize::MAX, ..small.clone() }),
        ("elbo_draws", PathfinderOptions { elbo_draws: usize::MAX, ..small.clone() }),
        ("draws", PathfinderOptions { draws: 0, ..small.clone() }),
        ("elbo_draws", PathfinderOptions { elbo_draws: 0, ..small.clone() }),
    ] {
        let err = Optimizer::new(&m).pathfinder(&bad).unwrap_err();
        assert!(matches!(err, Error::InvalidOption { option: o, .. } if o == option), "{err:?}");
    }
    for resample in [true, false] {
        let huge = PathfinderOptions { draws_per_path: u32::MAX as usize, resample, ..small.clone() };
        assert!(matches!(Optimizer::new(&m).pathfinder(&huge), Err(Error::TooLarge { .. })));
    }
    // A start of no finite density fails each path, and the error says why for each (not as
    // a sampler's chain).
    let mut cut = Model::new();
    let x = cut.rv("x", Normal::new(0.0, 10.0)).unwrap();
    cut.potential("below_5", (5.0 - x).ln()).unwrap();
    let at_7 = Init::Values([("x".to_string(), vec![7.0])].into());
    let err = Optimizer::new(&cut).init(at_7).pathfinder(&small).unwrap_err();
    let Error::Optimization { reason } = &err else { panic!("{err:?}") };
    let why = "no starting point with finite log density and gradient in 1 try";
    assert_eq!(reason.matches(why).count(), small.paths, "{reason}");
    assert!(!reason.contains("chain"), "{reason}");
}

/// Per-chain starting values (PyMC's `initvals` as a list): each chain starts from its own
/// set. Two chains started in the two far-apart modes of a mixture stay in them; a set that
/// gives every coordinate has one try and is its chain's own; the count must match.
#[test]
fn chains_start_from_their_own_values() {
    let mut m = Model::new();
    m.rv("x", NormalMixture::new(vec![0.5, 0.5], vec![-20.0, 20.0], 1.0)).unwrap();
    m.rv("s", HalfNormal::new(1.0)).unwrap();
    let at = |x: f64, s: f64| HashMap::from([("x".to_string(), vec![x]), ("s".to_string(), vec![s])]);
    let sampler =
        |init: Init| Sampler::new(&m).chains(2).warmup(200).draws(200).seed(5).progress(false).init(init);
    let fit = sampler(Init::PerChain(vec![at(-20.0, 1.0), at(20.0, 1.0)])).run().unwrap();
    let x = &fit.trace.var("x").unwrap().values;
    let (left, right) = x.split_at(200);
    assert!(
        left.iter().all(|&v| v < 0.0) && right.iter().all(|&v| v > 0.0),
        "{:?} {:?}",
        &left[..5],
        &right[..5]
    );
    // Reversed sets, reversed modes; a set for some variables only starts the rest at random.
    let fit = sampler(Init::PerChain(vec![at(20.0, 1.0), HashMap::from([("x".to_string(), vec![-20.0])])]))
        .run()
        .unwrap();
    let x = &fit.trace.var("x").unwrap().values;
    assert!(x[..200].iter().all(|&v| v > 0.0) && x[200..].iter().all(|&v| v < 0.0));
    // A set outside the support is refused naming its chain.
    let err = sampler(Init::PerChain(vec![at(0.0, 1.0), at(0.0, -1.0)])).run().unwrap_err();
    let Error::InvalidOption { option: "init", reason } = &err else { panic!("{err:?}") };
    assert!(reason.starts_with("chain 1: `s` = -1 is outside the support"), "{reason}");
    // Tries per chain: a chain whose set gives every coordinate has one try, the others a
    // hundred. Only x < 5 has a finite density.
    let mut cut = Model::new();
    let x = cut.rv("x", Normal::new(0.0, 10.0)).unwrap();
    cut.potential("below_5", (5.0 - x).ln()).unwrap();
    let only = |v: f64| HashMap::from([("x".to_string(), vec![v])]);
    let run = |sets: Vec<HashMap<String, Vec<f64>>>| {
        Sampler::new(&cut)
            .chains(3)
            .warmup(50)
            .draws(50)
            .seed(1)
            .progress(false)
            .init(Init::PerChain(sets))
            .run()
    };
    assert!(run(vec![HashMap::new(), only(1.0), only(-3.0)]).is_ok());
    let err = run(vec![HashMap::new(), only(7.0), only(1.0)]).unwrap_err();
    assert_eq!(err, Error::InitFailed { chain: 1, tries: 1 });
    // Above 50 only: the random starts of chain 0 never get there in its hundred tries.
    let mut high = Model::new();
    let x = high.rv("x", Normal::new(0.0, 100.0)).unwrap();
    high.potential("above_50", (x - 50.0).ln()).unwrap();
    let err = Sampler::new(&high)
        .chains(2)
        .progress(false)
        .init(Init::PerChain(vec![HashMap::new(), only(60.0)]))
        .run()
        .unwrap_err();
    assert_eq!(err, Error::InitFailed { chain: 0, tries: 100 });
    let err = sampler(Init::PerChain(vec![at(0.0, 1.0)])).run().unwrap_err();
    let Error::InvalidOption { option: "init", reason } = &err else { panic!("{err:?}") };
    assert_eq!(reason, "1 sets of values for 2 chains (one per chain)");
    // The optimiser: one set for the MAP search, one per Pathfinder path.
    let two = Init::PerChain(vec![at(-20.0, 1.0), at(20.0, 1.0)]);
    let err = Optimizer::new(&m).init(two).run().unwrap_err();
    assert!(err.to_string().contains("2 sets of values for 1 search"), "{err}");
    let map = Optimizer::new(&m).init(Init::PerChain(vec![at(19.0, 1.0)])).run().unwrap();
    assert!((map.get("x").unwrap()[0] - 20.0).abs() < 1e-3, "{map}");
    let paths = PathfinderOptions {
        paths: 2,
        draws_per_path: 200,
        draws: 400,
        resample: false,
        ..Default::default()
    };
    let near = Init::PerChain(vec![at(-19.0, 0.7), at(19.0, 0.7)]);
    let pf = Optimizer::new(&m).init(near).seed(2).pathfinder(&paths).unwrap();
    let x = &pf.fit.trace.var("x").unwrap().values;
    assert!(x[..200].iter().all(|&v| v < 0.0) && x[200..].iter().all(|&v| v > 0.0), "paths start apart");
}

/// Pathfinder's draws start NUTS chains (cmdstanpy's `create_inits`): each chain gets a draw
/// of finite density, evenly spaced, as every free variable's constrained value.
#[test]
fn pathfinder_draws_start_chains() {
    let m = common::inits_model();
    let pf = Optimizer::new(&m).seed(1).pathfinder(&PathfinderOptions::default()).unwrap();
    common::check_draw_inits(&m, &pf.fit, |chains| pf.inits(chains));
}
