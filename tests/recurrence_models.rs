//! Recurrences in the model language (`Expr::scan`) and in model files (`[scan.NAME]`): the
//! same GARCH(1,1) written both ways has the same log density and gradient, its likelihood
//! equals a direct f64 evaluation, and malformed recurrences are typed errors naming the node.

use exmc::backend::cpu::Executor;
use exmc::compile::compile;
use exmc::compile::lower::{Target, lower};
use exmc::model::file::{DataSet, DataValue};
use exmc::prelude::*;
use exmc::rewrite::RewriteOptions;

const Y: [f64; 8] = [0.31, -0.52, 0.84, 0.12, -1.33, 0.45, 0.07, -0.61];
const SIGMA1: f64 = 0.5;

/// GARCH(1,1) through `Expr::scan`.
fn garch_rust() -> Model {
    let t = Y.len();
    let mut m = Model::new();
    let mu = m.rv("mu", Normal::new(0, 1)).unwrap();
    let a0 = m.rv("alpha0", HalfNormal::new(1)).unwrap();
    let a1 = m.rv("alpha1", Beta::new(2, 2)).unwrap();
    let b1 = m.rv("beta1", Beta::new(2, 2)).unwrap();
    let sigma = Expr::scan(SIGMA1, [&Y[..t - 1]], t - 1, |prev, x| {
        (a0 + a1 * (x[0].clone() - mu).square() + b1 * prev.square()).sqrt()
    });
    let sigma = m.deterministic("sigma", sigma).unwrap();
    m.observe("y_first", Normal::new(mu, SIGMA1), &Y[..1]).unwrap();
    m.observe("y_obs", Normal::new(mu, sigma), &Y[1..]).unwrap();
    m
}

/// The same model as a model file.
fn garch_file() -> Model {
    let mut data = DataSet::new();
    data.insert("y", DataValue::Vector { values: Y.to_vec(), integer: false });
    data.insert("T", DataValue::Scalar(Y.len() as f64));
    data.insert("sigma1", DataValue::Scalar(SIGMA1));
    Model::from_model_str(
        r#"
        [rv.mu]
        dist = "normal"
        mu = 0
        sigma = 1
        [rv.alpha0]
        dist = "half_normal"
        sigma = 1
        [rv.alpha1]
        dist = "beta"
        alpha = 2
        beta = 2
        [rv.beta1]
        dist = "beta"
        alpha = 2
        beta = 2
        [transformed_data]
        y0 = "y[0]"
        y_prev = "slice(y, 0, T - 1)"
        y_next = "slice(y, 1, T)"
        [scan.sigma]
        init = "sigma1"
        sequences = { r = "y_prev" }
        step = "sqrt(alpha0 + alpha1 * square(r - mu) + beta1 * square(prev))"
        [observe.y_first]
        dist = "normal"
        mu = "mu"
        sigma = "sigma1"
        data = "y0"
        [observe.y_obs]
        dist = "normal"
        mu = "mu"
        sigma = "sigma"
        data = "y_next"
        "#,
        &data,
        "garch.toml",
    )
    .unwrap()
}

/// The GARCH(1,1) log-likelihood at constrained values, directly.
fn garch_loglik(mu: f64, a0: f64, a1: f64, b1: f64) -> f64 {
    let normal = |x: f64, m: f64, s: f64| {
        -0.5 * ((x - m) / s).powi(2) - s.ln() - 0.5 * (2.0 * std::f64::consts::PI).ln()
    };
    let mut sigma = SIGMA1;
    let mut lp = normal(Y[0], mu, SIGMA1);
    for t in 1..Y.len() {
        sigma = (a0 + a1 * (Y[t - 1] - mu).powi(2) + b1 * sigma * sigma).sqrt();
        lp += normal(Y[t], mu, sigma);
    }
    lp
}

/// `values` (by name: mu, alpha0, alpha1, beta1) in the order of a point map's entries.
fn in_order(map: &exmc::compile::PointMap, values: [f64; 4]) -> Vec<f64> {
    let names = ["mu", "alpha0", "alpha1", "beta1"];
    map.entries.iter().map(|e| values[names.iter().position(|n| *n == e.name).unwrap()]).collect()
}

#[test]
fn the_rust_and_file_recurrences_agree_and_equal_a_direct_likelihood() {
    let (rust, file) = (garch_rust(), garch_file());
    let (cr, cf) = (
        compile(&rust, RewriteOptions::default()).unwrap(),
        compile(&file, RewriteOptions::default()).unwrap(),
    );
    let (er, ef) = (Executor::new(cr.logp_grad.clone()), Executor::new(cf.logp_grad.clone()));
    let (mut wr, mut wf) = (er.workspace(), ef.workspace());
    for u in [[0.1, -0.7, 0.2, 0.4], [-0.3, 0.2, -1.0, 1.5], [0.8, -2.0, 0.6, -0.4]] {
        let (ur, uf) = (in_order(&cr.pointmap, u), in_order(&cf.pointmap, u));
        let (mut gr, mut gf) = ([0.0; 4], [0.0; 4]);
        let (lr, lf) = (er.run(&mut wr, &ur, &mut gr), ef.run(&mut wf, &uf, &mut gf));
        assert!((lr - lf).abs() <= 1e-12 * lr.abs(), "{lr} vs {lf}");
        for (i, e) in cr.pointmap.entries.iter().enumerate() {
            let j = cf.pointmap.entries.iter().position(|f| f.name == e.name).unwrap();
            assert!((gr[i] - gf[j]).abs() <= 1e-12 * gr[i].abs().max(1.0), "{}: {gr:?} vs {gf:?}", e.name);
        }
    }
    // The likelihood over constrained values against the direct loop, for both.
    for c in [&cr, &cf] {
        let (lik, map) = lower(&c.model, Target::Likelihood).unwrap();
        let exec = Executor::new(lik);
        let mut ws = exec.workspace();
        for x in [[0.1, 0.3, 0.2, 0.5], [-0.4, 0.05, 0.7, 0.25]] {
            let got = exec.run(&mut ws, &in_order(&map, x), &mut []);
            let want = garch_loglik(x[0], x[1], x[2], x[3]);
            assert!((got - want).abs() <= 1e-12 * want.abs(), "{got} vs {want}");
        }
    }
}

#[test]
fn malformed_recurrences_are_typed_errors_naming_the_node() {
    let mut m = Model::new();
    let a = m.rv("a", Normal::new(0, 1)).unwrap();
    // The state's shape changes: two values in, one out.
    let e = Expr::scan(vec![1.0, 2.0], Vec::<Expr>::new(), 3, |prev, _| prev.sum() * a);
    let err = m.deterministic("shrinks", e).unwrap_err();
    assert!(
        matches!(&err, Error::ShapeMismatch { node, detail } if node == "shrinks" && detail.contains("shape must not change")),
        "{err}"
    );
    // A sequence longer than the steps can take whole (a lag or window longer than the series).
    let e = Expr::scan(0.0, [vec![1.0; 10]], 3, |prev, x| prev + x[0].clone() * a);
    let err = m.deterministic("lagged", e).unwrap_err();
    assert!(
        matches!(&err, Error::ShapeMismatch { node, detail } if node == "lagged" && detail.contains("not a multiple")),
        "{err}"
    );
    // A non-finite initial state.
    let e = Expr::scan(f64::NAN, Vec::<Expr>::new(), 3, |prev, _| prev * a);
    let err = m.deterministic("nan_start", e).unwrap_err();
    assert!(matches!(&err, Error::NonFiniteConstant { node, .. } if node == "nan_start"), "{err}");
    // No steps.
    let e = Expr::scan(0.0, Vec::<Expr>::new(), 0, |prev, _| prev * a);
    let err = m.deterministic("empty", e).unwrap_err();
    assert!(matches!(&err, Error::ShapeMismatch { node, .. } if node == "empty"), "{err}");
}

#[test]
fn malformed_scan_tables_name_the_file_node_and_field() {
    let data = DataSet::new();
    let cases = [
        ("[scan.s]\ninit = 0\n", "s", "", "needs `step`"),
        ("[scan.s]\nstep = \"prev\"\n", "s", "", "needs `init`"),
        ("[scan.s]\ninit = 0\nstep = \"prev\"\nlags = 2\n", "s", "lags", "unknown key"),
        ("[scan.s]\ninit = 0\nsteps = 3\nstep = \"prev + nope\"\n", "s", "step", "unknown name `nope`"),
        (
            "[scan.s]\ninit = 0\nsequences = { x = \"z\" }\nstep = \"prev + x\"\n",
            "s",
            "sequences",
            "unknown name `z`",
        ),
    ];
    for (text, node, field, reason) in cases {
        match Model::from_model_str(text, &data, "bad.toml") {
            Err(Error::ModelFile { file, node: n, field: f, reason: r, .. }) => {
                assert_eq!((file.as_str(), n.as_str(), f.as_str()), ("bad.toml", node, field), "{text}: {r}");
                assert!(r.contains(reason), "{text}: {r}");
            }
            other => panic!("{text}: {other:?}"),
        }
    }
}

#[test]
fn prior_predictive_draws_run_the_recurrence_on_the_host() {
    let m = garch_rust();
    let t = exmc::sampler::prior_predictive(&m, 50, 3).unwrap();
    let var = |name: &str| t.vars.iter().find(|v| v.name == name).unwrap_or_else(|| panic!("{name}"));
    let (mu, a0, a1, b1, sigma) = (var("mu"), var("alpha0"), var("alpha1"), var("beta1"), var("sigma"));
    let steps = Y.len() - 1;
    assert_eq!(sigma.values.len(), 50 * steps);
    for d in 0..50 {
        let mut s = SIGMA1;
        for (k, y) in Y[..steps].iter().enumerate() {
            s = (a0.values[d] + a1.values[d] * (y - mu.values[d]).powi(2) + b1.values[d] * s * s).sqrt();
            let got = sigma.values[d * steps + k];
            assert!((got - s).abs() <= 1e-12 * s, "draw {d}, step {k}: {got} vs {s}");
        }
    }
}
