//! The maximum a posteriori search and the Laplace approximation against PyMC
//! (`scripts/make_map_oracle.py` → `tests/data/map_oracle.json`): `pm.find_MAP`'s point
//! (tightened L-BFGS-B, no Jacobian), and the mode with the Jacobian and the covariance from
//! PyMC's exact Hessian there.

mod common;

use exmc::prelude::*;
use serde::Deserialize;

#[derive(Deserialize)]
struct Case {
    data: serde_json::Value,
    map: std::collections::HashMap<String, Vec<f64>>,
    laplace: LaplaceRef,
}

#[derive(Deserialize)]
struct LaplaceRef {
    u: Vec<f64>,
    value_vars: Vec<String>,
    covariance: Vec<f64>,
}

fn robust(data: &serde_json::Value) -> Model {
    let (x, y) = (common::floats(&data["x"]), common::floats(&data["y"]));
    let mut m = Model::new();
    let alpha = m.rv("alpha", Normal::new(0.0, 5.0)).unwrap();
    let beta = m.rv_vec("beta", Normal::new(0.0, 2.0), 2).unwrap();
    let sigma = m.rv("sigma", HalfNormal::new(2.0)).unwrap();
    let nu = m.rv("nu", Gamma::new(2.0, 0.1)).unwrap();
    let xm = m.data_matrix("X", y.len(), 2, x).unwrap();
    m.observe("y", StudentT::new(nu, alpha + xm.matmul(beta, 1), sigma), &y).unwrap();
    m
}

fn negbin(data: &serde_json::Value) -> Model {
    let (x, y) = (common::floats(&data["x"]), common::floats(&data["y"]));
    let mut m = Model::new();
    let a = m.rv("a", Normal::new(0.0, 2.0)).unwrap();
    let b = m.rv("b", Normal::new(0.0, 1.0)).unwrap();
    let phi = m.rv("phi", Exponential::new(0.5)).unwrap();
    let xv = m.data("x", x).unwrap();
    m.observe("y", NegativeBinomial::new((a + b * xv).exp(), phi), &y).unwrap();
    m
}

fn proportions(data: &serde_json::Value) -> Model {
    let (trials, y, counts) =
        (common::floats(&data["trials"]), common::floats(&data["y"]), common::floats(&data["counts"]));
    let mut m = Model::new();
    let theta = m.rv_vec("theta", Beta::new(2.0, 2.0), 4).unwrap();
    m.observe("y", Binomial::new(trials, theta), &y).unwrap();
    let p = m.rv("p", Dirichlet::new(vec![2.0, 2.0, 2.0])).unwrap();
    m.observe("counts", Multinomial::new(counts.iter().sum::<f64>(), p), &counts).unwrap();
    m
}

/// PyMC's simplex coordinates are `ln xᵢ − mean(ln x)` (`i < K`), exmc's `ln xᵢ − ln x_K`:
/// PyMC's are `A z` with `A = I − 11ᵀ/K` over exmc's `z`. The linear map for the coordinates
/// `range` of a `d`-vector (the identity elsewhere).
fn simplex_map(d: usize, range: std::ops::Range<usize>, k: usize) -> Vec<f64> {
    let mut a = vec![0.0; d * d];
    for i in 0..d {
        a[i * d + i] = 1.0;
        if range.contains(&i) {
            for j in range.clone() {
                a[i * d + j] -= 1.0 / k as f64;
            }
        }
    }
    a
}

fn matvec(a: &[f64], v: &[f64]) -> Vec<f64> {
    let d = v.len();
    (0..d).map(|i| (0..d).map(|j| a[i * d + j] * v[j]).sum()).collect()
}

/// `A C Aᵀ` for `d × d` matrices row by row.
fn sandwich(a: &[f64], c: &[f64], d: usize) -> Vec<f64> {
    let ac: Vec<f64> =
        (0..d * d).map(|ij| (0..d).map(|k| a[ij / d * d + k] * c[k * d + ij % d]).sum()).collect();
    (0..d * d).map(|ij| (0..d).map(|k| ac[ij / d * d + k] * a[ij % d * d + k]).sum()).collect()
}

/// Builds a model from the oracle's data.
type Build = fn(&serde_json::Value) -> Model;

#[test]
fn map_and_laplace_match_pymc() {
    let cases: std::collections::HashMap<String, Case> = common::test_data("map_oracle.json");
    let builders: [(&str, Build); 3] = [("robust", robust), ("negbin", negbin), ("proportions", proportions)];
    for (name, build) in builders {
        let case = &cases[name];
        let m = build(&case.data);
        let map = Optimizer::new(&m).seed(1).run().unwrap();
        assert!(map.converged, "{name}: {map}");
        for (var, want) in &case.map {
            let got = map.get(var).unwrap();
            assert_eq!(got.len(), want.len(), "{name} {var}");
            for (k, (g, w)) in got.iter().zip(want).enumerate() {
                assert!((g - w).abs() < 2e-6 * w.abs().max(1.0), "{name} {var}[{k}]: {g} vs PyMC {w}\n{map}");
            }
        }
        let laplace = Optimizer::new(&m).seed(1).laplace(1000).unwrap();
        let d = laplace.mode.u.len();
        assert_eq!(d, case.laplace.u.len(), "{name}: {:?}", case.laplace.value_vars);
        let a = match name {
            "proportions" => simplex_map(d, 4..6, 3),
            _ => simplex_map(d, 0..0, 1),
        };
        assert_eq!(laplace.covariance.len(), d * d);
        let u = matvec(&a, &laplace.mode.u);
        // Within 10⁻⁴ posterior standard deviations (the relative-change criterion stops
        // within about √(10⁴ε) of the mode, in units of the curvature).
        for (k, (g, w)) in u.iter().zip(&case.laplace.u).enumerate() {
            let sd = case.laplace.covariance[k * (d + 1)].sqrt();
            assert!((g - w).abs() < 1e-4 * sd, "{name} mode u[{k}]: {g} vs PyMC {w} (sd {sd})");
        }
        let cov = sandwich(&a, &laplace.covariance, d);
        for (k, (g, w)) in cov.iter().zip(&case.laplace.covariance).enumerate() {
            let scale =
                (case.laplace.covariance[k / d * (d + 1)] * case.laplace.covariance[k % d * (d + 1)]).sqrt();
            assert!((g - w).abs() < 1e-4 * scale, "{name} covariance[{}, {}]: {g} vs PyMC {w}", k / d, k % d);
        }
        eprintln!(
            "{name}: {} iterations, {} evaluations; Laplace pareto k {:.2}",
            map.iterations, map.evaluations, laplace.pareto_k
        );
    }
}
