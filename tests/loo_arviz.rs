//! WAIC and PSIS-LOO against ArviZ 0.23.4 on `<shared>/peers/oracle/loo_waic_normal.json`
//! (4 chains × 500 draws × 50 observations, one outlier): elpd, se and p to 1e-6 relative,
//! every pointwise value likewise, every Pareto k̂ to 1e-4 absolute, with ArviZ's default
//! relative efficiency (recomputed here from the posterior draws) and with r_eff = 1.
//! `<shared>` is `EXMC_SHARED` or `../shared`; without it the test prints `SKIPPED` and passes.

mod common;

use common::{arviz_reff, floats, per_observation, shared_json, skip};
use exmc::diagnostics::{loo, waic};

fn close(what: &str, got: f64, want: f64, rel: f64) {
    let err = if want == 0.0 { got.abs() } else { ((got - want) / want).abs() };
    assert!(err <= rel, "{what}: {got} vs ArviZ {want} (relative error {err:.2e})");
}

#[test]
fn loo_and_waic_equal_arviz() {
    let Some(o) = shared_json("peers/oracle/loo_waic_normal.json") else {
        return skip("loo_and_waic_equal_arviz", "../shared/peers/oracle/loo_waic_normal.json not found");
    };
    let ll = per_observation(&o["log_lik"]);
    assert_eq!(ll.len(), 50);
    assert_eq!(ll[0].len(), 2000);

    // ArviZ's default r_eff: the mean over the posterior's scalars of their mean-ESS, over S.
    let reff = arviz_reff(&o["posterior"], &["mu", "sigma"], 2000);
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
