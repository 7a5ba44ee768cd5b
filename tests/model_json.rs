//! The model serialises to JSON and loads back to an equal model that samples identically.

use exmc::prelude::*;

#[test]
fn json_round_trip_preserves_model_and_trace() {
    let mut m = Model::new();
    let mu = m.rv("mu", Normal::new(0.0, 5.0)).unwrap();
    let tau = m.rv("tau", HalfCauchy::new(5.0)).unwrap();
    let theta = m.rv_vec("theta", Normal::new(mu, tau), 3).unwrap();
    let p = m.rv("p", Beta::new(2.0, 3.0)).unwrap();
    let u = m.rv("u", Uniform::new(-1.0, mu.exp() + 1.0)).unwrap();
    m.deterministic("d", (theta - mu).square().powf(1.5) / (1.0 + p.logistic()) - u).unwrap();
    m.observe("y", Normal::new(theta, vec![1.0, 2.0, 3.0]), &[0.5, 1.5, -0.2]).unwrap();
    let json = m.to_json().unwrap();
    let back = Model::from_json(&json).unwrap();
    assert_eq!(back, m);
    assert_eq!(back.to_json().unwrap(), json);
    let run = |model: &Model| {
        Sampler::new(model)
            .backend(BackendChoice::Cpu)
            .chains(2)
            .warmup(50)
            .draws(50)
            .seed(3)
            .progress(false)
            .run()
            .unwrap()
    };
    assert_eq!(run(&m).trace, run(&back).trace);
}

/// A softmax regression (a matrix product, a row broadcast and a categorical with a row of
/// logits per observation) round-trips; written with the shared family's name, the matrix of
/// logits still gives each observation its row.
#[test]
fn softmax_regression_round_trips() {
    let mut m = Model::new();
    let x = m.data_matrix("x", 3, 2, vec![1.0, 0.5, 1.0, -1.2, 1.0, 0.3]).unwrap();
    let alpha = m.rv_vec("alpha", Normal::new(0, 2), 3).unwrap();
    let beta = m.rv_vec("beta", Normal::new(0, 1), 6).unwrap();
    m.observe("y", Categorical::logit(alpha + x.matmul(beta, 3)), &[2.0, 0.0, 1.0]).unwrap();
    let json = m.to_json().unwrap();
    assert!(json.contains("categorical_logit_rows"));
    assert_eq!(Model::from_json(&json).unwrap().to_json().unwrap(), json);
    let shared = json.replace("categorical_logit_rows", "categorical_logit");
    assert_eq!(Model::from_json(&shared).unwrap().to_json().unwrap(), json);
}

/// A free matrix (`rv_matrix`) and an LKJ factor keep their `n × k` shapes through JSON, and a
/// stored shape whose size disagrees with the family's is refused, naming the node.
#[test]
fn matrix_shaped_variables_round_trip() {
    let mut m = Model::new();
    let x = m.data_matrix("x", 3, 2, vec![1.0, 0.5, 1.0, -1.2, 1.0, 0.3]).unwrap();
    let beta = m.rv_matrix("beta", Normal::new(0, 1), 2, 3).unwrap();
    m.rv("L", LkjCholesky::new(3, 2.0)).unwrap();
    m.observe("y", Categorical::logit(x.matmul(beta, 3)), &[2.0, 0.0, 1.0]).unwrap();
    let json = m.to_json().unwrap();
    let back = Model::from_json(&json).unwrap();
    assert_eq!(back, m);
    let shapes: Vec<Shape> = back.nodes().iter().map(|n| n.shape).collect();
    assert_eq!(shapes[1..3], [Shape::Matrix(2, 3), Shape::Matrix(3, 3)]);
    let compact: serde_json::Value = serde_json::from_str(&json).unwrap();
    let mut bad = compact.clone();
    bad["nodes"][2]["shape"] = serde_json::json!({ "matrix": [2, 2] });
    let e = Model::from_json(&bad.to_string()).unwrap_err().to_string();
    assert!(e.contains("`L`") && e.contains("lkj_cholesky needs 9"), "{e}");
}
