//! Categorical with a row of probabilities per observation.

use rand::Rng;

use super::categorical::{category, draw};
use super::vector::{VecCode, VecFamily};
use super::{Domain, Support};

/// Categorical distribution over `{0, …, K − 1}` with a row of probabilities per observation:
/// observation `i` has `p[i, ·]`, the `i`-th row of an `n × K` matrix given row by row (PyMC's
/// `Categorical(p=p)` with `p` of shape `(n, K)`). Each row is normalised to sum to one.
/// Observed only.
///
/// [`Categorical::new`](super::Categorical::new) builds it when `p` is a matrix of one row
/// per observation (such as each observation's group's row, `p.at(rows).reshape(n, k)`); in a
/// model file, `dist = "categorical"` with `p` a matrix does the same.
///
/// `log p(y) = Σᵢ [ln p[i, yᵢ] − ln Σₖ p[i, k]]`.
#[derive(Clone, Copy, Debug)]
pub struct CategoricalRows;

/// The rules both per-row categorical forms share: observed only, `n` observations, each a
/// category `0..K` with `K = len(p) / n ≥ 2`; `probabilities`: the parameter is the
/// probabilities, whose zeros data must not observe and whose rows must not be all zero.
macro_rules! categorical_row_rules {
    ($probabilities:literal) => {
        fn value_len(_lens: &[usize], _consts: &[Option<&[f64]>]) -> Result<usize, String> {
            Err("a categorical is observed only: the data give its length".into())
        }

        fn accepts_len(n: usize, lens: &[usize], _consts: &[Option<&[f64]>]) -> Result<(), String> {
            super::categorical_rows::row_width(n, lens[0]).map(|_| ())
        }

        fn check_value(x: &[f64], lens: &[usize], p: &[Option<&[f64]>]) -> Result<(), (usize, String)> {
            let weights = if $probabilities { p[0] } else { None };
            super::categorical_rows::check_rows(x, lens, weights)
        }
    };
}
pub(crate) use categorical_row_rules;

/// `K`, the categories of each of `n` rows in `len` values, when `len = n·K` with `K ≥ 2`.
pub(crate) fn row_width(n: usize, len: usize) -> Result<usize, String> {
    if n == 0 {
        return Err("no observations".into());
    }
    match len / n {
        k if k >= 2 && k * n == len => Ok(k),
        _ => Err(format!(
            "the parameter has {len} values for {n} observations: it needs one row of K ≥ 2 \
             categories per observation"
        )),
    }
}

/// Observations are categories `0..K`, and, where the probabilities are constant (`weights`),
/// no row is all zero and no observation has probability zero.
pub(crate) fn check_rows(x: &[f64], lens: &[usize], weights: Option<&[f64]>) -> Result<(), (usize, String)> {
    let k = row_width(x.len(), lens[0]).map_err(|e| (0, e))?;
    if let Some(i) = x.iter().position(|&y| category(y, k).is_none()) {
        return Err((i, format!("categories are whole numbers in 0..{k}")));
    }
    let Some(w) = weights else { return Ok(()) };
    for (i, (&y, row)) in x.iter().zip(w.chunks(k)).enumerate() {
        if row.iter().all(|&v| v == 0.0) {
            return Err((i, format!("row {i} of `p` is all zero")));
        }
        if row[y as usize] == 0.0 {
            return Err((i, format!("category {y} has probability 0 in row {i} of `p`")));
        }
    }
    Ok(())
}

impl VecFamily for CategoricalRows {
    const NAME: &'static str = "categorical_rows";
    const PARAMS: &'static [(&'static str, Domain)] = &[("p", Domain::NonNegative)];
    const SUPPORT: Support = Support::Category;

    categorical_row_rules!(true);

    fn lpdf_grad(args: &[&[f64]], grads: Option<&mut [Vec<f64>]>) -> f64 {
        let (y, p) = (args[0], args[1]);
        let Ok(k) = row_width(y.len(), p.len()) else { return f64::NAN };
        let mut grads = grads;
        let mut lp = 0.0;
        for (i, (&yi, row)) in y.iter().zip(p.chunks(k)).enumerate() {
            let Some(c) = category(yi, k) else { return f64::NAN };
            let total: f64 = row.iter().sum();
            lp += row[c].ln() - total.ln();
            if let Some(g) = grads.as_deref_mut() {
                let g = &mut g[1][i * k..(i + 1) * k];
                g.iter_mut().for_each(|v| *v -= 1.0 / total);
                g[c] += 1.0 / row[c];
            }
        }
        lp
    }

    fn wgsl(c: &VecCode) -> String {
        let (n, k) = (c.lens[0], c.lens[1] / c.lens[0]);
        let (lp, tot, i, j, b) = (c.n("lp"), c.n("tot"), c.n("i"), c.n("j"), c.n("b"));
        let p = |e: &str| (c.arg)(1, e);
        format!(
            "{{ var {lp} = real(0.0); for (var {i} = 0u; {i} < {n}u; {i}++) {{ let {b} = {i} * {k}u; \
             var {tot} = real(0.0); for (var {j} = 0u; {j} < {k}u; {j}++) {{ {tot} += {pj}; }} \
             let y = {b} + min(u32({y}), {km1}u); {lp} += ln_r({py}) - ln_r({tot}); {gy} {gk} }} \
             {out} = {lp}; }}",
            pj = p(&format!("{b} + {j}")),
            y = c.a(0, &i),
            km1 = k - 1,
            py = p("y"),
            gy = c.add(1, "y", &format!("real(1.0) / {}", p("y"))),
            gk = if c.wants(1) {
                format!(
                    "for (var {j} = 0u; {j} < {k}u; {j}++) {{ {} }}",
                    c.add(1, &format!("{b} + {j}"), &format!("-real(1.0) / {tot}"))
                )
            } else {
                String::new()
            },
            out = c.out,
        )
    }

    fn sample<R: Rng + ?Sized>(p: &[&[f64]], out: &mut [f64], rng: &mut R) {
        let k = p[0].len() / out.len().max(1);
        out.iter_mut().zip(p[0].chunks(k.max(1))).for_each(|(v, row)| *v = draw(row, rng));
    }
}
