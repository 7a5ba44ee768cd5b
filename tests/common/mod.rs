//! Helpers shared by the integration tests.
#![allow(dead_code)]

use std::path::PathBuf;

/// The shared folder beside the repository (`EXMC_SHARED` overrides), if present.
pub fn shared_dir() -> Option<PathBuf> {
    let dir = match std::env::var_os("EXMC_SHARED") {
        Some(d) => PathBuf::from(d),
        None => PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../shared")),
    };
    dir.is_dir().then_some(dir)
}

/// Prints a visible skip message (stderr is shown even for passing tests with --nocapture;
/// the message also goes straight to the terminal's stderr).
pub fn skip(test: &str, why: &str) {
    use std::io::Write;
    let msg = format!("SKIPPED {test}: {why}");
    eprintln!("{msg}");
    let _ = writeln!(std::io::stderr().lock(), "{msg}");
}

/// Reads a JSON file under the shared folder.
pub fn shared_json(rel: &str) -> Option<serde_json::Value> {
    let path = shared_dir()?.join(rel);
    let text = std::fs::read_to_string(path).ok()?;
    serde_json::from_str(&text).ok()
}

/// Draws of element `elem` of `name` pooled over chains.
pub fn pooled(fit: &exmc::Fit, name: &str, elem: usize) -> Vec<f64> {
    fit.trace.chains_of(name, elem).expect("variable in trace").concat()
}

/// Mean, sd (ddof 1) and MCSE of the mean of one scalar.
pub fn moments(fit: &exmc::Fit, name: &str, elem: usize) -> (f64, f64, f64) {
    let chains = fit.trace.chains_of(name, elem).expect("variable in trace");
    let refs: Vec<&[f64]> = chains.iter().map(Vec::as_slice).collect();
    let all = chains.concat();
    let n = all.len() as f64;
    let mean = all.iter().sum::<f64>() / n;
    let sd = (all.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (n - 1.0)).sqrt();
    (mean, sd, exmc::diagnostics::mcse_mean(&refs))
}
