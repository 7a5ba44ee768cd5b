//! Categorical(softmax(logits)) with a row of logits per observation: softmax regression.

use rand::Rng;

use super::categorical::{category, draw};
use super::categorical_logit::log_sum_exp;
use super::categorical_rows::{categorical_row_rules, row_width};
use super::vector::{VecCode, VecFamily};
use super::{Domain, Support};

/// Categorical distribution over `{0, …, K − 1}` with probabilities `softmax(logits[i, ·])`
/// for observation `i`: the `i`-th row of an `n × K` matrix of logits given row by row (PyMC's
/// `Categorical(logit_p=eta)` with `eta` of shape `(n, K)`: multinomial logistic regression).
/// Observed only.
///
/// [`Categorical::logit`](super::Categorical::logit) builds it when the logits are a matrix of
/// one row per observation, such as `alpha + x.matmul(beta, k)`; in a model file,
/// `dist = "categorical"` with `logits = "alpha + X @ beta"` (`beta` of `C·K` values) does the
/// same.
///
/// `log p(y) = Σᵢ [l[i, yᵢ] − ln Σₖ exp(l[i, k])]`.
///
/// ```
/// use exmc::prelude::*;
/// let mut m = Model::new();
/// let x = m.data_matrix("x", 3, 2, vec![1.0, 0.5, 1.0, -1.2, 1.0, 0.3])?;
/// let beta = m.rv_vec("beta", Normal::new(0, 1), 2 * 3)?;
/// m.observe("y", Categorical::logit(x.matmul(beta, 3)), &[2.0, 0.0, 1.0])?;
/// assert_eq!(m.nodes()[2].dist().unwrap().kind, DistKind::CategoricalLogitRows);
/// # Ok::<(), exmc::Error>(())
/// ```
#[derive(Clone, Copy, Debug)]
pub struct CategoricalLogitRows;

impl VecFamily for CategoricalLogitRows {
    const NAME: &'static str = "categorical_logit_rows";
    const PARAMS: &'static [(&'static str, Domain)] = &[("logits", Domain::Real)];
    const SUPPORT: Support = Support::Category;

    categorical_row_rules!(false);

    fn lpdf_grad(args: &[&[f64]], grads: Option<&mut [Vec<f64>]>) -> f64 {
        let (y, l) = (args[0], args[1]);
        let Ok(k) = row_width(y.len(), l.len()) else { return f64::NAN };
        let mut grads = grads;
        let mut lp = 0.0;
        let mut e = vec![0.0; k];
        for (i, (&yi, row)) in y.iter().zip(l.chunks(k)).enumerate() {
            let Some(c) = category(yi, k) else { return f64::NAN };
            // exp(l − max) once per element: the log-sum-exp and the softmax share it.
            let m = row.iter().copied().fold(f64::NEG_INFINITY, f64::max);
            e.iter_mut().zip(row).for_each(|(e, &lk)| *e = (lk - m).exp());
            let s: f64 = e.iter().sum();
            lp += row[c] - m - s.ln();
            if let Some(g) = grads.as_deref_mut() {
                let g = &mut g[1][i * k..(i + 1) * k];
                g.iter_mut().zip(&e).for_each(|(v, &ek)| *v -= ek / s);
                g[c] += 1.0;
            }
        }
        lp
    }

    fn wgsl(c: &VecCode) -> String {
        let (n, k) = (c.lens[0], c.lens[1] / c.lens[0]);
        let (lp, mx, s, lse, i, j, b) = (c.n("lp"), c.n("mx"), c.n("s"), c.n("lse"), c.n("i"), c.n("j"), c.n("b"));
        let l = |e: &str| (c.arg)(1, e);
        let lj = l(&format!("{b} + {j}"));
        format!(
            "{{ var {lp} = real(0.0); for (var {i} = 0u; {i} < {n}u; {i}++) {{ let {b} = {i} * {k}u; \
             var {mx} = {l0}; for (var {j} = 1u; {j} < {k}u; {j}++) {{ {mx} = max({mx}, {lj}); }} \
             var {s} = real(0.0); for (var {j} = 0u; {j} < {k}u; {j}++) {{ {s} += exp_r({lj} - {mx}); }} \
             let {lse} = {mx} + ln_r({s}); let y = {b} + min(u32({y}), {km1}u); {lp} += {ly} - {lse}; \
             {gy} {gk} }} {out} = {lp}; }}",
            l0 = l(&b),
            y = c.a(0, &i),
            km1 = k - 1,
            ly = l("y"),
            gy = c.add(1, "y", "real(1.0)"),
            gk = if c.wants(1) {
                format!(
                    "for (var {j} = 0u; {j} < {k}u; {j}++) {{ {} }}",
                    c.add(1, &format!("{b} + {j}"), &format!("-exp_r({lj} - {lse})"))
                )
            } else {
                String::new()
            },
            out = c.out,
        )
    }

    fn sample<R: Rng + ?Sized>(p: &[&[f64]], out: &mut [f64], rng: &mut R) {
        let k = (p[0].len() / out.len().max(1)).max(1);
        for (v, row) in out.iter_mut().zip(p[0].chunks(k)) {
            let lse = log_sum_exp(row);
            let probs: Vec<f64> = row.iter().map(|&l| (l - lse).exp()).collect();
            *v = draw(&probs, rng);
        }
    }
}
