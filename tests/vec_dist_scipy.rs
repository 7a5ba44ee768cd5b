//! Vector families against scipy (tests/data/vec_dist_oracle.json, made by
//! scripts/make_vec_dist_oracle.py): log densities at 24 points per family, analytic partials
//! of every argument against finite differences at the same points, and sampler moments
//! against closed forms.

use std::collections::HashMap;

use exmc::model::dist::{DistKind, Mixture};
use rand::SeedableRng;
use rand::rngs::StdRng;
use serde::Deserialize;

#[derive(Deserialize)]
struct Oracle {
    scipy: String,
    families: HashMap<String, Vec<Point>>,
}

#[derive(Deserialize)]
struct Point {
    x: Vec<f64>,
    params: Vec<Vec<f64>>,
    logp: f64,
}

fn oracle() -> Oracle {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/vec_dist_oracle.json");
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("reading {path}: {e}"));
    serde_json::from_str(&text).expect("vec_dist_oracle.json parses")
}

fn args(p: &Point) -> Vec<&[f64]> {
    std::iter::once(p.x.as_slice()).chain(p.params.iter().map(Vec::as_slice)).collect()
}

#[test]
fn log_densities_match_scipy() {
    let o = oracle();
    eprintln!("oracle from scipy {}", o.scipy);
    assert_eq!(o.families.len(), DistKind::VECTOR.len(), "one oracle section per vector family");
    for &kind in DistKind::VECTOR {
        let points = &o.families[kind.name()];
        assert!(points.len() >= 20, "{}: {} points", kind.name(), points.len());
        for (i, p) in points.iter().enumerate() {
            let lp = kind.vec_lpdf_grad(&args(p), None);
            let err = (lp - p.logp).abs() / p.logp.abs().max(1.0);
            assert!(err <= 1e-9, "{} point {i}: exmc {lp} scipy {} (rel err {err:e})", kind.name(), p.logp);
            // The same value when partials are requested.
            let mut g: Vec<Vec<f64>> = args(p).iter().map(|a| vec![0.0; a.len()]).collect();
            let lpg = kind.vec_lpdf_grad(&args(p), Some(&mut g));
            assert!((lpg - lp).abs() <= 1e-12 * lp.abs().max(1.0), "{} point {i}", kind.name());
            // The same value and partials from a data parameter in the form the compiled program
            // gives it (an adjacency matrix's packed graph).
            let mut prepared: Vec<Vec<f64>> = args(p).iter().map(|a| a.to_vec()).collect();
            for (j, arg) in prepared.iter_mut().enumerate().skip(1) {
                if let Some(form) = kind.vec_prepare(j - 1, arg) {
                    *arg = form.expect("the oracle's data fit");
                }
            }
            let views: Vec<&[f64]> = prepared.iter().map(Vec::as_slice).collect();
            let mut gp: Vec<Vec<f64>> = views.iter().map(|a| vec![0.0; a.len()]).collect();
            let lpp = kind.vec_lpdf_grad(&views, Some(&mut gp));
            assert!(
                (lpp - lp).abs() <= 1e-12 * lp.abs().max(1.0),
                "{} point {i}: prepared {lpp} vs {lp}",
                kind.name()
            );
            for (j, (a, b)) in gp.iter().zip(&g).enumerate() {
                if views[j].len() == args(p)[j].len() {
                    for (u, v) in a.iter().zip(b) {
                        assert!(
                            (u - v).abs() <= 1e-10 * v.abs().max(1.0),
                            "{} point {i} ∂/∂arg{j}",
                            kind.name()
                        );
                    }
                }
            }
        }
    }
}

/// Arguments that are data by construction (category numbers, counts and their trials, the
/// LKJ size, a data covariance, an adjacency matrix) have no partial to check.
fn differentiable(kind: DistKind, j: usize) -> bool {
    !matches!(
        (kind, j),
        (
            DistKind::Categorical
                | DistKind::CategoricalLogit
                | DistKind::CategoricalRows
                | DistKind::CategoricalLogitRows,
            0
        ) | (DistKind::LkjCholesky, 1)
            | (DistKind::MvNormalCov, 2)
            | (DistKind::OrderedLogistic | DistKind::OrderedProbit, 0)
            | (DistKind::Multinomial | DistKind::DirichletMultinomial, 0 | 1)
            | (DistKind::PoissonMixture | DistKind::NegativeBinomialMixture, 0)
            | (DistKind::Car, 2)
            | (DistKind::Icar, 1)
    )
}

#[test]
fn partials_match_finite_differences() {
    let o = oracle();
    for &kind in DistKind::VECTOR {
        for (i, p) in o.families[kind.name()].iter().enumerate() {
            let mut g: Vec<Vec<f64>> = args(p).iter().map(|a| vec![0.0; a.len()]).collect();
            kind.vec_lpdf_grad(&args(p), Some(&mut g));
            let scale = g.iter().flatten().fold(1.0f64, |m, v| m.max(v.abs()));
            for j in (0..g.len()).filter(|&j| differentiable(kind, j)) {
                for e in 0..g[j].len() {
                    let base = args(p)[j][e];
                    // A real parameter has no boundary near: a step of at least 1e-7, below
                    // which rounding in a sum of many terms swamps the difference.
                    let real = j > 0 && kind.params()[j - 1].1 == exmc::model::dist::Domain::Real;
                    // A Dirichlet-multinomial's density holds `lnΓ(A + n) − lnΓ(A)` of large
                    // totals, rounded to ~1e-12: a step of 1e-6 of a small concentration
                    // beside them turns that rounding into errors of 1e-5, so a longer step
                    // (truncation stays near 1e-16).
                    let rel = if kind == DistKind::DirichletMultinomial { 1e-4 } else { 1e-6 };
                    let h = rel * base.abs().max(if real { 0.1 } else { 1e-3 });
                    let at = |d: f64| {
                        let mut owned: Vec<Vec<f64>> = args(p).iter().map(|a| a.to_vec()).collect();
                        owned[j][e] = base + d;
                        let views: Vec<&[f64]> = owned.iter().map(Vec::as_slice).collect();
                        kind.vec_lpdf_grad(&views, None)
                    };
                    let fd = (8.0 * (at(h) - at(-h)) - (at(2.0 * h) - at(-2.0 * h))) / (12.0 * h);
                    let err = (fd - g[j][e]).abs() / scale;
                    assert!(
                        err <= 1e-6,
                        "{} point {i}: ∂/∂arg{j}[{e}] analytic {} fd {fd} (err {err:e})",
                        kind.name(),
                        g[j][e]
                    );
                }
            }
        }
    }
}

/// Mean and standard error of a sample.
fn mean_se(v: &[f64]) -> (f64, f64) {
    let n = v.len() as f64;
    let m = v.iter().sum::<f64>() / n;
    let var = v.iter().map(|x| (x - m) * (x - m)).sum::<f64>() / (n - 1.0);
    (m, (var / n).sqrt())
}

/// `draws` values of `kind` with parameters `p`, each of `n` elements.
fn draws(kind: DistKind, p: &[&[f64]], n: usize, count: usize, seed: u64) -> Vec<Vec<f64>> {
    let mut rng = StdRng::seed_from_u64(seed);
    (0..count)
        .map(|_| {
            let mut out = vec![0.0; n];
            kind.vec_sample(p, &mut out, &mut rng);
            out
        })
        .collect()
}

/// Every checked moment within 4.5 standard errors (a false alarm about once in 10⁵ checks).
fn check(label: &str, got: (f64, f64), want: f64) {
    let (m, se) = got;
    assert!((m - want).abs() <= 4.5 * se + 1e-12, "{label}: sample mean {m} ± {se}, expected {want}");
}

#[test]
fn samplers_have_the_right_moments() {
    let count = 20_000;
    // Dirichlet: E xᵢ = αᵢ / Σα, two rows.
    let alpha = [0.3, 2.0, 5.0];
    let d = draws(DistKind::Dirichlet, &[&alpha], 6, count, 1);
    for i in 0..6 {
        let v: Vec<f64> = d.iter().map(|x| x[i]).collect();
        check(&format!("dirichlet x[{i}]"), mean_se(&v), alpha[i % 3] / 7.3);
    }
    // MvNormal: mean and covariance L Lᵀ.
    let (mu, l) = ([1.0, -2.0], [1.5, 0.0, -0.6, 0.8]);
    let d = draws(DistKind::MvNormal, &[&mu, &l], 2, count, 2);
    for i in 0..2 {
        let v: Vec<f64> = d.iter().map(|x| x[i]).collect();
        check(&format!("mv_normal mean[{i}]"), mean_se(&v), mu[i]);
    }
    let cross: Vec<f64> = d.iter().map(|x| (x[0] - mu[0]) * (x[1] - mu[1])).collect();
    check("mv_normal cov[0, 1]", mean_se(&cross), l[0] * l[2]);
    // MvStudentT: mean μ and covariance ν/(ν − 2) L Lᵀ (ν = 9: the squares' variance is finite).
    let nu = 9.0;
    let d = draws(DistKind::MvStudentT, &[&[nu], &mu, &l], 2, count, 17);
    for i in 0..2 {
        let v: Vec<f64> = d.iter().map(|x| x[i]).collect();
        check(&format!("mv_student_t mean[{i}]"), mean_se(&v), mu[i]);
    }
    let stretch = nu / (nu - 2.0);
    let sq: Vec<f64> = d.iter().map(|x| (x[1] - mu[1]).powi(2)).collect();
    check("mv_student_t var[1]", mean_se(&sq), stretch * (l[2] * l[2] + l[3] * l[3]));
    let cross: Vec<f64> = d.iter().map(|x| (x[0] - mu[0]) * (x[1] - mu[1])).collect();
    check("mv_student_t cov[0, 1]", mean_se(&cross), stretch * l[0] * l[2]);
    let cov = [2.0, 0.5, 0.5, 1.0];
    let d = draws(DistKind::MvNormalCov, &[&mu, &cov], 2, count, 3);
    let sq: Vec<f64> = d.iter().map(|x| (x[0] - mu[0]).powi(2)).collect();
    check("mv_normal_cov var[0]", mean_se(&sq), 2.0);
    // LKJ: every correlation rᵢⱼ of R = L Lᵀ is 2·Beta(b, b) − 1 with b = η − 1 + K/2, so
    // E r = 0 and E r² = 1 / (2η + K − 1).
    for (k, eta) in [(2usize, 1.0), (4, 0.7), (5, 3.0)] {
        let d = draws(DistKind::LkjCholesky, &[&[k as f64], &[eta]], k * k, count, 4);
        for (i, j) in [(1, 0), (k - 1, 0), (k - 1, k - 2)] {
            let r: Vec<f64> =
                d.iter().map(|l| (0..=j).map(|t| l[i * k + t] * l[j * k + t]).sum::<f64>()).collect();
            check(&format!("lkj K={k} η={eta} r[{i},{j}]"), mean_se(&r), 0.0);
            let r2: Vec<f64> = r.iter().map(|v| v * v).collect();
            check(
                &format!("lkj K={k} η={eta} r²[{i},{j}]"),
                mean_se(&r2),
                1.0 / (2.0 * eta + k as f64 - 1.0),
            );
        }
    }
    // ZeroSumNormal: every draw sums to 0, E xᵢ = 0 and E xᵢ² = σ²(1 − 1/n).
    let (sigma, n) = (1.7, 5);
    let d = draws(DistKind::ZeroSumNormal, &[&[sigma]], n, count, 8);
    assert!(d.iter().all(|x| x.iter().sum::<f64>().abs() < 1e-12));
    for i in [0, n - 1] {
        let v: Vec<f64> = d.iter().map(|x| x[i]).collect();
        check(&format!("zero_sum_normal x[{i}]"), mean_se(&v), 0.0);
        let sq: Vec<f64> = v.iter().map(|x| x * x).collect();
        check(&format!("zero_sum_normal x²[{i}]"), mean_se(&sq), sigma * sigma * (1.0 - 1.0 / n as f64));
    }
    // CAR and ICAR on the path 0 – 1 – 2 (closed forms). CAR: the precision τ M with
    // M = [[1, −α, 0], [−α, 2, −α], [0, −α, 1]], det M = 2 − 2α², so the covariance has
    // (M⁻¹)₀₀ = (2 − α²)/det, (M⁻¹)₁₁ = 1/det, (M⁻¹)₀₁ = α/det, over τ.
    let path = [0.0, 1.0, 0.0, 1.0, 0.0, 1.0, 0.0, 1.0, 0.0];
    let (mu3, alpha, tau) = ([1.0, -1.0, 0.5], 0.6, 2.0);
    let det = 2.0 - 2.0 * alpha * alpha;
    let d = draws(DistKind::Car, &[&mu3, &path, &[alpha], &[tau]], 3, count, 21);
    let moments = |d: &[Vec<f64>], m: &[f64], i: usize, j: usize| -> (f64, f64) {
        mean_se(&d.iter().map(|x| (x[i] - m[i]) * (x[j] - m[j])).collect::<Vec<f64>>())
    };
    for i in 0..3 {
        check(&format!("car mean[{i}]"), mean_se(&d.iter().map(|x| x[i]).collect::<Vec<f64>>()), mu3[i]);
    }
    check("car var[0]", moments(&d, &mu3, 0, 0), (2.0 - alpha * alpha) / det / tau);
    check("car var[1]", moments(&d, &mu3, 1, 1), 1.0 / det / tau);
    check("car cov[0, 1]", moments(&d, &mu3, 0, 1), alpha / det / tau);
    // ICAR: on the plane the covariance is σ² Q⁺ with Q the path's Laplacian (eigenvalues 0, 1,
    // 3): Q⁺₀₀ = 5/9, Q⁺₁₁ = 2/9, Q⁺₀₁ = −1/9, Q⁺₀₂ = −4/9.
    let sigma = 1.3;
    let d = draws(DistKind::Icar, &[&path, &[sigma]], 3, count, 22);
    assert!(d.iter().all(|x| x.iter().sum::<f64>().abs() < 1e-12));
    let zero = [0.0; 3];
    for (i, j, q) in [(0, 0, 5.0 / 9.0), (1, 1, 2.0 / 9.0), (0, 1, -1.0 / 9.0), (0, 2, -4.0 / 9.0)] {
        check(&format!("icar cov[{i}, {j}]"), moments(&d, &zero, i, j), sigma * sigma * q);
    }
    // Categorical: frequencies.
    let p = [0.5, 1.5, 3.0];
    let d = draws(DistKind::Categorical, &[&p], 1, count, 5);
    let logits = [0.2, -1.0, 1.1];
    let dl = draws(DistKind::CategoricalLogit, &[&logits], 1, count, 6);
    let z: f64 = logits.iter().map(|l: &f64| l.exp()).sum();
    for c in 0..3 {
        let v: Vec<f64> = d.iter().map(|x| f64::from(u8::from(x[0] == c as f64))).collect();
        check(&format!("categorical P({c})"), mean_se(&v), p[c] / 5.0);
        let v: Vec<f64> = dl.iter().map(|x| f64::from(u8::from(x[0] == c as f64))).collect();
        check(&format!("categorical_logit P({c})"), mean_se(&v), logits[c].exp() / z);
    }
    // One row per observation: each observation's frequencies are its own row's.
    let rows = [0.5, 1.5, 3.0, 4.0, 0.0, 1.0];
    let d = draws(DistKind::CategoricalRows, &[&rows], 2, count, 7);
    let logit_rows = [0.2, -1.0, 1.1, -0.5, 2.0, 0.0];
    let dl = draws(DistKind::CategoricalLogitRows, &[&logit_rows], 2, count, 8);
    for (i, c) in (0..2).flat_map(|i| (0..3).map(move |c| (i, c))) {
        let v: Vec<f64> = d.iter().map(|x| f64::from(u8::from(x[i] == c as f64))).collect();
        check(&format!("categorical_rows row {i} P({c})"), mean_se(&v), rows[3 * i + c] / 5.0);
        let row = &logit_rows[3 * i..3 * i + 3];
        let z: f64 = row.iter().map(|l| l.exp()).sum();
        let v: Vec<f64> = dl.iter().map(|x| f64::from(u8::from(x[i] == c as f64))).collect();
        check(&format!("categorical_logit_rows row {i} P({c})"), mean_se(&v), row[c].exp() / z);
    }
    // Normal mixture: E x = Σ wₖ μₖ and E x² = Σ wₖ (σₖ² + μₖ²), each element a draw of its own;
    // with a shared scale too.
    let (w, mu, sigma) = ([0.3, 0.7], [-1.0, 2.0], [0.5, 1.0]);
    let d = draws(DistKind::NormalMixture, &[&w, &mu, &sigma], 3, count, 9);
    for i in 0..3 {
        let v: Vec<f64> = d.iter().map(|x| x[i]).collect();
        check(&format!("normal_mixture mean[{i}]"), mean_se(&v), 1.1);
        let sq: Vec<f64> = v.iter().map(|x| x * x).collect();
        check(&format!("normal_mixture E x²[{i}]"), mean_se(&sq), 3.875);
    }
    // Each element draws its own component: E x₀x₁ = (Σ wₖ μₖ)², not Σ wₖ μₖ².
    let cross: Vec<f64> = d.iter().map(|x| x[0] * x[1]).collect();
    check("normal_mixture E x₀x₁", mean_se(&cross), 1.21);
    let d = draws(DistKind::NormalMixture, &[&w, &mu, &[2.0]], 1, count, 10);
    let sq: Vec<f64> = d.iter().map(|x| x[0] * x[0]).collect();
    check("normal_mixture shared scale E x²", mean_se(&sq), 4.0 + 0.3 + 2.8);
    // The mixtures of one scalar family, from two of the component's example parameter sets
    // with finite moments: E x = Σ wₖ mₖ and E x² = Σ wₖ (vₖ + mₖ²) (that one where the fourth
    // moment is finite, for its standard error: not for a Student-t's heavy tails).
    let w = [0.35, 0.65];
    for &(comp, mix) in Mixture::KINDS.iter().filter(|(_, m)| *m != DistKind::NormalMixture) {
        let ex: Vec<&[f64]> = comp.examples().iter().copied().filter(|p| comp.moments(p).is_some()).collect();
        let (a, b) = (ex[0], ex[ex.len() - 1]);
        let theta: Vec<Vec<f64>> = (0..a.len()).map(|q| vec![a[q], b[q]]).collect();
        let mut args: Vec<&[f64]> = vec![&w];
        args.extend(theta.iter().map(Vec::as_slice));
        let d = draws(mix, &args, 2, count, 11);
        let (ma, va) = comp.moments(a).unwrap();
        let (mb, vb) = comp.moments(b).unwrap();
        let v: Vec<f64> = d.iter().map(|x| x[1]).collect();
        check(&format!("{} mean", mix.name()), mean_se(&v), w[0] * ma + w[1] * mb);
        if comp != DistKind::StudentT {
            let sq: Vec<f64> = v.iter().map(|x| x * x).collect();
            let want = w[0] * (va + ma * ma) + w[1] * (vb + mb * mb);
            check(&format!("{} E x²", mix.name()), mean_se(&sq), want);
        }
    }
    // Multinomial: every draw's counts sum to its n, E xₖ = n pₖ and Var xₖ = n pₖ(1 − pₖ), with
    // a row of (unnormalised) weights per draw. Dirichlet-multinomial: E xₖ = n qₖ and
    // Var xₖ = n qₖ(1 − qₖ)(n + A)/(1 + A), qₖ = aₖ/A; with tiny concentrations too, where
    // every gamma draw underflows and the draw falls back to the Dirichlet's limit.
    let w = [1.0, 2.0, 3.0, 4.0, 0.0, 1.0];
    let multinomial: Vec<(f64, f64)> =
        w.chunks(3).flat_map(|r| r.iter().map(|&v| (v / r.iter().sum::<f64>(), 1.0))).collect();
    let dirichlet_multinomial = |a: &[f64], n: f64| {
        let total: f64 = a.iter().sum();
        a.iter().map(|&ak| (ak / total, (n + total) / (1.0 + total))).collect::<Vec<_>>()
    };
    // (family, n, parameter, categories, (qₖ, variance factor) per element).
    type Case<'a> = (DistKind, &'a [f64], &'a [f64], usize, Vec<(f64, f64)>);
    let cases: [Case; 3] = [
        (DistKind::Multinomial, &[10.0, 40.0], &w, 3, multinomial),
        (
            DistKind::DirichletMultinomial,
            &[25.0],
            &[0.5, 2.0, 4.0],
            3,
            dirichlet_multinomial(&[0.5, 2.0, 4.0], 25.0),
        ),
        (
            DistKind::DirichletMultinomial,
            &[25.0],
            &[1e-3, 2e-3],
            2,
            dirichlet_multinomial(&[1e-3, 2e-3], 25.0),
        ),
    ];
    for (seed, (kind, trials, param, k, want)) in (13..).zip(cases) {
        let n_of = |i: usize| trials[if trials.len() == 1 { 0 } else { i / k }];
        let d = draws(kind, &[trials, param], want.len(), count, seed);
        for x in &d {
            for (r, row) in x.chunks(k).enumerate() {
                assert_eq!(row.iter().sum::<f64>(), n_of(r * k), "{}: {x:?}", kind.name());
            }
        }
        for (i, &(q, spread)) in want.iter().enumerate() {
            let n = n_of(i);
            let v: Vec<f64> = d.iter().map(|x| x[i]).collect();
            check(&format!("{} {param:?} E x[{i}]", kind.name()), mean_se(&v), n * q);
            let sq: Vec<f64> = v.iter().map(|x| x * x).collect();
            let var = n * q * (1.0 - q) * spread;
            check(&format!("{} {param:?} E x²[{i}]", kind.name()), mean_se(&sq), var + (n * q).powi(2));
        }
    }
    // Ordinal outcomes: P(y = k) = F(η − cₖ₋₁) − F(η − cₖ), per observation's own η, with
    // F the logistic or the normal CDF (Φ(t) = erfc(−t/√2)/2).
    let (eta, cut) = ([0.4, -1.5], [-1.0, 0.5, 2.0]);
    let logistic = |x: f64| 1.0 / (1.0 + (-x).exp());
    let normal = |x: f64| 0.5 * libm::erfc(-x / std::f64::consts::SQRT_2);
    let links: [(DistKind, &dyn Fn(f64) -> f64); 2] =
        [(DistKind::OrderedLogistic, &logistic), (DistKind::OrderedProbit, &normal)];
    for (seed, (kind, f)) in (11..).zip(links) {
        let d = draws(kind, &[&eta, &cut], 2, count, seed);
        for (i, k) in (0..2).flat_map(|i| (0..4).map(move |k| (i, k))) {
            let above = |j: usize| match j {
                0 => 1.0,
                4 => 0.0,
                _ => f(eta[i] - cut[j - 1]),
            };
            let v: Vec<f64> = d.iter().map(|x| f64::from(u8::from(x[i] == k as f64))).collect();
            check(&format!("{} η={} P({k})", kind.name(), eta[i]), mean_se(&v), above(k) - above(k + 1));
        }
    }
}
