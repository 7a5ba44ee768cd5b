//! Bijectors onto sets of vectors: the simplex (additive log-ratio), the Cholesky factor of a
//! correlation matrix (Stan's construction) and vectors summing to zero (PyMC's
//! `ZeroSumTransform`), whose lengths differ from their unconstrained coordinates', and
//! increasing vectors (PyMC's `ordered`). The compiler evaluates them
//! with `Op::Bijector`; each part (forward, log-Jacobian, and the two adjoints) is written
//! here once for the CPU and once as WGSL.

use serde::{Deserialize, Serialize};

/// `ln 2`.
const LN_2: f64 = std::f64::consts::LN_2;

/// A bijector from `R^m` onto a constrained set of `n` values.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum VecBijector {
    /// Rows of `k` positive values summing to one from rows of `k − 1` reals:
    /// `x = softmax([u, 0])` (the additive log-ratio transform), `ln|J| = Σ ln xᵢ`.
    Simplex {
        /// Categories per simplex.
        k: usize,
    },
    /// A `k × k` Cholesky factor of a correlation matrix (row by row) from `k(k − 1)/2` reals:
    /// `zᵢⱼ = tanh(u)` are canonical partial correlations, `Lᵢⱼ = zᵢⱼ wᵢⱼ`, `Lᵢᵢ = wᵢᵢ`, with
    /// `wᵢ₀ = 1`, `wᵢ,ⱼ₊₁ = wᵢⱼ sech(uᵢⱼ)` (Stan's `cholesky_corr_constrain`).
    CorrCholesky {
        /// Matrix side.
        k: usize,
    },
    /// Rows of `k` increasing values from rows of `k` reals: `x₀ = u₀`, `xᵢ = xᵢ₋₁ + exp(uᵢ)`
    /// (PyMC's and Stan's `ordered`), `ln|J| = Σᵢ₌₁ uᵢ`.
    Ordered {
        /// Values per increasing row.
        k: usize,
    },
    /// Rows of `k` values summing to zero from rows of `k − 1` reals (PyMC's
    /// `ZeroSumTransform`): with `s = Σu`, `xᵢ = uᵢ − s/(√k + k)` for `i < k − 1` and
    /// `x_{k−1} = −s/√k`. The map is an isometry onto the zero-sum plane (orthonormal
    /// columns), so `ln|J| = 0` against that plane's own measure, the one a zero-sum density
    /// is written in.
    ZeroSum {
        /// Values per zero-sum row.
        k: usize,
    },
}

/// What an `Op::Bijector` computes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BijectorPart {
    /// The constrained values from `u`.
    Forward,
    /// `ln |det J(u)|` (a scalar).
    LogJac,
    /// `J(u)ᵀ g` for the adjoint `g` of the constrained values.
    Vjp,
    /// `∇ ln |det J(u)|`.
    LogJacGrad,
}

/// `sech(u)` without overflow.
fn sech(u: f64) -> f64 {
    let e = (-u.abs()).exp();
    2.0 * e / (1.0 + e * e)
}

/// `ln sech(u)` without overflow.
fn ln_sech(u: f64) -> f64 {
    let a = u.abs();
    -a - (-2.0 * a).exp().ln_1p() + LN_2
}

impl VecBijector {
    /// Unconstrained length for `n` constrained values.
    pub fn unconstrained_len(self, n: usize) -> usize {
        match self {
            VecBijector::Simplex { k } | VecBijector::ZeroSum { k } => n / k * (k - 1),
            VecBijector::CorrCholesky { k } => k * (k - 1) / 2,
            VecBijector::Ordered { .. } => n,
        }
    }

    /// Constrained length for `m` unconstrained values.
    pub fn constrained_len(self, m: usize) -> usize {
        match self {
            VecBijector::Simplex { k } | VecBijector::ZeroSum { k } => m / (k - 1) * k,
            VecBijector::CorrCholesky { k } => k * k,
            VecBijector::Ordered { .. } => m,
        }
    }

    /// Suffix of the unconstrained coordinates' names (`p_simplex__`).
    pub fn suffix(self) -> &'static str {
        match self {
            VecBijector::Simplex { .. } => "_simplex__",
            VecBijector::CorrCholesky { .. } => "_cholesky_corr__",
            VecBijector::Ordered { .. } => "_ordered__",
            VecBijector::ZeroSum { .. } => "_zerosum__",
        }
    }

    /// Evaluates `part` at `u` (with the adjoint `g` for [`BijectorPart::Vjp`]) into `out`.
    pub fn eval(self, part: BijectorPart, u: &[f64], g: &[f64], out: &mut [f64]) {
        match self {
            VecBijector::Simplex { k } => simplex(k, part, u, g, out),
            VecBijector::CorrCholesky { k } => corr_cholesky(k, part, u, g, out),
            VecBijector::Ordered { k } => ordered(k, part, u, g, out),
            VecBijector::ZeroSum { k } => zero_sum(k, part, u, g, out),
        }
    }

    /// The unconstrained values of constrained `x`, or `None` outside the set.
    pub fn inverse(self, x: &[f64]) -> Option<Vec<f64>> {
        let mut u = Vec::with_capacity(self.unconstrained_len(x.len()));
        match self {
            VecBijector::Simplex { k } => {
                for row in x.chunks(k) {
                    let last = row[k - 1].ln();
                    u.extend(row[..k - 1].iter().map(|v| v.ln() - last));
                }
            }
            VecBijector::CorrCholesky { k } => {
                for i in 0..k {
                    let mut w = 1.0f64;
                    for j in 0..i {
                        let z = x[i * k + j] / w;
                        if z.is_nan() || z.abs() >= 1.0 {
                            return None;
                        }
                        u.push(z.atanh());
                        w *= (1.0 - z * z).sqrt();
                    }
                }
            }
            // A step that is not positive has no logarithm: outside the set.
            VecBijector::Ordered { k } => {
                for row in x.chunks(k) {
                    u.push(row[0]);
                    u.extend(row.windows(2).map(|p| (p[1] - p[0]).ln()));
                }
            }
            // The last value gives the sum `s = −√k x_{k−1}`; a row that does not sum to zero
            // (beyond rounding) is outside the set.
            VecBijector::ZeroSum { k } => {
                for row in x.chunks(k) {
                    if zero_sum_excess(row).is_some() {
                        return None;
                    }
                    let rk = (k as f64).sqrt();
                    let norm = -row[k - 1] * rk / (rk + k as f64);
                    u.extend(row[..k - 1].iter().map(|v| v + norm));
                }
            }
        }
        u.iter().all(|v| v.is_finite()).then_some(u)
    }

    /// WGSL statements for `part` on `n` constrained values: `u(k)` and `g(k)` give elements
    /// of the arguments, `out` is the array (or, for the log-Jacobian, the `real` variable)
    /// written, `tag` makes local names unique.
    pub fn wgsl(
        self,
        part: BijectorPart,
        n: usize,
        u: &dyn Fn(&str) -> String,
        g: &dyn Fn(&str) -> String,
        out: &str,
        tag: &str,
    ) -> String {
        match self {
            VecBijector::Simplex { k } => simplex_wgsl(k, n / k, part, u, g, out, tag),
            VecBijector::CorrCholesky { k } => corr_cholesky_wgsl(k, part, u, g, out, tag),
            VecBijector::Ordered { k } => ordered_wgsl(k, n / k, part, u, g, out, tag),
            VecBijector::ZeroSum { k } => zero_sum_wgsl(k, n / k, part, u, g, out, tag),
        }
    }
}

/// `ln Σ exp([row, 0])`.
fn lse_with_zero(row: &[f64]) -> f64 {
    let m = row.iter().copied().fold(0.0f64, f64::max);
    m + ((-m).exp() + row.iter().map(|&v| (v - m).exp()).sum::<f64>()).ln()
}

fn simplex(k: usize, part: BijectorPart, u: &[f64], g: &[f64], out: &mut [f64]) {
    let m = k - 1;
    if part == BijectorPart::LogJac {
        out[0] = u.chunks(m).map(|row| row.iter().sum::<f64>() - k as f64 * lse_with_zero(row)).sum();
        return;
    }
    for (r, row) in u.chunks(m).enumerate() {
        let lse = lse_with_zero(row);
        let x = |i: usize| if i < m { (row[i] - lse).exp() } else { (-lse).exp() };
        match part {
            BijectorPart::Forward => (0..k).for_each(|i| out[r * k + i] = x(i)),
            BijectorPart::Vjp => {
                let gr = &g[r * k..(r + 1) * k];
                let sg: f64 = (0..k).map(|i| gr[i] * x(i)).sum();
                (0..m).for_each(|j| out[r * m + j] = x(j) * (gr[j] - sg));
            }
            BijectorPart::LogJacGrad => (0..m).for_each(|j| out[r * m + j] = 1.0 - k as f64 * x(j)),
            BijectorPart::LogJac => unreachable!("handled above"),
        }
    }
}

fn corr_cholesky(k: usize, part: BijectorPart, u: &[f64], g: &[f64], out: &mut [f64]) {
    match part {
        BijectorPart::Forward => {
            out.fill(0.0);
            let mut idx = 0;
            for i in 0..k {
                let mut w = 1.0;
                for j in 0..i {
                    out[i * k + j] = u[idx].tanh() * w;
                    w *= sech(u[idx]);
                    idx += 1;
                }
                out[i * k + i] = w;
            }
        }
        BijectorPart::LogJac => {
            let mut lj = 0.0;
            let mut idx = 0;
            for i in 0..k {
                for t in 0..i {
                    lj += (i + 1 - t) as f64 * ln_sech(u[idx]);
                    idx += 1;
                }
            }
            out[0] = lj;
        }
        BijectorPart::LogJacGrad => {
            let mut idx = 0;
            for i in 0..k {
                for t in 0..i {
                    out[idx] = -((i + 1 - t) as f64) * u[idx].tanh();
                    idx += 1;
                }
            }
        }
        BijectorPart::Vjp => {
            let (mut w, mut s, mut z) = (vec![0.0; k], vec![0.0; k], vec![0.0; k]);
            for i in 1..k {
                let base = i * (i - 1) / 2;
                w[0] = 1.0;
                for t in 0..i {
                    z[t] = u[base + t].tanh();
                    s[t] = sech(u[base + t]);
                    if t + 1 < k {
                        w[t + 1] = w[t] * s[t];
                    }
                }
                let mut gw = g[i * k + i];
                for t in (0..i).rev() {
                    // w[t+1] = w[t]·s[t], then L[i][t] = z[t]·w[t].
                    let gs = gw * w[t];
                    let gl = g[i * k + t];
                    let gz = gl * w[t];
                    out[base + t] = gz * s[t] * s[t] - gs * s[t] * z[t];
                    gw = gw * s[t] + gl * z[t];
                }
            }
        }
    }
}

/// The first position `i` where `v[i + 1] ≤ v[i]`: where `v` stops increasing (`None` when it
/// increases throughout; a NaN compares as increasing).
pub(crate) fn first_not_increasing(v: &[f64]) -> Option<usize> {
    v.windows(2).position(|w| w[1] <= w[0])
}

/// `xᵢ = u₀ + Σ_{1≤t≤i} e^{uₜ}` per row: `∂xᵢ/∂u₀ = 1` and `∂xᵢ/∂uⱼ = e^{uⱼ}` for `1 ≤ j ≤ i`,
/// so the adjoint of `uⱼ` is `e^{uⱼ}` (1 for `j = 0`) times the sum of `g` from `j` on.
fn ordered(k: usize, part: BijectorPart, u: &[f64], g: &[f64], out: &mut [f64]) {
    if part == BijectorPart::LogJac {
        out[0] = u.chunks(k).map(|row| row[1..].iter().sum::<f64>()).sum();
        return;
    }
    for (r, row) in u.chunks(k).enumerate() {
        let at = r * k;
        match part {
            BijectorPart::Forward => {
                let mut x = row[0];
                out[at] = x;
                for i in 1..k {
                    x += row[i].exp();
                    out[at + i] = x;
                }
            }
            BijectorPart::Vjp => {
                let mut tail = 0.0;
                for i in (0..k).rev() {
                    tail += g[at + i];
                    out[at + i] = if i == 0 { tail } else { row[i].exp() * tail };
                }
            }
            BijectorPart::LogJacGrad => (0..k).for_each(|i| out[at + i] = if i == 0 { 0.0 } else { 1.0 }),
            BijectorPart::LogJac => unreachable!("handled above"),
        }
    }
}

fn ordered_wgsl(
    k: usize,
    n_rows: usize,
    part: BijectorPart,
    u: &dyn Fn(&str) -> String,
    g: &dyn Fn(&str) -> String,
    out: &str,
    tag: &str,
) -> String {
    let (r, i, q, acc) = (format!("r_{tag}"), format!("i_{tag}"), format!("q_{tag}"), format!("acc_{tag}"));
    // Positions of the row's first element and of element `i`.
    let (a0, ai) = (format!("{r} * {k}u"), format!("{r} * {k}u + {i}"));
    let (u0, ui, g0, gi) = (u(&a0), u(&ai), g(&a0), g(&ai));
    let body = match part {
        BijectorPart::Forward => format!(
            "var {acc} = {u0}; {out}[{a0}] = {acc}; \
             for (var {i} = 1u; {i} < {k}u; {i}++) {{ {acc} += exp_r({ui}); {out}[{ai}] = {acc}; }}"
        ),
        BijectorPart::LogJac => format!("for (var {i} = 1u; {i} < {k}u; {i}++) {{ {out} += {ui}; }}"),
        BijectorPart::Vjp => format!(
            "var {acc} = real(0.0); for (var {q} = 1u; {q} < {k}u; {q}++) {{ let {i} = {k}u - {q}; \
             {acc} += {gi}; {out}[{ai}] = exp_r({ui}) * {acc}; }} {out}[{a0}] = {acc} + {g0};"
        ),
        BijectorPart::LogJacGrad => format!(
            "{out}[{a0}] = real(0.0); for (var {i} = 1u; {i} < {k}u; {i}++) {{ {out}[{ai}] = real(1.0); }}"
        ),
    };
    per_row(part, out, &r, n_rows, &body)
}

/// Largest `|Σx|` of a zero-sum row accepted by the inverse (and in data), relative to the
/// row's length and largest value: rounding, not a broken constraint.
const ZERO_SUM_TOLERANCE: f64 = 1e-9;

/// The sum of a row meant to sum to zero, where it exceeds rounding
/// ([`ZERO_SUM_TOLERANCE`] of its length times its largest value, at least 1).
pub(crate) fn zero_sum_excess(row: &[f64]) -> Option<f64> {
    let scale = row.iter().fold(1.0f64, |m, v| m.max(v.abs()));
    let s: f64 = row.iter().sum();
    (s.is_nan() || s.abs() > ZERO_SUM_TOLERANCE * row.len() as f64 * scale).then_some(s)
}

/// With `s = Σu`, `c = 1/(√k + k)`: `xᵢ = uᵢ − cs` (`i < k − 1`), `x_{k−1} = −s/√k`; its
/// adjoint is `(Jᵀg)ⱼ = gⱼ − c Σ_{i<k−1} gᵢ − g_{k−1}/√k`; the log-Jacobian and its gradient
/// are 0.
fn zero_sum(k: usize, part: BijectorPart, u: &[f64], g: &[f64], out: &mut [f64]) {
    let m = k - 1;
    let rk = (k as f64).sqrt();
    let c = 1.0 / (rk + k as f64);
    match part {
        BijectorPart::LogJac => out[0] = 0.0,
        BijectorPart::LogJacGrad => out.fill(0.0),
        BijectorPart::Forward => {
            for (row, x) in u.chunks(m).zip(out.chunks_mut(k)) {
                let s: f64 = row.iter().sum();
                x[..m].iter_mut().zip(row).for_each(|(x, v)| *x = v - c * s);
                x[m] = -s / rk;
            }
        }
        BijectorPart::Vjp => {
            for (gr, o) in g.chunks(k).zip(out.chunks_mut(m)) {
                let t = c * gr[..m].iter().sum::<f64>() + gr[m] / rk;
                o.iter_mut().zip(gr).for_each(|(o, gi)| *o = gi - t);
            }
        }
    }
}

fn zero_sum_wgsl(
    k: usize,
    n_rows: usize,
    part: BijectorPart,
    u: &dyn Fn(&str) -> String,
    g: &dyn Fn(&str) -> String,
    out: &str,
    tag: &str,
) -> String {
    let m = k - 1;
    let (r, i, acc) = (format!("r_{tag}"), format!("i_{tag}"), format!("acc_{tag}"));
    let rk = (k as f64).sqrt();
    let (rk, c) = (format!("real({rk:?})"), format!("real({:?})", 1.0 / (rk + k as f64)));
    // Element `i` of the row among the unconstrained (`m` per row) and the constrained (`k`).
    let (ui, xi, xl) =
        (format!("{r} * {m}u + {i}"), format!("{r} * {k}u + {i}"), format!("{r} * {k}u + {m}u"));
    let body = match part {
        BijectorPart::LogJac => return format!("{out} = real(0.0);"),
        BijectorPart::LogJacGrad => {
            return format!("for (var {i} = 0u; {i} < {}u; {i}++) {{ {out}[{i}] = real(0.0); }}", n_rows * m);
        }
        BijectorPart::Forward => format!(
            "var {acc} = real(0.0); for (var {i} = 0u; {i} < {m}u; {i}++) {{ {acc} += {u_i}; }} \
             for (var {i} = 0u; {i} < {m}u; {i}++) {{ {out}[{xi}] = {u_i} - {c} * {acc}; }} \
             {out}[{xl}] = -{acc} / {rk};",
            u_i = u(&ui),
        ),
        BijectorPart::Vjp => format!(
            "var {acc} = real(0.0); for (var {i} = 0u; {i} < {m}u; {i}++) {{ {acc} += {g_i}; }} \
             {acc} = {c} * {acc} + {g_l} / {rk}; \
             for (var {i} = 0u; {i} < {m}u; {i}++) {{ {out}[{ui}] = {g_i} - {acc}; }}",
            g_i = g(&xi),
            g_l = g(&xl),
        ),
    };
    per_row(part, out, &r, n_rows, &body)
}

/// `body` run for each of `n_rows` rows (row index `r`), the log-Jacobian's sum zeroed first.
fn per_row(part: BijectorPart, out: &str, r: &str, n_rows: usize, body: &str) -> String {
    let init = if part == BijectorPart::LogJac { format!("{out} = real(0.0); ") } else { String::new() };
    format!("{{ {init}for (var {r} = 0u; {r} < {n_rows}u; {r}++) {{ {body} }} }}")
}

fn simplex_wgsl(
    k: usize,
    n_rows: usize,
    part: BijectorPart,
    u: &dyn Fn(&str) -> String,
    g: &dyn Fn(&str) -> String,
    out: &str,
    tag: &str,
) -> String {
    let m = k - 1;
    let (r, i, mx, s, lse) = (
        format!("r_{tag}"),
        format!("i_{tag}"),
        format!("mx_{tag}"),
        format!("s_{tag}"),
        format!("lse_{tag}"),
    );
    let ui = u(&format!("{r} * {m}u + {i}"));
    let lse_code = format!(
        "var {mx} = real(0.0); for (var {i} = 0u; {i} < {m}u; {i}++) {{ {mx} = max({mx}, {ui}); }} \
         var {s} = exp_r(-{mx}); for (var {i} = 0u; {i} < {m}u; {i}++) {{ {s} += exp_r({ui} - {mx}); }} \
         let {lse} = {mx} + ln_r({s});"
    );
    let body = match part {
        BijectorPart::Forward => format!(
            "{lse_code} for (var {i} = 0u; {i} < {m}u; {i}++) {{ {out}[{r} * {k}u + {i}] = exp_r({ui} - {lse}); }} \
             {out}[{r} * {k}u + {m}u] = exp_r(-{lse});"
        ),
        BijectorPart::LogJac => format!(
            "{lse_code} var su = real(0.0); for (var {i} = 0u; {i} < {m}u; {i}++) {{ su += {ui}; }} \
             {out} += su - real({k}.0) * {lse};"
        ),
        BijectorPart::Vjp => {
            let gi = g(&format!("{r} * {k}u + {i}"));
            format!(
                "{lse_code} var sg = {glast} * exp_r(-{lse}); \
                 for (var {i} = 0u; {i} < {m}u; {i}++) {{ sg += {gi} * exp_r({ui} - {lse}); }} \
                 for (var {i} = 0u; {i} < {m}u; {i}++) {{ {out}[{r} * {m}u + {i}] = exp_r({ui} - {lse}) * ({gi} - sg); }}",
                glast = g(&format!("{r} * {k}u + {m}u")),
            )
        }
        BijectorPart::LogJacGrad => format!(
            "{lse_code} for (var {i} = 0u; {i} < {m}u; {i}++) {{ {out}[{r} * {m}u + {i}] = real(1.0) - real({k}.0) * exp_r({ui} - {lse}); }}"
        ),
    };
    per_row(part, out, &r, n_rows, &body)
}

fn corr_cholesky_wgsl(
    k: usize,
    part: BijectorPart,
    u: &dyn Fn(&str) -> String,
    g: &dyn Fn(&str) -> String,
    out: &str,
    tag: &str,
) -> String {
    let (i, t, idx) = (format!("i_{tag}"), format!("t_{tag}"), format!("idx_{tag}"));
    let ui = u(&idx);
    let rows = format!("var {idx} = 0u; for (var {i} = 0u; {i} < {k}u; {i}++)");
    match part {
        BijectorPart::Forward => format!(
            "{{ {rows} {{ var w = real(1.0); for (var {t} = 0u; {t} < {k}u; {t}++) {{ \
             if ({t} < {i}) {{ let uu = {ui}; {idx}++; {out}[{i} * {k}u + {t}] = tanh_r(uu) * w; w = w * sech_r(uu); }} \
             else if ({t} == {i}) {{ {out}[{i} * {k}u + {t}] = w; }} else {{ {out}[{i} * {k}u + {t}] = real(0.0); }} }} }} }}"
        ),
        BijectorPart::LogJac => format!(
            "{{ {out} = real(0.0); {rows} {{ for (var {t} = 0u; {t} < {i}; {t}++) {{ \
             {out} += real({i} + 1u - {t}) * ln_sech({ui}); {idx}++; }} }} }}"
        ),
        BijectorPart::LogJacGrad => format!(
            "{{ {rows} {{ for (var {t} = 0u; {t} < {i}; {t}++) {{ \
             {out}[{idx}] = -real({i} + 1u - {t}) * tanh_r({ui}); {idx}++; }} }} }}"
        ),
        BijectorPart::Vjp => {
            let ub = u(&format!("base + {t}"));
            format!(
                "{{ for (var {i} = 1u; {i} < {k}u; {i}++) {{ let base = ({i} * {i} - {i}) / 2u; \
                 var w: array<real, {k}>; var s: array<real, {k}>; var z: array<real, {k}>; w[0] = real(1.0); \
                 for (var {t} = 0u; {t} < {i}; {t}++) {{ let uu = {ub}; z[{t}] = tanh_r(uu); s[{t}] = sech_r(uu); \
                 if ({t} + 1u < {k}u) {{ w[{t} + 1u] = w[{t}] * s[{t}]; }} }} \
                 var gw = {gii}; for (var q = 0u; q < {i}; q++) {{ let tt = {i} - 1u - q; \
                 let gs = gw * w[tt]; let gl = {git}; let gz = gl * w[tt]; \
                 {out}[base + tt] = gz * s[tt] * s[tt] - gs * s[tt] * z[tt]; gw = gw * s[tt] + gl * z[tt]; }} }} }}",
                gii = g(&format!("{i} * {k}u + {i}")),
                git = g(&format!("{i} * {k}u + tt")),
            )
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `ln |det a|` of an `n × n` matrix by Gaussian elimination with partial pivoting.
    fn ln_abs_det(mut a: Vec<f64>, n: usize) -> f64 {
        let mut total = 0.0;
        for c in 0..n {
            let p = (c..n).max_by(|&i, &j| a[i * n + c].abs().total_cmp(&a[j * n + c].abs())).unwrap();
            for j in 0..n {
                a.swap(c * n + j, p * n + j);
            }
            let d = a[c * n + c];
            total += d.abs().ln();
            for i in c + 1..n {
                let f = a[i * n + c] / d;
                for j in c..n {
                    a[i * n + j] -= f * a[c * n + j];
                }
            }
        }
        total
    }

    /// The free coordinates of a constrained value: all but the last of each simplex or
    /// zero-sum row, the strictly lower triangle of a Cholesky factor, every ordered value.
    fn free_coords(b: VecBijector, x: &[f64]) -> Vec<f64> {
        match b {
            VecBijector::Simplex { k } | VecBijector::ZeroSum { k } => {
                x.chunks(k).flat_map(|r| r[..k - 1].to_vec()).collect()
            }
            VecBijector::CorrCholesky { k } => {
                (0..k).flat_map(|i| (0..i).map(move |j| x[i * k + j])).collect()
            }
            VecBijector::Ordered { .. } => x.to_vec(),
        }
    }

    /// The log-Jacobian against the free coordinates' measure, where it differs from the
    /// bijector's own: a zero-sum row's first `k − 1` values are its plane's coordinates
    /// scaled by `√k` in volume (`ln|det(I − 11ᵀ/(√k + k))| = −ln √k`).
    fn free_coords_log_jac(b: VecBijector, n: usize) -> f64 {
        match b {
            VecBijector::ZeroSum { k } => -((n / k) as f64) * 0.5 * (k as f64).ln(),
            _ => 0.0,
        }
    }

    fn cases() -> Vec<(VecBijector, Vec<f64>)> {
        let u = |m: usize| (0..m).map(|i| ((i * 37 % 11) as f64 - 5.0) * 0.31).collect::<Vec<_>>();
        vec![
            (VecBijector::Simplex { k: 2 }, u(1)),
            (VecBijector::Simplex { k: 4 }, u(6)),
            (VecBijector::CorrCholesky { k: 2 }, u(1)),
            (VecBijector::CorrCholesky { k: 4 }, u(6)),
            (VecBijector::CorrCholesky { k: 5 }, u(10)),
            (VecBijector::Ordered { k: 1 }, u(2)),
            (VecBijector::Ordered { k: 4 }, u(4)),
            (VecBijector::Ordered { k: 3 }, u(6)),
            (VecBijector::ZeroSum { k: 2 }, u(1)),
            (VecBijector::ZeroSum { k: 5 }, u(4)),
            (VecBijector::ZeroSum { k: 3 }, u(6)),
        ]
    }

    #[test]
    fn log_jacobian_is_the_log_determinant_and_inverse_round_trips() {
        for (b, u) in cases() {
            let m = u.len();
            let n = b.constrained_len(m);
            let fwd = |u: &[f64]| {
                let mut x = vec![0.0; n];
                b.eval(BijectorPart::Forward, u, &[], &mut x);
                x
            };
            let x = fwd(&u);
            // Numerical Jacobian of the free coordinates (fourth-order differences).
            let mut jac = vec![0.0; m * m];
            for c in 0..m {
                let h = 1e-4;
                let at = |d: f64| {
                    let mut v = u.clone();
                    v[c] += d;
                    free_coords(b, &fwd(&v))
                };
                let (p1, m1, p2, m2) = (at(h), at(-h), at(2.0 * h), at(-2.0 * h));
                for r in 0..m {
                    jac[r * m + c] = (8.0 * (p1[r] - m1[r]) - (p2[r] - m2[r])) / (12.0 * h);
                }
            }
            let mut lj = [0.0];
            b.eval(BijectorPart::LogJac, &u, &[], &mut lj);
            let want = ln_abs_det(jac, m) - free_coords_log_jac(b, n);
            assert!((lj[0] - want).abs() < 1e-7, "{b:?}: log-Jacobian {} vs ln|det J| {want}", lj[0]);
            let back = b.inverse(&x).expect("inside the set");
            for (a, w) in back.iter().zip(&u) {
                assert!((a - w).abs() < 1e-10, "{b:?}: inverse {back:?} vs {u:?}");
            }
        }
    }

    #[test]
    fn adjoints_match_finite_differences() {
        for (b, u) in cases() {
            let (m, n) = (u.len(), b.constrained_len(u.len()));
            let g: Vec<f64> = (0..n).map(|i| (i as f64 * 0.7).sin()).collect();
            let mut vjp = vec![0.0; m];
            b.eval(BijectorPart::Vjp, &u, &g, &mut vjp);
            let mut ljg = vec![0.0; m];
            b.eval(BijectorPart::LogJacGrad, &u, &[], &mut ljg);
            for c in 0..m {
                let h = 1e-5;
                let f = |d: f64| {
                    let mut v = u.clone();
                    v[c] += d;
                    let mut x = vec![0.0; n];
                    b.eval(BijectorPart::Forward, &v, &[], &mut x);
                    let mut lj = [0.0];
                    b.eval(BijectorPart::LogJac, &v, &[], &mut lj);
                    (x.iter().zip(&g).map(|(a, b)| a * b).sum::<f64>(), lj[0])
                };
                let (p, q) = (f(h), f(-h));
                let (dg, dj) = ((p.0 - q.0) / (2.0 * h), (p.1 - q.1) / (2.0 * h));
                assert!((dg - vjp[c]).abs() < 1e-7, "{b:?} vjp[{c}]: {} vs {dg}", vjp[c]);
                assert!((dj - ljg[c]).abs() < 1e-7, "{b:?} log-Jacobian gradient[{c}]: {} vs {dj}", ljg[c]);
            }
        }
    }
}
