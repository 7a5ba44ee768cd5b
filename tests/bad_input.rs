//! One test per bad-input error kind: each is a typed error naming the node, never a panic.

use exmc::prelude::*;

fn quickstart() -> (Model, Var, Var) {
    let mut m = Model::new();
    let mu = m.rv("mu", Normal::new(0.0, 5.0)).unwrap();
    let sigma = m.rv("sigma", HalfNormal::new(2.0)).unwrap();
    (m, mu, sigma)
}

#[test]
fn duplicate_name() {
    let (mut m, _, _) = quickstart();
    assert_eq!(m.rv("mu", Normal::new(0.0, 1.0)), Err(Error::DuplicateName("mu".into())));
}

#[test]
fn foreign_var() {
    let (mut m, _, _) = quickstart();
    let (_, other_mu, _) = quickstart();
    let err = m.rv("y", Normal::new(other_mu, 1.0)).unwrap_err();
    assert_eq!(err, Error::ForeignVar { node: "y".into() });
}

#[test]
fn unknown_node_in_json() {
    let (m, _, _) = quickstart();
    let json = m.to_json().unwrap();
    let mut v: serde_json::Value = serde_json::from_str(&json).unwrap();
    v["nodes"].as_array_mut().unwrap().push(serde_json::json!({
        "name": "y", "shape": "scalar",
        "kind": {"deterministic": {"expr": [{"var": {"index": 17}}]}}
    }));
    let err = Model::from_json(&v.to_string()).unwrap_err();
    assert_eq!(err, Error::UnknownNode { node: "y".into(), index: 17 });
}

#[test]
fn cycle_in_json() {
    let json = serde_json::json!({"nodes": [
        {"name": "a", "shape": "scalar", "kind": {"deterministic": {"expr": [{"var": {"index": 1}}]}}},
        {"name": "b", "shape": "scalar", "kind": {"deterministic": {"expr": [{"var": {"index": 0}}]}}}
    ]});
    let err = Model::from_json(&json.to_string()).unwrap_err();
    assert!(matches!(err, Error::Cycle { ref node } if node == "a" || node == "b"), "{err:?}");
}

#[test]
fn shape_mismatch() {
    let mut m = Model::new();
    let a = m.rv_vec("a", Normal::new(0.0, 1.0), 3).unwrap();
    let b = m.rv_vec("b", Normal::new(0.0, 1.0), 4).unwrap();
    let err = m.deterministic("c", a + b).unwrap_err();
    assert!(matches!(err, Error::ShapeMismatch { ref node, .. } if node == "c"), "{err:?}");
    let err = m.observe("y", Normal::new(a, 1.0), &[1.0, 2.0]).unwrap_err();
    assert!(matches!(err, Error::ShapeMismatch { ref node, .. } if node == "y"), "{err:?}");
    let err = m.rv_vec("e", Normal::new(0.0, 1.0), 0).unwrap_err();
    assert!(matches!(err, Error::ShapeMismatch { ref node, .. } if node == "e"), "{err:?}");
}

#[test]
fn parameter_outside_domain() {
    let mut m = Model::new();
    let err = m.rv("s", Normal::new(0.0, -1.0)).unwrap_err();
    assert_eq!(err.to_string(), "node `s`: normal parameter `sigma` is -1, but must be positive and finite");
    let err = m.rv("v", Normal::new(0.0, vec![1.0, 0.0])).unwrap_err();
    assert!(matches!(err, Error::InvalidParameter { index: Some(1), .. }), "{err:?}");
    let err = m.rv("u", Uniform::new(2.0, 1.0)).unwrap_err();
    assert!(matches!(err, Error::InvalidParameter { ref node, .. } if node == "u"), "{err:?}");
}

#[test]
fn wrong_parameter_count_in_json() {
    let json = serde_json::json!({"nodes": [
        {"name": "a", "shape": "scalar", "kind": {"free": {"dist": {"kind": "normal", "params": [[{"const": 0.0}]]}}}}
    ]});
    let err = Model::from_json(&json.to_string()).unwrap_err();
    assert_eq!(err, Error::ParamCount { node: "a".into(), dist: "normal", expected: 2, got: 1 });
}

#[test]
fn empty_data() {
    let (mut m, mu, sigma) = quickstart();
    assert_eq!(m.observe("x", Normal::new(mu, sigma), &[]), Err(Error::EmptyData { node: "x".into() }));
}

#[test]
fn non_finite_data() {
    let (mut m, mu, sigma) = quickstart();
    let err = m.observe("x", Normal::new(mu, sigma), &[1.0, f64::NAN]).unwrap_err();
    assert!(matches!(err, Error::NonFiniteData { ref node, index: 1, .. } if node == "x"), "{err:?}");
    let err = m.rv("d", Normal::new(vec![0.0, f64::INFINITY], 1.0)).unwrap_err();
    assert!(matches!(err, Error::NonFiniteData { ref node, index: 1, .. } if node == "d"), "{err:?}");
}

#[test]
fn data_outside_support() {
    let (mut m, _, sigma) = quickstart();
    let err = m.observe("x", Exponential::new(sigma), &[1.0, -0.5]).unwrap_err();
    assert_eq!(err, Error::OutsideSupport { node: "x".into(), dist: "exponential", index: 1, value: -0.5 });
    let err = m.observe("b", Beta::new(2.0, 2.0), &[0.5, 1.0]).unwrap_err();
    assert!(matches!(err, Error::OutsideSupport { index: 1, .. }), "{err:?}");
}

#[test]
fn malformed_json() {
    assert!(matches!(Model::from_json("{not json"), Err(Error::Json(_))));
}

#[test]
fn invalid_sampler_options() {
    let (m, _, _) = quickstart();
    for (s, option) in [
        (Sampler::new(&m).chains(0), "chains"),
        (Sampler::new(&m).thin(0), "thin"),
        (Sampler::new(&m).target_accept(1.0), "target_accept"),
        (Sampler::new(&m).max_treedepth(0), "max_treedepth"),
        (Sampler::new(&m).chains(2).only_chains(vec![5]), "only_chains"),
    ] {
        let err = s.progress(false).run().unwrap_err();
        assert!(matches!(err, Error::InvalidOption { option: o, .. } if o == option), "{err:?}");
    }
    let mut init = std::collections::HashMap::new();
    init.insert("sigma".to_string(), vec![-1.0]);
    let err = Sampler::new(&m).init(Init::Values(init)).progress(false).run().unwrap_err();
    assert!(matches!(err, Error::InvalidOption { option: "init", .. }), "{err:?}");
}

#[test]
fn init_failure_after_retries() {
    // The rate is negative wherever the sampler starts, so log p is never finite.
    let mut m = Model::new();
    let a = m.rv("a", Normal::new(0.0, 1.0)).unwrap();
    m.observe("y", Exponential::new(-a.exp()), &[1.0]).unwrap();
    let err = Sampler::new(&m).chains(1).progress(false).run().unwrap_err();
    assert_eq!(err, Error::InitFailed { chain: 0, tries: 100 });
    assert_eq!(
        err.to_string(),
        "chain 0: no initial point with finite log density and gradient in 100 tries"
    );
}

#[test]
fn mutated_json_never_panics() {
    // Every numeric leaf of a valid model's JSON replaced by awkward values: loading,
    // compiling and a short run must return Ok or a typed error.
    let (mut m, mu, sigma) = quickstart();
    let t = m.rv_vec("t", Normal::new(mu, sigma), 3).unwrap();
    m.deterministic("d", (t * 2.0).exp().ln_1p() / sigma.sqrt()).unwrap();
    m.observe("y", StudentT::new(3.0, t, 1.0), &[0.1, 0.2, 0.3]).unwrap();
    let json: serde_json::Value = serde_json::from_str(&m.to_json().unwrap()).unwrap();
    fn leaves(v: &serde_json::Value, path: &mut Vec<String>, out: &mut Vec<Vec<String>>) {
        match v {
            serde_json::Value::Number(_) => out.push(path.clone()),
            serde_json::Value::Array(a) => a.iter().enumerate().for_each(|(i, x)| {
                path.push(i.to_string());
                leaves(x, path, out);
                path.pop();
            }),
            serde_json::Value::Object(o) => o.iter().for_each(|(k, x)| {
                path.push(k.clone());
                leaves(x, path, out);
                path.pop();
            }),
            _ => {}
        }
    }
    let mut paths = Vec::new();
    leaves(&json, &mut Vec::new(), &mut paths);
    assert!(paths.len() > 10);
    for path in &paths {
        for bad in
            [serde_json::json!(-1.0), serde_json::json!(0), serde_json::json!(1e308), serde_json::json!(99)]
        {
            let mut v = json.clone();
            let mut slot = &mut v;
            for k in path {
                slot = match slot {
                    serde_json::Value::Array(a) => &mut a[k.parse::<usize>().unwrap()],
                    other => &mut other[k.as_str()],
                };
            }
            *slot = bad;
            if let Ok(model) = Model::from_json(&v.to_string()) {
                let _ = Sampler::new(&model).chains(1).warmup(5).draws(5).progress(false).run();
            }
        }
    }
}

#[test]
fn bad_indices_and_matrix_shapes() {
    let mut m = Model::new();
    let a = m.rv_vec("a", Normal::new(0, 1), 3).unwrap();
    // Out of range, negative, not whole.
    for idx in [vec![0.0, 3.0], vec![-1.0], vec![0.5]] {
        let err = m.deterministic("d", a.at(idx)).unwrap_err();
        assert!(matches!(err, Error::InvalidData { ref node, .. } if node == "d"), "{err:?}");
    }
    let big = m.int_data("big", &[0, 7]).unwrap();
    assert!(matches!(m.deterministic("e", a.at(big)), Err(Error::InvalidData { index: 1, .. })));
    // An index that is not data.
    assert!(matches!(m.deterministic("f", a.at(a)), Err(Error::ShapeMismatch { .. })));
    // A design matrix with the wrong column count, a matrix indexed past its end, bad
    // dimensions.
    let x = m.data_matrix("X", 2, 2, vec![1.0, 2.0, 3.0, 4.0]).unwrap();
    let err = m.deterministic("g", x.matvec(a)).unwrap_err();
    assert!(matches!(err, Error::ShapeMismatch { ref node, .. } if node == "g"), "{err:?}");
    // A matrix is gathered by position row by row: 0..4 here.
    assert!(matches!(m.deterministic("h", x.at(vec![4.0])), Err(Error::InvalidData { .. })));
    assert!(matches!(m.deterministic("h", x.get(4)), Err(Error::ShapeMismatch { .. })));
    assert!(matches!(m.data_matrix("Y", 2, 3, vec![1.0; 5]), Err(Error::ShapeMismatch { .. })));
    assert!(matches!(m.deterministic("k", a.get(3)), Err(Error::ShapeMismatch { .. })));
    // And a model with all of them round-trips through JSON.
    let g = m.int_data("g", &[2, 0]).unwrap();
    m.deterministic("ok", x.matvec(a.at(g)) + Expr::stack([a.get(0), a.get(1)])).unwrap();
    assert_eq!(Model::from_json(&m.to_json().unwrap()).unwrap(), m);
}

/// The reason of an `InvalidNode` error for `node`, or a panic naming what came instead.
fn invalid_node(r: Result<Var, Error>, node: &str) -> String {
    match r {
        Err(Error::InvalidNode { node: n, reason }) if n == node => reason,
        other => panic!("expected InvalidNode for `{node}`, got {other:?}"),
    }
}

#[test]
fn category_out_of_range() {
    let mut m = Model::new();
    let p = m.rv("p", Dirichlet::new(vec![1.0, 1.0, 1.0])).unwrap();
    for bad in [3.0, -1.0, 1.5] {
        let reason = invalid_node(m.observe("y", Categorical::new(p), &[0.0, bad, 1.0]), "y");
        assert!(reason.contains("observation 1") && reason.contains("0..3"), "{reason}");
    }
    let l = m.rv_vec("l", Normal::new(0, 1), 2).unwrap();
    let reason = invalid_node(m.observe("z", Categorical::logit(l), &[2.0]), "z");
    assert!(reason.contains("0..2"), "{reason}");
}

/// A category may have probability zero, as in PyMC, but data probabilities must not observe
/// it (a model error naming the observation, not a log density of −∞ at the first draw), nor
/// be negative or all zero.
#[test]
fn zero_probability_categories() {
    let mut m = Model::new();
    m.observe("ok", Categorical::new(vec![0.5, 0.0, 0.5]), &[0.0, 2.0]).unwrap();
    let reason = invalid_node(m.observe("y", Categorical::new(vec![0.5, 0.0, 0.5]), &[0.0, 1.0]), "y");
    assert!(reason.contains("observation 1") && reason.contains("category 1 has probability 0"), "{reason}");
    let reason = invalid_node(m.observe("z", Categorical::new(vec![0.0, 0.0]), &[0.0]), "z");
    assert!(reason.contains("all zero"), "{reason}");
    match m.observe("w", Categorical::new(vec![0.5, -0.1, 0.6]), &[0.0]) {
        Err(Error::InvalidParameter { node, param, index: Some(1), rule, .. }) => {
            assert_eq!((node.as_str(), param.as_str()), ("w", "p"));
            assert!(rule.contains("non-negative"), "{rule}");
        }
        other => panic!("expected InvalidParameter for `w`, got {other:?}"),
    }
    // Logits have no zeros to refuse: any real is a category's weight.
    m.observe("l", Categorical::logit(vec![0.0, -30.0]), &[1.0]).unwrap();
}

/// Matrix shapes: a product's left factor is a data matrix and its right factor whole rows of
/// its columns; a reshape keeps the element count; a matrix of probabilities has a row per
/// observation, none all zero; a row broadcasts over a matrix only at the matrix's width.
#[test]
fn matrix_products_reshapes_and_rows_of_categories() {
    let shape_error = |r: exmc::Result<Var>| match r {
        Err(Error::ShapeMismatch { node, detail }) => format!("{node}: {detail}"),
        other => panic!("expected ShapeMismatch, got {other:?}"),
    };
    let mut m = Model::new();
    let x = m.data_matrix("x", 3, 2, vec![1.0, 0.5, 1.0, -1.2, 1.0, 0.3]).unwrap();
    let b = m.rv_vec("b", Normal::new(0, 1), 6).unwrap();
    let e = shape_error(m.deterministic("bad_cols", x.matmul(Expr::from(b).get(0) + vec![0.0; 5], 3)));
    assert!(e.contains("3 × 2 matrix times a 2 × 3 matrix needs 6 values") && e.contains("shape [5]"), "{e}");
    let computed = m.deterministic("eta", x.matmul(b, 3)).unwrap();
    let e = shape_error(m.deterministic("not_data", computed.matvec(vec![1.0, 2.0, 3.0])));
    assert!(e.contains("data matrix"), "{e}");
    let e = shape_error(m.deterministic("reshaped", Expr::from(b).reshape(4, 2)));
    assert!(e.contains("6 elements read as 4 × 2"), "{e}");
    let e = shape_error(m.deterministic("row", computed + vec![1.0, 2.0]));
    assert!(e.contains("[3, 3]") && e.contains("[2]"), "{e}");
    m.deterministic("row_ok", computed + vec![1.0, 2.0, 3.0]).unwrap();
    // Two rows of logits for three observations.
    let e = shape_error(m.observe("y", Categorical::logit(Expr::from(b).reshape(2, 3)), &[0.0, 1.0, 2.0]));
    assert!(e.contains("2 rows of 3 values for 3 observations"), "{e}");
    let rows = vec![0.5, 0.5, 0.0, 0.0, 0.0, 0.0];
    let reason =
        invalid_node(m.observe("z", Categorical::new(Expr::data(rows).reshape(2, 3)), &[0.0, 1.0]), "z");
    assert!(reason.contains("row 1 of `p` is all zero"), "{reason}");
    let rows = vec![0.5, 0.5, 0.0, 0.2, 0.0, 0.8];
    let reason =
        invalid_node(m.observe("w", Categorical::new(Expr::data(rows).reshape(2, 3)), &[2.0, 1.0]), "w");
    assert!(
        reason.contains("observation 0") && reason.contains("category 2 has probability 0 in row 0"),
        "{reason}"
    );
    // A matrix of means fits data of as many values, row by row; a family's parameters do not
    // broadcast a row over it (the expression does: `computed + row`).
    m.observe("v", Normal::new(computed, 1), &[0.1; 9]).unwrap();
    let e = shape_error(m.observe("u", Normal::new(computed, vec![1.0, 2.0, 3.0]), &[0.1; 9]));
    assert!(e.contains("parameter shapes [3, 3] and [3]"), "{e}");
    // A matrix right factor must be C × k.
    let e = shape_error(m.deterministic("wrong_way", x.matmul(Expr::from(b).reshape(3, 2), 3)));
    assert!(e.contains("2 × 3 matrix"), "{e}");
}

#[test]
fn covariance_not_positive_definite() {
    let mut m = Model::new();
    let mu = m.rv_vec("mu", Normal::new(0, 1), 2).unwrap();
    let reason = invalid_node(m.observe("y", MvNormal::cov(mu, vec![1.0, 2.0, 2.0, 1.0]), &[0.1, 0.2]), "y");
    assert!(reason.contains("positive definite"), "{reason}");
    let reason = invalid_node(m.observe("y", MvNormal::cov(mu, vec![1.0, 0.2, 0.3, 1.0]), &[0.1, 0.2]), "y");
    assert!(reason.contains("symmetric"), "{reason}");
    // A Cholesky factor with a non-positive diagonal, and a covariance that is not data.
    let reason = invalid_node(m.observe("y", MvNormal::new(mu, vec![1.0, 0.0, 0.5, -1.0]), &[0.1, 0.2]), "y");
    assert!(reason.contains("diagonal"), "{reason}");
    let s = m.rv("s", HalfNormal::new(1)).unwrap();
    let cov = Expr::from(s) * vec![1.0, 0.0, 0.0, 1.0];
    let reason = invalid_node(m.observe("y", MvNormal::cov(mu, cov), &[0.1, 0.2]), "y");
    assert!(reason.contains("must be data"), "{reason}");
}

#[test]
fn vector_family_shapes() {
    let mut m = Model::new();
    let mu = m.rv_vec("mu", Normal::new(0, 1), 3).unwrap();
    let shape =
        |r: Result<Var, Error>| matches!(r, Err(Error::ShapeMismatch { ref node, .. }) if node == "y");
    // A 2 × 2 factor for 3-vectors; 5 values that are not whole 2-vectors; a 3-value "matrix".
    assert!(shape(m.observe("y", MvNormal::new(mu, vec![1.0, 0.0, 0.0, 1.0]), &[0.0; 6])));
    assert!(shape(m.observe("y", MvNormal::new(0, vec![1.0, 0.0, 0.0, 1.0]), &[0.0; 5])));
    assert!(shape(m.observe("y", MvNormal::new(0, vec![1.0, 0.0, 1.0]), &[0.0; 3])));
    // An LKJ size that is sampled, and a Dirichlet whose length cannot be known.
    let n = m.rv("n", HalfNormal::new(3)).unwrap();
    assert!(m.rv("corr", LkjCholesky::new(n, 1.0)).is_err());
    assert!(matches!(m.rv("p", Dirichlet::new(1.0)), Err(Error::ShapeMismatch { .. })));
    assert!(matches!(m.rv_vec("p", Dirichlet::new(vec![1.0, 1.0]), 3), Err(Error::ShapeMismatch { .. })));
    // A matrix of draws has a draw per row (PyMC's `shape=(n, K)`), never one across rows; an
    // LKJ factor is its own n × n matrix.
    let across = m.rv_matrix("p", Dirichlet::new(vec![1.0, 1.0, 1.0]), 3, 2);
    assert!(
        matches!(across, Err(Error::ShapeMismatch { ref detail, .. }) if detail.contains("each row must be one whole draw"))
    );
    let eye = vec![1.0, 0.0, 0.0, 1.0];
    assert!(matches!(
        m.rv_matrix("b", MvNormal::new(0, eye.clone()), 2, 3),
        Err(Error::ShapeMismatch { .. })
    ));
    // Rows of K: three 2-vectors with a mean each (6 values) or one shared mean.
    m.rv_matrix("b", MvNormal::new(vec![0.0, 1.0, 2.0, 3.0, 4.0, 5.0], eye.clone()), 3, 2).unwrap();
    m.rv_matrix("b_cov", MvNormal::cov(0, eye), 3, 2).unwrap();
    assert!(matches!(m.rv_matrix("corr", LkjCholesky::new(3, 1.0), 1, 9), Err(Error::ShapeMismatch { .. })));
    let rows = m.rv_matrix("p2", Dirichlet::new(vec![1.0, 1.0, 1.0]), 2, 3).unwrap();
    m.rv_matrix("corr3", LkjCholesky::new(3, 1.0), 3, 3).unwrap();
    // A matrix is labelled by its rows and its columns, not element by element.
    let strings = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
    let labels = (0..6).map(|i| format!("l{i}")).collect();
    let why = |r: Result<(), Error>| match r {
        Err(Error::InvalidNode { node, reason }) => format!("{node}: {reason}"),
        other => panic!("{other:?}"),
    };
    assert!(why(m.set_labels(rows, labels)).contains("labelled by its rows and its columns"));
    for (r, c, want) in [
        (vec!["x", "y", "z"], vec!["a", "b", "c"], "3 row and 3 column labels for a 2 × 3 matrix"),
        (vec!["x", "y"], vec!["a", "b, c", "d"], "column label `b, c` must be free of `,`"),
        (vec!["x", "x"], vec!["a", "b", "c"], "row label `x` appears twice"),
        (vec!["x", "y"], vec!["a", "", "c"], "label `` must be non-empty"),
    ] {
        let e = why(m.set_matrix_labels(rows, strings(&r), strings(&c)));
        assert!(e.starts_with("p2: ") && e.contains(want), "{e}");
    }
    assert!(
        why(m.set_matrix_labels(mu, strings(&["a"]), strings(&["b"])))
            .contains("label a vector with set_labels")
    );
    m.set_matrix_labels(rows, strings(&["x", "y"]), strings(&["a", "b", "c"])).unwrap();
    assert_eq!(m.nodes()[rows.index()].element_name(5), "p2[y, c]");
    // Labels read from JSON are checked the same way.
    let json = m.to_json().unwrap();
    assert!(json.contains("\"y, c\""));
    let e = Model::from_json(&json.replace("\"y, c\"", "\"y, d\"")).unwrap_err().to_string();
    assert!(e.contains("labelled by its rows and its columns"), "{e}");
    // Simplex data that do not sum to one; a free categorical.
    let reason = invalid_node(m.observe("y", Dirichlet::new(vec![1.0, 1.0]), &[0.3, 0.3]), "y");
    assert!(reason.contains("sum to 1"), "{reason}");
    assert!(matches!(m.rv("c", Categorical::new(vec![0.5, 0.5])), Err(Error::ShapeMismatch { .. })));
    let reason = invalid_node(m.rv_vec("c", Categorical::new(vec![0.5, 0.5]), 3), "c");
    assert!(reason.contains("discrete"), "{reason}");
}

/// A normal mixture's weights, component lengths and value: typed errors naming the node, and
/// the same model from a file.
#[test]
fn normal_mixture_weights_and_shapes() {
    let mut m = Model::new();
    let w = m.rv("w", Dirichlet::new(vec![1.0, 1.0, 1.0])).unwrap();
    let mu = m.rv_vec("mu", Normal::new(0, 1), 3).unwrap();
    // Constant weights that do not sum to one; a weight outside [0, 1].
    let r = m.observe("y", NormalMixture::new(vec![0.5, 0.4], vec![0.0, 1.0], 1.0), &[0.1]);
    assert!(
        matches!(r, Err(Error::InvalidNode { ref node, ref reason }) if node == "y" && reason.contains("sum to 1")),
        "{r:?}"
    );
    let r = m.observe("y", NormalMixture::new(vec![1.5, -0.5], vec![0.0, 1.0], 1.0), &[0.1]);
    assert!(matches!(r, Err(Error::InvalidParameter { ref node, .. }) if node == "y"), "{r:?}");
    // Two means for three components; non-finite data.
    let r = m.observe("y", NormalMixture::new(w, vec![0.0, 1.0], 1.0), &[0.1]);
    assert!(
        matches!(r, Err(Error::ShapeMismatch { ref node, ref detail }) if node == "y" && detail.contains("`mu`")),
        "{r:?}"
    );
    // Without a length, one draw (a scalar, as in PyMC), whose parameters are still checked.
    let one = m.rv("one", NormalMixture::new(w, mu, 1.0)).unwrap();
    assert_eq!(m.nodes()[one.index()].shape, exmc::model::Shape::Scalar);
    let r = m.rv("bad", NormalMixture::new(w, vec![0.0, 1.0], 1.0));
    assert!(matches!(r, Err(Error::ShapeMismatch { ref node, .. }) if node == "bad"), "{r:?}");
    assert!(m.observe("y", NormalMixture::new(w, mu, 1.0), &[0.1, f64::NAN]).is_err());
    // One mean shared by the components, a scale each; then the same in a model file.
    m.observe("y", NormalMixture::new(w, 0.0, vec![1.0, 2.0, 3.0]), &[0.1, -2.0]).unwrap();
    m.rv_vec("x", NormalMixture::new(w, mu, 1.0), 4).unwrap();
    // A matrix of draws (PyMC's `shape=(3, 2)`): every element is a draw. Weights or means
    // given as a matrix (a set per draw) are refused, as is a Dirichlet's matrix of `alpha`,
    // rather than read as one long vector.
    m.rv_matrix("xm", NormalMixture::new(w, mu, 1.0), 3, 2).unwrap();
    let rows = m.rv_matrix("wr", Dirichlet::new(vec![1.0, 1.0]), 4, 2).unwrap();
    let r = m.observe("yr", NormalMixture::new(rows, vec![0.0, 1.0], 1.0), &[0.1, 0.2, 0.3, 0.4]);
    assert!(
        matches!(r, Err(Error::ShapeMismatch { ref detail, .. }) if detail.contains("`w` is a 4 × 2 matrix")),
        "{r:?}"
    );
    let a = m.rv_matrix("a", HalfNormal::new(1), 2, 3).unwrap();
    let r = m.rv_vec("pd", Dirichlet::new(a), 6);
    assert!(
        matches!(r, Err(Error::ShapeMismatch { ref detail, .. }) if detail.contains("`alpha` is a 2 × 3 matrix")),
        "{r:?}"
    );
    let file = "[rv.w]\ndist = \"dirichlet\"\nalpha = [1, 1, 1]\n\n[rv.mu]\ndist = \"normal\"\nmu = 0\n\
                sigma = 1\nshape = 3\n\n[observe.y]\ndist = \"NormalMixture\"\nw = \"w\"\nmu = \"mu\"\n\
                sigma = 1\ndata = [0.1, -2.0, 1.5]\n";
    let f = Model::from_model_str(file, &Default::default(), "mixture.toml").unwrap();
    assert_eq!(f.nodes()[2].dist().unwrap().kind, exmc::model::DistKind::NormalMixture);
    let bad = file.replace("shape = 3", "shape = 2");
    let r = Model::from_model_str(&bad, &Default::default(), "mixture.toml");
    assert!(matches!(r, Err(Error::ModelFile { ref node, .. }) if node == "y"), "{r:?}");
}

/// The mixtures of one family share their rules (`dist/mixture.rs`): typed errors naming the
/// node for weights, component lengths and values outside the component's support, a discrete
/// mixture that is free, and a component family that has no mixture.
#[test]
fn mixtures_of_one_family_weights_shapes_and_supports() {
    let mut m = Model::new();
    let w = m.rv("w", Dirichlet::new(vec![1.0, 1.0])).unwrap();
    let reason = |r: Result<Var, Error>, node: &str, text: &str| match r {
        Err(Error::InvalidNode { node: n, reason }) if n == node && reason.contains(text) => {}
        Err(Error::ShapeMismatch { node: n, detail }) if n == node && detail.contains(text) => {}
        other => panic!("{node}: {other:?}, expected one naming {text:?}"),
    };
    let r = m.observe("sum", PoissonMixture::new(vec![0.5, 0.6], vec![1.0, 2.0]), &[1.0]);
    reason(r, "sum", "sum to 1");
    let r = m.observe("lens", GammaMixture::new(w, vec![1.0, 2.0, 3.0], 1.0), &[1.0]);
    reason(r, "lens", "`alpha` has 3 values for 2 components");
    let r = m.observe("lens2", StudentTMixture::new(w, 4.0, 0.0, vec![1.0, 2.0, 3.0]), &[1.0]);
    reason(r, "lens2", "`sigma` has 3 values");
    let r = m.observe("frac", PoissonMixture::new(w, vec![1.0, 2.0]), &[1.0, 2.5]);
    reason(r, "frac", "observation 1 = 2.5: must be a whole number ≥ 0 (poisson's support)");
    let r = m.observe("neg", NegativeBinomialMixture::new(w, 1.0, 2.0), &[-1.0]);
    reason(r, "neg", "(negative_binomial's support)");
    let r = m.observe("one", BetaMixture::new(w, 2.0, vec![1.0, 3.0]), &[0.5, 1.0]);
    reason(r, "one", "must lie in (0, 1) (beta's support)");
    let r = m.observe("zero", ExponentialMixture::new(w, vec![1.0, 2.0]), &[0.0]);
    reason(r, "zero", "must be positive and finite (exponential's support)");
    let r = m.rv("free_counts", PoissonMixture::new(w, vec![1.0, 2.0]));
    reason(r, "free_counts", "discrete");
    let r = Mixture::new(w, Poisson::log(1.0));
    assert_eq!(r.map(|d| d.kind), Err(Error::NoMixture { dist: "poisson_log" }));
    // The valid forms: a free positive mixture, one without a length (a scalar); the generic
    // constructor gives the family's mixture.
    m.rv_vec("x", LogNormalMixture::new(w, vec![0.0, 1.0], 0.5), 3).unwrap();
    let one = m.rv("x1", GammaMixture::new(w, 2.0, vec![1.0, 3.0])).unwrap();
    assert_eq!(m.nodes()[one.index()].shape, exmc::model::Shape::Scalar);
    let d = Mixture::new(w, StudentT::new(4.0, vec![0.0, 1.0], 1.0)).unwrap();
    assert_eq!((d.kind, d.params.len()), (exmc::model::DistKind::StudentTMixture, 4));
    m.observe("ok", d, &[0.3, -1.2]).unwrap();
}

#[test]
fn ordered_transform_and_ordinal_outcomes() {
    let mut m = Model::new();
    let invalid = |r: Result<(), Error>, name: &str, words: &str| {
        assert!(
            matches!(r, Err(Error::InvalidNode { ref node, ref reason }) if node == name && reason.contains(words)),
            "{r:?}"
        );
    };
    // Ordering needs a free vector (or matrix) of a family on the real line.
    let s = m.rv_vec("s", HalfNormal::new(1), 3).unwrap();
    invalid(m.ordered(s), "s", "real line");
    let a = m.rv("a", Normal::new(0, 1)).unwrap();
    invalid(m.ordered(a), "a", "vector or matrix");
    let z = m.observe("z", Normal::new(a, 1), &[0.1, 0.2]).unwrap();
    invalid(m.ordered(z), "z", "free random variables");
    // A refused request leaves the node as it was: the model still samples.
    assert!(!m.to_json().unwrap().contains("\"ordered\""));
    let cut = m.rv_vec("cut", Normal::new(0, 3), 2).unwrap();
    m.ordered(cut).unwrap();
    // Constant cut points must increase; outcomes are categories 0..K; one eta per outcome.
    let r = m.observe("y", OrderedLogistic::new(a, vec![0.5, -0.5]), &[0.0, 1.0]);
    assert!(
        matches!(r, Err(Error::InvalidNode { ref node, ref reason }) if node == "y" && reason.contains("increase")),
        "{r:?}"
    );
    for bad in [3.0, 1.5] {
        let r = m.observe("y", OrderedLogistic::new(a, cut), &[0.0, bad]).map(|_| ());
        invalid(r, "y", "observation 1");
    }
    let r = m.observe("y", OrderedLogistic::new(vec![0.1, 0.2, 0.3], cut), &[0.0, 1.0]);
    assert!(
        matches!(r, Err(Error::ShapeMismatch { ref node, ref detail }) if node == "y" && detail.contains("`eta`")),
        "{r:?}"
    );
    // A vector of one value does not broadcast over the outcomes.
    let one = m.rv_vec("one", Normal::new(0, 1), 1).unwrap();
    let r = m.observe("y", OrderedLogistic::new(one, cut), &[0.0, 1.0]);
    assert!(
        matches!(r, Err(Error::ShapeMismatch { ref node, ref detail }) if node == "y" && detail.contains("`eta` has 1")),
        "{r:?}"
    );
    let rows = m.rv_matrix("rows", Normal::new(0, 1), 2, 2).unwrap();
    let r = m.observe("y", OrderedLogistic::new(a, rows), &[0.0, 1.0]);
    assert!(matches!(r, Err(Error::ShapeMismatch { .. })), "{r:?}");
    m.observe("y", OrderedLogistic::new(vec![0.1, 0.2], cut), &[0.0, 2.0]).unwrap();
    let fit = Sampler::new(&m).chains(1).warmup(100).draws(50).progress(false).run().unwrap();
    let c = fit.trace.var("cut").unwrap();
    assert!(c.values.chunks(2).all(|c| c[0] < c[1]));
    // Initial values must increase too; increasing ones start the chain there.
    let init = |v: Vec<f64>| {
        let values = std::collections::HashMap::from([("cut".to_string(), v)]);
        Sampler::new(&m).chains(1).warmup(0).draws(1).init(Init::Values(values)).progress(false).run()
    };
    let r = init(vec![0.5, 0.5]);
    assert!(
        matches!(r, Err(Error::InvalidOption { option: "init", ref reason }) if reason.contains("`cut`")),
        "{r:?}"
    );
    init(vec![-0.5, 0.5]).unwrap();
    // New covariates of another length: the replicates take the predictor's length, and the
    // pointwise log-likelihood, whose data no longer match, is a typed error.
    let mut r = Model::new();
    let x = r.data("x", vec![-1.0, 0.5, 2.0]).unwrap();
    let b = r.rv("b", Normal::new(0, 1)).unwrap();
    let cut = r.rv_vec("cut", Normal::new(0, 3), 2).unwrap();
    r.ordered(cut).unwrap();
    r.observe("y", OrderedProbit::new(b * x, cut), &[0.0, 1.0, 2.0]).unwrap();
    let fit = Sampler::new(&r).chains(1).warmup(100).draws(20).progress(false).run().unwrap();
    r.set_data("x", vec![0.0, 1.0, 2.0, 3.0, 4.0]).unwrap();
    let rep = exmc::sampler::posterior_predictive(&r, &fit, 1).unwrap();
    assert_eq!(rep.draws("y").unwrap().shape(), vec![1, 20, 5]);
    let ll = exmc::sampler::log_likelihood(&r, &fit);
    assert!(matches!(ll, Err(Error::ShapeMismatch { ref node, .. }) if node == "y"), "{ll:?}");
    // In a model file: `transform = "ordered"` in an [rv] table only, and no other transform.
    let file = "[rv.cut]\ndist = \"normal\"\nmu = 0\nsigma = 3\nshape = 3\ntransform = \"ordered\"\n\n\
                [observe.y]\ndist = \"OrderedLogistic\"\neta = 0.5\ncutpoints = \"cut\"\ndata = [0, 3, 1]\n";
    let f = Model::from_model_str(file, &Default::default(), "ordinal.toml").unwrap();
    assert!(matches!(f.nodes()[0].kind, exmc::model::NodeKind::Free { ordered: true, .. }));
    let field = |text: String, node: &str, field: &str| {
        let r = Model::from_model_str(&text, &Default::default(), "ordinal.toml");
        assert!(
            matches!(r, Err(Error::ModelFile { node: ref n, field: ref f, .. }) if n == node && f == field),
            "{r:?}"
        );
    };
    field(file.replace("\"ordered\"", "\"log\""), "cut", "transform");
    field(
        file.replace("dist = \"normal\"", "dist = \"half_normal\"").replace("mu = 0\n", ""),
        "cut",
        "transform",
    );
    field(file.replace("data = [0, 3, 1]", "data = [0, 3, 1]\ntransform = \"ordered\""), "y", "transform");
    field(file.replace("shape = 3", "shape = 2"), "y", "");
}
