//! Categorical(softmax(logits)).

use rand::Rng;

use super::categorical::{categorical_rules, category, draw};
use super::vector::{VecCode, VecFamily};
use super::{Domain, Support};

/// Categorical distribution over `{0, …, K − 1}` with probabilities `softmax(logits)`, built
/// by [`Categorical::logit`](super::Categorical::logit). Observed only.
///
/// `log p(y) = l_y − ln Σₖ exp(lₖ)`.
#[derive(Clone, Copy, Debug)]
pub struct CategoricalLogit;

/// `ln Σ exp(l)` without overflow; −∞ where every term is.
pub(crate) fn log_sum_exp(l: &[f64]) -> f64 {
    let m = l.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    if m == f64::NEG_INFINITY {
        return m;
    }
    m + l.iter().map(|&v| (v - m).exp()).sum::<f64>().ln()
}

impl VecFamily for CategoricalLogit {
    const NAME: &'static str = "categorical_logit";
    const PARAMS: &'static [(&'static str, Domain)] = &[("logits", Domain::Real)];
    const SUPPORT: Support = Support::Category;

    categorical_rules!(false);

    fn lpdf_grad(args: &[&[f64]], grads: Option<&mut [Vec<f64>]>) -> f64 {
        let (y, l) = (args[0], args[1]);
        let lse = log_sum_exp(l);
        let mut lp = -(y.len() as f64) * lse;
        let mut grads = grads;
        for &yi in y {
            let Some(c) = category(yi, l.len()) else { return f64::NAN };
            lp += l[c];
            if let Some(g) = grads.as_deref_mut() {
                g[1][c] += 1.0;
            }
        }
        if let Some(g) = grads {
            let n = y.len() as f64;
            g[1].iter_mut().zip(l).for_each(|(v, &lk)| *v -= n * (lk - lse).exp());
        }
        lp
    }

    fn wgsl(c: &VecCode) -> String {
        let (n, k) = (c.lens[0], c.lens[1]);
        let (lp, mx, s, lse, i) = (c.n("lp"), c.n("mx"), c.n("s"), c.n("lse"), c.n("i"));
        let l = |e: &str| (c.arg)(1, e);
        format!(
            "{{ var {mx} = {l0}; for (var {i} = 1u; {i} < {k}u; {i}++) {{ {mx} = max({mx}, {li}); }} \
             var {s} = real(0.0); for (var {i} = 0u; {i} < {k}u; {i}++) {{ {s} += exp_r({li} - {mx}); }} \
             let {lse} = {mx} + ln_r({s}); var {lp} = -real({n}.0) * {lse}; \
             for (var {i} = 0u; {i} < {n}u; {i}++) {{ let y = min(u32({y}), {km1}u); {lp} += {ly}; {gy} }} \
             {gk} {out} = {lp}; }}",
            l0 = l("0u"),
            li = l(&i),
            km1 = k - 1,
            y = c.a(0, &i),
            ly = l("y"),
            gy = c.add(1, "y", "real(1.0)"),
            gk = if c.wants(1) {
                format!(
                    "for (var {i} = 0u; {i} < {k}u; {i}++) {{ {} }}",
                    c.add(1, &i, &format!("-real({n}.0) * exp_r({} - {lse})", l(&i)))
                )
            } else {
                String::new()
            },
            out = c.out,
        )
    }

    fn sample<R: Rng + ?Sized>(p: &[&[f64]], out: &mut [f64], rng: &mut R) {
        let lse = log_sum_exp(p[0]);
        let probs: Vec<f64> = p[0].iter().map(|&l| (l - lse).exp()).collect();
        out.iter_mut().for_each(|v| *v = draw(&probs, rng));
    }
}
