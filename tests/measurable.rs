//! Measurable (transformed) observations against the equivalent direct models: `y = 2 + 3·x`
//! with `x ~ Normal(mu, sigma)` is `y ~ Normal(2 + 3 mu, 3 sigma)`; `y = a + b·x` with
//! `x ~ Normal(0, 1)` is `y ~ Normal(a, b)`; `y = exp(x)` is a log-normal, and so is
//! `exp(a + b·x)`. The log density and gradient agree at random points, the posteriors agree
//! within Monte Carlo error (means and sds within 4 MCSE; CPU and, where an adapter exists, GPU), and so do the pointwise
//! log-likelihood and the posterior predictive. Bad values are typed errors naming the node.

mod common;

use common::{backends, moments};
use exmc::backend::cpu::Executor;
use exmc::compile::compile;
use exmc::prelude::*;
use exmc::rewrite::RewriteOptions;
use exmc::rng::{ChainRng, Purpose};

const Y: [f64; 10] = [4.1, 1.3, 3.6, 5.2, 2.4, 2.9, 6.0, 3.3, 1.8, 4.4];
const POSITIVE: [f64; 10] = [0.8, 2.3, 1.1, 0.4, 3.9, 1.6, 0.9, 2.7, 1.3, 0.6];

/// Pairs (transformed, direct) over the same free variables in the same order.
fn pairs() -> Vec<(&'static str, Model, Model, Vec<&'static str>)> {
    let mut out = Vec::new();
    // y = 2 + 3·x, x ~ Normal(mu, sigma).
    let (mut t, mut d) = (Model::new(), Model::new());
    for m in [&mut t, &mut d] {
        m.rv("mu", Normal::new(0, 2)).unwrap();
        m.rv("sigma", HalfNormal::new(2)).unwrap();
    }
    let (mu, sigma) = (t.var("mu").unwrap(), t.var("sigma").unwrap());
    t.observe_transformed("y", Normal::new(mu, sigma), |x| 2.0 + 3.0 * x, &Y).unwrap();
    let (mu, sigma) = (d.var("mu").unwrap(), d.var("sigma").unwrap());
    d.observe("y", Normal::new(2.0 + 3.0 * mu, 3.0 * sigma), &Y).unwrap();
    out.push(("2 + 3x", t, d, vec!["mu", "sigma"]));
    // y = a + b·x, x ~ Normal(0, 1): the location and scale are parameters.
    let (mut t, mut d) = (Model::new(), Model::new());
    for m in [&mut t, &mut d] {
        m.rv("a", Normal::new(0, 5)).unwrap();
        m.rv("b", HalfNormal::new(3)).unwrap();
    }
    let (a, b) = (t.var("a").unwrap(), t.var("b").unwrap());
    t.observe_transformed("y", Normal::new(0, 1), |x| a + b * x, &Y).unwrap();
    let (a, b) = (d.var("a").unwrap(), d.var("b").unwrap());
    d.observe("y", Normal::new(a, b), &Y).unwrap();
    out.push(("a + b x", t, d, vec!["a", "b"]));
    // y = exp(x), x ~ Normal(mu, sigma): a log-normal.
    let (mut t, mut d) = (Model::new(), Model::new());
    for m in [&mut t, &mut d] {
        m.rv("mu", Normal::new(0, 2)).unwrap();
        m.rv("sigma", HalfNormal::new(2)).unwrap();
    }
    let (mu, sigma) = (t.var("mu").unwrap(), t.var("sigma").unwrap());
    t.observe_transformed("y", Normal::new(mu, sigma), Expr::exp, &POSITIVE).unwrap();
    let (mu, sigma) = (d.var("mu").unwrap(), d.var("sigma").unwrap());
    d.observe("y", LogNormal::new(mu, sigma), &POSITIVE).unwrap();
    out.push(("exp(x)", t, d, vec!["mu", "sigma"]));
    // y = exp(a + b·x) / 2 (composed steps), x ~ Normal(0, 1): ln(2y) ~ Normal(a, b), so
    // y ~ LogNormal(a − ln 2, b).
    let (mut t, mut d) = (Model::new(), Model::new());
    for m in [&mut t, &mut d] {
        m.rv("a", Normal::new(0, 2)).unwrap();
        m.rv("b", HalfNormal::new(2)).unwrap();
    }
    let (a, b) = (t.var("a").unwrap(), t.var("b").unwrap());
    t.observe_transformed("y", Normal::new(0, 1), |x| (a + b * x).exp() / 2.0, &POSITIVE).unwrap();
    let (a, b) = (d.var("a").unwrap(), d.var("b").unwrap());
    d.observe("y", LogNormal::new(a - std::f64::consts::LN_2, b), &POSITIVE).unwrap();
    out.push(("exp(a + b x) / 2", t, d, vec!["a", "b"]));
    out
}

/// Monte Carlo standard error of the posterior sd of a scalar.
fn mcse_sd(fit: &Fit, name: &str) -> f64 {
    let chains = fit.trace.chains_of(name, 0).expect("variable in trace");
    let refs: Vec<&[f64]> = chains.iter().map(Vec::as_slice).collect();
    exmc::diagnostics::mcse_sd(&refs)
}

#[test]
fn log_density_and_gradient_equal_the_direct_models() {
    for (label, t, d, _) in pairs() {
        let (pt, pd) = (
            compile(&t, RewriteOptions::default()).unwrap().logp_grad,
            compile(&d, RewriteOptions::default()).unwrap().logp_grad,
        );
        assert_eq!(pt.dim, pd.dim, "{label}");
        let (et, ed) = (Executor::new(pt), Executor::new(pd));
        let (mut wt, mut wd) = (et.workspace(), ed.workspace());
        let dim = t.nodes().iter().filter(|n| n.is_free()).count();
        let (mut gt, mut gd) = (vec![0.0; dim], vec![0.0; dim]);
        let rng = ChainRng::new(3, 0);
        for k in 0..20u64 {
            let u: Vec<f64> = (0..dim).map(|i| 3.0 * rng.uniform(k, i as u32, Purpose::Init) - 1.5).collect();
            let (lt, ld) = (et.run(&mut wt, &u, &mut gt), ed.run(&mut wd, &u, &mut gd));
            assert!((lt - ld).abs() <= 1e-10 * ld.abs().max(1.0), "{label}: logp {lt} vs {ld} at {u:?}");
            for i in 0..dim {
                assert!(
                    (gt[i] - gd[i]).abs() <= 1e-10 * gd[i].abs().max(1.0),
                    "{label}: grad[{i}] {gt:?} vs {gd:?}"
                );
            }
        }
    }
}

#[test]
fn posteriors_equal_the_direct_models() {
    for (label, t, d, names) in pairs() {
        for backend in backends("posteriors_equal_the_direct_models") {
            let run = |m: &Model, seed: u64| {
                Sampler::new(m)
                    .backend(backend)
                    .chains(4)
                    .warmup(1000)
                    .draws(2000)
                    .seed(seed)
                    .progress(false)
                    .run()
                    .unwrap()
            };
            let (ft, fd) = (run(&t, 7), run(&d, 8));
            assert!(!ft.measured.is_empty() && fd.measured.is_empty(), "{label}: {:?}", ft.measured);
            // f32 kernels (the GPU) may meet a rare divergence near sigma = 0 in either form.
            let draws = 4 * 2000;
            assert!(
                ft.divergences() * 1000 <= draws,
                "{label} {}: {} divergences",
                ft.backend,
                ft.divergences()
            );
            for name in &names {
                let ((mt, st, et), (md, sd, ed)) = (moments(&ft, name, 0), moments(&fd, name, 0));
                let mcse = (et * et + ed * ed).sqrt();
                eprintln!(
                    "{label} {} {name}: mean {mt:.4} vs {md:.4} (mcse {mcse:.4}), sd {st:.4} vs {sd:.4}",
                    ft.backend
                );
                assert!(
                    (mt - md).abs() <= 4.0 * mcse,
                    "{label} {} {name}: mean {mt} vs {md} ({mcse})",
                    ft.backend
                );
                let sd_se = (mcse_sd(&ft, name).powi(2) + mcse_sd(&fd, name).powi(2)).sqrt();
                assert!(
                    (st - sd).abs() <= 4.0 * sd_se,
                    "{label} {} {name}: sd {st} vs {sd} ({sd_se})",
                    ft.backend
                );
            }
        }
    }
}

#[test]
fn pointwise_likelihood_and_predictive_equal_the_direct_models() {
    for (label, t, d, _) in pairs() {
        let fit = Sampler::new(&d).chains(2).warmup(300).draws(300).seed(1).progress(false).run().unwrap();
        let (lt, ld) = (log_likelihood(&t, &fit).unwrap(), log_likelihood(&d, &fit).unwrap());
        for (a, b) in lt.values.iter().flatten().zip(ld.values.iter().flatten()) {
            assert!((a - b).abs() <= 1e-10 * b.abs().max(1.0), "{label}: pointwise {a} vs {b}");
        }
        // The compiled pointwise program agrees with the host's.
        let compiled = compute_log_likelihood(&t, &fit, BackendChoice::Cpu).unwrap();
        for (a, b) in compiled.values.iter().flatten().zip(ld.values.iter().flatten()) {
            assert!((a - b).abs() <= 1e-9 * b.abs().max(1.0), "{label}: compiled pointwise {a} vs {b}");
        }
        // Replicated observations: the same distribution (means of 600 × 10 draws).
        let (rt, rd) =
            (posterior_predictive(&t, &fit, 5).unwrap(), posterior_predictive(&d, &fit, 6).unwrap());
        let (vt, vd) = (&rt.var("y").unwrap().values, &rd.var("y").unwrap().values);
        assert_eq!(vt.len(), vd.len());
        let stats = |v: &[f64]| {
            let n = v.len() as f64;
            let m = v.iter().sum::<f64>() / n;
            (m, v.iter().map(|x| (x - m) * (x - m)).sum::<f64>() / (n - 1.0))
        };
        let ((mt, vt), (md, vd)) = (stats(vt), stats(vd));
        // The draws share parameters within a draw, so the error allows for correlation.
        let se = (vt.max(vd) / 300.0).sqrt();
        assert!((mt - md).abs() <= 5.0 * se, "{label}: replicated mean {mt} vs {md} (se {se})");
    }
}

#[test]
fn prior_predictive_applies_the_value() {
    let mut m = Model::new();
    let mu = m.rv("mu", Normal::new(0, 0.1)).unwrap();
    m.observe_transformed("y", Normal::new(mu, 0.1), |x| 10.0 + 2.0 * x.exp(), &[12.0, 12.5]).unwrap();
    let prior = prior_predictive(&m, 2000, 3).unwrap();
    let y = &prior.var("y").unwrap().values;
    // 10 + 2·LogNormal(0, ~0.14): everything above 10, mean about 12.02.
    assert!(y.iter().all(|&v| v > 10.0));
    let mean = y.iter().sum::<f64>() / y.len() as f64;
    assert!((mean - 12.02).abs() < 0.03, "prior predictive mean {mean}");
}

#[test]
fn model_file_transformed_observation_equals_the_rust_model() {
    let toml = r#"
[rv.a]
dist = "normal"
mu = 0
sigma = 5

[rv.b]
dist = "half_normal"
sigma = 3

[observe.y]
dist = "normal"
mu = 0
sigma = 1
value = "a + b * z"
draw = "z"
data = "y_obs"
"#;
    let data = serde_json::json!({ "y_obs": Y }).to_string();
    let data = exmc::model::file::DataSet::from_json(&data, "affine.json").unwrap();
    let from_file = Model::from_model_str(toml, &data, "affine.toml").unwrap();
    let (_, rust, _, _) = pairs().into_iter().nth(1).unwrap();
    let (pf, pr) = (
        compile(&from_file, RewriteOptions::default()).unwrap(),
        compile(&rust, RewriteOptions::default()).unwrap(),
    );
    assert_eq!(pf.measured, vec!["y (affine ∘ affine)".to_string()]);
    let (ef, er) = (Executor::new(pf.logp_grad), Executor::new(pr.logp_grad));
    let (mut wf, mut wr) = (ef.workspace(), er.workspace());
    let (mut gf, mut gr) = (vec![0.0; 2], vec![0.0; 2]);
    for u in [[0.3, -0.2], [-1.1, 0.7]] {
        let (lf, lr) = (ef.run(&mut wf, &u, &mut gf), er.run(&mut wr, &u, &mut gr));
        assert!((lf - lr).abs() < 1e-12 * lr.abs().max(1.0) && gf == gr, "{lf} {lr} {gf:?} {gr:?}");
    }
}

#[test]
fn values_that_cannot_be_inverted_are_typed_errors_naming_the_node() {
    type Make = Box<dyn Fn(&mut Model) -> exmc::Result<Var>>;
    let cases: Vec<(&str, Make)> = vec![
        ("square", Box::new(|m| m.observe_transformed("y", Normal::new(0, 1), Expr::square, &Y))),
        ("twice", Box::new(|m| m.observe_transformed("y", Normal::new(0, 1), |x| x.clone() + x, &Y))),
        ("no draw", Box::new(|m| m.observe_transformed("y", Normal::new(0, 1), |_| Expr::constant(1.0), &Y))),
        ("discrete", Box::new(|m| m.observe_transformed("y", Poisson::new(3), |x| 2.0 * x, &[4.0, 6.0]))),
        ("outside", Box::new(|m| m.observe_transformed("y", Normal::new(0, 1), Expr::exp, &[1.0, -2.0]))),
        (
            "outside the base's support",
            Box::new(|m| m.observe_transformed("y", HalfNormal::new(1), |x| x - 1.0, &[0.5, -3.0])),
        ),
        (
            "shape",
            Box::new(|m| m.observe_transformed("y", Normal::new(0, 1), |x| x + vec![1.0, 2.0, 3.0], &Y)),
        ),
    ];
    for (label, make) in cases {
        let mut m = Model::new();
        let e = make(&mut m).unwrap_err();
        let msg = e.to_string();
        assert!(msg.contains("`y`") || msg.contains("y:") || msg.contains(" y "), "{label}: {msg}");
        eprintln!("{label}: {msg}");
    }
}
