//! WAIC and PSIS-LOO against ArviZ 0.23.4 on `<shared>/peers/oracle/loo_waic_normal.json`
//! (4 chains × 500 draws × 50 observations, one outlier): elpd, se and p to 1e-6 relative,
//! every pointwise value likewise, every Pareto k̂ to 1e-4 absolute, with ArviZ's default
//! relative efficiency (recomputed here from the posterior draws) and with r_eff = 1.
//! `<shared>` is `EXMC_SHARED` or `../shared`; without it the test prints `SKIPPED` and passes.

use std::path::PathBuf;

use exmc::diagnostics::{ess_mean, loo, waic};
use serde_json::Value;

fn oracle() -> Option<Value> {
    let dir = std::env::var_os("EXMC_SHARED")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../shared")));
    let text = std::fs::read_to_string(dir.join("peers/oracle/loo_waic_normal.json")).ok()?;
    serde_json::from_str(&text).ok()
}

fn floats(v: &Value) -> Vec<f64> {
    v.as_array().unwrap().iter().map(|x| x.as_f64().unwrap_or(f64::NAN)).collect()
}

fn close(what: &str, got: f64, want: f64, rel: f64) {
    let err = if want == 0.0 { got.abs() } else { ((got - want) / want).abs() };
    assert!(err <= rel, "{what}: {got} vs ArviZ {want} (relative error {err:.2e})");
}

/// Per observation, its draws chain after chain (ArviZ's stacked `__sample__` order).
fn log_lik(o: &Value) -> Vec<Vec<f64>> {
    let chains: Vec<Vec<Vec<f64>>> = o["log_lik"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c.as_array().unwrap().iter().map(floats).collect())
        .collect();
    let n_obs = chains[0][0].len();
    (0..n_obs).map(|i| chains.iter().flat_map(|c| c.iter().map(move |draw| draw[i])).collect()).collect()
}

#[test]
fn loo_and_waic_equal_arviz() {
    let Some(o) = oracle() else {
        println!("SKIPPED loo_and_waic_equal_arviz: ../shared/peers/oracle/loo_waic_normal.json not found");
        return;
    };
    let ll = log_lik(&o);
    assert_eq!(ll.len(), 50);
    assert_eq!(ll[0].len(), 2000);

    // ArviZ's default r_eff: the mean over the posterior's scalars of their mean-ESS, over S.
    let reff: f64 = ["mu", "sigma"]
        .iter()
        .map(|v| {
            let chains: Vec<Vec<f64>> = o["posterior"][v].as_array().unwrap().iter().map(floats).collect();
            let refs: Vec<&[f64]> = chains.iter().map(Vec::as_slice).collect();
            ess_mean(&refs)
        })
        .sum::<f64>()
        / 2.0
        / 2000.0;
    close("r_eff", reff, o["reff_default"].as_f64().unwrap(), 1e-6);

    for (key, r) in [("loo_default_reff", reff), ("loo_reff_1", 1.0)] {
        let want = &o[key];
        let got = loo(&ll, r);
        close(&format!("{key} elpd_loo"), got.elpd, want["elpd_loo"].as_f64().unwrap(), 1e-6);
        close(&format!("{key} se"), got.se, want["se"].as_f64().unwrap(), 1e-6);
        close(&format!("{key} p_loo"), got.p, want["p_loo"].as_f64().unwrap(), 1e-6);
        close(&format!("{key} good_k"), got.good_k, want["good_k"].as_f64().unwrap(), 1e-12);
        assert_eq!(got.warning, want["warning"].as_bool().unwrap(), "{key} warning");
        for (i, (g, w)) in got.pointwise.iter().zip(floats(&want["loo_i"])).enumerate() {
            close(&format!("{key} loo_i[{i}]"), *g, w, 1e-6);
        }
        let ks = floats(&want["pareto_k"]);
        assert_eq!(got.pareto_k.len(), ks.len());
        for (i, (g, w)) in got.pareto_k.iter().zip(ks).enumerate() {
            assert!((g - w).abs() <= 1e-4, "{key} pareto_k[{i}]: {g} vs ArviZ {w}");
        }
        // The outlier (y[0] = 12) is the observation LOO finds hardest.
        let worst = got.pareto_k.iter().copied().enumerate().max_by(|a, b| a.1.total_cmp(&b.1)).unwrap().0;
        assert_eq!(worst, 0, "{key}: largest k̂ at observation {worst}");
    }

    let want = &o["waic"];
    let got = waic(&ll);
    close("elpd_waic", got.elpd, want["elpd_waic"].as_f64().unwrap(), 1e-6);
    close("waic se", got.se, want["se"].as_f64().unwrap(), 1e-6);
    close("p_waic", got.p, want["p_waic"].as_f64().unwrap(), 1e-6);
    assert_eq!(got.warning, want["warning"].as_bool().unwrap(), "waic warning");
    for (i, (g, w)) in got.pointwise.iter().zip(floats(&want["waic_i"])).enumerate() {
        close(&format!("waic_i[{i}]"), *g, w, 1e-6);
    }
}
