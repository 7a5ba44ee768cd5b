//! Typed errors: every variant names the node or option at fault.

use thiserror::Error;

/// Everything that can go wrong building, compiling or sampling a model.
#[derive(Debug, Clone, PartialEq, Error)]
#[non_exhaustive]
pub enum Error {
    /// Two nodes share a name.
    #[error("duplicate node name `{0}`")]
    DuplicateName(String),
    /// A node refers to a node index that does not exist.
    #[error("node `{node}` refers to unknown node #{index}")]
    UnknownNode {
        /// The referring node.
        node: String,
        /// The missing index.
        index: usize,
    },
    /// A name was looked up that no node has.
    #[error("no node named `{0}`")]
    UnknownName(String),
    /// A `Var` made by another `Model` was used.
    #[error("node `{node}` uses a Var that belongs to another model")]
    ForeignVar {
        /// The node being built.
        node: String,
    },
    /// The nodes' references form a cycle.
    #[error("cycle in the model graph through node `{node}`")]
    Cycle {
        /// A node on the cycle.
        node: String,
    },
    /// Operand or data shapes do not broadcast.
    #[error("shape mismatch in node `{node}`: {detail}")]
    ShapeMismatch {
        /// The node.
        node: String,
        /// What did not match.
        detail: String,
    },
    /// A distribution got the wrong number of parameters (JSON input).
    #[error("node `{node}`: {dist} takes {expected} parameters, got {got}")]
    ParamCount {
        /// The node.
        node: String,
        /// Family name.
        dist: &'static str,
        /// Expected count.
        expected: usize,
        /// Given count.
        got: usize,
    },
    /// A constant parameter lies outside its domain.
    #[error("node `{node}`: {dist} parameter `{param}`{} is {value}, but {rule}", index_suffix(*.index))]
    InvalidParameter {
        /// The node.
        node: String,
        /// Family name.
        dist: &'static str,
        /// Parameter name.
        param: String,
        /// Element index for vector parameters.
        index: Option<usize>,
        /// The offending value.
        value: f64,
        /// The rule it breaks.
        rule: &'static str,
    },
    /// [`Mixture::new`](crate::model::dist::Mixture::new) got a component family that has no
    /// mixture.
    #[error(
        "exmc has no mixture of {dist} components: Mixture takes a normal, poisson, \
         negative_binomial, exponential, gamma, log_normal, student_t or beta component"
    )]
    NoMixture {
        /// The component's family name.
        dist: &'static str,
    },
    /// An observed node has no data.
    #[error("observed node `{node}` has empty data")]
    EmptyData {
        /// The node.
        node: String,
    },
    /// Observed data contain NaN or infinity.
    #[error("observed node `{node}`: data[{index}] is {value}, but must be finite")]
    NonFiniteData {
        /// The node.
        node: String,
        /// Element index.
        index: usize,
        /// The value.
        value: f64,
    },
    /// A list of operations given to `Expr::from_nodes` (or in JSON) is not an expression.
    #[error("invalid expression: {0}")]
    InvalidExpression(String),
    /// An expression holds a NaN or infinite constant (or exponent).
    #[error("node `{node}`: an expression holds the constant {value}, but constants must be finite")]
    NonFiniteConstant {
        /// The node.
        node: String,
        /// The value.
        value: f64,
    },
    /// Data break a rule of their node (integers that are not whole, counts above a total, an
    /// index out of range).
    #[error("node `{node}`: data[{index}] = {value}, but {rule}")]
    InvalidData {
        /// The node.
        node: String,
        /// Element index.
        index: usize,
        /// The value.
        value: f64,
        /// The rule it breaks.
        rule: &'static str,
    },
    /// Observed data lie outside the support of the distribution.
    #[error("observed node `{node}`: data[{index}] = {value} is outside the support of {dist}")]
    OutsideSupport {
        /// The node.
        node: String,
        /// Family name.
        dist: &'static str,
        /// Element index.
        index: usize,
        /// The value.
        value: f64,
    },
    /// A sampler or model option is invalid.
    #[error("invalid option `{option}`: {reason}")]
    InvalidOption {
        /// Option name.
        option: &'static str,
        /// Why.
        reason: String,
    },
    /// No finite log density and gradient was found at initialisation.
    #[error("chain {chain}: no initial point with finite log density and gradient in {}", tries_in(*tries))]
    InitFailed {
        /// The chain.
        chain: usize,
        /// Attempts made.
        tries: usize,
    },
    /// An optimisation (the MAP search, a Laplace approximation, a Pathfinder path) found no
    /// starting point of finite log density and gradient.
    #[error("no starting point with finite log density and gradient in {}", tries_in(*tries))]
    NoStart {
        /// Attempts made.
        tries: usize,
    },
    /// A backend could not be created or failed while running.
    #[error("backend `{backend}`: {reason}")]
    Backend {
        /// Which backend.
        backend: &'static str,
        /// What went wrong.
        reason: String,
    },
    /// A node name is empty or uses characters reserved for element labels.
    #[error("invalid node name `{name}`: {reason}")]
    InvalidName {
        /// The name.
        name: String,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// An operation was asked of a node that does not support it.
    #[error("node `{node}`: {reason}")]
    InvalidNode {
        /// The node.
        node: String,
        /// Why the operation does not apply.
        reason: String,
    },
    /// A size too large to represent or to allocate.
    #[error("{what} needs {elements} values: {reason}")]
    TooLarge {
        /// What has that size (a node, a trace, a backend's state).
        what: String,
        /// The number of values.
        elements: u128,
        /// The limit it breaks, or the failed allocation.
        reason: String,
    },
    /// The model has no free random variable, so there is nothing for NUTS to sample.
    #[error("the model has no free random variables: there is nothing to sample")]
    NoFreeVariables,
    /// A model or data file is malformed: names the file, the node, the field and, within an
    /// expression, the column.
    #[error("{file}{}{}{}: {reason}", if node.is_empty() { String::new() } else { format!(": node `{node}`") }, if field.is_empty() { String::new() } else { format!(", field `{field}`") }, column.map(|c| format!(", column {c}")).unwrap_or_default())]
    ModelFile {
        /// The file.
        file: String,
        /// The node (empty when the error is not about one).
        node: String,
        /// The field of the node, or the section (empty when none).
        field: String,
        /// 1-based column within an expression string.
        column: Option<usize>,
        /// What is wrong.
        reason: String,
    },
    /// Traces that cannot be joined into one (e.g. shards of different runs).
    #[error("trace {index} cannot join the ones before it: {reason}")]
    TraceMismatch {
        /// 0-based position of the offending trace.
        index: usize,
        /// What differs.
        reason: String,
    },
    /// The live view could not serve at the address it was given.
    #[error("live view at {addr}: {reason}")]
    Live {
        /// The address asked for.
        addr: String,
        /// What went wrong (address in use, unknown variable, ...).
        reason: String,
    },
    /// A maximum a posteriori search or a Laplace approximation failed
    /// ([`Optimizer`](crate::optimize::Optimizer)).
    #[error("optimisation: {reason}")]
    Optimization {
        /// What failed.
        reason: String,
    },
    /// Sequential Monte Carlo ([`sample_smc`](crate::smc::sample_smc)) could not go on.
    #[error("sequential Monte Carlo, chain {chain}: {reason}")]
    Smc {
        /// The chain.
        chain: usize,
        /// What failed, and at which stage.
        reason: String,
    },
    /// JSON could not be read or written.
    #[error("model JSON: {0}")]
    Json(String),
    /// A trace file that cannot be written or read: its path, the line (1-based) when the
    /// fault is in one, and what is wrong.
    #[error("{file}{}: {reason}", line.map(|l| format!(", line {l}")).unwrap_or_default())]
    TraceFile {
        /// The file (or directory) at fault.
        file: String,
        /// The 1-based line, for text formats.
        line: Option<usize>,
        /// What is wrong.
        reason: String,
    },
}

impl Error {
    /// An [`Error::InvalidOption`] naming `option`, for `reason`.
    pub fn invalid_option(option: &'static str, reason: impl Into<String>) -> Error {
        Error::InvalidOption { option, reason: reason.into() }
    }
}

/// "1 try", "3 tries".
fn tries_in(tries: usize) -> String {
    format!("{tries} {}", if tries == 1 { "try" } else { "tries" })
}

fn index_suffix(i: Option<usize>) -> String {
    i.map(|i| format!("[{i}]")).unwrap_or_default()
}

/// Result alias.
pub type Result<T, E = Error> = std::result::Result<T, E>;
