//! Automatic non-centred parameterisation of hierarchical normals.
//!
//! A free `x ~ Normal(mu, sigma)` whose `mu` and `sigma` both read other nodes becomes
//! `x_z ~ Normal(0, 1)` (same shape) and the deterministic `x = mu + sigma · x_z`, which keeps
//! the name `x` in the trace. Nodes marked with `Model::keep_centered` are left alone.
//!
//! The centred density is −∞ wherever `sigma ≤ 0`; the rewritten model has no such bound, so
//! the rewrite applies only where `sigma > 0` holds by construction ([`Sign::of`]): a positive
//! constant or data, a node whose support is positive (HalfCauchy, Gamma, …, a Uniform with a
//! non-negative lower bound), and sums, products, quotients, powers, `exp`, `logistic`, `√`,
//! `x²` and `ln(1 + x)` of those — never of a value that may be NaN (`exp(ln(mu))` with `mu`
//! real). `Normal(mu, mu - 10)` or `Normal(mu, -tau)` stay centred.
//!
//! A free `x ~ ZeroSumNormal(sigma)` whose `sigma` reads other nodes becomes
//! `x_z ~ ZeroSumNormal(1)` and `x = sigma · x_z`, under the same rule; a free
//! `x ~ Icar(W, sigma)` likewise becomes `x_z ~ Icar(W, 1)` and `x = sigma · x_z`.
//!
//! A free `x ~ MvNormal(mu, chol)` whose factor reads other nodes becomes `x_z ~ Normal(0, 1)`
//! and `x = mu + chol.tril_mul(x_z)` (row by row), under the same rule: only where the factor's
//! diagonal is positive by construction (a free LKJCholesky factor, data, or those times a
//! positive value, as in `sigma.at(&rows) * corr`).

use crate::model::expr::ScanExpr;
use crate::model::{
    BinaryOp, Dist, DistKind, Expr, ExprNode, Model, Node, NodeKind, NodeRef, Shape, Support, UnaryOp,
};

/// What is known about a value, everywhere in its domain: its sign, and whether it is defined
/// (never NaN). A positive sign is claimed only for a value that is also defined: `exp(ln(mu))`
/// is NaN, not positive, where `mu < 0`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Sign {
    /// Strictly positive.
    Positive,
    /// Positive or zero.
    NonNegative,
    /// A real number of either sign (never NaN).
    Real,
    /// Nothing: possibly NaN (`ln`, `√` or `ln(1 + x)` outside their domains, `x / 0`, …).
    Unknown,
}

impl Sign {
    fn of_values(v: &[f64]) -> Sign {
        if v.iter().all(|&x| x > 0.0) {
            Sign::Positive
        } else if v.iter().all(|&x| x >= 0.0) {
            Sign::NonNegative
        } else if v.iter().all(|x| !x.is_nan()) {
            Sign::Real
        } else {
            Sign::Unknown
        }
    }

    /// What holds of both: the weaker of two facts.
    fn join(self, other: Sign) -> Sign {
        use Sign::*;
        match (self, other) {
            (Unknown, _) | (_, Unknown) => Unknown,
            (Real, _) | (_, Real) => Real,
            (NonNegative, _) | (_, NonNegative) => NonNegative,
            (Positive, Positive) => Positive,
        }
    }

    fn defined(self) -> bool {
        self != Sign::Unknown
    }

    /// At least zero and defined.
    fn non_negative(self) -> bool {
        matches!(self, Sign::Positive | Sign::NonNegative)
    }

    /// What is known about `e`, given what is known about the model's nodes (one pass over its
    /// operations).
    pub fn of(e: &Expr, nodes: &[Sign]) -> Sign {
        Sign::of_each(e, nodes).pop().unwrap_or(Sign::Unknown)
    }

    /// What is known about every operation of `e`, in its order.
    pub fn of_each(e: &Expr, nodes: &[Sign]) -> Vec<Sign> {
        Sign::of_each_in(e, nodes, None)
    }

    /// What is known about a recurrence's states: the initial state's sign when one step keeps
    /// it (by induction, every state then has it), else the join after a second step, else
    /// nothing.
    fn of_scan(scan: &ScanExpr, nodes: &[Sign], args: &[Sign]) -> Sign {
        let (init, slices) = args.split_first().map_or((Sign::Unknown, &[][..]), |(a, b)| (*a, b));
        let mut state = init;
        for _ in 0..2 {
            let next =
                Sign::of_each_in(&scan.step, nodes, Some((state, slices))).pop().unwrap_or(Sign::Unknown);
            let joined = state.join(next);
            if joined == state {
                return state;
            }
            state = joined;
        }
        Sign::Unknown
    }

    /// [`Sign::of_each`], in a recurrence's step when `step` gives the state's and the slices'.
    fn of_each_in(e: &Expr, nodes: &[Sign], step: Option<(Sign, &[Sign])>) -> Vec<Sign> {
        use Sign::*;
        let mut signs: Vec<Sign> = Vec::with_capacity(e.len());
        for n in e.nodes() {
            let s = match n {
                ExprNode::State => step.map_or(Unknown, |(s, _)| s),
                ExprNode::Step(k) => step.and_then(|(_, q)| q.get(*k).copied()).unwrap_or(Unknown),
                ExprNode::Scan(scan) => {
                    let args: Vec<Sign> = scan.args.iter().map(|&a| signs[a]).collect();
                    Sign::of_scan(scan, nodes, &args)
                }
                ExprNode::Const(c) => Sign::of_values(&[*c]),
                ExprNode::Data(v) => Sign::of_values(v),
                ExprNode::Var(r) => nodes.get(r.index).copied().unwrap_or(Unknown),
                ExprNode::Unary(op, a) => {
                    let a = signs[*a];
                    match op {
                        _ if !a.defined() => Unknown,
                        UnaryOp::Exp | UnaryOp::Logistic | UnaryOp::Softplus => Positive,
                        UnaryOp::Square | UnaryOp::Abs if a == Positive => Positive,
                        UnaryOp::Square | UnaryOp::Abs => NonNegative,
                        UnaryOp::Sqrt | UnaryOp::Log1p if a.non_negative() => a,
                        // Sign-preserving and defined everywhere.
                        UnaryOp::Expm1 | UnaryOp::Tanh | UnaryOp::Atan => a,
                        UnaryOp::Log if a == Positive => Real,
                        UnaryOp::Neg
                        | UnaryOp::LogLogistic
                        | UnaryOp::Sin
                        | UnaryOp::Cos
                        | UnaryOp::WrapAngle => Real,
                        UnaryOp::Sqrt | UnaryOp::Log1p | UnaryOp::Log => Unknown,
                    }
                }
                ExprNode::Sum(a)
                | ExprNode::Mean(a)
                | ExprNode::Gather(a, _)
                | ExprNode::Get(a, _)
                | ExprNode::Reshape(a, _, _) => signs[*a],
                // A running sum keeps its terms' sign; a difference of anything is real.
                ExprNode::CumSum(a) => signs[*a],
                ExprNode::Diff(a) if signs[*a].defined() => Real,
                ExprNode::Diff(_) => Unknown,
                // NaN where the matrix is not positive definite.
                ExprNode::Cholesky(_) => Unknown,
                ExprNode::Stack(items) => items.iter().map(|&a| signs[a]).fold(Positive, Sign::join),
                ExprNode::MatVec(x, v) | ExprNode::MatMul(x, v, _) | ExprNode::TrilMul(x, v)
                    if signs[*x].defined() && signs[*v].defined() =>
                {
                    Real
                }
                ExprNode::MatVec(..) | ExprNode::MatMul(..) | ExprNode::TrilMul(..) => Unknown,
                ExprNode::Pow(a, c) => {
                    let integer = c.fract() == 0.0;
                    let even = integer && (c / 2.0).fract() == 0.0;
                    match signs[*a] {
                        Positive => Positive,
                        NonNegative if *c > 0.0 => NonNegative,
                        NonNegative | Real if even => NonNegative,
                        NonNegative | Real if integer => Real,
                        _ => Unknown,
                    }
                }
                ExprNode::Binary(op, a, b) => {
                    let (a, b) = (signs[*a], signs[*b]);
                    match op {
                        _ if !a.defined() || !b.defined() => Unknown,
                        BinaryOp::Add | BinaryOp::Mul if a == Positive && b == Positive => Positive,
                        BinaryOp::Add if a.non_negative() && b.non_negative() => {
                            if a == Positive || b == Positive { Positive } else { NonNegative }
                        }
                        BinaryOp::Mul if a.non_negative() && b.non_negative() => NonNegative,
                        BinaryOp::Add | BinaryOp::Sub | BinaryOp::Mul => Real,
                        // A divisor that may be zero may give 0/0.
                        BinaryOp::Div if b == Positive => a,
                        BinaryOp::Div => Unknown,
                        // A positive base: positive whatever the exponent.
                        BinaryOp::Pow if a == Positive => Positive,
                        BinaryOp::Pow => Unknown,
                    }
                }
            };
            signs.push(s);
        }
        signs
    }

    /// What is known about every node of a model whose nodes come after the nodes they read
    /// (as validation guarantees for the builder's order; other orders give `Unknown` for nodes
    /// read before they are seen, which only prevents rewrites). Free and observed values are
    /// finite reals in their support.
    pub fn of_nodes(nodes: &[Node]) -> Vec<Sign> {
        let mut signs = vec![Sign::Unknown; nodes.len()];
        for (i, n) in nodes.iter().enumerate() {
            signs[i] = match &n.kind {
                NodeKind::Free { dist, .. } => match dist.kind.support() {
                    Support::Positive | Support::UnitInterval | Support::Simplex => Sign::Positive,
                    // Values lie strictly above the lower bound, the first parameter of an
                    // interval family (`Support::Interval`).
                    Support::Interval if Sign::of(&dist.params[0], &signs).non_negative() => Sign::Positive,
                    Support::Above if Sign::of(&dist.params[0], &signs).non_negative() => Sign::Positive,
                    Support::Interval
                    | Support::Real
                    | Support::Above
                    | Support::Below
                    | Support::CorrCholesky
                    | Support::Censored
                    | Support::ZeroSum
                    | Support::Circular => Sign::Real,
                    // Observed only (validation); non-negative integers if ever seen.
                    Support::Binary
                    | Support::Count
                    | Support::BoundedCount
                    | Support::Category
                    | Support::ZeroOrPositive => Sign::NonNegative,
                },
                NodeKind::Observed { data, .. } => Sign::of_values(data),
                NodeKind::Deterministic { expr } => Sign::of(expr, &signs),
                NodeKind::Data { values, .. } => Sign::of_values(values),
                NodeKind::Potential { .. } => Sign::Unknown,
            };
        }
        signs
    }
}

/// Applies the rewrite; returns the new model and the names of rewritten nodes.
pub fn noncenter(model: &Model) -> (Model, Vec<String>) {
    let mut nodes: Vec<Node> = model.nodes().to_vec();
    let signs = Sign::of_nodes(&nodes);
    let mut rewritten = Vec::new();
    let standard = Dist { kind: DistKind::Normal, params: vec![Expr::constant(0.0), Expr::constant(1.0)] };
    for i in 0..nodes.len() {
        let NodeKind::Free { dist, reparam: true, ordered: false, .. } = &nodes[i].kind else { continue };
        // The value from its standardised draw `z`, and `z`'s family.
        let (location, base) = match dist.kind {
            DistKind::Normal if !dist.params.iter().any(Expr::is_constant) => {
                if Sign::of(&dist.params[1], &signs) != Sign::Positive {
                    continue;
                }
                let (mu, sigma) = (dist.params[0].clone(), dist.params[1].clone());
                (
                    Box::new(move |z: Expr| mu.clone() + sigma.clone() * z) as Box<dyn Fn(Expr) -> Expr>,
                    standard.clone(),
                )
            }
            // A zero-sum vector scales: `x = σ z` with `z ~ ZeroSumNormal(1)` on the same plane,
            // and an ICAR `z ~ Icar(W, 1)` on the same graph (the scale is the last parameter).
            DistKind::ZeroSumNormal | DistKind::Icar
                if !dist.params.last().is_some_and(Expr::is_constant) =>
            {
                let (scale, rest) = dist.params.split_last().expect("both families have a scale");
                if Sign::of(scale, &signs) != Sign::Positive {
                    continue;
                }
                // One value, possibly a vector of one (validation takes either): a scalar scales
                // every element.
                let sigma = match model.expr_shape(scale) {
                    Some(Shape::Scalar) => scale.clone(),
                    _ => scale.clone().sum(),
                };
                let params = rest.iter().cloned().chain([Expr::constant(1.0)]).collect();
                let base = Dist { kind: dist.kind, params };
                (Box::new(move |z: Expr| sigma.clone() * z) as Box<dyn Fn(Expr) -> Expr>, base)
            }
            DistKind::MvNormal if !dist.params[1].is_constant() => {
                let (mu, chol) = (dist.params[0].clone(), dist.params[1].clone());
                let n = nodes[i].len();
                let (Some(k), Some(mu_len)) = (
                    model.expr_len(&chol).and_then(crate::model::dist::vector::square_side),
                    model.expr_len(&mu),
                ) else {
                    continue;
                };
                if !diag_positive(&nodes, &chol, &signs, k) {
                    continue;
                }
                // A K-vector mean is repeated over the rows.
                let mu = if mu_len == k && n > k {
                    mu.at((0..n).map(|e| (e % k) as f64).collect::<Vec<f64>>())
                } else {
                    mu
                };
                (
                    Box::new(move |z: Expr| mu.clone() + chol.clone().tril_mul(z))
                        as Box<dyn Fn(Expr) -> Expr>,
                    standard.clone(),
                )
            }
            _ => continue,
        };
        let name = nodes[i].name.clone();
        let z_name = unique_name(&nodes, &format!("{name}_z"));
        let z = NodeRef { index: nodes.len(), owner: 0 };
        nodes.push(Node {
            name: z_name,
            shape: nodes[i].shape,
            kind: NodeKind::Free { dist: base, transform: None, reparam: false, ordered: false },
            labels: nodes[i].labels.clone(),
        });
        nodes[i].kind = NodeKind::Deterministic { expr: location(Expr::from(z)) };
        rewritten.push(name);
    }
    (model.with_nodes(nodes), rewritten)
}

/// Whether every diagonal element of the `K × K` factor `e` is positive by construction:
/// data with a positive diagonal, a free LKJCholesky factor, a deterministic that is one of
/// these, or one of these times a positive value (`sigma.at(&rows) * corr`). Followed without
/// recursion, through deterministics.
fn diag_positive(nodes: &[Node], e: &Expr, signs: &[Sign], k: usize) -> bool {
    let diag = |v: &[f64]| v.len() == k * k && (0..k).all(|i| v[i * k + i] > 0.0);
    let mut e = e.clone();
    let mut pos = e.len() - 1;
    let mut each = Sign::of_each(&e, signs);
    loop {
        match &e.nodes()[pos] {
            ExprNode::Data(v) => return diag(v),
            ExprNode::Var(r) => match nodes.get(r.index).map(|n| &n.kind) {
                Some(NodeKind::Free { dist, .. }) => return dist.kind == DistKind::LkjCholesky,
                Some(NodeKind::Data { values, .. }) => return diag(values),
                Some(NodeKind::Deterministic { expr }) => {
                    e = expr.clone();
                    pos = e.len() - 1;
                    each = Sign::of_each(&e, signs);
                }
                _ => return false,
            },
            ExprNode::Binary(BinaryOp::Mul, a, b) => {
                pos = match (each[*a], each[*b]) {
                    (Sign::Positive, _) => *b,
                    (_, Sign::Positive) => *a,
                    _ => return false,
                };
            }
            _ => return false,
        }
    }
}

fn unique_name(nodes: &[Node], base: &str) -> String {
    let mut name = base.to_string();
    let mut k = 1;
    while nodes.iter().any(|n| n.name == name) {
        name = format!("{base}{k}");
        k += 1;
    }
    name
}

#[cfg(test)]
mod tests {
    use crate::prelude::*;

    #[test]
    fn rewrites_only_hierarchical_normals() {
        let mut m = Model::new();
        let mu = m.rv("mu", Normal::new(0.0, 5.0)).unwrap();
        let tau = m.rv("tau", HalfCauchy::new(5.0)).unwrap();
        let theta = m.rv_vec("theta", Normal::new(mu, tau), 8).unwrap();
        let keep = m.rv("keep", Normal::new(mu, tau)).unwrap();
        m.keep_centered(keep).unwrap();
        m.rv("fixed_scale", Normal::new(mu, 1.0)).unwrap();
        // Scales not positive by construction keep the centred density and its bound.
        m.rv("shifted", Normal::new(mu, mu - 10.0)).unwrap();
        m.rv("negated", Normal::new(mu, -tau)).unwrap();
        m.rv("logged", Normal::new(mu, tau.ln())).unwrap();
        m.rv("nan_outside", Normal::new(mu, mu.ln().exp())).unwrap();
        // Multivariate normals: a factor with a positive diagonal by construction is
        // non-centred; a data factor (nothing to gain) and one built from reals are not.
        let corr = m.rv("corr", LkjCholesky::new(2, 2.0)).unwrap();
        let sd = m.rv_vec("sd", HalfNormal::new(1.0), 2).unwrap();
        let rows = m.int_data("rows", &[0, 0, 1, 1]).unwrap();
        let chol = m.deterministic("chol", sd.at(rows) * corr).unwrap();
        m.rv_vec("ab", MvNormal::new(vec![1.0, 2.0], chol), 6).unwrap();
        m.rv("fixed_chol", MvNormal::new(mu, vec![1.0, 0.0, 0.5, 1.0])).unwrap();
        let real = m.rv_vec("real", Normal::new(0.0, 1.0), 4).unwrap();
        m.rv("real_chol", MvNormal::new(0.0, real)).unwrap();
        // Zero-sum vectors: a positive scale that reads a node (a scalar, or a vector of one)
        // is non-centred; a constant one, one of either sign and a kept one are not.
        m.rv_vec("zs", ZeroSumNormal::new(tau), 3).unwrap();
        let one = m.rv_vec("one", HalfNormal::new(1.0), 1).unwrap();
        m.rv_vec("zs_one", ZeroSumNormal::new(one), 4).unwrap();
        m.rv_vec("zs_fixed", ZeroSumNormal::new(2.0), 3).unwrap();
        m.rv_vec("zs_signed", ZeroSumNormal::new(mu), 3).unwrap();
        let kept = m.rv_vec("zs_kept", ZeroSumNormal::new(tau), 3).unwrap();
        m.keep_centered(kept).unwrap();
        let (r, names) = super::noncenter(&m);
        assert_eq!(names, ["theta", "ab", "zs", "zs_one"].map(String::from).to_vec());
        let zs_z = &r.nodes()[r.var("zs_one_z").unwrap().index()];
        assert_eq!(zs_z.shape, Shape::Vector(4));
        assert_eq!(zs_z.dist().unwrap().kind, DistKind::ZeroSumNormal);
        assert_eq!(r.nodes()[r.var("ab_z").unwrap().index()].shape, Shape::Vector(6));
        assert!(matches!(r.nodes()[theta.index()].kind, NodeKind::Deterministic { .. }));
        let z = r.var("theta_z").unwrap();
        assert_eq!(r.nodes()[z.index()].shape, Shape::Vector(8));
        r.validate().unwrap();
    }
}

#[cfg(test)]
mod sign_tests {
    use super::Sign;
    use crate::prelude::*;

    #[test]
    fn positivity_by_construction() {
        let mut m = Model::new();
        let mu = m.rv("mu", Normal::new(0.0, 1.0)).unwrap();
        let tau = m.rv("tau", HalfCauchy::new(1.0)).unwrap();
        let u0 = m.rv("u0", Uniform::new(0.0, 10.0)).unwrap();
        let um = m.rv("um", Uniform::new(-1.0, 10.0)).unwrap();
        let p = m.rv("p", Beta::new(2.0, 2.0)).unwrap();
        let d = m.deterministic("d", tau * 2.0 + p).unwrap();
        let signs = Sign::of_nodes(m.nodes());
        let sign = |e: Expr| Sign::of(&e, &signs);
        use Sign::*;
        for (e, want) in [
            (Expr::from(tau), Positive),
            (Expr::from(u0), Positive),
            (Expr::from(um), Real),
            (Expr::from(d), Positive),
            (mu.exp(), Positive),
            (mu.logistic() * tau, Positive),
            (tau / (p + 1.0), Positive),
            (mu.square(), NonNegative),
            (mu.square() + 1e-3, Positive),
            (mu.powf(2.0), NonNegative),
            (tau.powf(-0.5), Positive),
            (tau.sqrt().ln_1p(), Positive),
            (mu - 10.0, Real),
            (-tau, Real),
            (tau - p, Real),
            (tau.ln(), Real),
            (mu / tau, Real),
            (tau / mu, Unknown),
            // Never positive where it is NaN: ln, √, ln(1 + x) outside their domains.
            (mu.ln().exp(), Unknown),
            (mu.ln().square() + 1e-3, Unknown),
            (mu.sqrt(), Unknown),
            (mu.ln_1p().logistic(), Unknown),
            (tau.sqrt(), Positive),
            (mu.powf(3.0), Real),
            (mu.powf(0.5), Unknown),
            (Expr::from(vec![1.0, 2.0]) * tau, Positive),
            (Expr::from(vec![0.0, 2.0]) * tau, NonNegative),
        ] {
            assert_eq!(sign(e.clone()), want, "{e:?}");
        }
    }
}
