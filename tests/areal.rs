//! Areal models: the CAR and ICAR priors sampled by NUTS against their closed-form Gaussian
//! posteriors and two disease-mapping models against PyMC's posteriors
//! (`tests/data/areal_oracle.json`, from `scripts/make_areal_oracle.py`), on the CPU backend
//! and, when an adapter exists, the GPU backend; the file form against the Rust form; the
//! adjacency matrices refused with the node named.

mod common;
use common::{backends, fits, moments};
use exmc::backend::gpu::Precision;
use exmc::model::file::{DataSet, DataValue};
use exmc::prelude::*;
use nalgebra::{DMatrix, DVector};

/// A 6-area map: a ring 0 – 1 – 2 – 3 – 4 – 5 – 0, a chord 1 – 4 of weight 2 and a chord 0 – 3
/// of weight 0.5 (row by row).
fn map() -> Vec<f64> {
    let mut w = vec![0.0; 36];
    for (i, j, v) in [
        (0, 1, 1.0),
        (1, 2, 1.0),
        (2, 3, 1.0),
        (3, 4, 1.0),
        (4, 5, 1.0),
        (5, 0, 1.0),
        (1, 4, 2.0),
        (0, 3, 0.5),
    ] {
        w[i * 6 + j] = v;
        w[j * 6 + i] = v;
    }
    w
}

const Y: [f64; 6] = [1.2, -0.4, 0.3, 2.1, -1.0, 0.6];
const NOISE: f64 = 0.8;

/// `τ(D − αW)`, or the Laplacian `D − W` with `α = τ = 1`.
fn precision(w: &[f64], alpha: f64, tau: f64) -> DMatrix<f64> {
    let k = (w.len() as f64).sqrt() as usize;
    DMatrix::from_fn(k, k, |i, j| {
        if i == j { tau * w[i * k..(i + 1) * k].iter().sum::<f64>() } else { -tau * alpha * w[i * k + j] }
    })
}

fn fit(m: &Model, backend: BackendChoice, seed: u64) -> Fit {
    let fit = Sampler::new(m).backend(backend).chains(4).warmup(1000).draws(2000).seed(seed).progress(false);
    let fit = fit.run().unwrap();
    assert_eq!(fit.divergences(), 0, "{}", fit.backend);
    fit
}

/// Every element's posterior mean within 4 MCSE and sd within 5% of the closed form.
fn check(fit: &Fit, name: &str, mean: &DVector<f64>, cov: &DMatrix<f64>) {
    for i in 0..mean.len() {
        let (m, s, mcse) = moments(fit, name, i);
        let sd = cov[(i, i)].sqrt();
        assert!(
            (m - mean[i]).abs() <= 4.0 * mcse,
            "{} {name}[{i}]: mean {m} vs {} (mcse {mcse})",
            fit.backend,
            mean[i]
        );
        assert!((s - sd).abs() <= 0.05 * sd, "{} {name}[{i}]: sd {s} vs {sd}", fit.backend);
    }
}

/// `phi ~ CAR(mu, W, α, τ)` with fixed parameters and `y ~ N(phi, s²)`: the posterior is normal
/// with precision `A = τ(D − αW) + I/s²` and mean `A⁻¹(τ(D − αW) mu + y/s²)`.
#[test]
fn car_posterior_is_the_closed_form_gaussian() {
    let (alpha, tau) = (0.7, 1.5);
    let mu = [0.5, 0.0, -0.5, 0.2, 0.1, 0.3];
    let mut m = Model::new();
    let w = m.data_matrix("W", 6, 6, map()).unwrap();
    let phi = m.rv("phi", Car::new(mu.to_vec(), w, alpha, tau)).unwrap();
    m.observe("y", Normal::new(phi, NOISE), &Y).unwrap();
    let q = precision(&map(), alpha, tau);
    let a = &q + DMatrix::identity(6, 6) / (NOISE * NOISE);
    let cov = a.clone().try_inverse().unwrap();
    let mean = &cov * (&q * DVector::from_row_slice(&mu) + DVector::from_row_slice(&Y) / (NOISE * NOISE));
    for backend in backends("car_posterior_is_the_closed_form_gaussian") {
        check(&fit(&m, backend, 41), "phi", &mean, &cov);
    }
}

/// `phi ~ ICAR(W, σ)` with a fixed `σ` and `y ~ N(phi, s²)`: on the zero-sum plane (projector
/// `P`) the posterior is normal with precision `Q/σ² + I/s²` (which keeps the plane: `Q1 = 0`)
/// and mean `A⁻¹ P y / s²`; its covariance is `P A⁻¹ P`. Every draw sums to 0.
#[test]
fn icar_posterior_is_the_closed_form_gaussian_on_the_plane() {
    let sigma = 1.3;
    let mut m = Model::new();
    let w = m.data_matrix("W", 6, 6, map()).unwrap();
    let phi = m.rv("phi", Icar::new(w, sigma)).unwrap();
    m.observe("y", Normal::new(phi, NOISE), &Y).unwrap();
    let p = DMatrix::identity(6, 6) - DMatrix::from_element(6, 6, 1.0 / 6.0);
    let a = precision(&map(), 1.0, 1.0) / (sigma * sigma) + DMatrix::identity(6, 6) / (NOISE * NOISE);
    let inv = a.try_inverse().unwrap();
    let mean = &inv * (&p * DVector::from_row_slice(&Y)) / (NOISE * NOISE);
    let cov = &p * inv * &p;
    for backend in backends("icar_posterior_is_the_closed_form_gaussian_on_the_plane") {
        let f = fit(&m, backend, 42);
        check(&f, "phi", &mean, &cov);
        let draws: Vec<Vec<f64>> = (0..6).map(|i| common::pooled(&f, "phi", i)).collect();
        for d in 0..draws[0].len() {
            let s: f64 = draws.iter().map(|v| v[d]).sum();
            assert!(s.abs() < 1e-4, "{} draw {d} sums to {s}", f.backend);
        }
    }
}

/// A hierarchical ICAR scale (non-centred: `phi = sigma · phi_z`) and a CAR with random `α`
/// and `τ` under their priors alone: `sigma`, `α` and `τ` keep their prior means (HalfNormal(1):
/// √(2/π); Beta(2, 2): 1/2; Gamma(4, 2): 2), and `phi`'s variance given `σ` is `σ² Q⁺ᵢᵢ`, so
/// `E phiᵢ² = E σ² · Q⁺ᵢᵢ = Q⁺ᵢᵢ`.
#[test]
fn hierarchical_areal_priors_sample_their_laws() {
    let mut m = Model::new();
    let w = m.data_matrix("W", 6, 6, map()).unwrap();
    let sigma = m.rv("sigma", HalfNormal::new(1.0)).unwrap();
    let phi = m.rv("phi", Icar::new(w, sigma)).unwrap();
    let alpha = m.rv("alpha", Beta::new(2.0, 2.0)).unwrap();
    let tau = m.rv("tau", Gamma::new(4.0, 2.0)).unwrap();
    m.rv("theta", Car::new(0.0, w, alpha, tau)).unwrap();
    m.deterministic("phi_sq", Expr::from(phi).square()).unwrap();
    let lap = precision(&map(), 1.0, 1.0);
    let p = DMatrix::identity(6, 6) - DMatrix::from_element(6, 6, 1.0 / 6.0);
    // Q⁺ = (Q + 11ᵀ/K)⁻¹ − 11ᵀ/K.
    let pinv = (&lap + DMatrix::from_element(6, 6, 1.0 / 6.0)).try_inverse().unwrap()
        - (DMatrix::identity(6, 6) - &p);
    let f = fit(&m, BackendChoice::Cpu, 43);
    let within = |name: &str, elem: usize, want: f64| {
        let (mean, _, mcse) = moments(&f, name, elem);
        assert!((mean - want).abs() <= 4.0 * mcse, "{name}[{elem}]: {mean} vs {want} (mcse {mcse})");
    };
    within("sigma", 0, (2.0 / std::f64::consts::PI).sqrt());
    within("alpha", 0, 0.5);
    within("tau", 0, 2.0);
    for i in [0, 1, 5] {
        within("phi_sq", i, pinv[(i, i)]);
    }
    assert!(f.summary().get("phi_z[0]").is_some(), "the ICAR scale is non-centred");
    let rhat = f.summary().rows.iter().map(|r| r.r_hat).fold(0.0f64, f64::max);
    assert!(rhat < 1.01, "R-hat {rhat}");
}

/// The file form (PyMC's names `dist = "CAR"` and `dist = "ICAR"`, or `"car"` and `"icar"`; `W` a
/// data matrix) has the Rust form's log density and gradient.
#[test]
fn areal_families_in_files_match_the_rust_form() {
    let mut data = DataSet::new();
    data.insert("adj", DataValue::Matrix { rows: 6, cols: 6, values: map() });
    data.insert("y_obs", DataValue::Vector { values: Y.to_vec(), integer: false });
    // The file orders free variables by name, each after what it reads.
    let text = r#"
        [rv.a_alpha]
        dist = "beta"
        alpha = 2
        beta = 2

        [rv.b_tau]
        dist = "gamma"
        alpha = 2
        beta = 1

        [rv.c_s]
        dist = "half_normal"
        sigma = 1

        [rv.d_car]
        dist = "CAR"
        mu = 0.5
        W = "adj"
        alpha = "a_alpha"
        tau = "b_tau"

        [rv.e_icar]
        dist = "ICAR"
        W = "adj"
        sigma = "c_s"

        [observe.y]
        dist = "normal"
        mu = "d_car + e_icar"
        sigma = 1
        data = "y_obs"
    "#;
    let file = Model::from_model_str(text, &data, "areal.toml").unwrap();
    let mut m = Model::new();
    let w = m.data_matrix("adj", 6, 6, map()).unwrap();
    let alpha = m.rv("a_alpha", Beta::new(2.0, 2.0)).unwrap();
    let tau = m.rv("b_tau", Gamma::new(2.0, 1.0)).unwrap();
    let car = m.rv("d_car", Car::new(0.5, w, alpha, tau)).unwrap();
    let s = m.rv("c_s", HalfNormal::new(1.0)).unwrap();
    let icar = m.rv("e_icar", Icar::new(w, s)).unwrap();
    m.observe("y", Normal::new(car + icar, 1.0), &Y).unwrap();
    common::same_density(&file, &m, true);
}

/// Adjacency matrices that break a rule, and parameters outside their domains, are refused
/// with the node and the rule named.
#[test]
fn bad_graphs_are_refused_naming_the_node() {
    let ring = map();
    let mut two_parts = vec![0.0; 16];
    for (i, j) in [(0, 1), (2, 3)] {
        two_parts[i * 4 + j] = 1.0;
        two_parts[j * 4 + i] = 1.0;
    }
    let mut lopsided = ring.clone();
    lopsided[1] = 3.0;
    let mut lonely = ring.clone();
    for j in 0..6 {
        lonely[2 * 6 + j] = 0.0;
        lonely[j * 6 + 2] = 0.0;
    }
    let icar = |w: Vec<f64>, k: usize| {
        let mut m = Model::new();
        let w = m.data_matrix("W", k, k, w).unwrap();
        m.rv("phi", Icar::new(w, 1.0)).map(|_| ())
    };
    let car = |w: Vec<f64>, k: usize, alpha: f64| {
        let mut m = Model::new();
        let w = m.data_matrix("W", k, k, w).unwrap();
        m.rv("theta", Car::new(0.0, w, alpha, 1.0)).map(|_| ())
    };
    let cases = [
        (icar(two_parts.clone(), 4), "phi", "2 separate parts"),
        (icar(lopsided.clone(), 6), "phi", "symmetric"),
        (car(lopsided, 6, 0.5), "theta", "symmetric"),
        (car(lonely, 6, 0.5), "theta", "area 2 has no neighbours"),
        (car(ring.clone(), 6, 1.0), "theta", "alpha = 1 must lie in (−1, 1)"),
    ];
    for (i, (got, node, rule)) in cases.into_iter().enumerate() {
        let err = got.expect_err(&format!("case {i}")).to_string();
        assert!(err.contains(node) && err.contains(rule), "case {i}: {err}");
    }
    // Not a square matrix.
    let mut m = Model::new();
    let w = m.data("W", ring[..30].to_vec()).unwrap();
    let err = m.rv("phi", Icar::new(w, 1.0)).unwrap_err().to_string();
    assert!(err.contains("phi") && err.contains("W has 30 values, not K × K"), "{err}");
    // A CAR on a graph of two parts is proper: accepted.
    car(two_parts.clone(), 4, 0.5).unwrap();
    // New data that break a rule are refused by the predictive checks too.
    let mut m = Model::new();
    let w = m
        .data_matrix(
            "W",
            4,
            4,
            vec![0.0, 1.0, 0.0, 1.0, 1.0, 0.0, 1.0, 0.0, 0.0, 1.0, 0.0, 1.0, 1.0, 0.0, 1.0, 0.0],
        )
        .unwrap();
    m.rv("phi", Icar::new(w, 1.0)).unwrap();
    exmc::sampler::prior_predictive(&m, 10, 1).unwrap();
    m.set_data("W", two_parts).unwrap();
    let err = exmc::sampler::prior_predictive(&m, 10, 1).unwrap_err().to_string();
    assert!(err.contains("phi") && err.contains("2 separate parts"), "{err}");
}

/// Outside `|α| < 1` the CAR density is −∞, as PyMC's, also on a graph that is not bipartite
/// (a ring of 5), where the precision stays positive definite a little below `α = −1`.
#[test]
fn car_alpha_outside_the_unit_interval_has_no_density() {
    let mut ring = vec![0.0; 25];
    for i in 0..5 {
        ring[i * 5 + (i + 1) % 5] = 1.0;
        ring[(i + 1) % 5 * 5 + i] = 1.0;
    }
    let packed = DistKind::Car.vec_prepare(1, &ring).unwrap().unwrap();
    let x = [0.1, -0.3, 0.2, 0.5, -0.1];
    for w in [&ring, &packed] {
        let lp = |alpha: f64| DistKind::Car.vec_lpdf_grad(&[&x, &[0.0], w, &[alpha], &[1.0]], None);
        assert!(lp(-0.99).is_finite() && lp(0.99).is_finite());
        for alpha in [-1.1, -1.0, 1.0, f64::NAN] {
            assert_eq!(lp(alpha), f64::NEG_INFINITY, "alpha {alpha}");
        }
    }
}

#[derive(serde::Deserialize)]
struct Oracle {
    pymc: String,
    #[serde(rename = "W")]
    w: Vec<f64>,
    #[serde(rename = "E")]
    e: Vec<f64>,
    y: Vec<f64>,
    car: Posterior,
    icar: Posterior,
    bym2: Posterior,
    bym2_scale: f64,
}

#[derive(serde::Deserialize)]
struct Posterior {
    posterior: std::collections::HashMap<String, common::Reference>,
    divergences: usize,
}

/// Disease mapping on a 4 × 5 grid: Poisson counts with expected counts `E`, `log` rates
/// `b0 + phi` with `phi` a CAR (random `α` and `τ`) or a scaled ICAR (random `sigma`), against
/// PyMC's posteriors of the same models and data.
#[test]
fn disease_mapping_matches_pymc() {
    let d: Oracle = common::test_data("areal_oracle.json");
    eprintln!("oracle from PyMC {}", d.pymc);
    let k = d.e.len();
    let build = |icar: bool| {
        let mut m = Model::new();
        let w = m.data_matrix("W", k, k, d.w.clone()).unwrap();
        let log_e = m.data("log_E", d.e.iter().map(|v| v.ln()).collect::<Vec<f64>>()).unwrap();
        let b0 = m.rv("b0", Normal::new(0.0, 2.0)).unwrap();
        let phi = if icar {
            let sigma = m.rv("sigma", HalfNormal::new(1.0)).unwrap();
            m.rv("phi", Icar::new(w, sigma)).unwrap()
        } else {
            let alpha = m.rv("alpha", Beta::new(2.0, 2.0)).unwrap();
            let tau = m.rv("tau", Gamma::new(2.0, 2.0)).unwrap();
            m.rv("phi", Car::new(0.0, w, alpha, tau)).unwrap()
        };
        m.observe("y", Poisson::new((b0 + phi + log_e).exp()), &d.y).unwrap();
        m
    };
    for (label, icar, reference) in [("car", false, &d.car), ("icar", true, &d.icar)] {
        let m = build(icar);
        let fits = fits(&format!("disease mapping ({label})"), &m);
        common::check_posterior(label, &fits, &reference.posterior, reference.divergences);
    }
}

/// BYM2 (Riebler et al. 2016) on the same map and counts: the scaling factor against numpy's
/// pseudo-inverse of the Laplacian, and the posterior of `b0`, `sigma`, `rho` and the
/// convolved effect against PyMC's.
#[test]
fn bym2_matches_pymc() {
    let d: Oracle = common::test_data("areal_oracle.json");
    let k = d.e.len();
    let scale = Icar::scaling_factor(&d.w).unwrap();
    assert!((scale - d.bym2_scale).abs() <= 1e-10 * d.bym2_scale, "{scale} vs numpy {}", d.bym2_scale);
    let mut m = Model::new();
    let w = m.data_matrix("W", k, k, d.w.clone()).unwrap();
    let log_e = m.data("log_E", d.e.iter().map(|v| v.ln()).collect::<Vec<f64>>()).unwrap();
    let b0 = m.rv("b0", Normal::new(0.0, 2.0)).unwrap();
    let sigma = m.rv("sigma", HalfNormal::new(1.0)).unwrap();
    let rho = m.rv("rho", Beta::new(0.5, 0.5)).unwrap();
    let theta = m.rv_vec("theta", Normal::new(0.0, 1.0), k).unwrap();
    let z = m.rv("z", Icar::new(w, 1.0)).unwrap();
    let convolved = m
        .deterministic("convolved", sigma * ((1.0 - rho).sqrt() * theta + (rho / scale).sqrt() * z))
        .unwrap();
    m.observe("y", Poisson::new((b0 + convolved + log_e).exp()), &d.y).unwrap();
    // PyMC's target acceptance, 0.9. The GPU backend runs its f64 kernels: rho's Beta(0.5, 0.5)
    // has mass within 6e-8 of 1, where f32 rounds `1 − logistic(u)` to 0 (u > 16.6) and the
    // f32 kernels' density is −∞ (a handful of divergences in 8,000 draws).
    let run = |backend, precision| {
        let s = Sampler::new(&m).backend(backend).gpu_precision(precision).target_accept(0.9);
        let fit = s.chains(4).warmup(1000).draws(2000).seed(5).progress(false).run().unwrap();
        assert_eq!(fit.divergences(), 0, "bym2 {}", fit.backend);
        fit
    };
    let mut fits = vec![run(BackendChoice::Cpu, Precision::F32)];
    if common::gpu_f64("bym2_matches_pymc on the GPU backend (f64 kernels)").is_some() {
        fits.push(run(BackendChoice::Gpu, Precision::F64));
    }
    common::check_posterior("bym2", &fits, &d.bym2.posterior, d.bym2.divergences);
    // A graph of two parts has no scaling factor of one ICAR.
    let mut two = vec![0.0; 16];
    for (i, j) in [(0, 1), (2, 3)] {
        two[i * 4 + j] = 1.0;
        two[j * 4 + i] = 1.0;
    }
    let err = Icar::scaling_factor(&two).unwrap_err().to_string();
    assert!(err.contains("W") && err.contains("2 separate parts"), "{err}");
}

/// The pointwise log-likelihood of observed CAR and ICAR values, from the compiled program and
/// from the model's densities: one observation per node, equal. The map has 60 areas and 93
/// edges, so its packed graph holds 1 + 2·60 + 3·93 = 400 = 20² values, the length of a
/// `20 × 20` matrix: the draws are counted from `W`, not from the packed form.
#[test]
fn observed_areal_values_have_one_pointwise_log_likelihood_each() {
    let k = 60;
    let mut w = vec![0.0; k * k];
    let mut edges: Vec<(usize, usize)> = (0..k - 1).map(|i| (i, i + 1)).collect();
    edges.extend((0..34).map(|i| (i, i + 2)));
    assert_eq!(edges.len(), 93);
    for (i, j) in edges {
        w[i * k + j] = 1.0;
        w[j * k + i] = 1.0;
    }
    let phi: Vec<f64> = (0..k).map(|i| ((i * 7) % 11) as f64 * 0.1 - 0.5).collect();
    let mean = phi.iter().sum::<f64>() / k as f64;
    let phi: Vec<f64> = phi.iter().map(|v| v - mean).collect();
    let mut m = Model::new();
    let adj = m.data_matrix("W", k, k, w).unwrap();
    let sigma = m.rv("sigma", HalfNormal::new(1.0)).unwrap();
    let alpha = m.rv("alpha", Beta::new(2.0, 2.0)).unwrap();
    m.observe("d", Icar::new(adj, sigma), &phi).unwrap();
    m.observe("c", Car::new(0.1, adj, alpha, 2.0), &phi).unwrap();
    let fit = Sampler::new(&m).chains(2).warmup(200).draws(100).seed(3).progress(false).run().unwrap();
    let host = log_likelihood(&m, &fit).unwrap();
    let compiled = compute_log_likelihood(&m, &fit, BackendChoice::Cpu).unwrap();
    assert_eq!(host.nodes, vec![("d".to_string(), 1), ("c".to_string(), 1)]);
    assert_eq!(compiled.nodes, host.nodes);
    for (a, b) in compiled.values.iter().flatten().zip(host.values.iter().flatten()) {
        assert!((a - b).abs() <= 1e-9 * b.abs().max(1.0), "compiled {a} vs host {b}");
    }
}
