//! Softmax (multinomial logistic) regression on the simulated choices of
//! `tests/data/softmax_oracle.json` (240 observations, 2 covariates, 3 categories): the
//! posterior next to PyMC's (stored in the same file), with wall time, the smallest bulk ESS and
//! gradients. `scripts/softmax_peers.py` runs nutpie on the same data and settings.
//!
//! ```text
//! cargo run --release --example softmax_regression -- [--chains 4] [--seed 1]
//! ```

#[path = "common/args.rs"]
#[allow(dead_code)]
mod args;

use exmc::prelude::*;

fn main() -> Result<()> {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/softmax_oracle.json");
    let text = std::fs::read_to_string(path).expect("tests/data/softmax_oracle.json is in the repository");
    let o: serde_json::Value = serde_json::from_str(&text).map_err(|e| Error::Json(e.to_string()))?;
    let floats = |v: &serde_json::Value| -> Vec<f64> {
        v.as_array().into_iter().flatten().filter_map(serde_json::Value::as_f64).collect()
    };
    let size = |k: &str| o[k].as_u64().unwrap_or(0) as usize;
    let (n, c, k) = (size("n"), size("c"), size("k"));
    let mut m = Model::new();
    let x = m.data_matrix("x", n, c, floats(&o["x"]))?;
    let alpha = m.rv_vec("alpha", Normal::new(0, 2), k)?;
    let beta = m.rv_matrix("beta", Normal::new(0, 1), c, k)?;
    m.observe("y", Categorical::logit(alpha + x.matmul(beta, k)), &floats(&o["y"]))?;
    let chains = args::arg("--chains", 4usize);
    let start = std::time::Instant::now();
    let fit =
        Sampler::new(&m).chains(chains).warmup(1000).draws(1000).seed(args::arg("--seed", 1u64)).run()?;
    let secs = start.elapsed().as_secs_f64();
    let summary = fit.summary();
    println!("{summary}");
    println!("{:<10} {:>9} {:>9} {:>9} {:>9}", "", "mean", "PyMC", "sd", "PyMC sd");
    for name in ["alpha", "beta"] {
        let (mean, sd) = (floats(&o["posterior"][name]["mean"]), floats(&o["posterior"][name]["sd"]));
        let var = fit.trace.var(name).expect("traced");
        for (e, (pm, ps)) in mean.iter().zip(&sd).enumerate() {
            let label = var.element_name(e);
            let row = summary.get(&label).expect("summary row");
            println!("{:<10} {:>9.3} {:>9.3} {:>9.3} {:>9.3}", label, row.mean, pm, row.sd, ps);
        }
    }
    let ess = summary.rows.iter().map(|r| r.ess_bulk).fold(f64::INFINITY, f64::min);
    let grads: usize = fit.trace.stats.iter().flatten().map(|s| s.n_leapfrog as usize).sum();
    println!(
        "{chains} chains × 1000 + 1000: {secs:.2} s, min ESS_bulk {ess:.0} ({:.0}/s), {:.1} ESS per 1,000 draw gradients, {} divergences",
        ess / secs,
        1000.0 * ess / grads as f64,
        fit.divergences()
    );
    Ok(())
}
