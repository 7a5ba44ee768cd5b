//! Power-scaling sensitivity: the estimator against ArviZ's `psens` (to rounding), the log prior
//! against scipy, and the sensitivities of a conjugate normal model against the distances
//! between its exact power-scaled posteriors, computed by quadrature.

mod common;

use exmc::diagnostics::{Diagnosis, PowerScaled, Sensitivity, cjs_dist, norm_ppf};
use exmc::prelude::*;
use exmc::sampler::{Trace, TraceVar};
use serde_json::Value;

fn oracle() -> Value {
    let text = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/psens_oracle.json"))
        .expect("tests/data/psens_oracle.json (scripts/make_psens_oracle.py)");
    serde_json::from_str(&text).unwrap()
}

fn floats(v: &Value) -> Vec<f64> {
    v.as_array().unwrap().iter().map(|x| x.as_f64().unwrap()).collect()
}

fn close(got: f64, want: f64, tol: f64) -> bool {
    (got - want).abs() <= tol * want.abs().max(1.0)
}

/// ArviZ 0.23.4's `psens` on stored draws and components: the prior and the likelihood, all of
/// their variables or some, at δ 0.01 and 0.05, and a likelihood whose weights have a heavy
/// tail (k̂ 1.8); and `psislw`'s k̂ at both powers.
#[test]
fn matches_arviz_psens() {
    let o = oracle();
    let n = (o["chains"].as_u64().unwrap() * o["draws"].as_u64().unwrap()) as usize;
    let quantities: Vec<(String, Vec<f64>)> =
        o["posterior"].as_object().unwrap().iter().map(|(k, v)| (k.clone(), floats(v))).collect();
    let cases = o["cases"].as_array().unwrap();
    assert_eq!(cases.len(), 5);
    for case in cases {
        let component = case["component"].as_str().unwrap();
        let group = if component == "prior" { &o["log_prior_terms"] } else { &o["log_likelihood_terms"] };
        let names: Option<Vec<&str>> =
            case["names"].as_array().map(|a| a.iter().map(|x| x.as_str().unwrap()).collect());
        let scale = case["scale"].as_f64().unwrap();
        let mut summed = vec![0.0; n];
        for (name, terms) in group.as_object().unwrap() {
            if names.as_ref().is_none_or(|c| c.contains(&name.as_str())) {
                for term in terms.as_array().unwrap() {
                    summed.iter_mut().zip(floats(term)).for_each(|(s, v)| *s += v * scale);
                }
            }
        }
        let delta = case["delta"].as_f64().unwrap();
        let scaled = PowerScaled::new(&summed, delta);
        let k = floats(&case["pareto_k"]);
        for (got, want) in scaled.pareto_k.iter().zip(&k) {
            assert!(close(*got, *want, 1e-9), "{case}: k̂ {got} vs ArviZ {want}");
        }
        for (name, draws) in &quantities {
            let want = case["sensitivity"][name].as_f64().unwrap();
            let got = scaled.sensitivity(draws);
            assert!(
                close(got, want, 1e-9),
                "{component} {names:?} δ {delta} ×{scale} {name}: {got} vs ArviZ {want}"
            );
        }
        // The table warns where the scaled component's weights are heavy-tailed (k̂ 1.8 in the
        // ×40 case, under 0.2 elsewhere), and not for a component that does not vary.
        let flat = vec![-1.5; n];
        let (prior, lik) = if component == "prior" { (&summed, &flat) } else { (&flat, &summed) };
        let table = Sensitivity::new(&quantities, prior, lik, delta, 0.05);
        let warned = table.warnings.iter().any(|w| w.contains(&format!("power-scaling the {component}")));
        assert_eq!(warned, scale > 1.0, "{component} ×{scale}: {:?}", table.warnings);
        assert_eq!(table.warnings.len(), usize::from(warned), "{:?}", table.warnings);
    }
}

/// `compute_log_prior` at given draws: each free node's density as written, at its
/// constrained value, term by term (a scalar family's elements, a Dirichlet's simplex), with no
/// Jacobian — a hierarchical normal given by its own values although sampling non-centres it.
#[test]
fn log_prior_matches_scipy() {
    let o = oracle();
    let mut m = Model::new();
    let mu = m.rv("mu", Normal::new(1.0, 2.0)).unwrap();
    let tau = m.rv("tau", HalfCauchy::new(1.5)).unwrap();
    let theta = m.rv_vec("theta", Normal::new(mu, tau), 3).unwrap();
    let sigma = m.rv("sigma", Gamma::new(2.0, 3.0)).unwrap();
    m.rv("p", Dirichlet::new(vec![1.0, 2.0, 3.0])).unwrap();
    let nu = m.rv("nu", Gamma::new(2.0, 0.1)).unwrap();
    m.observe("y", StudentT::new(nu, theta, sigma), &[0.2, -0.4, 1.5]).unwrap();
    let draws = o["free_draws"].as_array().unwrap();
    let names = ["mu", "tau", "theta", "sigma", "p", "nu"];
    let vars: Vec<TraceVar> = names
        .iter()
        .map(|name| {
            let values: Vec<f64> =
                draws.iter().flat_map(|d| floats(&d[*name].clone().into_array())).collect();
            let size = values.len() / draws.len();
            TraceVar {
                name: name.to_string(),
                shape: if size > 1 { vec![size] } else { vec![] },
                values,
                labels: None,
            }
        })
        .collect();
    let trace =
        Trace { chains: 1, draws: draws.len(), vars, stats: vec![vec![]], warmup_stats: vec![vec![]] };
    let fit = Fit::from_trace(trace);
    let lp = compute_log_prior(&m, &fit, BackendChoice::Cpu).unwrap();
    let counts: Vec<(String, usize)> =
        [("mu", 1), ("tau", 1), ("theta", 3), ("sigma", 1), ("p", 1), ("nu", 1)]
            .iter()
            .map(|(n, c)| (n.to_string(), *c))
            .collect();
    assert_eq!(lp.nodes, counts);
    let mut term = 0;
    for name in names {
        for k in 0..counts.iter().find(|c| c.0 == name).unwrap().1 {
            for (s, want) in o["log_prior"].as_array().unwrap().iter().enumerate() {
                let want = want[name][k].as_f64().unwrap();
                let got = lp.values[term][s];
                assert!(close(got, want, 1e-12), "{name}[{k}] at draw {s}: {got} vs scipy {want}");
            }
            term += 1;
        }
    }
    // The GPU backend gives the same terms (lavapipe in CI): in f64 where the adapter has it
    // (lavapipe does), to rounding; in f32 otherwise.
    if let Some(adapter) = common::gpu("log_prior_matches_scipy") {
        let tol = if adapter.has_f64() { 1e-12 } else { 1e-4 };
        let gpu = compute_log_prior(&m, &fit, BackendChoice::Gpu).unwrap();
        assert_eq!(gpu.nodes, lp.nodes);
        for (g, c) in gpu.values.iter().flatten().zip(lp.values.iter().flatten()) {
            assert!((g - c).abs() <= tol * c.abs().max(1.0), "GPU {g} vs CPU {c}");
        }
    }
    // A trace that lacks a free node is refused by name.
    let mut short = fit.trace.clone();
    short.vars.retain(|v| v.name != "p");
    let err = compute_log_prior(&m, &Fit::from_trace(short), BackendChoice::Cpu).unwrap_err();
    assert!(err.to_string().contains("`p`"), "{err}");
}

trait IntoArray {
    fn into_array(self) -> Value;
}

impl IntoArray for Value {
    /// A number as a one-element array.
    fn into_array(self) -> Value {
        if self.is_array() { self } else { Value::Array(vec![self]) }
    }
}

fn phi(x: f64) -> f64 {
    0.5 * libm::erfc(-x / std::f64::consts::SQRT_2)
}

/// The cumulative Jensen–Shannon distance of ArviZ's `_cjs_dist` between two CDFs `p` (the
/// base) and `q` over `[lo, hi]`, as integrals (Simpson's rule).
fn cjs_quadrature(p: &dyn Fn(f64) -> f64, q: &dyn Fn(f64) -> f64, lo: f64, hi: f64) -> f64 {
    let n = 20_000;
    let h = (hi - lo) / n as f64;
    let log2 = |x: f64| if x > 0.0 { x.log2() } else { 0.0 };
    let (mut ip, mut iq, mut pq, mut qp) = (0.0, 0.0, 0.0, 0.0);
    for i in 0..=n {
        let x = lo + i as f64 * h;
        let w = if i == 0 || i == n {
            1.0
        } else if i % 2 == 1 {
            4.0
        } else {
            2.0
        } * h
            / 3.0;
        let (a, b) = (p(x), q(x));
        let mid = log2(0.5 * (a + b));
        ip += w * a;
        iq += w * b;
        pq += w * a * (log2(a) - mid);
        qp += w * b * (log2(b) - mid);
    }
    let half = 0.5 / std::f64::consts::LN_2;
    (((pq + half * (iq - ip)).max(0.0) + (qp + half * (ip - iq)).max(0.0)) / (ip + iq)).sqrt()
}

/// The conjugate normal model `mu ~ N(m0, s0²)`, `y_i ~ N(mu, 1)`: power-scaling the prior by
/// `α` gives prior precision `α/s0²`, the likelihood `α n`.
struct Conjugate {
    m0: f64,
    s0: f64,
    y: Vec<f64>,
}

impl Conjugate {
    /// The posterior's mean and sd with the prior's precision times `a` and the likelihood's
    /// times `b`.
    fn posterior(&self, a: f64, b: f64) -> (f64, f64) {
        let n = self.y.len() as f64;
        let ybar = self.y.iter().sum::<f64>() / n;
        let prec = a / (self.s0 * self.s0) + b * n;
        ((a * self.m0 / (self.s0 * self.s0) + b * n * ybar) / prec, prec.powf(-0.5))
    }

    /// The exact sensitivity over the draws' range `[lo, hi]`, as ArviZ's estimator defines it:
    /// at both powers, the larger distance of `mu` and `−mu`.
    fn sensitivity(&self, prior: bool, delta: f64, lo: f64, hi: f64) -> f64 {
        let (m, s) = self.posterior(1.0, 1.0);
        let mut total = 0.0;
        for alpha in [1.0 / (1.0 + delta), 1.0 + delta] {
            let (ma, sa) = if prior { self.posterior(alpha, 1.0) } else { self.posterior(1.0, alpha) };
            let p = |x: f64| phi((x - m) / s);
            let q = |x: f64| phi((x - ma) / sa);
            let p_neg = |x: f64| 1.0 - phi((-x - m) / s);
            let q_neg = |x: f64| 1.0 - phi((-x - ma) / sa);
            total += cjs_quadrature(&p, &q, lo, hi).max(cjs_quadrature(&p_neg, &q_neg, -hi, -lo));
        }
        total / (2.0 * (1.0 + delta).log2())
    }

    fn log_prior(&self, mu: f64) -> f64 {
        -0.5 * ((mu - self.m0) / self.s0).powi(2)
    }

    fn log_likelihood(&self, mu: f64) -> f64 {
        self.y.iter().map(|y| -0.5 * (y - mu) * (y - mu)).sum()
    }
}

fn conjugate() -> Conjugate {
    Conjugate { m0: 0.0, s0: 0.25, y: vec![0.9, 0.2, 1.6, 0.4, 1.1, 0.5] }
}

/// The estimator on 4,000 exact quantiles of the posterior against the distances between the
/// exact power-scaled posteriors: within 1% (the empirical CDF's steps and PSIS's smoothing).
#[test]
fn estimator_matches_exact_power_scaled_posteriors() {
    let c = conjugate();
    let (m, s) = c.posterior(1.0, 1.0);
    let n = 4000;
    let x: Vec<f64> = (1..=n).map(|i| m + s * norm_ppf(i as f64 / (n + 1) as f64)).collect();
    let prior: Vec<f64> = x.iter().map(|&v| c.log_prior(v)).collect();
    let lik: Vec<f64> = x.iter().map(|&v| c.log_likelihood(v)).collect();
    let (lo, hi) = (x[0], x[n - 1]);
    for delta in [0.01, 0.1] {
        let got = Sensitivity::new(&[("mu".into(), x.clone())], &prior, &lik, delta, 0.05);
        let (want_p, want_l) = (c.sensitivity(true, delta, lo, hi), c.sensitivity(false, delta, lo, hi));
        let row = &got.rows[0];
        eprintln!("δ {delta}: prior {} vs {want_p}, likelihood {} vs {want_l}", row.prior, row.likelihood);
        assert!((row.prior / want_p - 1.0).abs() < 0.01, "δ {delta}: prior {} vs exact {want_p}", row.prior);
        assert!(
            (row.likelihood / want_l - 1.0).abs() < 0.01,
            "δ {delta}: likelihood {} vs exact {want_l}",
            row.likelihood
        );
        assert_eq!(row.diagnosis, Diagnosis::PriorDataConflict);
        assert!(got.warnings.iter().all(|w| !w.contains("unreliable")), "{:?}", got.warnings);
    }
    // Equal weights are no distance at all (to the rounding of their running sum).
    assert!(cjs_dist(&x, &vec![0.25; n]) < 1e-6);
}

/// `power_scaling_sensitivity` from NUTS draws of the conjugate model (8 seeds, 4 × 1,000)
/// against the exact sensitivities over each fit's range: their mean within 4 standard errors
/// of the seeds' spread plus 2% (the estimator's own bias on 4,000 exact quantiles is under
/// 1%).
#[test]
fn fit_sensitivities_match_exact_ones() {
    let c = conjugate();
    let mut m = Model::new();
    let mu = m.rv("mu", Normal::new(c.m0, c.s0)).unwrap();
    m.observe("y", Normal::new(mu, 1.0), &c.y).unwrap();
    let mut ratios = [Vec::new(), Vec::new()];
    for seed in 0..8 {
        let fit =
            Sampler::new(&m).chains(4).warmup(500).draws(1000).seed(seed).progress(false).run().unwrap();
        let s = power_scaling_sensitivity(&m, &fit, &SensitivityOptions::default()).unwrap();
        let x = &fit.trace.var("mu").unwrap().values;
        let lo = x.iter().copied().fold(f64::INFINITY, f64::min);
        let hi = x.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        assert_eq!(s.rows.len(), 1);
        ratios[0].push(s.rows[0].prior / c.sensitivity(true, 0.01, lo, hi));
        ratios[1].push(s.rows[0].likelihood / c.sensitivity(false, 0.01, lo, hi));
        assert_eq!(s.rows[0].diagnosis, Diagnosis::PriorDataConflict, "seed {seed}: {s}");
    }
    for (what, r) in ["prior", "likelihood"].iter().zip(&ratios) {
        let mean = r.iter().sum::<f64>() / r.len() as f64;
        let sd = (r.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (r.len() - 1) as f64).sqrt();
        let se = sd / (r.len() as f64).sqrt();
        eprintln!("{what}: estimate / exact {mean:.4} ± {se:.4}");
        assert!((mean - 1.0).abs() < 4.0 * se + 0.02, "{what}: estimate / exact {mean} ± {se} ({r:?})");
    }
}

/// Options and models the analysis refuses, each naming what is wrong.
#[test]
fn refuses_bad_options() {
    let mut m = Model::new();
    let mu = m.rv("mu", Normal::new(0.0, 1.0)).unwrap();
    m.observe("y", Normal::new(mu, 1.0), &[0.3, -0.2]).unwrap();
    let fit = Sampler::new(&m).chains(2).warmup(100).draws(50).seed(1).progress(false).run().unwrap();
    let bad = |o: SensitivityOptions, want: &str| {
        let e = power_scaling_sensitivity(&m, &fit, &o).unwrap_err().to_string();
        assert!(e.contains(want), "{e} lacks {want}");
    };
    let d = SensitivityOptions::default;
    bad(SensitivityOptions { delta: 0.0, ..d() }, "delta");
    bad(SensitivityOptions { delta: f64::NAN, ..d() }, "delta");
    bad(SensitivityOptions { delta: 1e-7, ..d() }, "must be in [0.0001, 1]");
    bad(SensitivityOptions { delta: 2.0, ..d() }, "delta");
    bad(SensitivityOptions { threshold: -1.0, ..d() }, "threshold");
    bad(
        SensitivityOptions { prior: Some(vec!["y".into()]), ..d() },
        "`y` is not one of the model's free nodes (mu)",
    );
    bad(
        SensitivityOptions { likelihood: Some(vec!["mu".into()]), ..d() },
        "`mu` is not one of the model's observed nodes (y)",
    );
    bad(SensitivityOptions { prior: Some(vec![]), ..d() }, "names no node");
    let mut prior_only = Model::new();
    prior_only.rv("mu", Normal::new(0.0, 1.0)).unwrap();
    let fit =
        Sampler::new(&prior_only).chains(2).warmup(100).draws(50).seed(1).progress(false).run().unwrap();
    let e = power_scaling_sensitivity(&prior_only, &fit, &d()).unwrap_err().to_string();
    assert!(e.contains("no observed node"), "{e}");
}

fn normal_lpdf(x: f64, m: f64, s: f64) -> f64 {
    -0.5 * (2.0 * std::f64::consts::PI).ln() - s.ln() - 0.5 * ((x - m) / s).powi(2)
}

fn half_cauchy_lpdf(x: f64, s: f64) -> f64 {
    (2.0 / (std::f64::consts::PI * s)).ln() - (1.0 + (x / s).powi(2)).ln()
}

/// A model whose nodes refer to nodes written after them (a JSON model may be so ordered; the
/// compiler runs them in topological order): the log prior's and the compiled
/// log-likelihood's terms keep the model's order and each node's own values (closed forms at
/// every draw), the compiled log-likelihood equals the host's, and power-scaling one prior
/// (`tau`) reads that node's terms alone.
#[test]
fn terms_follow_the_models_order_and_subsets_pick_nodes() {
    let normal = |mu: &str, sigma: &str| format!(r#"{{"kind":"normal","params":[[{mu}],[{sigma}]]}}"#);
    let var = |i: usize| format!(r#"{{"var":{{"index":{i}}}}}"#);
    let c = |x: f64| format!(r#"{{"const":{x:?}}}"#);
    let json = format!(
        r#"{{"nodes":[
        {{"name":"y2","shape":{{"vector":2}},"kind":{{"observed":{{"dist":{},"data":[0.4,-0.3]}}}}}},
        {{"name":"theta","shape":{{"vector":2}},"kind":{{"free":{{"dist":{},"transform":null,"reparam":true}}}}}},
        {{"name":"y1","shape":{{"vector":2}},"kind":{{"observed":{{"dist":{},"data":[0.5,1.5]}}}}}},
        {{"name":"mu","shape":"scalar","kind":{{"free":{{"dist":{},"transform":null,"reparam":true}}}}}},
        {{"name":"tau","shape":"scalar","kind":{{"free":{{"dist":{{"kind":"half_cauchy","params":[[{}]]}},"transform":null,"reparam":true}}}}}}
        ]}}"#,
        normal(&var(3), &c(1.0)),
        normal(&var(3), &var(4)),
        normal(&var(1), &c(1.0)),
        normal(&c(0.0), &c(5.0)),
        c(5.0)
    );
    let m = Model::from_json(&json).unwrap();
    let fit = Sampler::new(&m).chains(2).warmup(300).draws(200).seed(5).progress(false).run().unwrap();
    let lp = compute_log_prior(&m, &fit, BackendChoice::Cpu).unwrap();
    let named = |v: &[(&str, usize)]| v.iter().map(|(n, c)| (n.to_string(), *c)).collect::<Vec<_>>();
    assert_eq!(lp.nodes, named(&[("theta", 2), ("mu", 1), ("tau", 1)]));
    let ll = compute_log_likelihood(&m, &fit, BackendChoice::Cpu).unwrap();
    assert_eq!(ll.nodes, named(&[("y2", 2), ("y1", 2)]));
    let host = log_likelihood(&m, &fit).unwrap();
    assert_eq!(host.nodes, ll.nodes);
    let value = |name: &str| fit.trace.var(name).unwrap().values.clone();
    let (mu, tau, theta) = (value("mu"), value("tau"), value("theta"));
    for s in 0..400 {
        let prior = [
            normal_lpdf(theta[2 * s], mu[s], tau[s]),
            normal_lpdf(theta[2 * s + 1], mu[s], tau[s]),
            normal_lpdf(mu[s], 0.0, 5.0),
            half_cauchy_lpdf(tau[s], 5.0),
        ];
        let lik = [
            normal_lpdf(0.4, mu[s], 1.0),
            normal_lpdf(-0.3, mu[s], 1.0),
            normal_lpdf(0.5, theta[2 * s], 1.0),
            normal_lpdf(1.5, theta[2 * s + 1], 1.0),
        ];
        for (k, want) in prior.iter().enumerate() {
            assert!(
                close(lp.values[k][s], *want, 1e-12),
                "prior term {k} at draw {s}: {} vs {want}",
                lp.values[k][s]
            );
        }
        for (k, want) in lik.iter().enumerate() {
            assert!(close(ll.values[k][s], *want, 1e-12), "likelihood term {k} at draw {s}");
            assert!(close(host.values[k][s], *want, 1e-12), "host likelihood term {k} at draw {s}");
        }
    }
    // Scaling tau's prior and y1's likelihood alone: the closed forms of those nodes.
    let options = SensitivityOptions {
        prior: Some(vec!["tau".into()]),
        likelihood: Some(vec!["y1".into()]),
        ..SensitivityOptions::default()
    };
    let got = power_scaling_sensitivity(&m, &fit, &options).unwrap();
    let tau_prior: Vec<f64> = tau.iter().map(|t| half_cauchy_lpdf(*t, 5.0)).collect();
    let y1: Vec<f64> = (0..400)
        .map(|s| normal_lpdf(0.5, theta[2 * s], 1.0) + normal_lpdf(1.5, theta[2 * s + 1], 1.0))
        .collect();
    let quantities: Vec<(String, Vec<f64>)> =
        fit.trace.scalars().into_iter().map(|(n, chains)| (n, chains.concat())).collect();
    let want = Sensitivity::new(&quantities, &tau_prior, &y1, 0.01, 0.05);
    assert_eq!(got.rows.len(), want.rows.len());
    for (g, w) in got.rows.iter().zip(&want.rows) {
        assert_eq!(g.name, w.name);
        assert!(close(g.prior, w.prior, 1e-9) && close(g.likelihood, w.likelihood, 1e-9), "{g:?} vs {w:?}");
    }
    // Scaling every prior and likelihood reads other sensitivities.
    let all = power_scaling_sensitivity(&m, &fit, &SensitivityOptions::default()).unwrap();
    assert!(all.rows.iter().zip(&got.rows).any(|(a, g)| (a.prior - g.prior).abs() > 1e-3));
    assert!(all.rows.iter().zip(&got.rows).any(|(a, g)| (a.likelihood - g.likelihood).abs() > 1e-3));
}

/// The draws `range` of a one-chain trace, as a fit.
fn draws_of(t: &Trace, range: std::ops::Range<usize>) -> Fit {
    let vars = t
        .vars
        .iter()
        .map(|v| {
            let size = v.size();
            TraceVar { values: v.values[range.start * size..range.end * size].to_vec(), ..v.clone() }
        })
        .collect();
    Fit::from_trace(Trace {
        chains: 1,
        draws: range.len(),
        vars,
        stats: vec![vec![]],
        warmup_stats: vec![vec![]],
    })
}

/// Every model file's free families lower to the log prior (LKJ Cholesky factors, correlated
/// effects, random walks, a softmax regression's matrices): at 4,500 prior draws (more than one
/// 4,096-draw chunk) every term is finite, the draws past the first chunk equal the same draws
/// evaluated alone (as their own first chunk), and the compiled log-likelihood equals the host's.
#[test]
fn every_model_file_has_a_log_prior_across_chunks() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("models");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "toml"))
        .collect();
    files.sort();
    assert!(files.len() >= 7, "{files:?}");
    for toml in files {
        let json = toml.with_extension("json");
        let m = Model::from_files(&toml, json.exists().then_some(json.as_path())).unwrap();
        // Prior draws; where a prior draw of the data overflows (a stochastic volatility's
        // exponentiated random walk), NUTS draws.
        let prior = exmc::sampler::prior_predictive(&m, 4500, 11).unwrap_or_else(|_| {
            let run = Sampler::new(&m).chains(1).warmup(150).draws(4500).seed(11).progress(false);
            run.run().unwrap().trace
        });
        let fit = Fit::from_trace(prior.clone());
        let lp = compute_log_prior(&m, &fit, BackendChoice::Cpu).unwrap();
        assert!(!lp.nodes.is_empty(), "{toml:?}");
        for (k, term) in lp.values.iter().enumerate() {
            assert_eq!(term.len(), 4500);
            assert!(term.iter().all(|v| v.is_finite()), "{toml:?}: prior term {k} not finite");
        }
        let tail = compute_log_prior(&m, &draws_of(&prior, 4100..4500), BackendChoice::Cpu).unwrap();
        for (k, (all, alone)) in lp.values.iter().zip(&tail.values).enumerate() {
            assert_eq!(&all[4100..], &alone[..], "{toml:?}: prior term {k} past the first chunk");
        }
        let compiled = compute_log_likelihood(&m, &fit, BackendChoice::Cpu).unwrap();
        let host = log_likelihood(&m, &fit).unwrap();
        assert_eq!(compiled.nodes, host.nodes);
        for (a, b) in compiled.values.iter().flatten().zip(host.values.iter().flatten()) {
            assert!(a == b || (a - b).abs() <= 1e-9 * b.abs().max(1.0), "{toml:?}: compiled {a} vs host {b}");
        }
    }
}
