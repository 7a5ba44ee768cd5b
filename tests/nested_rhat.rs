//! Nested R-hat (issue 11, item 8) against a numpy implementation of Margossian et al. (2023)
//! (`scripts/make_nested_rhat_oracle.py`), and its use on a run of many short chains.

use exmc::diagnostics::nested_rhat;
use exmc::prelude::*;

#[test]
fn nested_rhat_matches_the_numpy_oracle() {
    let text =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/nested_rhat_oracle.json"))
            .unwrap();
    let cases: serde_json::Value = serde_json::from_str(&text).unwrap();
    for case in cases.as_array().unwrap() {
        let chains: Vec<Vec<f64>> = serde_json::from_value(case["chains"].clone()).unwrap();
        let k = case["superchains"].as_u64().unwrap() as usize;
        let want = case["nested_rhat"].as_f64().unwrap();
        let refs: Vec<&[f64]> = chains.iter().map(Vec::as_slice).collect();
        let got = nested_rhat(&refs, k);
        assert!((got - want).abs() <= 1e-12 * want, "K = {k}: {got} vs {want}");
    }
}

#[test]
fn nested_rhat_rejects_what_it_cannot_judge() {
    let c = [vec![1.0, 2.0], vec![2.0, 3.0], vec![0.5, 1.0]];
    let refs: Vec<&[f64]> = c.iter().map(Vec::as_slice).collect();
    assert!(nested_rhat(&refs, 2).is_nan(), "2 does not divide 3 chains");
    assert!(nested_rhat(&refs, 1).is_nan());
    assert!(nested_rhat(&refs[..2], 2).is_finite());
    assert!(nested_rhat(&[&[1.0, f64::NAN][..], &[1.0, 2.0][..]], 2).is_nan());
}

/// 64 chains of 20 draws after a short warmup, in 8 superchains: every scalar's nested R-hat
/// is below 1.01 for a well-mixing model, and the trace rejects a bad grouping.
#[test]
fn many_short_chains_report_nested_rhat() {
    let mut m = Model::new();
    let mu = m.rv("mu", Normal::new(0, 1)).unwrap();
    m.observe("y", Normal::new(mu, 1), &[0.2, -0.1, 0.4]).unwrap();
    let fit = Sampler::new(&m)
        .chains(64)
        .warmup(200)
        .draws(20)
        .seed(3)
        .progress(false)
        .backend(BackendChoice::Cpu)
        .run()
        .unwrap();
    let nr = fit.trace.nested_rhat(8).unwrap();
    assert_eq!(nr.len(), 1);
    assert!(nr[0].1 < 1.01, "{nr:?}");
    assert!(fit.trace.nested_rhat(7).is_err());
}
