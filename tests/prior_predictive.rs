//! Prior predictive sampling against analytic marginals, with tolerances from the Monte Carlo
//! error of 20,000 independent draws (4 standard errors).

use exmc::prelude::*;

const N: usize = 20_000;

fn mean_var(x: &[f64]) -> (f64, f64) {
    let n = x.len() as f64;
    let m = x.iter().sum::<f64>() / n;
    (m, x.iter().map(|v| (v - m).powi(2)).sum::<f64>() / (n - 1.0))
}

/// mu ~ N(0, 1), y ~ N(mu, 1): each y is N(0, √2) marginally, and y − mu is N(0, 1).
#[test]
fn normal_hierarchy_has_the_analytic_marginal() {
    let mut m = Model::new();
    let mu = m.rv("mu", Normal::new(0, 1)).unwrap();
    m.observe("y", Normal::new(mu, 1), &[0.3, -1.2]).unwrap();
    m.deterministic("twice", mu * 2.0).unwrap();
    let t = prior_predictive(&m, N, 7).unwrap();
    let y = t.draws("y").unwrap();
    assert_eq!(y.shape(), vec![1, N, 2]);
    let y0: Vec<f64> = y.element(0).unwrap().concat();
    let (mean, var) = mean_var(&y0);
    let n = N as f64;
    assert!(mean.abs() < 4.0 * (2.0 / n).sqrt(), "mean {mean}");
    // The sample variance of normal draws has sd σ²·sqrt(2/(n − 1)).
    assert!((var - 2.0).abs() < 4.0 * 2.0 * (2.0 / (n - 1.0)).sqrt(), "var {var}");
    let mus = t.draws("mu").unwrap().element(0).unwrap().concat();
    let twice = t.draws("twice").unwrap().element(0).unwrap().concat();
    assert!(mus.iter().zip(&twice).all(|(a, b)| (2.0 * a - b).abs() < 1e-12));
    let resid: Vec<f64> = y0.iter().zip(&mus).map(|(y, m)| y - m).collect();
    let (rm, rv) = mean_var(&resid);
    assert!(rm.abs() < 4.0 / n.sqrt() && (rv - 1.0).abs() < 4.0 * (2.0 / (n - 1.0)).sqrt(), "{rm} {rv}");
    // Same seed, same draws.
    assert_eq!(prior_predictive(&m, 50, 7).unwrap().vars[0].values, t.vars[0].values[..50]);
}

/// a ~ N(0, 0.5), b ~ N(0, 0.2), y_i ~ Poisson(exp(a + b·x_i)): integer draws whose mean is
/// the log-normal mean exp(v/2), v = 0.25 + 0.04·x², and whose variance is E[λ] + Var[λ].
#[test]
fn poisson_glm_is_integer_valued_with_the_right_mean() {
    let x = [-2.0, 0.0, 1.5];
    let mut m = Model::new();
    let xd = m.data("x", x.to_vec()).unwrap();
    let a = m.rv("a", Normal::new(0, 0.5)).unwrap();
    let b = m.rv("b", Normal::new(0, 0.2)).unwrap();
    m.observe("y", Poisson::log(a + b * xd), &[1.0, 0.0, 3.0]).unwrap();
    let t = prior_predictive(&m, N, 11).unwrap();
    let y = t.draws("y").unwrap();
    assert!(y.values().iter().all(|v| v.fract() == 0.0 && *v >= 0.0));
    for (i, xi) in x.iter().enumerate() {
        let v = 0.25 + 0.04 * xi * xi;
        let mean_lambda = (v / 2.0).exp();
        let var_y = mean_lambda + (v.exp() - 1.0) * v.exp();
        let (mean, _) = mean_var(&y.element(i).unwrap().concat());
        let se = (var_y / N as f64).sqrt();
        assert!((mean - mean_lambda).abs() < 4.0 * se, "y[{i}]: mean {mean} vs {mean_lambda} (se {se})");
    }
}

#[test]
fn flat_priors_have_no_prior_predictive() {
    let mut m = Model::new();
    let mu = m.rv("mu", Flat::new()).unwrap();
    m.observe("y", Normal::new(mu, 1), &[0.0]).unwrap();
    let err = prior_predictive(&m, 10, 1).unwrap_err().to_string();
    assert!(err.contains("mu"), "{err}");
}

/// Ordered priors (PyMC's `transform=ordered`): each row increasing, with the law of the prior
/// restricted to increasing values. Three i.i.d. N(0, 3) values sorted have E x₍₁₎ = −3·m₃
/// with m₃ = 3/(2√π) the expected largest of three standard normals. N([−1, 0, 1], 1) and a
/// matrix whose rows have means of their own are not exchangeable (drawn by rejection, row by
/// row); their restricted means come from NUTS on the same prior (through the ordered
/// transform and its Jacobian), an independent route to the same law.
#[test]
fn ordered_priors_draw_increasing_rows_from_the_restricted_law() {
    let mut m = Model::new();
    let iid = m.rv_vec("iid", Normal::new(0, 3), 3).unwrap();
    m.ordered(iid).unwrap();
    let shifted = m.rv_vec("shifted", Normal::new(vec![-1.0, 0.0, 1.0], 1), 3).unwrap();
    m.ordered(shifted).unwrap();
    let rows = m.rv_matrix("rows", Normal::new(0, 1), 2, 4).unwrap();
    m.ordered(rows).unwrap();
    // Rows with means of their own, the second against its order: each row redrawn alone.
    let means = m.data_matrix("means", 2, 3, vec![-1.0, 0.0, 1.0, 0.5, 0.0, -0.5]).unwrap();
    let uneven = m.rv_matrix("uneven", Normal::new(means, 1), 2, 3).unwrap();
    m.ordered(uneven).unwrap();
    let t = prior_predictive(&m, N, 11).unwrap();
    for (name, k) in [("iid", 3), ("shifted", 3), ("rows", 4), ("uneven", 3)] {
        let v = &t.var(name).unwrap().values;
        assert!(v.chunks(k).all(|r| r.windows(2).all(|w| w[0] < w[1])), "{name}: a row not increasing");
    }
    let n = N as f64;
    let element = |name: &str, e: usize| t.draws(name).unwrap().element(e).unwrap().concat();
    let m3 = 3.0 / (2.0 * std::f64::consts::PI.sqrt());
    for (e, want) in [(0, -3.0 * m3), (1, 0.0), (2, 3.0 * m3)] {
        let (mean, var) = mean_var(&element("iid", e));
        assert!((mean - want).abs() < 4.0 * (var / n).sqrt(), "iid[{e}]: {mean} vs {want}");
    }
    let fit = Sampler::new(&m).chains(4).warmup(1000).draws(5000).seed(12).progress(false).run().unwrap();
    let summary = fit.summary();
    let uneven = |e: usize| format!("uneven[{}, {}]", e / 3, e % 3);
    let cases = (0..3).flat_map(|e| [("iid", e), ("shifted", e)]).chain((0..6).map(|e| ("uneven", e)));
    for (name, e) in cases {
        let (mean, var) = mean_var(&element(name, e));
        let label = if name == "uneven" { uneven(e) } else { format!("{name}[{e}]") };
        let nuts = summary.get(&label).unwrap();
        let tol = 4.0 * (var / n + nuts.mcse_mean.powi(2)).sqrt();
        assert!((mean - nuts.mean).abs() < tol, "{label}: prior draws {mean} vs NUTS {}", nuts.mean);
    }
}
