//! Model validation: names, references, cycles, shapes, parameter domains and data.

use super::expr::ConstValue;
use super::measure::Measure;
use super::{Dist, Expr, ExprNode, Model, Node, NodeKind, Shape, Support};
use crate::error::{Error, Result};

/// Shape of an expression given the nodes it may read (one pass in evaluation order).
pub(crate) fn expr_shape(nodes: &[Node], e: &Expr, at: &str) -> Result<Shape> {
    expr_shape_in(nodes, e, at, None)
}

/// What a recurrence's step reads besides nodes: the state's shape and each slice's.
struct StepShapes {
    state: Shape,
    slices: Vec<Shape>,
}

/// [`expr_shape`] of a recurrence's step (`step` set) or of a top-level expression.
fn expr_shape_in(nodes: &[Node], e: &Expr, at: &str, step: Option<&StepShapes>) -> Result<Shape> {
    let live = e.live();
    let mut shapes = vec![Shape::Scalar; e.len()];
    for (i, node) in e.nodes().iter().enumerate().filter(|(i, _)| live[*i]) {
        shapes[i] = match node {
            ExprNode::Const(c) | ExprNode::Pow(_, c) if !c.is_finite() => {
                return Err(Error::NonFiniteConstant { node: at.to_string(), value: *c });
            }
            ExprNode::Const(_) => Shape::Scalar,
            ExprNode::Data(v) if v.is_empty() => {
                return Err(Error::ShapeMismatch {
                    node: at.to_string(),
                    detail: "empty data vector".into(),
                });
            }
            ExprNode::Data(v) => {
                if let Some((i, x)) = v.iter().enumerate().find(|(_, x)| !x.is_finite()) {
                    return Err(Error::NonFiniteData { node: at.to_string(), index: i, value: *x });
                }
                Shape::Vector(v.len())
            }
            ExprNode::Var(r) => {
                nodes.get(r.index).ok_or(Error::UnknownNode { node: at.to_string(), index: r.index })?.shape
            }
            // Elementwise: a matrix keeps its shape.
            ExprNode::Unary(_, a) | ExprNode::Pow(a, _) => shapes[*a],
            ExprNode::Sum(_) | ExprNode::Mean(_) => Shape::Scalar,
            ExprNode::CumSum(a) => match shapes[*a] {
                Shape::Matrix(..) => {
                    return Err(Error::ShapeMismatch {
                        node: at.to_string(),
                        detail: "`cumsum` takes a vector, not a matrix".into(),
                    });
                }
                s => s,
            },
            ExprNode::Diff(a) => match shapes[*a] {
                Shape::Vector(n) if n >= 2 => Shape::Vector(n - 1),
                s => {
                    return Err(Error::ShapeMismatch {
                        node: at.to_string(),
                        detail: format!("`diff` needs a vector of at least 2 values; got {}", s.len()),
                    });
                }
            },
            ExprNode::Cholesky(a) => match super::dist::vector::square_side(shapes[*a].len()) {
                Some(k) if shapes[*a] == Shape::Matrix(k, k) || shapes[*a] == Shape::Vector(k * k) => {
                    Shape::Matrix(k, k)
                }
                _ => {
                    return Err(Error::ShapeMismatch {
                        node: at.to_string(),
                        detail: format!(
                            "`cholesky` needs a K × K matrix (K ≥ 2); got shape {:?}",
                            shapes[*a].dims()
                        ),
                    });
                }
            },
            // A matrix is read by position, row by row.
            ExprNode::Gather(src, idx) => {
                let len = shapes[*src].len();
                let values = integer_data(nodes, e, *idx, at)?;
                if let Some((k, &v)) =
                    values.iter().enumerate().find(|(_, v)| super::expr::index(**v, len).is_none())
                {
                    return Err(Error::InvalidData {
                        node: at.to_string(),
                        index: k,
                        value: v,
                        rule: "an index of `at` must be a whole number in 0..the length of the indexed vector",
                    });
                }
                Shape::Vector(values.len())
            }
            ExprNode::Get(src, k) => {
                let len = shapes[*src].len();
                if *k >= len {
                    return Err(Error::ShapeMismatch {
                        node: at.to_string(),
                        detail: format!("element {k} of a value of length {len}"),
                    });
                }
                Shape::Scalar
            }
            ExprNode::Stack(items) => {
                if items.is_empty() || items.iter().any(|&a| shapes[a] != Shape::Scalar) {
                    return Err(Error::ShapeMismatch {
                        node: at.to_string(),
                        detail: "`stack` takes one or more scalars".into(),
                    });
                }
                Shape::Vector(items.len())
            }
            ExprNode::MatVec(x, v) => {
                let Some(Shape::Matrix(rows, cols)) = data_matrix(nodes, e, *x, shapes[*x]) else {
                    return Err(Error::ShapeMismatch {
                        node: at.to_string(),
                        detail: "`matvec` needs a data matrix (Model::data_matrix) on the left".into(),
                    });
                };
                if shapes[*v].len() != cols || matches!(shapes[*v], Shape::Matrix(_, c) if c != 1) {
                    return Err(Error::ShapeMismatch {
                        node: at.to_string(),
                        detail: format!(
                            "a {rows} × {cols} matrix times a value of length {}",
                            shapes[*v].len()
                        ),
                    });
                }
                Shape::Vector(rows)
            }
            ExprNode::MatMul(x, b, k) => {
                let Some(Shape::Matrix(rows, cols)) = data_matrix(nodes, e, *x, shapes[*x]) else {
                    return Err(Error::ShapeMismatch {
                        node: at.to_string(),
                        detail: "`matmul` needs a data matrix (Model::data_matrix) on the left".into(),
                    });
                };
                let fits = match shapes[*b] {
                    Shape::Matrix(r2, c2) => r2 == cols && c2 == *k,
                    Shape::Vector(n) => n == cols.saturating_mul(*k),
                    Shape::Scalar => false,
                };
                if *k < 2 || !fits {
                    return Err(Error::ShapeMismatch {
                        node: at.to_string(),
                        detail: format!(
                            "a {rows} × {cols} matrix times a {cols} × {k} matrix needs {} values \
                             (k ≥ 2), not a value of shape {:?}",
                            cols.saturating_mul(*k),
                            shapes[*b].dims()
                        ),
                    });
                }
                Shape::Matrix(rows, *k)
            }
            ExprNode::Reshape(a, r, c) => {
                if r.checked_mul(*c) != Some(shapes[*a].len()) || *r == 0 || *c == 0 {
                    return Err(Error::ShapeMismatch {
                        node: at.to_string(),
                        detail: format!("a value of {} elements read as {r} × {c}", shapes[*a].len()),
                    });
                }
                Shape::Matrix(*r, *c)
            }
            ExprNode::TrilMul(l, z) => {
                let (n, m) = (shapes[*l].len(), shapes[*z].len());
                match super::dist::vector::square_side(n) {
                    Some(k) if m.is_multiple_of(k) && shapes[*z] != Shape::Scalar => Shape::Vector(m),
                    _ => {
                        return Err(Error::ShapeMismatch {
                            node: at.to_string(),
                            detail: format!(
                                "`tril_mul` needs a K × K factor (K² values, K ≥ 2) and whole K-rows; got {n} and {m} values"
                            ),
                        });
                    }
                }
            }
            ExprNode::State => step.map(|s| s.state).ok_or_else(|| Error::ShapeMismatch {
                node: at.to_string(),
                detail: "the previous state is read outside a recurrence's step".into(),
            })?,
            ExprNode::Step(k) => {
                step.and_then(|s| s.slices.get(*k).copied()).ok_or_else(|| Error::ShapeMismatch {
                    node: at.to_string(),
                    detail: format!(
                        "sequence {k} is read outside a recurrence's step, or the recurrence has fewer"
                    ),
                })?
            }
            ExprNode::Scan(scan) => scan_shape(nodes, scan, &shapes, at)?,
            ExprNode::Binary(op, a, b) => {
                let (sa, sb) = (shapes[*a], shapes[*b]);
                sa.broadcast(sb).ok_or_else(|| Error::ShapeMismatch {
                    node: at.to_string(),
                    detail: format!("operands of {op:?} have shapes {:?} and {:?}", sa.dims(), sb.dims()),
                })?
            }
        };
    }
    Ok(shapes[e.len() - 1])
}

/// Shape of a recurrence's value (`steps · len(state)` values), after checking its step.
fn scan_shape(nodes: &[Node], scan: &super::expr::ScanExpr, shapes: &[Shape], at: &str) -> Result<Shape> {
    let bad = |detail: String| Error::ShapeMismatch { node: at.to_string(), detail };
    let steps = scan.steps;
    if steps == 0 {
        return Err(bad("a recurrence needs at least one step".into()));
    }
    let Some((&init, seqs)) = scan.args.split_first() else {
        return Err(bad("a recurrence needs an initial state".into()));
    };
    let state = vector_or_scalar(shapes[init], at)?;
    let mut slices = Vec::with_capacity(seqs.len());
    for (k, &q) in seqs.iter().enumerate() {
        // A matrix is a sequence of its rows' values, in order.
        let len = shapes[q].len();
        if !len.is_multiple_of(steps) {
            return Err(bad(format!(
                "sequence {k} of a recurrence has {len} values, not a multiple of its {steps} steps (a lag or window longer than the series?)"
            )));
        }
        let w = len / steps;
        slices.push(if w == 1 { Shape::Scalar } else { Shape::Vector(w) });
    }
    let next = expr_shape_in(nodes, &scan.step, at, Some(&StepShapes { state, slices }))?;
    if next.len() != state.len() || matches!(next, Shape::Matrix(..)) {
        return Err(bad(format!(
            "a recurrence's step returns {} values from a state of {}: the state's shape must not change",
            next.len(),
            state.len()
        )));
    }
    Ok(Shape::Vector(steps * state.len()))
}

fn check_refs(model: &Model, node: &Node, limit: usize) -> Result<()> {
    for e in node.exprs() {
        let mut refs = Vec::new();
        e.refs(&mut refs);
        for r in refs {
            if !model.owns(r.owner, r.index) {
                return Err(Error::ForeignVar { node: node.name.clone() });
            }
            if r.index >= limit {
                return Err(Error::UnknownNode { node: node.name.clone(), index: r.index });
            }
            if let NodeKind::Potential { .. } = model.nodes[r.index].kind {
                return Err(Error::InvalidNode {
                    node: node.name.clone(),
                    reason: format!(
                        "reads `{}`, a potential: a log-density term, not a value",
                        model.nodes[r.index].name
                    ),
                });
            }
        }
    }
    Ok(())
}

/// Validates a node about to be appended, inferring its shape unless `explicit`.
pub(crate) fn node(model: &Model, node: &mut Node, explicit: bool) -> Result<()> {
    check_refs(model, node, model.nodes.len())?;
    check_not_empty(node)?;
    per_row_family(&model.nodes, node)?;
    repeat_trials(&model.nodes, node)?;
    let shape = value_shape(&model.nodes, node, explicit.then_some(node.shape))?;
    if !explicit {
        node.shape = shape;
    } else if !shape.fits(node.shape) {
        return Err(Error::ShapeMismatch {
            node: node.name.clone(),
            detail: format!(
                "parameters have length {} but the node has length {}",
                shape.len(),
                node.shape.len()
            ),
        });
    }
    observed_only_rules(&model.nodes, node)?;
    contents(&model.nodes, node)
}

/// A family whose parameter is a matrix (PyMC's `Categorical(p)` with `p` of shape `(n, K)`)
/// becomes its per-row form ([`DistKind::per_row`]): one row per observation.
fn per_row_family(nodes: &[Node], node: &mut Node) -> Result<()> {
    if let Some(rows) = per_row_kind(nodes, node)?
        && let Some(dist) = node.dist_mut()
    {
        dist.kind = rows;
    }
    Ok(())
}

/// A multinomial's `n` given once beside a matrix parameter of `B ≥ 2` rows (PyMC broadcasts
/// `n` over `p`'s rows) becomes `B` values, one per draw: the families count the draws by
/// `n`'s length.
fn repeat_trials(nodes: &[Node], node: &mut Node) -> Result<()> {
    if let Some(n) = repeated_trials(nodes, node)?
        && let Some(dist) = node.dist_mut()
    {
        dist.params[0] = n;
    }
    Ok(())
}

/// [`repeat_trials`]'s `n`, one value per row of the matrix parameter, where it applies.
pub(crate) fn repeated_trials(nodes: &[Node], node: &Node) -> Result<Option<Expr>> {
    let Some(dist) = node.dist() else { return Ok(None) };
    if !matches!(dist.kind, super::DistKind::Multinomial | super::DistKind::DirichletMultinomial)
        || dist.params.len() != 2
    {
        return Ok(None);
    }
    let Shape::Matrix(rows @ 2.., _) = expr_shape(nodes, &dist.params[1], &node.name)? else {
        return Ok(None);
    };
    if expr_shape(nodes, &dist.params[0], &node.name)?.len() != 1 {
        return Ok(None);
    }
    let n = dist.params[0].clone();
    Ok(Some(match n.as_const() {
        Some(c) => Expr::data(vec![c; rows]),
        None => n.at(Expr::data(vec![0.0; rows])),
    }))
}

/// The per-row form `node`'s family takes (see [`per_row_family`]; itself for a per-row
/// family), if any, after checking that a matrix parameter has a row per observation.
pub(crate) fn per_row_kind(nodes: &[Node], node: &Node) -> Result<Option<super::DistKind>> {
    let Some(dist) = node.dist() else { return Ok(None) };
    let rows = match dist.kind.per_row() {
        Some(rows) => rows,
        None if dist.kind.one_row().is_some() => dist.kind,
        None => return Ok(None),
    };
    let Some(param) = dist.params.first() else { return Ok(None) };
    let Shape::Matrix(r, k) = expr_shape(nodes, param, &node.name)? else { return Ok(None) };
    if let NodeKind::Observed { data, .. } = &node.kind
        && data.len() != r
    {
        return Err(Error::ShapeMismatch {
            node: node.name.clone(),
            detail: format!("the parameter has {r} rows of {k} values for {} observations", data.len()),
        });
    }
    Ok(Some(rows))
}

fn check_not_empty(node: &Node) -> Result<()> {
    if node.shape.is_empty() && !matches!(node.kind, NodeKind::Observed { .. }) {
        return Err(Error::ShapeMismatch {
            node: node.name.clone(),
            detail: "a vector node needs length ≥ 1".into(),
        });
    }
    if node.shape.len() > Shape::MAX_LEN {
        return Err(Error::TooLarge {
            what: format!("node `{}`", node.name),
            elements: node.shape.len() as u128,
            reason: format!("a node holds at most {} elements", Shape::MAX_LEN),
        });
    }
    Ok(())
}

/// The value of `e` when it reads only constants and data nodes (`None` otherwise): what can be
/// checked against domains and supports at build time.
pub(crate) fn eval_data(nodes: &[Node], e: &Expr) -> Option<ConstValue> {
    let mut refs = Vec::new();
    e.refs(&mut refs);
    if refs.iter().any(|r| !matches!(nodes.get(r.index).map(|n| &n.kind), Some(NodeKind::Data { .. }))) {
        return None;
    }
    e.eval_with(&|i| match &nodes.get(i)?.kind {
        NodeKind::Data { values, .. } => Some(ConstValue { values: values.to_vec(), vector: true }),
        _ => None,
    })
}

/// Discrete families and those with a point mass (a continuous hurdle) are observed only, and
/// count parameters (a Binomial's `n`) must not depend on free variables.
fn observed_only_rules(nodes: &[Node], node: &Node) -> Result<()> {
    let Some(dist) = node.dist() else { return Ok(()) };
    let bad = |reason: String| Err(Error::InvalidNode { node: node.name.clone(), reason });
    if let Some(reason) = dist.kind.support().observed_only_reason()
        && node.is_free()
    {
        return bad(format!(
            "{} {reason}: it can only be observed (NUTS samples continuous variables)",
            dist.kind.name()
        ));
    }
    for ((name, domain), e) in dist.kind.params().iter().zip(&dist.params) {
        if *domain == crate::model::Domain::Count && reads_free(nodes, e) {
            return bad(format!(
                "parameter `{name}` of {} is a count: it must be data, not sampled",
                dist.kind.name()
            ));
        }
        if domain.data_only() && eval_data(nodes, e).is_none() {
            return bad(format!(
                "parameter `{name}` of {} must be data (constants and data nodes)",
                dist.kind.name()
            ));
        }
    }
    Ok(())
}

/// Whether `e` depends on a free variable (through deterministics), iteratively.
fn reads_free(nodes: &[Node], e: &Expr) -> bool {
    let mut seen = std::collections::HashSet::new();
    let mut stack = vec![e];
    while let Some(e) = stack.pop() {
        let mut refs = Vec::new();
        e.refs(&mut refs);
        for r in refs {
            let Some(n) = nodes.get(r.index) else { continue };
            if !seen.insert(r.index) {
                continue;
            }
            match &n.kind {
                NodeKind::Free { .. } => return true,
                NodeKind::Deterministic { expr } | NodeKind::Potential { expr } => stack.push(expr),
                NodeKind::Observed { .. } | NodeKind::Data { .. } => {}
            }
        }
    }
    false
}

/// `shape` when operand `i` of `e` is a data node (`Model::data_matrix`): the left factor of
/// a product is data, whose gradient is never wanted. A computed matrix is not.
fn data_matrix(nodes: &[Node], e: &Expr, i: usize, shape: Shape) -> Option<Shape> {
    match &e.nodes()[i] {
        ExprNode::Var(r) => matches!(nodes.get(r.index)?.kind, NodeKind::Data { .. }).then_some(shape),
        _ => None,
    }
}

/// A recurrence's state is a scalar or a vector, not a matrix.
fn vector_or_scalar(s: Shape, at: &str) -> Result<Shape> {
    match s {
        Shape::Matrix(r, c) => Err(Error::ShapeMismatch {
            node: at.to_string(),
            detail: format!("a {r} × {c} matrix where a vector is wanted"),
        }),
        s => Ok(s),
    }
}

/// The values of operand `i` of `e` as integer data: a data vector written in the expression,
/// or a data node (`Model::int_data`, `Model::data`) holding whole numbers.
fn integer_data<'a>(nodes: &'a [Node], e: &'a Expr, i: usize, at: &str) -> Result<&'a [f64]> {
    let values: Option<&[f64]> = match &e.nodes()[i] {
        ExprNode::Data(v) => Some(v),
        ExprNode::Var(r) => match nodes.get(r.index).map(|n| (&n.kind, n.shape)) {
            Some((NodeKind::Data { values, .. }, Shape::Vector(_))) => Some(values),
            _ => None,
        },
        _ => None,
    };
    values.ok_or_else(|| Error::ShapeMismatch {
        node: at.to_string(),
        detail: "the index of `at` must be integer data (Model::int_data or a vector of whole numbers)"
            .into(),
    })
}

/// Largest integer every f64 holds exactly.
pub(crate) const MAX_EXACT_INTEGER: f64 = 9_007_199_254_740_992.0;

/// Element labels: one per element of a vector node, non-empty, distinct, without brackets;
/// a matrix's are the product of its row and column labels (`Model::set_matrix_labels`).
pub(crate) fn labels(node: &Node, labels: &[String]) -> Result<()> {
    let bad = |reason: String| Err(Error::InvalidNode { node: node.name.clone(), reason });
    if let Shape::Matrix(r, c) = node.shape {
        // Labels of the rows and of the columns (`Model::set_matrix_labels`), stored per
        // element as `row, col`.
        let Some((rows, cols)) = Shape::split_matrix_labels(labels, r, c) else {
            return bad(format!(
                "a {r} × {c} matrix is labelled by its rows and its columns (Model::set_matrix_labels)"
            ));
        };
        return axis_labels(&rows, "row").and_then(|_| axis_labels(&cols, "column")).or_else(bad);
    }
    if node.shape == Shape::Scalar || labels.len() != node.shape.len() {
        return bad(format!("{} labels for a node of {} elements", labels.len(), node.shape.len()));
    }
    axis_labels(labels, "").or_else(bad)
}

/// One dimension's labels: non-empty, printable, free of brackets, distinct; a matrix's rows
/// and columns (`what`) also free of commas, which separate them in an element's name.
pub(crate) fn axis_labels(labels: &[String], what: &str) -> std::result::Result<(), String> {
    let mut seen = std::collections::HashSet::with_capacity(labels.len());
    for l in labels {
        if l.is_empty() || l.contains(['[', ']']) || l.chars().any(char::is_control) {
            return Err(format!("label `{l}` must be non-empty, printable and free of `[` and `]`"));
        }
        if !what.is_empty() && l.contains(',') {
            return Err(format!("{what} label `{l}` must be free of `,`"));
        }
        if !seen.insert(l.as_str()) {
            return Err(format!("{what}{}label `{l}` appears twice", if what.is_empty() { "" } else { " " }));
        }
    }
    Ok(())
}

/// Node names are non-empty, printable, and free of `[` and `]`, which label elements
/// (`theta[3]`): a scalar named `theta[0]` would collide with an element of a vector `theta`.
pub(crate) fn name(name: &str) -> Result<()> {
    let reason = if name.is_empty() {
        "names must not be empty"
    } else if name.contains(['[', ']']) {
        "`[` and `]` are reserved for element labels such as `theta[3]`"
    } else if name.chars().any(char::is_control) {
        "names must not contain control characters"
    } else if name.trim() != name {
        "names must not start or end with white space"
    } else {
        return Ok(());
    };
    Err(Error::InvalidName { name: name.to_string(), reason })
}

/// Shapes of a distribution's parameters and the values of those that are constants.
fn param_shapes(nodes: &[Node], node: &Node, dist: &Dist) -> Result<(Vec<Shape>, Vec<Option<ConstValue>>)> {
    let shapes = dist.params.iter().map(|e| expr_shape(nodes, e, &node.name)).collect::<Result<_>>()?;
    Ok((shapes, dist.params.iter().map(|e| eval_data(nodes, e)).collect()))
}

/// The shape of a vector family's value: `given` (a vector node's length, or the data's)
/// when the family accepts it, else the length its parameters imply.
fn vector_value_shape(nodes: &[Node], node: &Node, dist: &Dist, given: Option<Shape>) -> Result<Shape> {
    if dist.params.len() != dist.kind.n_params() {
        return Err(Error::ParamCount {
            node: node.name.clone(),
            dist: dist.kind.name(),
            expected: dist.kind.n_params(),
            got: dist.params.len(),
        });
    }
    let (shapes, consts) = param_shapes(nodes, node, dist)?;
    let lens: Vec<usize> = shapes.iter().map(|s| s.len()).collect();
    let consts: Vec<Option<&[f64]>> =
        consts.iter().map(|c| c.as_ref().map(|c| c.values.as_slice())).collect();
    let bad = |detail: String| Error::ShapeMismatch { node: node.name.clone(), detail };
    if !dist.kind.vec_matrix_params() {
        for ((name, _), shape) in dist.kind.params().iter().zip(&shapes) {
            if let &Shape::Matrix(r, c) = shape {
                return Err(bad(format!(
                    "`{name}` is a {r} × {c} matrix: {} takes one `{name}` shared by every draw",
                    dist.kind.name()
                )));
            }
        }
    }
    match given {
        Some(shape) => {
            dist.kind.vec_accepts_len(shape.len(), &lens, &consts).map_err(bad)?;
            check_draw_rows(dist, &shapes, &lens, shape.len()).map_err(bad)?;
            // A parameter aligned with the elements is a scalar or has one value per element
            // (a vector of one value does not broadcast, as for scalar families).
            for &j in dist.kind.vec_aligned_params() {
                if shapes[j] != Shape::Scalar && lens[j] != shape.len() {
                    return Err(bad(format!(
                        "`{}` has {} values for {} elements: give one per element or a scalar",
                        dist.kind.params()[j].0,
                        lens[j],
                        shape.len()
                    )));
                }
            }
            // A matrix's rows are whole draws (PyMC's `shape=(n, K)`), or it is the family's
            // own matrix: a draw never runs across rows. Any matrix fits a family whose
            // elements are draws of their own.
            if let Shape::Matrix(r, c) = shape
                && !dist.kind.vec_elementwise()
            {
                let (fits, draw) = match dist.kind.vec_value_shape(&lens, &consts) {
                    Ok(own @ Shape::Matrix(..)) => (own == shape, own.dims()),
                    _ => {
                        let k = dist.kind.vec_draw_len(shape.len(), &lens, &consts);
                        (k == Some(c), k.into_iter().collect())
                    }
                };
                if !fits {
                    return Err(bad(format!(
                        "a {r} × {c} matrix of {} draws, one of shape {draw:?}: each row must be \
                         one whole draw",
                        dist.kind.name()
                    )));
                }
            }
            Ok(shape)
        }
        None => {
            let shape = dist.kind.vec_value_shape(&lens, &consts).map_err(bad)?;
            check_draw_rows(dist, &shapes, &lens, shape.len()).map_err(bad)?;
            Ok(shape)
        }
    }
}

/// A matrix where the family reads a row per draw ([`super::dist::VecFamily::DRAW_ROWS`]) has
/// one row per draw, of a draw's length (PyMC's broadcasting rule), or one row shared by
/// every draw, for a value of `len` elements.
fn check_draw_rows(
    dist: &Dist,
    shapes: &[Shape],
    lens: &[usize],
    len: usize,
) -> std::result::Result<(), String> {
    let draws = dist.kind.observations(len, lens);
    for &j in dist.kind.vec_draw_rows() {
        if let Shape::Matrix(r, c) = shapes[j]
            && (!(r == draws || r == 1) || c * draws != len)
        {
            return Err(format!(
                "`{}` is a {:?} matrix for {draws} draws of {} values: it needs one row per draw of \
                 that length, or one row shared by all",
                dist.kind.params()[j].0,
                shapes[j].dims(),
                len / draws.max(1)
            ));
        }
    }
    Ok(())
}

/// Broadcast shape of a node's parameters (or its expression); for a vector family, the shape
/// its parameters imply or accept (`given`: the node's explicit shape).
fn value_shape(nodes: &[Node], node: &Node, given: Option<Shape>) -> Result<Shape> {
    if let Some(dist) = node.dist().filter(|d| d.kind.is_vector()) {
        return vector_value_shape(nodes, node, dist, given);
    }
    let mut shape = Shape::Scalar;
    let exprs: Vec<&Expr> = match &node.kind {
        // A potential is the sum of its elements, whatever its expression's length.
        NodeKind::Deterministic { expr } => vec![expr],
        NodeKind::Potential { expr } => {
            expr_shape(nodes, expr, &node.name)?;
            return Ok(Shape::Scalar);
        }
        NodeKind::Data { values, .. } if node.shape.len() == values.len() => return Ok(node.shape),
        NodeKind::Data { values, .. } => return Ok(Shape::Vector(values.len())),
        _ => node.dist().map(|d| d.params.iter().collect()).unwrap_or_default(),
    };
    for e in exprs {
        let s = expr_shape(nodes, e, &node.name)?;
        // A family's parameters broadcast scalars only: a row over a matrix is written in the
        // expression (`mu + row`), where it is tiled.
        let rows =
            |a: Shape, b: Shape| matches!((a, b), (Shape::Matrix(..), Shape::Vector(v)) if v != a.len());
        shape = shape.broadcast(s).filter(|_| !rows(shape, s) && !rows(s, shape)).ok_or_else(|| {
            Error::ShapeMismatch {
                node: node.name.clone(),
                detail: format!("parameter shapes {:?} and {:?} do not broadcast", shape.dims(), s.dims()),
            }
        })?;
    }
    Ok(shape)
}

/// Parameter count and constant-domain checks, and data checks.
fn contents(nodes: &[Node], node: &Node) -> Result<()> {
    if let Some(labels) = &node.labels {
        self::labels(node, labels)?;
    }
    if let NodeKind::Data { values, integer } = &node.kind {
        if values.is_empty() {
            return Err(Error::EmptyData { node: node.name.clone() });
        }
        if let Some((index, &value)) = values.iter().enumerate().find(|(_, v)| !v.is_finite()) {
            return Err(Error::NonFiniteData { node: node.name.clone(), index, value });
        }
        if *integer
            && let Some((index, &value)) =
                values.iter().enumerate().find(|(_, v)| v.fract() != 0.0 || v.abs() > MAX_EXACT_INTEGER)
        {
            return Err(Error::InvalidData {
                node: node.name.clone(),
                index,
                value,
                rule: "integer data must be whole numbers of magnitude at most 2^53",
            });
        }
    }
    if let NodeKind::Free { ordered: true, .. } = node.kind {
        can_be_ordered(node)?;
    }
    let Some(dist) = node.dist() else { return Ok(()) };
    check_params(nodes, node, dist)?;
    match &node.kind {
        NodeKind::Observed { data, value: Some(value), .. } => {
            check_transformed(nodes, node, dist, data, value)
        }
        NodeKind::Observed { data, .. } => check_data(nodes, node, dist, data),
        _ => Ok(()),
    }
}

/// Whether `node` may be constrained to increasing rows ([`Model::ordered`]): a free vector
/// or matrix of a family on the real line.
pub(crate) fn can_be_ordered(node: &Node) -> Result<()> {
    let reason = match &node.kind {
        NodeKind::Free { dist, .. } if dist.kind.support() != Support::Real => format!(
            "ordered applies to families on the real line; `{}` has support {:?}",
            dist.kind.name(),
            dist.kind.support()
        ),
        NodeKind::Free { .. } if node.shape == Shape::Scalar => {
            "ordered applies to a vector or matrix (give the node a shape)".into()
        }
        NodeKind::Free { .. } => return Ok(()),
        _ => "ordered applies to free random variables only".into(),
    };
    Err(Error::InvalidNode { node: node.name.clone(), reason })
}

/// A transformed observation: a continuous scalar family, an invertible value of the draw's
/// shape, and, when the inverse at the data is constant, that inverse inside the family's
/// support.
fn check_transformed(nodes: &[Node], node: &Node, dist: &Dist, data: &[f64], value: &Expr) -> Result<()> {
    let bad = |reason: String| Error::InvalidNode { node: node.name.clone(), reason };
    if dist.kind.is_vector() || dist.kind.support().observed_only() {
        return Err(bad(format!(
            "a transformed observation needs a continuous scalar family; {} is not",
            dist.kind.name()
        )));
    }
    let measure = Measure::of(value).map_err(|e| bad(format!("its value cannot be inverted: {e}")))?;
    if data.is_empty() {
        return Err(Error::EmptyData { node: node.name.clone() });
    }
    if let Some((index, &value)) = data.iter().enumerate().find(|(_, v)| !v.is_finite()) {
        return Err(Error::NonFiniteData { node: node.name.clone(), index, value });
    }
    let n = data.len();
    let argument = StepShapes { state: Shape::Vector(n), slices: Vec::new() };
    let shape = expr_shape_in(nodes, value, &node.name, Some(&argument))?;
    if shape.len() != n || matches!(shape, Shape::Matrix(..)) {
        return Err(Error::ShapeMismatch {
            node: node.name.clone(),
            detail: format!("the value has {} elements for {n} observations", shape.len()),
        });
    }
    let (x, _) = measure.inverse(Expr::data(data.to_vec()));
    match eval_data(nodes, &x) {
        Some(x) => {
            if let Some(k) = (0..n).find(|&k| !x.at(k).is_finite()) {
                return Err(bad(format!(
                    "observation {k} = {} is outside the range of its value ({})",
                    data[k],
                    measure.describe()
                )));
            }
            let base: Vec<f64> = (0..n).map(|k| x.at(k)).collect();
            check_data(nodes, node, dist, &base)
        }
        None => Ok(()),
    }
}

fn check_params(nodes: &[Node], node: &Node, dist: &Dist) -> Result<()> {
    let spec = dist.kind.params();
    if spec.len() != dist.params.len() {
        return Err(Error::ParamCount {
            node: node.name.clone(),
            dist: dist.kind.name(),
            expected: spec.len(),
            got: dist.params.len(),
        });
    }
    let consts: Vec<_> = dist.params.iter().map(|e| eval_data(nodes, e)).collect();
    for ((name, domain), c) in spec.iter().zip(&consts) {
        let Some(c) = c else { continue };
        if let Some((i, &v)) = c.values.iter().enumerate().find(|&(_, v)| !domain.contains(*v)) {
            return Err(Error::InvalidParameter {
                node: node.name.clone(),
                dist: dist.kind.name(),
                param: name.to_string(),
                index: c.vector.then_some(i),
                value: v,
                rule: domain.rule(),
            });
        }
    }
    if dist.kind.is_vector() {
        let p: Vec<Option<&[f64]>> = consts.iter().map(|c| c.as_ref().map(|c| c.values.as_slice())).collect();
        return dist.kind.vec_check_params(&p).map_err(|rule| Error::InvalidNode {
            node: node.name.clone(),
            reason: format!("{}: {rule}", dist.kind.name()),
        });
    }
    if consts.iter().all(Option::is_some) || dist.kind.support().checks_read_data_only() {
        let n = consts.iter().flatten().map(|c| c.values.len()).max().unwrap_or(1);
        let mut p = vec![0.0; consts.len()];
        for i in 0..n {
            values_at(&consts, i, &mut p);
            if let Err(rule) = dist.kind.check_params(&p) {
                return Err(Error::InvalidParameter {
                    node: node.name.clone(),
                    dist: dist.kind.name(),
                    param: spec[0].0.to_string(),
                    index: (n > 1).then_some(i),
                    value: p[0],
                    rule,
                });
            }
        }
    }
    Ok(())
}

/// Element `i` of each parameter's constant value into `p`; NaN for a parameter that is not
/// constant (read by no check that [`Support::checks_read_data_only`] runs).
fn values_at(consts: &[Option<ConstValue>], i: usize, p: &mut [f64]) {
    consts.iter().zip(p).for_each(|(c, p)| *p = c.as_ref().map_or(f64::NAN, |c| c.at(i)));
}

fn check_data(nodes: &[Node], node: &Node, dist: &Dist, data: &[f64]) -> Result<()> {
    if data.is_empty() {
        return Err(Error::EmptyData { node: node.name.clone() });
    }
    if let Some((index, &value)) = data.iter().enumerate().find(|(_, v)| !v.is_finite()) {
        return Err(Error::NonFiniteData { node: node.name.clone(), index, value });
    }
    let each: Vec<Option<ConstValue>> = dist.params.iter().map(|e| eval_data(nodes, e)).collect();
    let consts: Option<Vec<&ConstValue>> = each.iter().map(Option::as_ref).collect();
    if dist.kind.is_vector() {
        let lens: Vec<usize> = param_shapes(nodes, node, dist)?.0.iter().map(|s| s.len()).collect();
        let p: Vec<Option<&[f64]>> = each.iter().map(|c| c.as_ref().map(|c| c.values.as_slice())).collect();
        return dist.kind.vec_check_value(data, &lens, &p).map_err(|(index, rule)| Error::InvalidNode {
            node: node.name.clone(),
            reason: format!("{}: observation {index} = {}: {rule}", dist.kind.name(), data[index]),
        });
    }
    let mut p = vec![0.0; dist.params.len()];
    let support = dist.kind.support();
    for (index, &value) in data.iter().enumerate() {
        let inside = if consts.is_some() || support.checks_read_data_only() {
            values_at(&each, index, &mut p);
            dist.kind.in_support(value, &p)
        } else {
            // Random parameters: the bounds that do not depend on them, and a constant total.
            dist.kind.in_fixed_support(value)
                && !dist
                    .kind
                    .count_bound()
                    .and_then(|j| each[j].as_ref())
                    .is_some_and(|n| value > n.at(index))
        };
        if !inside {
            return Err(Error::OutsideSupport {
                node: node.name.clone(),
                dist: dist.kind.name(),
                index,
                value,
            });
        }
    }
    Ok(())
}

/// The rules of vector families' parameters that are data (an adjacency matrix's, a data
/// covariance's: [`super::dist::VecFamily::check_params`]), checked again where the data may
/// have changed since the nodes were built (`Model::set_data`): every node's, or the observed
/// nodes' only (`observed_only`: the densities and draws of the likelihood).
pub(crate) fn vector_params(m: &Model, observed_only: bool) -> Result<()> {
    for n in m.nodes.iter().filter(|n| !observed_only || matches!(n.kind, NodeKind::Observed { .. })) {
        if let Some(dist) = n.dist().filter(|d| d.kind.is_vector()) {
            check_params(&m.nodes, n, dist)?;
        }
    }
    Ok(())
}

/// Full validation of a model (used for JSON input and after rewrites).
pub(crate) fn model(m: &Model) -> Result<()> {
    let mut seen = std::collections::HashSet::new();
    for n in &m.nodes {
        name(&n.name)?;
        if !seen.insert(n.name.as_str()) {
            return Err(Error::DuplicateName(n.name.clone()));
        }
        check_refs(m, n, m.nodes.len())?;
    }
    topological_order(&m.nodes)?;
    for n in &m.nodes {
        check_not_empty(n)?;
        // A matrix parameter has a row per observation (`Model::set_data` may have changed
        // either), and a family that takes rows has its per-row form.
        if let Some(rows) = per_row_kind(&m.nodes, n)?
            && n.dist().is_some_and(|d| d.kind != rows)
        {
            return Err(Error::ShapeMismatch {
                node: n.name.clone(),
                detail: format!("a matrix parameter takes `{}`", rows.name()),
            });
        }
        let shape = value_shape(&m.nodes, n, Some(n.shape))?;
        if !shape.fits(n.shape) {
            return Err(Error::ShapeMismatch {
                node: n.name.clone(),
                detail: format!("value has length {} but the node has length {}", shape.len(), n.shape.len()),
            });
        }
        if let NodeKind::Observed { data, .. } = &n.kind
            && data.len() != n.shape.len()
        {
            return Err(Error::ShapeMismatch {
                node: n.name.clone(),
                detail: format!("{} data points for a node of length {}", data.len(), n.shape.len()),
            });
        }
        observed_only_rules(&m.nodes, n)?;
        contents(&m.nodes, n)?;
    }
    Ok(())
}

/// Node indices ordered so that every node comes after the nodes it reads.
pub(crate) fn topological_order(nodes: &[Node]) -> Result<Vec<usize>> {
    #[derive(Clone, Copy, PartialEq)]
    enum Mark {
        New,
        Active,
        Done,
    }
    let mut mark = vec![Mark::New; nodes.len()];
    let mut order = Vec::with_capacity(nodes.len());
    for start in 0..nodes.len() {
        if mark[start] != Mark::New {
            continue;
        }
        // Iterative DFS: (node, expanded?)
        let mut stack = vec![(start, false)];
        while let Some((i, expanded)) = stack.pop() {
            if expanded {
                mark[i] = Mark::Done;
                order.push(i);
                continue;
            }
            match mark[i] {
                Mark::Done => continue,
                Mark::Active => return Err(Error::Cycle { node: nodes[i].name.clone() }),
                Mark::New => {}
            }
            mark[i] = Mark::Active;
            stack.push((i, true));
            let mut refs = Vec::new();
            nodes[i].exprs().iter().for_each(|e| e.refs(&mut refs));
            for r in refs {
                match mark.get(r.index) {
                    Some(Mark::Active) => return Err(Error::Cycle { node: nodes[i].name.clone() }),
                    Some(Mark::New) => stack.push((r.index, false)),
                    _ => {}
                }
            }
        }
    }
    Ok(order)
}
