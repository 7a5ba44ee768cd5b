//! Pointwise log-likelihood: at every draw, each observation's value equals its density
//! written out by hand, so their sum is the model's likelihood term; LOO and WAIC read them.

mod common;

use exmc::prelude::*;

fn ln_normal(y: f64, mu: f64, sigma: f64) -> f64 {
    let z = (y - mu) / sigma;
    -0.5 * z * z - sigma.ln() - 0.5 * (2.0 * std::f64::consts::PI).ln()
}

fn ln_poisson(y: f64, rate: f64) -> f64 {
    let ln_fact: f64 = (1..=y as u64).map(|k| (k as f64).ln()).sum();
    y * rate.ln() - rate - ln_fact
}

#[test]
fn pointwise_values_sum_to_the_likelihood_term_at_every_draw() {
    let y = [2.1, 1.8, 2.5, 2.0, 1.9];
    let counts = [1.0, 0.0, 4.0, 2.0];
    let x = [-1.0, 0.0, 1.0, 2.0];
    let mut m = Model::new();
    let mu = m.rv("mu", Normal::new(0, 5)).unwrap();
    let sigma = m.rv("sigma", HalfNormal::new(2)).unwrap();
    m.observe("y", Normal::new(mu, sigma), &y).unwrap();
    let xd = m.data("x", x.to_vec()).unwrap();
    let b = m.rv("b", Normal::new(0, 1)).unwrap();
    m.observe("counts", Poisson::log(b * xd), &counts).unwrap();
    let fit = Sampler::new(&m).chains(2).warmup(300).draws(200).seed(4).progress(false).run().unwrap();
    let ll = log_likelihood(&m, &fit).unwrap();
    assert_eq!(ll.nodes, vec![("y".to_string(), 5), ("counts".to_string(), 4)]);
    assert_eq!(ll.values.len(), 9);
    let (mus, sigmas, bs) = (fit.draws("mu").unwrap(), fit.draws("sigma").unwrap(), fit.draws("b").unwrap());
    for c in 0..2 {
        for d in 0..200 {
            let s = c * 200 + d;
            let (mu, sigma, b) =
                (mus.get(c, d, 0).unwrap(), sigmas.get(c, d, 0).unwrap(), bs.get(c, d, 0).unwrap());
            let mut by_hand = 0.0;
            let mut ours = 0.0;
            for (i, &yi) in y.iter().enumerate() {
                let want = ln_normal(yi, mu, sigma);
                assert!((ll.values[i][s] - want).abs() < 1e-12 * want.abs().max(1.0));
                by_hand += want;
                ours += ll.values[i][s];
            }
            for (k, (&ck, &xk)) in counts.iter().zip(&x).enumerate() {
                let want = ln_poisson(ck, (b * xk).exp());
                assert!(
                    (ll.values[5 + k][s] - want).abs() < 1e-10 * want.abs().max(1.0),
                    "{} vs {want}",
                    ll.values[5 + k][s]
                );
                by_hand += want;
                ours += ll.values[5 + k][s];
            }
            assert!((ours - by_hand).abs() < 1e-10 * by_hand.abs().max(1.0));
        }
    }
    let loo = ll.loo(&fit);
    let waic = ll.waic();
    assert_eq!(loo.pareto_k.len(), 9);
    // Few parameters, no outliers: LOO and WAIC agree closely and p is near the 3 parameters.
    assert!((loo.elpd - waic.elpd).abs() < 0.5, "{} vs {}", loo.elpd, waic.elpd);
    assert!(loo.p > 1.0 && loo.p < 6.0, "p_loo {}", loo.p);
}

#[test]
fn categorical_observations_count_one_by_one() {
    let mut m = Model::new();
    let p = m.rv("p", Dirichlet::new(vec![1.0, 1.0, 1.0])).unwrap();
    m.observe("c", Categorical::new(p), &[0.0, 2.0, 2.0, 1.0]).unwrap();
    let fit = Sampler::new(&m).chains(1).warmup(200).draws(50).seed(1).progress(false).run().unwrap();
    let ll = log_likelihood(&m, &fit).unwrap();
    assert_eq!(ll.values.len(), 4);
    let pd = fit.draws("p").unwrap();
    for d in 0..50 {
        for (i, cat) in [0, 2, 2, 1].into_iter().enumerate() {
            let want = pd.get(0, d, cat).unwrap().ln();
            assert!((ll.values[i][d] - want).abs() < 1e-9, "{} vs {want}", ll.values[i][d]);
        }
    }
}

/// Data probabilities with a zero category (unnormalised, as PyMC allows): each observation of
/// another category counts ln(2 / 4) in the pointwise log-likelihood.
#[test]
fn categorical_with_a_zero_probability_category() {
    let mut m = Model::new();
    m.rv("mu", Normal::new(0, 1)).unwrap();
    m.observe("c", Categorical::new(vec![2.0, 0.0, 2.0]), &[0.0, 2.0, 2.0]).unwrap();
    let fit = Sampler::new(&m).chains(1).warmup(50).draws(20).seed(1).progress(false).run().unwrap();
    let ll = log_likelihood(&m, &fit).unwrap();
    assert_eq!(ll.values.len(), 3);
    for v in ll.values.iter().flatten() {
        assert!((v - 0.5f64.ln()).abs() < 1e-12, "{v}");
    }
}

/// A softmax regression (a row of logits per observation): each observation's value is its
/// row's log-softmax at its category, written out by hand from the draws, on the host and in
/// the compiled program, and the values sum to the likelihood term.
#[test]
fn softmax_regression_rows_by_hand() {
    let (n, c, k) = (5, 2, 3);
    let xs = [0.3, -1.2, 1.1, 0.4, -0.7, 0.9, 0.0, 1.5, 2.1, -0.3];
    let y = [0.0, 2.0, 1.0, 2.0, 0.0];
    let mut m = Model::new();
    let x = m.data_matrix("x", n, c, xs.to_vec()).unwrap();
    let alpha = m.rv_vec("alpha", Normal::new(0, 2), k).unwrap();
    let beta = m.rv_vec("beta", Normal::new(0, 1), c * k).unwrap();
    m.observe("y", Categorical::logit(alpha + x.matmul(beta, k)), &y).unwrap();
    let fit = Sampler::new(&m).chains(2).warmup(200).draws(50).seed(3).progress(false).run().unwrap();
    let host = log_likelihood(&m, &fit).unwrap();
    let compiled = compute_log_likelihood(&m, &fit, BackendChoice::Cpu).unwrap();
    let term = exmc::sampler::likelihood_term(&m, &fit, BackendChoice::Cpu).unwrap();
    assert_eq!(host.nodes, vec![("y".to_string(), n)]);
    let (a, b) = (fit.draws("alpha").unwrap(), fit.draws("beta").unwrap());
    for (s, (ch, d)) in (0..2).flat_map(|ch| (0..50).map(move |d| (ch, d))).enumerate() {
        let mut sum = 0.0;
        for i in 0..n {
            let eta: Vec<f64> = (0..k)
                .map(|j| {
                    a.get(ch, d, j).unwrap()
                        + (0..c).map(|q| xs[i * c + q] * b.get(ch, d, q * k + j).unwrap()).sum::<f64>()
                })
                .collect();
            let lse = eta.iter().map(|e| e.exp()).sum::<f64>().ln();
            let by_hand = eta[y[i] as usize] - lse;
            for (what, ll) in [("host", &host), ("compiled", &compiled)] {
                let v = ll.values[i][s];
                assert!((v - by_hand).abs() < 1e-10, "{what} draw {s} obs {i}: {v} vs {by_hand}");
            }
            sum += by_hand;
        }
        assert!((term[s] - sum).abs() < 1e-9, "draw {s}: term {} vs {sum}", term[s]);
    }
    // New covariates (PyMC's `set_data`): the posterior predictive has a draw per new row; the
    // log-likelihood needs observations of as many rows.
    m.set_data("x", vec![0.5, 0.5, -1.0, 2.0]).unwrap();
    let pp = posterior_predictive(&m, &fit, 9).unwrap();
    let y_new = pp.draws("y").unwrap();
    assert_eq!((y_new.shape(), y_new.values().len()), (vec![2, 50, 2], 2 * 50 * 2));
    assert!(y_new.values().iter().all(|&v| [0.0, 1.0, 2.0].contains(&v)));
    match log_likelihood(&m, &fit) {
        Err(Error::ShapeMismatch { node, detail }) => {
            assert!(node == "y" && detail.contains("5 observations for a parameter of 2 rows"), "{detail}")
        }
        other => panic!("expected ShapeMismatch, got {:?}", other.map(|l| l.nodes)),
    }
    // An elementwise family whose covariate was shortened: an error, not a panic.
    let mut m = Model::new();
    let x = m.data("x", vec![0.1, 0.5, 0.9]).unwrap();
    let b = m.rv("b", Normal::new(0, 1)).unwrap();
    m.observe("z", Normal::new(b * x, 1), &[0.2, 0.4, 1.1]).unwrap();
    let fit = Sampler::new(&m).chains(1).warmup(100).draws(20).seed(2).progress(false).run().unwrap();
    m.set_data("x", vec![0.3, 0.7]).unwrap();
    match log_likelihood(&m, &fit) {
        Err(Error::ShapeMismatch { node, detail }) => {
            assert!(node == "z" && detail.contains("2 values for 3"), "{detail}")
        }
        other => panic!("expected ShapeMismatch, got {:?}", other.map(|l| l.nodes)),
    }
    assert_eq!(posterior_predictive(&m, &fit, 1).unwrap().draws("z").unwrap().shape(), vec![1, 20, 2]);
    // Shortened to one value: still an error.
    m.set_data("x", vec![0.3]).unwrap();
    assert!(matches!(log_likelihood(&m, &fit), Err(Error::ShapeMismatch { .. })));
}

/// Kolmogorov–Smirnov distance of values from the uniform distribution on [0, 1].
fn ks_uniform(v: &[f64]) -> f64 {
    let mut s = v.to_vec();
    s.sort_by(f64::total_cmp);
    let n = s.len() as f64;
    s.iter()
        .enumerate()
        .map(|(i, &x)| (x - i as f64 / n).abs().max(((i + 1) as f64 / n - x).abs()))
        .fold(0.0, f64::max)
}

/// Fit-level LOO-PIT (issue 11, item 5): for data drawn from the model's own family the values
/// are uniform (KS distance below the 1% critical value 1.63/√n for n = 200); with the noise
/// scale fixed four times too small they pile up at 0 and 1 (KS distance far above it); and
/// they equal `diagnostics::loo_pit` on the arrays assembled by hand.
#[test]
fn loo_pit_of_a_fit_is_uniform_when_calibrated() {
    use rand::SeedableRng;
    use rand_distr::{Distribution, Normal as N};
    let mut rng = rand::rngs::StdRng::seed_from_u64(17);
    let y: Vec<f64> = (0..200).map(|_| N::new(1.0, 2.0).unwrap().sample(&mut rng)).collect();
    let critical = 1.63 / (200f64).sqrt();
    for (sigma_fixed, calibrated) in [(None, true), (Some(0.5), false)] {
        let mut m = Model::new();
        let mu = m.rv("mu", Normal::new(0, 10)).unwrap();
        match sigma_fixed {
            None => {
                let sigma = m.rv("sigma", HalfNormal::new(5)).unwrap();
                m.observe("y", Normal::new(mu, sigma), &y).unwrap();
            }
            Some(s) => {
                m.observe("y", Normal::new(mu, s), &y).unwrap();
            }
        }
        let fit = Sampler::new(&m).chains(2).warmup(300).draws(500).seed(4).progress(false).run().unwrap();
        let ppc = posterior_predictive(&m, &fit, 5).unwrap();
        let ll = log_likelihood(&m, &fit).unwrap();
        let pit = ll.loo_pit(&m, &fit, &ppc, "y").unwrap();
        let rep = ppc.draws("y").unwrap();
        let y_rep: Vec<Vec<f64>> = (0..200).map(|i| rep.element(i).unwrap().concat()).collect();
        assert_eq!(
            pit,
            exmc::diagnostics::loo_pit(&y, &y_rep, &ll.values, exmc::sampler::relative_eff(&fit))
        );
        let d = ks_uniform(&pit);
        println!("KS {d:.4} (critical {critical:.4}) calibrated {calibrated}");
        if calibrated {
            assert!(d < critical, "KS {d} ≥ {critical}");
        } else {
            assert!(d > 2.0 * critical, "KS {d}: too-narrow predictions should not look uniform");
        }
    }
    // Names that do not fit are errors, not panics.
    let mut m = Model::new();
    let mu = m.rv("mu", Normal::new(0, 1)).unwrap();
    m.observe("y", Normal::new(mu, 1), &[0.1, 0.2]).unwrap();
    let fit = Sampler::new(&m).chains(1).warmup(50).draws(20).progress(false).run().unwrap();
    let ll = log_likelihood(&m, &fit).unwrap();
    let ppc = posterior_predictive(&m, &fit, 1).unwrap();
    assert!(ll.loo_pit(&m, &fit, &ppc, "mu").is_err());
    assert!(ll.loo_pit(&m, &fit, &fit.trace, "y").is_err());
}

/// Item 4: the compiler's pointwise program, evaluated in batch on each backend, gives every
/// observation's log-likelihood (the host walk's values in f64 on the CPU, to f32 rounding on
/// a GPU without f64), and at every draw the values sum to the likelihood term computed by a
/// second program that evaluates each node's density over its whole data at once.
#[test]
fn compiled_pointwise_log_likelihood_on_both_backends() {
    let mut m = Model::new();
    let g = m.int_data("g", &[0, 1, 2, 1, 0, 2]).unwrap();
    let a = m.rv_vec("a", Normal::new(0, 1), 3).unwrap();
    let sigma = m.rv("sigma", HalfNormal::new(1)).unwrap();
    m.observe("y", Normal::new(a.at(g), sigma), &[0.1, 0.9, -0.4, 1.2, 0.3, -0.8]).unwrap();
    m.observe("k", Poisson::new((a.at(g) * 0.5).exp()), &[0.0, 2.0, 1.0, 3.0, 1.0, 0.0]).unwrap();
    let p = m.rv("p", Dirichlet::new(vec![1.0, 1.0, 1.0])).unwrap();
    m.observe("c", Categorical::new(p), &[0.0, 2.0, 2.0, 1.0]).unwrap();
    let fit = Sampler::new(&m).chains(2).warmup(200).draws(100).seed(9).progress(false).run().unwrap();
    let host = log_likelihood(&m, &fit).unwrap();
    assert_eq!(host.values.len(), 16);
    for backend in common::backends("compiled_pointwise_log_likelihood") {
        let ll = exmc::sampler::compute_log_likelihood(&m, &fit, backend).unwrap();
        let total = exmc::sampler::likelihood_term(&m, &fit, backend).unwrap();
        assert_eq!((ll.chains, ll.draws, &ll.nodes), (host.chains, host.draws, &host.nodes));
        assert_eq!((ll.values.len(), ll.values[0].len(), total.len()), (16, 200, 200));
        let tol = if backend == BackendChoice::Cpu { 1e-12 } else { 2e-5 };
        for (ours, theirs) in ll.values.iter().zip(&host.values) {
            for (a, b) in ours.iter().zip(theirs) {
                assert!((a - b).abs() <= tol * b.abs().max(1.0), "{backend:?}: {a} vs host {b}");
            }
        }
        for (s, &want) in total.iter().enumerate() {
            let sum: f64 = ll.values.iter().map(|o| o[s]).sum();
            let scale: f64 = ll.values.iter().map(|o| o[s].abs()).sum::<f64>().max(1.0);
            assert!(
                (sum - want).abs() <= 4.0 * tol * scale,
                "{backend:?}, draw {s}: Σ {sum} vs likelihood {want}"
            );
        }
    }
}

/// A vector family's node of several draws (a matrix's rows) counts each draw as one
/// observation, with its own part of the parameters the draws split: an MvNormal's rows with
/// a mean per row, a multinomial's rows with `n` per draw and a row of probabilities each (the
/// one `n` repeated), a Dirichlet-multinomial's. Each value is its row's density written out
/// by hand, on the host and in the compiled program on every backend; the values sum to the
/// likelihood term; LOO has a Pareto k per row.
#[test]
fn a_vector_familys_draws_count_one_by_one() {
    let mut m = Model::new();
    let mu = m.rv_matrix("mu", Normal::new(0, 1), 3, 2).unwrap();
    let chol = [1.2, 0.0, 0.5, 0.7];
    let y = [0.1, 0.4, -0.3, 0.2, 1.1, 0.9];
    m.observe_matrix("y", MvNormal::new(mu, chol.to_vec()), 3, 2, &y).unwrap();
    let w = m.rv_matrix("w", Gamma::new(2, 1), 2, 3).unwrap();
    let counts = [2.0, 5.0, 3.0, 0.0, 6.0, 4.0];
    m.observe_matrix("c", Multinomial::new(10.0, w), 2, 3, &counts).unwrap();
    let a = m.rv("a", Gamma::new(2, 1)).unwrap();
    m.observe("d", DirichletMultinomial::new(vec![4.0, 6.0], a * vec![1.0, 2.0]), &[1.0, 3.0, 5.0, 1.0])
        .unwrap();
    let fit = Sampler::new(&m).chains(2).warmup(200).draws(50).seed(4).progress(false).run().unwrap();
    let host = log_likelihood(&m, &fit).unwrap();
    let names: Vec<(String, usize)> = vec![("y".into(), 3), ("c".into(), 2), ("d".into(), 2)];
    assert_eq!(host.nodes, names);
    let (mu_d, w_d, a_d) = (fit.draws("mu").unwrap(), fit.draws("w").unwrap(), fit.draws("a").unwrap());
    let ln_fact = |v: f64| libm::lgamma(v + 1.0);
    let mut backends = vec![("host", host)];
    for b in common::backends("vector draws one by one") {
        backends.push(("compiled", exmc::sampler::compute_log_likelihood(&m, &fit, b).unwrap()));
    }
    let term = exmc::sampler::likelihood_term(&m, &fit, BackendChoice::Cpu).unwrap();
    for (s, (ch, d)) in (0..2).flat_map(|ch| (0..50).map(move |d| (ch, d))).enumerate() {
        let mut want = Vec::new();
        // MvNormal with L = [[1.2, 0], [0.5, 0.7]]: z₀ = r₀/1.2, z₁ = (r₁ − 0.5 z₀)/0.7.
        for r in 0..3 {
            let z0 = (y[2 * r] - mu_d.get(ch, d, 2 * r).unwrap()) / 1.2;
            let z1 = (y[2 * r + 1] - mu_d.get(ch, d, 2 * r + 1).unwrap() - 0.5 * z0) / 0.7;
            want.push(-(2.0 * std::f64::consts::PI).ln() - (1.2f64 * 0.7).ln() - 0.5 * (z0 * z0 + z1 * z1));
        }
        for r in 0..2 {
            let row: Vec<f64> = (0..3).map(|k| w_d.get(ch, d, 3 * r + k).unwrap()).collect();
            let total: f64 = row.iter().sum();
            let x = &counts[3 * r..3 * r + 3];
            want.push(
                ln_fact(10.0)
                    + x.iter().zip(&row).map(|(&c, &p)| c * (p / total).ln() - ln_fact(c)).sum::<f64>(),
            );
        }
        let av = a_d.get(ch, d, 0).unwrap();
        for (n, x) in [(4.0, [1.0, 3.0]), (6.0, [5.0, 1.0])] {
            let al = [av, 2.0 * av];
            let big = 3.0 * av;
            let lg = libm::lgamma;
            want.push(
                ln_fact(n) + lg(big) - lg(n + big)
                    + (0..2).map(|k| lg(x[k] + al[k]) - lg(al[k]) - ln_fact(x[k])).sum::<f64>(),
            );
        }
        for (label, ll) in &backends {
            for (k, w) in want.iter().enumerate() {
                let v = ll.values[k][s];
                let tol = if *label == "host" { 1e-10 } else { 2e-5 };
                assert!((v - w).abs() <= tol * w.abs().max(1.0), "{label} draw {s} obs {k}: {v} vs {w}");
            }
        }
        let sum: f64 = want.iter().sum();
        assert!((term[s] - sum).abs() < 1e-9, "draw {s}: term {} vs {sum}", term[s]);
    }
    assert_eq!(backends[0].1.loo(&fit).pareto_k.len(), 7);
}
