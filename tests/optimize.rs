//! The maximum a posteriori search and the Laplace approximation against closed forms:
//! conjugate posteriors whose modes (with and without the log-Jacobians) and curvatures are
//! known exactly, least squares, and a posterior with no mode.

mod common;

use std::collections::HashMap;

use exmc::prelude::*;

/// `Beta(a, b)` prior, `k` successes in `n` Bernoulli trials.
fn beta_bernoulli(a: f64, b: f64, k: usize, n: usize) -> Model {
    let mut m = Model::new();
    let p = m.rv("p", Beta::new(a, b)).unwrap();
    let y: Vec<f64> = (0..n).map(|i| f64::from(i < k)).collect();
    m.observe("y", Bernoulli::new(p), &y).unwrap();
    m.deterministic("odds", p / (1.0 - p)).unwrap();
    m
}

/// Without the Jacobian the mode is the Beta(a + k, b + n − k) density's,
/// `(a + k − 1)/(a + b + n − 2)`; with it, the mode over logit p, `(a + k)/(a + b + n)`.
/// Deterministics come at the mode's values.
#[test]
fn beta_bernoulli_modes_with_and_without_the_jacobian() {
    let (a, b, k, n) = (2.5, 1.5, 7, 12);
    let m = beta_bernoulli(a, b, k, n);
    let map = Optimizer::new(&m).run().unwrap();
    assert!(map.converged, "{map}");
    assert!(!map.jacobian);
    let want = (a + k as f64 - 1.0) / (a + b + n as f64 - 2.0);
    let p = map.get("p").unwrap()[0];
    assert!((p - want).abs() < 1e-7, "p {p} vs {want}\n{map}");
    assert!((map.get("odds").unwrap()[0] - p / (1.0 - p)).abs() < 1e-12);
    let logit = map.unconstrained.iter().find(|(n, _)| n == "p").unwrap().1[0];
    assert!((logit - (p / (1.0 - p)).ln()).abs() < 1e-9);
    assert!(map.grad_norm < 1e-6, "{map}");

    let with = Optimizer::new(&m).jacobian(true).run().unwrap();
    assert!(with.converged && with.jacobian, "{with}");
    let want = (a + k as f64) / (a + b + n as f64);
    let p = with.get("p").unwrap()[0];
    assert!((p - want).abs() < 1e-7, "p {p} vs {want}\n{with}");
    // The two optima's log densities differ by the log-Jacobian ln p(1 − p) and more.
    assert!((with.logp - map.logp).abs() > 1.0);
}

/// A Dirichlet posterior's mode (simplex transform): `(αₖ + nₖ − 1)/(Σα + N − K)`.
#[test]
fn dirichlet_multinomial_mode() {
    let alpha = [2.0, 3.0, 1.5, 4.0];
    let counts = [12.0, 3.0, 7.0, 0.0];
    let mut m = Model::new();
    let p = m.rv("p", Dirichlet::new(alpha.to_vec())).unwrap();
    m.observe("y", Multinomial::new(22.0, p), &counts).unwrap();
    let map = Optimizer::new(&m).seed(5).run().unwrap();
    assert!(map.converged, "{map}");
    let total: f64 = alpha.iter().sum::<f64>() + counts.iter().sum::<f64>() - alpha.len() as f64;
    for (k, got) in map.get("p").unwrap().iter().enumerate() {
        let want = (alpha[k] + counts[k] - 1.0) / total;
        assert!((got - want).abs() < 1e-6, "p[{k}] {got} vs {want}\n{map}");
    }
}

/// Poisson counts under a Gamma(α, β) rate: modes `(α + Σy − 1)/(β + n)` without the
/// Jacobian, `(α + Σy)/(β + n)` with it; over `v = ln λ` the log density is
/// `(α + Σy)v − (β + n)eᵛ`, so the Laplace approximation of `v` has variance `1/(α + Σy)`
/// exactly, and its draws of `λ` are log-normal.
#[test]
fn gamma_poisson_laplace_is_the_log_space_curvature() {
    let (alpha, beta) = (3.0, 0.5);
    let y = [4.0, 7.0, 2.0, 5.0, 6.0, 3.0];
    let (s, n) = (y.iter().sum::<f64>(), y.len() as f64);
    let mut m = Model::new();
    let lam = m.rv("lam", Gamma::new(alpha, beta)).unwrap();
    m.observe("y", Poisson::new(lam), &y).unwrap();
    let map = Optimizer::new(&m).run().unwrap();
    assert!((map.get("lam").unwrap()[0] - (alpha + s - 1.0) / (beta + n)).abs() < 1e-6, "{map}");

    let draws = 4000;
    let laplace = Optimizer::new(&m).seed(11).laplace(draws).unwrap();
    let mode = (alpha + s) / (beta + n);
    assert!((laplace.mode.get("lam").unwrap()[0] - mode).abs() < 1e-6);
    let var = 1.0 / (alpha + s);
    assert!((laplace.covariance[0] - var).abs() < 1e-6 * var, "{} vs {var}", laplace.covariance[0]);
    // ln λ of the draws: mean ln(mode), variance `var`, within 5 standard errors.
    let logs: Vec<f64> = laplace.fit.trace.var("lam").unwrap().values.iter().map(|v| v.ln()).collect();
    let mean = logs.iter().sum::<f64>() / draws as f64;
    let sample_var = logs.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (draws as f64 - 1.0);
    let se_mean = (var / draws as f64).sqrt();
    let se_var = var * (2.0 / (draws as f64 - 1.0)).sqrt();
    assert!((mean - mode.ln()).abs() < 5.0 * se_mean, "{mean} vs {}", mode.ln());
    assert!((sample_var - var).abs() < 5.0 * se_var, "{sample_var} vs {var}");
    // Stan's log_p__ and log_g__: the normal's density at the draws, and the model's (the
    // ratio is nearly constant where the approximation is good).
    assert_eq!((laplace.log_p.len(), laplace.log_g.len()), (draws, draws));
    let z0 = (logs[0] - mode.ln()) / var.sqrt();
    let want_g = -0.5 * (2.0 * std::f64::consts::PI).ln() - 0.5 * var.ln() - 0.5 * z0 * z0;
    assert!((laplace.log_g[0] - want_g).abs() < 1e-6, "{} vs {want_g}", laplace.log_g[0]);
    assert!(laplace.pareto_k < 0.7, "k {}", laplace.pareto_k);
    assert_eq!(laplace.fit.backend, "laplace approximation");
    assert_eq!((laplace.fit.trace.chains, laplace.fit.trace.draws), (1, draws));

    // At a mode found apart: the same approximation, draw for draw; a mode without the
    // Jacobian, or of another model, is refused.
    let opt = Optimizer::new(&m).seed(11);
    let mode = opt.clone().jacobian(true).run().unwrap();
    let at = opt.laplace_at(mode.clone(), draws).unwrap();
    assert_eq!(at.log_p, laplace.log_p);
    assert_eq!(at.fit.trace.var("lam").unwrap().values, laplace.fit.trace.var("lam").unwrap().values);
    // And both from one compilation: the same mode and draws.
    let (both_mode, both) = opt.mode_and_laplace(draws).unwrap();
    assert_eq!((both_mode.u, both_mode.logp), (mode.u, mode.logp));
    assert_eq!(both.unwrap().log_p, laplace.log_p);
    assert!(matches!(opt.laplace_at(map, 10), Err(Error::InvalidOption { option: "mode", .. })));
    let mut wrong = Optimizer::new(&m).jacobian(true).run().unwrap();
    wrong.u = vec![0.0; 2];
    assert!(matches!(opt.laplace_at(wrong, 10), Err(Error::InvalidOption { option: "mode", .. })));
    let other = Optimizer::new(&beta_bernoulli(1.0, 1.0, 1, 2)).jacobian(true).run().unwrap();
    assert_eq!(other.u.len(), 1);
    assert!(matches!(opt.laplace_at(other, 10), Err(Error::InvalidOption { option: "mode", .. })));
}

/// Gaussian means under a Gaussian prior with a known scale: the mode is the posterior mean,
/// the Laplace approximation the posterior itself (covariance to finite-difference accuracy).
#[test]
fn gaussian_posterior_laplace_is_exact() {
    let y = [[1.2, -0.4, 2.2], [0.8, -0.1, 2.9], [1.5, -0.9, 2.4], [1.1, -0.3, 2.0]];
    let (prior_sd, sd) = (2.0, 0.7);
    let mut m = Model::new();
    let mu = m.rv_vec("mu", Normal::new(vec![0.0, 1.0, -1.0], prior_sd), 3).unwrap();
    for (i, row) in y.iter().enumerate() {
        m.observe(&format!("y{i}"), Normal::new(mu, sd), row).unwrap();
    }
    let precision = 1.0 / (prior_sd * prior_sd) + y.len() as f64 / (sd * sd);
    let laplace = Optimizer::new(&m).seed(2).laplace(3000).unwrap();
    for (j, prior_mean) in [0.0, 1.0, -1.0].into_iter().enumerate() {
        let sum: f64 = y.iter().map(|r| r[j]).sum();
        let want = (prior_mean / (prior_sd * prior_sd) + sum / (sd * sd)) / precision;
        let got = laplace.mode.get("mu").unwrap()[j];
        assert!((got - want).abs() < 1e-7, "mu[{j}] {got} vs {want}");
        for i in 0..3 {
            let c = laplace.covariance[i * 3 + j];
            let want = if i == j { 1.0 / precision } else { 0.0 };
            assert!((c - want).abs() < 1e-7, "covariance[{i}, {j}] {c} vs {want}");
        }
        let draws = laplace.fit.trace.draws("mu").unwrap();
        let (mean, sd_hat) = (draws.mean()[j], draws.sd()[j]);
        let post_sd = precision.recip().sqrt();
        assert!((mean - want).abs() < 5.0 * post_sd / 3000f64.sqrt(), "mean {mean} vs {want}");
        assert!((sd_hat / post_sd - 1.0).abs() < 5.0 / (2.0 * 3000f64).sqrt(), "sd {sd_hat} vs {post_sd}");
    }
    // A normal posterior: the importance ratios are constant.
    let spread = laplace
        .log_p
        .iter()
        .zip(&laplace.log_g)
        .map(|(p, g)| p - g)
        .fold((f64::MAX, f64::MIN), |(lo, hi), r| (lo.min(r), hi.max(r)));
    assert!(spread.1 - spread.0 < 1e-6, "{spread:?}");
}

/// Flat priors: the mode is least squares with `σ̂² = RSS/n` (no Jacobian); with the log
/// transform's Jacobian the density over `ln σ` is `−n ln σ − RSS/(2σ²) + ln σ`, maximised at
/// `σ̂² = RSS/(n − 1)`. Also at the scale of unstandardised data (an intercept of 80,
/// coefficients of 100, as posteriordb's kidiq), where the start's gradient is about 10⁶:
/// L-BFGS's first step along it must not leap out of range.
#[test]
fn flat_prior_regression_is_least_squares() {
    for (offset, scale) in [(0.0, 1.0), (80.0, 50.0)] {
        let x: Vec<[f64; 2]> =
            (0..40).map(|i| [(i as f64 * 0.37).sin(), (i as f64 * 0.11).cos() - 0.5]).collect();
        let y: Vec<f64> = x
            .iter()
            .enumerate()
            .map(|(i, r)| 1.5 + 2.0 * r[0] - 0.7 * r[1] + 0.3 * ((i * 7919 % 13) as f64 / 13.0 - 0.5))
            .map(|v| offset + scale * v)
            .collect();
        let mut m = Model::new();
        let a = m.rv("a", Flat::new()).unwrap();
        let b = m.rv_vec("b", Flat::new(), 2).unwrap();
        let sigma = m.rv("sigma", HalfFlat::new()).unwrap();
        let x_flat: Vec<f64> = x.iter().flatten().copied().collect();
        let xm = m.data_matrix("X", 40, 2, x_flat).unwrap();
        m.observe("y", Normal::new(a + xm.matmul(b, 1), sigma), &y).unwrap();
        let map = Optimizer::new(&m).run().unwrap();
        assert!(map.converged, "{map}");
        // Least squares by the normal equations.
        let design = nalgebra::DMatrix::from_fn(40, 3, |i, j| if j == 0 { 1.0 } else { x[i][j - 1] });
        let yv = nalgebra::DVector::from_column_slice(&y);
        let coef = (design.transpose() * &design).cholesky().unwrap().solve(&(design.transpose() * &yv));
        let rss = (&yv - &design * &coef).norm_squared();
        let got = [map.get("a").unwrap()[0], map.get("b").unwrap()[0], map.get("b").unwrap()[1]];
        for (g, w) in got.iter().zip(coef.iter()) {
            assert!((g - w).abs() < 1e-6 * scale, "{got:?} vs {coef}");
        }
        let s = map.get("sigma").unwrap()[0];
        assert!((s - (rss / 40.0).sqrt()).abs() < 1e-6 * scale, "sigma {s} vs {}", (rss / 40.0).sqrt());
        let with = Optimizer::new(&m).jacobian(true).run().unwrap();
        assert!(with.converged, "{with}");
        let s = with.get("sigma").unwrap()[0];
        assert!((s - (rss / 39.0).sqrt()).abs() < 1e-6 * scale, "sigma {s} vs {}", (rss / 39.0).sqrt());
    }
}

/// The centred eight schools has no mode (`τ → 0` with every `θ` at `μ` makes the density
/// unbounded, with or without the Jacobian's `+ln τ`): the search does not converge, naming
/// `tau`, and the Laplace approximation is a typed error. A density rising linearly for ever
/// (a flat prior under a linear potential) does not converge either.
#[test]
fn an_unbounded_density_is_not_a_converged_mode() {
    let y = [28.0, 8.0, -3.0, 7.0, -1.0, 1.0, 18.0, 12.0];
    let sigma = [15.0, 10.0, 16.0, 11.0, 9.0, 11.0, 10.0, 18.0];
    let m = common::eight_schools(&y, &sigma);
    for jacobian in [false, true] {
        let map = Optimizer::new(&m).jacobian(jacobian).run().unwrap();
        assert!(!map.converged && map.message.contains("`tau`"), "{map}");
        assert!(map.get("tau").unwrap()[0] < 1e-12, "{map}");
    }
    match Optimizer::new(&m).laplace(100) {
        Err(Error::Optimization { reason }) => assert!(reason.contains("did not converge"), "{reason}"),
        other => panic!("{other:?}"),
    }
    let mut m = Model::new();
    let x = m.rv("x", Flat::new()).unwrap();
    m.potential("rise", x * 2.0).unwrap();
    let map = Optimizer::new(&m).run().unwrap();
    assert!(!map.converged, "{map}");
}

/// Starting values are honoured (a start at the mode converges at once), and bad settings
/// are typed errors that name the option.
#[test]
fn starts_and_options() {
    let m = beta_bernoulli(2.0, 2.0, 3, 4);
    let start = HashMap::from([("p".to_string(), vec![4.0 / 6.0])]);
    let map = Optimizer::new(&m).init(Init::Values(start)).run().unwrap();
    assert!(map.converged && map.iterations <= 1, "{map}");
    for (opt, err) in [
        (Optimizer::new(&m).history(0), "history"),
        (Optimizer::new(&m).history(usize::MAX), "history"),
        (Optimizer::new(&m).max_iters(0), "max_iters"),
        (Optimizer::new(&m).tol_grad(f64::NAN), "tol_grad"),
        (Optimizer::new(&m).tol_rel_obj(-1.0), "tol_rel_obj"),
    ] {
        match opt.run() {
            Err(Error::InvalidOption { option, .. }) => assert_eq!(option, err),
            other => panic!("{err}: {other:?}"),
        }
    }
    assert!(matches!(Optimizer::new(&m).laplace(0), Err(Error::InvalidOption { option: "draws", .. })));
    assert!(matches!(Optimizer::new(&m).laplace(usize::MAX), Err(Error::TooLarge { .. })));
    // What `laplace` checks before its search, without it.
    assert!(matches!(Optimizer::new(&m).check_laplace(usize::MAX), Err(Error::TooLarge { .. })));
    assert!(matches!(Optimizer::new(&m).check_laplace(0), Err(Error::InvalidOption { option: "draws", .. })));
    assert!(Optimizer::new(&m).check_laplace(100).is_ok());
    let mut empty = Model::new();
    empty.data("x", vec![1.0]).unwrap();
    assert!(matches!(Optimizer::new(&empty).run(), Err(Error::NoFreeVariables)));
    let bad = HashMap::from([("q".to_string(), vec![0.5])]);
    assert!(matches!(Optimizer::new(&m).init(Init::Values(bad)).run(), Err(Error::InvalidOption { .. })));
    // A rate negative wherever the search starts: no start, said without the sampler's "chain".
    let mut never = Model::new();
    let a = never.rv("a", Normal::new(0.0, 1.0)).unwrap();
    never.observe("y", Exponential::new(-a.exp()), &[1.0]).unwrap();
    let err = Optimizer::new(&never).run().unwrap_err();
    assert_eq!(err, Error::NoStart { tries: 100 });
    assert_eq!(err.to_string(), "no starting point with finite log density and gradient in 100 tries");
    let one = HashMap::from([("a".to_string(), vec![0.0])]);
    let err = Optimizer::new(&never).init(Init::Values(one)).laplace(10).unwrap_err();
    assert_eq!(err.to_string(), "no starting point with finite log density and gradient in 1 try");
}

/// A Bayesian linear regression with a known scale: the posterior is a correlated normal, so
/// the Laplace approximation is exact. Its mode and covariance match the closed form, its
/// draws' covariance the covariance within Monte Carlo error (the `L⁻ᵀz` orientation), the
/// importance ratios are constant (`log_g` is the normal's own density), and k̂ is 0.
#[test]
fn correlated_gaussian_posterior_laplace_is_exact() {
    let common::GaussianRegression { model: m, design, y, sd, prior_sd } = common::gaussian_regression();
    let precision =
        design.transpose() * &design / (sd * sd) + nalgebra::DMatrix::identity(2, 2) / (prior_sd * prior_sd);
    let cov = precision.clone().try_inverse().unwrap();
    let mean = &cov * (design.transpose() * nalgebra::DVector::from_column_slice(&y)) / (sd * sd);
    let corr = cov[(0, 1)] / (cov[(0, 0)] * cov[(1, 1)]).sqrt();
    assert!(corr.abs() > 0.5, "the test needs a correlated posterior ({corr})");
    let draws = 4000;
    let laplace = Optimizer::new(&m).seed(8).laplace(draws).unwrap();
    for i in 0..2 {
        assert!((laplace.mode.get("beta").unwrap()[i] - mean[i]).abs() < 1e-6 * cov[(i, i)].sqrt());
        for j in 0..2 {
            let got = laplace.covariance[i * 2 + j];
            assert!((got - cov[(i, j)]).abs() < 1e-6 * cov[(0, 0)].max(cov[(1, 1)]), "[{i}, {j}] {got}");
        }
    }
    // The draws' correlation: its standard error is (1 − ρ²)/√n.
    let b = laplace.fit.trace.draws("beta").unwrap();
    let (b0, b1) = (b.element(0).unwrap().concat(), b.element(1).unwrap().concat());
    let mean_of = |v: &[f64]| v.iter().sum::<f64>() / v.len() as f64;
    let (m0, m1) = (mean_of(&b0), mean_of(&b1));
    let c = |a: &[f64], ma: f64, b: &[f64], mb: f64| {
        a.iter().zip(b).map(|(x, y)| (x - ma) * (y - mb)).sum::<f64>() / (a.len() as f64 - 1.0)
    };
    let r = c(&b0, m0, &b1, m1) / (c(&b0, m0, &b0, m0) * c(&b1, m1, &b1, m1)).sqrt();
    let se = (1.0 - corr * corr) / (draws as f64).sqrt();
    assert!((r - corr).abs() < 5.0 * se, "draws' correlation {r} vs {corr} (se {se})");
    let ratios: Vec<f64> = laplace.log_p.iter().zip(&laplace.log_g).map(|(p, g)| p - g).collect();
    let spread =
        ratios.iter().fold(f64::MIN, |a, &b| a.max(b)) - ratios.iter().fold(f64::MAX, |a, &b| a.min(b));
    assert!(spread < 1e-6, "log_p − log_g varies by {spread}");
    assert_eq!(laplace.pareto_k, 0.0);
    // The draws' statistics carry each draw's log density (the trace files' lp__), and the
    // fit writes an ArviZ Zarr store that reads back.
    let stats = &laplace.fit.trace.stats[0];
    assert_eq!(stats.len(), draws);
    assert!(stats.iter().zip(&laplace.log_p).all(|(s, lp)| s.lp == *lp));
    let dir = std::path::PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("laplace.zarr");
    let _ = std::fs::remove_dir_all(&dir);
    exmc::io::InferenceData::new(&m).posterior(&laplace.fit).write_zarr(&dir).unwrap();
    let back = exmc::io::read_zarr(&dir).unwrap();
    assert_eq!(back.var("beta").unwrap().values, laplace.fit.trace.var("beta").unwrap().values);
}

/// A transformed observation keeps its inverse's log-Jacobian in the mode's density: for
/// `y = exp(z)`, `z ~ Normal(μ, 1)`, the maximised log density is `ln N(μ | 0, 10) +
/// Σ [ln N(ln y | μ, 1) − ln y]` at `μ = Σ ln y / (n + 1/100)`.
#[test]
fn a_transformed_observation_keeps_its_jacobian() {
    let y = [0.5, 2.0, 1.4, 3.1, 0.9];
    let mut m = Model::new();
    let mu = m.rv("mu", Normal::new(0.0, 10.0)).unwrap();
    m.observe_transformed("y", Normal::new(mu, 1.0), Expr::exp, &y).unwrap();
    let map = Optimizer::new(&m).run().unwrap();
    assert!(map.converged, "{map}");
    let logs: Vec<f64> = y.iter().map(|v: &f64| v.ln()).collect();
    let mode = logs.iter().sum::<f64>() / (y.len() as f64 + 0.01);
    let half_ln_2pi = 0.5 * (2.0 * std::f64::consts::PI).ln();
    let normal = |x: f64, m: f64, s: f64| -half_ln_2pi - s.ln() - 0.5 * ((x - m) / s).powi(2);
    let want = normal(mode, 0.0, 10.0) + logs.iter().map(|l| normal(*l, mode, 1.0) - l).sum::<f64>();
    assert!((map.get("mu").unwrap()[0] - mode).abs() < 1e-7, "{map}");
    assert!((map.logp - want).abs() < 1e-9, "{} vs {want}", map.logp);
}

/// Variables whose unconstrained coordinates are large without being at an edge: ordered
/// means near 100 (the first coordinate is the value itself), zero-sum effects of ±60 (no
/// edge at all), a positive value near 10¹⁵ (its edge is 0). Each mode is the closed form,
/// and converges.
#[test]
fn large_values_away_from_an_edge_are_modes() {
    let mut m = Model::new();
    let mu = m.rv_vec("mu", Normal::new(vec![90.0, 110.0], 50.0), 2).unwrap();
    m.ordered(mu).unwrap();
    m.observe("a", Normal::new(mu.get(0), 1.0), &[95.0, 96.0]).unwrap();
    m.observe("b", Normal::new(mu.get(1), 1.0), &[105.0, 104.0]).unwrap();
    let map = Optimizer::new(&m).run().unwrap();
    assert!(map.converged, "{map}");
    // Posterior mode of each mean: (prior/2500 + Σy) / (1/2500 + 2).
    let post = |prior: f64, s: f64| (prior / 2500.0 + s) / (1.0 / 2500.0 + 2.0);
    let got = map.get("mu").unwrap();
    // Within 10⁻⁴ of a posterior sd of 0.7 (the relative-change criterion's accuracy).
    assert!((got[0] - post(90.0, 191.0)).abs() < 1e-4 && (got[1] - post(110.0, 209.0)).abs() < 1e-4, "{map}");

    let mut m = Model::new();
    let eff = m.rv_vec("eff", ZeroSumNormal::new(100.0), 3).unwrap();
    m.observe("y", Normal::new(eff, 0.1), &[60.0, -20.0, -40.0]).unwrap();
    let map = Optimizer::new(&m).run().unwrap();
    assert!(map.converged, "{map}");
    let got = map.get("eff").unwrap();
    for (g, w) in got.iter().zip([60.0, -20.0, -40.0]) {
        assert!((g - w).abs() < 0.01, "{map}");
    }

    // The log-normal's mode without the Jacobian, `e^{μ − σ²}`, at `u = 34.75`.
    let mut m = Model::new();
    m.rv("s", LogNormal::new(35.0, 0.5)).unwrap();
    let map = Optimizer::new(&m).run().unwrap();
    assert!(map.converged, "{map}");
    assert!((map.u[0] - 34.75).abs() < 1e-6, "{map}");

    // A log density of size 10¹⁶ (a Poisson count of 3·10¹⁴): `argmin`'s line search meets
    // overflows and cannot always step back from them; the search ends in bounded time (each
    // iteration's line search is capped), saying whether it converged.
    let mut m = Model::new();
    let s = m.rv("s", Exponential::new(1e-14)).unwrap();
    m.observe("y", Poisson::new(s), &[3e14]).unwrap();
    let map = Optimizer::new(&m).run().unwrap();
    assert!(map.evaluations < 100_000, "{map}");
    assert!(map.logp > -1e15, "no progress from the start (-1.0e16): {map}");
}

/// A matrix-valued variable's elements print with their row and column; a start for some of
/// the variables leaves the rest random; a relative tolerance of 0 still converges (at a
/// point where an iteration changes nothing and the density peaks).
#[test]
fn matrices_partial_starts_and_zero_tolerance() {
    let mut m = Model::new();
    let w = m.rv_matrix("w", Normal::new(0.0, 1.0), 2, 2).unwrap();
    let s = m.rv("s", HalfNormal::new(1.0)).unwrap();
    m.observe("y", Normal::new(w.sum(), s), &[1.0, 2.0, 1.5]).unwrap();
    let start = HashMap::from([("s".to_string(), vec![0.7])]);
    let map = Optimizer::new(&m).init(Init::Values(start)).tol_rel_obj(0.0).run().unwrap();
    assert!(map.converged && map.grad_norm < 1e-6, "{map}");
    let text = map.to_string();
    assert!(text.contains("w[1, 0]") && text.contains("s "), "{text}");
    assert_eq!(map.get("w").unwrap().len(), 4);
}
