//! Fits two models of the same data (a Normal and a Student-t likelihood, data with outliers),
//! saves each run as CmdStan CSV files and an ArviZ InferenceData Zarr store while it samples,
//! adds the log-likelihood, prior and predictive groups, and compares the models by PSIS-LOO.
//!
//! ```text
//! cargo run --release --example save_and_compare -- OUTDIR
//! ```
//!
//! writes `OUTDIR/<model>/<model>_<chain>.csv`, `OUTDIR/<model>/trace.zarr`, and
//! `OUTDIR/manifest.json`: what exmc wrote (groups, variables, dims, shapes, coordinates and a
//! sample of values), which `scripts/check_trace_files.py OUTDIR` compares with what ArviZ and
//! cmdstanpy read from the files.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use exmc::diagnostics::{Weighting, compare};
use exmc::io::{CmdStanCsv, InferenceData, Zarr};
use exmc::prelude::*;
use exmc::sampler::Trace;
use serde_json::{Value, json};

const GROUPS: [&str; 3] = ["north", "south", "east"];

/// Data: three groups of 20 values, Normal noise with three gross outliers.
fn data() -> (Vec<i64>, Vec<f64>) {
    let g: Vec<i64> = (0..60).map(|i| i % 3).collect();
    let offsets = [-1.0, 0.5, 1.5];
    let mut y: Vec<f64> =
        (0..60).map(|i| offsets[g[i] as usize] + 0.6 * (((i * 37) % 17) as f64 / 8.0 - 1.0)).collect();
    for (i, v) in [(4, 9.0), (25, -8.0), (47, 12.0)] {
        y[i] = v;
    }
    (g, y)
}

fn model(student: bool) -> Result<Model> {
    let (g, y) = data();
    let mut m = Model::new();
    let group = m.int_data("group", &g)?;
    let mu = m.rv("mu", Normal::new(0, 5))?;
    let tau = m.rv("tau", HalfNormal::new(2))?;
    let a = m.rv_vec("a", Normal::new(mu, tau), 3)?;
    m.set_labels(a, GROUPS.iter().map(|s| s.to_string()).collect())?;
    let sigma = m.rv("sigma", HalfNormal::new(2))?;
    let mean = a.at(group);
    if student {
        let nu = m.rv("nu", Gamma::new(2, 0.1))?;
        m.observe("y", StudentT::new(nu, mean, sigma), &y)?;
    } else {
        m.observe("y", Normal::new(mean, sigma), &y)?;
    }
    m.deterministic("spread", sigma * 2.0)?;
    // A matrix (2 × 3, row by row) with labelled rows and columns: Stan's `gaps.2.3`
    // columns, ArviZ's two dims with their coordinates.
    let pairs = m.int_data("pairs", &[0, 1, 2, 0, 1, 2])?;
    let gaps = m.deterministic(
        "gaps",
        ((a.at(pairs) - mu) * Expr::data(vec![1.0, 1.0, 1.0, 2.0, 2.0, 2.0])).reshape(2, 3),
    )?;
    let strings = |v: &[&str]| v.iter().map(|s| s.to_string()).collect();
    m.set_matrix_labels(gaps, strings(&["once", "twice"]), strings(&GROUPS))?;
    Ok(m)
}

/// A trace group as the manifest records it: every variable's dims, shape and a sample of
/// values (first, middle and last element of the flattened array).
fn group_manifest(trace: &Trace, names: &[&str]) -> Value {
    let mut vars = serde_json::Map::new();
    for v in trace.vars.iter().filter(|v| names.contains(&v.name.as_str())) {
        let dims: Vec<String> = ["chain".to_string(), "draw".to_string()]
            .into_iter()
            .chain((0..v.shape.len()).map(|k| format!("{}_dim_{k}", v.name)))
            .collect();
        let shape: Vec<usize> =
            [trace.chains, trace.draws].into_iter().chain(v.shape.iter().copied()).collect();
        // A matrix's labels per dimension, as its coordinates are written.
        let labels = match (v.shape.as_slice(), v.labels.as_deref()) {
            (&[r, c], Some(l)) => Shape::split_matrix_labels(l, r, c).map(|(rows, cols)| json!([rows, cols])),
            (_, l) => l.map(|l| json!(l)),
        };
        vars.insert(v.name.clone(), var_manifest(dims, shape, &v.values, labels));
    }
    json!({ "chains": trace.chains, "draws": trace.draws, "variables": vars })
}

fn var_manifest(dims: Vec<String>, shape: Vec<usize>, values: &[f64], labels: Option<Value>) -> Value {
    let n = values.len();
    let sample: Vec<(usize, f64)> =
        [0, n / 2, n.saturating_sub(1)].into_iter().map(|i| (i, values[i])).collect();
    json!({ "dims": dims, "shape": shape, "sample": sample, "labels": labels })
}

fn run(name: &str, student: bool, out: &Path) -> Result<(Fit, exmc::sampler::LogLikelihood, Value)> {
    let m = model(student)?;
    let dir = out.join(name);
    let zarr = dir.join("trace.zarr");
    let fit = Sampler::new(&m)
        .chains(4)
        .warmup(500)
        .draws(500)
        .seed(11)
        .target_accept(0.95)
        .progress(false)
        .save(CmdStanCsv::new(&dir).model_name(name))
        .save(Zarr::new(&zarr))
        .run()?;
    let ll = log_likelihood(&m, &fit)?;
    let ppc = posterior_predictive(&m, &fit, 12)?;
    let prior = prior_predictive(&m, 300, 13)?;
    InferenceData::new(&m).log_likelihood(&ll).posterior_predictive(&ppc).prior(&prior).write_zarr(&zarr)?;
    // What was written, from the objects in memory.
    let free: Vec<&str> = fit.trace.vars.iter().map(|v| v.name.as_str()).collect();
    let prior_free: Vec<&str> = prior.vars.iter().map(|v| v.name.as_str()).filter(|n| *n != "y").collect();
    let ll_trace = Trace {
        chains: ll.chains,
        draws: ll.draws,
        vars: vec![exmc::sampler::TraceVar {
            name: "y".into(),
            shape: vec![ll.values.len()],
            values: (0..ll.chains * ll.draws).flat_map(|s| ll.values.iter().map(move |o| o[s])).collect(),
            labels: None,
        }],
        stats: Vec::new(),
        warmup_stats: Vec::new(),
    };
    let (_, y) = data();
    let stats: Vec<f64> = fit.trace.stats.iter().flatten().map(|s| s.lp).collect();
    let manifest = json!({
        "csv": (0..4).map(|c| CmdStanCsv::new(&dir).model_name(name).chain_path(c)).collect::<Vec<PathBuf>>(),
        "zarr": zarr,
        "step_size": fit.trace.stats.iter().map(|c| c[0].step_size).collect::<Vec<_>>(),
        "groups": {
            "posterior": group_manifest(&fit.trace, &free),
            "sample_stats": { "variables": { "lp": var_manifest(vec!["chain".into(), "draw".into()], vec![4, 500], &stats, None) } },
            "observed_data": { "variables": { "y": var_manifest(vec!["y_dim_0".into()], vec![y.len()], &y, None) } },
            "log_likelihood": group_manifest(&ll_trace, &["y"]),
            "posterior_predictive": group_manifest(&ppc, &["y"]),
            "prior": group_manifest(&prior, &prior_free),
            "prior_predictive": group_manifest(&prior, &["y"]),
        },
    });
    Ok((fit, ll, manifest))
}

fn main() -> Result<()> {
    let out = PathBuf::from(std::env::args().nth(1).unwrap_or_else(|| "save_and_compare_out".into()));
    let mut manifest = BTreeMap::new();
    let mut fits = Vec::new();
    for (name, student) in [("normal", false), ("student_t", true)] {
        let (fit, ll, m) = run(name, student, &out)?;
        println!("{name}: {} divergences, min ESS_bulk {:.0}", fit.divergences(), fit.min_ess_bulk());
        manifest.insert(name.to_string(), m);
        fits.push((name.to_string(), ll.loo(&fit)));
    }
    let path = out.join("manifest.json");
    std::fs::write(&path, serde_json::to_string_pretty(&manifest).expect("JSON")).map_err(|e| {
        Error::TraceFile { file: path.display().to_string(), line: None, reason: e.to_string() }
    })?;
    let models: Vec<(&str, &exmc::diagnostics::Elpd)> = fits.iter().map(|(n, e)| (n.as_str(), e)).collect();
    let table = compare(&models, Weighting::Stacking)
        .map_err(|e| Error::InvalidOption { option: "compare", reason: e.to_string() })?;
    println!("{table}");
    println!("wrote {}", out.display());
    Ok(())
}
