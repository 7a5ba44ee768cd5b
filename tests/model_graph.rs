//! The model graph in Graphviz's DOT language (`Model::to_dot`, PyMC's `model_to_graphviz`):
//! nodes drawn as PyMC draws them, the edges every expression reads, plates by shape; and
//! Graphviz itself (`dot -Tplain`) reading the graph back to the same nodes and edges.
//! Without Graphviz the read-back skips with a message, unless `EXMC_REQUIRE_GRAPHVIZ=1`
//! (`.ci/run`, which installs it).

use std::collections::BTreeSet;
use std::io::Write;
use std::process::{Command, Stdio};

use exmc::prelude::*;

/// Every `"a" -> "b"` edge of a DOT text written by `to_dot`.
fn edges(dot: &str) -> BTreeSet<(String, String)> {
    dot.lines()
        .filter_map(|l| l.trim().split_once(" -> "))
        .map(|(a, b)| (a.trim_matches('"').to_string(), b.trim_matches('"').to_string()))
        .collect()
}

fn pairs(list: &[(&str, &str)]) -> BTreeSet<(String, String)> {
    list.iter().map(|(a, b)| (a.to_string(), b.to_string())).collect()
}

/// A model with a node of every kind, a matrix, a recurrence and a transformed observation.
fn every_kind() -> Model {
    let mut m = Model::new();
    let mu = m.rv("mu", Normal::new(0.0, 5.0)).unwrap();
    let tau = m.rv("tau", HalfCauchy::new(5.0)).unwrap();
    let theta = m.rv_vec("theta", Normal::new(mu, tau), 8).unwrap();
    let sigma = m.data("sigma", vec![15.0, 10.0, 16.0, 11.0, 9.0, 11.0, 10.0, 18.0]).unwrap();
    m.observe("y", Normal::new(theta, sigma), &[28.0, 8.0, -3.0, 7.0, -1.0, 1.0, 18.0, 12.0]).unwrap();
    m.deterministic("spread", tau * 2.0).unwrap();
    m.potential("keep_mu_small", -(mu * mu)).unwrap();
    let x = m.data_matrix("X", 3, 2, vec![1.0, 0.5, 1.0, -0.2, 1.0, 0.9]).unwrap();
    let beta = m.rv_vec("beta", Normal::new(0.0, 1.0), 2).unwrap();
    m.observe("z", Normal::new(x.matvec(beta), 1.0), &[0.4, -0.1, 1.2]).unwrap();
    let rho = m.rv("rho", Uniform::new(-0.9, 0.9)).unwrap();
    let ar = Expr::scan(0.0, [&[0.1, 0.3, -0.2][..]], 3, |prev, _| prev * rho);
    m.observe("w", Normal::new(ar, 1.0), &[0.0, 0.1, 0.2]).unwrap();
    // An observation of a function of its draw reads the nodes of that function.
    let scale = m.rv("scale", HalfNormal::new(1.0)).unwrap();
    m.observe_transformed("v", Normal::new(0.0, 1.0), |x| x * scale, &[0.3, -0.2, 0.9]).unwrap();
    m
}

#[test]
fn nodes_edges_and_plates_as_pymc_draws_them() {
    let dot = every_kind().to_dot();
    assert!(dot.starts_with("digraph {\n") && dot.ends_with("}\n"), "{dot}");
    for statement in [
        r#""mu" [label="mu\n~\nNormal", shape=ellipse]"#,
        r#""tau" [label="tau\n~\nHalfCauchy", shape=ellipse]"#,
        r#""y" [label="y\n~\nNormal", shape=ellipse, style=filled, fillcolor=lightgrey]"#,
        r#""sigma" [label="sigma\n~\nData", shape=box, style="rounded, filled", fillcolor=white]"#,
        r#""spread" [label="spread\n~\nDeterministic", shape=box]"#,
        r#""keep_mu_small" [label="keep_mu_small\n~\nPotential", shape=octagon]"#,
        r#""X" [label="X\n~\nData", shape=box"#,
    ] {
        assert!(dot.contains(statement), "{statement} missing from\n{dot}");
    }
    // Plates by shape: theta, sigma and y share one of 8; X is 3 x 2; beta has one of 2; z, w
    // and v share one of 3.
    for label in ["label=\"8\"", "label=\"3 x 2\"", "label=\"2\"", "label=\"3\""] {
        assert_eq!(dot.matches(label).count(), 1, "{label} in\n{dot}");
    }
    let plate_of_8 = dot.split("label=\"8\"").nth(1).unwrap().split('}').next().unwrap();
    for name in ["\"theta\"", "\"sigma\"", "\"y\""] {
        assert!(plate_of_8.contains(name), "{name} outside the plate of 8:\n{plate_of_8}");
    }
    let want = pairs(&[
        ("mu", "theta"),
        ("tau", "theta"),
        ("theta", "y"),
        ("sigma", "y"),
        ("tau", "spread"),
        ("mu", "keep_mu_small"),
        ("X", "z"),
        ("beta", "z"),
        ("rho", "w"),
        ("scale", "v"),
    ]);
    assert_eq!(edges(&dot), want, "{dot}");
    // A name that needs DOT's escapes (quotes and backslashes are allowed in names).
    let dot = odd_names().to_dot();
    // The identifier is the name (DOT's only escape is `\"`); the label doubles the backslash,
    // which Graphviz's labels read as an escape.
    assert!(dot.contains(r#"    "a \"quoted\" \ name" -> "b""#), "{dot}");
    assert!(dot.contains(r#"[label="a \"quoted\" \\ name\n~\nNormal""#), "{dot}");
}

fn odd_names() -> Model {
    let mut m = Model::new();
    let a = m.rv("a \"quoted\" \\ name", Normal::new(0.0, 1.0)).unwrap();
    m.deterministic("b", a * 2.0).unwrap();
    m
}

/// `dot -Tplain` of `dot`, or `None` (after saying why) where Graphviz is not installed.
fn graphviz_plain(dot: &str) -> Option<String> {
    let child = Command::new("dot").arg("-Tplain").stdin(Stdio::piped()).stdout(Stdio::piped()).spawn();
    let Ok(mut child) = child else {
        assert!(
            std::env::var("EXMC_REQUIRE_GRAPHVIZ").as_deref() != Ok("1"),
            "EXMC_REQUIRE_GRAPHVIZ=1 but Graphviz's `dot` was not found"
        );
        eprintln!("model_graph: the read-back is skipped, Graphviz's `dot` is not installed");
        return None;
    };
    child.stdin.take().unwrap().write_all(dot.as_bytes()).unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "dot refused the graph:\n{dot}");
    Some(String::from_utf8(out.stdout).unwrap())
}

/// Graphviz parses and lays out the graph: `dot -Tplain` lists the same nodes and edges.
#[test]
fn graphviz_reads_the_graph_back() {
    let dot = every_kind().to_dot();
    let Some(plain) = graphviz_plain(&dot) else { return };
    // `node NAME x y w h LABEL …` and `edge TAIL HEAD n x1 y1 … style color`, names bare.
    let word = |l: &str, i: usize| l.split_whitespace().nth(i).unwrap().trim_matches('"').to_string();
    let nodes: BTreeSet<String> =
        plain.lines().filter(|l| l.starts_with("node ")).map(|l| word(l, 1)).collect();
    let laid: BTreeSet<(String, String)> =
        plain.lines().filter(|l| l.starts_with("edge ")).map(|l| (word(l, 1), word(l, 2))).collect();
    let model = every_kind();
    let names: BTreeSet<String> = model.nodes().iter().map(|n| n.name.clone()).collect();
    assert_eq!(nodes, names);
    assert_eq!(laid, edges(&dot));
    // The escaped name is one node with one edge.
    let plain = graphviz_plain(&odd_names().to_dot()).unwrap();
    assert_eq!(plain.lines().filter(|l| l.starts_with("node ")).count(), 2, "{plain}");
    assert_eq!(plain.lines().filter(|l| l.starts_with("edge ")).count(), 1, "{plain}");
}
