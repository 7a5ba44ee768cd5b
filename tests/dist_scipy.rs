//! Every distribution family against scipy.stats (tests/data/dist_oracle.json, made by
//! scripts/make_dist_oracle.py): log densities, analytic partials against finite differences,
//! support and parameter checks, sampler moments, and the samplers' draws against the checked
//! densities between quantiles. One data-driven harness for all families.

use std::collections::HashMap;
use std::sync::OnceLock;

use exmc::model::dist::{DistKind, Support};
use rand::SeedableRng;
use rand::rngs::StdRng;
use serde::Deserialize;

#[derive(Deserialize)]
struct Oracle {
    scipy_version: String,
    families: HashMap<String, FamilyData>,
}

#[derive(Deserialize)]
struct FamilyData {
    params: Vec<String>,
    points: Vec<Point>,
}

#[derive(Deserialize)]
struct Point {
    x: f64,
    p: Vec<f64>,
    logpdf: f64,
}

fn oracle() -> &'static Oracle {
    static ORACLE: OnceLock<Oracle> = OnceLock::new();
    ORACLE.get_or_init(|| {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/dist_oracle.json");
        let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("reading {path}: {e}"));
        serde_json::from_str(&text).expect("dist_oracle.json parses")
    })
}

fn points(kind: DistKind) -> &'static [Point] {
    let data =
        oracle().families.get(kind.name()).unwrap_or_else(|| panic!("no oracle data for {}", kind.name()));
    &data.points
}

/// Parameters inside their domains and passing the cross-parameter checks.
fn params_ok(kind: DistKind, p: &[f64]) -> bool {
    p.len() == kind.n_params()
        && kind.params().iter().zip(p).all(|((_, d), v)| d.contains(*v))
        && kind.check_params(p).is_ok()
}

/// `|got - want|`, relative to `|want|` when `|want| >= 1`.
fn err(got: f64, want: f64) -> f64 {
    (got - want).abs() / want.abs().max(1.0)
}

/// `error <= tol`, false when `error` is NaN.
fn within(error: f64, tol: f64) -> bool {
    error <= tol
}

/// Panics with every failure listed, if any.
fn report(what: &str, failures: &[String]) {
    assert!(failures.is_empty(), "{what}: {} failures:\n{}", failures.len(), failures.join("\n"));
}

#[test]
fn oracle_covers_every_family() {
    let o = oracle();
    assert!(!o.scipy_version.is_empty());
    for &kind in DistKind::SCALAR {
        let data = &o.families[kind.name()];
        let names: Vec<&str> = kind.params().iter().map(|(n, _)| *n).collect();
        assert_eq!(data.params, names, "{}: parameter names", kind.name());
        assert!(data.points.len() >= 20, "{}: only {} oracle points", kind.name(), data.points.len());
        for pt in &data.points {
            assert!(params_ok(kind, &pt.p), "{}: oracle params {:?} rejected", kind.name(), pt.p);
            assert!(
                kind.in_support(pt.x, &pt.p),
                "{}: oracle x={} outside support {:?}",
                kind.name(),
                pt.x,
                pt.p
            );
        }
    }
    assert_eq!(o.families.len(), DistKind::SCALAR.len(), "oracle has families exmc does not know");
}

#[test]
fn lpdf_matches_scipy() {
    let mut failures = Vec::new();
    for &kind in DistKind::SCALAR {
        let mut worst = 0.0f64;
        for pt in points(kind) {
            let got = kind.lpdf(pt.x, &pt.p);
            let e = err(got, pt.logpdf);
            worst = worst.max(e);
            if !within(e, 1e-10) {
                failures.push(format!(
                    "{} x={} p={:?}: {got} vs scipy {} (err {e:e})",
                    kind.name(),
                    pt.x,
                    pt.p,
                    pt.logpdf
                ));
            }
        }
        eprintln!("{:12} worst lpdf error vs scipy {worst:.2e}", kind.name());
    }
    report("lpdf vs scipy", &failures);
}

/// `x` and `p` with coordinate `j` (0 = x, 1 + i = p[i]) moved by `d`.
fn moved(x: f64, p: &[f64], j: usize, d: f64) -> (f64, Vec<f64>) {
    let (mut x2, mut p2) = (x, p.to_vec());
    if j == 0 {
        x2 += d
    } else {
        p2[j - 1] += d
    }
    (x2, p2)
}

/// Central difference of the log density in coordinate `j`, over the step actually taken
/// (`(v + h) - (v - h)`, so the rounding of `v ± h` does not count as error).
fn central(kind: DistKind, x: f64, p: &[f64], j: usize, h: f64) -> f64 {
    let ((xp, pp), (xm, pm)) = (moved(x, p, j, h), moved(x, p, j, -h));
    let span = if j == 0 { xp - xm } else { pp[j - 1] - pm[j - 1] };
    (kind.lpdf(xp, &pp) - kind.lpdf(xm, &pm)) / span
}

/// Finite-difference estimate of `∂ lpdf / ∂ coordinate j` and the rounding noise it may carry.
///
/// The step starts at `scale` of the coordinate's magnitude, is cut to `1000·scale` of the
/// length over which the log density changes by one (`1/|∂|`), and then halved until 100 steps either way
/// stay inside the support and the parameter domains (log densities are often singular at the
/// edges). Richardson extrapolation over `h` and `h/2` removes the `O(h²)` term. The noise
/// bound is the evaluation's rounding (a generous `100 ε max(1, |f|)`) over the step: at a
/// few points hard against an edge the step must be so small that the check loosens to it.
fn finite_difference(kind: DistKind, x: f64, p: &[f64], j: usize, partial: f64, scale: f64) -> (f64, f64) {
    let v = if j == 0 { x } else { p[j - 1] };
    let mut h = scale * v.abs().max(1.0);
    if partial.is_finite() && partial != 0.0 {
        h = h.min(1e3 * scale / partial.abs());
    }
    let valid = |d: f64| {
        let (x2, p2) = moved(x, p, j, d);
        params_ok(kind, &p2) && kind.in_support(x2, &p2)
    };
    let mut tries = 0;
    while !(valid(100.0 * h) && valid(-100.0 * h)) {
        h *= 0.5;
        tries += 1;
        assert!(
            tries < 2000,
            "{}: no finite-difference step for coordinate {j} at x={x} p={p:?}",
            kind.name()
        );
    }
    let fd = (4.0 * central(kind, x, p, j, 0.5 * h) - central(kind, x, p, j, h)) / 3.0;
    let noise = 1e2 * f64::EPSILON * kind.lpdf(x, p).abs().max(1.0) / h;
    (fd, noise)
}

#[test]
fn lpdf_grad_matches_value_and_finite_differences() {
    let mut failures = Vec::new();
    for &kind in DistKind::SCALAR {
        let n = kind.n_params();
        let (mut checks, mut loose, mut worst) = (0, 0, 0.0f64);
        for pt in points(kind) {
            let (x, p) = (pt.x, pt.p.as_slice());
            let mut g = vec![f64::NAN; n + 1];
            let value = kind.lpdf_grad(x, p, &mut g);
            let want = kind.lpdf(x, p);
            if !within(err(value, want), 1e-12) {
                failures
                    .push(format!("{} x={x} p={p:?}: lpdf_grad value {value} vs lpdf {want}", kind.name()));
            }
            for (j, &an) in g.iter().enumerate() {
                // Discrete values and counts have no derivative (their partials are 0), nor has
                // a point mass at 0 (a continuous hurdle's density above 0 has one).
                // A censored value at a bound has none either (its partials there are the
                // bound's).
                let discrete = if j == 0 {
                    kind.support().is_discrete()
                        || (kind.support() == Support::ZeroOrPositive && x == 0.0)
                        || (kind.support() == Support::Censored && (x == p[0] || x == p[1]))
                } else {
                    kind.params()[j - 1].1 == exmc::model::Domain::Count
                };
                // A parameter on the closed end of its domain (a probability of 0 or 1, a
                // Rice's ν = 0) has only a one-sided derivative; so has an angle at ±π (the end
                // of a circular support) and a triangular's mode on a bound (along the bound and
                // the mode), and a triangular's value at its mode is a kink.
                let closed_end = |d: exmc::model::Domain, v: f64| match d {
                    exmc::model::Domain::Probability => v == 0.0 || v == 1.0,
                    exmc::model::Domain::NonNegative => v == 0.0,
                    _ => false,
                };
                let triangular_kink = kind == DistKind::Triangular
                    && ((x == p[2] && (j == 0 || j == 3))
                        || (p[2] == p[0] && (j == 1 || j == 3))
                        || (p[2] == p[1] && (j == 2 || j == 3)));
                let edge = (j > 0 && closed_end(kind.params()[j - 1].1, p[j - 1]))
                    || (j == 0 && kind.support() == Support::Circular && x.abs() == std::f64::consts::PI)
                    || triangular_kink;
                // A censored value's bound moves with it (the value is the bound): the partial
                // along both is checked in `dist::censoring`'s unit tests. An absent bound
                // (stored as ±f32::MAX) cannot move outward.
                let at_bound = kind.support() == Support::Censored
                    && (j == 1 || j == 2)
                    && (x == p[j - 1] || p[j - 1].abs() == f32::MAX as f64);
                if discrete || edge || at_bound {
                    continue;
                }
                // Two step scales: 1e-6 resolves sharp densities, 1e-4 keeps the rounding of big
                // intermediate terms (ln Γ(x + α) of a large count) below the tolerance; the
                // closer estimate is checked.
                let tol = 1e-6 * an.abs().max(1.0);
                let (fd, noise) = [1e-6, 1e-4]
                    .map(|scale| finite_difference(kind, x, p, j, an, scale))
                    .into_iter()
                    .min_by(|a, b| ((a.0 - an).abs() - a.1).total_cmp(&((b.0 - an).abs() - b.1)))
                    .expect("two estimates");
                checks += 1;
                if noise > tol {
                    loose += 1;
                }
                worst = worst.max((fd - an).abs() / tol);
                if !an.is_finite() || !within((fd - an).abs(), tol + noise) {
                    let coord = if j == 0 { "x" } else { kind.params()[j - 1].0 };
                    failures.push(format!(
                        "{} x={x} p={p:?}: d/d{coord} analytic {an:e} vs finite difference {fd:e} (noise {noise:e})",
                        kind.name()
                    ));
                }
            }
        }
        eprintln!(
            "{:12} {checks} partials, worst |fd - an| / tol {worst:.2e}, {loose} loosened by rounding noise",
            kind.name()
        );
    }
    report("partials", &failures);
}

#[test]
fn outside_the_support_is_neg_infinity() {
    let mut failures = Vec::new();
    for &kind in DistKind::SCALAR {
        let p = &points(kind)[0].p;
        let outside: Vec<f64> = match kind.support() {
            Support::Real => vec![f64::INFINITY, f64::NEG_INFINITY],
            Support::Positive => vec![0.0, -0.0, -1e-300, -1.0, f64::NEG_INFINITY, f64::INFINITY],
            Support::ZeroOrPositive => vec![-1e-300, -1.0, f64::NEG_INFINITY, f64::INFINITY, f64::NAN],
            Support::UnitInterval => vec![0.0, 1.0, -1e-300, -0.5, 1.5, f64::INFINITY],
            Support::Interval => vec![p[0], p[1], p[0] - 1.0, p[1] + 1.0, f64::NEG_INFINITY, f64::INFINITY],
            Support::Above => vec![p[0], p[0] - 1.0, f64::NEG_INFINITY, f64::INFINITY, f64::NAN],
            Support::Below => vec![p[0], p[0] + 1.0, f64::NEG_INFINITY, f64::INFINITY, f64::NAN],
            // Beyond a bound by more than its rounding (an absent bound is ∓f32::MAX).
            Support::Censored => vec![
                p[0] - 1.0 - 1e-6 * p[0].abs(),
                p[1] + 1.0 + 1e-6 * p[1].abs(),
                f64::NEG_INFINITY,
                f64::INFINITY,
                f64::NAN,
            ],
            Support::Binary => vec![0.5, 2.0, -1.0, f64::NAN, f64::INFINITY],
            // The geometric's counts start at 1.
            Support::Count if kind == DistKind::Geometric => vec![0.0, -1.0, 1.5, f64::INFINITY, f64::NAN],
            Support::Count => vec![-1.0, 0.5, 2.25, f64::INFINITY, f64::NAN],
            // Beyond π by an ulp.
            Support::Circular => {
                let beyond = std::f64::consts::PI.next_up();
                vec![beyond, -beyond, 7.0, f64::INFINITY, f64::NEG_INFINITY, f64::NAN]
            }
            Support::BoundedCount => {
                let n = p[kind.count_bound().expect("a bounded count has its bound")];
                vec![-1.0, 0.5, n + 1.0, f64::INFINITY, f64::NAN]
            }
            Support::Simplex | Support::CorrCholesky | Support::Category | Support::ZeroSum => {
                unreachable!("vector supports")
            }
        };
        for x in outside {
            // NaN: a partial left unwritten fails as a nonzero one does.
            let mut g = vec![f64::NAN; kind.n_params() + 1];
            let (lp, lpg) = (kind.lpdf(x, p), kind.lpdf_grad(x, p, &mut g));
            if kind.in_support(x, p) || lp != f64::NEG_INFINITY || lpg != f64::NEG_INFINITY {
                failures.push(format!(
                    "{} x={x} p={p:?}: in_support/lpdf/lpdf_grad gave {lp}, {lpg}",
                    kind.name()
                ));
            }
            // A −∞ density has zero partials. Real-valued families are excused at x = ±∞,
            // which no sampler position reaches (a branch in Normal's kernel is not worth it):
            // their partials there are whatever the formula gives.
            if kind.support() != Support::Real && g.iter().any(|v| *v != 0.0) {
                failures.push(format!("{} x={x} p={p:?}: partials {g:?} at −∞", kind.name()));
            }
        }
    }
    report("outside the support", &failures);
}

/// Values outside each parameter's domain, tried one parameter at a time on every family's first
/// example (cross-parameter rules, such as Uniform's lower < upper, are tested in the family's
/// own file).
#[test]
fn bad_params_are_rejected() {
    use exmc::model::Domain;
    let mut failures = Vec::new();
    for &kind in DistKind::SCALAR {
        let good = kind.examples()[0];
        assert!(params_ok(kind, good), "{}: example {good:?} rejected", kind.name());
        for (j, (name, domain)) in kind.params().iter().enumerate() {
            let bad: &[f64] = match domain {
                Domain::Real => &[f64::NAN, f64::INFINITY, f64::NEG_INFINITY],
                Domain::Positive => &[0.0, -0.0, -1.0, f64::NAN, f64::INFINITY],
                Domain::NonNegative => &[-1e-300, -1.0, f64::NAN, f64::INFINITY],
                Domain::Probability => &[-0.1, 1.5, f64::NAN, f64::INFINITY],
                Domain::Count => &[-1.0, 2.5, f64::NAN, f64::INFINITY],
                Domain::Fixed => &[f64::NAN, f64::INFINITY],
                // The constructors store ±∞ as ±f32::MAX; beyond is outside f32's range.
                Domain::Bound => &[f64::NAN, f64::INFINITY, -1e39],
            };
            for &b in bad {
                let mut p = good.to_vec();
                p[j] = b;
                if params_ok(kind, &p) {
                    failures.push(format!("{} {name} = {b} accepted", kind.name()));
                }
            }
        }
    }
    report("bad parameters", &failures);
}

/// Kernel plus normaliser reproduce the density and every partial, at every oracle point.
/// (The count families define `lpdf_grad` as their kernel plus the data-only term, so for
/// them the scipy tests of `lpdf_grad` are what check the kernel.)
#[test]
fn kernel_and_normalizer_split_is_exact() {
    let mut failures = Vec::new();
    for &kind in DistKind::SCALAR {
        let k = kind.n_params() + 1;
        for pt in points(kind) {
            let (x, p) = (pt.x, pt.p.as_slice());
            let (mut full, mut kern, mut norm) = (vec![0.0; k], vec![0.0; k], vec![0.0; k]);
            let value = kind.lpdf_grad(x, p, &mut full);
            let kv = kind.kernel_grad(x, p, &mut kern);
            // A normaliser that reads x is only ever summed on the host (no partials).
            let nv = if kind.normalizer_reads_x() {
                kind.log_normalizer_at(x, p)
            } else {
                kind.log_normalizer_grad(p, &mut norm)
            };
            if !within(err(kv + nv, value), 1e-12) {
                failures.push(format!(
                    "{} x={x} p={p:?}: kernel + normaliser {} vs {value}",
                    kind.name(),
                    kv + nv
                ));
            }
            for j in 0..k {
                let reads =
                    j > 0 && !kind.normalizer_reads_x() && kind.normalizer_params().contains(&(j - 1));
                let split = kern[j] + if reads { norm[j] } else { 0.0 };
                if !within(err(split, full[j]), 1e-10) {
                    failures.push(format!(
                        "{} x={x} p={p:?}: partial {j} {split} vs {}",
                        kind.name(),
                        full[j]
                    ));
                }
            }
        }
    }
    report("kernel/normaliser split", &failures);
}

/// Every family's sampler at every example parameter set: draws in the support, and the sample
/// mean within 5 standard errors of the family's mean (or, where the variance is infinite, the
/// sample median within 5 asymptotic standard errors `1 / (2 f(m) √n)` of its median).
#[test]
fn samplers_match_moments_and_stay_in_support() {
    const N: usize = 20_000;
    let mut failures = Vec::new();
    for &kind in DistKind::SCALAR.iter().filter(|k| k.proper()) {
        let name = kind.name();
        assert!(kind.moments(kind.examples()[0]).is_some() || kind.median(kind.examples()[0]).is_some());
        for (i, p) in kind.examples().iter().enumerate() {
            let mut rng = StdRng::seed_from_u64(0x5eed + 97 * i as u64 + kind as u64);
            let mut draws: Vec<f64> = (0..N).map(|_| kind.sample(p, &mut rng)).collect();
            if let Some(x) = draws.iter().find(|&&x| !kind.in_support(x, p)) {
                failures.push(format!("{name} {p:?}: draw {x} outside the support"));
            }
            let n = N as f64;
            match (kind.moments(p), kind.median(p)) {
                (Some((mean, var)), _) => {
                    let got = draws.iter().sum::<f64>() / n;
                    let se = (var / n).sqrt();
                    if !within((got - mean).abs(), 5.0 * se) {
                        failures.push(format!("{name} {p:?}: sample mean {got} vs {mean} (se {se:e})"));
                    }
                }
                (None, Some(median)) => {
                    draws.sort_by(f64::total_cmp);
                    let got = 0.5 * (draws[N / 2 - 1] + draws[N / 2]);
                    let se = 1.0 / (2.0 * kind.lpdf(median, p).exp() * n.sqrt());
                    if !within((got - median).abs(), 5.0 * se) {
                        failures.push(format!("{name} {p:?}: sample median {got} vs {median} (se {se:e})"));
                    }
                }
                (None, None) => failures.push(format!("{name} {p:?}: neither a mean nor a median")),
            }
        }
    }
    report("samplers", &failures);
}

/// Gauss–Kronrod 7–15 nodes on `[-1, 1]` (the positive half and the centre) and weights.
const GK_NODES: [f64; 8] = [
    0.991_455_371_120_812_6,
    0.949_107_912_342_758_5,
    0.864_864_423_359_769_1,
    0.741_531_185_599_394_4,
    0.586_087_235_467_691_1,
    0.405_845_151_377_397_2,
    0.207_784_955_007_898_5,
    0.0,
];
const GK_WEIGHTS: [f64; 8] = [
    0.022_935_322_010_529_22,
    0.063_092_092_629_978_55,
    0.104_790_010_322_250_2,
    0.140_653_259_715_525_9,
    0.169_004_726_639_267_9,
    0.190_350_578_064_785_4,
    0.204_432_940_075_298_9,
    0.209_482_141_084_727_8,
];
/// The Gauss 7-point weights of the odd-numbered Kronrod nodes (1, 3, 5, and the centre).
const G_WEIGHTS: [f64; 4] =
    [0.129_484_966_168_869_7, 0.279_705_391_489_276_7, 0.381_830_050_505_118_9, 0.417_959_183_673_469_4];

/// `∫ₐᵇ f` by adaptive Gauss–Kronrod to an absolute error of about `tol` (halved at each
/// bisection down to 10⁻¹⁵, so that a density steep near an end, as Beta(0.1, 0.2)'s `x^−0.9`
/// beside a draw of 10⁻¹⁹, is bisected down to its scale); `f` is evaluated at interior points
/// only, so a point mass at an end does not enter.
fn integrate(f: &dyn Fn(f64) -> f64, a: f64, b: f64, tol: f64, depth: u32) -> f64 {
    let (c, h) = (0.5 * (a + b), 0.5 * (b - a));
    let (mut kronrod, mut gauss) = (GK_WEIGHTS[7] * f(c), G_WEIGHTS[3] * f(c));
    for i in 0..7 {
        let pair = f(c - h * GK_NODES[i]) + f(c + h * GK_NODES[i]);
        kronrod += GK_WEIGHTS[i] * pair;
        if i % 2 == 1 {
            gauss += G_WEIGHTS[i / 2] * pair;
        }
    }
    let (kronrod, gauss) = (kronrod * h, gauss * h);
    // A density that is NaN somewhere fails the comparison at once instead of bisecting on.
    if !kronrod.is_finite() || (kronrod - gauss).abs() <= tol || depth == 0 {
        kronrod
    } else {
        let tol = (0.5 * tol).max(1e-15);
        integrate(f, a, c, tol, depth - 1) + integrate(f, c, b, tol, depth - 1)
    }
}

/// The family's probability of `(a, b]`, from its log density alone (checked against scipy
/// above): a sum of masses for a discrete family; otherwise the density's integral plus the
/// point masses in `(a, b]` (a continuous hurdle's zero, a censored family's bounds).
fn mass_between(kind: DistKind, p: &[f64], a: f64, b: f64) -> f64 {
    if b <= a {
        return 0.0;
    }
    let density = |x: f64| kind.lpdf(x, p).exp();
    if kind.support().is_discrete() {
        let (first, last) = (a.floor() + 1.0, b.floor());
        return (0..=(last - first) as u64).map(|j| density(first + j as f64)).sum();
    }
    let atoms: &[f64] = match kind.support() {
        Support::ZeroOrPositive => &[0.0],
        Support::Censored => &p[..2],
        _ => &[],
    };
    let at_atoms: f64 = atoms.iter().filter(|&&z| a < z && z <= b).map(|&z| density(z)).sum();
    at_atoms + integrate(&density, a, b, 1e-10, 200)
}

/// A point below a family's support where its lowest values carry mass the intervals between
/// quantiles cannot see (a count's 0, a hurdle's zero, a censored value's lower bound), so
/// that `(below, first quantile]` checks that mass too; `None` for other supports.
fn below_support(kind: DistKind, p: &[f64]) -> Option<f64> {
    match kind.support() {
        s if s.is_discrete() => Some(-1.0),
        Support::ZeroOrPositive => Some(-1.0),
        Support::Censored if p[0] > -1e30 => Some(p[0] - 1.0),
        _ => None,
    }
}

/// Every family's sampler against its own log density (which the tests above check against
/// scipy): between sample quantiles at probabilities from 0.01 to 0.99, the probability the
/// density gives each interval (and the whole span) matches the share of the draws in it within
/// 5 binomial standard errors; so does the lowest values' (see [`below_support`]). This checks
/// the draws' shape, spread, tails and point masses, not only a mean.
#[test]
fn samplers_match_their_densities_between_quantiles() {
    const N: usize = 100_000;
    const PROBS: [f64; 7] = [0.01, 0.05, 0.2, 0.5, 0.8, 0.95, 0.99];
    let mut failures = Vec::new();
    let mut checked = 0;
    for &kind in DistKind::SCALAR.iter().filter(|k| k.proper()) {
        for (i, p) in kind.examples().iter().enumerate() {
            let mut rng = StdRng::seed_from_u64(0xcdf + 89 * i as u64 + kind as u64);
            let mut draws: Vec<f64> = (0..N).map(|_| kind.sample(p, &mut rng)).collect();
            if let Some(x) = draws.iter().find(|x| !kind.in_support(**x, p)) {
                failures.push(format!("{} {p:?}: draw {x} outside the support", kind.name()));
                continue;
            }
            draws.sort_by(f64::total_cmp);
            let cuts: Vec<f64> = PROBS.iter().map(|q| draws[(q * N as f64) as usize]).collect();
            let lowest = below_support(kind, p).map(|a| (a, cuts[0]));
            let spans =
                cuts.windows(2).map(|w| (w[0], w[1])).chain([(cuts[0], cuts[PROBS.len() - 1])]).chain(lowest);
            for (a, b) in spans {
                let share = (draws.partition_point(|&x| x <= b) - draws.partition_point(|&x| x <= a)) as f64
                    / N as f64;
                let mass = mass_between(kind, p, a, b);
                let se = (mass * (1.0 - mass) / N as f64).sqrt();
                checked += 1;
                if !within((share - mass).abs(), 5.0 * se + 1e-6) {
                    failures.push(format!(
                        "{} {p:?}: ({a}, {b}] holds {share} of the draws, the density gives {mass} (se {se:.1e})",
                        kind.name()
                    ));
                }
            }
        }
    }
    eprintln!("{checked} intervals checked");
    report("samplers against their densities", &failures);
    // Seven intervals for each of the families' 150-odd example parameter sets.
    assert!(checked > 1000, "only {checked} intervals checked");
}
