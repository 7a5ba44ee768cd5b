//! posteriordb through model files (issue 10, item 7): every model file in
//! `models/posteriordb` loads with its data, and the small posteriors pass the rule of
//! `examples/posteriordb.rs` (every parameter's mean within 4 combined MCSE of the reference,
//! its sd within 10%) on the CPU and, when an adapter exists, on the GPU backend. The whole
//! suite runs as `cargo run --release --example posteriordb`. Skipped with a visible message
//! when `../shared/posteriordb` is absent (a user's fresh clone).

mod common;

#[path = "../examples/common/posteriordb.rs"]
#[allow(dead_code)]
mod posteriordb;

use std::path::PathBuf;

use common::{backends, skip};
use exmc::backend::gpu::Precision;
use exmc::prelude::*;

/// Quick ones (under a second or two on one core): a hierarchical model, linear regressions
/// with interactions, logs and standardised predictors.
const SMALL: [&str; 5] = [
    "eight_schools-eight_schools_noncentered",
    "mesquite-logmesquite_logvolume",
    "sblri-blr",
    "kidiq_with_mom_work-kidscore_interaction_c",
    "earnings-logearn_interaction_z",
];

/// The time series: AR(5) on data lags, and ARMA(1,1) and GARCH(1,1), whose recurrences
/// (`[scan.*]`) depend on the parameters.
const TIME_SERIES: [&str; 3] = ["arK-arK", "arma-arma11", "garch-garch11"];

fn models() -> PathBuf {
    PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/models/posteriordb"))
}

#[test]
fn every_model_file_loads_with_its_data() {
    let Some(shared) = posteriordb::shared() else {
        return skip("every_model_file_loads_with_its_data", "../shared/posteriordb not found");
    };
    let names = posteriordb::names(&models());
    assert_eq!(names.len(), 37, "{names:?}");
    for name in names {
        let data = shared.join("posteriordb").join(&name).join("data.json");
        let m = Model::from_files(models().join(format!("{name}.toml")), Some(&data))
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        assert!(m.nodes().iter().any(|n| matches!(n.kind, NodeKind::Free { .. })), "{name}");
        assert!(exmc::rewrite::domain_warnings(&m).is_empty(), "{name}");
    }
}

#[test]
fn small_posteriors_match_their_references() {
    let Some(shared) = posteriordb::shared() else {
        return skip("small_posteriors_match_their_references", "../shared/posteriordb not found");
    };
    for backend in backends("small_posteriors_match_their_references") {
        for name in SMALL {
            let o = posteriordb::run(&shared, &models(), name, backend, Precision::F32, 1, 1000).unwrap();
            assert!(o.passed, "{backend:?}: {o:?}");
            assert_eq!(o.divergences, 0, "{backend:?}: {o:?}");
        }
    }
}

#[test]
fn time_series_posteriors_match_their_references() {
    let Some(shared) = posteriordb::shared() else {
        return skip("time_series_posteriors_match_their_references", "../shared/posteriordb not found");
    };
    for backend in backends("time_series_posteriors_match_their_references") {
        for name in TIME_SERIES {
            let o = posteriordb::run(&shared, &models(), name, backend, Precision::F32, 1, 1000).unwrap();
            eprintln!(
                "{backend:?} {name}: max |z| {:.2}, max sd error {:.3}, {} divergences",
                o.worst_z, o.worst_sd, o.divergences
            );
            assert!(o.passed, "{backend:?}: {o:?}");
        }
    }
}
