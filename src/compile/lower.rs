//! Lowering: a rewritten `Model` → a forward `Program` (log density, or constrained outputs).

use std::collections::HashMap;
use std::sync::Arc;

use super::builder::Builder;
use super::pointmap::{PointEntry, PointMap};
use super::program::{Op, Program, UnOp, ValueId};
use super::scan::Scan;
use super::tril::TrilPart;
use crate::error::{Error, Result};
use crate::model::dist::cholesky;
use crate::model::expr::ScanExpr;
use crate::model::measure::Measure;
use crate::model::{BijectorPart, DistKind, Expr, ExprNode, Model, NodeKind, Transform};

/// What the lowered program computes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Target {
    /// The log density over the unconstrained space (priors, likelihoods, log-Jacobians).
    LogDensity,
    /// [`Target::LogDensity`] without the log-Jacobians of the free nodes' transforms: over the
    /// same unconstrained vector, the log density of the constrained values, whose maximum is
    /// the maximum a posteriori point (Stan's `jacobian=false`, PyMC's `find_MAP`). A
    /// transformed observation keeps its inverse's log-Jacobian: that is part of its density.
    ModeDensity,
    /// The constrained value of every free node and every deterministic, as named outputs.
    Constrained,
    /// The likelihood alone (observed nodes' densities, no priors, Jacobians or potentials)
    /// over the *constrained* values of the free nodes, concatenated in topological order.
    Likelihood,
    /// The log-likelihood of every observation apart: over the constrained free values
    /// followed by one weight `w_k` per observation, `logp = Σ_k w_k ℓ_k`, so that the
    /// gradient's entries for the weights are the pointwise values `ℓ_k` (a scalar family's
    /// elements and a categorical's or a mixture's draws one by one, another vector family's
    /// draws, a matrix's rows, one by one).
    Pointwise,
    /// The log prior density of every free node's value apart, laid out as
    /// [`Target::Pointwise`] lays out observations: over the constrained free values followed
    /// by one weight per term (a scalar family's elements, a vector family's draws), no
    /// likelihoods, log-Jacobians or potentials (PyMC's `compute_log_prior`).
    PointwisePrior,
    /// The tempered log density of sequential Monte Carlo: over the unconstrained vector
    /// followed by one inverse temperature `β`, the priors and log-Jacobians plus `β` times
    /// the likelihood (observed nodes' densities, transformed observations' log-Jacobians and
    /// potentials: PyMC's `datalogp`). The gradient's entry for `β` is that likelihood, so at
    /// `β = 0` one evaluation gives the prior (with its log-Jacobians) as the value and the
    /// likelihood as the last gradient entry.
    Tempered,
}

impl Target {
    /// Whether free nodes enter as constrained values (no transforms).
    fn constrained_inputs(self) -> bool {
        matches!(self, Target::Likelihood | Target::Pointwise | Target::PointwisePrior)
    }

    /// Whether the program's inputs end with one weight per pointwise term.
    fn weighted(self) -> bool {
        matches!(self, Target::Pointwise | Target::PointwisePrior)
    }

    /// Whether the program is the model's whole log density (priors and potentials included;
    /// the likelihood and potentials weighted by `β` in [`Target::Tempered`]).
    fn is_density(self) -> bool {
        matches!(self, Target::LogDensity | Target::ModeDensity | Target::Tempered)
    }

    /// Whether the free nodes' log-Jacobians join the density.
    fn with_jacobians(self) -> bool {
        matches!(self, Target::LogDensity | Target::Tempered)
    }
}

struct Lowering<'m> {
    b: Builder,
    model: &'m Model,
    values: Vec<Option<ValueId>>,
    /// Data vectors already loaded, by address and length of the shared slice.
    data_ids: HashMap<(usize, usize), ValueId>,
    /// Data parameters already prepared ([`DistKind::vec_prepare`]): the family, the
    /// parameter's position, the data and the prepared form's value.
    prepared: Vec<(DistKind, usize, Vec<f64>, ValueId)>,
    /// In a recurrence's step: the previous state and the step's slices.
    state: Option<ValueId>,
    slices: Vec<ValueId>,
}

/// Lowers a model whose transforms are attached (see `rewrite::standard`).
pub fn lower(model: &Model, target: Target) -> Result<(Program, PointMap)> {
    let order = model.topological_order()?;
    let mut l = Lowering {
        b: Builder::default(),
        model,
        values: vec![None; model.nodes().len()],
        data_ids: HashMap::new(),
        prepared: Vec::new(),
        state: None,
        slices: Vec::new(),
    };
    let mut terms = Vec::new();
    // The likelihood's and potentials' terms, which `Target::Tempered` weights by `β`.
    let mut likelihood = Vec::new();
    let mut pointwise = Vec::new();
    let mut entries = Vec::new();
    let mut offset = 0;
    for i in order {
        let node = &model.nodes()[i];
        let len = node.len();
        match &node.kind {
            NodeKind::Free { dist, .. } if target.constrained_inputs() => {
                let x = l.b.prog.push(Op::Input { offset }, len);
                if target == Target::PointwisePrior {
                    pointwise.extend(l.pointwise(&node.name, dist.kind, x, &dist.params)?);
                }
                entries.push(PointEntry {
                    name: node.name.clone(),
                    offset,
                    len,
                    value_len: len,
                    shape: node.shape,
                    transform: Transform::Identity,
                });
                offset += len;
                l.values[i] = Some(x);
            }
            NodeKind::Free { dist, transform, .. } => {
                let transform = transform.clone().unwrap_or(Transform::Identity);
                let ulen = transform.unconstrained_len(len);
                let u = l.b.prog.push(Op::Input { offset }, ulen);
                entries.push(PointEntry {
                    name: node.name.clone(),
                    offset,
                    len: ulen,
                    value_len: len,
                    shape: node.shape,
                    transform: transform.clone(),
                });
                offset += ulen;
                let (x, log_jac) = l.transform(u, &transform, len, target.with_jacobians());
                l.values[i] = Some(x);
                if target.is_density() {
                    terms.extend(log_jac);
                    terms.push(l.lpdf(dist.kind, x, &dist.params)?);
                } else {
                    l.b.prog.outputs.push((node.name.clone(), x));
                }
            }
            NodeKind::Observed { dist, data, value } => {
                l.b.prog.data.push(data.clone());
                let y = l.b.prog.push(Op::Data(l.b.prog.data.len() - 1), data.len());
                l.values[i] = Some(y);
                if matches!(target, Target::Constrained | Target::PointwisePrior) {
                    continue;
                }
                // A transformed observation: the draw is the value's inverse at the data, and
                // the inverse's log-Jacobian joins each observation's density.
                let (x, log_jac) = match value {
                    Some(v) => l.inverse(&node.name, v, y)?,
                    None => (y, None),
                };
                match target {
                    Target::Pointwise => {
                        let each = l.pointwise(&node.name, dist.kind, x, &dist.params)?;
                        for (k, t) in each.into_iter().enumerate() {
                            pointwise.push(match log_jac {
                                Some(j) => {
                                    let jk = l.b.prog.push(Op::Get(j, k), 1);
                                    l.b.add(t, jk)
                                }
                                None => t,
                            });
                        }
                    }
                    _ => {
                        let lik = if target == Target::Tempered { &mut likelihood } else { &mut terms };
                        lik.push(l.lpdf(dist.kind, x, &dist.params)?);
                        lik.extend(log_jac.map(|j| l.b.sum(j)));
                    }
                }
            }
            NodeKind::Deterministic { expr } => {
                let v = l.expr(expr);
                let v = l.b.fit(v, len);
                l.values[i] = Some(v);
                if target == Target::Constrained {
                    l.b.prog.outputs.push((node.name.clone(), v));
                }
            }
            NodeKind::Potential { expr } => {
                if target.is_density() {
                    let v = l.expr(expr);
                    let lik = if target == Target::Tempered { &mut likelihood } else { &mut terms };
                    lik.push(l.b.sum(v));
                }
            }
            NodeKind::Data { values, .. } => l.values[i] = Some(l.data(values)),
        }
    }
    // The point map covers the free values; the program's inputs may add weights after them.
    let free_dim = offset;
    if target.weighted() {
        let w = l.b.prog.push(Op::Input { offset }, pointwise.len());
        for (k, t) in pointwise.into_iter().enumerate() {
            let wk = l.b.prog.push(Op::Get(w, k), 1);
            terms.push(l.b.mul(wk, t));
        }
        offset += l.b.len(w);
    }
    if target == Target::Tempered {
        let beta = l.b.prog.push(Op::Input { offset }, 1);
        offset += 1;
        let mut sum = l.b.constant(0.0);
        for t in likelihood {
            sum = l.b.add(sum, t);
        }
        terms.push(l.b.mul(beta, sum));
    }
    if target != Target::Constrained {
        let mut total = l.b.constant(0.0);
        for t in terms {
            total = l.b.add(total, t);
        }
        l.b.prog.logp = Some(total);
    }
    l.b.prog.dim = offset;
    Ok((l.b.prog, PointMap { entries, dim: free_dim }))
}

impl Lowering<'_> {
    /// A transformed observation's draw at the data `y`, and the inverse's log-Jacobian per
    /// observation (see [`Measure`]).
    fn inverse(&mut self, node: &str, value: &Expr, y: ValueId) -> Result<(ValueId, Option<ValueId>)> {
        let measure =
            Measure::of(value).map_err(|reason| Error::InvalidNode { node: node.to_string(), reason })?;
        let (x, log_jac) = measure.inverse(Expr::argument());
        let n = self.b.len(y);
        let saved = self.state.replace(y);
        let x = self.expr(&x);
        let x = self.b.fit(x, n);
        let log_jac = log_jac.map(|j| {
            let j = self.expr(&j);
            self.b.fit(j, n)
        });
        self.state = saved;
        Ok((x, log_jac))
    }

    fn lpdf(&mut self, kind: DistKind, x: ValueId, params: &[Expr]) -> Result<ValueId> {
        let (kind, args) = self.density_args(kind, x, params)?;
        let partials = vec![None; args.len()];
        Ok(if kind.is_vector() {
            self.b.prog.push(Op::VecLpdf { kind, args, partials }, 1)
        } else {
            self.b.prog.push(Op::Lpdf { kind, args, partials }, 1)
        })
    }

    /// The family a density instruction evaluates and its arguments, value first: `kind` and
    /// the parameters, except that an MvNormal with a data covariance becomes one with its
    /// Cholesky factor, and a data parameter a vector family prepares (an adjacency matrix)
    /// is given in that form, each computed once.
    fn density_args(
        &mut self,
        kind: DistKind,
        x: ValueId,
        params: &[Expr],
    ) -> Result<(DistKind, Vec<ValueId>)> {
        let mut args = vec![x];
        if kind == DistKind::MvNormalCov {
            // The covariance is data (validation's rule).
            let cov = self.model.data_value(&params[1]).and_then(|c| cholesky(&c.values).ok()).ok_or_else(
                || Error::Backend {
                    backend: "compiler",
                    reason: "mv_normal_cov: the covariance is not constant data".into(),
                },
            )?;
            args.push(self.expr(&params[0]));
            args.push(self.b.data(cov));
            return Ok((DistKind::MvNormal, args));
        }
        for (j, p) in params.iter().enumerate() {
            // A data parameter the family reads in a prepared form (an adjacency matrix's
            // packed graph), made once.
            let data = if kind.is_vector() { self.model.data_value(p) } else { None };
            if let Some(data) = &data
                && let Some(&(.., id)) =
                    self.prepared.iter().find(|(k, at, v, _)| *k == kind && *at == j && *v == data.values)
            {
                args.push(id);
                continue;
            }
            args.push(match data.as_ref().and_then(|v| kind.vec_prepare(j, &v.values)) {
                Some(Ok(values)) => {
                    let id = self.b.data(values);
                    let data = data.expect("prepared from data").values;
                    self.prepared.push((kind, j, data, id));
                    id
                }
                Some(Err(reason)) => {
                    return Err(Error::Backend {
                        backend: "compiler",
                        reason: format!("{}: {reason}", kind.name()),
                    });
                }
                None => self.expr(p),
            });
        }
        Ok((kind, args))
    }

    /// Draw `r` of `draws` in a vector family's arguments `args` (value first): its row of the
    /// value and of each parameter the draws split ([`DistKind::vec_split_per_draw`]).
    fn one_draw(&mut self, kind: DistKind, args: &[ValueId], r: usize, draws: usize) -> Vec<ValueId> {
        let n = self.b.len(args[0]);
        let row = |b: &mut Builder, v: ValueId| {
            let w = b.len(v) / draws;
            b.prog.push(Op::Slice { src: v, start: r * w }, w)
        };
        let mut out = vec![row(&mut self.b, args[0])];
        for (j, &v) in args[1..].iter().enumerate() {
            let len = self.b.len(v);
            out.push(if kind.vec_split_per_draw(j, len, n, draws) { row(&mut self.b, v) } else { v });
        }
        out
    }

    /// One log-density value per observation of an observed node with data `x` (or per term of
    /// a free node's prior at its value `x`, for [`Target::PointwisePrior`]): a scalar
    /// family's elements one by one (vector parameters indexed alike, scalars shared), the
    /// draws of a vector family whose elements are draws (a categorical's, a mixture's, an
    /// ordered logistic's) one by one with the whole parameters (those aligned with the
    /// elements indexed alike), any other vector family's draws (a matrix's rows) one by one,
    /// each with its own part of the parameters the draws split.
    fn pointwise(&mut self, node: &str, kind: DistKind, x: ValueId, params: &[Expr]) -> Result<Vec<ValueId>> {
        if !kind.per_element_observations() {
            // One observation per draw: a matrix's rows, each with its own part of the
            // parameters the draws split; parameters `set_data` changed must still fit.
            let n = self.b.len(x);
            let held: Vec<Option<crate::model::expr::ConstValue>> =
                params.iter().map(|e| self.model.data_value(e)).collect();
            let consts: Vec<Option<&[f64]>> =
                held.iter().map(|c| c.as_ref().map(|c| c.values.as_slice())).collect();
            let lens: Option<Vec<usize>> =
                params.iter().map(|e| self.model.expr_shape(e).map(|s| s.len())).collect();
            if let Some(lens) = &lens {
                kind.vec_check_fits(node, n, lens, &consts)?;
            }
            let (lowered, args) = self.density_args(kind, x, params)?;
            // Draws counted from the parameters as the model gives them: a prepared form (an
            // adjacency matrix's packed graph) has another length.
            let draws = match &lens {
                Some(lens) => kind.observations(n, lens),
                None => {
                    lowered.observations(n, &args[1..].iter().map(|&a| self.b.len(a)).collect::<Vec<_>>())
                }
            };
            let kind = lowered;
            return Ok((0..draws)
                .map(|r| {
                    let args = if draws > 1 { self.one_draw(kind, &args, r, draws) } else { args.clone() };
                    let partials = vec![None; args.len()];
                    self.b.prog.push(Op::VecLpdf { kind, args, partials }, 1)
                })
                .collect());
        }
        let n = self.b.len(x);
        let vector = kind.is_vector();
        let p: Vec<ValueId> = params.iter().map(|e| self.expr(e)).collect();
        Ok((0..n)
            .map(|k| {
                let xk = self.b.prog.push(Op::Get(x, k), 1);
                let mut args = vec![xk];
                if let Some(one) = kind.one_row() {
                    // Observation `k` with row `k` of the parameter.
                    let width = self.b.len(p[0]) / n;
                    args.push(self.b.prog.push(Op::Slice { src: p[0], start: k * width }, width));
                    let partials = vec![None; args.len()];
                    return self.b.prog.push(Op::VecLpdf { kind: one, args, partials }, 1);
                }
                for (j, &v) in p.iter().enumerate() {
                    let one = self.b.len(v) > 1 && kind.aligned_param(j);
                    args.push(if one { self.b.prog.push(Op::Get(v, k), 1) } else { v });
                }
                let partials = vec![None; args.len()];
                let op = if vector {
                    Op::VecLpdf { kind, args, partials }
                } else {
                    Op::Lpdf { kind, args, partials }
                };
                self.b.prog.push(op, 1)
            })
            .collect())
    }

    /// The operands of an elementwise operation with a row of `c` values tiled over the rows
    /// of an `r × c` matrix (a gather), which the backends' instructions do not broadcast.
    fn row_broadcast(&mut self, a: ValueId, b: ValueId) -> (ValueId, ValueId) {
        let (la, lb) = (self.b.len(a), self.b.len(b));
        if la == lb || la == 1 || lb == 1 {
            return (a, b);
        }
        let (row, n) = if la < lb { (a, lb) } else { (b, la) };
        let c = self.b.len(row);
        let index = self.b.data((0..n).map(|i| (i % c) as f64).collect());
        let tiled = self.b.prog.push(Op::Gather { src: row, index }, n);
        if la < lb { (tiled, b) } else { (a, tiled) }
    }

    /// `X · B` for a data matrix `X` (`R × C`) and `B` of `C × k` values row by row: `B`
    /// transposed (a gather of its `C·k` values) and `X Bᵀᵀ` in one instruction, whose rows
    /// are contiguous dot products.
    fn matmul(&mut self, x: ValueId, b: ValueId, k: usize) -> ValueId {
        let cols = self.b.len(b) / k;
        let rows = self.b.len(x) / cols.max(1);
        let index = self.b.data((0..k * cols).map(|e| ((e % cols) * k + e / cols) as f64).collect());
        let w = self.b.prog.push(Op::Gather { src: b, index }, k * cols);
        self.b.prog.push(Op::MatMulT { x, w, k }, rows * k)
    }

    /// Constrained value (`n` elements) and the summed log-Jacobian term (if any, and only
    /// where `jacobian`: a mode's density builds none).
    fn transform(
        &mut self,
        u: ValueId,
        t: &Transform,
        n: usize,
        jacobian: bool,
    ) -> (ValueId, Option<ValueId>) {
        match t {
            Transform::Vector(kind) => {
                let x = self
                    .b
                    .prog
                    .push(Op::Bijector { kind: *kind, part: BijectorPart::Forward, args: vec![u] }, n);
                let part = BijectorPart::LogJac;
                let j =
                    jacobian.then(|| self.b.prog.push(Op::Bijector { kind: *kind, part, args: vec![u] }, 1));
                (x, j)
            }
            Transform::Identity => (u, None),
            Transform::Circular => (self.b.unary(UnOp::WrapAngle, u), None),
            Transform::Log => {
                let x = self.b.unary(UnOp::Exp, u);
                (x, jacobian.then(|| self.b.sum(u)))
            }
            Transform::Logit => {
                let x = self.b.unary(UnOp::Logistic, u);
                (x, jacobian.then(|| self.logit_jacobian(u)))
            }
            Transform::LogitInterval { lower, upper } => {
                let (a, b) = (self.expr(lower), self.expr(upper));
                let width = self.b.sub(b, a);
                let s = self.b.unary(UnOp::Logistic, u);
                let scaled = self.b.mul(width, s);
                let x = self.b.add(a, scaled);
                if !jacobian {
                    return (x, None);
                }
                let lw = self.b.unary(UnOp::Log, width);
                let lw = self.b.fit(lw, self.b.len(u));
                let lw = self.b.sum(lw);
                let j = self.logit_jacobian(u);
                (x, Some(self.b.add(lw, j)))
            }
            // x = a + exp(u) or b − exp(u): log-Jacobian Σu either way.
            Transform::LowerBound { lower: bound } | Transform::UpperBound { upper: bound } => {
                let b = self.expr(bound);
                let e = self.b.unary(UnOp::Exp, u);
                let x = if matches!(t, Transform::LowerBound { .. }) {
                    self.b.add(b, e)
                } else {
                    self.b.sub(b, e)
                };
                (x, jacobian.then(|| self.b.sum(u)))
            }
        }
    }

    /// `Σ ln σ(u) + ln(1 - σ(u)) = -Σ softplus(u) + softplus(-u)`.
    fn logit_jacobian(&mut self, u: ValueId) -> ValueId {
        let sp = self.b.unary(UnOp::Softplus, u);
        let nu = self.b.unary(UnOp::Neg, u);
        let sn = self.b.unary(UnOp::Softplus, nu);
        let s = self.b.add(sp, sn);
        let s = self.b.sum(s);
        self.b.unary(UnOp::Neg, s)
    }

    /// Lowers an expression: one instruction per operation, in its evaluation order.
    fn expr(&mut self, e: &Expr) -> ValueId {
        let live = e.live();
        let mut ids: Vec<ValueId> = vec![0; e.len()];
        for (i, node) in e.nodes().iter().enumerate().filter(|(i, _)| live[*i]) {
            ids[i] = match node {
                ExprNode::Const(c) => self.b.constant(*c),
                ExprNode::Data(v) => self.data(v),
                ExprNode::Var(r) => self.values[r.index].unwrap_or_else(|| {
                    unreachable!("topological order lowers `{}` first", self.model.nodes()[r.index].name)
                }),
                ExprNode::Unary(op, a) => self.b.unary(*op, ids[*a]),
                ExprNode::Pow(a, c) => {
                    let len = self.b.len(ids[*a]);
                    self.b.prog.push(Op::Pow(ids[*a], *c), len)
                }
                ExprNode::Binary(op, a, b) => {
                    let (a, b) = self.row_broadcast(ids[*a], ids[*b]);
                    self.b.binary(*op, a, b)
                }
                ExprNode::Sum(a) => self.b.sum(ids[*a]),
                ExprNode::CumSum(a) => {
                    let n = self.b.len(ids[*a]);
                    self.b.prog.push(Op::CumSum { src: ids[*a], reverse: false }, n)
                }
                ExprNode::Diff(a) => {
                    let n = self.b.len(ids[*a]) - 1;
                    let next = self.b.prog.push(Op::Slice { src: ids[*a], start: 1 }, n);
                    let this = self.b.prog.push(Op::Slice { src: ids[*a], start: 0 }, n);
                    self.b.sub(next, this)
                }
                ExprNode::Gather(src, index) => {
                    let n = self.b.len(ids[*index]);
                    self.b.prog.push(Op::Gather { src: ids[*src], index: ids[*index] }, n)
                }
                ExprNode::Get(src, k) => self.b.prog.push(Op::Get(ids[*src], *k), 1),
                ExprNode::Stack(items) => {
                    let items: Vec<ValueId> = items.iter().map(|&a| ids[a]).collect();
                    let n = items.len();
                    self.b.prog.push(Op::Stack(items), n)
                }
                ExprNode::MatVec(x, v) => {
                    let rows = self.b.len(ids[*x]) / self.b.len(ids[*v]).max(1);
                    self.b.prog.push(Op::MatVec { x: ids[*x], v: ids[*v] }, rows)
                }
                ExprNode::MatMul(x, b, k) => self.matmul(ids[*x], ids[*b], *k),
                ExprNode::Reshape(a, _, _) => ids[*a],
                ExprNode::TrilMul(l, z) => {
                    let n = self.b.len(ids[*z]);
                    self.b.prog.push(Op::Tril { part: TrilPart::Mul, args: vec![ids[*l], ids[*z]] }, n)
                }
                ExprNode::Cholesky(a) => {
                    let n = self.b.len(ids[*a]);
                    self.b.prog.push(Op::Tril { part: TrilPart::Cholesky, args: vec![ids[*a]] }, n)
                }
                ExprNode::Mean(a) => {
                    let n = self.b.len(ids[*a]);
                    let s = self.b.sum(ids[*a]);
                    let inv = self.b.constant(1.0 / n as f64);
                    self.b.mul(s, inv)
                }
                ExprNode::State => self.state.expect("validation allows the state only in a step"),
                ExprNode::Step(k) => self.slices[*k],
                ExprNode::Scan(scan) => {
                    let args: Vec<ValueId> = scan.args.iter().map(|&a| ids[a]).collect();
                    self.scan(scan, args[0], &args[1..])
                }
            };
        }
        ids[e.len() - 1]
    }

    /// A recurrence: its step lowered into a program of its own, whose position is the state,
    /// the step's slices and every node the step reads (its parameters, the same each step).
    fn scan(&mut self, scan: &ScanExpr, init: ValueId, seqs: &[ValueId]) -> ValueId {
        let steps = scan.steps;
        let mut refs = Vec::new();
        scan.step.refs(&mut refs);
        let mut nodes: Vec<usize> = Vec::new();
        for r in refs {
            if !nodes.contains(&r.index) {
                nodes.push(r.index);
            }
        }
        let params: Vec<ValueId> = nodes
            .iter()
            .map(|&n| {
                self.values[n]
                    .unwrap_or_else(|| unreachable!("topological order lowers a step's nodes first"))
            })
            .collect();
        let s = self.b.len(init);
        let mut step = Lowering {
            b: Builder::default(),
            model: self.model,
            values: vec![None; self.values.len()],
            data_ids: HashMap::new(),
            prepared: Vec::new(),
            state: None,
            slices: Vec::new(),
        };
        let mut offset = 0;
        let mut input = |b: &mut Builder, len: usize| {
            let v = b.prog.push(Op::Input { offset }, len);
            offset += len;
            v
        };
        step.state = Some(input(&mut step.b, s));
        for &q in seqs {
            let w = self.b.len(q) / steps;
            let v = input(&mut step.b, w);
            step.slices.push(v);
        }
        for (&n, &p) in nodes.iter().zip(&params) {
            let v = input(&mut step.b, self.b.len(p));
            step.values[n] = Some(v);
        }
        let next = step.expr(&scan.step);
        let next = step.b.fit(next, s);
        step.b.prog.dim = offset;
        step.b.prog.outputs.push(("next".into(), next));
        let body = step.b.prog;
        let scan = Scan { body, init, seqs: seqs.to_vec(), params, steps };
        debug_assert_eq!(scan.check(&self.b.prog.lens), Ok(()));
        self.b.prog.push(Op::Scan(Box::new(scan)), steps * s)
    }

    /// A data vector, loaded once however many expressions share it.
    fn data(&mut self, v: &Arc<[f64]>) -> ValueId {
        let key = (v.as_ptr() as usize, v.len());
        if let Some(&id) = self.data_ids.get(&key) {
            return id;
        }
        self.b.prog.data.push(v.to_vec());
        let id = self.b.prog.push(Op::Data(self.b.prog.data.len() - 1), v.len());
        self.data_ids.insert(key, id);
        id
    }
}
