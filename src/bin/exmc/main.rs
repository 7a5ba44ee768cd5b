//! `exmc`: sample model files from a shell, summarise runs, and join shards of a run.
//!
//! ```text
//! exmc sample models/eight_schools.toml data.json --chains 4 --out runs/eight_schools
//! exmc summary runs/eight_schools
//! exmc sample MODEL DATA --chains 8 --chain-ids 0..4 --out shard0   # and 4..8 into shard1
//! exmc merge shard0 shard1 --out whole
//! ```
//!
//! A run directory holds `csv/` (one CmdStan CSV file per chain), `posterior.zarr` (ArviZ
//! InferenceData: posterior, sample_stats, observed_data), `summary.txt` and `run.json` (the
//! settings, the model and data files, timings). Errors go to stderr with the file, node or
//! option at fault, and the exit status is 1 (2 for a malformed command line).

mod init_file;
mod run_dir;
mod smc_cmd;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand, ValueEnum};
use exmc::backend::gpu::{MappingChoice, Precision};
use exmc::plot::{PlotKind, PlotOptions};
use exmc::prelude::*;

/// Bayesian inference with NUTS from the command line.
#[derive(Parser, Debug)]
#[command(name = "exmc", version, about, propagate_version = true)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Samples a model file (TOML) with its data (JSON) and writes a run directory.
    Sample(SampleArgs),
    /// Prints the summary table of a run directory (or of a directory of CmdStan CSV files,
    /// or of a Zarr store).
    Summary {
        /// The run directory, CSV directory or `.zarr` store.
        dir: PathBuf,
    },
    /// Draws diagnostic plots (SVG) of a run directory.
    Plot(PlotArgs),
    /// Ranks runs of different models of the same data by PSIS-LOO (ArviZ's `compare`).
    Compare {
        /// The run directories (each holds `loo.json`, written by `exmc sample` or `exmc
        /// merge`).
        #[arg(required = true, num_args = 2..)]
        dirs: Vec<PathBuf>,
        /// Model weights: stacking (ArviZ's default) or pseudo-BMA.
        #[arg(long, value_enum, default_value_t = WeightingArg::Stacking)]
        weighting: WeightingArg,
    },
    /// Replicates the observations at every posterior draw of a run directory (posterior
    /// predictive), optionally for new data; writes a Zarr store ArviZ opens and, for the
    /// run's own data, the predictive check and LOO-PIT plots.
    Predict(PredictArgs),
    /// Power-scaling sensitivity of a run directory (priorsense, ArviZ's `psens`): how far
    /// each posterior moves when the prior or the likelihood is raised to a power near 1,
    /// with priorsense's diagnoses. `exmc sample` and `exmc merge` write the default table
    /// (`sensitivity.json`, the report) and the `log_prior` group; this prints the table for
    /// the options given and leaves the run directory as it is.
    Sensitivity(SensitivityArgs),
    /// Finds the maximum a posteriori point of a model file by L-BFGS (PyMC's `find_MAP`,
    /// Stan's `optimize`), or with `--laplace N` draws from the Laplace approximation at the
    /// mode (Stan's `laplace`). Exits with status 1 where the search did not converge.
    Optimize(OptimizeArgs),
    /// Draws from Pathfinder's normal approximations along L-BFGS paths (Stan's `pathfinder`,
    /// PyMC-extras' `fit_pathfinder`): prints the draws' summary, Pareto k and each path's
    /// ELBO; writes the draws as JSON or an ArviZ Zarr store.
    Pathfinder(PathfinderArgs),
    /// Fits a normal approximation by ADVI (Stan's `variational`, PyMC's `pm.fit`): prints
    /// the draws' summary, Pareto k, the ELBO estimates and how the ascent ended; writes the
    /// draws as JSON or an ArviZ Zarr store.
    Variational(VariationalArgs),
    /// Sequential Monte Carlo (PyMC's `sample_smc`): particles from the prior carried to the
    /// posterior through tempered posteriors; prints the draws' summary, each chain's log
    /// marginal likelihood (for Bayes factors) and stages; writes the draws as JSON or an
    /// ArviZ Zarr store.
    Smc(smc_cmd::SmcArgs),
    /// Prints the model as a Graphviz DOT graph (PyMC's `model_to_graphviz`): render it with
    /// `dot -Tsvg`.
    Graph {
        /// The model file (TOML).
        model: PathBuf,
        /// The data file (JSON), if the model reads data.
        data: Option<PathBuf>,
        /// Write the graph to this file instead of printing it.
        #[arg(long)]
        out: Option<PathBuf>,
    },
    /// Joins run directories of disjoint chains of one run (`--chain-ids` shards) into one,
    /// with the whole run's trace, summary, plots, log-likelihood, PSIS-LOO, power-scaling
    /// sensitivity (`sensitivity.json`, the `log_prior` group) and HTML report.
    Merge {
        /// The shards' run directories.
        #[arg(required = true)]
        dirs: Vec<PathBuf>,
        /// The merged run directory.
        #[arg(long)]
        out: PathBuf,
    },
}

#[derive(Args, Debug)]
struct PredictArgs {
    /// The run directory (written by `exmc sample`).
    dir: PathBuf,
    /// Predict for this data file (JSON) instead of the run's: new covariates or group
    /// indices, in the model file's names. It must still hold every array the model file
    /// names; the observed values in it are not used (placeholders will do).
    #[arg(long)]
    data: Option<PathBuf>,
    /// Seed of the replicates.
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// The Zarr store to write (default `DIR/predictive.zarr`).
    #[arg(long)]
    out: Option<PathBuf>,
}

#[derive(Args, Debug)]
struct SensitivityArgs {
    /// The run directory (written by `exmc sample`).
    dir: PathBuf,
    /// The powers are `1/(1 + delta)` and `1 + delta` (from 1e-4 to 1).
    #[arg(long, default_value_t = exmc::diagnostics::DEFAULT_DELTA)]
    delta: f64,
    /// The sensitivity that calls for attention in the diagnoses.
    #[arg(long, default_value_t = exmc::diagnostics::THRESHOLD)]
    threshold: f64,
    /// Power-scale only these free nodes' priors (comma-separated; default every free node's).
    #[arg(long, value_delimiter = ',')]
    prior: Option<Vec<String>>,
    /// Power-scale only these observed nodes' likelihoods (comma-separated; default every
    /// observed node's).
    #[arg(long, value_delimiter = ',')]
    likelihood: Option<Vec<String>>,
    /// Write the table as JSON (the layout of the run's `sensitivity.json`): `delta`,
    /// `threshold`, `prior`, `likelihood` (the nodes chosen, or `null`), `rows` (each
    /// `name`, `prior`, `likelihood`, `diagnosis`), `prior_pareto_k`, `likelihood_pareto_k`,
    /// `pareto_k_threshold`, `warnings`. A number that is not finite is `null`.
    #[arg(long)]
    json: Option<PathBuf>,
}

#[derive(Args, Debug)]
struct OptimizeArgs {
    /// The model file (TOML).
    model: PathBuf,
    /// The data file (JSON), if the model reads data.
    data: Option<PathBuf>,
    /// Include the transforms' log-Jacobians: the mode over the unconstrained space (Stan's
    /// `jacobian=true`) instead of the constrained values' density's. (`--laplace` always
    /// does.)
    #[arg(long, conflicts_with = "laplace")]
    jacobian: bool,
    /// Seed of the random start (and of the Laplace draws).
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// Most L-BFGS iterations.
    #[arg(long, default_value_t = 2000)]
    max_iters: u64,
    /// Draw this many times from the Laplace approximation at the mode (with the Jacobian)
    /// and print their summary.
    #[arg(long)]
    laplace: Option<usize>,
    /// Write the estimate as JSON: `values` (constrained, by name), `unconstrained`, `logp`,
    /// `jacobian`, `converged`, `message`, `iterations`, `evaluations`; with `--laplace`, also
    /// `laplace` (`draws` by name, `log_p`, `log_g`, `pareto_k`, and `covariance` over the
    /// unconstrained `coordinates`, row by row). A number that is not finite is `null`.
    #[arg(long)]
    json: Option<PathBuf>,
}

#[derive(Args, Debug)]
struct PathfinderArgs {
    /// The model file (TOML).
    model: PathBuf,
    /// The data file (JSON), if the model reads data.
    data: Option<PathBuf>,
    /// Independent paths, each from its own random start.
    #[arg(long, default_value_t = 4)]
    paths: usize,
    /// Draws returned, resampled from the paths' pooled draws by Pareto-smoothed importance
    /// weights.
    #[arg(long, default_value_t = 1000, conflicts_with = "no_resample")]
    draws: usize,
    /// Draws from each path's chosen approximation.
    #[arg(long, default_value_t = 1000)]
    draws_per_path: usize,
    /// Draws estimating each iteration's ELBO.
    #[arg(long, default_value_t = 25)]
    elbo_draws: usize,
    /// Return every path's draws instead of resampling them.
    #[arg(long)]
    no_resample: bool,
    /// L-BFGS history of the paths (pairs kept), 1 to 1000.
    #[arg(long, default_value_t = 20)]
    history: usize,
    /// Seed of the starts and draws.
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// Most L-BFGS iterations per path.
    #[arg(long, default_value_t = 2000)]
    max_iters: u64,
    /// Write the draws as JSON: `draws` (constrained, by name), `log_p`, `log_q`,
    /// `pareto_k`, and `paths` (each one's `elbo`, `iteration`, `iterations`, `evaluations`,
    /// `message`). A number that is not finite is `null`.
    #[arg(long)]
    json: Option<PathBuf>,
    /// Write the draws as an ArviZ Zarr store (one chain) at this path.
    #[arg(long)]
    zarr: Option<PathBuf>,
}

#[derive(Args, Debug)]
struct VariationalArgs {
    /// The model file (TOML).
    model: PathBuf,
    /// The data file (JSON), if the model reads data.
    data: Option<PathBuf>,
    /// The variational family: independent normals, or a normal with a full covariance.
    #[arg(long, value_enum, default_value_t = FamilyArg::Meanfield)]
    algorithm: FamilyArg,
    /// Most iterations of the ascent.
    #[arg(long, default_value_t = 10_000)]
    iter: u64,
    /// Draws per gradient estimate.
    #[arg(long, default_value_t = 1)]
    grad_samples: usize,
    /// Draws per ELBO estimate.
    #[arg(long, default_value_t = 100)]
    elbo_samples: usize,
    /// Iterations between ELBO estimates.
    #[arg(long, default_value_t = 100)]
    eval_elbo: u64,
    /// Relative ELBO change below which the ascent stops.
    #[arg(long, default_value_t = 0.01)]
    tol_rel_obj: f64,
    /// The step-size scale (default: chosen by a grid search, 0.1 or 0.01 from the Laplace
    /// start, Stan's from 100 to 0.01 from Stan's start).
    #[arg(long)]
    eta: Option<f64>,
    /// Iterations of the grid search at each scale.
    #[arg(long, default_value_t = 50)]
    adapt_iter: u64,
    /// Draws from the fitted approximation.
    #[arg(long, default_value_t = 1000)]
    draws: usize,
    /// Start as Stan does, at the start point with unit scale and Stan's step-size grid,
    /// instead of from the Laplace approximation at the mode.
    #[arg(long)]
    stan_start: bool,
    /// Seed of the start and of every draw.
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// Write the fit as JSON: `draws` (constrained, by name), `log_p`, `log_q`, `pareto_k`,
    /// `algorithm`, `coordinates` (unconstrained), `mean`, `sd`, `cholesky` (full-rank, row
    /// by row; `null` otherwise), `eta`, `laplace_start`, `elbo` (each estimate's
    /// `iteration`, `elbo`, `rel_mean`, `rel_median`), `iterations`, `evaluations`,
    /// `converged`, `message`. A number that is not finite is `null`.
    #[arg(long)]
    json: Option<PathBuf>,
    /// Write the draws as an ArviZ Zarr store (one chain) at this path.
    #[arg(long)]
    zarr: Option<PathBuf>,
}

/// The family of `exmc variational`, in Stan's names.
#[derive(Clone, Copy, Debug, ValueEnum)]
enum FamilyArg {
    Meanfield,
    Fullrank,
}

/// Model weights in `exmc compare`.
#[derive(Clone, Copy, Debug, ValueEnum)]
enum WeightingArg {
    /// Stacking of predictive distributions.
    Stacking,
    /// Pseudo-BMA weights.
    PseudoBma,
}

/// What `exmc plot --kind` takes: `all` or a kind's name.
fn kind_names() -> Vec<&'static str> {
    std::iter::once("all").chain(PlotKind::ALL.iter().map(|k| k.name())).collect()
}

#[derive(Args, Debug)]
struct PlotArgs {
    /// The run directory (or a directory of CmdStan CSV files, or a Zarr store).
    dir: PathBuf,
    /// The kind of plot (`all` draws every kind).
    #[arg(long, default_value = "all", value_parser = clap::builder::PossibleValuesParser::new(kind_names()))]
    kind: String,
    /// Variables (`theta`) or elements (`theta[2]`) to plot; repeat for several (default all).
    #[arg(long = "var")]
    vars: Vec<String>,
    /// Elements per page.
    #[arg(long, default_value_t = 10)]
    per_page: usize,
    /// The page (0-based) of the selected elements.
    #[arg(long, default_value_t = 0)]
    page: usize,
    /// Where to write: a directory (one `<kind>.svg` or `.png` per kind; default
    /// `DIR/plots`), or a `.svg` or `.png` file for one kind.
    #[arg(long)]
    out: Option<PathBuf>,
    /// Image format (a `--out` file's extension decides for it).
    #[arg(long, value_enum, default_value_t = FormatArg::Svg)]
    format: FormatArg,
    /// PNG pixels per SVG pixel (2 for high-density screens).
    #[arg(long, default_value_t = 1.0)]
    scale: f32,
}

/// Image formats of `exmc plot`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
enum FormatArg {
    /// Scalable vector graphics (text as text).
    Svg,
    /// A raster image (fonts embedded in exmc).
    Png,
}

/// Which backend runs the chains.
#[derive(Clone, Copy, Debug, ValueEnum)]
enum BackendArg {
    /// `EXMC_BACKEND`, then a hardware GPU whose kernels can hold the model, then the CPU.
    Auto,
    /// The native CPU backend.
    Cpu,
    /// The WGSL backend on the default GPU adapter.
    Gpu,
}

impl BackendArg {
    fn choice(self) -> BackendChoice {
        match self {
            BackendArg::Auto => BackendChoice::Auto,
            BackendArg::Cpu => BackendChoice::Cpu,
            BackendArg::Gpu => BackendChoice::Gpu,
        }
    }
}

/// Warmup adaptation (`Sampler::adaptation`).
#[derive(Clone, Copy, Debug, ValueEnum)]
enum AdaptationArg {
    /// nutpie's schedule: the metric from draws and gradients through the whole warmup.
    DrawGradient,
    /// Stan's windowed variance estimator.
    Windowed,
    /// Step size and metric estimated across the chains (many-chain runs; short warmup).
    Pooled,
}

/// Mass matrix (`Sampler::metric`).
#[derive(Clone, Copy, Debug, ValueEnum)]
enum MetricArg {
    /// Low rank where it is cheap (CPU backend, small models), diagonal elsewhere.
    Auto,
    /// A diagonal inverse mass matrix.
    Diagonal,
    /// A diagonal plus a low-rank correction (needs `--adaptation draw-gradient`).
    LowRank,
}

/// Floating-point precision of the GPU kernels (`Sampler::gpu_precision`).
#[derive(Clone, Copy, Debug, ValueEnum)]
enum PrecisionArg {
    /// 32-bit floats (every adapter).
    F32,
    /// 64-bit floats (adapters with `SHADER_F64`).
    F64,
}

/// How the GPU kernels map chains onto threads (`Sampler::gpu_mapping`).
#[derive(Clone, Copy, Debug, ValueEnum)]
enum MappingArg {
    /// Chosen from the model's vector lengths.
    Auto,
    /// One invocation per chain.
    Invocation,
    /// One workgroup per chain.
    Workgroup,
}

#[derive(Args, Debug)]
struct SampleArgs {
    /// The model file (TOML).
    model: PathBuf,
    /// The data file (JSON), if the model reads data.
    data: Option<PathBuf>,
    /// Chains in the run (all shards together).
    #[arg(long, default_value_t = 4)]
    chains: usize,
    /// Warmup iterations per chain (default: the adaptation's own, 300).
    #[arg(long)]
    warmup: Option<usize>,
    /// Kept draws per chain.
    #[arg(long, default_value_t = 1000)]
    draws: usize,
    /// Seed: with the chain id it determines every random number, so shards agree.
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// Starting values (JSON, as CmdStan's `init=` file): an object of free variables'
    /// constrained values (a number, or an array, nested row by row for a matrix) for every
    /// chain, or an array of such objects, one per chain. Variables left out start at random.
    #[arg(long, value_name = "FILE")]
    init: Option<PathBuf>,
    /// Start each chain from a draw of Pathfinder (4 paths, the run's seed) instead of at
    /// random.
    #[arg(long, conflicts_with = "init")]
    init_pathfinder: bool,
    /// Start each chain from a draw of ADVI (mean-field, the library's defaults, the run's
    /// seed; PyMC's `init="advi"`) instead of at random.
    #[arg(long, conflicts_with_all = ["init", "init_pathfinder"])]
    init_advi: bool,
    /// The backend.
    #[arg(long, value_enum, default_value_t = BackendArg::Auto)]
    backend: BackendArg,
    /// Warmup adaptation.
    #[arg(long, value_enum, default_value_t = AdaptationArg::DrawGradient)]
    adaptation: AdaptationArg,
    /// Mass matrix.
    #[arg(long, value_enum, default_value_t = MetricArg::Diagonal)]
    metric: MetricArg,
    /// Precision of the GPU kernels.
    #[arg(long, value_enum, default_value_t = PrecisionArg::F32)]
    gpu_precision: PrecisionArg,
    /// How the GPU kernels map chains onto threads.
    #[arg(long, value_enum, default_value_t = MappingArg::Auto)]
    gpu_mapping: MappingArg,
    /// Target acceptance statistic of step-size adaptation.
    #[arg(long, default_value_t = 0.8)]
    target_accept: f64,
    /// Maximum tree depth.
    #[arg(long, default_value_t = 10)]
    max_treedepth: u32,
    /// Worker threads (default: all cores).
    #[arg(long)]
    threads: Option<usize>,
    /// Record no warmup statistics (CmdStan's `save_warmup=0`, PyMC's `discard_tuned_samples`):
    /// less memory for many chains; the kept draws are the same.
    #[arg(long)]
    no_warmup_stats: bool,
    /// Split the GPU's chains into N groups whose host work runs while each other's steps run
    /// on the device (`Sampler::device_groups`; the draws are the same).
    #[arg(long, value_name = "N", default_value_t = 1)]
    device_groups: usize,
    /// Run only the chains with ids `A..B` (0-based, `B` excluded) of the `--chains` chains: a
    /// shard whose draws equal those chains' draws in the whole run.
    #[arg(long, value_parser = parse_range)]
    chain_ids: Option<std::ops::Range<usize>>,
    /// The run directory to write (default: `<model name>.exmc`).
    #[arg(long)]
    out: Option<PathBuf>,
    /// No progress bars.
    #[arg(long)]
    quiet: bool,
    /// Serve a live view of the run in the browser on ADDR (e.g. `127.0.0.1:8080`; port 0
    /// picks a free one) while it samples; the address is printed on stderr.
    #[arg(long, value_name = "ADDR")]
    live: Option<String>,
    /// A variable the live view plots (repeat for several; default the first few elements).
    #[arg(long = "live-var", value_name = "NAME", requires = "live")]
    live_vars: Vec<String>,
}

/// The command-line name of an option's value.
fn name_of(v: impl ValueEnum) -> String {
    v.to_possible_value().map_or_else(String::new, |p| p.get_name().to_string())
}

/// Parses `A..B`.
fn parse_range(s: &str) -> std::result::Result<std::ops::Range<usize>, String> {
    let (a, b) = s.split_once("..").ok_or_else(|| format!("`{s}` is not a range A..B"))?;
    let num = |x: &str| x.trim().parse::<usize>().map_err(|_| format!("`{x}` in `{s}` is not a chain id"));
    let (a, b) = (num(a)?, num(b)?);
    if a >= b {
        return Err(format!("`{s}` is empty: A must be below B"));
    }
    Ok(a..b)
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Sample(args) => match sample(&args) {
            // Ctrl-C: the chains stopped, the trace files hold the draws made so far.
            Ok(false) => return ExitCode::from(130),
            r => r.map(|_| ()),
        },
        Command::Summary { dir } => summary(&dir),
        Command::Plot(args) => plot(&args),
        Command::Compare { dirs, weighting } => compare(&dirs, weighting),
        Command::Predict(args) => predict(&args),
        Command::Sensitivity(args) => sensitivity(&args),
        Command::Merge { dirs, out } => merge(&dirs, &out),
        Command::Optimize(args) => optimize(&args),
        Command::Pathfinder(args) => pathfinder(&args),
        Command::Variational(args) => variational(&args),
        Command::Smc(args) => smc_cmd::smc(&args),
        Command::Graph { model, data, out } => graph(&model, data.as_deref(), out.as_deref()),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("exmc: error: {e}");
            ExitCode::FAILURE
        }
    }
}

/// Samples; `Ok(false)` when Ctrl-C stopped the run (the trace files hold what was drawn).
fn sample(a: &SampleArgs) -> Result<bool> {
    if a.chain_ids.is_some() && matches!(a.adaptation, AdaptationArg::Pooled) {
        return Err(Error::InvalidOption {
            option: "--chain-ids",
            reason: "pooled warmup (--adaptation pooled) adapts the chains run together, so a shard's \
                     draws would not be those chains' draws in the whole run"
                .into(),
        });
    }
    let model = Model::from_files(&a.model, a.data.as_deref())?;
    let init = match (&a.init, a.init_pathfinder, a.init_advi) {
        (Some(file), _, _) => init_file::read(file)?,
        (None, true, _) => {
            let pf = Optimizer::new(&model).seed(a.seed).pathfinder(&PathfinderOptions::default())?;
            eprintln!("exmc: chains start from Pathfinder's draws (Pareto k {:.2})", pf.pareto_k);
            pf.inits(a.chains)?
        }
        (None, false, true) => {
            let vi = Optimizer::new(&model).seed(a.seed).advi(&AdviOptions::default())?;
            eprintln!("exmc: chains start from ADVI's draws (Pareto k {:.2})", vi.pareto_k);
            vi.inits(a.chains)?
        }
        (None, false, false) => Init::Random,
    };
    let name = a.model.file_stem().and_then(|s| s.to_str()).unwrap_or("model").to_string();
    let out = a.out.clone().unwrap_or_else(|| PathBuf::from(format!("{name}.exmc")));
    let mut dir = run_dir::RunDir::create(&out)?;
    let mut s = Sampler::new(&model)
        .chains(a.chains)
        .init(init)
        .draws(a.draws)
        .seed(a.seed)
        .target_accept(a.target_accept)
        .max_treedepth(a.max_treedepth)
        .backend(a.backend.choice())
        .adaptation(match a.adaptation {
            AdaptationArg::DrawGradient => Adaptation::DrawGradient,
            AdaptationArg::Windowed => Adaptation::Windowed,
            AdaptationArg::Pooled => Adaptation::Pooled,
        })
        .metric(match a.metric {
            MetricArg::Auto => Metric::Auto,
            MetricArg::Diagonal => Metric::Diagonal,
            MetricArg::LowRank => Metric::low_rank(),
        })
        .gpu_precision(match a.gpu_precision {
            PrecisionArg::F32 => Precision::F32,
            PrecisionArg::F64 => Precision::F64,
        })
        .gpu_mapping(match a.gpu_mapping {
            MappingArg::Auto => MappingChoice::Auto,
            MappingArg::Invocation => MappingChoice::Invocation,
            MappingArg::Workgroup => MappingChoice::Workgroup,
        })
        .keep_warmup_stats(!a.no_warmup_stats)
        .device_groups(a.device_groups)
        .progress(!a.quiet)
        .save(exmc::io::CmdStanCsv::new(dir.csv()).model_name(&name))
        .save(exmc::io::Zarr::new(dir.zarr()));
    if let Some(w) = a.warmup {
        s = s.warmup(w);
    }
    if let Some(t) = a.threads {
        s = s.threads(t);
    }
    let ids: Vec<usize> = match &a.chain_ids {
        Some(r) if r.end > a.chains => {
            return Err(Error::InvalidOption {
                option: "--chain-ids",
                reason: format!(
                    "{}..{} reaches beyond the run's {} chains (--chains)",
                    r.start, r.end, a.chains
                ),
            });
        }
        Some(r) => r.clone().collect(),
        None => (0..a.chains).collect(),
    };
    if a.chain_ids.is_some() {
        s = s.only_chains(ids.clone());
    }
    // The first Ctrl-C stops the chains at their next iteration; a second one exits at once.
    let cancel = CancelToken::new();
    s = s.cancel_token(cancel.clone());
    let _ = ctrlc::set_handler(move || {
        if cancel.is_cancelled() {
            std::process::exit(130);
        }
        eprintln!("exmc: stopping the chains (Ctrl-C again to quit at once)");
        cancel.cancel();
    });
    // The view outlives the run so that the page shows the final state while the summary,
    // plots and report are written; it closes when this function returns.
    let live = match &a.live {
        Some(addr) => {
            let vars: Vec<&str> = a.live_vars.iter().map(String::as_str).collect();
            let view = exmc::sampler::live::LiveView::bind(addr)?.vars(&vars);
            eprintln!("exmc: live view at {}", view.url());
            s = s.live_view(view.clone());
            Some(view)
        }
        None => None,
    };
    // The sampler checks the values against the model: its errors name the file given.
    let fit = s.run().map_err(|e| match (e, &a.init) {
        (Error::InvalidOption { option: "init", reason }, Some(file)) => {
            Error::InvalidOption { option: "--init", reason: format!("{}: {reason}", file.display()) }
        }
        (e, _) => e,
    })?;
    dir.keep();
    if fit.cancelled {
        drop(live);
        eprintln!(
            "exmc: cancelled: the draws made so far are in {} and {}",
            dir.csv().display(),
            dir.zarr().display()
        );
        return Ok(false);
    }
    // Pointwise log-likelihood (ArviZ's `log_likelihood` group) and PSIS-LOO for `compare`.
    let likelihood = dir.write_likelihood(&model, &fit)?;
    // Power-scaling sensitivity (`sensitivity.json`, the report) and ArviZ's `log_prior`.
    let sensitivity = dir.sensitivity_or_note(&model, &fit, likelihood.as_ref());
    let mut idata = exmc::io::InferenceData::new(&model);
    if let Some(l) = &likelihood {
        idata = idata.log_likelihood(&l.values);
    }
    if let Some((_, lp)) = &sensitivity {
        idata = idata.log_prior(lp);
    }
    idata.write_zarr(dir.zarr())?;
    let elpd = likelihood.as_ref().map(|l| &l.loo);
    let summary = fit.summary();
    dir.write_summary(&summary)?;
    let plots = dir.write_plots(&fit.trace)?;
    let timing = &fit.timing;
    let settings: Vec<(&str, String)> = vec![
        ("model", a.model.display().to_string()),
        ("data", a.data.as_ref().map_or("none".into(), |d| d.display().to_string())),
        (
            "chains",
            format!("{} (ids {}..{})", ids.len(), ids.first().unwrap_or(&0), ids.last().map_or(0, |l| l + 1)),
        ),
        ("warmup", fit.warmup.to_string()),
        ("draws", fit.trace.draws.to_string()),
        ("seed", a.seed.to_string()),
        ("adaptation", name_of(a.adaptation)),
        ("metric", name_of(a.metric)),
        ("GPU precision", name_of(a.gpu_precision)),
        ("target acceptance", a.target_accept.to_string()),
        ("maximum tree depth", a.max_treedepth.to_string()),
        ("backend", fit.backend.clone()),
        ("compile time", format!("{:.3} s", timing.compile_s)),
        ("sampling time", format!("{:.3} s", timing.sampling_s)),
        ("divergences", fit.trace.divergences().to_string()),
        (
            "elpd_loo",
            elpd.map_or("no observed data".into(), |e| {
                format!("{:.2} (se {:.2}, p_loo {:.2})", e.elpd, e.se, e.p)
            }),
        ),
        (
            "non-centred nodes",
            if fit.noncentered.is_empty() { "none".into() } else { fit.noncentered.join(", ") },
        ),
        (
            "transformed observations",
            if fit.measured.is_empty() { "none".into() } else { fit.measured.join(", ") },
        ),
    ];
    let report = run_dir::report(
        &format!("{name}: exmc run"),
        &fit,
        &summary,
        likelihood.as_ref(),
        sensitivity.as_ref().map(|s| &s.0),
        plots,
        &a.model,
    );
    dir.write_report(&settings.into_iter().fold(report, |r, (k, v)| r.setting(k, v)).to_html())?;
    dir.write_run(&run_dir::RunRecord {
        exmc: env!("CARGO_PKG_VERSION").into(),
        model: absolute(&a.model),
        data: a.data.as_deref().map(absolute),
        name,
        chains: a.chains,
        chain_ids: ids,
        warmup: fit.warmup,
        draws: fit.trace.draws,
        seed: a.seed,
        target_accept: a.target_accept,
        max_treedepth: a.max_treedepth,
        adaptation: name_of(a.adaptation),
        metric: name_of(a.metric),
        gpu_precision: name_of(a.gpu_precision),
        backend: fit.backend.clone(),
        sampling_s: Some(fit.timing.sampling_s),
        divergences: fit.trace.divergences(),
        cancelled: fit.cancelled,
    })?;
    println!("{summary}");
    eprintln!("exmc: wrote {}", out.display());
    Ok(true)
}

/// A JSON object of values by name.
fn by_name<'a>(pairs: impl Iterator<Item = (&'a String, &'a Vec<f64>)>) -> serde_json::Value {
    pairs.map(|(n, v)| (n.clone(), serde_json::json!(v))).collect::<serde_json::Map<_, _>>().into()
}

/// Prints the mode (and the Laplace draws' summary), writes the JSON, and fails where the
/// search did not converge.
fn optimize(a: &OptimizeArgs) -> Result<()> {
    if a.laplace == Some(0) {
        return Err(Error::invalid_option("--laplace", "needs at least one draw"));
    }
    if a.max_iters == 0 {
        return Err(Error::invalid_option("--max-iters", "needs at least one iteration"));
    }
    let model = Model::from_files(&a.model, a.data.as_deref())?;
    let opt = Optimizer::new(&model).jacobian(a.jacobian).seed(a.seed).max_iters(a.max_iters);
    let (map, laplace, failed) = match a.laplace {
        Some(draws) => {
            // The draws' memory is checked before the search, not after it; one compilation.
            let (map, laplace) = opt.mode_and_laplace(draws)?;
            match laplace {
                Ok(l) => (map, Some(l), None),
                // No approximation (no converged mode, no peak there): the search is reported.
                Err(e @ Error::Optimization { .. }) => (map, None, Some(e)),
                Err(e) => return Err(e),
            }
        }
        None => (opt.run()?, None, None),
    };
    print!("{map}");
    let mut json = serde_json::json!({
        "values": by_name(map.values.iter().map(|v| (&v.name, &v.values))),
        "unconstrained": by_name(map.unconstrained.iter().map(|(n, v)| (n, v))),
        "logp": map.logp,
        "jacobian": map.jacobian,
        "converged": map.converged,
        "message": map.message,
        "iterations": map.iterations,
        "evaluations": map.evaluations,
    });
    if let Some(l) = &laplace {
        println!("\nLaplace approximation, {} draws:\n{}", l.fit.trace.draws, l.fit.trace.summary());
        println!(
            "Pareto k of the importance ratios log p - log g: {:.2} ({})",
            l.pareto_k,
            k_reading(l.pareto_k, "not estimated: fewer than 25 draws, or a draw of non-finite density")
        );
        json["laplace"] = serde_json::json!({
            "draws": by_name(l.fit.trace.vars.iter().map(|v| (&v.name, &v.values))),
            "log_p": l.log_p,
            "log_g": l.log_g,
            "pareto_k": l.pareto_k,
            "coordinates": l.mode.unconstrained.iter().flat_map(|(n, v)| {
                (0..v.len()).map(move |i| if v.len() == 1 { n.clone() } else { format!("{n}[{i}]") })
            }).collect::<Vec<_>>(),
            "covariance": l.covariance,
        });
    }
    if let Some(path) = &a.json {
        write_json(path, &json, "--json")?;
    }
    match failed {
        Some(e) => Err(e),
        None if !map.converged => Err(Error::Optimization { reason: map.message }),
        None => Ok(()),
    }
}

/// What an approximation's Pareto k says.
fn k_reading(k: f64, nan: &'static str) -> &'static str {
    match k {
        k if k < 0.7 => "below 0.7: a usable approximation",
        k if k >= 0.7 => "0.7 or more: a poor fit to the posterior",
        _ => nan,
    }
}

/// An approximation's draws as JSON: `draws` (constrained, by name), `log_p`, `log_q`,
/// `pareto_k`.
fn approximation_json(fit: &Fit, log_p: &[f64], log_q: &[f64], pareto_k: f64) -> serde_json::Value {
    serde_json::json!({
        "draws": by_name(fit.trace.vars.iter().map(|v| (&v.name, &v.values))),
        "log_p": log_p,
        "log_q": log_q,
        "pareto_k": pareto_k,
    })
}

/// Writes `json` (pretty) to `path`, naming `option` where it cannot.
fn write_json(path: &std::path::Path, json: &serde_json::Value, option: &'static str) -> Result<()> {
    let text = serde_json::to_string_pretty(json).map_err(|e| Error::Json(e.to_string()))?;
    std::fs::write(path, text)
        .map_err(|e| Error::InvalidOption { option, reason: format!("cannot write {}: {e}", path.display()) })
}

/// Prints Pathfinder's draws' summary, k and paths, and writes the draws.
fn pathfinder(a: &PathfinderArgs) -> Result<()> {
    if a.max_iters == 0 {
        return Err(Error::invalid_option("--max-iters", "needs at least one iteration"));
    }
    if !(1..=1000).contains(&a.history) {
        return Err(Error::invalid_option("--history", "needs 1 to 1000 pairs"));
    }
    let model = Model::from_files(&a.model, a.data.as_deref())?;
    let options = PathfinderOptions {
        paths: a.paths,
        draws_per_path: a.draws_per_path,
        draws: a.draws,
        elbo_draws: a.elbo_draws,
        resample: !a.no_resample,
        history: a.history,
    };
    let pf = Optimizer::new(&model).seed(a.seed).max_iters(a.max_iters).pathfinder(&options)?;
    println!("Pathfinder, {} draws:\n{}", pf.fit.trace.draws, pf.fit.trace.summary());
    if !a.no_resample {
        println!(
            "(resampled with replacement, so draws repeat: ess_bulk and ess_tail overstate the information)"
        );
    }
    println!(
        "Pareto k of the importance ratios log p - log q: {:.2} ({})",
        pf.pareto_k,
        k_reading(pf.pareto_k, "not estimated: fewer than 25 draws of finite density")
    );
    for (i, p) in pf.paths.iter().enumerate() {
        println!(
            "path {i}: ELBO {:.4} at iteration {} of {}, {} evaluations ({})",
            p.elbo, p.iteration, p.iterations, p.evaluations, p.message
        );
    }
    if let Some(path) = &a.json {
        let paths: Vec<serde_json::Value> = pf
            .paths
            .iter()
            .map(|p| {
                serde_json::json!({
                    "elbo": p.elbo,
                    "iteration": p.iteration,
                    "iterations": p.iterations,
                    "evaluations": p.evaluations,
                    "message": p.message,
                })
            })
            .collect();
        let mut json = approximation_json(&pf.fit, &pf.log_p, &pf.log_q, pf.pareto_k);
        json["paths"] = paths.into();
        write_json(path, &json, "--json")?;
    }
    if let Some(dir) = &a.zarr {
        exmc::io::InferenceData::new(&model).posterior(&pf.fit).write_zarr(dir)?;
        eprintln!("exmc: wrote {}", dir.display());
    }
    Ok(())
}

/// Prints ADVI's draws' summary, k, ELBO estimates and ending, and writes the fit.
fn variational(a: &VariationalArgs) -> Result<()> {
    let model = Model::from_files(&a.model, a.data.as_deref())?;
    let options = AdviOptions {
        method: match a.algorithm {
            FamilyArg::Meanfield => AdviMethod::MeanField,
            FamilyArg::Fullrank => AdviMethod::FullRank,
        },
        iterations: a.iter,
        grad_samples: a.grad_samples,
        elbo_samples: a.elbo_samples,
        eval_elbo: a.eval_elbo,
        tol_rel_obj: a.tol_rel_obj,
        eta: a.eta,
        adapt_iterations: a.adapt_iter,
        draws: a.draws,
        laplace_start: !a.stan_start,
    };
    let vi = Optimizer::new(&model).seed(a.seed).advi(&options).map_err(flag_error)?;
    println!("ADVI ({}), {} draws:\n{}", vi.method.name(), vi.fit.trace.draws, vi.fit.trace.summary());
    println!(
        "Pareto k of the importance ratios log p - log q: {:.2} ({})",
        vi.pareto_k,
        k_reading(vi.pareto_k, "not estimated: fewer than 25 draws of finite density")
    );
    println!("step-size scale (eta) {}", vi.eta);
    for e in &vi.elbo {
        println!(
            "iteration {:>6}: ELBO {:>14.4}, relative change mean {:.4}, median {:.4}",
            e.iteration, e.elbo, e.rel_mean, e.rel_median
        );
    }
    println!("{} iterations, {} evaluations: {}", vi.iterations, vi.evaluations, vi.message);
    if let Some(path) = &a.json {
        let elbo: Vec<serde_json::Value> = vi
            .elbo
            .iter()
            .map(|e| {
                serde_json::json!({
                    "iteration": e.iteration,
                    "elbo": e.elbo,
                    "rel_mean": e.rel_mean,
                    "rel_median": e.rel_median,
                })
            })
            .collect();
        let mut json = approximation_json(&vi.fit, &vi.log_p, &vi.log_q, vi.pareto_k);
        json["algorithm"] = vi.method.name().into();
        json["coordinates"] = serde_json::json!(vi.coordinates);
        json["mean"] = serde_json::json!(vi.mean);
        json["sd"] = serde_json::json!(vi.sd);
        json["cholesky"] = serde_json::json!(vi.cholesky);
        json["eta"] = serde_json::json!(vi.eta);
        json["laplace_start"] = vi.laplace_start.into();
        json["elbo"] = elbo.into();
        json["iterations"] = vi.iterations.into();
        json["evaluations"] = vi.evaluations.into();
        json["converged"] = vi.converged.into();
        json["message"] = vi.message.clone().into();
        write_json(path, &json, "--json")?;
    }
    if let Some(dir) = &a.zarr {
        exmc::io::InferenceData::new(&model).posterior(&vi.fit).write_zarr(dir)?;
        eprintln!("exmc: wrote {}", dir.display());
    }
    Ok(())
}

/// A library error naming an options field (of [`AdviOptions`], [`SensitivityOptions`] or
/// [`SmcOptions`]), renamed to name the command-line flag that sets it; other errors as they
/// are.
fn flag_error(e: Error) -> Error {
    match e {
        Error::InvalidOption { option, reason } => Error::InvalidOption { option: cli_flag(option), reason },
        e => e,
    }
}

/// The command-line flag of an [`AdviOptions`], [`SensitivityOptions`] or [`SmcOptions`]
/// field.
fn cli_flag(option: &'static str) -> &'static str {
    match option {
        "iterations" => "--iter",
        "grad_samples" => "--grad-samples",
        "elbo_samples" => "--elbo-samples",
        "eval_elbo" => "--eval-elbo",
        "tol_rel_obj" => "--tol-rel-obj",
        "eta" => "--eta",
        "adapt_iterations" => "--adapt-iter",
        "draws" => "--draws",
        "delta" => "--delta",
        "threshold" => "--threshold",
        "prior" => "--prior",
        "likelihood" => "--likelihood",
        "chains" => "--chains",
        "correlation_threshold" => "--correlation-threshold",
        "max_stages" => "--max-stages",
        other => other,
    }
}

fn summary(dir: &std::path::Path) -> Result<()> {
    let trace = run_dir::read_trace(dir)?;
    println!("{}", trace.summary());
    Ok(())
}

fn plot(a: &PlotArgs) -> Result<()> {
    let trace = run_dir::read_trace(&a.dir)?;
    let opts = PlotOptions { vars: a.vars.clone(), per_page: a.per_page, page: a.page };
    let kinds: Vec<PlotKind> = match PlotKind::from_name(&a.kind) {
        Some(k) => vec![k],
        None => PlotKind::ALL.to_vec(),
    };
    let out = a.out.clone().unwrap_or_else(|| a.dir.join("plots"));
    let ext = out.extension().and_then(|x| x.to_str()).filter(|x| ["svg", "png"].contains(x));
    let format = match ext {
        Some("png") => FormatArg::Png,
        Some(_) => FormatArg::Svg,
        None => a.format,
    };
    if ext.is_some() && kinds.len() != 1 {
        return Err(Error::InvalidOption {
            option: "--out",
            reason: format!(
                "{} is one file, but --kind all draws {} plots: give a directory",
                out.display(),
                kinds.len()
            ),
        });
    }
    for kind in kinds {
        let name = format!("{}.{}", kind.name(), if format == FormatArg::Png { "png" } else { "svg" });
        let path = if ext.is_some() { out.clone() } else { out.join(name) };
        let svg = exmc::plot::plot(&trace, kind, &opts)?;
        match format {
            FormatArg::Svg => run_dir::write_file(&path, &svg)?,
            FormatArg::Png => run_dir::write_bytes(&path, &exmc::plot::to_png(&svg, a.scale)?)?,
        }
        eprintln!("exmc: wrote {}", path.display());
    }
    Ok(())
}

fn compare(dirs: &[PathBuf], weighting: WeightingArg) -> Result<()> {
    let named: Vec<(String, exmc::diagnostics::Elpd)> = dirs
        .iter()
        .map(|d| {
            let name = d.file_name().and_then(|n| n.to_str()).unwrap_or("model").to_string();
            Ok((name, run_dir::read_loo(d)?))
        })
        .collect::<Result<_>>()?;
    let refs: Vec<(&str, &exmc::diagnostics::Elpd)> = named.iter().map(|(n, e)| (n.as_str(), e)).collect();
    let weighting = match weighting {
        WeightingArg::Stacking => exmc::diagnostics::Weighting::Stacking,
        WeightingArg::PseudoBma => exmc::diagnostics::Weighting::PseudoBma,
    };
    let table = exmc::diagnostics::compare(&refs, weighting)
        .map_err(|e| Error::InvalidOption { option: "compare", reason: e.to_string() })?;
    println!("{table}");
    Ok(())
}

fn predict(a: &PredictArgs) -> Result<()> {
    let run = run_dir::Shard::read(&a.dir)?;
    let record = run.record();
    let data = a.data.as_deref().or(record.data.as_deref());
    let model = Model::from_files(&record.model, data)?;
    let fit = Fit::from_trace(run.into_trace());
    let ppc = posterior_predictive(&model, &fit, a.seed)?;
    let out = a.out.clone().unwrap_or_else(|| a.dir.join("predictive.zarr"));
    exmc::io::InferenceData::new(&model).posterior_predictive(&ppc).write_zarr(&out)?;
    println!("{}", ppc.summary());
    eprintln!("exmc: wrote {}", out.display());
    if a.data.is_some() {
        // New data's observed values are placeholders: nothing to check predictions against.
        return Ok(());
    }
    let observed: Vec<(String, Vec<f64>)> = model
        .nodes()
        .iter()
        .filter_map(|n| match &n.kind {
            NodeKind::Observed { data, .. } => Some((n.name.clone(), data.to_vec())),
            _ => None,
        })
        .collect();
    let pairs: Vec<(&str, &[f64])> = observed.iter().map(|(n, d)| (n.as_str(), d.as_slice())).collect();
    let ll = log_likelihood(&model, &fit)?;
    let pits = pairs.iter().map(|(n, _)| ll.loo_pit(&model, &fit, &ppc, n)).collect::<Result<Vec<_>>>()?;
    let pit_pairs: Vec<(&str, &[f64])> =
        pairs.iter().zip(&pits).map(|((n, _), p)| (*n, p.as_slice())).collect();
    let plots = a.dir.join("plots");
    for (name, svg) in
        [("ppc", exmc::plot::ppc(&pairs, &ppc)?), ("loo_pit", exmc::plot::loo_pit(&pit_pairs)?)]
    {
        let path = plots.join(format!("{name}.svg"));
        run_dir::write_file(&path, &svg)?;
        eprintln!("exmc: wrote {}", path.display());
    }
    Ok(())
}

fn sensitivity(a: &SensitivityArgs) -> Result<()> {
    let run = run_dir::Shard::read(&a.dir)?;
    let record = run.record();
    let model = Model::from_files(&record.model, record.data.as_deref())?;
    let fit = Fit::from_trace(run.into_trace());
    let options = SensitivityOptions {
        delta: a.delta,
        threshold: a.threshold,
        prior: a.prior.clone(),
        likelihood: a.likelihood.clone(),
        backend: BackendChoice::Cpu,
    };
    options.check(&model, &fit).map_err(flag_error)?;
    // The host log-likelihood, as `exmc sample` reads it: the default options give its table.
    let likelihood = log_likelihood(&model, &fit)?;
    let log_prior = compute_log_prior(&model, &fit, BackendChoice::Cpu)?;
    let s =
        exmc::sampler::sensitivity_from_terms(&fit, &log_prior, &likelihood, &options).map_err(flag_error)?;
    println!("{s}");
    if let Some(path) = &a.json {
        write_json(path, &run_dir::sensitivity_json(&s, &options), "--json")?;
        eprintln!("exmc: wrote {}", path.display());
    }
    Ok(())
}

fn merge(dirs: &[PathBuf], out: &std::path::Path) -> Result<()> {
    let shards = dirs.iter().map(|d| run_dir::Shard::read(d)).collect::<Result<Vec<_>>>()?;
    let merged = run_dir::merge(&shards, out)?;
    println!("{}", merged.summary());
    eprintln!("exmc: wrote {}", out.display());
    Ok(())
}

fn graph(
    model: &std::path::Path,
    data: Option<&std::path::Path>,
    out: Option<&std::path::Path>,
) -> Result<()> {
    let dot = Model::from_files(model, data)?.to_dot();
    match out {
        Some(path) => std::fs::write(path, dot).map_err(|e| Error::InvalidOption {
            option: "--out",
            reason: format!("cannot write {}: {e}", path.display()),
        }),
        // A reader that stops early (`exmc graph … | head`) is not an error.
        None => match std::io::Write::write_all(&mut std::io::stdout(), dot.as_bytes()) {
            Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => {
                Err(Error::invalid_option("stdout", format!("cannot write the graph: {e}")))
            }
            _ => Ok(()),
        },
    }
}

/// The path made absolute (left as given when the working directory is unknown).
fn absolute(p: &std::path::Path) -> PathBuf {
    std::path::absolute(p).unwrap_or_else(|_| p.to_path_buf())
}
