//! LOO-PIT against ArviZ 0.23.4's `loo_pit` on `tests/data/loo_pit_oracle.json` (made by
//! `scripts/make_loo_pit_oracle.py`: a normal model, 4 chains × 150 draws, 12 observations
//! with one outlier), with ArviZ's default r_eff recomputed from the posterior: every value
//! within 1e-9.

mod common;

use common::{arviz_reff, floats, per_observation};
use exmc::diagnostics::loo_pit;
use serde_json::Value;

#[test]
fn loo_pit_equals_arviz() {
    let text =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/loo_pit_oracle.json"))
            .unwrap();
    let o: Value = serde_json::from_str(&text).unwrap();
    let y = floats(&o["y"]);
    let (y_rep, ll) = (per_observation(&o["y_rep"]), per_observation(&o["log_lik"]));
    let reff = arviz_reff(&o, &["mu", "sigma"], ll[0].len());
    let got = loo_pit(&y, &y_rep, &ll, reff);
    let want = floats(&o["loo_pit"]);
    assert_eq!(got.len(), want.len());
    for (i, (g, w)) in got.iter().zip(&want).enumerate() {
        assert!((g - w).abs() <= 1e-9, "loo_pit[{i}]: {g} vs ArviZ {w}");
    }
    // The outlier (9.0) sits far in its leave-one-out predictive's upper tail.
    assert!(got[5] > 0.95, "{}", got[5]);
}
