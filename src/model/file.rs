//! Model files: a model written by hand in TOML, with its data in a separate JSON file
//! (posteriordb's `data.json` shape).
//!
//! ```toml
//! # Eight schools, centred (exmc non-centres it).
//! [rv.mu]
//! dist = "normal"
//! mu = 0
//! sigma = 5
//!
//! [rv.tau]
//! dist = "half_cauchy"
//! beta = 5
//!
//! [rv.theta]
//! dist = "normal"
//! mu = "mu"
//! sigma = "tau"
//! shape = "J"                 # a data scalar, or a number
//!
//! [observe.y]
//! dist = "normal"
//! mu = "theta"
//! sigma = "sigma"             # data
//! data = "y"                  # the observations: data, transformed data, or an array
//! ```
//!
//! Sections (any order; nodes are ordered by what they read):
//! - `[rv.NAME]`: a free variable. `dist` names the family (`"normal"`, `"HalfCauchy"`); every
//!   other key is a parameter by its name: a number, an array (data) or an expression string;
//!   `shape` (a number or a data scalar, or `[n]`) makes a vector, and `shape = [rows, cols]`
//!   a matrix (elements named `beta[1, 2]`); `labels` names a data array of strings labelling
//!   a vector's elements (`a[Aitkin]`), and `labels = ["covariates", "categories"]` a matrix's
//!   rows and columns (`beta[x1, a]`); `transform = "ordered"` makes a vector increasing (and
//!   each row of a matrix), PyMC's `transform=ordered` ([`Model::ordered`]).
//! - `[observe.NAME]`: a likelihood, with `data` naming its observations. The logit and log
//!   forms are chosen by their parameter names: `dist = "bernoulli"` with `logit_p`;
//!   `dist = "asymmetric_laplace"` takes `kappa` or PyMC's quantile `q` (quantile regression);
//!   `dist = "mv_normal"` takes `mu` and `chol` (a Cholesky factor) or `cov` (a data
//!   covariance), `dist = "mv_student_t"` takes `nu`, `mu` and `chol` (of the scale matrix).
//!   Vector families read whole vectors: `dist = "dirichlet"` with `alpha = [1, 1,
//!   1]` (or PyMC's `a`), `dist = "lkj_cholesky"` with `n = 3` and `eta = 2` (an `n × n`
//!   factor), `dist = "categorical"` with `p` or `logits` (or PyMC's `logit_p`): a vector
//!   shared by every observation, or a matrix of one row per observation (softmax regression:
//!   `logits = "alpha + X @ beta"`, where `X @ beta` with `beta` of shape `[cols, K]` (or
//!   `cols · K` values) is the `rows × K` product and a row of `K` values broadcasts over its
//!   rows; `reshape(v, rows, cols)` reads a vector as a matrix), `dist = "normal_mixture"` with
//!   `w` (the weights), `mu` and `sigma` (a value per component, or one shared), the
//!   other mixtures of one family likewise (`dist = "poisson_mixture"` with `w` and `mu`;
//!   `negative_binomial_mixture`, `exponential_mixture`, `gamma_mixture`,
//!   `log_normal_mixture`, `student_t_mixture`, `beta_mixture`: `w`, then the component's
//!   parameters), and
//!   `dist = "ordered_logistic"` or `"ordered_probit"` with `eta` (one per observation, or
//!   one) and `cutpoints`; `dist = "zero_sum_normal"` with `sigma` and `shape` (an `[rv]`
//!   vector summing to zero); `dist = "multinomial"` with `n` and `p`, and
//!   `dist = "dirichlet_multinomial"` with `n` and `a` (observed counts, a draw per row of a
//!   data matrix: `data` may name a matrix, whose rows the node keeps); `dist = "car"` (PyMC's
//!   `"CAR"`) with `mu`, `W` (a data matrix of neighbours' weights), `alpha` and `tau`, and
//!   `dist = "icar"` with `W` and `sigma` (areal effects: the length is `W`'s side). Censored families (`dist = "censored_weibull"`, also
//!   `censored_normal`, `censored_log_normal`, `censored_exponential`) take the base's
//!   parameters and the bounds `lower` and `upper`, data, either left out for none; a bound
//!   per observation is written `upper = "where(alive, t, inf)"` ([`super::dist::Censored`]).
//!   `value = "a + b * x"` observes a function of the draw `x` (named by `draw`, default `x`)
//!   instead of the draw itself: affine steps, `exp` and `log` in any composition, whose
//!   log-Jacobian is added ([`Model::observe_transformed`]).
//! - `[scan.NAME]`: a recurrence, recorded as a deterministic of every state in turn:
//!   `init` (the state before the first step), `step` (the next state, an expression of the
//!   previous one, named `prev` or by `state = "NAME"`, of the step's slice of each sequence
//!   and of any node), `sequences = { x = "y_lag" }` (each read one slice per step) and `steps`
//!   (a number or an expression of data; by default the first sequence's length when it is
//!   data):
//!   ```toml
//!   [scan.sigma]
//!   init = "sigma1"
//!   sequences = { r = "y_prev" }
//!   step = "sqrt(alpha0 + alpha1 * square(r - mu) + beta1 * square(prev))"
//!   ```
//! - `[deterministic]`, `[potential]`: `NAME = "expression"`.
//! - `[transformed_data]`: `NAME = "expression"` over data, evaluated when the file is loaded
//!   (`log_earn = "log(earn)"`, `z = "(height - mean(height)) / sd(height)"`).
//! - `[data]`: data written in the file (`N = 8`, `x = [1.0, 2.0]`), besides the data file.
//!
//! Expressions: see [`super::parse`]. Names are nodes, data and transformed data; functions
//! are `exp log log10 log1p expm1 sqrt square logistic (inv_logit) log_logistic
//! (log_inv_logit) softplus (log1p_exp) abs tanh sin cos atan (arctan) wrap_angle sum mean
//! cumsum (cumulative_sum) diff sd variance dot pow stack tril_mul cholesky
//! (cholesky_decompose) add_diag` (`wrap_angle(x)`: the angle in `[−π, π]`; `cumsum(x)`:
//! running sums, `diff(x)`: first differences, one fewer; `tril_mul(L, z)`: a lower-triangular
//! factor times each row of `z`; `cholesky(K)`: the lower Cholesky factor of a square matrix;
//! `add_diag(K, d)`: a scalar `d` added to its diagonal), Stan's covariance functions
//! `gp_exp_quad_cov(x, alpha, rho)`, `gp_matern32_cov`, `gp_matern52_cov` and
//! `gp_exponential_cov` at the points of a data vector or matrix (a point per row), and
//! `gp_periodic_cov(x, alpha, rho, period)` on a line, and for
//! data `slice(v, from, to)`, `cols(X, from, to)` (0-based, `to` excluded), `center(X)` (columns
//! minus their means), `where(c, a, b)` (`a` where `c` is not 0, else `b`; `inf` is ∞) and
//! `a == b` (1 where equal); `x[2]` is an element (0-based), `L[1, 0]`
//! an element of a matrix (with data vectors `i` and `j`, `L[i, j]` reads each pair, as
//! NumPy's; the positions are worked out when the file is loaded), `a[county]` a gather at
//! integer data (an index expression over data is evaluated when the file is loaded:
//! `a[county - 1]` for 1-based data), `X @ beta` a data matrix times a vector or matrix.
//! Every error names the file, the node, the field and, within an expression, the column.

use std::collections::{BTreeMap, HashMap};
use std::path::Path;

use super::dist::vector::square_side;
use super::dist::{Dist, DistKind, Domain, censoring_bound};
use super::expr::{ConstValue, Expr};
use super::kernel::{Cov, Points, add_diag};
use super::parse::{self, Rpn};
use super::{Model, NodeKind, Shape, Var};
use crate::error::{Error, Result};

/// One named data entry.
#[derive(Clone, Debug, PartialEq)]
pub enum DataValue {
    /// A number (a constant where an expression reads it).
    Scalar(f64),
    /// A vector; `integer` when every element is a whole number (usable as an index).
    Vector {
        /// The values.
        values: Vec<f64>,
        /// Whether every value is a whole number.
        integer: bool,
    },
    /// A matrix, row by row.
    Matrix {
        /// Rows.
        rows: usize,
        /// Columns.
        cols: usize,
        /// Values, row by row.
        values: Vec<f64>,
    },
    /// Strings (element labels).
    Labels(Vec<String>),
}

impl DataValue {
    fn vector(values: Vec<f64>) -> DataValue {
        let integer = values.iter().all(|v| super::dist::is_count(v.abs()));
        DataValue::Vector { values, integer }
    }
}

/// Named data for a model file: what posteriordb's `data.json` holds.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct DataSet {
    values: BTreeMap<String, DataValue>,
}

fn file_error(
    file: &str,
    node: &str,
    field: &str,
    column: Option<usize>,
    reason: impl Into<String>,
) -> Error {
    Error::ModelFile {
        file: file.to_string(),
        node: node.to_string(),
        field: field.to_string(),
        column,
        reason: reason.into(),
    }
}

impl DataValue {
    /// One data entry from JSON: a number, an array of numbers (or of strings: labels), or an
    /// array of equally long arrays of numbers (a matrix, row by row). `Err` says what is wrong.
    pub fn from_json(v: &serde_json::Value) -> std::result::Result<DataValue, &'static str> {
        let number = |x: &serde_json::Value| x.as_f64().filter(|v| v.is_finite());
        Ok(match v {
            serde_json::Value::Number(_) => DataValue::Scalar(number(v).ok_or("not a finite number")?),
            serde_json::Value::Array(items) if items.iter().all(|x| x.is_string()) && !items.is_empty() => {
                DataValue::Labels(items.iter().filter_map(|x| x.as_str().map(String::from)).collect())
            }
            serde_json::Value::Array(items) if items.iter().all(|x| x.is_array()) && !items.is_empty() => {
                let rows: Vec<&Vec<serde_json::Value>> = items.iter().filter_map(|x| x.as_array()).collect();
                let cols = rows[0].len();
                if cols == 0 || rows.iter().any(|r| r.len() != cols) {
                    return Err("a matrix needs rows of one non-zero length");
                }
                let values: Option<Vec<f64>> = rows.iter().flat_map(|r| r.iter().map(number)).collect();
                DataValue::Matrix {
                    rows: rows.len(),
                    cols,
                    values: values.ok_or("a matrix must hold finite numbers")?,
                }
            }
            serde_json::Value::Array(items) => {
                let values: Option<Vec<f64>> = items.iter().map(number).collect();
                DataValue::vector(values.ok_or("a vector must hold finite numbers")?)
            }
            _ => return Err("expected a number, an array or an array of arrays"),
        })
    }
}

impl DataSet {
    /// An empty data set.
    pub fn new() -> DataSet {
        DataSet::default()
    }

    /// Adds (or replaces) an entry.
    pub fn insert(&mut self, name: &str, value: DataValue) {
        self.values.insert(name.to_string(), value);
    }

    /// The entry called `name`.
    pub fn get(&self, name: &str) -> Option<&DataValue> {
        self.values.get(name)
    }

    /// Names of every entry.
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.values.keys().map(String::as_str)
    }

    /// Reads a JSON object of numbers, arrays of numbers (vectors), arrays of equal-length
    /// arrays (matrices) and arrays of strings (labels); `file` names it in errors.
    pub fn from_json(text: &str, file: &str) -> Result<DataSet> {
        let value: serde_json::Value =
            serde_json::from_str(text).map_err(|e| file_error(file, "", "", None, e.to_string()))?;
        let serde_json::Value::Object(map) = value else {
            return Err(file_error(file, "", "", None, "the data must be a JSON object of named values"));
        };
        let mut out = DataSet::new();
        for (name, v) in map {
            let value = DataValue::from_json(&v).map_err(|why| file_error(file, "", &name, None, why))?;
            out.values.insert(name, value);
        }
        Ok(out)
    }

    /// Reads a data file (see [`DataSet::from_json`]).
    pub fn from_file(path: impl AsRef<Path>) -> Result<DataSet> {
        let path = path.as_ref();
        let name = path.display().to_string();
        let text =
            std::fs::read_to_string(path).map_err(|e| file_error(&name, "", "", None, e.to_string()))?;
        DataSet::from_json(&text, &name)
    }
}

/// A value while an expression is evaluated: numbers stay numbers (so `x[2]` and `2 * 3` are
/// recognised) until they meet an expression.
#[derive(Clone, Debug)]
enum Val {
    Num(f64),
    Expr(Expr),
    /// A data matrix: a named data entry (made a data node where a product reads it), or one
    /// computed by `cols` or `center` in transformed data.
    Matrix {
        name: Option<String>,
        rows: usize,
        cols: usize,
        values: Vec<f64>,
    },
}

impl Val {
    /// The value as an expression (a matrix is not one: its products go through `@`).
    fn expr(self) -> Expr {
        match self {
            Val::Num(v) => Expr::constant(v),
            Val::Expr(e) => e,
            // A matrix keeps its shape: a categorical's matrix of probabilities has a row per
            // observation.
            Val::Matrix { values, rows, cols, .. } => Expr::data(values).reshape(rows, cols),
        }
    }
}

/// Where a value is being read: for error messages.
#[derive(Clone, Copy)]
struct At<'a> {
    node: &'a str,
    field: &'a str,
}

/// Keys of a node table that are not parameters.
const RESERVED: [&str; 7] = ["dist", "shape", "data", "labels", "value", "draw", "transform"];

/// The node kinds a model file defines.
#[derive(Clone, Copy, PartialEq)]
enum Kind {
    Rv,
    Observe,
    Deterministic,
    Potential,
    Scan,
}

struct Definition {
    name: String,
    kind: Kind,
    table: Option<toml::Table>,
    expr: Option<String>,
}

struct Loader {
    file: String,
    data: DataSet,
    model: Model,
    /// Nodes defined so far and data nodes made on demand, by name.
    vars: HashMap<String, Var>,
    /// Names bound inside a recurrence's step (its state and sequences), looked up first.
    locals: Vec<(String, Expr)>,
}

impl Loader {
    fn err(&self, at: At<'_>, column: Option<usize>, reason: impl Into<String>) -> Error {
        file_error(&self.file, at.node, at.field, column, reason)
    }

    fn wrap(&self, at: At<'_>, e: Error) -> Error {
        self.err(at, None, e.to_string())
    }

    /// The value a name stands for: a node, or data (vectors and matrices become data nodes,
    /// made once and shared).
    fn name(&mut self, name: &str, at: At<'_>, col: usize) -> Result<Val> {
        if let Some((_, e)) = self.locals.iter().find(|(n, _)| n == name) {
            return Ok(Val::Expr(e.clone()));
        }
        // A data matrix stays a matrix after its first product made it a node (`X @ a` and
        // `X @ b` in one file).
        if let (Some(_), Some(DataValue::Matrix { rows, cols, values })) =
            (self.vars.get(name), self.data.get(name))
        {
            return Ok(Val::Matrix {
                name: Some(name.to_string()),
                rows: *rows,
                cols: *cols,
                values: values.clone(),
            });
        }
        if let Some(v) = self.vars.get(name) {
            return Ok(Val::Expr(Expr::from(*v)));
        }
        let made = match self.data.get(name).cloned() {
            Some(DataValue::Scalar(v)) => return Ok(Val::Num(v)),
            Some(DataValue::Vector { values, integer: true }) => {
                let ints: Vec<i64> = values.iter().map(|&v| v as i64).collect();
                self.model.int_data(name, &ints)
            }
            Some(DataValue::Vector { values, .. }) => self.model.data(name, values),
            Some(DataValue::Matrix { rows, cols, values }) => {
                return Ok(Val::Matrix { name: Some(name.to_string()), rows, cols, values });
            }
            Some(DataValue::Labels(_)) => {
                return Err(self.err(at, Some(col), format!("`{name}` holds labels, not numbers")));
            }
            // `inf` is ∞ unless a node or data has the name: a censoring bound's "none"
            // (`where(alive, t, inf)`).
            None if name == "inf" => return Ok(Val::Num(f64::INFINITY)),
            None => return Err(self.err(at, Some(col), format!("unknown name `{name}`"))),
        };
        let var = made.map_err(|e| self.wrap(at, e))?;
        self.vars.insert(name.to_string(), var);
        Ok(Val::Expr(Expr::from(var)))
    }

    /// The constant value of an expression over data (data nodes resolved), if it has one.
    fn constant(&self, e: &Expr) -> Option<ConstValue> {
        let nodes = self.model.nodes();
        e.eval_with(&|i| match &nodes.get(i)?.kind {
            NodeKind::Data { values, .. } => Some(ConstValue { values: values.to_vec(), vector: true }),
            _ => None,
        })
    }

    /// Evaluates an expression string.
    fn eval(&mut self, text: &str, at: At<'_>) -> Result<Val> {
        let rpn = parse::parse(text).map_err(|e| self.err(at, Some(e.column), e.reason))?;
        let mut stack: Vec<Val> = Vec::new();
        for (item, col) in rpn {
            let missing = |l: &Loader| l.err(at, Some(col), "missing operand");
            let v = match item {
                Rpn::Num(v) => Val::Num(v),
                Rpn::Name(n) => self.name(&n, at, col)?,
                Rpn::Neg => match stack.pop().ok_or_else(|| missing(self))? {
                    Val::Num(v) => Val::Num(-v),
                    Val::Expr(e) => Val::Expr(-e),
                    Val::Matrix { .. } => {
                        return Err(self.err(
                            at,
                            Some(col),
                            "a data matrix is read here only through `@` (`X @ beta`) or by element (`X[i, j]`)",
                        ));
                    }
                },
                Rpn::Bin(op) => {
                    let b = stack.pop().ok_or_else(|| missing(self))?;
                    let a = stack.pop().ok_or_else(|| missing(self))?;
                    self.binary(op, a, b, at, col)?
                }
                Rpn::Index(n) => {
                    if stack.len() < n + 1 {
                        return Err(missing(self));
                    }
                    let indices = stack.split_off(stack.len() - n);
                    let a = stack.pop().ok_or_else(|| missing(self))?;
                    self.index(a, indices, at, col)?
                }
                Rpn::Call(f, n) => {
                    if stack.len() < n {
                        return Err(missing(self));
                    }
                    let args = stack.split_off(stack.len() - n);
                    self.call(&f, args, at, col)?
                }
            };
            stack.push(v);
        }
        match (stack.pop(), stack.is_empty()) {
            (Some(v), true) => Ok(v),
            _ => Err(self.err(at, Some(1), "not a single expression")),
        }
    }

    fn binary(&mut self, op: char, a: Val, b: Val, at: At<'_>, col: usize) -> Result<Val> {
        if op == '@' {
            let Val::Matrix { name: Some(name), rows, cols, values } = a else {
                return Err(self.err(
                    at,
                    Some(col),
                    "`@` needs a data matrix on the left (define a computed one in [transformed_data])",
                ));
            };
            let var = match self.vars.get(&name) {
                Some(v) => *v,
                None => {
                    let v =
                        self.model.data_matrix(&name, rows, cols, values).map_err(|e| self.wrap(at, e))?;
                    self.vars.insert(name, v);
                    v
                }
            };
            // `X @ B` with `B` a `cols × K` matrix, or `cols · K` values, is the `rows × K`
            // product.
            let b = b.expr();
            let k = match super::validate::expr_shape(self.model.nodes(), &b, "`@`") {
                Ok(Shape::Matrix(_, k)) => k,
                Ok(s) if s.len() > cols && s.len().is_multiple_of(cols) => s.len() / cols,
                _ => 1,
            };
            return Ok(Val::Expr(Expr::from(var).matmul(b, k)));
        }
        if matches!(a, Val::Matrix { .. }) || matches!(b, Val::Matrix { .. }) {
            return Err(self.err(
                at,
                Some(col),
                "a data matrix is read here only through `@` (`X @ beta`) or by element (`X[i, j]`)",
            ));
        }
        if op == '=' {
            // `==` compares data: 1 where equal, 0 elsewhere.
            let (Some(x), Some(y)) = (self.constant(&a.expr()), self.constant(&b.expr())) else {
                return Err(self.err(at, Some(col), "`==` compares data, not parameters"));
            };
            let n = x.values.len().max(y.values.len());
            if x.vector && y.vector && x.values.len() != y.values.len() {
                return Err(self.err(at, Some(col), "`==` of vectors of different lengths"));
            }
            let values: Vec<f64> = (0..n).map(|i| f64::from(u8::from(x.at(i) == y.at(i)))).collect();
            return Ok(if x.vector || y.vector {
                Val::Expr(Expr::data(values))
            } else {
                Val::Num(values[0])
            });
        }
        // Data evaluated here must broadcast as the model would (the evaluation itself tiles
        // any length that divides the other).
        let shape = |v: &Val| match v {
            Val::Expr(e) if self.constant(e).is_some() => {
                super::validate::expr_shape(self.model.nodes(), e, "expression").ok()
            }
            _ => None,
        };
        if let (Some(x), Some(y)) = (shape(&a), shape(&b))
            && x.broadcast(y).is_none()
        {
            return Err(self.err(
                at,
                Some(col),
                format!("operands of `{op}` have shapes {:?} and {:?}", x.dims(), y.dims()),
            ));
        }
        if let (Val::Num(x), Val::Num(y)) = (&a, &b) {
            let v = match op {
                '+' => x + y,
                '-' => x - y,
                '*' => x * y,
                '/' => x / y,
                '^' => x.powf(*y),
                _ => unreachable!("`@` and `==` are handled above"),
            };
            return Ok(Val::Num(v));
        }
        Ok(Val::Expr(match (op, b) {
            ('^', Val::Num(c)) => a.expr().powf(c),
            ('^', b) => a.expr().pow(b.expr()),
            ('@', b) => a.expr().matvec(b.expr()),
            ('+', b) => a.expr() + b.expr(),
            ('-', b) => a.expr() - b.expr(),
            ('*', b) => a.expr() * b.expr(),
            (_, b) => a.expr() / b.expr(),
        }))
    }

    fn index(&self, a: Val, mut indices: Vec<Val>, at: At<'_>, col: usize) -> Result<Val> {
        let a = match a {
            // A data matrix's elements are data: read them now.
            Val::Matrix { values, rows, cols, .. } if indices.len() == 2 => {
                // Positions checked by `matrix_index`: whole numbers in range.
                return Ok(match self.matrix_index(rows, cols, indices, at, col)? {
                    Val::Num(k) => Val::Num(values[k as usize]),
                    flat => match self.constant(&flat.expr()) {
                        Some(c) => Val::Expr(Expr::data(
                            c.values.iter().map(|&k| values[k as usize]).collect::<Vec<f64>>(),
                        )),
                        None => return Err(self.err(at, Some(col), "an index must be data (integers)")),
                    },
                });
            }
            Val::Matrix { rows, cols, .. } => {
                return Err(self.err(
                    at,
                    Some(col),
                    format!("a {rows} × {cols} matrix is indexed by row and column: `m[i, j]`"),
                ));
            }
            Val::Expr(a) => a,
            Val::Num(_) => return Err(self.err(at, Some(col), "only vectors and matrices can be indexed")),
        };
        let shape = super::validate::expr_shape(self.model.nodes(), &a, "expression").ok();
        let index = match (shape, indices.len()) {
            (Some(Shape::Matrix(rows, cols)), 2) => self.matrix_index(rows, cols, indices, at, col)?,
            (Some(Shape::Matrix(rows, cols)), _) => {
                return Err(self.err(
                    at,
                    Some(col),
                    format!("a {rows} × {cols} matrix is indexed by row and column: `m[i, j]`"),
                ));
            }
            (_, 1) => indices.pop().expect("one index"),
            (_, n) => {
                return Err(self.err(at, Some(col), format!("{n} indices of a value that is not a matrix")));
            }
        };
        match index {
            Val::Num(k) if k >= 0.0 && k.fract() == 0.0 => Ok(Val::Expr(a.get(k as usize))),
            Val::Num(k) => Err(self.err(at, Some(col), format!("index {k} is not a whole number ≥ 0"))),
            // A data node is passed as itself (shared); other index expressions over data are
            // evaluated now.
            Val::Expr(e) if matches!(e.nodes(), [super::ExprNode::Var(_)]) => Ok(Val::Expr(a.at(e))),
            Val::Expr(e) => match self.constant(&e) {
                Some(c) => Ok(Val::Expr(a.at(c.values))),
                None => Err(self.err(at, Some(col), "an index must be data (integers), not a parameter")),
            },
            Val::Matrix { .. } => Err(self.err(at, Some(col), "a matrix cannot be an index")),
        }
    }

    /// `m[i, j]` of an `rows × cols` matrix as a position row by row (`i·cols + j`): numbers
    /// or data (NumPy's pairs: `m[i, j]` with vectors `i` and `j` of one length, or one of them
    /// a number, reads `m[i[k], j[k]]` for each `k`).
    fn matrix_index(
        &self,
        rows: usize,
        cols: usize,
        indices: Vec<Val>,
        at: At<'_>,
        col: usize,
    ) -> Result<Val> {
        let mut parts = Vec::with_capacity(2);
        for (v, n) in indices.into_iter().zip([rows, cols]) {
            if matches!(v, Val::Matrix { .. }) {
                return Err(self.err(at, Some(col), "a matrix cannot be an index"));
            }
            let c = self.constant(&v.expr()).ok_or_else(|| {
                self.err(at, Some(col), "an index must be data (integers), not a parameter")
            })?;
            if let Some(k) = c.values.iter().find(|&&k| !(k >= 0.0 && k.fract() == 0.0 && k < n as f64)) {
                return Err(self.err(
                    at,
                    Some(col),
                    format!("index {k} is not a whole number in 0..{n} of a {rows} × {cols} matrix"),
                ));
            }
            parts.push(c);
        }
        let (i, j) = (&parts[0], &parts[1]);
        if i.vector && j.vector && i.values.len() != j.values.len() {
            return Err(self.err(
                at,
                Some(col),
                format!("row and column indices of lengths {} and {}", i.values.len(), j.values.len()),
            ));
        }
        let n = i.values.len().max(j.values.len());
        let flat: Vec<f64> = (0..n).map(|k| i.at(k) * cols as f64 + j.at(k)).collect();
        Ok(if i.vector || j.vector { Val::Expr(Expr::data(flat)) } else { Val::Num(flat[0]) })
    }

    fn call(&self, f: &str, args: Vec<Val>, at: At<'_>, col: usize) -> Result<Val> {
        let given = args.len();
        let arity = |n: usize| {
            if given == n {
                Ok(())
            } else {
                Err(self.err(at, Some(col), format!("`{f}` takes {n} argument(s), got {given}")))
            }
        };
        if let Some(kernel) = gp_kernel(f) {
            return self.gp_cov(f, kernel, args, at, col).map(Val::Expr);
        }
        let takes_matrix = matches!(f, "cols" | "center" | "add_diag" | "cholesky" | "cholesky_decompose");
        if args.iter().any(|a| matches!(a, Val::Matrix { .. })) && !takes_matrix {
            return Err(self.err(at, Some(col), format!("`{f}` does not take a matrix")));
        }
        let unary: Option<fn(Expr) -> Expr> = match f {
            "exp" => Some(Expr::exp),
            "log10" => Some(|e: Expr| e.ln() * std::f64::consts::LOG10_E),
            "log" | "ln" => Some(Expr::ln),
            "log1p" => Some(Expr::ln_1p),
            "expm1" => Some(Expr::expm1),
            "sqrt" => Some(Expr::sqrt),
            "square" => Some(Expr::square),
            "logistic" | "inv_logit" | "invlogit" | "expit" => Some(Expr::logistic),
            "log_logistic" | "log_inv_logit" => Some(Expr::log_logistic),
            "softplus" | "log1p_exp" => Some(Expr::softplus),
            "abs" | "fabs" => Some(Expr::abs),
            "tanh" => Some(Expr::tanh),
            "sin" => Some(Expr::sin),
            "cos" => Some(Expr::cos),
            "atan" | "arctan" => Some(Expr::atan),
            "wrap_angle" => Some(Expr::wrap_angle),
            "sum" => Some(Expr::sum),
            "mean" => Some(Expr::mean),
            "cumsum" | "cumulative_sum" => Some(Expr::cumsum),
            "diff" => Some(Expr::diff),
            "cholesky" | "cholesky_decompose" => Some(Expr::cholesky),
            _ => None,
        };
        if let Some(g) = unary {
            arity(1)?;
            let e = g(args.into_iter().next().expect("one argument").expr());
            // Numbers stay numbers.
            return Ok(match e.eval_const() {
                Some(c) if !c.vector => Val::Num(c.values[0]),
                _ => Val::Expr(e),
            });
        }
        match f {
            "sd" | "variance" => {
                arity(1)?;
                let e = args.into_iter().next().expect("one argument").expr();
                let Some(c) = self.constant(&e) else {
                    return Err(self.err(at, Some(col), format!("`{f}` applies to data")));
                };
                let n = c.values.len() as f64;
                if n < 2.0 {
                    return Err(self.err(at, Some(col), format!("`{f}` needs at least two values")));
                }
                let mean = c.values.iter().sum::<f64>() / n;
                let var = c.values.iter().map(|x| (x - mean) * (x - mean)).sum::<f64>() / (n - 1.0);
                Ok(Val::Num(if f == "sd" { var.sqrt() } else { var }))
            }
            "dot" | "pow" | "tril_mul" => {
                arity(2)?;
                let mut it = args.into_iter();
                let (a, b) = (it.next().expect("two").expr(), it.next().expect("two").expr());
                Ok(Val::Expr(match f {
                    "dot" => a.dot(b),
                    "pow" => a.pow(b),
                    _ => a.tril_mul(b),
                }))
            }
            "add_diag" => {
                // add_diag(K, d): d added to the diagonal of a square matrix.
                arity(2)?;
                let mut it = args.into_iter();
                let (k, d) = (it.next().expect("two").expr(), it.next().expect("two").expr());
                let n = match super::validate::expr_shape(self.model.nodes(), &k, at.node) {
                    Ok(Shape::Matrix(r, c)) if r == c => Some(r),
                    Ok(Shape::Vector(len)) => square_side(len),
                    _ => None,
                };
                let n = n.ok_or_else(|| self.err(at, Some(col), "`add_diag` takes a square matrix"))?;
                Ok(Val::Expr(add_diag(k, n, d)))
            }
            "reshape" => {
                // reshape(v, rows, cols): v read as a rows × cols matrix, row by row.
                arity(3)?;
                let mut it = args.into_iter();
                let v = it.next().expect("three").expr();
                let rows = self.whole(it.next().expect("three"), at, col)?;
                let cols = self.whole(it.next().expect("three"), at, col)?;
                Ok(Val::Expr(v.reshape(rows, cols)))
            }
            "stack" if !args.is_empty() => Ok(Val::Expr(Expr::stack(args.into_iter().map(Val::expr)))),
            "where" => {
                // where(c, a, b): a where c is not 0, else b, element by element over data
                // (NumPy's), numbers broadcast.
                arity(3)?;
                let mut vals = Vec::with_capacity(3);
                for a in args {
                    let c = self.constant(&a.expr());
                    vals.push(c.ok_or_else(|| self.err(at, Some(col), "`where` applies to data"))?);
                }
                let lens: Vec<usize> = vals.iter().filter(|v| v.vector).map(|v| v.values.len()).collect();
                if lens.windows(2).any(|w| w[0] != w[1]) {
                    return Err(self.err(at, Some(col), format!("`where` of vectors of lengths {lens:?}")));
                }
                let n = lens.first().copied().unwrap_or(1);
                let out: Vec<f64> =
                    (0..n).map(|i| if vals[0].at(i) != 0.0 { vals[1].at(i) } else { vals[2].at(i) }).collect();
                Ok(if lens.is_empty() { Val::Num(out[0]) } else { Val::Expr(Expr::data(out)) })
            }
            "slice" => {
                // slice(v, from, to): elements from..to (0-based, `to` excluded) of data.
                arity(3)?;
                let mut it = args.into_iter();
                let v = it.next().expect("three").expr();
                let (from, to) = (self.whole(it.next().expect("three"), at, col)?, self.whole(it.next().expect("three"), at, col)?);
                let Some(c) = self.constant(&v) else {
                    return Err(self.err(at, Some(col), "`slice` applies to data"));
                };
                if from >= to || to > c.values.len() {
                    return Err(self.err(at, Some(col), format!("slice {from}..{to} of a vector of {}", c.values.len())));
                }
                Ok(Val::Expr(Expr::data(c.values[from..to].to_vec())))
            }
            "cols" | "center" => {
                let mut it = args.into_iter();
                let Some(Val::Matrix { rows, cols, values, .. }) = it.next() else {
                    return Err(self.err(at, Some(col), format!("`{f}` takes a data matrix")));
                };
                if f == "center" {
                    arity(1)?;
                    let mut out = values;
                    for j in 0..cols {
                        let mean = (0..rows).map(|i| out[i * cols + j]).sum::<f64>() / rows as f64;
                        (0..rows).for_each(|i| out[i * cols + j] -= mean);
                    }
                    return Ok(Val::Matrix { name: None, rows, cols, values: out });
                }
                // cols(X, from, to): columns from..to (0-based, `to` excluded).
                let rest: Vec<Val> = it.collect();
                if rest.len() != 2 {
                    return Err(self.err(at, Some(col), "`cols` takes a matrix and two column positions"));
                }
                let mut rest = rest.into_iter();
                let (from, to) = (self.whole(rest.next().expect("two"), at, col)?, self.whole(rest.next().expect("two"), at, col)?);
                if from >= to || to > cols {
                    return Err(self.err(at, Some(col), format!("columns {from}..{to} of a matrix of {cols}")));
                }
                let values: Vec<f64> = (0..rows).flat_map(|i| values[i * cols + from..i * cols + to].to_vec()).collect();
                Ok(Val::Matrix { name: None, rows, cols: to - from, values })
            }
            _ => Err(self.err(
                at,
                Some(col),
                format!(
                    "unknown function `{f}` (known: exp log log10 log1p expm1 sqrt square logistic log_logistic softplus abs tanh sin cos atan wrap_angle sum mean cumsum diff cholesky sd variance dot pow stack tril_mul reshape add_diag gp_exp_quad_cov gp_matern32_cov gp_matern52_cov gp_exponential_cov gp_periodic_cov slice cols center where)"
                ),
            )),
        }
    }

    /// Stan's `gp_*_cov(x, alpha, rho[, period])`: `alpha²` times the kernel at the points of
    /// `x` (a data vector of one coordinate each, or a data matrix of a point per row) with
    /// lengthscale `rho`, as Stan defines it.
    fn gp_cov(
        &self,
        f: &str,
        kernel: fn(Expr, f64) -> Cov,
        args: Vec<Val>,
        at: At<'_>,
        col: usize,
    ) -> Result<Expr> {
        let periodic = f == "gp_periodic_cov";
        let want = if periodic { 4 } else { 3 };
        if args.len() != want {
            return Err(self.err(at, Some(col), format!("`{f}` takes {want} arguments, got {}", args.len())));
        }
        let mut it = args.into_iter();
        let points = match it.next().expect("x") {
            // Stan's periodic kernel reads the Euclidean distance, PyMC's (and `Cov`'s) each
            // coordinate's: they agree on a line only.
            Val::Matrix { .. } if periodic => {
                return Err(self.err(at, Some(col), format!("`{f}` takes points on a line (a data vector)")));
            }
            Val::Matrix { cols, values, .. } => Points::new(values, cols),
            v => match self.constant(&v.expr()) {
                Some(c) if c.vector => Points::line(&c.values),
                _ => {
                    return Err(self.err(
                        at,
                        Some(col),
                        format!("`{f}` takes its points as a data vector or matrix"),
                    ));
                }
            },
        };
        let points = points.map_err(|e| self.wrap(at, e))?;
        let (alpha, rho) = (it.next().expect("alpha").expr(), it.next().expect("rho").expr());
        let period = match it.next() {
            Some(Val::Num(p)) => p,
            Some(_) => return Err(self.err(at, Some(col), format!("`{f}`'s period must be a number"))),
            None => 0.0,
        };
        let k = kernel(rho, period).scale(alpha.square()).matrix(&points, &points);
        k.map_err(|e| self.wrap(at, e))
    }

    /// A whole number ≥ 0 given as a number literal.
    fn whole(&self, v: Val, at: At<'_>, col: usize) -> Result<usize> {
        match v {
            Val::Num(k) if k >= 0.0 && k.fract() == 0.0 => Ok(k as usize),
            _ => Err(self.err(at, Some(col), "expected a whole number ≥ 0")),
        }
    }

    /// A parameter or value given as a number, an array of numbers or an expression string.
    fn value(&mut self, v: &toml::Value, at: At<'_>) -> Result<Expr> {
        match v {
            toml::Value::Integer(i) => Ok(Expr::constant(*i as f64)),
            toml::Value::Float(x) => Ok(Expr::constant(*x)),
            toml::Value::String(s) => self.eval(s, at).map(Val::expr),
            toml::Value::Array(items) => Ok(Expr::data(self.numbers(items, at)?)),
            _ => Err(self.err(at, None, "expected a number, an array of numbers or an expression string")),
        }
    }

    fn numbers(&self, items: &[toml::Value], at: At<'_>) -> Result<Vec<f64>> {
        items
            .iter()
            .map(|x| match x {
                toml::Value::Integer(i) => Ok(*i as f64),
                toml::Value::Float(f) => Ok(*f),
                _ => Err(self.err(at, None, "arrays must hold numbers")),
            })
            .collect()
    }

    /// The family a node table names, chosen among the variants of `dist` (its `_logit` and
    /// `_log` forms) by the parameter names given (PyMC's already renamed to exmc's); `written`
    /// is the table as written, for the error message.
    fn family(&self, table: &toml::Table, written: &toml::Table, at: At<'_>) -> Result<DistKind> {
        let Some(toml::Value::String(name)) = table.get("dist") else {
            return Err(self.err(At { field: "dist", ..at }, None, "every node needs `dist = \"<family>\"`"));
        };
        let name = snake_case(name);
        let mut given: Vec<&str> =
            table.keys().map(String::as_str).filter(|k| !RESERVED.contains(k)).collect();
        given.sort_unstable();
        let candidates: Vec<DistKind> = DistKind::ALL
            .iter()
            .copied()
            .filter(|k| {
                k.name() == name
                    || k.name()
                        .strip_prefix(name.as_str())
                        .is_some_and(|r| matches!(r, "_logit" | "_log" | "_lower" | "_upper" | "_cov"))
            })
            .collect();
        if candidates.is_empty() {
            let known: Vec<&str> = DistKind::ALL.iter().map(|k| k.name()).collect();
            return Err(self.err(
                At { field: "dist", ..at },
                None,
                format!("unknown distribution `{name}` (known: {})", known.join(", ")),
            ));
        }
        for &kind in &candidates {
            // A censoring bound left out is none (`∓∞`).
            let mut want: Vec<&str> = kind
                .params()
                .iter()
                .filter(|(n, d)| *d != Domain::Bound || table.contains_key(*n))
                .map(|(n, _)| *n)
                .collect();
            want.sort_unstable();
            if want == given {
                return Ok(kind);
            }
        }
        let forms: Vec<String> = candidates
            .iter()
            .map(|k| k.params().iter().map(|(n, _)| *n).collect::<Vec<_>>().join(", "))
            .collect();
        Err(self.err(
            at,
            None,
            format!(
                "{name} takes the parameters {}; got {}",
                forms.join(" or "),
                written
                    .keys()
                    .map(String::as_str)
                    .filter(|k| !RESERVED.contains(k))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        ))
    }

    fn dist(&mut self, written: &toml::Table, at: At<'_>) -> Result<Dist> {
        let (table, renamed) = with_aliases(written);
        let kind = self.family(&table, written, at)?;
        let mut params = Vec::with_capacity(kind.n_params());
        for (p, domain) in kind.params() {
            // Errors name the key as written (`logit_p`, not `logits`).
            let field = renamed.iter().find(|(name, _)| name == p).map_or(*p, |(_, alias)| *alias);
            let value = match table.get(*p) {
                Some(v) => self.value(v, At { field, ..at })?,
                None if *p == "lower" => Expr::constant(f64::NEG_INFINITY),
                None => Expr::constant(f64::INFINITY),
            };
            params.push(if *domain == Domain::Bound { censoring_bound(value) } else { value });
        }
        if renamed.contains(&("kappa", "q")) {
            let q = params[0].clone();
            if q.eval_const().is_some_and(|c| !c.values.iter().all(|&v| v > 0.0 && v < 1.0)) {
                return Err(self.err(At { field: "q", ..at }, None, "a quantile must lie in (0, 1)"));
            }
            params[0] = crate::model::dist::kappa_of_quantile(q);
        }
        Ok(Dist { kind, params })
    }

    /// An observed node's `value`: an expression of its draw, named by `draw` (default `x`).
    fn transformed_value(&mut self, t: &toml::Table, v: &toml::Value, at: At<'_>) -> Result<Expr> {
        let toml::Value::String(text) = v else {
            return Err(self.err(At { field: "value", ..at }, None, "expected an expression string"));
        };
        let draw = match t.get("draw") {
            None => "x".to_string(),
            Some(toml::Value::String(s)) => s.clone(),
            Some(_) => return Err(self.err(At { field: "draw", ..at }, None, "expected a name")),
        };
        let saved = std::mem::replace(&mut self.locals, vec![(draw, Expr::argument())]);
        let e = self.eval(text, At { field: "value", ..at }).map(Val::expr);
        self.locals = saved;
        e
    }

    /// A `[scan.NAME]` table: `init`, `step` (an expression of the previous state, named by
    /// `state`, default `prev`, and of the sequences by their names), optional `sequences` (a
    /// table of names to expressions) and `steps` (a number or an expression of data; by
    /// default the length of the first sequence when it is data).
    fn scan(&mut self, t: &toml::Table, at: At<'_>) -> Result<Expr> {
        const KEYS: [&str; 5] = ["init", "step", "state", "sequences", "steps"];
        if let Some(k) = t.keys().find(|k| !KEYS.contains(&k.as_str())) {
            return Err(self.err(
                At { field: k, ..at },
                None,
                "unknown key (known: init, step, state, sequences, steps)",
            ));
        }
        let text = |key: &'static str| match t.get(key) {
            Some(toml::Value::String(s)) => Ok(Some(s.clone())),
            None => Ok(None),
            Some(_) => Err(self.err(At { field: key, ..at }, None, "expected an expression string")),
        };
        let step = text("step")?.ok_or_else(|| self.err(at, None, "a recurrence needs `step`"))?;
        let state = text("state")?.unwrap_or_else(|| "prev".into());
        let init = match t.get("init") {
            Some(v) => self.value(v, At { field: "init", ..at })?,
            None => {
                return Err(self.err(
                    at,
                    None,
                    "a recurrence needs `init` (its state before the first step)",
                ));
            }
        };
        let mut names = Vec::new();
        let mut seqs = Vec::new();
        match t.get("sequences") {
            None => {}
            Some(toml::Value::Table(q)) => {
                for (name, v) in q {
                    seqs.push(self.value(v, At { field: "sequences", ..at })?);
                    names.push(name.clone());
                }
            }
            Some(_) => {
                return Err(self.err(
                    At { field: "sequences", ..at },
                    None,
                    "expected a table of names to expressions (`sequences = { x = \"y\" }`)",
                ));
            }
        }
        let at_steps = At { field: "steps", ..at };
        let steps = match t.get("steps") {
            Some(toml::Value::Integer(n)) if *n >= 1 => *n as usize,
            Some(toml::Value::String(s)) => match self.eval(s, at_steps)? {
                Val::Num(v) if v >= 1.0 && v.fract() == 0.0 => v as usize,
                _ => return Err(self.err(at_steps, None, "expected a whole number ≥ 1 (of data)")),
            },
            Some(_) => {
                return Err(self.err(at_steps, None, "expected a whole number ≥ 1 or an expression of data"));
            }
            None => match seqs.first().and_then(|e| self.constant(e)) {
                Some(c) => c.values.len(),
                None => {
                    return Err(self.err(
                        at_steps,
                        None,
                        "give `steps` (the first sequence's length is known only when it is data)",
                    ));
                }
            },
        };
        let at_step = At { field: "step", ..at };
        let mut failed = None;
        let e = Expr::scan(init, seqs, steps, |prev, slices| {
            let saved = std::mem::take(&mut self.locals);
            self.locals = std::iter::once((state.clone(), prev))
                .chain(names.iter().cloned().zip(slices.iter().cloned()))
                .collect();
            let e = self.eval(&step, at_step).map(Val::expr);
            self.locals = saved;
            e.unwrap_or_else(|e| {
                failed = Some(e);
                Expr::constant(0.0)
            })
        });
        match failed {
            Some(e) => Err(e),
            None => Ok(e),
        }
    }

    /// Labels given in a file: the name of data of strings, or an array (strings, or numbers
    /// written as such).
    fn labels(&self, l: &toml::Value, at: At<'_>) -> Result<Vec<String>> {
        let at = At { field: "labels", ..at };
        match l {
            toml::Value::String(s) => match self.data.get(s) {
                Some(DataValue::Labels(l)) => Ok(l.clone()),
                _ => Err(self.err(at, None, format!("`{s}` is not data of strings"))),
            },
            toml::Value::Array(items) => Ok(items
                .iter()
                .map(|x| x.as_str().map(String::from).unwrap_or_else(|| x.to_string()))
                .collect()),
            _ => Err(self.err(at, None, "expected a data name or an array of strings")),
        }
    }

    /// Refuses the reserved keys of the other kind of node, which would otherwise be ignored.
    fn misplaced(&self, t: &toml::Table, keys: &[&'static str], owner: &str, at: At<'_>) -> Result<()> {
        match keys.iter().find(|k| t.contains_key(**k)) {
            Some(k) => Err(self.err(At { field: k, ..at }, None, format!("`{k}` is {owner} key"))),
            None => Ok(()),
        }
    }

    /// One dimension of a `shape`: a number ≥ 1 or a whole-number data scalar.
    fn dimension(&self, v: &toml::Value, at: At<'_>) -> Result<usize> {
        let at = At { field: "shape", ..at };
        match v {
            toml::Value::Integer(n) if *n >= 1 => Ok(*n as usize),
            toml::Value::String(s) => match self.data.get(s) {
                Some(DataValue::Scalar(v)) if *v >= 1.0 && v.fract() == 0.0 => Ok(*v as usize),
                _ => Err(self.err(at, None, format!("`{s}` is not a whole-number data scalar ≥ 1"))),
            },
            _ => Err(self.err(at, None, "expected a number ≥ 1, a data scalar or `[rows, cols]`")),
        }
    }

    fn define(&mut self, d: &Definition) -> Result<()> {
        let at = At { node: &d.name, field: "" };
        let made = match (d.kind, &d.table, &d.expr) {
            (Kind::Rv, Some(t), _) => {
                self.misplaced(t, &["data", "value", "draw"], "an observed node's ([observe.NAME])", at)?;
                let dist = self.dist(t, at)?;
                let shape = match t.get("shape") {
                    None => None,
                    // `[rows, cols]`: a matrix, row by row.
                    Some(toml::Value::Array(dims)) => match dims.as_slice() {
                        [n] => Some((self.dimension(n, at)?, None)),
                        [r, c] => Some((self.dimension(r, at)?, Some(self.dimension(c, at)?))),
                        _ => {
                            return Err(self.err(
                                At { field: "shape", ..at },
                                None,
                                format!(
                                    "a shape has one or two dimensions (`[n]`, `[rows, cols]`), not {}",
                                    dims.len()
                                ),
                            ));
                        }
                    },
                    Some(n) => Some((self.dimension(n, at)?, None)),
                };
                let var = match shape {
                    Some((r, Some(c))) => self.model.rv_matrix(&d.name, dist, r, c),
                    Some((n, None)) => self.model.rv_vec(&d.name, dist, n),
                    None => self.model.rv(&d.name, dist),
                }
                .map_err(|e| self.wrap(at, e))?;
                if let Some(l) = t.get("labels") {
                    let matrix = matches!(self.model.nodes()[var.index()].shape, Shape::Matrix(..));
                    match l {
                        // A matrix's: `[rows, cols]`, each a data name or an array of strings.
                        toml::Value::Array(axes) if matrix && axes.len() == 2 => {
                            let rows = self.labels(&axes[0], at)?;
                            let cols = self.labels(&axes[1], at)?;
                            self.model.set_matrix_labels(var, rows, cols).map_err(|e| self.wrap(at, e))?;
                        }
                        _ if matrix => {
                            return Err(self.err(
                                At { field: "labels", ..at },
                                None,
                                "a matrix's labels are `[rows, cols]`: two data names or arrays of strings",
                            ));
                        }
                        l => {
                            let labels = self.labels(l, at)?;
                            self.model.set_labels(var, labels).map_err(|e| self.wrap(at, e))?;
                        }
                    }
                }
                match t.get("transform") {
                    None => {}
                    Some(toml::Value::String(s)) if s == "ordered" => {
                        let at = At { field: "transform", ..at };
                        self.model.ordered(var).map_err(|e| self.wrap(at, e))?;
                    }
                    Some(_) => {
                        return Err(self.err(
                            At { field: "transform", ..at },
                            None,
                            "the one transform a file chooses is `\"ordered\"` (the others follow \
                             from the family's support)",
                        ));
                    }
                }
                var
            }
            (Kind::Observe, Some(t), _) => {
                // An observed node's length and elements are its data's.
                self.misplaced(t, &["shape", "labels", "transform"], "a free variable's ([rv.NAME])", at)?;
                let dist = self.dist(t, at)?;
                let at_data = At { field: "data", ..at };
                let mut matrix = None;
                let values = match t.get("data") {
                    Some(toml::Value::String(s)) => match self.data.get(s) {
                        Some(DataValue::Vector { values, .. }) => values.clone(),
                        Some(DataValue::Scalar(v)) => vec![*v],
                        Some(DataValue::Matrix { rows, cols, values }) => {
                            matrix = Some((*rows, *cols));
                            values.clone()
                        }
                        _ => {
                            return Err(self.err(
                                at_data,
                                None,
                                format!("`{s}` is not a data vector or matrix"),
                            ));
                        }
                    },
                    Some(toml::Value::Array(items)) => self.numbers(items, at_data)?,
                    _ => {
                        return Err(self.err(
                            at_data,
                            None,
                            "an observed node needs `data`: a data name or an array",
                        ));
                    }
                };
                match (t.get("value"), matrix) {
                    (None, None) => self.model.observe(&d.name, dist, &values),
                    (None, Some((rows, cols))) => {
                        self.model.observe_matrix(&d.name, dist, rows, cols, &values)
                    }
                    (Some(v), _) => {
                        let value = self.transformed_value(t, v, at)?;
                        self.model.observe_transformed(&d.name, dist, |_| value, &values)
                    }
                }
                .map_err(|e| self.wrap(at, e))?
            }
            (Kind::Scan, Some(t), _) => {
                let e = self.scan(t, at)?;
                self.model.deterministic(&d.name, e).map_err(|e| self.wrap(at, e))?
            }
            (Kind::Deterministic | Kind::Potential, _, Some(text)) => {
                let e = self.eval(text, at)?.expr();
                if d.kind == Kind::Deterministic {
                    self.model.deterministic(&d.name, e)
                } else {
                    self.model.potential(&d.name, e)
                }
                .map_err(|e| self.wrap(at, e))?
            }
            _ => return Err(self.err(at, None, "malformed node")),
        };
        self.vars.insert(d.name.clone(), made);
        Ok(())
    }
}

/// PyMC's names for parameters that exmc names otherwise: `(family, PyMC's name, exmc's)`. An
/// asymmetric Laplace's quantile `q` stands for `kappa` and is mapped to `√(q/(1 − q))`
/// ([`AsymmetricLaplace::quantile`](crate::model::dist::AsymmetricLaplace::quantile)).
const PARAM_ALIASES: [(&str, &str, &str); 3] =
    [("categorical", "logit_p", "logits"), ("dirichlet", "a", "alpha"), ("asymmetric_laplace", "q", "kappa")];

/// The `(exmc's, PyMC's)` parameter names [`with_aliases`] renamed.
type Renamed = Vec<(&'static str, &'static str)>;

/// `table` with PyMC's parameter names ([`PARAM_ALIASES`]) renamed to exmc's, where the
/// family matches and exmc's name is not also given; and what it renamed.
fn with_aliases(table: &toml::Table) -> (std::borrow::Cow<'_, toml::Table>, Renamed) {
    let mut out = std::borrow::Cow::Borrowed(table);
    let mut renamed = Vec::new();
    let Some(toml::Value::String(family)) = table.get("dist") else { return (out, renamed) };
    let family = snake_case(family);
    for (f, alias, name) in PARAM_ALIASES {
        if family == f && table.contains_key(alias) && !table.contains_key(name) {
            let t = out.to_mut();
            let v = t.remove(alias).expect("present");
            t.insert(name.to_string(), v);
            renamed.push((name, alias));
        }
    }
    (out, renamed)
}

/// The covariance function of a Stan `gp_*_cov` name, from its lengthscale (and period):
/// Stan's exponential kernel is PyMC's Matérn 1/2, and its periodic kernel PyMC's with half
/// the lengthscale.
fn gp_kernel(f: &str) -> Option<fn(Expr, f64) -> Cov> {
    let kernel: fn(Expr, f64) -> Cov = match f {
        "gp_exp_quad_cov" => |rho, _| Cov::exp_quad(rho),
        "gp_matern32_cov" => |rho, _| Cov::matern32(rho),
        "gp_matern52_cov" => |rho, _| Cov::matern52(rho),
        "gp_exponential_cov" => |rho, _| Cov::matern12(rho),
        "gp_periodic_cov" => |rho, period| Cov::periodic(rho * 0.5, period),
        _ => return None,
    };
    Some(kernel)
}

/// `HalfCauchy` → `half_cauchy`, `CAR` → `car`, `ICAR` → `icar`, `LKJCholesky` →
/// `lkj_cholesky` (a run of capitals is one word: PyMC's acronyms); names already in snake case
/// are unchanged.
fn snake_case(name: &str) -> String {
    let chars: Vec<char> = name.chars().collect();
    let mut out = String::with_capacity(name.len() + 4);
    for (i, &c) in chars.iter().enumerate() {
        if c.is_uppercase() {
            let prev = i.checked_sub(1).map(|p| chars[p]);
            let next_lower = chars.get(i + 1).is_some_and(|n| n.is_lowercase());
            // A new word: after a lower-case letter or a digit, or the last capital of a run
            // that a lower-case word follows (`LKJ|Cholesky`).
            let starts = match prev {
                Some(p) if p.is_lowercase() || p.is_ascii_digit() => true,
                Some(p) if p.is_uppercase() => next_lower,
                _ => false,
            };
            if starts && !out.ends_with('_') {
                out.push('_');
            }
            out.extend(c.to_lowercase());
        } else {
            out.push(c);
        }
    }
    out
}

/// The expression strings a definition holds, with their fields.
fn texts(d: &Definition) -> Vec<(&str, &str)> {
    match (&d.table, &d.expr) {
        (Some(t), _) => t
            .iter()
            .filter(|(k, _)| !RESERVED.contains(&k.as_str()))
            .flat_map(|(k, v)| match v {
                // A recurrence's sequences.
                toml::Value::Table(q) => {
                    q.values().filter_map(|v| v.as_str().map(|s| (k.as_str(), s))).collect()
                }
                v => v.as_str().map(|s| (k.as_str(), s)).into_iter().collect::<Vec<_>>(),
            })
            .chain(t.get("value").and_then(toml::Value::as_str).map(|s| ("value", s)))
            .collect(),
        (None, Some(e)) => vec![("", e.as_str())],
        _ => vec![],
    }
}

/// Orders items so that each comes after the items it names (Kahn's algorithm); names outside
/// the items are ignored. Fails with an item on a cycle.
fn order(items: &[(String, Vec<String>)]) -> std::result::Result<Vec<usize>, &str> {
    let index: HashMap<&str, usize> = items.iter().enumerate().map(|(i, (n, _))| (n.as_str(), i)).collect();
    let mut indegree = vec![0usize; items.len()];
    let mut users: Vec<Vec<usize>> = vec![Vec::new(); items.len()];
    for (i, (_, reads)) in items.iter().enumerate() {
        let mut seen = std::collections::HashSet::new();
        for r in reads {
            if let Some(&j) = index.get(r.as_str())
                && seen.insert(j)
            {
                indegree[i] += 1;
                users[j].push(i);
            }
        }
    }
    let mut ready: Vec<usize> = (0..items.len()).rev().filter(|&i| indegree[i] == 0).collect();
    let mut out = Vec::with_capacity(items.len());
    while let Some(i) = ready.pop() {
        out.push(i);
        for &u in &users[i] {
            indegree[u] -= 1;
            if indegree[u] == 0 {
                ready.push(u);
            }
        }
    }
    match (0..items.len()).find(|&i| indegree[i] > 0) {
        Some(i) => Err(items[i].0.as_str()),
        None => Ok(out),
    }
}

impl Model {
    /// Loads a model file (TOML, see [`crate::model::file`]) with its data; `file` names it in
    /// errors.
    ///
    /// ```
    /// use exmc::model::file::{DataSet, DataValue};
    /// use exmc::prelude::*;
    /// let mut data = DataSet::new();
    /// data.insert("y", DataValue::Vector { values: vec![2.1, 1.8, 2.5], integer: false });
    /// let m = Model::from_model_str(r#"
    ///     [rv.mu]
    ///     dist = "normal"
    ///     mu = 0
    ///     sigma = 5
    ///     [rv.sigma]
    ///     dist = "HalfNormal"
    ///     sigma = 2
    ///     [observe.x]
    ///     dist = "normal"
    ///     mu = "mu"
    ///     sigma = "sigma"
    ///     data = "y"
    /// "#, &data, "quickstart.toml")?;
    /// assert_eq!(m.nodes().len(), 3); // mu, sigma and the likelihood x (its data are y's values)
    /// # Ok::<(), exmc::Error>(())
    /// ```
    pub fn from_model_str(text: &str, data: &DataSet, file: &str) -> Result<Model> {
        let table: toml::Table = toml::from_str(text)
            .map_err(|e| file_error(file, "", "", None, e.to_string().trim().to_string()))?;
        let mut data = data.clone();
        let mut defs: Vec<Definition> = Vec::new();
        let mut tdata: Vec<(String, toml::Value)> = Vec::new();
        for (section, body) in &table {
            let at_section = |reason: &str| file_error(file, "", section, None, reason.to_string());
            let toml::Value::Table(body) = body else {
                return Err(at_section("expected a table of named entries"));
            };
            match section.as_str() {
                "rv" | "observe" | "scan" => {
                    let kind = match section.as_str() {
                        "rv" => Kind::Rv,
                        "observe" => Kind::Observe,
                        _ => Kind::Scan,
                    };
                    for (name, v) in body {
                        let toml::Value::Table(t) = v else {
                            return Err(file_error(
                                file,
                                name,
                                "",
                                None,
                                "expected a table of `dist` and parameters",
                            ));
                        };
                        defs.push(Definition {
                            name: name.clone(),
                            kind,
                            table: Some(t.clone()),
                            expr: None,
                        });
                    }
                }
                "deterministic" | "potential" => {
                    let kind = if section == "deterministic" { Kind::Deterministic } else { Kind::Potential };
                    for (name, v) in body {
                        let Some(s) = v.as_str() else {
                            return Err(file_error(file, name, "", None, "expected an expression string"));
                        };
                        defs.push(Definition {
                            name: name.clone(),
                            kind,
                            table: None,
                            expr: Some(s.to_string()),
                        });
                    }
                }
                "transformed_data" => tdata.extend(body.iter().map(|(k, v)| (k.clone(), v.clone()))),
                "data" => {
                    for (name, v) in body {
                        // TOML data have JSON's shapes: numbers, arrays, arrays of arrays.
                        let json = serde_json::to_value(v)
                            .map_err(|e| file_error(file, name, "", None, e.to_string()))?;
                        let value = DataValue::from_json(&json)
                            .map_err(|why| file_error(file, name, "", None, why))?;
                        data.insert(name, value);
                    }
                }
                other => {
                    return Err(file_error(
                        file,
                        "",
                        other,
                        None,
                        "unknown section (known: rv, observe, scan, deterministic, potential, transformed_data, data)",
                    ));
                }
            }
        }
        // Transformed data, in dependency order, evaluated to data.
        let reads = |text: &str| -> Vec<String> {
            parse::parse(text)
                .map(|r| parse::names(&r).into_iter().map(|(n, _)| n.to_string()).collect())
                .unwrap_or_default()
        };
        let items: Vec<(String, Vec<String>)> =
            tdata.iter().map(|(n, v)| (n.clone(), v.as_str().map(reads).unwrap_or_default())).collect();
        let tdata_order = order(&items)
            .map_err(|n| file_error(file, n, "", None, "transformed data read each other in a cycle"))?;
        for i in tdata_order {
            let (name, v) = &tdata[i];
            let mut loader = Loader {
                file: file.into(),
                data: data.clone(),
                model: Model::new(),
                vars: HashMap::new(),
                locals: Vec::new(),
            };
            let at = At { node: name, field: "" };
            // A matrix stays a matrix (named by its entry, so `@` can read it).
            if let Some(text) = v.as_str()
                && let Val::Matrix { rows, cols, values, .. } = loader.eval(text, at)?
            {
                if values.iter().any(|x| !x.is_finite()) {
                    return Err(file_error(file, name, "", None, "transformed data must be finite"));
                }
                data.insert(name, DataValue::Matrix { rows, cols, values });
                continue;
            }
            let e = loader.value(v, at)?;
            let Some(c) = loader.constant(&e) else {
                return Err(file_error(file, name, "", None, "transformed data may read only data"));
            };
            if c.values.iter().any(|x| !x.is_finite()) {
                return Err(file_error(file, name, "", None, "transformed data must be finite"));
            }
            let shape = super::validate::expr_shape(loader.model.nodes(), &e, name).ok();
            data.insert(
                name,
                match shape {
                    Some(Shape::Matrix(rows, cols)) => DataValue::Matrix { rows, cols, values: c.values },
                    _ if c.vector => DataValue::vector(c.values),
                    _ => DataValue::Scalar(c.values[0]),
                },
            );
        }
        // Nodes, ordered by what they read.
        for d in &defs {
            if data.get(&d.name).is_some() {
                return Err(file_error(file, &d.name, "", None, "a node and a data entry share this name"));
            }
        }
        let items: Vec<(String, Vec<String>)> = defs
            .iter()
            .map(|d| (d.name.clone(), texts(d).into_iter().flat_map(|(_, t)| reads(t)).collect()))
            .collect();
        let node_order =
            order(&items).map_err(|n| file_error(file, n, "", None, "nodes read each other in a cycle"))?;
        let mut loader =
            Loader { file: file.into(), data, model: Model::new(), vars: HashMap::new(), locals: Vec::new() };
        for i in node_order {
            loader.define(&defs[i])?;
        }
        Ok(loader.model)
    }

    /// Loads a model file and its optional data file (see [`Model::from_model_str`]).
    pub fn from_files(model: impl AsRef<Path>, data: Option<&Path>) -> Result<Model> {
        let path = model.as_ref();
        let name = path.display().to_string();
        let text =
            std::fs::read_to_string(path).map_err(|e| file_error(&name, "", "", None, e.to_string()))?;
        let data = match data {
            Some(p) => DataSet::from_file(p)?,
            None => DataSet::new(),
        };
        Model::from_model_str(&text, &data, &name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every family's type name (`ZeroSumNormal`, `Icar`) and PyMC's acronyms name it.
    #[test]
    fn family_names_in_camel_case_resolve() {
        for kind in DistKind::ALL {
            assert_eq!(snake_case(&format!("{kind:?}")), kind.name());
            assert_eq!(snake_case(kind.name()), kind.name());
        }
        for (pymc, ours) in
            [("CAR", "car"), ("ICAR", "icar"), ("LKJCholesky", "lkj_cholesky"), ("MvNormal", "mv_normal")]
        {
            assert_eq!(snake_case(pymc), ours);
        }
    }
}
