//! Row groups: runs of row-local instructions over one long axis (the observations), executed
//! tile by tile and, for long axes, in parts that threads may share (DECISIONS 49).
//!
//! A data-heavy gradient is a forward sweep over the rows (`η = a + X β`, a density and its
//! partial per row) and a backward one (`Xᵀ g`, sums, scatters). Run instruction by instruction,
//! each sweep streams every row vector, and the data matrix twice, through memory. A row group
//! runs the same instructions on [`TILE`] rows at a time, so a tile's rows of `X` and its
//! intermediate values stay in L1 between the forward and the backward use, matrices are read
//! from a tile-major copy whose columns are contiguous (`X β` and `Xᵀ g` become vector loops
//! over rows), and reductions (a density's total, `Xᵀ g`, sums, scatter-adds) accumulate per
//! part and are combined in part order at the end.
//!
//! Parts are fixed by the row count alone ([`PART_ROWS`], at most [`MAX_PARTS`]), so results
//! are the same bits whether the parts run on one thread or several.

use multiversion::multiversion;

use crate::compile::hoist::Hoist;
use crate::compile::{BinOp, Op, Program, UnOp};
use crate::model::DistKind;
use crate::model::dist::with_family;

/// Rows per tile.
pub const TILE: usize = 64;
/// Groups form over axes of at least this many rows.
const MIN_ROWS: usize = 4 * TILE;
/// A group without a data matrix is kept only over at least this many rows: shorter axes fit
/// in L1 instruction by instruction, and the tiles' bookkeeping cost more than they saved
/// (radon's 919 rows: 3.6 µs grouped against 2.7 µs, measured 2026-12-03).
const MIN_ROWS_WITHOUT_MATRIX: usize = 2048;
/// Rows per part: a part is at least this long.
const PART_ROWS: usize = 1024;
/// Most parts a group splits into.
const MAX_PARTS: usize = 8;

/// Where a row argument comes from, per tile.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Src {
    /// A row value the group makes: tile buffer `.0` of the part's scratch.
    Tile(usize),
    /// A value of the axis' length in the workspace (data, or made before the group), at
    /// this offset.
    Rows(usize),
    /// A scalar in the workspace at this offset, broadcast.
    Scalar(usize),
}

/// Where a density's partial goes.
#[derive(Clone, Copy, Debug)]
enum Partial {
    /// A row value: the member's tile buffer for that argument.
    Tile,
    /// A scalar summed over rows: accumulator offset in the part's scratch.
    Acc(usize),
}

/// One instruction of a group, addressed for tiles.
#[derive(Clone, Debug)]
enum Member {
    Unary {
        op: UnOp,
        a: Src,
        out: usize,
    },
    Pow {
        a: Src,
        c: f64,
        out: usize,
    },
    Binary {
        op: BinOp,
        a: Src,
        b: Src,
        out: usize,
    },
    Broadcast {
        a: usize,
        out: usize,
    },
    Gather {
        src: usize,
        index: usize,
        out: usize,
    },
    MatVec {
        mat: usize,
        v: usize,
        c: usize,
        out: usize,
    },
    MatTVec {
        mat: usize,
        g: Src,
        c: usize,
        acc: usize,
    },
    Sum {
        a: Src,
        acc: usize,
    },
    ScatterAdd {
        src: Src,
        bins: usize,
        acc: usize,
    },
    /// `grads`: the first of one tile buffer per argument, where the partials are written;
    /// `lps`: the tile buffer of the element log densities. Scalar arguments are read from tile
    /// buffers filled once per part (bit `j` of `scalar` for argument `j`).
    Lpdf {
        kind: DistKind,
        args: Vec<Src>,
        scalar: u32,
        partials: Vec<Option<Partial>>,
        grads: usize,
        lps: usize,
        acc: usize,
        kernel: bool,
    },
}

/// How a reduction's accumulators become a workspace value after the parts.
#[derive(Clone, Debug)]
struct Reduction {
    /// Accumulator offset in each part's scratch.
    acc: usize,
    /// Output length.
    len: usize,
    /// Lanes per output element (8 for `Xᵀ g`'s vector accumulators, else 1).
    lanes: usize,
    /// The workspace offset written.
    out: usize,
    /// How the total is written.
    kind: RedKind,
}

/// How a reduction's total is written.
#[derive(Clone, Copy, Debug)]
enum RedKind {
    /// Stored.
    Set,
    /// Added (a density's scalar partial, which starts from its hoisted normaliser's share).
    Add,
    /// A density's total (instruction `.0`): its hoisted normaliser added once, NaN made −∞.
    Density(usize),
}

/// A row group: its members in program order, and what they need.
#[derive(Clone, Debug)]
pub(crate) struct RowGroup {
    /// Rows of the axis.
    rows: usize,
    members: Vec<Member>,
    reductions: Vec<Reduction>,
    /// Tile buffers per part.
    slots: usize,
    /// Accumulator values per part.
    acc_len: usize,
    /// Row values that instructions outside the group read: (tile slot, workspace offset).
    escapes: Vec<(usize, usize)>,
    /// Tile buffers holding one scalar on every row, filled once per part: (tile slot,
    /// workspace offset of the scalar).
    fills: Vec<(usize, usize)>,
    /// Panel copies of the data matrices: row `i = 8p + k` (panel `p`, lane `k`), column `j` at
    /// `(p·c + j)·8 + k`, zero past the last row; a tile is eight panels.
    mats: Vec<Vec<f64>>,
    /// Gather indices, per gather.
    indices: Vec<Vec<u32>>,
    /// Each row's bin, per scatter-add.
    bins: Vec<Vec<u32>>,
    /// Tile ranges of the parts.
    parts: Vec<(usize, usize)>,
    /// The instructions of the group (program indices).
    pub(crate) instrs: Vec<usize>,
}

/// One step of an executor's schedule.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Sched {
    /// An instruction on its own.
    Instr(usize),
    /// A row group.
    Group(usize),
}

/// The row length of instruction `k` if it is row-local over an axis of at least
/// [`MIN_ROWS`] rows.
fn row_len(prog: &Program, k: usize, ints: &[Option<Vec<u32>>]) -> Option<usize> {
    let lens = &prog.lens;
    let instr = &prog.instrs[k];
    let n = lens[instr.out];
    let rows = match &instr.op {
        Op::Unary(_, a) | Op::Pow(a, _) if lens[*a] == n => n,
        Op::Binary(_, a, b) if (lens[*a] == n || lens[*a] == 1) && (lens[*b] == n || lens[*b] == 1) => n,
        Op::Broadcast(a) if lens[*a] == 1 => n,
        Op::Gather { src, index } if lens[*index] == n => {
            // Every index inside the source (the tile loop reads without a bounds check on it).
            let ix = ints[*index].as_deref()?;
            if ix.iter().any(|&k| k as usize >= lens[*src]) {
                return None;
            }
            n
        }
        Op::MatVec { x, v } if prog.data_of(*x).is_some() && lens[*x] == n * lens[*v] => n,
        Op::MatTVec { x, g } if prog.data_of(*x).is_some() && lens[*x] == n * lens[*g] => lens[*g],
        Op::Sum(a) => lens[*a],
        // A scatter into more bins than it reads rows (a matrix product's columns spread into
        // its rows) runs on its own: a part's accumulator is as long as the bins.
        Op::ScatterAdd { src, starts, perm }
            if ints[*starts].is_some() && ints[*perm].is_some() && n <= lens[*src] =>
        {
            let (starts, perm) = (ints[*starts].as_deref()?, ints[*perm].as_deref()?);
            // Every row in exactly one bin.
            let mut seen = vec![false; lens[*src]];
            if perm.len() != lens[*src]
                || starts.len() != n + 1
                || starts.last() != Some(&(perm.len() as u32))
            {
                return None;
            }
            for &p in perm {
                let slot = seen.get_mut(p as usize)?;
                if std::mem::replace(slot, true) {
                    return None;
                }
            }
            lens[*src]
        }
        Op::Lpdf { args, partials, .. } => {
            let rows = args.iter().map(|&a| lens[a]).max().unwrap_or(1);
            let fits = |a: usize| lens[a] == rows || lens[a] == 1;
            if !args.iter().all(|&a| fits(a)) || !partials.iter().flatten().all(|&p| fits(p)) {
                return None;
            }
            rows
        }
        _ => return None,
    };
    (rows >= MIN_ROWS).then_some(rows)
}

/// The values an instruction writes.
fn writes(op: &Op, out: usize) -> Vec<usize> {
    let mut w = vec![out];
    w.extend(Program::partials(op).iter().flatten().copied());
    w
}

/// Groups the program's dynamic instructions: the schedule, and the groups it runs.
pub(crate) fn plan(
    prog: &Program,
    offsets: &[usize],
    dynamic: &[usize],
    ints: &[Option<Vec<u32>>],
    hoisted: &[Hoist],
) -> (Vec<Sched>, Vec<RowGroup>) {
    let mut sched = Vec::new();
    let mut groups: Vec<RowGroup> = Vec::new();
    // The open group: its axis, instructions, the values they write (row values and
    // reductions), the instructions that must wait for it, and those that run before it.
    struct Open {
        rows: usize,
        members: Vec<usize>,
        made: Vec<bool>,
        pre: Vec<usize>,
        deferred: Vec<usize>,
        late: Vec<bool>,
    }
    let nv = prog.lens.len();
    let mut open: Option<Open> = None;
    let close = |open: Option<Open>, sched: &mut Vec<Sched>, groups: &mut Vec<RowGroup>| {
        let Some(o) = open else { return };
        let matrix =
            o.members.iter().any(|&k| matches!(prog.instrs[k].op, Op::MatVec { .. } | Op::MatTVec { .. }));
        if o.members.len() < 2 || (!matrix && o.rows < MIN_ROWS_WITHOUT_MATRIX) {
            // Not worth a group: everything in program order (always a valid order).
            let mut all: Vec<usize> = o.pre.iter().chain(&o.members).chain(&o.deferred).copied().collect();
            all.sort_unstable();
            sched.extend(all.into_iter().map(Sched::Instr));
            return;
        }
        sched.extend(o.pre.iter().map(|&k| Sched::Instr(k)));
        groups.push(build(prog, offsets, ints, hoisted, o.rows, &o.members));
        sched.push(Sched::Group(groups.len() - 1));
        sched.extend(o.deferred.iter().map(|&k| Sched::Instr(k)));
    };
    for &k in dynamic {
        let instr = &prog.instrs[k];
        let reads = instr.op.reads();
        let rows = row_len(prog, k, ints);
        if let Some(o) = open.as_mut() {
            let touches = reads.iter().any(|&v| o.made[v] || o.late[v]);
            let joins = rows == Some(o.rows) && can_join(prog, instr, o.rows, &o.made, &o.late, &o.members);
            if joins {
                o.members.push(k);
                for v in writes(&instr.op, instr.out) {
                    o.made[v] = true;
                }
                continue;
            }
            if rows.is_none() {
                if touches {
                    o.deferred.push(k);
                    for v in writes(&instr.op, instr.out) {
                        o.late[v] = true;
                    }
                } else {
                    o.pre.push(k);
                }
                continue;
            }
            close(open.take(), &mut sched, &mut groups);
        }
        match rows {
            Some(rows) if can_join(prog, instr, rows, &vec![false; nv], &vec![false; nv], &[]) => {
                let mut made = vec![false; nv];
                for v in writes(&instr.op, instr.out) {
                    made[v] = true;
                }
                open = Some(Open {
                    rows,
                    members: vec![k],
                    made,
                    pre: Vec::new(),
                    deferred: Vec::new(),
                    late: vec![false; nv],
                });
            }
            _ => sched.push(Sched::Instr(k)),
        }
    }
    close(open, &mut sched, &mut groups);
    (sched, groups)
}

/// Whether `instr` (row-local over `rows`) can run inside the open group: every value it reads
/// is either one of the group's row values, read as rows, or ready before the group starts.
fn can_join(
    prog: &Program,
    instr: &crate::compile::Instr,
    rows: usize,
    made: &[bool],
    late: &[bool],
    members: &[usize],
) -> bool {
    let lens = &prog.lens;
    // A value the group makes is a row value when a member produced it at the axis' length as
    // a row-wise output (not a reduction).
    let row_value = |v: usize| made[v] && lens[v] == rows && is_row_output(prog, members, v);
    let as_rows = |v: usize| !late[v] && (row_value(v) || (!made[v] && (lens[v] == rows || lens[v] == 1)));
    let ready = |v: usize| !made[v] && !late[v];
    match &instr.op {
        Op::Unary(_, a) | Op::Pow(a, _) | Op::Sum(a) => as_rows(*a),
        Op::Binary(_, a, b) => as_rows(*a) && as_rows(*b),
        Op::Broadcast(a) => ready(*a),
        Op::Gather { src, index } => ready(*src) && ready(*index),
        Op::MatVec { x, v } => ready(*x) && ready(*v),
        Op::MatTVec { x, g } => ready(*x) && as_rows(*g) && lens[*g] == rows,
        Op::ScatterAdd { src, starts, perm } => {
            as_rows(*src) && lens[*src] == rows && ready(*starts) && ready(*perm)
        }
        Op::Lpdf { args, partials, .. } => {
            args.iter().all(|&a| as_rows(a)) && partials.iter().flatten().all(|&p| !made[p] && !late[p])
        }
        _ => false,
    }
}

/// Whether value `v` is a row-wise output of one of `members` (not a reduction).
fn is_row_output(prog: &Program, members: &[usize], v: usize) -> bool {
    members.iter().any(|&m| {
        let instr = &prog.instrs[m];
        match &instr.op {
            Op::Sum(_) | Op::MatTVec { .. } | Op::ScatterAdd { .. } => false,
            Op::Lpdf { partials, .. } => partials.iter().flatten().any(|&p| p == v),
            _ => instr.out == v,
        }
    })
}

/// Lays out a group's members for tiles.
fn build(
    prog: &Program,
    offsets: &[usize],
    ints: &[Option<Vec<u32>>],
    hoisted: &[Hoist],
    rows: usize,
    members: &[usize],
) -> RowGroup {
    let lens = &prog.lens;
    let mut slot_of: Vec<Option<usize>> = vec![None; lens.len()];
    let mut slots = 0;
    let mut acc_len = 0;
    let mut g = RowGroup {
        rows,
        members: Vec::new(),
        reductions: Vec::new(),
        slots: 0,
        acc_len: 0,
        escapes: Vec::new(),
        fills: Vec::new(),
        mats: Vec::new(),
        indices: Vec::new(),
        bins: Vec::new(),
        parts: Vec::new(),
        instrs: members.to_vec(),
    };
    let mut mat_of: Vec<(usize, usize)> = Vec::new();
    let tiles = rows.div_ceil(TILE);
    let mut mat = |x: usize, c: usize, g: &mut RowGroup| -> usize {
        if let Some(&(_, m)) = mat_of.iter().find(|(v, _)| *v == x) {
            return m;
        }
        let data = prog.data_of(x).unwrap_or(&[]);
        let mut t = vec![0.0; tiles * c * TILE];
        for i in 0..rows {
            for j in 0..c {
                t[((i / 8) * c + j) * 8 + i % 8] = data.get(i * c + j).copied().unwrap_or(f64::NAN);
            }
        }
        g.mats.push(t);
        mat_of.push((x, g.mats.len() - 1));
        g.mats.len() - 1
    };
    let new_slot = |v: usize, slot_of: &mut Vec<Option<usize>>, slots: &mut usize| {
        slot_of[v] = Some(*slots);
        *slots += 1;
        *slots - 1
    };
    let src = |v: usize, slot_of: &[Option<usize>]| match slot_of[v] {
        Some(s) => Src::Tile(s),
        None if lens[v] == rows && rows > 1 => Src::Rows(offsets[v]),
        None => Src::Scalar(offsets[v]),
    };
    let mut acc = |len: usize, lanes: usize, out: usize, kind: RedKind, g: &mut RowGroup| {
        let at = acc_len;
        acc_len += len * lanes;
        g.reductions.push(Reduction { acc: at, len, lanes, out, kind });
        at
    };
    for &k in members {
        let instr = &prog.instrs[k];
        let member = match &instr.op {
            Op::Unary(op, a) => Member::Unary {
                op: *op,
                a: src(*a, &slot_of),
                out: new_slot(instr.out, &mut slot_of, &mut slots),
            },
            Op::Pow(a, c) => Member::Pow {
                a: src(*a, &slot_of),
                c: *c,
                out: new_slot(instr.out, &mut slot_of, &mut slots),
            },
            Op::Binary(op, a, b) => Member::Binary {
                op: *op,
                a: src(*a, &slot_of),
                b: src(*b, &slot_of),
                out: new_slot(instr.out, &mut slot_of, &mut slots),
            },
            Op::Broadcast(a) => {
                Member::Broadcast { a: offsets[*a], out: new_slot(instr.out, &mut slot_of, &mut slots) }
            }
            Op::Gather { src: s, index } => {
                g.indices.push(ints[*index].clone().unwrap_or_default());
                Member::Gather {
                    src: offsets[*s],
                    index: g.indices.len() - 1,
                    out: new_slot(instr.out, &mut slot_of, &mut slots),
                }
            }
            Op::MatVec { x, v } => {
                let c = lens[*v];
                Member::MatVec {
                    mat: mat(*x, c, &mut g),
                    v: offsets[*v],
                    c,
                    out: new_slot(instr.out, &mut slot_of, &mut slots),
                }
            }
            Op::MatTVec { x, g: gv } => {
                let c = lens[instr.out];
                let m = mat(*x, c, &mut g);
                let a = acc(c, 8, offsets[instr.out], RedKind::Set, &mut g);
                Member::MatTVec { mat: m, g: src(*gv, &slot_of), c, acc: a }
            }
            Op::Sum(a) => {
                let s = src(*a, &slot_of);
                Member::Sum { a: s, acc: acc(1, 1, offsets[instr.out], RedKind::Set, &mut g) }
            }
            Op::ScatterAdd { src: s, starts, perm } => {
                let (starts, perm) =
                    (ints[*starts].as_deref().unwrap_or(&[]), ints[*perm].as_deref().unwrap_or(&[]));
                let mut bin = vec![0u32; rows];
                for b in 0..starts.len().saturating_sub(1) {
                    for &p in &perm[starts[b] as usize..starts[b + 1] as usize] {
                        bin[p as usize] = b as u32;
                    }
                }
                g.bins.push(bin);
                let s = src(*s, &slot_of);
                let a = acc(lens[instr.out], 1, offsets[instr.out], RedKind::Set, &mut g);
                Member::ScatterAdd { src: s, bins: g.bins.len() - 1, acc: a }
            }
            Op::Lpdf { kind, args, partials } => {
                let mut scalar = 0;
                let args_src: Vec<Src> = args
                    .iter()
                    .enumerate()
                    .map(|(j, &a)| match src(a, &slot_of) {
                        Src::Scalar(o) => {
                            scalar |= 1 << j;
                            g.fills.push((slots, o));
                            slots += 1;
                            Src::Tile(slots - 1)
                        }
                        other => other,
                    })
                    .collect();
                let a = acc(1, 1, offsets[instr.out], RedKind::Density(k), &mut g);
                // One tile buffer per argument, consecutive: the element loop writes every
                // argument's partial in place.
                let grads = slots;
                slots += args.len();
                let lps = slots;
                slots += 1;
                let parts = partials
                    .iter()
                    .enumerate()
                    .map(|(j, p)| {
                        p.map(|p| {
                            if lens[p] == rows {
                                slot_of[p] = Some(grads + j);
                                Partial::Tile
                            } else {
                                Partial::Acc(acc(1, 1, offsets[p], RedKind::Add, &mut g))
                            }
                        })
                    })
                    .collect();
                Member::Lpdf {
                    kind: *kind,
                    args: args_src,
                    scalar,
                    partials: parts,
                    grads,
                    lps,
                    acc: a,
                    kernel: !matches!(hoisted[k], Hoist::None),
                }
            }
            other => unreachable!("not row-local: {other:?}"),
        };
        g.members.push(member);
    }
    // Row values read outside the group are written back to the workspace.
    let inside: Vec<bool> = (0..prog.instrs.len()).map(|k| members.contains(&k)).collect();
    let mut read_outside = vec![false; lens.len()];
    for (k, instr) in prog.instrs.iter().enumerate() {
        if !inside[k] {
            for v in instr.op.reads() {
                read_outside[v] = true;
            }
        }
    }
    for &(_, v) in &prog.grad {
        read_outside[v] = true;
    }
    for (_, v) in &prog.outputs {
        read_outside[*v] = true;
    }
    if let Some(v) = prog.logp {
        read_outside[v] = true;
    }
    for (v, s) in slot_of.iter().enumerate() {
        if let (Some(s), true) = (s, read_outside[v]) {
            g.escapes.push((*s, offsets[v]));
        }
    }
    g.slots = slots;
    g.acc_len = acc_len;
    let n_parts = (rows / PART_ROWS).clamp(1, MAX_PARTS);
    g.parts = (0..n_parts).map(|p| (p * tiles / n_parts, (p + 1) * tiles / n_parts)).collect();
    g
}

impl RowGroup {
    /// Scratch values one part needs: tile buffers, accumulators, escaping rows.
    fn part_len(&self) -> usize {
        self.slots * TILE + self.acc_len + self.escapes.len() * self.part_len_rows()
    }

    /// Scratch values the group needs in a workspace.
    pub(crate) fn scratch_len(&self) -> usize {
        self.part_len() * self.parts.len()
    }

    /// Whether the group has several parts (threads may share it).
    pub(crate) fn splits(&self) -> bool {
        self.parts.len() > 1
    }

    /// Runs the group: `values` is the workspace's values (laid out at `offsets`), `scratch`
    /// the group's scratch; the parts run on rayon's threads when `parallel`.
    pub(crate) fn run(
        &self,
        values: &mut [f64],
        scratch: &mut [f64],
        hoisted: &[Hoist],
        prog: &Program,
        offsets: &[usize],
        parallel: bool,
    ) {
        let part_len = self.part_len();
        let scratch = &mut scratch[..part_len * self.parts.len()];
        {
            let read: &[f64] = values;
            let job = |(p, s): (usize, &mut [f64])| self.run_part(read, s, self.parts[p]);
            if parallel && self.splits() {
                use rayon::prelude::*;
                scratch.par_chunks_mut(part_len).enumerate().for_each(job);
            } else {
                scratch.chunks_mut(part_len).enumerate().for_each(job);
            }
        }
        self.finish(values, scratch, part_len, hoisted, prog, offsets);
    }

    /// Combines the parts' accumulators in part order and writes escaping rows back.
    fn finish(
        &self,
        values: &mut [f64],
        scratch: &[f64],
        part_len: usize,
        hoisted: &[Hoist],
        prog: &Program,
        offsets: &[usize],
    ) {
        let acc_at = self.slots * TILE;
        for r in &self.reductions {
            let base = match r.kind {
                RedKind::Density(k) => {
                    hoisted_terms(values, &prog.instrs[k].op, &hoisted[k], prog, offsets, self.rows)
                }
                _ => 0.0,
            };
            for e in 0..r.len {
                let mut total = 0.0;
                for p in 0..self.parts.len() {
                    let a = &scratch[p * part_len + acc_at + r.acc + e * r.lanes..][..r.lanes];
                    total += if r.lanes == 8 { lanes8(a) } else { a[0] };
                }
                match r.kind {
                    RedKind::Set => values[r.out + e] = total,
                    RedKind::Add => values[r.out + e] += total,
                    RedKind::Density(_) => {
                        let t = base + total;
                        values[r.out] = if t.is_nan() { f64::NEG_INFINITY } else { t };
                    }
                }
            }
        }
        let esc_at = acc_at + self.acc_len;
        let most = self.part_len_rows();
        for (p, &(t0, t1)) in self.parts.iter().enumerate() {
            let rows = ((t1 - t0) * TILE).min(self.rows - t0 * TILE);
            for (e, &(_, off)) in self.escapes.iter().enumerate() {
                let from = &scratch[p * part_len + esc_at + e * most..][..rows];
                values[off + t0 * TILE..off + t0 * TILE + rows].copy_from_slice(from);
            }
        }
    }

    /// Rows of the longest part.
    fn part_len_rows(&self) -> usize {
        self.parts.iter().map(|&(a, b)| (b - a) * TILE).max().unwrap_or(0)
    }

    /// One part: its tiles in order, every member on each.
    fn run_part(&self, ws: &[f64], scratch: &mut [f64], (t0, t1): (usize, usize)) {
        let (tiles, rest) = scratch.split_at_mut(self.slots * TILE);
        let (acc, esc) = rest.split_at_mut(self.acc_len);
        acc.fill(0.0);
        for &(slot, o) in &self.fills {
            tiles[slot * TILE..(slot + 1) * TILE].fill(ws[o]);
        }
        let most = self.part_len_rows();
        for t in t0..t1 {
            let r0 = t * TILE;
            let w = TILE.min(self.rows - r0);
            for m in &self.members {
                self.member(m, ws, tiles, acc, t, r0, w);
            }
            for (e, &(slot, _)) in self.escapes.iter().enumerate() {
                let at = e * most + (t - t0) * TILE;
                esc[at..at + w].copy_from_slice(&tiles[slot * TILE..slot * TILE + w]);
            }
        }
    }

    /// One member on one tile (rows `r0..r0 + w`; the tile buffers of row values are zero past
    /// `w`, those of filled scalars hold the scalar on every row).
    #[allow(clippy::too_many_arguments)]
    #[inline]
    fn member(
        &self,
        m: &Member,
        ws: &[f64],
        tiles: &mut [f64],
        acc: &mut [f64],
        t: usize,
        r0: usize,
        w: usize,
    ) {
        match m {
            Member::Unary { op, a, out } => {
                let (lo, hi) = tiles.split_at_mut(out * TILE);
                let y = &mut hi[..TILE];
                match arg(*a, lo, ws, r0, w) {
                    Arg::Rows(x) => y[..w].iter_mut().zip(x).for_each(|(y, &x)| *y = op.apply(x)),
                    Arg::Scalar(x) => y[..w].fill(op.apply(x)),
                }
                y[w..].fill(0.0);
            }
            Member::Pow { a, c, out } => {
                let (lo, hi) = tiles.split_at_mut(out * TILE);
                let y = &mut hi[..TILE];
                match arg(*a, lo, ws, r0, w) {
                    Arg::Rows(x) => y[..w].iter_mut().zip(x).for_each(|(y, &x)| *y = x.powf(*c)),
                    Arg::Scalar(x) => y[..w].fill(x.powf(*c)),
                }
                y[w..].fill(0.0);
            }
            Member::Binary { op, a, b, out } => {
                let (lo, hi) = tiles.split_at_mut(out * TILE);
                let y = &mut hi[..TILE];
                binary(*op, arg(*a, lo, ws, r0, w), arg(*b, lo, ws, r0, w), &mut y[..w]);
                y[w..].fill(0.0);
            }
            Member::Broadcast { a, out } => {
                let y = &mut tiles[out * TILE..(out + 1) * TILE];
                y[..w].fill(ws[*a]);
                y[w..].fill(0.0);
            }
            Member::Gather { src, index, out } => {
                let ix = &self.indices[*index][r0..r0 + w];
                let y = &mut tiles[out * TILE..(out + 1) * TILE];
                y[..w].iter_mut().zip(ix).for_each(|(y, &k)| *y = ws[src + k as usize]);
                y[w..].fill(0.0);
            }
            Member::MatVec { mat, v, c, out } => {
                let xt = &self.mats[*mat][t * c * TILE..(t + 1) * c * TILE];
                let y: &mut [f64; TILE] =
                    (&mut tiles[out * TILE..(out + 1) * TILE]).try_into().expect("tile");
                matvec_tile(xt, &ws[*v..*v + c], y);
                y[w..].fill(0.0);
            }
            Member::MatTVec { mat, g, c, acc: at } => {
                let src_g = *g;
                let xt = &self.mats[*mat][t * c * TILE..(t + 1) * c * TILE];
                let own;
                let g = match *g {
                    Src::Tile(s) => full(&tiles[s * TILE..]),
                    Src::Rows(o) if w == TILE => full(&ws[o + r0..]),
                    _ => None,
                };
                let g = match g {
                    Some(g) => g,
                    None => {
                        own = tile_of(src_g, tiles, ws, r0, w);
                        &own
                    }
                };
                mattvec_tile(xt, g, &mut acc[*at..*at + 8 * c]);
            }
            Member::Sum { a, acc: at } => {
                acc[*at] += match arg(*a, tiles, ws, r0, w) {
                    Arg::Rows(x) => super::exec::block_sum(x),
                    Arg::Scalar(x) => x * w as f64,
                };
            }
            Member::ScatterAdd { src, bins, acc: at } => {
                let bin = &self.bins[*bins][r0..r0 + w];
                match arg(*src, tiles, ws, r0, w) {
                    Arg::Rows(x) => x.iter().zip(bin).for_each(|(&x, &b)| acc[at + b as usize] += x),
                    Arg::Scalar(x) => bin.iter().for_each(|&b| acc[at + b as usize] += x),
                }
            }
            Member::Lpdf { kind, args, scalar, partials, grads, lps, acc: at, kernel } => {
                let mode = Mode::of(*kernel, partials.iter().any(Option::is_some));
                let tile = Tile { ws, r0, w, at: *at, mode, grads: *grads, lps: *lps, scalar: *scalar };
                with_family!(*kind, F => tile.density_any::<F>(args, partials, tiles, acc));
            }
        }
    }
}

/// The first [`TILE`] values of `x`, if it has that many.
#[inline]
fn full(x: &[f64]) -> Option<&[f64; TILE]> {
    x.get(..TILE)?.try_into().ok()
}

/// [`full`], mutably.
#[inline]
fn full_mut(x: &mut [f64]) -> Option<&mut [f64; TILE]> {
    x.get_mut(..TILE)?.try_into().ok()
}

/// A row argument on one tile (or an elementwise operand of the plain path).
pub(crate) enum Arg<'a> {
    Rows(&'a [f64]),
    Scalar(f64),
}

impl<'a> Arg<'a> {
    /// `v` as rows when it has `n` elements, else its first element broadcast.
    #[inline]
    pub(crate) fn broadcast(v: &'a [f64], n: usize) -> Arg<'a> {
        if v.len() == n { Arg::Rows(v) } else { Arg::Scalar(v[0]) }
    }
}

/// `src`'s rows `r0..r0 + w` (tile buffers from `tiles`).
#[inline]
fn arg<'a>(src: Src, tiles: &'a [f64], ws: &'a [f64], r0: usize, w: usize) -> Arg<'a> {
    match src {
        Src::Tile(s) => Arg::Rows(&tiles[s * TILE..s * TILE + w]),
        Src::Rows(o) => Arg::Rows(&ws[o + r0..o + r0 + w]),
        Src::Scalar(o) => Arg::Scalar(ws[o]),
    }
}

/// `src` on one tile as a full, zero-padded tile.
#[inline]
fn tile_of(src: Src, tiles: &[f64], ws: &[f64], r0: usize, w: usize) -> [f64; TILE] {
    let mut out = [0.0; TILE];
    match arg(src, tiles, ws, r0, w) {
        Arg::Rows(x) => out[..w].copy_from_slice(x),
        Arg::Scalar(x) => out[..w].fill(x),
    }
    out
}

/// `y = a op b` elementwise, scalars broadcast (the row groups' and the plain path's loop).
/// Long rows (except powers, whose `powf` calls do not vectorise) go through [`binary_wide`],
/// compiled for the host's vector units.
#[inline]
pub(crate) fn binary(op: BinOp, a: Arg, b: Arg, y: &mut [f64]) {
    if y.len() >= TILE && op != BinOp::Pow { binary_wide(op, a, b, y) } else { binary_any(op, a, b, y) }
}

/// [`binary_any`] compiled for AVX-512 and AVX2 besides the baseline (no fused multiply-adds:
/// every target gives the same bits).
#[multiversion(targets("x86_64+avx512f+avx512dq+avx512vl+avx2+fma", "x86_64+avx2+fma"))]
fn binary_wide(op: BinOp, a: Arg, b: Arg, y: &mut [f64]) {
    binary_any(op, a, b, y)
}

/// The elementwise loop of [`binary`].
#[inline(always)]
fn binary_any(op: BinOp, a: Arg, b: Arg, y: &mut [f64]) {
    macro_rules! each {
        ($f:expr) => {
            match (a, b) {
                (Arg::Rows(a), Arg::Rows(b)) => {
                    y.iter_mut().zip(a).zip(b).for_each(|((y, &a), &b)| *y = $f(a, b))
                }
                (Arg::Rows(a), Arg::Scalar(b)) => y.iter_mut().zip(a).for_each(|(y, &a)| *y = $f(a, b)),
                (Arg::Scalar(a), Arg::Rows(b)) => y.iter_mut().zip(b).for_each(|(y, &b)| *y = $f(a, b)),
                (Arg::Scalar(a), Arg::Scalar(b)) => y.fill($f(a, b)),
            }
        };
    }
    match op {
        BinOp::Add => each!(|x: f64, y: f64| x + y),
        BinOp::Sub => each!(|x: f64, y: f64| x - y),
        BinOp::Mul => each!(|x: f64, y: f64| x * y),
        BinOp::Div => each!(|x: f64, y: f64| x / y),
        BinOp::Pow => each!(|x: f64, y: f64| x.powf(y)),
    }
}

/// One density on one tile: where its rows are and what it computes.
struct Tile<'a> {
    ws: &'a [f64],
    r0: usize,
    w: usize,
    /// The total's accumulator.
    at: usize,
    mode: Mode,
    /// First of the partials' tile buffers.
    grads: usize,
    /// The element log densities' tile buffer.
    lps: usize,
    /// Bit `j`: argument `j` is a scalar (its tile buffer holds it on every row).
    scalar: u32,
}

impl Tile<'_> {
    /// [`Tile::density`] for the argument count. Never inlined: every family's density inlined
    /// into [`RowGroup::run_part`] made LLVM set up their stack buffers' addresses (thousands
    /// of instructions) on every member of every tile.
    #[inline(never)]
    fn density_any<F: crate::model::Family>(
        &self,
        args: &[Src],
        partials: &[Option<Partial>],
        tiles: &mut [f64],
        acc: &mut [f64],
    ) {
        match args.len() {
            1 => self.density::<F, 1>(args, partials, tiles, acc),
            2 => self.density::<F, 2>(args, partials, tiles, acc),
            3 => self.density::<F, 3>(args, partials, tiles, acc),
            4 => self.density::<F, 4>(args, partials, tiles, acc),
            5 => self.density::<F, 5>(args, partials, tiles, acc),
            6 => self.density::<F, 6>(args, partials, tiles, acc),
            7 => self.density::<F, 7>(args, partials, tiles, acc),
            _ => self.density::<F, { super::exec::MAX_ARGS }>(args, partials, tiles, acc),
        }
    }

    /// The density's total into its accumulator, the partials into its tile buffers (zero past
    /// the tile's rows), scalar partials summed into theirs. Arguments are read in place: tile
    /// buffers (scalars from the slots filled once per part) and the workspace's rows, past the
    /// tile's last row too where the workspace goes on; rows are copied only at its end.
    #[inline]
    fn density<F: crate::model::Family, const K: usize>(
        &self,
        args: &[Src],
        partials: &[Option<Partial>],
        tiles: &mut [f64],
        acc: &mut [f64],
    ) {
        let w = self.w;
        // Tile buffers in slot order: arguments made in the group and filled scalars, then the
        // partials, then the log densities.
        let (lo, hi) = tiles.split_at_mut(self.grads * TILE);
        let (grads, rest) = hi.split_at_mut(K * TILE);
        let Some(lps) = rest.get_mut((self.lps - self.grads - K) * TILE..).and_then(full_mut) else { return };
        let (grads, _) = grads.as_chunks_mut::<TILE>();
        let Ok(grads) = <&mut [[f64; TILE]; K]>::try_from(grads) else { return };
        // Workspace rows are read in place, past the tile's rows too where the workspace goes on
        // (the element loop reads only the first `w`); copied only at the workspace's end.
        let place = |j: usize| match args.get(j) {
            Some(Src::Tile(s)) => full(&lo[s * TILE..]),
            Some(Src::Rows(o)) => self.ws.get(o + self.r0..).and_then(full),
            _ => None,
        };
        let own = (!(0..K).all(|j| place(j).is_some())).then(|| {
            let mut own = Box::new([[0.0f64; TILE]; K]);
            for (col, a) in own.iter_mut().zip(args) {
                match *a {
                    Src::Rows(o) => col[..w].copy_from_slice(&self.ws[o + self.r0..o + self.r0 + w]),
                    Src::Scalar(o) => col[..w].fill(self.ws[o]),
                    Src::Tile(_) => {}
                }
            }
            own
        });
        static ZERO: [f64; TILE] = [0.0; TILE];
        let cols: [&[f64; TILE]; K] =
            std::array::from_fn(|j| place(j).or_else(|| own.as_deref().map(|o| &o[j])).unwrap_or(&ZERO));
        let mode = self.mode.sharing::<F>(|j| self.scalar & (1 << (1 + j)) != 0);
        density_tile::<F, K, TILE>(&cols, grads, lps, w, mode);
        acc[self.at] += super::exec::block_sum(&lps[..w]);
        if w < TILE {
            grads.iter_mut().for_each(|g| g[w..].fill(0.0));
        }
        for (j, p) in partials.iter().enumerate() {
            if let Some(Partial::Acc(a)) = p {
                acc[*a] += super::exec::block_sum(&grads[j][..w]);
            }
        }
    }
}

/// What a density tile computes.
#[derive(Clone, Copy, PartialEq)]
pub(crate) enum Mode {
    /// The log density only.
    Value,
    /// Log density and partials.
    Grad,
    /// The kernel (normaliser hoisted) and its partials.
    Kernel,
    /// [`Mode::Kernel`] where every parameter the normaliser reads is the same for every
    /// element: [`Family::kernel_shared`](crate::model::Family::kernel_shared) once, from the
    /// first element.
    KernelShared,
}

impl Mode {
    /// The mode of a density whose normaliser is hoisted (`kernel`) and which has some partial
    /// to write (`grad`).
    #[inline]
    pub(crate) fn of(kernel: bool, grad: bool) -> Mode {
        match (kernel, grad) {
            (true, _) => Mode::Kernel,
            (false, true) => Mode::Grad,
            (false, false) => Mode::Value,
        }
    }

    /// `self`, or [`Mode::KernelShared`] for a kernel whose normaliser reads only parameters
    /// that are one value broadcast (`scalar(j)` for parameter `j`).
    #[inline]
    pub(crate) fn sharing<F: crate::model::Family>(self, scalar: impl Fn(usize) -> bool) -> Mode {
        if self == Mode::Kernel && F::NORMALIZER_PARAMS.iter().all(|&j| scalar(j)) {
            Mode::KernelShared
        } else {
            self
        }
    }
}

/// The density's element loop on one tile, compiled for the host's vector units.
#[inline]
pub(crate) fn density_tile<F: crate::model::Family, const K: usize, const N: usize>(
    cols: &[&[f64; N]; K],
    grads: &mut [[f64; N]; K],
    lps: &mut [f64; N],
    w: usize,
    mode: Mode,
) {
    if mode == Mode::KernelShared {
        density_shared::<F, K, N>(cols, grads, &mut lps[..w]);
    } else {
        density_modes::<F, K, N>(cols, grads, lps, w, mode);
    }
}

/// [`density_tile`] in the modes that read every element's parameters ([`Mode::KernelShared`]
/// falls back to the per-element kernel here; [`density_tile`] sends it to [`density_shared`]).
/// The shared kernel has its own function: a third loop here left the logistic regression's
/// `BernoulliLogit` loop 1.3× slower (code generation, measured).
#[multiversion(targets("x86_64+avx512f+avx512dq+avx512vl+avx2+fma", "x86_64+avx2+fma"))]
fn density_modes<F: crate::model::Family, const K: usize, const N: usize>(
    cols: &[&[f64; N]; K],
    grads: &mut [[f64; N]; K],
    lps: &mut [f64; N],
    w: usize,
    mode: Mode,
) {
    let lps = &mut lps[..w];
    match mode {
        Mode::Value => {
            for (t, lp) in lps.iter_mut().enumerate() {
                let mut x = [0.0; K];
                for j in 0..K {
                    x[j] = cols[j][t];
                }
                *lp = F::lpdf(x[0], &x[1..]);
            }
        }
        Mode::Grad | Mode::Kernel | Mode::KernelShared => {
            for (t, lp) in lps.iter_mut().enumerate() {
                let mut x = [0.0; K];
                let mut g = [0.0; K];
                for j in 0..K {
                    x[j] = cols[j][t];
                }
                *lp = if mode == Mode::Grad {
                    F::lpdf_grad(x[0], &x[1..], &mut g)
                } else {
                    F::kernel_grad(x[0], &x[1..], &mut g)
                };
                for j in 0..K {
                    grads[j][t] = g[j];
                }
            }
        }
    }
}

/// [`density_tile`]'s kernels and partials with the normaliser's parameters taken from the
/// first element (see [`Mode::KernelShared`]).
#[multiversion(targets("x86_64+avx512f+avx512dq+avx512vl+avx2+fma", "x86_64+avx2+fma"))]
fn density_shared<F: crate::model::Family, const K: usize, const N: usize>(
    cols: &[&[f64; N]; K],
    grads: &mut [[f64; N]; K],
    lps: &mut [f64],
) {
    let mut p = [0.0; K];
    for j in 1..K {
        p[j] = cols[j][0];
    }
    let shared = F::kernel_shared(&p[1..]);
    for (t, lp) in lps.iter_mut().enumerate() {
        let mut x = [0.0; K];
        let mut g = [0.0; K];
        for j in 0..K {
            x[j] = cols[j][t];
        }
        *lp = F::kernel_grad_shared(x[0], &x[1..], &shared, &mut g);
        for j in 0..K {
            grads[j][t] = g[j];
        }
    }
}

/// `y = X_t v` for one tile (`xt`: the tile's eight panels of eight rows, each panel column
/// by column: row `8q + k`, column `j` at `(q·c + j)·8 + k`).
#[multiversion(targets("x86_64+avx512f+avx512dq+avx512vl+avx2+fma", "x86_64+avx2+fma"))]
fn matvec_tile(xt: &[f64], v: &[f64], y: &mut [f64; TILE]) {
    let c = v.len();
    let (xt, _) = xt.as_chunks::<8>();
    if xt.len() < 8 * c {
        return;
    }
    // Eight panels of exactly `c` columns: indexing them by `j < c` needs no bounds checks.
    let panels: [&[[f64; 8]]; 8] = std::array::from_fn(|q| &xt[q * c..(q + 1) * c]);
    let mut acc = [[0.0f64; 8]; 8];
    for (j, &vj) in v.iter().enumerate() {
        for (a, panel) in acc.iter_mut().zip(&panels) {
            let x = &panel[j];
            for k in 0..8 {
                a[k] += x[k] * vj;
            }
        }
    }
    for (q, a) in acc.iter().enumerate() {
        y[8 * q..8 * q + 8].copy_from_slice(a);
    }
}

/// `acc[j·8 + k] += Σ_q X[8q + k, j] g[8q + k]` for one tile (layout as for [`matvec_tile`]):
/// eight lanes per output, the tile's eight panels summed as a tree.
#[multiversion(targets("x86_64+avx512f+avx512dq+avx512vl+avx2+fma", "x86_64+avx2+fma"))]
fn mattvec_tile(xt: &[f64], g: &[f64; TILE], acc: &mut [f64]) {
    let (acc, _) = acc.as_chunks_mut::<8>();
    let c = acc.len();
    let (g, _) = g.as_chunks::<8>();
    let (xt, _) = xt.as_chunks::<8>();
    for (j, a) in acc.iter_mut().enumerate() {
        let mut p = [[0.0f64; 8]; 8];
        for q in 0..8 {
            let x = &xt[q * c + j];
            for k in 0..8 {
                p[q][k] = x[k] * g[q][k];
            }
        }
        for k in 0..8 {
            a[k] += ((p[0][k] + p[1][k]) + (p[2][k] + p[3][k])) + ((p[4][k] + p[5][k]) + (p[6][k] + p[7][k]));
        }
        // Keeps the loop over columns a loop: vectorised across columns instead (gathers at
        // stride c), it ran 4× slower. The fence emits no instruction.
        std::sync::atomic::compiler_fence(std::sync::atomic::Ordering::SeqCst);
    }
}

/// Eight lanes summed as a tree.
#[inline]
fn lanes8(a: &[f64]) -> f64 {
    ((a[0] + a[1]) + (a[2] + a[3])) + ((a[4] + a[5]) + (a[6] + a[7]))
}

/// A density's normaliser terms evaluated once (see [`Hoist`]): its share of the total, with
/// the scalar partials' shares written into the workspace first.
fn hoisted_terms(
    values: &mut [f64],
    op: &Op,
    hoisted: &Hoist,
    prog: &Program,
    offsets: &[usize],
    rows: usize,
) -> f64 {
    let Op::Lpdf { kind, args, partials } = op else { return 0.0 };
    // Scalar partials start from zero (their per-row shares are added after).
    for p in partials.iter().flatten() {
        if prog.lens[*p] == 1 && rows > 1 {
            values[offsets[*p]] = 0.0;
        }
    }
    let k = args.len();
    let (mut at, mut out) = ([0usize; super::exec::MAX_ARGS], [usize::MAX; super::exec::MAX_ARGS]);
    for j in 0..k {
        at[j] = offsets[args[j]];
        out[j] = partials[j].map_or(usize::MAX, |p| offsets[p]);
    }
    with_family!(*kind, F => super::exec::hoisted_share::<F>(values, hoisted, &at[..k], &out[..k], rows))
}

#[cfg(test)]
mod tests {
    use rand::SeedableRng;

    use super::*;
    use crate::backend::cpu::exec::MAX_ARGS;
    use crate::model::DistKind;

    /// Every scalar family's shared kernel (its normaliser's parameters read once, from the
    /// first row) gives the same bits as its per-element kernel, at each example parameter set
    /// and a tile of draws, with the other real and positive parameters varying by row.
    #[test]
    fn shared_kernels_give_the_same_bits() {
        use crate::model::dist::Domain;
        let mut rng = rand::rngs::StdRng::seed_from_u64(7);
        for &kind in DistKind::SCALAR {
            let shared = kind.normalizer_params();
            for p in kind.examples() {
                let x: Vec<f64> = (0..TILE).map(|_| kind.sample(p, &mut rng)).collect();
                let mut cols = [[0.0; TILE]; MAX_ARGS];
                cols[0].copy_from_slice(&x);
                for (j, &v) in p.iter().enumerate() {
                    let varies = !shared.contains(&j);
                    for (t, c) in cols[1 + j].iter_mut().enumerate() {
                        let r = t as f64 / TILE as f64;
                        *c = match kind.params()[j].1 {
                            Domain::Real if varies => v + 0.5 * r,
                            Domain::Positive if varies => v * (1.0 + 0.5 * r),
                            _ => v,
                        };
                    }
                }
                let refs: [&[f64; TILE]; MAX_ARGS] = std::array::from_fn(|j| &cols[j]);
                let run = |mode: Mode| {
                    let mut grads = [[0.0; TILE]; MAX_ARGS];
                    let mut lps = [0.0; TILE];
                    with_family!(kind, F => density_tile::<F, MAX_ARGS, TILE>(&refs, &mut grads, &mut lps, TILE - 3, mode));
                    (lps, grads)
                };
                let (a, b) = (run(Mode::Kernel), run(Mode::KernelShared));
                let bits = |v: &[f64]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
                assert_eq!(bits(&a.0), bits(&b.0), "{kind:?} at {p:?}: kernels");
                for j in 0..MAX_ARGS {
                    assert_eq!(bits(&a.1[j]), bits(&b.1[j]), "{kind:?} at {p:?}: partial {j}");
                }
            }
        }
    }
}
