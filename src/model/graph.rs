//! The model as a graph in Graphviz's DOT language (PyMC's `pm.model_to_graphviz`): one node
//! per model node, drawn as PyMC draws it, an edge from every node an expression reads, and
//! nodes of one shape inside a plate labelled with it.

use std::collections::BTreeMap;
use std::fmt::Write;

use super::{Model, Node, NodeKind, Shape};

/// A string as a DOT quoted identifier: DOT's one escape is `\"` (a backslash otherwise
/// stands for itself), so the identifier is the name.
fn quoted(s: &str) -> String {
    format!("\"{}\"", s.replace('"', "\\\""))
}

/// `s` inside a quoted label, where Graphviz reads backslash escapes (`\n`, `\l`): a
/// backslash is doubled to stand for itself, and `"` escaped.
fn label_text(s: &str) -> String {
    s.replace('\\', "\\\\").replace('"', "\\\"")
}

/// The node's statement: its name, `~`, what it is (the family, `Deterministic`, …), in
/// PyMC's shapes: free variables as ellipses, observed ones filled grey, deterministics as
/// boxes, data as rounded boxes, potentials as octagons.
fn statement(node: &Node) -> String {
    let (what, attrs) = match &node.kind {
        NodeKind::Free { dist, .. } => (format!("{:?}", dist.kind), "shape=ellipse"),
        NodeKind::Observed { dist, .. } => {
            (format!("{:?}", dist.kind), "shape=ellipse, style=filled, fillcolor=lightgrey")
        }
        NodeKind::Deterministic { .. } => ("Deterministic".into(), "shape=box"),
        NodeKind::Potential { .. } => ("Potential".into(), "shape=octagon"),
        NodeKind::Data { .. } => ("Data".into(), "shape=box, style=\"rounded, filled\", fillcolor=white"),
    };
    // `\n` centres each line.
    format!("{} [label=\"{}\\n~\\n{what}\", {attrs}]", quoted(&node.name), label_text(&node.name))
}

/// A plate's label: the length, or `rows x columns`.
fn plate(shape: Shape) -> Option<String> {
    match shape {
        Shape::Scalar => None,
        Shape::Vector(n) => Some(n.to_string()),
        Shape::Matrix(r, c) => Some(format!("{r} x {c}")),
    }
}

impl Model {
    /// The model as a Graphviz DOT graph, as PyMC's `pm.model_to_graphviz` draws it: free
    /// variables as ellipses, observed ones filled grey, deterministics as boxes, data as
    /// rounded boxes, potentials as octagons, each labelled `name ~ Family`; an edge from
    /// every node an expression of another reads (parameters, bounds, values, recurrence
    /// steps); nodes of one shape inside a plate labelled with it (`8`, `3 x 4`). Render it
    /// with Graphviz (`dot -Tsvg model.dot`); `exmc graph` prints it.
    ///
    /// ```
    /// use exmc::prelude::*;
    /// let mut m = Model::new();
    /// let mu = m.rv("mu", Normal::new(0.0, 5.0))?;
    /// let tau = m.rv("tau", HalfCauchy::new(5.0))?;
    /// let theta = m.rv_vec("theta", Normal::new(mu, tau), 8)?;
    /// m.observe("y", Normal::new(theta, 10.0), &[28.0, 8.0, -3.0, 7.0, -1.0, 1.0, 18.0, 12.0])?;
    /// let dot = m.to_dot();
    /// assert!(dot.contains("\"mu\" -> \"theta\"") && dot.contains("\"theta\" -> \"y\""));
    /// # Ok::<(), exmc::Error>(())
    /// ```
    pub fn to_dot(&self) -> String {
        let nodes = self.nodes();
        let mut plates: BTreeMap<String, Vec<&Node>> = BTreeMap::new();
        let mut out = String::from("digraph {\n");
        for node in nodes {
            match plate(node.shape) {
                Some(label) => plates.entry(label).or_default().push(node),
                None => {
                    let _ = writeln!(out, "    {}", statement(node));
                }
            }
        }
        for (i, (label, members)) in plates.iter().enumerate() {
            let _ = writeln!(
                out,
                "    subgraph cluster_{i} {{\n        label={}\n        labeljust=r\n        labelloc=b\n        style=rounded",
                quoted(label)
            );
            for node in members {
                let _ = writeln!(out, "        {}", statement(node));
            }
            out.push_str("    }\n");
        }
        for node in nodes {
            let mut refs = Vec::new();
            node.exprs().iter().for_each(|e| e.refs(&mut refs));
            let mut parents: Vec<usize> = refs.iter().map(|r| r.index).collect();
            parents.sort_unstable();
            parents.dedup();
            for parent in parents.into_iter().filter_map(|p| nodes.get(p)) {
                let _ = writeln!(out, "    {} -> {}", quoted(&parent.name), quoted(&node.name));
            }
        }
        out.push_str("}\n");
        out
    }
}
