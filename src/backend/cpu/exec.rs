//! Native f64 interpreter for a [`Program`]: one flat workspace per chain, no allocation per
//! evaluation.

use super::rows::{self, RowGroup, Sched};
use super::scan::ScanExec;
use multiversion::multiversion;

use crate::compile::hoist::{self, Hoist};
use crate::compile::{BinOp, Op, Program};
use crate::model::DistKind;
use crate::model::dist::with_family;

/// A program prepared for repeated evaluation: value offsets, and constants and data
/// pre-filled in a template workspace.
#[derive(Clone, Debug)]
pub struct Executor {
    prog: Program,
    offsets: Vec<usize>,
    template: Vec<f64>,
    dynamic: Vec<usize>,
    /// Per instruction: how an `Lpdf`'s normaliser is hoisted out of its element loop.
    hoisted: Vec<Hoist>,
    /// Per value: data that are whole numbers below 2³², as integers (gather indices and
    /// scatter tables read them without an f64 → usize conversion per element).
    ints: Vec<Option<Vec<u32>>>,
    /// What runs, in order: instructions, and row groups (DECISIONS 49).
    sched: Vec<Sched>,
    /// The same, as run: one-element arithmetic and loads, vector binaries, sums and vector
    /// inputs resolved to workspace offsets, and densities with their addressing prepared
    /// (DECISIONS 68, 73).
    steps: Vec<Step>,
    /// The densities' addressing, indexed by [`Step::Lpdf`].
    lpdf_plans: Vec<LpdfPlan>,
    /// The row groups.
    groups: Vec<RowGroup>,
    /// Values in the workspace; each group's scratch follows, at `group_at`.
    values_len: usize,
    group_at: Vec<usize>,
    /// Whether a group's parts may run on rayon's threads.
    parallel: bool,
    /// Per instruction, a scan's nested executor (its scratch follows the groups').
    scans: Vec<Option<ScanExec>>,
    /// Where the density loops' block columns start in the workspace (after the scans').
    density_at: usize,
}

impl Executor {
    /// Prepares `prog`.
    pub fn new(prog: Program) -> Executor {
        let mut offsets = Vec::with_capacity(prog.lens.len());
        let mut total = 0;
        for &len in &prog.lens {
            offsets.push(total);
            total += len;
        }
        let mut template = vec![0.0; total];
        let mut dynamic = Vec::new();
        let mut ints = vec![None; prog.lens.len()];
        for (k, instr) in prog.instrs.iter().enumerate() {
            let o = offsets[instr.out];
            match &instr.op {
                Op::Const(c) => template[o] = *c,
                Op::Data(d) => {
                    let values = &prog.data[*d];
                    template[o..o + values.len()].copy_from_slice(values);
                    if values.iter().all(|&v| v >= 0.0 && v <= f64::from(u32::MAX) && v.fract() == 0.0) {
                        ints[instr.out] = Some(values.iter().map(|&v| v as u32).collect());
                    }
                }
                _ => dynamic.push(k),
            }
        }
        let hoisted = hoist::plan(&prog);
        let (sched, groups) = rows::plan(&prog, &offsets, &dynamic, &ints, &hoisted);
        let values_len = template.len();
        let mut group_at = Vec::with_capacity(groups.len());
        for g in &groups {
            group_at.push(template.len());
            template.resize(template.len() + g.scratch_len(), 0.0);
        }
        let mut scans: Vec<Option<ScanExec>> =
            prog.instrs.iter().map(|i| ScanExec::new(&i.op, &prog.lens)).collect();
        let (steps, lpdf_plans) = resolve(&prog, &offsets, &sched);
        for scan in scans.iter_mut().flatten() {
            scan.at = template.len();
            template.extend(scan.template());
            template.resize(scan.at + scan.scratch_len(), 0.0);
        }
        // The density loops' columns: arguments, partials and log densities of one block.
        let density_at = template.len();
        // Sized for every density of the program (`without_row_groups` runs the groups' too).
        let k_most = (prog.instrs.iter())
            .filter_map(|i| match &i.op {
                Op::Lpdf { args, .. } => Some(args.len().min(MAX)),
                _ => None,
            })
            .max()
            .unwrap_or(0);
        template.resize(density_at + (2 * k_most + 1) * BLOCK, 0.0);
        Executor {
            prog,
            offsets,
            template,
            dynamic,
            hoisted,
            ints,
            sched,
            steps,
            lpdf_plans,
            groups,
            values_len,
            group_at,
            parallel: false,
            scans,
            density_at,
        }
    }

    /// Prepares `prog` to run instruction by instruction, without row groups (for comparisons
    /// and benchmarks: the same values up to summation order).
    pub fn without_row_groups(prog: Program) -> Executor {
        let mut e = Executor::new(prog);
        e.sched = e.dynamic.iter().map(|&k| Sched::Instr(k)).collect();
        (e.steps, e.lpdf_plans) = resolve(&e.prog, &e.offsets, &e.sched);
        e.groups.clear();
        e.group_at.clear();
        // Scans keep their scratch (after the groups'); the groups' is left unused.
        e
    }

    /// Lets long row groups split their rows over rayon's threads (for runs with fewer chains
    /// than threads). Results are the same bits either way: a group's parts are fixed by its
    /// row count.
    pub fn set_parallel(&mut self, on: bool) {
        self.parallel = on;
    }

    /// Whether some row group has several parts, so that [`Executor::set_parallel`] matters.
    pub fn splits_rows(&self) -> bool {
        self.groups.iter().any(RowGroup::splits)
    }

    /// The instructions that run in row groups, one list per group (program indices).
    pub fn row_groups(&self) -> Vec<Vec<usize>> {
        self.groups.iter().map(|g| g.instrs.clone()).collect()
    }

    /// The program.
    pub fn program(&self) -> &Program {
        &self.prog
    }

    /// A fresh workspace for one chain.
    pub fn workspace(&self) -> Vec<f64> {
        self.template.clone()
    }

    /// Evaluates the program at position `u`, returning `logp` (NaN when the program has none)
    /// and writing the gradient into `grad` when the program has one.
    pub fn run(&self, ws: &mut [f64], u: &[f64], grad: &mut [f64]) -> f64 {
        for s in &self.steps {
            match *s {
                Step::Add1 { o, a, b } => ws[o] = ws[a] + ws[b],
                Step::Mul1 { o, a, b } => ws[o] = ws[a] * ws[b],
                Step::Binary1 { op, o, a, b } => ws[o] = op.apply(ws[a], ws[b]),
                Step::Unary1 { op, o, a } => ws[o] = super::unary::unary_one(op, ws[a]),
                Step::Load1 { o, from } => ws[o] = u[from],
                Step::BinaryN { op, o, n, a, b } => {
                    let (lo, hi) = ws.split_at_mut(o);
                    let (x, y) = (&lo[a.0..a.0 + a.1], &lo[b.0..b.0 + b.1]);
                    rows::binary(op, rows::Arg::broadcast(x, n), rows::Arg::broadcast(y, n), &mut hi[..n]);
                }
                Step::Sum { o, a, n } => ws[o] = pairwise_sum(&ws[a..a + n]),
                Step::LoadN { o, from, n } => super::lanes::copy(&mut ws[o..o + n], &u[from..from + n]),
                Step::Lpdf(i) => self.lpdf(ws, &self.lpdf_plans[i]),
                Step::Instr(k) => self.step(ws, u, k),
                Step::Group(g) => {
                    let (values, scratch) = ws.split_at_mut(self.values_len);
                    let group = &self.groups[g];
                    let scratch = &mut scratch[self.group_at[g] - self.values_len..];
                    group.run(values, scratch, &self.hoisted, &self.prog, &self.offsets, self.parallel);
                }
            }
        }
        for &(offset, v) in &self.prog.grad {
            let (o, n) = (self.offsets[v], self.prog.lens[v]);
            super::lanes::copy(&mut grad[offset..offset + n], &ws[o..o + n]);
        }
        self.prog.logp.map_or(f64::NAN, |v| ws[self.offsets[v]])
    }

    /// Where value `v` starts in a workspace.
    pub fn offset(&self, v: usize) -> usize {
        self.offsets[v]
    }

    /// Value `v` in a workspace after [`Executor::run`].
    pub fn value<'w>(&self, ws: &'w [f64], v: usize) -> &'w [f64] {
        &ws[self.offsets[v]..self.offsets[v] + self.prog.lens[v]]
    }

    /// Values the program's outputs hold together (a constraining program's: one draw's
    /// constrained values).
    pub fn outputs_len(&self) -> usize {
        self.prog.outputs.iter().map(|(_, v)| self.prog.lens[*v]).sum()
    }

    /// Copies the program's outputs after [`Executor::run`], one after another in the order
    /// of [`Program::outputs`], into the first [`Executor::outputs_len`] values of `out`.
    ///
    /// # Panics
    /// If `out` is shorter.
    pub fn copy_outputs(&self, ws: &[f64], out: &mut [f64]) {
        let mut at = 0;
        for (_, v) in &self.prog.outputs {
            let x = self.value(ws, *v);
            out[at..at + x.len()].copy_from_slice(x);
            at += x.len();
        }
    }

    #[inline]
    fn step(&self, ws: &mut [f64], u: &[f64], k: usize) {
        let instr = &self.prog.instrs[k];
        let o = self.offsets[instr.out];
        let n = self.prog.lens[instr.out];
        match &instr.op {
            Op::Input { offset } => super::lanes::copy(&mut ws[o..o + n], &u[*offset..*offset + n]),
            Op::Const(_) | Op::Data(_) => {}
            Op::Unary(op, a) => {
                let a = self.offsets[*a];
                if n == 1 {
                    ws[o] = super::unary::unary_one(*op, ws[a]);
                } else if a + n <= o {
                    let (lo, hi) = ws.split_at_mut(o);
                    super::unary::unary_into(*op, &mut hi[..n], &lo[a..a + n]);
                } else if o + n <= a {
                    let (lo, hi) = ws.split_at_mut(a);
                    super::unary::unary_into(*op, &mut lo[o..o + n], &hi[..n]);
                } else {
                    (0..n).for_each(|i| ws[o + i] = super::unary::unary_one(*op, ws[a + i]));
                }
            }
            Op::Pow(a, c) => {
                let a = self.offsets[*a];
                for i in 0..n {
                    ws[o + i] = ws[a + i].powf(*c);
                }
            }
            Op::Binary(op, a, b) => self.binary(ws, *op, o, n, *a, *b),
            Op::Sum(a) => {
                let a0 = self.offsets[*a];
                ws[o] = pairwise_sum(&ws[a0..a0 + self.prog.lens[*a]]);
            }
            Op::Broadcast(a) => {
                let v = ws[self.offsets[*a]];
                ws[o..o + n].fill(v);
            }
            Op::Gather { src, index } => {
                let (s, x) = (self.offsets[*src], self.offsets[*index]);
                let len = self.prog.lens[*src];
                match &self.ints[*index] {
                    Some(ix) if s + len <= o => {
                        let (lo, hi) = ws.split_at_mut(o);
                        let src = &lo[s..s + len];
                        hi[..n].iter_mut().zip(&ix[..n]).for_each(|(y, &k)| *y = src[k as usize]);
                    }
                    Some(ix) => (0..n).for_each(|i| ws[o + i] = ws[s + ix[i] as usize]),
                    None => (0..n).for_each(|i| ws[o + i] = ws[s + ws[x + i] as usize]),
                }
            }
            Op::ScatterAdd { src, starts, perm } => {
                let (s, st, p) = (self.offsets[*src], self.offsets[*starts], self.offsets[*perm]);
                let len = self.prog.lens[*src];
                if let (Some(starts), Some(perm), true) =
                    (&self.ints[*starts], &self.ints[*perm], s + len <= o)
                {
                    let (lo, hi) = ws.split_at_mut(o);
                    let src = &lo[s..s + len];
                    for (k, y) in hi[..n].iter_mut().enumerate() {
                        *y = gather_sum(src, &perm[starts[k] as usize..starts[k + 1] as usize]);
                    }
                } else if let (Some(starts), Some(perm)) = (&self.ints[*starts], &self.ints[*perm]) {
                    for k in 0..n {
                        let from = &perm[starts[k] as usize..starts[k + 1] as usize];
                        ws[o + k] = from.iter().map(|&q| ws[s + q as usize]).sum();
                    }
                } else {
                    for k in 0..n {
                        let mut acc = 0.0;
                        for q in ws[st + k] as usize..ws[st + k + 1] as usize {
                            acc += ws[s + ws[p + q] as usize];
                        }
                        ws[o + k] = acc;
                    }
                }
            }
            Op::Get(src, k) => ws[o] = ws[self.offsets[*src] + k],
            Op::Slice { src, start } => {
                let from = self.offsets[*src] + start;
                ws.copy_within(from..from + n, o);
            }
            Op::CumSum { src, reverse } => {
                let s = self.offsets[*src];
                let mut acc = 0.0;
                let mut add = |i: usize| {
                    acc += ws[s + i];
                    ws[o + i] = acc;
                };
                if *reverse { (0..n).rev().for_each(&mut add) } else { (0..n).for_each(&mut add) }
            }
            Op::Scan(_) | Op::ScanAdjoint(_) => {
                let Some(scan) = &self.scans[k] else { unreachable!("every scan is prepared") };
                let (values, scratch) = ws.split_at_mut(self.values_len);
                let at = scan.at - self.values_len;
                let scratch = &mut scratch[at..at + scan.scratch_len()];
                match &instr.op {
                    Op::Scan(s) => scan.forward(s, values, &self.offsets, o, scratch),
                    Op::ScanAdjoint(a) => scan.adjoint(a, values, &self.offsets, o, scratch),
                    _ => {}
                }
            }
            Op::OneHot(src, k) => {
                ws[o..o + n].fill(0.0);
                ws[o + k] = ws[self.offsets[*src]];
            }
            Op::Stack(items) => {
                for (i, &item) in items.iter().enumerate() {
                    ws[o + i] = ws[self.offsets[item]];
                }
            }
            Op::MatVec { x, v } => {
                let (x, c) = (self.offsets[*x], self.prog.lens[*v]);
                let v = self.offsets[*v];
                for i in 0..n {
                    ws[o + i] = dot(&ws[x + i * c..x + (i + 1) * c], &ws[v..v + c]);
                }
            }
            Op::MatMulT { x, w, k } => {
                // Operands precede their output in the workspace.
                let (c, len_x, len_w) = (self.prog.lens[*w] / k, self.prog.lens[*x], self.prog.lens[*w]);
                let (x, w) = (self.offsets[*x], self.offsets[*w]);
                let (lo, hi) = ws.split_at_mut(o);
                mat_mul_t(&mut hi[..n], &lo[x..x + len_x], &lo[w..w + len_w], c, *k);
            }
            Op::MatTMul { x, g, k } => {
                let (c, len_x, len_g) = (n / k, self.prog.lens[*x], self.prog.lens[*g]);
                let (x, g) = (self.offsets[*x], self.offsets[*g]);
                let (lo, hi) = ws.split_at_mut(o);
                mat_t_mul(&mut hi[..n], &lo[x..x + len_x], &lo[g..g + len_g], c, *k);
            }
            Op::MatTVec { x, g } => {
                // Xᵀg as a sum of rows scaled by g: contiguous, independent lanes.
                let (x, r) = (self.offsets[*x], self.prog.lens[*g]);
                let g = self.offsets[*g];
                let mut acc = [0.0f64; 64];
                for j0 in (0..n).step_by(64) {
                    let w = (n - j0).min(64);
                    let acc = &mut acc[..w];
                    acc.fill(0.0);
                    // Four rows per pass: a quarter of the accumulator loads and stores.
                    let quads = r / 4 * 4;
                    for i in (0..quads).step_by(4) {
                        let gi = [ws[g + i], ws[g + i + 1], ws[g + i + 2], ws[g + i + 3]];
                        let at = |q: usize| x + (i + q) * n + j0;
                        let (r0, r1, r2, r3) = (at(0), at(1), at(2), at(3));
                        for (t, a) in acc.iter_mut().enumerate() {
                            *a += (ws[r0 + t] * gi[0] + ws[r1 + t] * gi[1])
                                + (ws[r2 + t] * gi[2] + ws[r3 + t] * gi[3]);
                        }
                    }
                    for i in quads..r {
                        let gi = ws[g + i];
                        let row = &ws[x + i * n + j0..x + i * n + j0 + w];
                        acc.iter_mut().zip(row).for_each(|(a, &xij)| *a += xij * gi);
                    }
                    ws[o + j0..o + j0 + w].copy_from_slice(acc);
                }
            }
            Op::Lpdf { .. } => unreachable!("densities run as `Step::Lpdf` (see `resolve`)"),
            Op::VecLpdf { kind, args, partials } => self.vec_lpdf(ws, o, *kind, args, partials),
            Op::Bijector { kind, part, args } => {
                let (lo, hi) = ws.split_at_mut(o);
                let u = self.before(lo, args[0]);
                let g = args.get(1).map(|&a| self.before(lo, a)).unwrap_or_default();
                kind.eval(*part, &u, &g, &mut hi[..n]);
            }
            Op::Tril { part, args } => {
                let (lo, hi) = ws.split_at_mut(o);
                let a = self.before(lo, args[0]);
                let b = args.get(1).map(|&b| self.before(lo, b)).unwrap_or_default();
                crate::compile::tril::eval(*part, &a, &b, &mut hi[..n]);
            }
        }
    }

    /// Value `a` from `lo`, the workspace before the reading instruction's output: arguments
    /// precede their instruction, so this borrows; NaN values are only a safe fallback.
    fn before<'w>(&self, lo: &'w [f64], a: usize) -> std::borrow::Cow<'w, [f64]> {
        let (at, len) = (self.offsets[a], self.prog.lens[a]);
        match lo.get(at..at + len) {
            Some(v) => std::borrow::Cow::Borrowed(v),
            None => std::borrow::Cow::Owned(vec![f64::NAN; len]),
        }
    }

    /// A vector family's density over whole arguments, with the partials that are wanted.
    fn vec_lpdf(&self, ws: &mut [f64], o: usize, kind: DistKind, args: &[usize], partials: &[Option<usize>]) {
        let slice = |ws: &[f64], a: usize| ws[self.offsets[a]..self.offsets[a] + self.prog.lens[a]].to_vec();
        let values: Vec<Vec<f64>> = args.iter().map(|&a| slice(ws, a)).collect();
        let views: Vec<&[f64]> = values.iter().map(Vec::as_slice).collect();
        let lp = if partials.iter().any(Option::is_some) {
            let mut grads: Vec<Vec<f64>> = values.iter().map(|v| vec![0.0; v.len()]).collect();
            let lp = kind.vec_lpdf_grad(&views, Some(&mut grads));
            for (p, g) in partials.iter().zip(&grads) {
                if let Some(p) = *p {
                    let at = self.offsets[p];
                    ws[at..at + g.len()].copy_from_slice(g);
                }
            }
            lp
        } else {
            kind.vec_lpdf_grad(&views, None)
        };
        ws[o] = if lp.is_nan() { f64::NEG_INFINITY } else { lp };
    }

    #[inline]
    fn binary(&self, ws: &mut [f64], op: BinOp, o: usize, n: usize, a: usize, b: usize) {
        let (la, lb) = (self.prog.lens[a], self.prog.lens[b]);
        let (a, b) = (self.offsets[a], self.offsets[b]);
        if a + la > o || b + lb > o {
            // Operands precede their instruction in the workspace; kept as a safe fallback.
            return self.binary_overlapping(ws, op, o, n, (a, la), (b, lb));
        }
        // Disjoint slices: no aliasing, no bounds checks, vectorisable loops.
        let (lo, hi) = ws.split_at_mut(o);
        let out = &mut hi[..n];
        let (x, y) = (&lo[a..a + la], &lo[b..b + lb]);
        rows::binary(op, rows::Arg::broadcast(x, n), rows::Arg::broadcast(y, n), out);
    }

    /// [`Executor::binary`] element by element through the workspace.
    fn binary_overlapping(
        &self,
        ws: &mut [f64],
        op: BinOp,
        o: usize,
        n: usize,
        (a, la): (usize, usize),
        (b, lb): (usize, usize),
    ) {
        let at = |ws: &[f64], base: usize, len: usize, i: usize| ws[base + if len == n { i } else { 0 }];
        for i in 0..n {
            ws[o + i] = op.apply(at(ws, a, la, i), at(ws, b, lb, i));
        }
    }

    /// A density instruction with its prepared addressing.
    #[inline]
    fn lpdf(&self, ws: &mut [f64], plan: &LpdfPlan) {
        with_family!(plan.kind, F => self.lpdf_with::<F>(ws, plan))
    }

    fn lpdf_with<F: crate::model::Family>(&self, ws: &mut [f64], lp: &LpdfPlan) {
        let (ws, scratch) = ws.split_at_mut(self.density_at);
        // Scalar partials are sums: cleared first. Vector ones are written element by element.
        for &(at, len) in &lp.zero {
            if len == 1 {
                ws[at] = 0.0;
            } else {
                ws[at..at + len].fill(0.0);
            }
        }
        let (k, plan) = (lp.k, &lp.plan);
        let hoisted = &self.hoisted[lp.instr];
        let mut total = match hoisted {
            Hoist::None => 0.0,
            Hoist::Constant(c) => *c,
            Hoist::Scalar => hoisted_share::<F>(ws, hoisted, &plan.at[..k], &lp.out[..k], plan.n),
        };
        let kernel = !matches!(hoisted, Hoist::None);
        let any_grad = plan.n_out > 0;
        total += match k {
            1 => lpdf_loop::<F, 1>(ws, scratch, plan, kernel, any_grad),
            2 => lpdf_loop::<F, 2>(ws, scratch, plan, kernel, any_grad),
            3 => lpdf_loop::<F, 3>(ws, scratch, plan, kernel, any_grad),
            4 => lpdf_loop::<F, 4>(ws, scratch, plan, kernel, any_grad),
            5 => lpdf_loop::<F, 5>(ws, scratch, plan, kernel, any_grad),
            6 => lpdf_loop::<F, 6>(ws, scratch, plan, kernel, any_grad),
            7 => lpdf_loop::<F, 7>(ws, scratch, plan, kernel, any_grad),
            _ => lpdf_loop::<F, MAX>(ws, scratch, plan, kernel, any_grad),
        };
        ws[lp.o] = if total.is_nan() { f64::NEG_INFINITY } else { total };
    }
}

/// The element loop of [`Executor::lpdf`] for `K` arguments (value and parameters): the sum of
/// the log densities, partials accumulated in place. Elements go in blocks of [`BLOCK`]: the
/// family runs on columns (workspace rows read in place, scalars broadcast once into columns
/// of `scratch`, the workspace's block columns), its partials go to columns of `scratch` (no
/// aliasing with the workspace, so the loop may be vectorised) and are written back per block.
#[inline]
fn lpdf_loop<F: crate::model::Family, const K: usize>(
    ws: &mut [f64],
    scratch: &mut [f64],
    plan: &Plan,
    kernel: bool,
    any_grad: bool,
) -> f64 {
    if plan.n <= 1 {
        return lpdf_one::<F, K>(ws, plan, kernel, any_grad);
    }
    if plan.n < FEW {
        return lpdf_small::<F, K>(ws, scratch, plan, kernel, any_grad);
    }
    let (cols, rest) = scratch.split_at_mut(K * BLOCK);
    let (grads, rest) = rest.split_at_mut(K * BLOCK);
    let (cols, _) = cols.as_chunks_mut::<BLOCK>();
    let (grads, _) = grads.as_chunks_mut::<BLOCK>();
    let (Ok(grads), Some(lps)) = (<&mut [[f64; BLOCK]; K]>::try_from(grads), rest.first_chunk_mut::<BLOCK>())
    else {
        unreachable!("the density columns are sized in `Executor::new`")
    };
    let mut total = 0.0;
    let outs = &plan.outs[..plan.n_out];
    // Scalar arguments: filled once.
    for (j, col) in cols.iter_mut().enumerate() {
        if plan.stride[j] != 1 {
            col.fill(ws[plan.at[j]]);
        }
    }
    let mode = rows::Mode::of(kernel, any_grad).sharing::<F>(|j| plan.stride[1 + j] != 1);
    for start in (0..plan.n).step_by(BLOCK) {
        let w = (plan.n - start).min(BLOCK);
        // Row arguments are read in place, past the block's elements too where the workspace
        // goes on (the element loop reads only the first `w`); copied only at its end.
        let place = |j: usize| {
            let at = plan.at[j] + start;
            (plan.stride[j] == 1).then(|| ws.get(at..at + BLOCK)).flatten()
        };
        for (j, col) in cols.iter_mut().enumerate() {
            if plan.stride[j] == 1 && place(j).is_none() {
                let at = plan.at[j] + start;
                col[..w].copy_from_slice(&ws[at..at + w]);
            }
        }
        let refs: [&[f64; BLOCK]; K] =
            std::array::from_fn(|j| place(j).and_then(|x| x.try_into().ok()).unwrap_or(&cols[j]));
        // The row groups' element loop (compiled for the host's vector units).
        rows::density_tile::<F, K, BLOCK>(&refs, grads, lps, w, mode);
        if kernel || any_grad {
            write_partials(ws, outs, &grads[..], start, w);
        }
        lps[..w].chunks(SUM_BLOCK).for_each(|l| total += block_sum(l));
    }
    total
}

/// Writes a tile's partials back for its elements `start..start + w`: a vector partial element
/// by element, a scalar one added as sums over blocks of [`SUM_BLOCK`] (see [`Plan::outs`]).
#[inline]
fn write_partials<const N: usize>(
    ws: &mut [f64],
    outs: &[(usize, usize, usize)],
    grads: &[[f64; N]],
    start: usize,
    w: usize,
) {
    for &(j, base, os) in outs {
        if os == 1 {
            super::lanes::copy(&mut ws[base + start..base + start + w], &grads[j][..w]);
        } else {
            grads[j][..w].chunks(SUM_BLOCK).for_each(|g| ws[base] += block_sum(g));
        }
    }
}

/// [`lpdf_loop`] for fewer than [`FEW`] elements (eight schools' vectors): the arguments in
/// columns of one short tile in the density scratch, the family's element loop compiled for the host's
/// vector units as for long ones, the partials written back. Element by element through the
/// workspace, this cost about 55 instructions per element (addressing, bounds checks, the
/// partials' branch).
fn lpdf_small<F: crate::model::Family, const K: usize>(
    ws: &mut [f64],
    scratch: &mut [f64],
    plan: &Plan,
    kernel: bool,
    any_grad: bool,
) -> f64 {
    let n = plan.n;
    // Columns, partials and log densities in the block columns' scratch, unzeroed: only the
    // first `n` elements of each are written and read.
    let (tiles, _) = scratch.as_chunks_mut::<FEW>();
    let (cols, rest) = tiles.split_at_mut(K);
    let (grads, rest) = rest.split_at_mut(K);
    let (Ok(grads), Some(lps)) = (<&mut [[f64; FEW]; K]>::try_from(grads), rest.first_mut()) else {
        unreachable!("the density columns are sized in `Executor::new`")
    };
    for (j, col) in cols.iter_mut().enumerate() {
        let at = plan.at[j];
        if plan.stride[j] == 1 {
            super::lanes::copy(&mut col[..n], &ws[at..at + n]);
        } else {
            col[..n].fill(ws[at]);
        }
    }
    let refs: [&[f64; FEW]; K] = std::array::from_fn(|j| &cols[j]);
    let mode = rows::Mode::of(kernel, any_grad).sharing::<F>(|j| plan.stride[1 + j] != 1);
    rows::density_tile::<F, K, FEW>(&refs, grads, lps, n, mode);
    if kernel || any_grad {
        write_partials(ws, &plan.outs[..plan.n_out], &grads[..], 0, n);
    }
    block_sum(&lps[..n])
}

/// [`lpdf_loop`] for one element (priors on scalars): in the workspace, without columns to set
/// up.
fn lpdf_one<F: crate::model::Family, const K: usize>(
    ws: &mut [f64],
    plan: &Plan,
    kernel: bool,
    any_grad: bool,
) -> f64 {
    let mut x = [0.0; K];
    let mut g = [0.0; K];
    let mut total = 0.0;
    for i in 0..plan.n {
        for j in 0..K {
            x[j] = ws[plan.at[j] + i * plan.stride[j]];
        }
        total += if !(kernel || any_grad) {
            F::lpdf(x[0], &x[1..])
        } else {
            let lp = if kernel {
                F::kernel_grad(x[0], &x[1..], &mut g)
            } else {
                F::lpdf_grad(x[0], &x[1..], &mut g)
            };
            for &(j, base, os) in &plan.outs[..plan.n_out] {
                if os == 1 {
                    ws[base + i] = g[j];
                } else {
                    ws[base] += g[j];
                }
            }
            lp
        };
    }
    total
}

/// Elements per block of a density loop (see [`lpdf_loop`]).
const BLOCK: usize = 256;
/// Elements per partial sum of a density loop's totals: the sums run over these in order, as
/// with blocks of this length (the same bits as before blocks grew to [`BLOCK`]).
const SUM_BLOCK: usize = 64;
/// Densities over fewer elements run as one short tile ([`lpdf_small`]), over one element
/// through the workspace ([`lpdf_one`]).
const FEW: usize = 16;

/// A density's normaliser share evaluated outside its element loop (see [`Hoist`]), for a
/// broadcast over `n` elements: the constant, or — when the normaliser reads only scalars —
/// `n` times its value at the arguments at offsets `at`, with `n` times its partials added into
/// the scalar partial slots `out` (`usize::MAX` where there is none).
pub(crate) fn hoisted_share<F: crate::model::Family>(
    ws: &mut [f64],
    hoisted: &Hoist,
    at: &[usize],
    out: &[usize],
    n: usize,
) -> f64 {
    match hoisted {
        Hoist::None => 0.0,
        Hoist::Constant(c) => *c,
        Hoist::Scalar => {
            let k = at.len();
            let mut x = [0.0; MAX];
            let mut g = [0.0; MAX];
            for j in 0..k {
                x[j] = ws[at[j]];
            }
            let norm = F::log_normalizer_grad(&x[1..k], &mut g[..k]);
            for &j in F::NORMALIZER_PARAMS {
                if out[j + 1] != usize::MAX {
                    ws[out[j + 1]] += n as f64 * g[j + 1];
                }
            }
            n as f64 * norm
        }
    }
}

/// Most arguments a fused density takes (value + 7 parameters).
pub const MAX_ARGS: usize = 8;
const MAX: usize = MAX_ARGS;

/// Pairwise summation (error grows as O(log n) rather than O(n)), over blocks of at most 128
/// summed by [`block_sum`] (numpy's scheme).
pub fn pairwise_sum(v: &[f64]) -> f64 {
    if v.len() <= 128 {
        block_sum(v)
    } else {
        let (a, b) = v.split_at(v.len() / 2);
        pairwise_sum(a) + pairwise_sum(b)
    }
}

/// `Σ vᵢ` with eight independent accumulators: a single running sum waits one add latency
/// (about four cycles) per element; eight chains keep the adder busy and vectorise.
#[inline]
pub fn block_sum(v: &[f64]) -> f64 {
    let c = v.chunks_exact(8);
    let tail: f64 = c.remainder().iter().sum();
    let mut s = [0.0f64; 8];
    for x in c {
        for k in 0..8 {
            s[k] += x[k];
        }
    }
    ((s[0] + s[1]) + (s[2] + s[3])) + ((s[4] + s[5]) + (s[6] + s[7])) + tail
}

/// `Σ src[idx[i]]` with four independent accumulators: a bin of a scatter-add (radon's 85
/// counties over 919 rows) is a short gathered sum, and one running sum would wait an add
/// latency per element.
#[inline]
fn gather_sum(src: &[f64], idx: &[u32]) -> f64 {
    let c = idx.chunks_exact(4);
    let tail: f64 = c.remainder().iter().map(|&q| src[q as usize]).sum();
    let mut s = [0.0f64; 4];
    for q in c {
        for k in 0..4 {
            s[k] += src[q[k] as usize];
        }
    }
    (s[0] + s[1]) + (s[2] + s[3]) + tail
}

/// `X Wᵀ` ([`Op::MatMulT`]): each row of `X` (`c` values) dotted with each of the `k` rows of
/// `W`, compiled for AVX-512 and AVX2 besides the baseline with [`dot`]'s summation order (no
/// fused multiply-adds: every target gives the same bits).
#[multiversion(targets("x86_64+avx512f+avx512dq+avx512vl+avx2+fma", "x86_64+avx2+fma"))]
fn mat_mul_t(out: &mut [f64], x: &[f64], w: &[f64], c: usize, k: usize) {
    for (row_out, xr) in out.chunks_mut(k).zip(x.chunks(c)) {
        for (o, wr) in row_out.iter_mut().zip(w.chunks(c)) {
            *o = dot(xr, wr);
        }
    }
}

/// `Gᵀ X` ([`Op::MatTMul`]): row `j` of the output is the rows of `X` scaled by column `j` of
/// `G` and summed in row order (independent lanes: the same bits on every target).
#[multiversion(targets("x86_64+avx512f+avx512dq+avx512vl+avx2+fma", "x86_64+avx2+fma"))]
fn mat_t_mul(out: &mut [f64], x: &[f64], g: &[f64], c: usize, k: usize) {
    out.fill(0.0);
    for (j, oj) in out.chunks_mut(c).enumerate() {
        for (gi, xr) in g.chunks(k).zip(x.chunks(c)) {
            let gij = gi[j];
            oj.iter_mut().zip(xr).for_each(|(a, &xv)| *a += gij * xv);
        }
    }
}

/// `Σ aᵢbᵢ` with four independent accumulators (pipelined and vectorised; a single running sum
/// waits one add latency per element). Always inlined, so that the multiversioned callers
/// compile it for their targets.
#[inline(always)]
fn dot(a: &[f64], b: &[f64]) -> f64 {
    let (ca, cb) = (a.chunks_exact(4), b.chunks_exact(4));
    let (ra, rb) = (ca.remainder(), cb.remainder());
    let mut s = [0.0f64; 4];
    for (x, y) in ca.zip(cb) {
        for k in 0..4 {
            s[k] += x[k] * y[k];
        }
    }
    let tail: f64 = ra.iter().zip(rb).map(|(x, y)| x * y).sum();
    (s[0] + s[1]) + (s[2] + s[3]) + tail
}

/// Addressing of one density instruction's element loop (see [`Executor::lpdf`]).
#[derive(Clone, Debug)]
struct Plan {
    at: [usize; MAX],
    stride: [usize; MAX],
    /// (argument, first output slot, output stride) for each partial that exists.
    outs: [(usize, usize, usize); MAX],
    n_out: usize,
    n: usize,
}

/// A density instruction prepared once (see [`resolve`]): its element loop's addressing, the
/// scalar partials it clears, and its partial slots as [`hoisted_share`] takes them.
#[derive(Clone, Debug)]
struct LpdfPlan {
    instr: usize,
    kind: DistKind,
    /// Output offset.
    o: usize,
    /// Number of arguments (value and parameters).
    k: usize,
    plan: Plan,
    /// Per argument, its partial's first slot (`usize::MAX` where there is none).
    out: [usize; MAX],
    /// (offset, length) of each scalar partial, cleared before the loop adds into it.
    zero: Vec<(usize, usize)>,
}

/// One entry of what [`Executor::run`] executes.
#[derive(Clone, Copy, Debug)]
enum Step {
    /// `ws[o] = op(ws[a], ws[b])`: a binary instruction whose values are all one element.
    Binary1 { op: BinOp, o: usize, a: usize, b: usize },
    /// [`Step::Binary1`] for addition: one dispatch rather than two (the step's, then the
    /// operation's), for a small model's most common instruction.
    Add1 { o: usize, a: usize, b: usize },
    /// [`Step::Binary1`] for multiplication.
    Mul1 { o: usize, a: usize, b: usize },
    /// `ws[o] = op(ws[a])` for one element.
    Unary1 { op: crate::compile::UnOp, o: usize, a: usize },
    /// `ws[o] = u[from]`: a one-element input.
    Load1 { o: usize, from: usize },
    /// `ws[o..o + n] = op(a, b)` for operands `(offset, length)` of `n` elements or one
    /// (broadcast), both before `o`.
    BinaryN { op: BinOp, o: usize, n: usize, a: (usize, usize), b: (usize, usize) },
    /// `ws[o] = Σ ws[a..a + n]` ([`pairwise_sum`]).
    Sum { o: usize, a: usize, n: usize },
    /// `ws[o..o + n] = u[from..from + n]`: an input.
    LoadN { o: usize, from: usize, n: usize },
    /// A density, by its index in `Executor::lpdf_plans`.
    Lpdf(usize),
    /// Any other instruction, by program index.
    Instr(usize),
    /// A row group.
    Group(usize),
}

/// Resolves a schedule into steps: the one-element instructions a small model is mostly made
/// of run without the interpreter's lookups (offsets, lengths, broadcasting), and densities
/// without preparing their addressing on every evaluation. The one-element steps give the
/// same bits as [`Executor::step`]'s general arms; densities run only here.
fn resolve(prog: &Program, offsets: &[usize], sched: &[Sched]) -> (Vec<Step>, Vec<LpdfPlan>) {
    let lens = &prog.lens;
    let mut plans = Vec::new();
    let steps = sched
        .iter()
        .map(|s| {
            let k = match *s {
                Sched::Group(g) => return Step::Group(g),
                Sched::Instr(k) => k,
            };
            let instr = &prog.instrs[k];
            let o = offsets[instr.out];
            let one = |v: usize| lens[v] == 1;
            let before = |v: usize| offsets[v] + lens[v] <= o;
            match &instr.op {
                Op::Binary(op, a, b) if one(instr.out) && one(*a) && one(*b) => {
                    let (a, b) = (offsets[*a], offsets[*b]);
                    match op {
                        BinOp::Add => Step::Add1 { o, a, b },
                        BinOp::Mul => Step::Mul1 { o, a, b },
                        _ => Step::Binary1 { op: *op, o, a, b },
                    }
                }
                Op::Unary(op, a) if one(instr.out) && one(*a) => Step::Unary1 { op: *op, o, a: offsets[*a] },
                Op::Input { offset } if one(instr.out) => Step::Load1 { o, from: *offset },
                Op::Lpdf { kind, args, partials } => {
                    plans.push(lpdf_plan(k, *kind, o, args, partials, lens, offsets));
                    Step::Lpdf(plans.len() - 1)
                }
                // Operands before the output (as the workspace lays them out): disjoint slices.
                Op::Binary(op, a, b) if before(*a) && before(*b) => Step::BinaryN {
                    op: *op,
                    o,
                    n: lens[instr.out],
                    a: (offsets[*a], lens[*a]),
                    b: (offsets[*b], lens[*b]),
                },
                Op::Sum(a) => Step::Sum { o, a: offsets[*a], n: lens[*a] },
                Op::Input { offset } => Step::LoadN { o, from: *offset, n: lens[instr.out] },
                _ => Step::Instr(k),
            }
        })
        .collect();
    (steps, plans)
}

/// The addressing of density instruction `instr` (see [`LpdfPlan`]).
fn lpdf_plan(
    instr: usize,
    kind: DistKind,
    o: usize,
    args: &[usize],
    partials: &[Option<usize>],
    lens: &[usize],
    offsets: &[usize],
) -> LpdfPlan {
    let k = args.len();
    debug_assert!(k <= MAX);
    let n = args.iter().map(|&a| lens[a]).max().unwrap_or(1);
    let mut plan = Plan { at: [0; MAX], stride: [0; MAX], outs: [(0, 0, 0); MAX], n_out: 0, n };
    let mut out = [usize::MAX; MAX];
    let mut zero = Vec::new();
    // Branch-free addressing: element i of argument j is at[j] + i·stride[j]; only the
    // partials that exist are written.
    for j in 0..k {
        plan.at[j] = offsets[args[j]];
        plan.stride[j] = usize::from(lens[args[j]] == n && n > 1);
        if let Some(p) = partials[j] {
            out[j] = offsets[p];
            let out_vec = lens[p] == n && n > 1;
            if !out_vec {
                zero.push((out[j], lens[p]));
            }
            plan.outs[plan.n_out] = (j, out[j], usize::from(out_vec));
            plan.n_out += 1;
        }
    }
    LpdfPlan { instr, kind, o, k, plan, out, zero }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::compile::compile;
    use crate::prelude::*;
    use crate::rewrite::RewriteOptions;

    /// A density whose scale is a data vector (its normaliser hoisted as a constant) reads
    /// every row's scale: it does not take the shared kernel (test against the family's
    /// per-element density and the analytic gradient).
    #[test]
    fn a_data_scale_is_read_on_every_row() {
        let n = 40;
        let s: Vec<f64> = (0..n).map(|i| 0.5 + i as f64 * 0.1).collect();
        let y: Vec<f64> = (0..n).map(|i| (i as f64 * 0.37).sin()).collect();
        let mut m = Model::new();
        let mu = m.rv("mu", Normal::new(0, 1)).unwrap();
        m.observe("y", Normal::new(mu, s.clone()), &y).unwrap();
        let prog = compile(&m, RewriteOptions::default()).unwrap().logp_grad;
        let exec = Executor::new(prog.clone());
        let (mut ws, mut g) = (exec.workspace(), vec![0.0; prog.dim]);
        let lp = exec.run(&mut ws, &[0.3], &mut g);
        let normal = crate::model::DistKind::Normal;
        let want =
            normal.lpdf(0.3, &[0.0, 1.0]) + (0..n).map(|i| normal.lpdf(y[i], &[0.3, s[i]])).sum::<f64>();
        let dwant = -0.3 + (0..n).map(|i| (y[i] - 0.3) / (s[i] * s[i])).sum::<f64>();
        assert!((lp - want).abs() <= 1e-12 * want.abs(), "{lp} vs {want}");
        assert!((g[0] - dwant).abs() <= 1e-12 * dwant.abs().max(1.0), "{} vs {dwant}", g[0]);
    }

    /// The resolved one-element steps (arithmetic, unaries, loads) compute the same bits as the
    /// interpreter's general path, on a model with scalar and vector densities, transforms,
    /// broadcasting and every binary operation. (Densities have one path: their prepared plans.)
    #[test]
    fn resolved_steps_equal_the_general_path() {
        let y = [28.0, 8.0, -3.0, 7.0, -1.0, 1.0, 18.0, 12.0];
        let s = [15.0, 10.0, 16.0, 11.0, 9.0, 11.0, 10.0, 18.0];
        let mut m = Model::new();
        let mu = m.rv("mu", Normal::new(0, 5)).unwrap();
        let tau = m.rv("tau", HalfCauchy::new(5)).unwrap();
        let z = m.rv_vec("z", Normal::new(0, 1), 8).unwrap();
        let p = m.rv("p", Beta::new(2, 3)).unwrap();
        let g = m.rv("g", Gamma::new(2, 1)).unwrap();
        let theta = m.deterministic("theta", mu + tau * z / (p + 1.0) - g.pow(1.5) + g.pow(p)).unwrap();
        m.observe("y", Normal::new(theta, s.to_vec()), &y).unwrap();
        m.observe("w", Normal::new(mu - g, tau + p), &[0.5, -0.25]).unwrap();
        let prog = compile(&m, RewriteOptions::default()).unwrap().logp_grad;
        let exec = Executor::new(prog.clone());
        assert!(exec.steps.iter().any(|s| matches!(s, Step::Add1 { .. })));
        assert!(exec.steps.iter().any(|s| matches!(s, Step::Mul1 { .. })));
        assert!(exec.steps.iter().any(|s| matches!(s, Step::Binary1 { op: BinOp::Sub, .. })));
        assert!(exec.steps.iter().any(|s| matches!(s, Step::Binary1 { op: BinOp::Pow, .. })));
        assert!(exec.steps.iter().any(|s| matches!(s, Step::Unary1 { .. })));
        assert!(exec.steps.iter().any(|s| matches!(s, Step::Load1 { .. })));
        assert!(exec.steps.iter().any(|s| matches!(s, Step::LoadN { .. })));
        assert!(exec.steps.iter().any(|s| matches!(s, Step::BinaryN { .. })));
        assert!(exec.steps.iter().any(|s| matches!(s, Step::Sum { .. })));
        assert!(exec.steps.iter().any(|s| matches!(s, Step::Lpdf(_))));
        let mut general = exec.clone();
        // `resolve` makes one step per schedule entry, in order.
        general.steps = (exec.sched.iter().zip(&exec.steps))
            .map(|(s, step)| match (*s, *step) {
                (_, Step::Lpdf(i)) => Step::Lpdf(i),
                (Sched::Instr(k), _) => Step::Instr(k),
                (Sched::Group(g), _) => Step::Group(g),
            })
            .collect();
        let mut seed = 0x2545_f491_4f6c_dd1du64;
        for _ in 0..50 {
            let u: Vec<f64> = (0..prog.dim)
                .map(|_| {
                    seed = seed.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1);
                    (seed >> 11) as f64 / (1u64 << 53) as f64 * 4.0 - 2.0
                })
                .collect();
            let (mut w1, mut w2) = (exec.workspace(), general.workspace());
            let (mut g1, mut g2) = (vec![0.0; prog.dim], vec![0.0; prog.dim]);
            let l1 = exec.run(&mut w1, &u, &mut g1);
            let l2 = general.run(&mut w2, &u, &mut g2);
            let bits = |x: &[f64]| x.iter().map(|v| v.to_bits()).collect::<Vec<_>>();
            assert_eq!(l1.to_bits(), l2.to_bits());
            assert_eq!(bits(&g1), bits(&g2));
            assert_eq!(bits(&w1), bits(&w2));
        }
    }
}
