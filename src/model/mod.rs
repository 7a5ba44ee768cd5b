//! The model as data: free RVs, observed RVs with data, and named deterministic expressions.
//!
//! A [`Model`] is a list of named [`Node`]s; expressions refer to earlier nodes through
//! [`Var`] handles. Every builder call validates its input and returns a typed [`Error`]
//! naming the node, so nothing a user passes can make the library panic later.

pub mod bijector;
pub mod dist;
pub mod expr;
pub mod fastmath;
pub mod file;
mod graph;
pub mod kernel;
pub mod measure;
pub mod parse;
mod shape;
pub(crate) mod validate;

use std::sync::atomic::{AtomicU64, Ordering};

use serde::{Deserialize, Serialize};

pub use bijector::{BijectorPart, VecBijector};
pub use dist::{Dist, DistKind, Domain, Family, Support, VecFamily};
pub use expr::{BinaryOp, Expr, ExprNode, NodeRef, UnaryOp, Var};
pub use shape::Shape;

use crate::error::{Error, Result};

static NEXT_MODEL_ID: AtomicU64 = AtomicU64::new(1);

/// Bijector from the unconstrained space to a node's support, attached by the rewrite pass.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Transform {
    /// `x = u`.
    Identity,
    /// `x = exp(u)`, for `(0, ∞)`.
    Log,
    /// `x = logistic(u)`, for `(0, 1)`.
    Logit,
    /// `x = lower + (upper - lower)·logistic(u)`, for `(lower, upper)`.
    LogitInterval {
        /// Lower bound.
        lower: Expr,
        /// Upper bound.
        upper: Expr,
    },
    /// `x = lower + exp(u)`, for `(lower, ∞)`.
    LowerBound {
        /// Lower bound.
        lower: Expr,
    },
    /// `x = upper − exp(u)`, for `(−∞, upper)`.
    UpperBound {
        /// Upper bound.
        upper: Expr,
    },
    /// `x = u` wrapped into `[−π, π]` (`x = u − 2π·round(u/2π)`, no Jacobian), for angles: the
    /// density of a circular family is periodic, so every turn of `u` maps to the same angle.
    Circular,
    /// A bijector onto a set of vectors (simplexes and correlation Cholesky factors, whose
    /// unconstrained length differs from the value's, and increasing vectors).
    Vector(VecBijector),
}

impl Transform {
    /// The expressions the transform reads (its bounds).
    pub fn bounds(&self) -> Vec<&Expr> {
        match self {
            Transform::LogitInterval { lower, upper } => vec![lower, upper],
            Transform::LowerBound { lower: b } | Transform::UpperBound { upper: b } => vec![b],
            Transform::Identity
            | Transform::Log
            | Transform::Logit
            | Transform::Circular
            | Transform::Vector(_) => vec![],
        }
    }

    /// Unconstrained length for a value of `n` elements.
    pub fn unconstrained_len(&self, n: usize) -> usize {
        match self {
            Transform::Vector(b) => b.unconstrained_len(n),
            _ => n,
        }
    }

    /// The same, mutably.
    pub fn bounds_mut(&mut self) -> Vec<&mut Expr> {
        match self {
            Transform::LogitInterval { lower, upper } => vec![lower, upper],
            Transform::LowerBound { lower: b } | Transform::UpperBound { upper: b } => vec![b],
            Transform::Identity
            | Transform::Log
            | Transform::Logit
            | Transform::Circular
            | Transform::Vector(_) => vec![],
        }
    }
}

/// What a node is.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum NodeKind {
    /// A random variable that is sampled.
    Free {
        /// Its prior.
        dist: Dist,
        /// Transform to the unconstrained space (`None` until the rewrite pass runs).
        #[serde(default)]
        transform: Option<Transform>,
        /// Whether automatic non-centring may rewrite this node.
        #[serde(default = "yes")]
        reparam: bool,
        /// Whether each row of the value is increasing ([`Model::ordered`]).
        #[serde(default, skip_serializing_if = "std::ops::Not::not")]
        ordered: bool,
    },
    /// A random variable with observed data (its likelihood).
    Observed {
        /// Its likelihood.
        dist: Dist,
        /// The observations.
        data: Vec<f64>,
        /// For an observation of a function of the draw ([`Model::observe_transformed`]): that
        /// function, of [`Expr::argument`].
        #[serde(default, skip_serializing_if = "Option::is_none")]
        value: Option<Expr>,
    },
    /// A named deterministic function of other nodes, recorded in the trace.
    Deterministic {
        /// The expression.
        expr: Expr,
    },
    /// An arbitrary term added to the log density (PyMC's `pm.Potential`): the sum of the
    /// expression's elements. Not recorded in the trace.
    Potential {
        /// The term.
        expr: Expr,
    },
    /// Named constant data that expressions read by reference (PyMC's `pm.Data`): shared by
    /// every expression without copies, stored once in the model file.
    Data {
        /// The values.
        values: std::sync::Arc<[f64]>,
        /// Whether the values are integers (indices, counts); they are checked to be.
        #[serde(default)]
        integer: bool,
    },
}

fn yes() -> bool {
    true
}

/// One named node.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Node {
    /// Unique name.
    pub name: String,
    /// Scalar or vector.
    pub shape: Shape,
    /// What the node is.
    pub kind: NodeKind,
    /// Labels of the elements of a vector node (coordinates: county names), used by the trace
    /// and the summary (`a[Aitkin]`) instead of positions.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub labels: Option<Vec<String>>,
}

impl Node {
    /// The node's distribution, for free and observed nodes.
    pub fn dist(&self) -> Option<&Dist> {
        match &self.kind {
            NodeKind::Free { dist, .. } | NodeKind::Observed { dist, .. } => Some(dist),
            NodeKind::Deterministic { .. } | NodeKind::Potential { .. } | NodeKind::Data { .. } => None,
        }
    }

    /// The distribution, mutably (validation picks a family's per-row form).
    pub(crate) fn dist_mut(&mut self) -> Option<&mut Dist> {
        match &mut self.kind {
            NodeKind::Free { dist, .. } | NodeKind::Observed { dist, .. } => Some(dist),
            NodeKind::Deterministic { .. } | NodeKind::Potential { .. } | NodeKind::Data { .. } => None,
        }
    }

    /// Every expression the node reads.
    pub fn exprs(&self) -> Vec<&Expr> {
        match &self.kind {
            NodeKind::Free { dist, transform, .. } => {
                let mut v: Vec<&Expr> = dist.params.iter().collect();
                if let Some(t) = transform {
                    v.extend(t.bounds());
                }
                v
            }
            NodeKind::Observed { dist, value, .. } => dist.params.iter().chain(value).collect(),
            NodeKind::Deterministic { expr } | NodeKind::Potential { expr } => vec![expr],
            NodeKind::Data { .. } => vec![],
        }
    }

    /// The name of element `i` (`theta[3]`, `beta[1, 2]` in a matrix, or `theta[Aitkin]` with
    /// labels); a scalar's is its own name.
    pub fn element_name(&self, i: usize) -> String {
        Shape::element_name(&self.name, &self.shape.dims(), self.labels.as_deref(), i)
    }

    /// Number of scalar elements.
    pub fn len(&self) -> usize {
        self.shape.len()
    }

    /// Whether the node has no elements (only possible for invalid JSON input).
    pub fn is_empty(&self) -> bool {
        self.shape.is_empty()
    }

    /// Whether the node is free (sampled).
    pub fn is_free(&self) -> bool {
        matches!(self.kind, NodeKind::Free { .. })
    }
}

/// A probabilistic model.
///
/// ```
/// use exmc::prelude::*;
/// let mut m = Model::new();
/// let mu = m.rv("mu", Normal::new(0.0, 5.0))?;
/// let sigma = m.rv("sigma", HalfNormal::new(2.0))?;
/// m.observe("x", Normal::new(mu, sigma), &[2.1, 1.8, 2.5])?;
/// let json = m.to_json()?;
/// assert_eq!(Model::from_json(&json)?, m);
/// # Ok::<(), exmc::Error>(())
/// ```
///
/// A clone is a model of its own: `Var`s it creates are rejected by the original (and by
/// other clones). `Var`s of the original for nodes that existed when it was cloned stay valid in
/// the clone, since the clone copied exactly those nodes.
#[derive(Debug, Serialize, Deserialize)]
pub struct Model {
    #[serde(skip, default = "fresh_id")]
    id: u64,
    /// Models this one was cloned from (directly or not), each with its node count at the
    /// time: their `Var`s below that count refer to the same nodes here.
    #[serde(skip)]
    ancestors: Vec<(u64, usize)>,
    nodes: Vec<Node>,
    /// Node positions by name (duplicate checks and `var` in O(1), so building a model of
    /// 10⁵ nodes is linear); rebuilt wherever `nodes` is replaced.
    #[serde(skip)]
    names: std::collections::HashMap<String, usize>,
}

fn name_index(nodes: &[Node]) -> std::collections::HashMap<String, usize> {
    nodes.iter().enumerate().map(|(i, n)| (n.name.clone(), i)).collect()
}

fn fresh_id() -> u64 {
    NEXT_MODEL_ID.fetch_add(1, Ordering::Relaxed)
}

impl Clone for Model {
    fn clone(&self) -> Model {
        let mut ancestors = self.ancestors.clone();
        ancestors.push((self.id, self.nodes.len()));
        Model { id: fresh_id(), ancestors, nodes: self.nodes.clone(), names: self.names.clone() }
    }
}

impl PartialEq for Model {
    fn eq(&self, other: &Self) -> bool {
        self.nodes == other.nodes
    }
}

impl Default for Model {
    fn default() -> Self {
        Self::new()
    }
}

impl Model {
    /// An empty model.
    pub fn new() -> Model {
        Model { id: fresh_id(), ancestors: Vec::new(), nodes: Vec::new(), names: Default::default() }
    }

    /// Removes every node added since the model had `len` nodes: a builder that adds several
    /// nodes leaves the model as it found it when a later step fails. It must not keep a `Var`
    /// of a removed node (a later node would take its position).
    pub(crate) fn truncate(&mut self, len: usize) {
        self.nodes.truncate(len);
        self.names.retain(|_, i| *i < len);
    }

    /// The nodes, in the order they were added.
    pub fn nodes(&self) -> &[Node] {
        &self.nodes
    }

    /// Handle of the node called `name`.
    pub fn var(&self, name: &str) -> Result<Var> {
        self.names
            .get(name)
            .map(|&index| Var { owner: self.id, index })
            .ok_or_else(|| Error::UnknownName(name.to_string()))
    }

    /// Adds a free random variable whose shape is the broadcast shape of its parameters.
    pub fn rv(&mut self, name: &str, dist: Dist) -> Result<Var> {
        self.push(name, None, NodeKind::Free { dist, transform: None, reparam: true, ordered: false })
    }

    /// Adds a free random vector of length `size` (parameters broadcast to it).
    pub fn rv_vec(&mut self, name: &str, dist: Dist, size: usize) -> Result<Var> {
        self.push(
            name,
            Some(Shape::Vector(size)),
            NodeKind::Free { dist, transform: None, reparam: true, ordered: false },
        )
    }

    /// Adds a free random matrix of `rows × cols` elements, stored row by row (PyMC's
    /// `shape=(rows, cols)`): scalar parameters broadcast to it, and a matrix parameter must
    /// have its shape. The trace keeps both dimensions, and its elements are named
    /// `beta[1, 2]`.
    ///
    /// ```
    /// use exmc::prelude::*;
    /// let mut m = Model::new();
    /// // A softmax regression: 6 choices, 2 covariates, 3 categories.
    /// let xs = vec![0.1, 1.0, -0.4, 0.3, 1.2, -0.7, 0.5, 0.5, -1.0, 0.2, 0.0, -0.3];
    /// let x = m.data_matrix("X", 6, 2, xs)?;
    /// let beta = m.rv_matrix("beta", Normal::new(0, 1), 2, 3)?;
    /// let y = [0.0, 2.0, 1.0, 1.0, 0.0, 2.0];
    /// m.observe("y", Categorical::logit(Expr::from(x).matmul(beta, 3)), &y)?;
    /// assert_eq!(m.nodes()[1].shape, Shape::Matrix(2, 3));
    /// assert_eq!(m.nodes()[1].element_name(5), "beta[1, 2]");
    /// # Ok::<(), exmc::Error>(())
    /// ```
    pub fn rv_matrix(&mut self, name: &str, dist: Dist, rows: usize, cols: usize) -> Result<Var> {
        let free = NodeKind::Free { dist, transform: None, reparam: true, ordered: false };
        self.push(name, Some(Shape::Matrix(rows, cols)), free)
    }

    /// Adds an observed random variable: `data` are i.i.d. given the (broadcast) parameters.
    pub fn observe(&mut self, name: &str, dist: Dist, data: &[f64]) -> Result<Var> {
        let shape = Shape::Vector(data.len());
        self.push(name, Some(shape), NodeKind::Observed { dist, data: data.to_vec(), value: None })
    }

    /// Adds an observed random variable whose data are a `rows × cols` matrix, row by row
    /// (PyMC's `observed` of shape `(rows, cols)`): the node has that shape. For a vector
    /// family whose value is one draw of a vector (a multinomial's counts, an MvNormal's),
    /// each row is one whole draw and one observation in the pointwise log-likelihood.
    ///
    /// ```
    /// use exmc::prelude::*;
    /// let mut m = Model::new();
    /// let p = m.rv("p", Dirichlet::new(vec![1.0, 1.0, 1.0]))?;
    /// let counts = [2.0, 5.0, 3.0, 1.0, 6.0, 3.0];
    /// m.observe_matrix("votes", Multinomial::new(10.0, p), 2, 3, &counts)?;
    /// assert_eq!(m.nodes()[1].shape, Shape::Matrix(2, 3));
    /// // Rows of another length than a draw's are an error.
    /// assert!(m.observe_matrix("bad", Multinomial::new(10.0, p), 3, 2, &counts).is_err());
    /// # Ok::<(), exmc::Error>(())
    /// ```
    pub fn observe_matrix(
        &mut self,
        name: &str,
        dist: Dist,
        rows: usize,
        cols: usize,
        data: &[f64],
    ) -> Result<Var> {
        if rows.checked_mul(cols) != Some(data.len()) {
            return Err(Error::ShapeMismatch {
                node: name.to_string(),
                detail: format!("{} data values are not a {rows} × {cols} matrix", data.len()),
            });
        }
        let shape = Shape::Matrix(rows, cols);
        self.push(name, Some(shape), NodeKind::Observed { dist, data: data.to_vec(), value: None })
    }

    /// Adds an observation of an invertible function of a draw from `dist` (PyMC's
    /// `CustomDist(dist=lambda …: a + b * pm.Normal.dist(…))`): `value` receives the draw `x`
    /// and returns the observed quantity, built from affine steps (`a + b * x`, `x / b`, `-x`,
    /// whose other operands may read any node), `exp` and `ln`, in any composition. The log
    /// density is the family's at the inverse plus the inverse's log-Jacobian, derived from the
    /// expression (see [`measure`]); `fit.measured` lists the nodes. `dist` must be a
    /// continuous scalar family.
    ///
    /// ```
    /// use exmc::prelude::*;
    /// # fn main() -> exmc::Result<()> {
    /// let mut m = Model::new();
    /// let a = m.rv("a", Normal::new(0, 10))?;
    /// let b = m.rv("b", HalfNormal::new(5))?;
    /// // y = a + b·x with x ~ Normal(0, 1): the same posterior as y ~ Normal(a, b).
    /// m.observe_transformed("y", Normal::new(0, 1), |x| a + b * x, &[1.2, 3.4, 2.2])?;
    /// // y = exp(x), x ~ Normal(mu, 1): a log-normal observation.
    /// let mu = m.rv("mu", Normal::new(0, 1))?;
    /// m.observe_transformed("z", Normal::new(mu, 1), Expr::exp, &[0.5, 2.0])?;
    /// # Ok(())
    /// # }
    /// ```
    pub fn observe_transformed(
        &mut self,
        name: &str,
        dist: Dist,
        value: impl FnOnce(Expr) -> Expr,
        data: &[f64],
    ) -> Result<Var> {
        let value = value(Expr::argument());
        let shape = Shape::Vector(data.len());
        self.push(name, Some(shape), NodeKind::Observed { dist, data: data.to_vec(), value: Some(value) })
    }

    /// Adds a named deterministic expression, recorded in the trace.
    pub fn deterministic(&mut self, name: &str, expr: impl Into<Expr>) -> Result<Var> {
        self.push(name, None, NodeKind::Deterministic { expr: expr.into() })
    }

    /// Adds a term to the log density (PyMC's `pm.Potential`): the sum of `expr`'s elements.
    ///
    /// ```
    /// use exmc::prelude::*;
    /// let mut m = Model::new();
    /// let x = m.rv("x", Normal::new(0, 1))?;
    /// m.potential("soft_positive", (x * 10).log_logistic())?;
    /// # Ok::<(), exmc::Error>(())
    /// ```
    pub fn potential(&mut self, name: &str, expr: impl Into<Expr>) -> Result<Var> {
        self.push(name, Some(Shape::Scalar), NodeKind::Potential { expr: expr.into() })
    }

    /// Adds named data (PyMC's `pm.Data`): a vector that expressions read through the returned
    /// `Var`, shared without copies.
    pub fn data(&mut self, name: &str, values: impl Into<std::sync::Arc<[f64]>>) -> Result<Var> {
        let values = values.into();
        let shape = Shape::Vector(values.len());
        self.push(name, Some(shape), NodeKind::Data { values, integer: false })
    }

    /// Adds a named data matrix of `rows × cols` values given row by row (a design matrix), for
    /// [`Expr::matvec`].
    ///
    /// ```
    /// use exmc::prelude::*;
    /// let mut m = Model::new();
    /// let x = m.data_matrix("X", 3, 2, vec![1.0, 0.5, 1.0, -0.2, 1.0, 1.3])?;
    /// let beta = m.rv_vec("beta", Normal::new(0, 1), 2)?;
    /// m.observe("y", Normal::new(x.matvec(beta), 1), &[0.7, 0.1, 1.9])?;
    /// # Ok::<(), exmc::Error>(())
    /// ```
    pub fn data_matrix(
        &mut self,
        name: &str,
        rows: usize,
        cols: usize,
        values: impl Into<std::sync::Arc<[f64]>>,
    ) -> Result<Var> {
        let values = values.into();
        if rows.checked_mul(cols) != Some(values.len()) || rows == 0 || cols == 0 {
            return Err(Error::ShapeMismatch {
                node: name.to_string(),
                detail: format!("{} values for a {rows} × {cols} matrix", values.len()),
            });
        }
        self.push(name, Some(Shape::Matrix(rows, cols)), NodeKind::Data { values, integer: false })
    }

    /// Adds named integer data: indices (for [`Expr::at`]) or counts.
    pub fn int_data(&mut self, name: &str, values: &[i64]) -> Result<Var> {
        let values: std::sync::Arc<[f64]> = values.iter().map(|&v| v as f64).collect();
        let shape = Shape::Vector(values.len());
        self.push(name, Some(shape), NodeKind::Data { values, integer: true })
    }

    /// Replaces the values of data node `name` (PyMC's `pm.set_data`): new covariates or new
    /// group indices, for prediction with
    /// [`posterior_predictive`](crate::sampler::predictive::posterior_predictive). A vector may
    /// change length; a matrix keeps its column count; integer data stay whole and
    /// non-negative. Observed values are not data nodes and are not changed.
    pub fn set_data(&mut self, name: &str, values: impl Into<std::sync::Arc<[f64]>>) -> Result<()> {
        let values = values.into();
        let i = *self.names.get(name).ok_or_else(|| Error::UnknownName(name.to_string()))?;
        let node = &mut self.nodes[i];
        let bad = |reason: String| Error::InvalidNode { node: name.to_string(), reason };
        let NodeKind::Data { values: old, integer } = &mut node.kind else {
            return Err(bad("is not a data node (set_data replaces named data)".into()));
        };
        if values.is_empty() {
            return Err(bad("new data are empty".into()));
        }
        if let Some(v) =
            values.iter().find(|v| !v.is_finite() || (*integer && (v.fract() != 0.0 || **v < 0.0)))
        {
            return Err(bad(format!(
                "new value {v} is not {}",
                if *integer { "a whole number ≥ 0" } else { "finite" }
            )));
        }
        node.shape = match node.shape {
            Shape::Matrix(_, cols) if values.len() % cols == 0 => Shape::Matrix(values.len() / cols, cols),
            Shape::Matrix(_, cols) => {
                return Err(bad(format!("{} values do not fill rows of {cols}", values.len())));
            }
            _ => Shape::Vector(values.len()),
        };
        *old = values;
        Ok(())
    }

    /// Labels the elements of a vector node (coordinates, e.g. county names): the trace and
    /// the summary name its elements `a[Aitkin]`. One distinct, non-empty label per element.
    pub fn set_labels(&mut self, var: Var, labels: Vec<String>) -> Result<()> {
        let node = self.node_mut(var)?;
        if let Shape::Matrix(r, c) = node.shape {
            return Err(Error::InvalidNode {
                node: node.name.clone(),
                reason: format!(
                    "a {r} × {c} matrix is labelled by its rows and its columns (Model::set_matrix_labels)"
                ),
            });
        }
        validate::labels(node, &labels)?;
        node.labels = Some(labels);
        Ok(())
    }

    /// Labels the rows and the columns of a matrix node (PyMC's `dims=("covariate",
    /// "category")` with their coordinates): the trace and the summary name its elements
    /// `beta[x1, a]`, and the Zarr store keeps one coordinate per dimension. Distinct,
    /// non-empty labels free of `[`, `]` and `,`, one per row and one per column.
    ///
    /// ```
    /// use exmc::prelude::*;
    /// let mut m = Model::new();
    /// let beta = m.rv_matrix("beta", Normal::new(0, 1), 2, 3)?;
    /// let names = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
    /// m.set_matrix_labels(beta, names(&["x1", "x2"]), names(&["a", "b", "c"]))?;
    /// assert_eq!(m.nodes()[0].element_name(5), "beta[x2, c]");
    /// # Ok::<(), exmc::Error>(())
    /// ```
    pub fn set_matrix_labels(&mut self, var: Var, rows: Vec<String>, cols: Vec<String>) -> Result<()> {
        let node = self.node_mut(var)?;
        let Shape::Matrix(r, c) = node.shape else {
            return Err(Error::InvalidNode {
                node: node.name.clone(),
                reason: "set_matrix_labels labels a matrix's rows and columns; label a vector with \
                         set_labels"
                    .into(),
            });
        };
        if (rows.len(), cols.len()) != (r, c) {
            return Err(Error::InvalidNode {
                node: node.name.clone(),
                reason: format!("{} row and {} column labels for a {r} × {c} matrix", rows.len(), cols.len()),
            });
        }
        for (labels, what) in [(&rows, "row"), (&cols, "column")] {
            validate::axis_labels(labels, what)
                .map_err(|reason| Error::InvalidNode { node: node.name.clone(), reason })?;
        }
        node.labels = Some(Shape::matrix_labels(&rows, &cols));
        Ok(())
    }

    /// Opts a free node out of automatic non-centring; other nodes are an error.
    pub fn keep_centered(&mut self, var: Var) -> Result<()> {
        let node = self.node_mut(var)?;
        match &mut node.kind {
            NodeKind::Free { reparam, .. } => {
                *reparam = false;
                Ok(())
            }
            _ => Err(Error::InvalidNode {
                node: node.name.clone(),
                reason: "keep_centered applies to free random variables only".into(),
            }),
        }
    }

    /// Constrains a free vector to increasing values, and each row of a free matrix (PyMC's
    /// `transform=ordered`): cut points of an ordinal regression, the means of a mixture's
    /// components. The sampler moves `u` with `x₀ = u₀`, `xᵢ = xᵢ₋₁ + exp(uᵢ)`, and the prior
    /// density is the family's restricted to increasing values (so the node is never
    /// non-centred). The family's support must be the real line, and the node not a scalar.
    ///
    /// ```
    /// use exmc::prelude::*;
    /// let mut m = Model::new();
    /// let cut = m.rv_vec("cutpoints", Normal::new(0, 3), 3)?;
    /// m.ordered(cut)?;
    /// let eta = m.rv("eta", Normal::new(0, 1))?;
    /// m.observe("y", OrderedLogistic::new(eta, cut), &[0.0, 2.0, 3.0, 1.0, 2.0])?;
    /// # Ok::<(), exmc::Error>(())
    /// ```
    pub fn ordered(&mut self, var: Var) -> Result<()> {
        let node = self.node_mut(var)?;
        validate::can_be_ordered(node)?;
        if let NodeKind::Free { ordered, .. } = &mut node.kind {
            *ordered = true;
        }
        Ok(())
    }

    /// Serialises the model to JSON.
    pub fn to_json(&self) -> Result<String> {
        serde_json::to_string_pretty(self).map_err(|e| Error::Json(e.to_string()))
    }

    /// Loads a model from JSON and validates it completely.
    pub fn from_json(json: &str) -> Result<Model> {
        let mut m: Model = serde_json::from_str(json).map_err(|e| Error::Json(e.to_string()))?;
        m.names = name_index(&m.nodes);
        // A family written in its shared form with a matrix parameter takes its per-row form,
        // as when the model is built.
        let rows: Vec<Option<DistKind>> =
            m.nodes.iter().map(|n| validate::per_row_kind(&m.nodes, n)).collect::<Result<_>>()?;
        for (n, rows) in m.nodes.iter_mut().zip(rows) {
            if let (Some(rows), Some(dist)) = (rows, n.dist_mut()) {
                dist.kind = rows;
            }
        }
        // A multinomial's one `n` beside a matrix parameter, repeated for each row.
        let trials: Vec<Option<Expr>> =
            m.nodes.iter().map(|n| validate::repeated_trials(&m.nodes, n)).collect::<Result<_>>()?;
        for (n, trials) in m.nodes.iter_mut().zip(trials) {
            if let (Some(trials), Some(dist)) = (trials, n.dist_mut()) {
                dist.params[0] = trials;
            }
        }
        m.validate()?;
        Ok(m)
    }

    /// Checks the whole model: names, references, cycles, shapes, domains and data.
    pub fn validate(&self) -> Result<()> {
        validate::model(self)
    }

    /// Shape of an expression's value, when its references resolve.
    pub(crate) fn expr_shape(&self, e: &Expr) -> Option<Shape> {
        validate::expr_shape(&self.nodes, e, "").ok()
    }

    /// Number of elements of an expression's value, when its references resolve.
    pub(crate) fn expr_len(&self, e: &Expr) -> Option<usize> {
        validate::expr_shape(&self.nodes, e, "").ok().map(Shape::len)
    }

    /// The value of `e` when it reads only constants and data nodes (`None` otherwise).
    pub(crate) fn data_value(&self, e: &Expr) -> Option<expr::ConstValue> {
        validate::eval_data(&self.nodes, e)
    }

    pub(crate) fn topological_order(&self) -> Result<Vec<usize>> {
        validate::topological_order(&self.nodes)
    }

    /// Whether a reference made by model `owner` to node `index` may be used here: this
    /// model's own, one of an ancestor's nodes that this model copied, or an internal one
    /// (owner 0, from rewrite passes and JSON).
    pub(crate) fn owns(&self, owner: u64, index: usize) -> bool {
        owner == 0 || owner == self.id || self.ancestors.iter().any(|&(a, count)| a == owner && index < count)
    }

    /// A model holding `nodes` that descends from `self` (what rewrite passes return): `self`'s
    /// `Var`s stay valid in it for the nodes `self` had, and `Var`s taken from it (for nodes
    /// a pass appended) are foreign to `self`, like a clone's.
    pub(crate) fn with_nodes(&self, nodes: Vec<Node>) -> Model {
        let mut ancestors = self.ancestors.clone();
        ancestors.push((self.id, self.nodes.len()));
        let names = name_index(&nodes);
        Model { id: fresh_id(), ancestors, nodes, names }
    }

    fn node_mut(&mut self, var: Var) -> Result<&mut Node> {
        if !self.owns(var.owner, var.index) {
            return Err(Error::ForeignVar { node: format!("#{}", var.index) });
        }
        let len = self.nodes.len();
        self.nodes
            .get_mut(var.index)
            .ok_or(Error::UnknownNode { node: format!("#{}", var.index), index: len })
    }

    fn push(&mut self, name: &str, shape: Option<Shape>, kind: NodeKind) -> Result<Var> {
        validate::name(name)?;
        if self.names.contains_key(name) {
            return Err(Error::DuplicateName(name.to_string()));
        }
        let mut node =
            Node { name: name.to_string(), shape: shape.unwrap_or(Shape::Scalar), kind, labels: None };
        validate::node(self, &mut node, shape.is_some())?;
        self.names.insert(node.name.clone(), self.nodes.len());
        self.nodes.push(node);
        Ok(Var { owner: self.id, index: self.nodes.len() - 1 })
    }
}
