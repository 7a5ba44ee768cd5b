//! The modelling language of issue 10: elementwise operations, reductions, potentials, named
//! data, integer literals and element labels, checked against analytic posteriors and oracles.

mod common;

use exmc::prelude::*;

fn fit(m: &Model, seed: u64) -> Fit {
    Sampler::new(m)
        .backend(BackendChoice::Cpu)
        .chains(4)
        .warmup(500)
        .draws(1000)
        .seed(seed)
        .progress(false)
        .run()
        .unwrap()
}

/// `pm.Potential`: x ~ N(0, 1) plus the term −x²/2 is N(0, 1/2): sd 0.7071.
#[test]
fn potential_adds_to_the_log_density() {
    let mut m = Model::new();
    let x = m.rv("x", Normal::new(0, 1)).unwrap();
    m.potential("extra", -0.5 * x.square()).unwrap();
    let f = fit(&m, 1);
    let row = f.summary().get("x").cloned().unwrap();
    assert!(row.mean.abs() < 4.0 * row.mcse_mean, "{row:?}");
    assert!((row.sd - 0.5f64.sqrt()).abs() < 0.05 * 0.5f64.sqrt(), "{row:?}");
    assert!(f.trace.var("extra").is_none(), "potentials are not recorded");
    // A vector potential is the sum of its elements.
    let mut m = Model::new();
    let x = m.rv_vec("x", Normal::new(0, 1), 2).unwrap();
    m.potential("extra", -0.5 * x.square()).unwrap();
    let f = fit(&m, 2);
    for e in 0..2 {
        let row = f.summary().get(&format!("x[{e}]")).cloned().unwrap();
        assert!((row.sd - 0.5f64.sqrt()).abs() < 0.05 * 0.5f64.sqrt(), "{row:?}");
    }
}

/// Named data read by reference, integer data validated, a conjugate posterior with the data as
/// a named node: y ~ N(mu + 2 x, 1), mu ~ N(0, 10) → mu | y normal with known moments.
#[test]
fn named_data_and_integer_literals() {
    let xs = vec![0.5, -1.0, 2.0, 0.0, 1.5];
    let ys = vec![2.2, -0.9, 5.1, 1.1, 4.0];
    let mut m = Model::new();
    let x = m.data("x", xs.clone()).unwrap();
    let mu = m.rv("mu", Normal::new(0, 10)).unwrap();
    m.observe("y", Normal::new(mu + 2 * x, 1), &ys).unwrap();
    // Posterior of mu: precision 1/100 + 5, mean Σ(y − 2x) / (1/100 + 5).
    let prec = 0.01 + 5.0;
    let mean: f64 = ys.iter().zip(&xs).map(|(y, x)| y - 2.0 * x).sum::<f64>() / prec;
    let f = fit(&m, 3);
    let row = f.summary().get("mu").cloned().unwrap();
    assert!((row.mean - mean).abs() < 4.0 * row.mcse_mean, "{row:?} vs {mean}");
    assert!((row.sd - prec.powf(-0.5)).abs() < 0.05 * prec.powf(-0.5), "{row:?}");
    assert!(f.trace.var("x").is_none(), "data are not recorded");
    // JSON keeps the data node once and round-trips.
    let json = m.to_json().unwrap();
    assert_eq!(Model::from_json(&json).unwrap(), m);
    // Integer data must be whole; data must be finite.
    m.int_data("idx", &[0, 1]).unwrap();
    let bad = r#"{"nodes": [{"name": "k", "shape": {"vector": 2}, "kind": {"data": {"values": [1.0, 2.5], "integer": true}}}]}"#;
    assert!(
        matches!(Model::from_json(bad), Err(Error::InvalidData { index: 1, .. })),
        "{:?}",
        Model::from_json(bad)
    );
    assert!(matches!(m.data("nan", vec![1.0, f64::NAN]), Err(Error::NonFiniteData { index: 1, .. })));
}

/// Element labels name the elements in the trace and the summary; bad labels are typed errors.
#[test]
fn labels_name_elements() {
    let mut m = Model::new();
    let a = m.rv_vec("a", Normal::new(0, 1), 3).unwrap();
    m.set_labels(a, vec!["Aitkin".into(), "Anoka".into(), "Becker".into()]).unwrap();
    let f = fit(&m, 4);
    let s = f.summary();
    assert!(s.get("a[Anoka]").is_some(), "{s}");
    assert!(s.get("a[1]").is_none());
    for bad in [
        vec!["x".to_string()],
        vec!["x".into(), "x".into(), "y".into()],
        vec!["a]".into(), "b".into(), "c".into()],
    ] {
        assert!(matches!(m.set_labels(a, bad), Err(Error::InvalidNode { .. })));
    }
}
