//! The run directory `exmc sample` writes and `exmc summary` / `exmc merge` read.

use std::path::{Path, PathBuf};

use exmc::diagnostics::{Elpd, Sensitivity, Summary};
use exmc::io::{InferenceData, read_cmdstan_dir, read_zarr};
use exmc::plot::{PlotKind, PlotOptions};
use exmc::prelude::*;
use exmc::sampler::{LogLikelihood, LogPrior, Trace};
use serde::{Deserialize, Serialize};

/// CmdStan CSV files, one per chain.
const CSV: &str = "csv";
/// The ArviZ InferenceData store.
const ZARR: &str = "posterior.zarr";
/// The summary table as printed.
const SUMMARY: &str = "summary.txt";
/// The settings of the run ([`RunRecord`]).
const RUN: &str = "run.json";
/// PSIS-LOO of the run ([`LooRecord`]).
const LOO: &str = "loo.json";
/// The power-scaling sensitivity table.
const SENSITIVITY: &str = "sensitivity.json";
/// The diagnostic plots.
const PLOTS: &str = "plots";
/// The HTML report.
const REPORT: &str = "report.html";

/// An error about `path`.
fn file_error(path: &Path, reason: String) -> Error {
    Error::TraceFile { file: path.display().to_string(), line: None, reason }
}

/// Writes `text` into `path`, creating its directory.
pub fn write_file(path: &Path, text: &str) -> Result<()> {
    write_bytes(path, text.as_bytes())
}

/// Writes `bytes` into `path`, creating its directory.
pub fn write_bytes(path: &Path, bytes: &[u8]) -> Result<()> {
    if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent).map_err(|e| file_error(parent, e.to_string()))?;
    }
    std::fs::write(path, bytes).map_err(|e| file_error(path, e.to_string()))
}

/// A run directory being written. Until [`RunDir::keep`], dropping it removes the directories
/// this run made, where nothing was written into them (a refused option or `--init` file
/// leaves no empty run directory behind); only empty directories are removed.
pub struct RunDir {
    root: PathBuf,
    /// The directories this run made: the run directory and the parents it lacked, deepest
    /// first.
    made: Vec<PathBuf>,
    kept: bool,
}

impl RunDir {
    /// Creates `root` (and its parents) if missing.
    pub fn create(root: &Path) -> Result<RunDir> {
        let made: Vec<PathBuf> = root
            .ancestors()
            .take_while(|d| !d.as_os_str().is_empty() && !d.exists())
            .map(Path::to_path_buf)
            .collect();
        std::fs::create_dir_all(root)
            .map_err(|e| file_error(root, format!("cannot create the run directory: {e}")))?;
        Ok(RunDir { root: root.to_path_buf(), made, kept: false })
    }

    /// Keeps the directory: the run has begun writing it.
    pub fn keep(&mut self) {
        self.kept = true;
    }

    /// The CSV directory.
    pub fn csv(&self) -> PathBuf {
        self.root.join(CSV)
    }

    /// The Zarr store.
    pub fn zarr(&self) -> PathBuf {
        self.root.join(ZARR)
    }

    /// Draws every plot kind of `trace` (default options) into `plots/`, and returns them.
    pub fn write_plots(&self, trace: &Trace) -> Result<Vec<(PlotKind, String)>> {
        PlotKind::ALL
            .into_iter()
            .map(|kind| {
                let svg = exmc::plot::plot(trace, kind, &PlotOptions::default())?;
                self.write_plot(kind.name(), &svg)?;
                Ok((kind, svg))
            })
            .collect()
    }

    /// Writes `plots/<name>.svg`.
    pub fn write_plot(&self, name: &str, svg: &str) -> Result<()> {
        write_file(&self.root.join(PLOTS).join(format!("{name}.svg")), svg)
    }

    /// Writes the HTML report.
    pub fn write_report(&self, html: &str) -> Result<()> {
        write_file(&self.root.join(REPORT), html)
    }

    /// The pointwise log-likelihood of `fit`'s draws (ArviZ's `log_likelihood` group) and its
    /// PSIS-LOO estimate, for `exmc compare`: writes `loo.json` and the Pareto k̂ plot, and
    /// returns both with the plot. `None` when the model observes nothing or there are no
    /// draws.
    pub fn write_likelihood(&self, model: &Model, fit: &Fit) -> Result<Option<Likelihood>> {
        let observed = model.nodes().iter().any(|n| matches!(n.kind, NodeKind::Observed { .. }));
        if !observed || fit.trace.draws == 0 {
            return Ok(None);
        }
        let values = log_likelihood(model, fit)?;
        let loo = exmc::diagnostics::loo(&values.values, exmc::sampler::relative_eff(fit));
        let path = self.root.join(LOO);
        let text = serde_json::to_string_pretty(&LooRecord::from(&loo))
            .map_err(|er| file_error(&path, er.to_string()))?;
        write_file(&path, &(text + "\n"))?;
        let pareto_k = exmc::plot::pareto_k(&loo)?;
        self.write_plot("pareto_k", &pareto_k)?;
        Ok(Some(Likelihood { values, loo, pareto_k }))
    }

    /// The power-scaling sensitivity of `fit`'s draws with the default options (from
    /// `likelihood`'s pointwise values and the compiled log prior): writes `sensitivity.json`
    /// and returns the table with the log prior (ArviZ's `log_prior` group). `None`, with no
    /// `sensitivity.json` left from before, where the model observes nothing (no `likelihood`)
    /// or there are fewer than 2 draws; on an error the file is gone too.
    pub fn write_sensitivity(
        &self,
        model: &Model,
        fit: &Fit,
        likelihood: Option<&LogLikelihood>,
    ) -> Result<Option<(Sensitivity, LogPrior)>> {
        let path = self.root.join(SENSITIVITY);
        if path.exists() {
            std::fs::remove_file(&path).map_err(|e| file_error(&path, e.to_string()))?;
        }
        let Some(likelihood) = likelihood else { return Ok(None) };
        if fit.trace.chains * fit.trace.draws < 2 {
            return Ok(None);
        }
        let options = SensitivityOptions::default();
        let log_prior = compute_log_prior(model, fit, BackendChoice::Cpu)?;
        let s = exmc::sampler::sensitivity_from_terms(fit, &log_prior, likelihood, &options)?;
        let text = serde_json::to_string_pretty(&sensitivity_json(&s, &options))
            .map_err(|e| file_error(&path, e.to_string()))?;
        write_file(&path, &(text + "\n"))?;
        Ok(Some((s, log_prior)))
    }

    /// [`RunDir::write_sensitivity`] after sampling, where a failure is a note on stderr rather
    /// than the run's error (the draws are written by then).
    pub fn sensitivity_or_note(
        &self,
        model: &Model,
        fit: &Fit,
        likelihood: Option<&Likelihood>,
    ) -> Option<(Sensitivity, LogPrior)> {
        self.write_sensitivity(model, fit, likelihood.map(|l| &l.values)).unwrap_or_else(|e| {
            eprintln!("exmc: note: no power-scaling sensitivity: {e}");
            None
        })
    }

    /// Writes the summary table.
    pub fn write_summary(&self, s: &Summary) -> Result<()> {
        let path = self.root.join(SUMMARY);
        write_file(&path, &format!("{s}\n"))
    }

    /// Writes the run's settings.
    pub fn write_run(&self, r: &RunRecord) -> Result<()> {
        let path = self.root.join(RUN);
        let text = serde_json::to_string_pretty(r).map_err(|e| file_error(&path, e.to_string()))?;
        write_file(&path, &(text + "\n"))
    }
}

/// What `run.json` records.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct RunRecord {
    /// exmc's version.
    pub exmc: String,
    /// The model file.
    pub model: PathBuf,
    /// The data file.
    pub data: Option<PathBuf>,
    /// The model's name (the CSV files' prefix).
    pub name: String,
    /// Chains of the whole run.
    pub chains: usize,
    /// The chains this directory holds.
    pub chain_ids: Vec<usize>,
    /// Warmup iterations per chain.
    pub warmup: usize,
    /// Kept draws per chain.
    pub draws: usize,
    /// Seed.
    pub seed: u64,
    /// Target acceptance.
    pub target_accept: f64,
    /// Maximum tree depth.
    pub max_treedepth: u32,
    /// Warmup adaptation (`--adaptation`; empty in records older than the option).
    #[serde(default)]
    pub adaptation: String,
    /// Mass matrix (`--metric`).
    #[serde(default)]
    pub metric: String,
    /// Precision of the GPU kernels (`--gpu-precision`; the CPU backend ignores it).
    #[serde(default)]
    pub gpu_precision: String,
    /// The backend that ran the chains.
    pub backend: String,
    /// Sampling time in seconds (none for merged runs).
    pub sampling_s: Option<f64>,
    /// Divergent transitions after warmup.
    pub divergences: usize,
    /// Whether the run was stopped early.
    pub cancelled: bool,
}

/// What [`RunDir::write_likelihood`] computed.
pub struct Likelihood {
    /// The pointwise log-likelihood.
    pub values: LogLikelihood,
    /// Its PSIS-LOO estimate.
    pub loo: Elpd,
    /// The Pareto k̂ plot (SVG).
    pub pareto_k: String,
}

/// A run directory's HTML report without its settings: the summary, warnings (an E-BFMI
/// below 0.3, Pareto k̂ above its threshold), every plot with the Pareto k̂ plot, and the
/// model file's text.
pub fn report(
    title: &str,
    fit: &Fit,
    summary: &Summary,
    likelihood: Option<&Likelihood>,
    sensitivity: Option<&Sensitivity>,
    plots: Vec<(PlotKind, String)>,
    model: &Path,
) -> exmc::report::Report {
    let mut report = exmc::report::Report::new(title.to_string()).summary(summary);
    if let Some(s) = sensitivity {
        report = report.sensitivity(s);
    }
    for (c, b) in fit.bfmi().iter().enumerate() {
        if *b < 0.3 {
            report = report.warning(format!(
                "chain {c}: E-BFMI {b:.2} is below 0.3: the momentum resampling explores the energy poorly; \
                 reparameterise or lengthen warmup"
            ));
        }
    }
    if let Some(e) = likelihood.map(|l| &l.loo) {
        let bad = e.bad_k();
        if !bad.is_empty() {
            report = report.warning(format!(
                "{} of {} observations have Pareto k̂ above {:.2}: PSIS-LOO is unreliable for them",
                bad.len(),
                e.pareto_k.len(),
                e.good_k
            ));
        }
    }
    for (kind, svg) in plots {
        report = report.plot(kind.name(), svg);
    }
    if let Some(l) = likelihood {
        report = report.plot("pareto_k", l.pareto_k.clone());
    }
    report.source(model.display().to_string(), std::fs::read_to_string(model).unwrap_or_default())
}

/// `sensitivity.json`: the table, the options that made it and the weights' k̂ (non-finite
/// numbers as `null`).
pub fn sensitivity_json(s: &Sensitivity, options: &SensitivityOptions) -> serde_json::Value {
    let rows: Vec<serde_json::Value> = s
        .rows
        .iter()
        .map(|r| {
            serde_json::json!({
                "name": r.name, "prior": r.prior, "likelihood": r.likelihood,
                "diagnosis": r.diagnosis.as_str(),
            })
        })
        .collect();
    serde_json::json!({
        "delta": s.delta,
        "threshold": s.threshold,
        "prior": options.prior,
        "likelihood": options.likelihood,
        "rows": rows,
        "prior_pareto_k": s.prior_pareto_k,
        "likelihood_pareto_k": s.likelihood_pareto_k,
        "pareto_k_threshold": s.pareto_k_threshold,
        "warnings": s.warnings,
    })
}

/// `loo.json`: PSIS-LOO with non-finite numbers as `null` (JSON has no NaN).
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct LooRecord {
    elpd_loo: Option<f64>,
    se: Option<f64>,
    p_loo: Option<f64>,
    n_samples: usize,
    good_k: Option<f64>,
    warning: bool,
    pointwise: Vec<Option<f64>>,
    pareto_k: Vec<Option<f64>>,
}

fn finite(x: f64) -> Option<f64> {
    x.is_finite().then_some(x)
}

impl From<&Elpd> for LooRecord {
    fn from(e: &Elpd) -> LooRecord {
        LooRecord {
            elpd_loo: finite(e.elpd),
            se: finite(e.se),
            p_loo: finite(e.p),
            n_samples: e.n_samples,
            good_k: finite(e.good_k),
            warning: e.warning,
            pointwise: e.pointwise.iter().map(|&x| finite(x)).collect(),
            pareto_k: e.pareto_k.iter().map(|&x| finite(x)).collect(),
        }
    }
}

/// Reads `dir/loo.json`.
pub fn read_loo(dir: &Path) -> Result<Elpd> {
    let path = dir.join(LOO);
    let text = std::fs::read_to_string(&path).map_err(|e| file_error(&path, e.to_string()))?;
    let r: LooRecord =
        serde_json::from_str(&text).map_err(|e| file_error(&path, format!("not a LOO record: {e}")))?;
    let nan = |x: Option<f64>| x.unwrap_or(f64::NAN);
    Ok(Elpd {
        criterion: exmc::diagnostics::Criterion::Loo,
        elpd: nan(r.elpd_loo),
        se: nan(r.se),
        p: nan(r.p_loo),
        pointwise: r.pointwise.into_iter().map(nan).collect(),
        n_samples: r.n_samples,
        pareto_k: r.pareto_k.into_iter().map(nan).collect(),
        good_k: nan(r.good_k),
        warning: r.warning,
    })
}

/// The trace of a run directory, a directory of CmdStan CSV files, or a Zarr store.
pub fn read_trace(dir: &Path) -> Result<Trace> {
    if !dir.exists() {
        return Err(file_error(dir, "no such file or directory".into()));
    }
    let is_zarr = dir.extension().is_some_and(|x| x == "zarr");
    if is_zarr {
        return read_zarr(dir);
    }
    if dir.join(ZARR).is_dir() {
        return read_zarr(dir.join(ZARR));
    }
    let csv = if dir.join(CSV).is_dir() { dir.join(CSV) } else { dir.to_path_buf() };
    Ok(read_cmdstan_dir(csv)?.trace)
}

/// A run directory (a whole run or one shard of it), read.
pub struct Shard {
    dir: PathBuf,
    record: RunRecord,
    trace: Trace,
}

impl Shard {
    /// What `run.json` records.
    pub fn record(&self) -> &RunRecord {
        &self.record
    }

    /// The trace.
    pub fn into_trace(self) -> Trace {
        self.trace
    }

    /// Reads `dir`'s `run.json` and trace.
    pub fn read(dir: &Path) -> Result<Shard> {
        let run = dir.join(RUN);
        let text = std::fs::read_to_string(&run).map_err(|e| file_error(&run, e.to_string()))?;
        let record: RunRecord =
            serde_json::from_str(&text).map_err(|e| file_error(&run, format!("not a run record: {e}")))?;
        let trace = read_zarr(dir.join(ZARR))?;
        if trace.chains != record.chain_ids.len() {
            return Err(file_error(
                dir,
                format!("{} chains in {ZARR}, but {RUN} lists {}", trace.chains, record.chain_ids.len()),
            ));
        }
        Ok(Shard { dir: dir.to_path_buf(), record, trace })
    }
}

/// What the shards of one run share.
#[allow(clippy::type_complexity)]
fn agreement(
    r: &RunRecord,
) -> ((&PathBuf, &Option<PathBuf>, usize, usize, usize, u64), (f64, u32, &str, &str, &str)) {
    (
        (&r.model, &r.data, r.chains, r.warmup, r.draws, r.seed),
        (r.target_accept, r.max_treedepth, &r.adaptation, &r.metric, &r.gpu_precision),
    )
}

/// Joins `shards` (same model, data and settings; disjoint chains) into the run directory
/// `out`, chains in id order: the CSV files are copied; the Zarr store (with the pointwise
/// log-likelihood and log prior), `loo.json`, `sensitivity.json`, the summary, the plots and
/// the report are written from the joined trace.
/// Returns the joined trace.
pub fn merge(shards: &[Shard], out: &Path) -> Result<Trace> {
    let mut order: Vec<&Shard> = shards.iter().collect();
    order.sort_by_key(|s| s.record.chain_ids.first().copied().unwrap_or(usize::MAX));
    let first = &order[0].record;
    let mut seen = std::collections::BTreeMap::new();
    for s in &order {
        let r = &s.record;
        let same = agreement(r) == agreement(first);
        if !same {
            return Err(file_error(
                &s.dir.join(RUN),
                format!(
                    "not a shard of the same run as {}: the model, data, chains, warmup, draws, seed, \
                     target acceptance, tree depth, adaptation, metric and GPU precision must all \
                     agree",
                    order[0].dir.display()
                ),
            ));
        }
        for &c in &r.chain_ids {
            if let Some(other) = seen.insert(c, s.dir.clone()) {
                return Err(file_error(
                    &s.dir,
                    format!("chain {c} is also in {}: shards must hold disjoint chains", other.display()),
                ));
            }
        }
    }
    let traces: Vec<Trace> = order.iter().map(|s| s.trace.clone()).collect();
    let trace = Trace::concat(&traces)?;
    let dir = RunDir::create(out)?;
    let csv = dir.csv();
    std::fs::create_dir_all(&csv).map_err(|e| file_error(&csv, e.to_string()))?;
    for s in &order {
        let from = s.dir.join(CSV);
        let entries = std::fs::read_dir(&from).map_err(|e| file_error(&from, e.to_string()))?;
        for path in entries.filter_map(|e| e.ok().map(|e| e.path())) {
            if path.extension().is_some_and(|x| x == "csv")
                && let Some(name) = path.file_name()
            {
                let to = csv.join(name);
                std::fs::copy(&path, &to).map_err(|e| file_error(&to, e.to_string()))?;
            }
        }
    }
    let model = Model::from_files(&first.model, first.data.as_deref())?;
    let zarr = dir.zarr();
    if zarr.exists() {
        std::fs::remove_dir_all(&zarr).map_err(|e| file_error(&zarr, e.to_string()))?;
    }
    // The joined draws' log-likelihood and PSIS-LOO, as the whole run's directory has them.
    let fit = Fit::from_trace(trace);
    let mut idata = InferenceData::new(&model).posterior_trace(&fit.trace).warmup(first.warmup);
    let likelihood = dir.write_likelihood(&model, &fit)?;
    if let Some(l) = &likelihood {
        idata = idata.log_likelihood(&l.values);
    }
    let sensitivity = dir.sensitivity_or_note(&model, &fit, likelihood.as_ref());
    if let Some((_, lp)) = &sensitivity {
        idata = idata.log_prior(lp);
    }
    idata.write_zarr(&zarr)?;
    let summary = fit.trace.summary();
    dir.write_summary(&summary)?;
    let plots = dir.write_plots(&fit.trace)?;
    let title = format!("{}: exmc run, merged from {} directories", first.name, order.len());
    let merged_from: Vec<String> = order.iter().map(|s| s.dir.display().to_string()).collect();
    let backends: std::collections::BTreeSet<&str> =
        order.iter().map(|s| s.record.backend.as_str()).collect();
    let backend = backends.into_iter().collect::<Vec<_>>().join(",");
    // Each shard's sampling time, in the order merged (they may have run at once).
    let times: Vec<String> =
        order.iter().map(|s| s.record.sampling_s.map_or("unknown".into(), |t| format!("{t:.3} s"))).collect();
    let settings: Vec<(&str, String)> = vec![
        ("model", first.model.display().to_string()),
        ("data", first.data.as_ref().map_or("none".into(), |d| d.display().to_string())),
        ("merged from", merged_from.join(", ")),
        ("chains", format!("{} (ids {:?})", seen.len(), seen.keys().collect::<Vec<_>>())),
        ("warmup", first.warmup.to_string()),
        ("draws", first.draws.to_string()),
        ("seed", first.seed.to_string()),
        ("adaptation", first.adaptation.clone()),
        ("metric", first.metric.clone()),
        (
            "GPU precision",
            if first.gpu_precision.is_empty() { "not recorded".into() } else { first.gpu_precision.clone() },
        ),
        ("target acceptance", first.target_accept.to_string()),
        ("maximum tree depth", first.max_treedepth.to_string()),
        ("backend", backend.clone()),
        ("sampling time of each shard", times.join(", ")),
        ("divergences", fit.trace.divergences().to_string()),
        (
            "elpd_loo",
            likelihood.as_ref().map_or("no observed data".into(), |l| {
                format!("{:.2} (se {:.2}, p_loo {:.2})", l.loo.elpd, l.loo.se, l.loo.p)
            }),
        ),
    ];
    let report = report(
        &title,
        &fit,
        &summary,
        likelihood.as_ref(),
        sensitivity.as_ref().map(|s| &s.0),
        plots,
        &first.model,
    );
    dir.write_report(&settings.into_iter().fold(report, |r, (k, v)| r.setting(k, v)).to_html())?;
    let trace = fit.trace;
    dir.write_run(&RunRecord {
        chain_ids: seen.keys().copied().collect(),
        backend,
        sampling_s: None,
        divergences: order.iter().map(|s| s.record.divergences).sum(),
        cancelled: order.iter().any(|s| s.record.cancelled),
        ..first.clone()
    })?;
    Ok(trace)
}

impl Drop for RunDir {
    fn drop(&mut self) {
        if !self.kept && !self.made.is_empty() {
            let _ = std::fs::remove_dir(self.csv());
            let _ = std::fs::remove_dir(self.zarr());
            for d in &self.made {
                let _ = std::fs::remove_dir(d);
            }
        }
    }
}
