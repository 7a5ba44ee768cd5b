//! Posteriors against reference runs in `../shared`: the quickstart model against PyMC and
//! NumPyro (`peers/results.json`), eight schools against posteriordb, on the CPU backend and
//! (when an adapter exists) the GPU backend. Skipped with a visible message when `../shared` is
//! absent.

mod common;
use common::{SCHOOLS_SIGMA, SCHOOLS_Y, backends, eight_schools, moments, shared_json, skip};
use exmc::prelude::*;

/// |ours - ref| ≤ 4 · sqrt(mcse_ours² + mcse_ref²).
fn within_mcse(label: &str, ours: (f64, f64), reference: (f64, f64)) {
    let tol = 4.0 * (ours.1.powi(2) + reference.1.powi(2)).sqrt();
    assert!(
        (ours.0 - reference.0).abs() <= tol,
        "{label}: {} vs reference {} (tolerance {tol})",
        ours.0,
        reference.0
    );
}

#[test]
fn quickstart_matches_pymc_and_numpyro() {
    let Some(results) = shared_json("peers/results.json") else {
        return skip("quickstart_matches_pymc_and_numpyro", "../shared/peers/results.json not found");
    };
    let data: Vec<f64> = shared_json("peers/data/seed_simple.json").unwrap()["x_obs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_f64().unwrap())
        .collect();
    let mut m = Model::new();
    let mu = m.rv("mu", Normal::new(0.0, 5.0)).unwrap();
    let sigma = m.rv("sigma", HalfNormal::new(2.0)).unwrap();
    m.observe("x", Normal::new(mu, sigma), &data).unwrap();
    for backend in backends("quickstart_matches_pymc_and_numpyro") {
        let fit =
            Sampler::new(&m).backend(backend).chains(4).warmup(1000).draws(1000).seed(7).progress(false);
        compare_quickstart(&fit.run().unwrap(), &results);
    }
}

fn compare_quickstart(fit: &Fit, results: &serde_json::Value) {
    let mut compared = 0;
    for rec in results.as_array().unwrap() {
        let sampler = rec["sampler"].as_str().unwrap_or("");
        if rec["model"] != "seed_simple" || !(sampler == "pymc" || sampler.starts_with("numpyro")) {
            continue;
        }
        for name in ["mu", "sigma"] {
            let p = &rec["params"][name];
            let ess = rec["per_variable"][name]["ess_bulk_min"].as_f64().unwrap();
            let (rm, rsd) = (p["mean"].as_f64().unwrap(), p["sd"].as_f64().unwrap());
            let (mean, _, mcse) = moments(fit, name, 0);
            let label = format!("{} {name} vs {sampler}", fit.backend);
            within_mcse(&label, (mean, mcse), (rm, rsd / ess.sqrt()));
            compared += 1;
        }
    }
    assert!(compared >= 4, "expected PyMC and NumPyro records, compared {compared}");
}

struct Reference {
    params: serde_json::Value,
}

impl Reference {
    fn load() -> Option<Reference> {
        let r = shared_json("posteriordb/eight_schools-eight_schools_noncentered/reference.json")?;
        Some(Reference { params: r["parameters"].clone() })
    }

    /// Checks mean within 4 combined MCSE and sd within 10% for every reference element.
    fn check(&self, fit: &Fit, label: &str) {
        let elements: Vec<(String, &str, usize)> = (0..8)
            .map(|j| (format!("theta[{}]", j + 1), "theta", j))
            .chain([("mu".to_string(), "mu", 0), ("tau".to_string(), "tau", 0)])
            .collect();
        for (key, name, elem) in elements {
            let r = &self.params[&key];
            let (rm, rsd, rmcse) = (
                r["mean"].as_f64().unwrap(),
                r["sd"].as_f64().unwrap(),
                r["posteriordb_mcse_mean"].as_f64().unwrap(),
            );
            let (mean, sd, mcse) = moments(fit, name, elem);
            within_mcse(&format!("{label} {key} mean"), (mean, mcse), (rm, rmcse));
            assert!((sd - rsd).abs() <= 0.10 * rsd, "{label} {key}: sd {sd} vs reference {rsd}");
        }
    }
}

fn eight_schools_data() -> (Vec<f64>, Vec<f64>) {
    let d = shared_json("posteriordb/eight_schools-eight_schools_noncentered/data.json").unwrap();
    let v = |k: &str| d[k].as_array().unwrap().iter().map(|x| x.as_f64().unwrap()).collect();
    (v("y"), v("sigma"))
}

#[test]
fn eight_schools_centred_with_auto_noncentring() {
    let Some(reference) = Reference::load() else {
        return skip("eight_schools_centred_with_auto_noncentring", "../shared/posteriordb not found");
    };
    let (y, sigma) = eight_schools_data();
    let m = eight_schools(&y, &sigma);
    // The standard 4 × 1000 run at a fixed seed. Its divergences stay within Poisson noise of
    // the count the peers show on this posterior (PyMC and nutpie: 7 in 4,000 draws): at most
    // 7 + 3√7 ≈ 15. One run's count is noisy (over seeds 0..40 this configuration gave 2.7 per
    // run, 0 to 8, the 8 at this seed), so the rate itself is bounded over seeds by
    // `noncentring_removes_the_funnel`.
    for backend in backends("eight_schools_centred_with_auto_noncentring") {
        let fit =
            Sampler::new(&m).backend(backend).chains(4).warmup(1000).draws(1000).seed(2).progress(false);
        let fit = fit.run().unwrap();
        assert_eq!(fit.noncentered, vec!["theta".to_string()]);
        assert!(
            fit.divergences() <= 15,
            "{}: auto-NCP eight schools: {} divergences",
            fit.backend,
            fit.divergences()
        );
        reference.check(&fit, &format!("{} centred+NCP", fit.backend));
    }
}

#[test]
fn noncentring_removes_the_funnel() {
    // Over seeds 0..5 (4 × 1000 draws each), under either warmup scheme: auto-NCP must diverge
    // no more often than the best peer does on the same posterior (NumPyro: 3 per 4000 draws →
    // 15 per 20,000; PyMC and nutpie: 7), and at least 5× less often than the centred model.
    // Measured: nutpie's adaptation 11 vs 117, Stan's windows 3 vs 508 (over seeds 0..20:
    // 13 in 80,000 draws vs 2047).
    let m = eight_schools(&SCHOOLS_Y, &SCHOOLS_SIGMA);
    for adaptation in [Adaptation::DrawGradient, Adaptation::Windowed] {
        let total = |ncp: bool| -> usize {
            (0..5)
                .map(|seed| {
                    Sampler::new(&m)
                        .backend(BackendChoice::Cpu)
                        .adaptation(adaptation)
                        .seed(seed)
                        .noncenter(ncp)
                        .progress(false)
                        .run()
                        .unwrap()
                        .divergences()
                })
                .sum()
        };
        let (ncp, centred) = (total(true), total(false));
        assert!(ncp <= 15, "{adaptation:?}: auto-NCP: {ncp} divergences in 20,000 draws");
        assert!(5 * ncp.max(1) <= centred, "{adaptation:?}: auto-NCP {ncp} vs centred {centred}");
    }
}

#[test]
fn eight_schools_noncentred_by_hand() {
    let Some(reference) = Reference::load() else {
        return skip("eight_schools_noncentred_by_hand", "../shared/posteriordb not found");
    };
    let (y, sigma) = eight_schools_data();
    let mut m = Model::new();
    let mu = m.rv("mu", Normal::new(0.0, 5.0)).unwrap();
    let tau = m.rv("tau", HalfCauchy::new(5.0)).unwrap();
    let z = m.rv_vec("theta_tilde", Normal::new(0.0, 1.0), 8).unwrap();
    let theta = m.deterministic("theta", mu + tau * z).unwrap();
    m.observe("y", Normal::new(theta, sigma), &y).unwrap();
    for backend in backends("eight_schools_noncentred_by_hand") {
        let fit =
            Sampler::new(&m).backend(backend).chains(4).warmup(1000).draws(2500).seed(9).progress(false);
        let fit = fit.run().unwrap();
        assert!(fit.noncentered.is_empty());
        reference.check(&fit, &format!("{} non-centred", fit.backend));
    }
}
