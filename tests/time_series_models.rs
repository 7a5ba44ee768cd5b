//! The local-level and stochastic-volatility models (non-centred random walks through
//! `cumsum`): the model files in `models/` equal their Rust versions (log density and gradient
//! at random points), and on the simulated data beside them each recovers the values it was
//! simulated from within 3 posterior sd, with no divergences (target acceptance 0.95: the
//! running sum's stiffest direction needs a smaller step than the default 0.8 adapts to).

#[path = "../examples/common/time_series.rs"]
#[allow(dead_code)]
mod time_series;

use exmc::backend::cpu::Executor;
use exmc::compile::compile;
use exmc::model::file::DataSet;
use exmc::prelude::*;
use exmc::rewrite::RewriteOptions;
use exmc::rng::{ChainRng, Purpose};
use time_series::*;

fn load(name: &str) -> (Model, DataSet) {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/models");
    let data = DataSet::from_file(format!("{dir}/{name}.json")).unwrap();
    let text = std::fs::read_to_string(format!("{dir}/{name}.toml")).unwrap();
    (Model::from_model_str(&text, &data, name).unwrap(), data)
}

fn series(data: &DataSet, key: &str) -> Vec<f64> {
    match data.get(key) {
        Some(exmc::model::file::DataValue::Vector { values, .. }) => values.clone(),
        _ => panic!("{key} is a data vector"),
    }
}

/// The two models' log densities and gradients agree at random points (matched by name).
fn same_density(a: &Model, b: &Model) {
    let (ca, cb) =
        (compile(a, RewriteOptions::default()).unwrap(), compile(b, RewriteOptions::default()).unwrap());
    let (ea, eb) = (Executor::new(ca.logp_grad.clone()), Executor::new(cb.logp_grad.clone()));
    let (mut wa, mut wb) = (ea.workspace(), eb.workspace());
    let d = ca.pointmap.dim;
    assert_eq!(d, cb.pointmap.dim);
    let rng = ChainRng::new(9, 0);
    for k in 0..5u64 {
        let ua: Vec<f64> = (0..d).map(|i| 2.0 * rng.uniform(k, i as u32, Purpose::Init) - 1.0).collect();
        let mut ub = vec![0.0; d];
        for e in &ca.pointmap.entries {
            let f = cb.pointmap.entries.iter().find(|f| f.name == e.name).expect("same free variables");
            ub[f.offset..f.offset + f.len].copy_from_slice(&ua[e.offset..e.offset + e.len]);
        }
        let (mut ga, mut gb) = (vec![0.0; d], vec![0.0; d]);
        let (la, lb) = (ea.run(&mut wa, &ua, &mut ga), eb.run(&mut wb, &ub, &mut gb));
        assert!((la - lb).abs() <= 1e-9 * lb.abs().max(1.0), "logp {la} vs {lb}");
        for e in &ca.pointmap.entries {
            let f = cb.pointmap.entries.iter().find(|f| f.name == e.name).unwrap();
            for j in 0..e.len {
                let (x, y) = (ga[e.offset + j], gb[f.offset + j]);
                assert!((x - y).abs() <= 1e-9 * y.abs().max(1.0), "{}[{j}]: {x} vs {y}", e.name);
            }
        }
    }
}

fn recovers(m: &Model, truth: &[(&str, f64)], seed: u64) {
    let fit = Sampler::new(m)
        .chains(4)
        .warmup(1000)
        .draws(1000)
        .seed(seed)
        .target_accept(0.95)
        .progress(false)
        .run()
        .unwrap();
    let summary = fit.summary();
    for (name, value) in truth {
        let row = summary.rows.iter().find(|r| &r.name == name).unwrap();
        let z = (row.mean - value) / row.sd;
        eprintln!(
            "{name}: true {value}, posterior {:.3} ± {:.3} (z {z:+.2}), r_hat {:.3}",
            row.mean, row.sd, row.r_hat
        );
        assert!(z.abs() <= 3.0, "{name}: true {value}, posterior {} ± {}", row.mean, row.sd);
        assert!(row.r_hat < 1.01, "{name}: r_hat {}", row.r_hat);
    }
    assert_eq!(fit.divergences(), 0, "divergences in the non-centred form");
}

#[test]
fn local_level_file_equals_rust_and_recovers_its_parameters() {
    let (file, data) = load("local_level");
    let rust = local_level(&series(&data, "y")).unwrap();
    same_density(&file, &rust);
    recovers(&file, &LOCAL_LEVEL_TRUTH, 1);
}

#[test]
fn stochastic_volatility_file_equals_rust_and_recovers_its_parameters() {
    let (file, data) = load("stochastic_volatility");
    let returns = series(&data, "returns");
    assert!(returns.len() >= 500);
    let rust = stochastic_volatility(&returns).unwrap();
    same_density(&file, &rust);
    recovers(&file, &SV_TRUTH, 2);
}
