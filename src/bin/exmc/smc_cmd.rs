//! `exmc smc`: sequential Monte Carlo on a model file.

use std::path::PathBuf;

use clap::{Args, ValueEnum};
use exmc::prelude::*;

use super::{BackendArg, by_name, flag_error, write_json};

#[derive(Args, Debug)]
pub struct SmcArgs {
    /// The model file (TOML).
    model: PathBuf,
    /// The data file (JSON), if the model reads data.
    data: Option<PathBuf>,
    /// Particles per chain (the chain's draws).
    #[arg(long, default_value_t = 2000)]
    draws: usize,
    /// Independent chains, each with its own estimate of the log marginal likelihood.
    #[arg(long, default_value_t = 4)]
    chains: usize,
    /// The moves: independent proposals from a normal fitted to the particles (PyMC's
    /// default), random-walk steps from their covariance (PyMC's MH), or Hamiltonian
    /// trajectories of 10 leapfrog steps (for posteriors the others lose track of).
    #[arg(long, value_enum, default_value_t = KernelArg::Imh)]
    kernel: KernelArg,
    /// The share of the particles the importance weights keep at each stage, in (0, 1):
    /// higher means more stages.
    #[arg(long, default_value_t = 0.5)]
    threshold: f64,
    /// The fall in correlation a move must make for moves to go on, in (0, 1): lower means
    /// more moves per stage.
    #[arg(long, default_value_t = 0.01)]
    correlation_threshold: f64,
    /// Most stages per chain.
    #[arg(long, default_value_t = 1000)]
    max_stages: usize,
    /// Move the particles in the model as written, without automatic non-centring.
    #[arg(long)]
    no_noncenter: bool,
    /// Where the particles are evaluated.
    #[arg(long, value_enum, default_value_t = BackendArg::Auto)]
    backend: BackendArg,
    /// Seed of the prior draws and of every move.
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// Write the result as JSON: `draws` (constrained, by name, chain after chain),
    /// `log_marginal_likelihood` (each chain's), `log_evidence` (pooled), `log_evidence_sd`,
    /// `kernel`, `evaluations`, and `stages` (each chain's: `beta`, `log_marginal_likelihood`,
    /// `steps`, `accept_rate`, `proposal_scale`, `lagging`), `warnings`. A number that is not finite is `null`.
    #[arg(long)]
    json: Option<PathBuf>,
    /// Write the draws as an ArviZ Zarr store at this path (with the stages in
    /// `sample_stats`).
    #[arg(long)]
    zarr: Option<PathBuf>,
    /// No progress bars.
    #[arg(long)]
    quiet: bool,
}

/// The moves of `exmc smc`, in PyMC's names.
#[derive(Clone, Copy, Debug, ValueEnum)]
enum KernelArg {
    Imh,
    Mh,
    Hmc,
}

/// Prints the draws' summary, the log marginal likelihoods and each chain's stages, and writes
/// the result.
pub fn smc(a: &SmcArgs) -> Result<()> {
    let model = Model::from_files(&a.model, a.data.as_deref())?;
    let options = SmcOptions {
        draws: a.draws,
        chains: a.chains,
        kernel: match a.kernel {
            KernelArg::Imh => SmcKernel::Imh,
            KernelArg::Mh => SmcKernel::Mh,
            KernelArg::Hmc => SmcKernel::Hmc,
        },
        threshold: a.threshold,
        correlation_threshold: a.correlation_threshold,
        seed: a.seed,
        noncenter: !a.no_noncenter,
        max_stages: a.max_stages,
        backend: a.backend.choice(),
        progress: !a.quiet,
    };
    let smc = sample_smc(&model, &options).map_err(flag_error)?;
    println!(
        "Sequential Monte Carlo ({}), {} chains of {} particles:\n{}",
        smc.kernel.name(),
        smc.fit.trace.chains,
        smc.fit.trace.draws,
        smc.fit.trace.summary()
    );
    for (c, (stages, log_ml)) in smc.stages.iter().zip(&smc.log_marginal_likelihood).enumerate() {
        println!("chain {c}: log marginal likelihood {log_ml:.4} after {} stages", stages.len());
        for (k, s) in stages.iter().enumerate() {
            let scale = if s.proposal_scale.is_nan() {
                String::new()
            } else {
                format!(", scale {:.3}", s.proposal_scale)
            };
            println!(
                "  stage {:>3}: beta {:.6}, {:>3} moves, acceptance {:.3}{scale}{}",
                k + 1,
                s.beta,
                s.steps,
                s.accept_rate,
                if s.lagging { ", still lagging" } else { "" }
            );
        }
    }
    println!(
        "log marginal likelihood (pooled over chains) {:.4}, chains' sd {:.4}; {} evaluations",
        smc.log_evidence(),
        smc.log_evidence_sd(),
        smc.evaluations
    );
    for w in smc.warnings() {
        eprintln!("exmc: warning: {w}");
    }
    if let Some(path) = &a.json {
        let stages: Vec<Vec<serde_json::Value>> = smc
            .stages
            .iter()
            .map(|chain| {
                chain
                    .iter()
                    .map(|s| {
                        serde_json::json!({
                            "beta": s.beta,
                            "log_marginal_likelihood": s.log_marginal_likelihood,
                            "steps": s.steps,
                            "accept_rate": s.accept_rate,
                            "proposal_scale": s.proposal_scale,
                            "lagging": s.lagging,
                        })
                    })
                    .collect()
            })
            .collect();
        let json = serde_json::json!({
            "draws": by_name(smc.fit.trace.vars.iter().map(|v| (&v.name, &v.values))),
            "log_marginal_likelihood": smc.log_marginal_likelihood,
            "log_evidence": smc.log_evidence(),
            "log_evidence_sd": smc.log_evidence_sd(),
            "kernel": smc.kernel.name(),
            "evaluations": smc.evaluations,
            "stages": stages,
            "warnings": smc.warnings(),
        });
        write_json(path, &json, "--json")?;
    }
    if let Some(dir) = &a.zarr {
        exmc::io::InferenceData::new(&model).smc(&smc).write_zarr(dir)?;
        eprintln!("exmc: wrote {}", dir.display());
    }
    Ok(())
}
