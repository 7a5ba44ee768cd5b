//! Lower-triangular products: `L z` for a `K × K` lower-triangular `L` (row by row) and each
//! `K`-row of `z` — the non-centred multivariate normal's `mu + L z` — and the two adjoints;
//! the Cholesky factor of a matrix built from parameters (a Gaussian process's covariance)
//! and its adjoint; on the CPU and as WGSL (`Op::Tril`).

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
    /// `[a]` → the lower Cholesky factor `L` of the symmetric `K × K` matrix whose lower
    /// triangle `a` holds (its upper triangle is not read), zero above the diagonal; NaN
    /// wherever a leading minor is not positive definite.
    Cholesky,
    /// `[l, g]` → the adjoint of [`TrilPart::Cholesky`]'s lower triangle, given its factor `l`
    /// and the adjoint `g` of the factor's lower triangle: `Φ(S + Sᵀ)` with
    /// `S = L⁻ᵀ Φ(Lᵀ G) L⁻¹`, where `Φ` keeps the lower triangle and halves the diagonal
    /// (Murray 2016, for a factor read from the lower triangle only); zero above the diagonal.
    CholeskyAdjoint,
}

/// Side `K` of the triangle: from the first argument (`Mul`, `MulT`, `Cholesky`,
/// `CholeskyAdjoint`) or from the output (`Outer`).
pub fn side(part: TrilPart, first_len: usize, out_len: usize) -> usize {
    let n = if part == TrilPart::Outer { out_len } else { first_len };
    (n as f64).sqrt().round() as usize
}

/// Element operations of `part` with arguments and output of these lengths, as the GPU
/// mapping counts an instruction every lane computes whole: a product its longest operand
/// (as every such instruction), a Cholesky factor and its adjoint their loop iterations
/// (`K³/3` and `4K³/3`, about twice their multiply-adds).
pub fn work(part: TrilPart, lens: (usize, usize, usize)) -> usize {
    let (a_len, b_len, out_len) = lens;
    let k = side(part, a_len, out_len);
    let cube = k.saturating_mul(k).saturating_mul(k);
    match part {
        TrilPart::Mul | TrilPart::MulT | TrilPart::Outer => a_len.max(b_len).max(out_len),
        TrilPart::Cholesky => cube / 3,
        TrilPart::CholeskyAdjoint => cube.saturating_mul(4) / 3,
    }
}

/// Evaluates `part` into `out` (`b` is empty for [`TrilPart::Cholesky`]).
pub fn eval(part: TrilPart, a: &[f64], b: &[f64], out: &mut [f64]) {
    let k = side(part, a.len(), out.len());
    if k == 0 {
        return out.fill(f64::NAN);
    }
    match part {
        TrilPart::Cholesky => cholesky(k, a, out),
        TrilPart::CholeskyAdjoint => cholesky_adjoint(k, a, b, out),
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

/// The lower Cholesky factor of the matrix whose lower triangle `a` holds, into `out`
/// (Cholesky–Crout, column by column; the loops of the WGSL form).
fn cholesky(k: usize, a: &[f64], out: &mut [f64]) {
    for j in 0..k {
        let d = a[j * k + j] - (0..j).map(|t| out[j * k + t] * out[j * k + t]).sum::<f64>();
        let ljj = if d > 0.0 { d.sqrt() } else { f64::NAN };
        out[j * k + j] = ljj;
        for i in j + 1..k {
            let s = a[i * k + j] - (0..j).map(|t| out[i * k + t] * out[j * k + t]).sum::<f64>();
            out[i * k + j] = s / ljj;
            out[j * k + i] = 0.0;
        }
    }
}

/// [`TrilPart::CholeskyAdjoint`] in place in `out`: `P = Φ(Lᵀ G)`, then `L⁻ᵀ P` by back
/// substitution column by column, then `(L⁻ᵀ P) L⁻¹` row by row, then `Φ(S + Sᵀ)`.
fn cholesky_adjoint(k: usize, l: &[f64], g: &[f64], out: &mut [f64]) {
    for i in 0..k {
        for j in 0..k {
            let p: f64 = if j <= i { (i..k).map(|t| l[t * k + i] * g[t * k + j]).sum() } else { 0.0 };
            out[i * k + j] = if i == j { 0.5 * p } else { p };
        }
    }
    for c in 0..k {
        for i in (0..k).rev() {
            let s = out[i * k + c] - (i + 1..k).map(|t| l[t * k + i] * out[t * k + c]).sum::<f64>();
            out[i * k + c] = s / l[i * k + i];
        }
    }
    for r in 0..k {
        for j in (0..k).rev() {
            let s = out[r * k + j] - (j + 1..k).map(|t| out[r * k + t] * l[t * k + j]).sum::<f64>();
            out[r * k + j] = s / l[j * k + j];
        }
    }
    for i in 0..k {
        for j in 0..i {
            out[i * k + j] += out[j * k + i];
            out[j * k + i] = 0.0;
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
    let (t, d, c) = (format!("t_{tag}"), format!("d_{tag}"), format!("c_{tag}"));
    match part {
        TrilPart::Cholesky => format!(
            "for (var {j} = 0u; {j} < {k}u; {j}++) {{ var {d} = {ajj}; \
             for (var {t} = 0u; {t} < {j}; {t}++) {{ {d} -= {out}[{jt}] * {out}[{jt}]; }} \
             let {s} = select(nan_r(), sqrt({d}), {d} > real(0.0)); {out}[{jj}] = {s}; \
             for (var {i} = {j} + 1u; {i} < {k}u; {i}++) {{ var {c} = {aij}; \
             for (var {t} = 0u; {t} < {j}; {t}++) {{ {c} -= {out}[{it}] * {out}[{jt}]; }} \
             {out}[{ij}] = {c} / {s}; {out}[{ji}] = real(0.0); }} }}",
            ajj = a(&at(&j, &j)),
            aij = a(&at(&i, &j)),
            jt = at(&j, &t),
            it = at(&i, &t),
            jj = at(&j, &j),
            ij = at(&i, &j),
            ji = at(&j, &i),
        ),
        TrilPart::CholeskyAdjoint => {
            let l = |x: &str, y: &str| a(&at(x, y));
            let o = |x: &str, y: &str| format!("{out}[{}]", at(x, y));
            format!(
                "for (var {i} = 0u; {i} < {k}u; {i}++) {{ for (var {j} = 0u; {j} < {k}u; {j}++) {{ var {s} = real(0.0); \
                 if ({j} <= {i}) {{ for (var {t} = {i}; {t} < {k}u; {t}++) {{ {s} += {lti} * {gtj}; }} }} \
                 if ({i} == {j}) {{ {s} *= real(0.5); }} {oij} = {s}; }} }} \
                 for (var {c} = 0u; {c} < {k}u; {c}++) {{ for (var {r} = {k}u; {r} > 0u; {r}--) {{ let {i} = {r} - 1u; \
                 var {s} = {oic}; for (var {t} = {i} + 1u; {t} < {k}u; {t}++) {{ {s} -= {lti} * {otc}; }} {oic} = {s} / {lii}; }} }} \
                 for (var {c} = 0u; {c} < {k}u; {c}++) {{ for (var {r} = {k}u; {r} > 0u; {r}--) {{ let {j} = {r} - 1u; \
                 var {s} = {ocj}; for (var {t} = {j} + 1u; {t} < {k}u; {t}++) {{ {s} -= {oct} * {ltj}; }} {ocj} = {s} / {ljj}; }} }} \
                 for (var {i} = 0u; {i} < {k}u; {i}++) {{ for (var {j} = 0u; {j} < {i}; {j}++) {{ {oij} += {oji}; {oji} = real(0.0); }} }}",
                lti = l(&t, &i),
                gtj = b(&at(&t, &j)),
                oij = o(&i, &j),
                oji = o(&j, &i),
                oic = o(&i, &c),
                otc = o(&t, &c),
                lii = l(&i, &i),
                ocj = o(&c, &j),
                oct = o(&c, &t),
                ltj = l(&t, &j),
                ljj = l(&j, &j),
            )
        }
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

#[cfg(test)]
mod tests {
    use super::*;

    /// A symmetric positive-definite 4 × 4 matrix, row by row.
    fn spd() -> Vec<f64> {
        let b = [0.9, -0.3, 0.4, 0.2, 0.1, 1.1, -0.5, 0.3, 0.6, 0.2, 0.8, -0.4, -0.2, 0.5, 0.3, 1.2];
        let mut a = vec![0.0; 16];
        for i in 0..4 {
            for j in 0..4 {
                a[i * 4 + j] =
                    (0..4).map(|t| b[i * 4 + t] * b[j * 4 + t]).sum::<f64>() + if i == j { 0.5 } else { 0.0 };
            }
        }
        a
    }

    #[test]
    fn the_factor_reproduces_the_matrix_and_reads_its_lower_triangle() {
        let a = spd();
        let mut l = vec![f64::NAN; 16];
        eval(TrilPart::Cholesky, &a, &[], &mut l);
        for i in 0..4 {
            for j in 0..4 {
                let llt: f64 = (0..4).map(|t| l[i * 4 + t] * l[j * 4 + t]).sum();
                assert!((llt - a[i * 4 + j]).abs() < 1e-14, "[{i}, {j}]");
                if j > i {
                    assert_eq!(l[i * 4 + j], 0.0);
                }
            }
        }
        // The upper triangle is not read; a matrix that is not positive definite gives NaN.
        let mut upper = a.clone();
        upper[1] = 99.0;
        let mut l2 = vec![0.0; 16];
        eval(TrilPart::Cholesky, &upper, &[], &mut l2);
        assert_eq!(l, l2);
        let mut bad = a.clone();
        bad[10] = -1.0;
        eval(TrilPart::Cholesky, &bad, &[], &mut l2);
        assert!(l2[10].is_nan() && l2[15].is_nan() && l2[0] == l[0]);
    }

    #[test]
    fn the_adjoint_is_the_derivative_of_the_lower_triangle() {
        // f(A) = Σ W ∘ chol(A) for a lower-triangular W; its derivative in each lower element
        // of A by central differences against the adjoint.
        let a = spd();
        let w: Vec<f64> = (0..16)
            .map(|i| if i % 4 <= i / 4 { 0.3 + 0.17 * i as f64 - 0.02 * (i * i) as f64 } else { 0.0 })
            .collect();
        let f = |a: &[f64]| {
            let mut l = vec![0.0; 16];
            eval(TrilPart::Cholesky, a, &[], &mut l);
            l.iter().zip(&w).map(|(x, y)| x * y).sum::<f64>()
        };
        let mut l = vec![0.0; 16];
        eval(TrilPart::Cholesky, &a, &[], &mut l);
        let mut g = vec![f64::NAN; 16];
        eval(TrilPart::CholeskyAdjoint, &l, &w, &mut g);
        for i in 0..4 {
            for j in 0..4 {
                if j > i {
                    assert_eq!(g[i * 4 + j], 0.0);
                    continue;
                }
                let h = 1e-6;
                let (mut p, mut m) = (a.clone(), a.clone());
                p[i * 4 + j] += h;
                m[i * 4 + j] -= h;
                let fd = (f(&p) - f(&m)) / (2.0 * h);
                assert!((fd - g[i * 4 + j]).abs() < 1e-8, "[{i}, {j}]: {} vs {fd}", g[i * 4 + j]);
            }
        }
    }
}
