//! Lower-triangular products: `L z` for a `K × K` lower-triangular `L` (row by row) and each
//! `K`-row of `z` — the non-centred multivariate normal's `mu + L z` — and the two adjoints,
//! on the CPU and as WGSL (`Op::Tril`).

use serde::{Deserialize, Serialize};

/// What an `Op::Tril` computes from its two arguments.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TrilPart {
    /// `[l, z]` → `out[bK + i] = Σ_{j ≤ i} l[iK + j] z[bK + j]`.
    Mul,
    /// `[l, g]` → `out[bK + j] = Σ_{i ≥ j} l[iK + j] g[bK + i]` (`Lᵀ g` per row; the adjoint
    /// of `z`).
    MulT,
    /// `[g, z]` → `out[iK + j] = Σ_b g[bK + i] z[bK + j]` for `j ≤ i`, 0 above (the adjoint of
    /// `l`).
    Outer,
}

/// Side `K` of the triangle: from `l` (`Mul`, `MulT`) or from the output (`Outer`).
pub fn side(part: TrilPart, first_len: usize, out_len: usize) -> usize {
    let n = if part == TrilPart::Outer { out_len } else { first_len };
    (n as f64).sqrt().round() as usize
}

/// Evaluates `part` into `out`.
pub fn eval(part: TrilPart, a: &[f64], b: &[f64], out: &mut [f64]) {
    let k = side(part, a.len(), out.len());
    if k == 0 {
        return out.fill(f64::NAN);
    }
    match part {
        TrilPart::Mul => {
            for (zb, ob) in b.chunks(k).zip(out.chunks_mut(k)) {
                for i in 0..k {
                    ob[i] = (0..=i).map(|j| a[i * k + j] * zb[j]).sum();
                }
            }
        }
        TrilPart::MulT => {
            for (gb, ob) in b.chunks(k).zip(out.chunks_mut(k)) {
                for j in 0..k {
                    ob[j] = (j..k).map(|i| a[i * k + j] * gb[i]).sum();
                }
            }
        }
        TrilPart::Outer => {
            out.fill(0.0);
            for (gb, zb) in a.chunks(k).zip(b.chunks(k)) {
                for i in 0..k {
                    for j in 0..=i {
                        out[i * k + j] += gb[i] * zb[j];
                    }
                }
            }
        }
    }
}

/// WGSL statements for `part`: `a(k)`, `b(k)` read the arguments, `out` is the array written;
/// `lens` are the lengths of the two arguments and of the output.
pub fn wgsl(
    part: TrilPart,
    lens: (usize, usize, usize),
    a: &dyn Fn(&str) -> String,
    b: &dyn Fn(&str) -> String,
    out: &str,
    tag: &str,
) -> String {
    let (a_len, b_len, out_len) = lens;
    let k = side(part, a_len, out_len);
    let rows = b_len / k.max(1);
    let (r, i, j, s) = (format!("r_{tag}"), format!("i_{tag}"), format!("j_{tag}"), format!("s_{tag}"));
    let at = |x: &str, y: &str| format!("{x} * {k}u + {y}");
    match part {
        TrilPart::Mul => format!(
            "for (var {r} = 0u; {r} < {rows}u; {r}++) {{ for (var {i} = 0u; {i} < {k}u; {i}++) {{ var {s} = real(0.0); \
             for (var {j} = 0u; {j} <= {i}; {j}++) {{ {s} += {l} * {z}; }} {out}[{o}] = {s}; }} }}",
            l = a(&at(&i, &j)),
            z = b(&at(&r, &j)),
            o = at(&r, &i),
        ),
        TrilPart::MulT => format!(
            "for (var {r} = 0u; {r} < {rows}u; {r}++) {{ for (var {j} = 0u; {j} < {k}u; {j}++) {{ var {s} = real(0.0); \
             for (var {i} = {j}; {i} < {k}u; {i}++) {{ {s} += {l} * {g}; }} {out}[{o}] = {s}; }} }}",
            l = a(&at(&i, &j)),
            g = b(&at(&r, &i)),
            o = at(&r, &j),
        ),
        TrilPart::Outer => format!(
            "for (var {i} = 0u; {i} < {k}u; {i}++) {{ for (var {j} = 0u; {j} < {k}u; {j}++) {{ var {s} = real(0.0); \
             if ({j} <= {i}) {{ for (var {r} = 0u; {r} < {rows}u; {r}++) {{ {s} += {g} * {z}; }} }} {out}[{o}] = {s}; }} }}",
            g = a(&at(&r, &i)),
            z = b(&at(&r, &j)),
            o = at(&i, &j),
        ),
    }
}
