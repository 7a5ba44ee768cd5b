//! The `exmc` command line through the real binary (issue 13, items 4 and 5): sampling a model
//! file into a run directory, summaries read back, shards merged equal to the whole run, and
//! bad input as Unix tools report it (a message on stderr naming the file, non-zero exit).

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use exmc::io::{read_cmdstan_dir, read_zarr};

const EXMC: &str = env!("CARGO_BIN_EXE_exmc");

/// Every file under `dir` (its path there and its bytes), in path order.
fn files_under(dir: &Path) -> Vec<(PathBuf, Vec<u8>)> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for path in std::fs::read_dir(&d).unwrap().map(|e| e.unwrap().path()) {
            if path.is_dir() {
                stack.push(path);
            } else {
                let bytes = std::fs::read(&path).unwrap();
                out.push((path.strip_prefix(dir).unwrap().to_path_buf(), bytes));
            }
        }
    }
    out.sort();
    out
}

/// A fresh directory under the target's temporary folder.
fn out_dir(name: &str) -> PathBuf {
    let d = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(format!("cli-{name}"));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn models() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("models")
}

fn exmc(args: &[&str]) -> Output {
    Command::new(EXMC).args(args).output().expect("the exmc binary runs")
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// `exmc sample MODEL DATA --quiet --out OUT` with `extra` options.
fn sample(model: &Path, data: &Path, out: &Path, extra: &[&str]) -> Output {
    let mut args = vec![
        "sample",
        model.to_str().unwrap(),
        data.to_str().unwrap(),
        "--quiet",
        "--out",
        out.to_str().unwrap(),
    ];
    args.extend_from_slice(extra);
    exmc(&args)
}

/// `exmc sample` on eight schools with a few settings, quietly, into `out`.
fn sample_eight_schools(out: &Path, extra: &[&str]) -> Output {
    let (model, data) = (models().join("eight_schools.toml"), models().join("eight_schools.json"));
    let settings = ["--warmup", "200", "--draws", "150", "--seed", "3", "--backend", "cpu", "--threads", "1"];
    sample(&model, &data, out, &[&settings[..], extra].concat())
}

#[test]
fn sample_writes_a_run_directory_and_summary_reads_it_back() {
    let dir = out_dir("sample");
    let run = dir.join("es");
    let o = sample_eight_schools(&run, &["--chains", "3"]);
    assert!(o.status.success(), "stderr: {}", text(&o.stderr));
    let printed = text(&o.stdout);
    for name in ["mu", "tau", "theta[7]", "theta_z[0]", "ess_bulk", "r_hat"] {
        assert!(printed.contains(name), "{name} missing from\n{printed}");
    }
    // The files: one CmdStan CSV per chain, the Zarr store, the summary, the settings.
    let csv = read_cmdstan_dir(run.join("csv")).unwrap();
    assert_eq!((csv.trace.chains, csv.trace.draws), (3, 150));
    let zarr = read_zarr(run.join("posterior.zarr")).unwrap();
    assert_eq!((zarr.chains, zarr.draws), (3, 150));
    for v in &zarr.vars {
        assert_eq!(csv.trace.var(&v.name).map(|c| &c.values), Some(&v.values), "{}", v.name);
    }
    let run_json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(run.join("run.json")).unwrap()).unwrap();
    assert_eq!(run_json["chain_ids"], serde_json::json!([0, 1, 2]));
    assert_eq!((run_json["warmup"].as_u64(), run_json["seed"].as_u64()), (Some(200), Some(3)));
    // The summary printed, the one saved and the one recomputed from the files agree.
    let saved = std::fs::read_to_string(run.join("summary.txt")).unwrap();
    assert_eq!(saved.trim_end(), printed.trim_end());
    let again = exmc(&["summary", run.to_str().unwrap()]);
    assert!(again.status.success(), "{}", text(&again.stderr));
    assert_eq!(text(&again.stdout).trim_end(), printed.trim_end());
    // A directory of CSV files alone summarises to the same numbers (no coordinate labels
    // there, and the model has none).
    let from_csv = exmc(&["summary", run.join("csv").to_str().unwrap()]);
    assert_eq!(text(&from_csv.stdout).trim_end(), printed.trim_end());
    // Every plot kind, and PSIS-LOO for `exmc compare`.
    for kind in
        ["trace", "rank", "posterior", "autocorr", "forest", "energy", "ess_evolution", "pair", "pareto_k"]
    {
        let svg = std::fs::read_to_string(run.join("plots").join(format!("{kind}.svg"))).unwrap();
        assert!(svg.starts_with("<svg") && svg.trim_end().ends_with("</svg>"), "{kind}");
    }
    let loo: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(run.join("loo.json")).unwrap()).unwrap();
    assert_eq!(loo["pointwise"].as_array().map(Vec::len), Some(8), "one value per school");
}

/// `exmc sample --adaptation --metric --gpu-precision --gpu-mapping`: each reaches the sampler
/// (the draws change), is recorded in run.json, and bad combinations are refused.
#[test]
fn sample_takes_the_adaptation_metric_and_gpu_options() {
    let dir = out_dir("options");
    let run_json = |run: &Path| -> serde_json::Value {
        serde_json::from_str(&std::fs::read_to_string(run.join("run.json")).unwrap()).unwrap()
    };
    let draws = |run: &Path| read_zarr(run.join("posterior.zarr")).unwrap().vars;
    let two = ["--chains", "2"];
    let base = dir.join("base");
    let o = sample_eight_schools(&base, &two);
    assert!(o.status.success(), "stderr: {}", text(&o.stderr));
    let r = run_json(&base);
    assert_eq!(
        (&r["adaptation"], &r["metric"], &r["gpu_precision"]),
        (&"draw-gradient".into(), &"diagonal".into(), &"f32".into())
    );
    for (name, extra, (adaptation, metric)) in [
        ("windowed", ["--adaptation", "windowed"], ("windowed", "diagonal")),
        ("low_rank", ["--metric", "low-rank"], ("draw-gradient", "low-rank")),
    ] {
        let run = dir.join(name);
        let o = sample_eight_schools(&run, &[&two[..], &extra[..]].concat());
        assert!(o.status.success(), "{name}: {}", text(&o.stderr));
        let r = run_json(&run);
        assert_eq!((r["adaptation"].as_str(), r["metric"].as_str()), (Some(adaptation), Some(metric)));
        assert_ne!(draws(&run), draws(&base), "{name}: the option changed nothing");
    }
    let check = |o: Output, needles: &[&str]| {
        let err = text(&o.stderr);
        assert_eq!(o.status.code(), Some(1), "stderr: {err}");
        for n in needles {
            assert!(err.contains(n), "`{n}` missing from stderr: {err}");
        }
    };
    let low_rank_windowed = ["--metric", "low-rank", "--adaptation", "windowed"];
    check(sample_eight_schools(&dir.join("bad1"), &low_rank_windowed), &["metric", "DrawGradient"]);
    let pooled_shard = ["--chains", "4", "--chain-ids", "0..2", "--adaptation", "pooled"];
    check(sample_eight_schools(&dir.join("bad2"), &pooled_shard), &["--chain-ids", "pooled"]);
    assert!(!dir.join("bad2").exists(), "a refused run writes no directory");
    // The GPU options, where an adapter with 64-bit floats is there (lavapipe in CI).
    if common::gpu_f64("sample_takes_the_adaptation_metric_and_gpu_options (GPU part)").is_none() {
        return;
    }
    let gpu_args = |precision: &'static str| {
        ["--backend", "gpu", "--gpu-mapping", "workgroup", "--gpu-precision", precision, "--chains", "2"]
    };
    let (f32_run, f64_run) = (dir.join("gpu32"), dir.join("gpu64"));
    for (run, precision) in [(&f32_run, "f32"), (&f64_run, "f64")] {
        let (model, data) = (models().join("eight_schools.toml"), models().join("eight_schools.json"));
        let o = sample(
            &model,
            &data,
            run,
            &[&gpu_args(precision)[..], &["--warmup", "100", "--draws", "50"]].concat(),
        );
        assert!(o.status.success(), "{precision}: {}", text(&o.stderr));
        let r = run_json(run);
        assert_eq!(r["gpu_precision"].as_str(), Some(precision));
        let backend = r["backend"].as_str().unwrap_or_default();
        assert!(backend.starts_with("gpu") && backend.contains("workgroup"), "{backend}");
    }
    assert_ne!(draws(&f32_run), draws(&f64_run), "the precision changed nothing");
}

/// `exmc plot`: one kind into one file, all kinds into a directory, a variable chosen by
/// name; bad kinds, names and destinations refused.
#[test]
fn plot_draws_the_chosen_kinds_and_variables() {
    let dir = out_dir("plot");
    let run = dir.join("es");
    assert!(sample_eight_schools(&run, &["--chains", "2"]).status.success());
    let file = dir.join("theta_rank.svg");
    let o = exmc(&[
        "plot",
        run.to_str().unwrap(),
        "--kind",
        "rank",
        "--var",
        "theta",
        "--per-page",
        "3",
        "--page",
        "2",
        "--out",
        file.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", text(&o.stderr));
    let svg = std::fs::read_to_string(&file).unwrap();
    assert!(svg.contains(">\ntheta[7]\n<") && !svg.contains(">\nmu\n<"), "the last page of theta only");
    let all = dir.join("all");
    let o = exmc(&["plot", run.to_str().unwrap(), "--out", all.to_str().unwrap()]);
    assert!(o.status.success(), "{}", text(&o.stderr));
    assert_eq!(std::fs::read_dir(&all).unwrap().count(), exmc::plot::PlotKind::ALL.len());
    // PNG: by the file's extension, or --format for a directory.
    let png = dir.join("forest.png");
    let o = exmc(&["plot", run.to_str().unwrap(), "--kind", "forest", "--out", png.to_str().unwrap()]);
    assert!(o.status.success(), "{}", text(&o.stderr));
    assert!(std::fs::read(&png).unwrap().starts_with(b"\x89PNG\r\n\x1a\n"));
    let pngs = dir.join("pngs");
    let o = exmc(&[
        "plot",
        run.to_str().unwrap(),
        "--kind",
        "rank",
        "--format",
        "png",
        "--scale",
        "2",
        "--out",
        pngs.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", text(&o.stderr));
    assert!(std::fs::read(pngs.join("rank.png")).unwrap().starts_with(b"\x89PNG"));
    let o = exmc(&["plot", run.to_str().unwrap(), "--kind", "bogus"]);
    assert_eq!(o.status.code(), Some(2));
    let o = exmc(&["plot", run.to_str().unwrap(), "--var", "nope", "--out", dir.join("n").to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(1));
    assert!(text(&o.stderr).contains("nope"), "{}", text(&o.stderr));
    let o = exmc(&["plot", run.to_str().unwrap(), "--out", dir.join("one.svg").to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(1));
    assert!(text(&o.stderr).contains("--out"), "{}", text(&o.stderr));
}

/// `exmc compare` ranks eight schools (hierarchical) and complete pooling on the same data by
/// PSIS-LOO, as `diagnostics::compare` does on the same log-likelihoods.
#[test]
fn compare_ranks_runs_by_loo() {
    let dir = out_dir("compare");
    let pooled = dir.join("pooled.toml");
    std::fs::write(
        &pooled,
        "[rv.mu]\ndist = \"normal\"\nmu = 0\nsigma = 5\n\n[observe.y_obs]\ndist = \"normal\"\nmu = \"mu\"\nsigma = \"sigma\"\ndata = \"y\"\n",
    )
    .unwrap();
    let data = models().join("eight_schools.json");
    let (hier, pool) = (dir.join("hierarchical"), dir.join("pooled"));
    assert!(sample_eight_schools(&hier, &[]).status.success());
    let o = sample(&pooled, &data, &pool, &["--seed", "3"]);
    assert!(o.status.success(), "{}", text(&o.stderr));
    let o = exmc(&["compare", hier.to_str().unwrap(), pool.to_str().unwrap()]);
    assert!(o.status.success(), "{}", text(&o.stderr));
    let table = text(&o.stdout);
    assert!(
        table.contains("elpd_loo") && table.contains("hierarchical") && table.contains("pooled"),
        "{table}"
    );
    // The same numbers as the library's compare on the saved estimates.
    let read = |d: &Path| -> f64 {
        let v: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(d.join("loo.json")).unwrap()).unwrap();
        v["elpd_loo"].as_f64().unwrap()
    };
    for (name, d) in [("hierarchical", &hier), ("pooled", &pool)] {
        let line = table.lines().find(|l| l.starts_with(name)).unwrap();
        let elpd: f64 = line.split_whitespace().nth(2).unwrap().parse().unwrap();
        assert!((elpd - read(d)).abs() < 0.006, "{name}: {elpd} vs {}", read(d));
    }
    let o = exmc(&["compare", hier.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2), "one run is not a comparison");
}

/// Two shards of an 8-chain run, sampled by two processes at once and merged, equal the
/// single 8-chain run bit for bit: randomness is keyed by (seed, chain). The second shard keeps
/// no warmup statistics (`--no-warmup-stats`), which changes neither its draws nor the warmup
/// length its `run.json` records.
#[test]
fn shards_merged_equal_the_whole_run() {
    let dir = out_dir("shards");
    let (a, b, whole, merged) = (dir.join("a"), dir.join("b"), dir.join("whole"), dir.join("merged"));
    let spawn = |out: &Path, extra: &[&str]| sample_eight_schools(out, &[&["--chains", "8"], extra].concat());
    let (ta, tb) = (
        std::thread::spawn(move || spawn(&a, &["--chain-ids", "0..4"])),
        std::thread::spawn(move || spawn(&b, &["--chain-ids", "4..8", "--no-warmup-stats"])),
    );
    for o in [ta.join().unwrap(), tb.join().unwrap()] {
        assert!(o.status.success(), "{}", text(&o.stderr));
    }
    let o = sample_eight_schools(&whole, &["--chains", "8"]);
    assert!(o.status.success(), "{}", text(&o.stderr));
    // Shards given in either order merge in chain order.
    let o = exmc(&[
        "merge",
        dir.join("b").to_str().unwrap(),
        dir.join("a").to_str().unwrap(),
        "--out",
        merged.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", text(&o.stderr));
    let (w, m) =
        (read_zarr(whole.join("posterior.zarr")).unwrap(), read_zarr(merged.join("posterior.zarr")).unwrap());
    assert_eq!((m.chains, m.draws), (8, 150));
    assert!(m.vars == w.vars, "posterior bit for bit");
    assert!(m.stats == w.stats, "sample stats bit for bit");
    let (wc, mc) =
        (read_cmdstan_dir(whole.join("csv")).unwrap(), read_cmdstan_dir(merged.join("csv")).unwrap());
    assert!(mc.trace.vars == wc.trace.vars, "CSV files' draws bit for bit");
    // CmdStan's columns have no energy error (read as NaN): compare the rest.
    let stats = |t: &exmc::sampler::Trace| -> Vec<[f64; 6]> {
        t.stats
            .iter()
            .flatten()
            .map(|s| {
                [
                    s.lp,
                    s.step_size,
                    s.accept_stat,
                    s.energy,
                    f64::from(s.n_leapfrog),
                    f64::from(s.diverging as u8),
                ]
            })
            .collect()
    };
    assert!(stats(&mc.trace) == stats(&wc.trace), "CSV files' statistics bit for bit");
    // The summary and PSIS-LOO (for `exmc compare`) are the whole run's, and so is the
    // store's pointwise log-likelihood.
    for file in ["summary.txt", "loo.json", "sensitivity.json", "plots/pareto_k.svg"] {
        assert_eq!(
            std::fs::read_to_string(merged.join(file)).unwrap(),
            std::fs::read_to_string(whole.join(file)).unwrap(),
            "{file}"
        );
    }
    // The report has the whole run's summary and plots, and names the shards it joins.
    let report = std::fs::read_to_string(merged.join("report.html")).unwrap();
    let whole_report = std::fs::read_to_string(whole.join("report.html")).unwrap();
    assert!(report.contains("merged from 2 directories") && report.contains("pareto_k"), "merged report");
    // Its settings name the backend, the GPU precision and each shard's sampling time.
    for setting in ["backend", "GPU precision", "sampling time of each shard"] {
        assert!(report.contains(setting), "merged report lacks {setting}");
    }
    let times = report.split("sampling time of each shard").nth(1).and_then(|t| t.split("</tr>").next());
    assert!(
        times.is_some_and(|t| t.contains(" s") && !t.contains("unknown")),
        "each shard's time: {times:?}"
    );
    let plot = |html: &str| html.find("<svg").map(|i| html[i..].split("</svg>").next().unwrap_or("").len());
    assert_eq!(plot(&report), plot(&whole_report), "the first plot, as long as the whole run's");
    let ll = |d: &Path| files_under(&d.join("posterior.zarr/log_likelihood"));
    assert!(!ll(&whole).is_empty());
    assert!(ll(&merged) == ll(&whole), "log-likelihood bit for bit");
    let o = exmc(&["compare", whole.to_str().unwrap(), merged.to_str().unwrap()]);
    assert!(o.status.success(), "{}", text(&o.stderr));
    // The merged store records the run's warmup, though one shard kept no warmup statistics.
    let attrs = std::fs::read_to_string(merged.join("posterior.zarr/sample_stats/.zattrs")).unwrap();
    let attrs: serde_json::Value = serde_json::from_str(&attrs).unwrap();
    assert_eq!(attrs["tuning_steps"], 200, "{attrs}");
    // Merging a shard with itself, or shards of different runs, is refused.
    let o = exmc(&[
        "merge",
        dir.join("a").to_str().unwrap(),
        dir.join("a").to_str().unwrap(),
        "--out",
        dir.join("x").to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(1));
    assert!(text(&o.stderr).contains("disjoint"), "{}", text(&o.stderr));
    // A shard sampled with another setting belongs to another run: merging it with shard a is
    // refused, naming what must agree.
    let refused = |name: &str, setting: &[&str], needle: &str| {
        let other = dir.join(name);
        let o =
            sample_eight_schools(&other, &[&["--chains", "8", "--chain-ids", "4..8"][..], setting].concat());
        assert!(o.status.success(), "{}", text(&o.stderr));
        let merged = dir.join(format!("{name}_merged"));
        let o = exmc(&[
            "merge",
            dir.join("a").to_str().unwrap(),
            other.to_str().unwrap(),
            "--out",
            merged.to_str().unwrap(),
        ]);
        assert_eq!(o.status.code(), Some(1));
        assert!(text(&o.stderr).contains(needle), "{}", text(&o.stderr));
    };
    refused("other_run", &["--target-accept", "0.9"], "same run");
    refused("low_rank_run", &["--metric", "low-rank"], "metric");
}

/// `exmc optimize` prints and writes the library's mode and Laplace draws (the same numbers),
/// and a search without a mode (the centred eight schools' `τ → 0`) exits with status 1,
/// naming the variable.
#[test]
fn optimize_prints_and_writes_the_mode() {
    let dir = out_dir("optimize");
    let (file, json) = (models().join("quickstart.toml"), dir.join("map.json"));
    let o = exmc(&[
        "optimize",
        file.to_str().unwrap(),
        "--laplace",
        "200",
        "--seed",
        "4",
        "--json",
        json.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", text(&o.stderr));
    let stdout = text(&o.stdout);
    assert!(stdout.contains("Laplace approximation, 200 draws") && stdout.contains("Pareto k"), "{stdout}");
    let got: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    let model = exmc::Model::from_files(&file, None).unwrap();
    let want = exmc::prelude::Optimizer::new(&model).seed(4).laplace(200).unwrap();
    assert_eq!(got["jacobian"], true);
    assert_eq!(got["converged"], true);
    for exmc::sampler::TraceVar { name, values, .. } in &want.mode.values {
        assert_eq!(common::floats(&got["values"][name]), *values, "{name}");
        let draws = &want.fit.trace.var(name).unwrap().values;
        assert_eq!(common::floats(&got["laplace"]["draws"][name]), *draws, "{name}");
    }
    assert_eq!(got["laplace"]["pareto_k"].as_f64().unwrap(), want.pareto_k);
    assert_eq!(got["laplace"]["coordinates"], serde_json::json!(["mu", "sigma"]));
    assert_eq!(common::floats(&got["laplace"]["covariance"]), want.covariance);
    // Without the Jacobian (the default) the mode differs: sigma's is smaller (the log
    // transform's Jacobian `+ln σ` pulls the mode over ln σ up).
    let o = exmc(&["optimize", file.to_str().unwrap(), "--json", json.to_str().unwrap()]);
    assert!(o.status.success(), "{}", text(&o.stderr));
    assert!(text(&o.stdout).contains("without Jacobian"), "{}", text(&o.stdout));
    let plain: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    assert_eq!(plain["jacobian"], false);
    let sigma = |v: &serde_json::Value| v["values"]["sigma"][0].as_f64().unwrap();
    assert!(sigma(&plain) < sigma(&got) - 0.01, "{} vs {}", sigma(&plain), sigma(&got));
    // `--laplace` always takes the Jacobian: asking for it too is a usage error.
    let o = exmc(&["optimize", file.to_str().unwrap(), "--laplace", "10", "--jacobian"]);
    assert_eq!(o.status.code(), Some(2));
    let o = exmc(&["optimize", file.to_str().unwrap(), "--laplace", "0"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(text(&o.stderr).contains("`--laplace`"), "{}", text(&o.stderr));
    // Draws that cannot fit are refused before the search (no mode printed).
    let o = exmc(&["optimize", file.to_str().unwrap(), "--laplace", "1000000000000000000"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(text(&o.stderr).contains("the Laplace approximation (2 coordinates"), "{}", text(&o.stderr));
    assert_eq!(text(&o.stdout), "");

    let (es, data) = (models().join("eight_schools.toml"), models().join("eight_schools.json"));
    let o = exmc(&["optimize", es.to_str().unwrap(), data.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(1));
    assert!(text(&o.stderr).contains("`tau` headed to the edge"), "{}", text(&o.stderr));
}

/// `exmc pathfinder` prints the draws' summary and each path, and writes the library's draws
/// bit for bit as JSON and as a Zarr store; zero paths is an error naming the option.
#[test]
fn pathfinder_prints_and_writes_the_draws() {
    let dir = out_dir("pathfinder");
    let (file, json, zarr) = (models().join("quickstart.toml"), dir.join("pf.json"), dir.join("pf.zarr"));
    let _ = std::fs::remove_dir_all(&zarr);
    let args = ["--paths", "2", "--draws", "300", "--draws-per-path", "200", "--seed", "3"];
    let (f, j, z) = (file.to_str().unwrap(), json.to_str().unwrap(), zarr.to_str().unwrap());
    let o = exmc(&[&["pathfinder", f], &args[..], &["--json", j, "--zarr", z]].concat());
    assert!(o.status.success(), "{}", text(&o.stderr));
    let stdout = text(&o.stdout);
    assert!(stdout.contains("Pathfinder, 300 draws") && stdout.contains("path 1: ELBO"), "{stdout}");
    let got: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    let model = exmc::Model::from_files(&file, None).unwrap();
    let options =
        exmc::prelude::PathfinderOptions { paths: 2, draws: 300, draws_per_path: 200, ..Default::default() };
    let want = exmc::prelude::Optimizer::new(&model).seed(3).pathfinder(&options).unwrap();
    for v in &want.fit.trace.vars {
        assert_eq!(common::floats(&got["draws"][&v.name]), v.values, "{}", v.name);
    }
    assert_eq!(common::floats(&got["log_q"]), want.log_q);
    assert_eq!(got["paths"].as_array().unwrap().len(), 2);
    assert_eq!(got["paths"][0]["elbo"].as_f64().unwrap(), want.paths[0].elbo);
    let back = exmc::io::read_zarr(&zarr).unwrap();
    assert_eq!(back.var("mu").unwrap().values, want.fit.trace.var("mu").unwrap().values);
    let o = exmc(&["pathfinder", f, "--paths", "0"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(text(&o.stderr).contains("paths"), "{}", text(&o.stderr));
    let o = exmc(&["pathfinder", "no-such-model.toml", "--history", "0"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(text(&o.stderr).contains("`--history`"), "{}", text(&o.stderr));
}

/// `exmc variational` prints the draws' summary, the ELBO estimates and the ending, and
/// writes the library's fit bit for bit as JSON and a Zarr store; a bad option is refused
/// naming its flag.
#[test]
fn variational_prints_and_writes_the_fit() {
    let dir = out_dir("variational");
    let (file, json, zarr) = (models().join("quickstart.toml"), dir.join("vi.json"), dir.join("vi.zarr"));
    let _ = std::fs::remove_dir_all(&zarr);
    let args = ["--algorithm", "fullrank", "--draws", "300", "--seed", "3", "--eta", "0.5"];
    let (f, j, z) = (file.to_str().unwrap(), json.to_str().unwrap(), zarr.to_str().unwrap());
    let o = exmc(&[&["variational", f], &args[..], &["--json", j, "--zarr", z]].concat());
    assert!(o.status.success(), "{}", text(&o.stderr));
    let stdout = text(&o.stdout);
    assert!(
        stdout.contains("ADVI (fullrank), 300 draws") && stdout.contains("iteration    100: ELBO"),
        "{stdout}"
    );
    let got: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    let model = exmc::Model::from_files(&file, None).unwrap();
    let options = exmc::prelude::AdviOptions {
        method: exmc::prelude::AdviMethod::FullRank,
        draws: 300,
        eta: Some(0.5),
        ..Default::default()
    };
    let want = exmc::prelude::Optimizer::new(&model).seed(3).advi(&options).unwrap();
    for v in &want.fit.trace.vars {
        assert_eq!(common::floats(&got["draws"][&v.name]), v.values, "{}", v.name);
    }
    assert_eq!(common::floats(&got["log_q"]), want.log_q);
    assert_eq!(common::floats(&got["mean"]), want.mean);
    assert_eq!(common::floats(&got["cholesky"]), want.cholesky.clone().unwrap());
    assert_eq!(got["algorithm"], "fullrank");
    assert_eq!(got["eta"].as_f64(), Some(0.5));
    assert_eq!(got["laplace_start"].as_bool(), Some(true));
    assert_eq!(got["elbo"].as_array().unwrap().len(), want.elbo.len());
    assert_eq!(got["converged"].as_bool(), Some(want.converged));
    let back = exmc::io::read_zarr(&zarr).unwrap();
    assert_eq!(back.var("mu").unwrap().values, want.fit.trace.var("mu").unwrap().values);
    // Stan's start, mean-field: the library's fit with `laplace_start: false`.
    let o = exmc(&["variational", f, "--stan-start", "--algorithm", "meanfield", "--seed", "2", "--json", j]);
    assert!(o.status.success(), "{}", text(&o.stderr));
    let got: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    let options = exmc::prelude::AdviOptions { laplace_start: false, ..Default::default() };
    let want = exmc::prelude::Optimizer::new(&model).seed(2).advi(&options).unwrap();
    assert_eq!(common::floats(&got["mean"]), want.mean);
    assert_eq!((got["algorithm"].as_str(), got["laplace_start"].as_bool()), (Some("meanfield"), Some(false)));
    assert!(got["cholesky"].is_null());
    for (flag, value) in [("--grad-samples", "0"), ("--tol-rel-obj", "0"), ("--eta", "0"), ("--iter", "0")] {
        let o = exmc(&["variational", f, flag, value]);
        assert_eq!(o.status.code(), Some(1), "{flag}");
        assert!(text(&o.stderr).contains(&format!("`{flag}`")), "{flag}: {}", text(&o.stderr));
        assert_eq!(text(&o.stdout), "");
    }
}

/// `exmc smc` prints the draws' summary, each chain's log marginal likelihood and stages, and
/// writes the library's result (JSON, Zarr) bit for bit; bad options name their flags.
#[test]
fn smc_prints_and_writes_the_result() {
    let dir = out_dir("smc");
    let (file, data) = (models().join("eight_schools.toml"), models().join("eight_schools.json"));
    let (json, zarr) = (dir.join("smc.json"), dir.join("smc.zarr"));
    let _ = std::fs::remove_dir_all(&zarr);
    let (f, d, j, z) =
        (file.to_str().unwrap(), data.to_str().unwrap(), json.to_str().unwrap(), zarr.to_str().unwrap());
    let args = [
        "--draws",
        "500",
        "--chains",
        "2",
        "--kernel",
        "mh",
        "--seed",
        "7",
        "--threshold",
        "0.6",
        "--correlation-threshold",
        "0.02",
        "--max-stages",
        "50",
        "--no-noncenter",
        "--backend",
        "cpu",
        "--quiet",
    ];
    let o = exmc(&[&["smc", f, d], &args[..], &["--json", j, "--zarr", z]].concat());
    assert!(o.status.success(), "{}", text(&o.stderr));
    let stdout = text(&o.stdout);
    for needle in [
        "Sequential Monte Carlo (mh), 2 chains of 500 particles",
        "chain 1: log marginal likelihood",
        "stage   1: beta",
        "log marginal likelihood (pooled over chains)",
    ] {
        assert!(stdout.contains(needle), "`{needle}` missing: {stdout}");
    }
    let model = exmc::Model::from_files(&file, Some(&data)).unwrap();
    let options = exmc::prelude::SmcOptions {
        draws: 500,
        chains: 2,
        kernel: exmc::prelude::SmcKernel::Mh,
        seed: 7,
        threshold: 0.6,
        correlation_threshold: 0.02,
        max_stages: 50,
        noncenter: false,
        backend: exmc::prelude::BackendChoice::Cpu,
        progress: false,
    };
    let want = exmc::prelude::sample_smc(&model, &options).unwrap();
    let got: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    for v in &want.fit.trace.vars {
        assert_eq!(common::floats(&got["draws"][&v.name]), v.values, "{}", v.name);
    }
    assert_eq!(common::floats(&got["log_marginal_likelihood"]), want.log_marginal_likelihood);
    assert_eq!(got["log_evidence"].as_f64(), Some(want.log_evidence()));
    assert_eq!(got["kernel"], "mh");
    assert_eq!(got["evaluations"].as_u64(), Some(want.evaluations));
    let stages = got["stages"].as_array().unwrap();
    assert_eq!(stages.len(), 2);
    for (g, w) in stages.iter().zip(&want.stages) {
        let g = g.as_array().unwrap();
        assert_eq!(g.len(), w.len());
        for (g, w) in g.iter().zip(w) {
            assert_eq!(g["beta"].as_f64(), Some(w.beta));
            assert_eq!(g["steps"].as_u64(), Some(w.steps as u64));
            assert_eq!(g["accept_rate"].as_f64(), Some(w.accept_rate));
            assert_eq!(g["log_marginal_likelihood"].as_f64(), Some(w.log_marginal_likelihood));
            assert_eq!(g["proposal_scale"].as_f64(), Some(w.proposal_scale));
            assert_eq!(g["lagging"].as_bool(), Some(w.lagging));
        }
    }
    assert_eq!(got["warnings"], serde_json::json!(want.warnings()));
    let back = exmc::io::read_zarr(&zarr).unwrap();
    assert_eq!(back.var("tau").unwrap().values, want.fit.trace.var("tau").unwrap().values);
    // IMH's proposal scale is NaN, written as null.
    assert!(got["draws"].get("theta_z").is_none(), "--no-noncenter moves the model as written");
    let o = exmc(&["smc", f, d, "--draws", "200", "--chains", "1", "--json", j]);
    assert!(o.status.success(), "{}", text(&o.stderr));
    let got: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    assert!(got["stages"][0][0]["proposal_scale"].is_null());
    assert!(got["log_evidence_sd"].is_null(), "one chain has no spread");
    for (flag, value) in [
        ("--draws", "1"),
        ("--chains", "0"),
        ("--threshold", "1"),
        ("--correlation-threshold", "0"),
        ("--max-stages", "0"),
    ] {
        let o = exmc(&["smc", f, d, flag, value]);
        assert_eq!(o.status.code(), Some(1), "{flag}");
        assert!(text(&o.stderr).contains(&format!("`{flag}`")), "{flag}: {}", text(&o.stderr));
        assert_eq!(text(&o.stdout), "");
    }
}

/// Bad input: a message on stderr naming what is at fault, exit status 1 (2 for a malformed
/// command line, as clap and most Unix tools do), nothing on stdout.
#[test]
fn bad_input_is_reported_on_stderr_with_an_exit_status() {
    let dir = out_dir("bad");
    let check = |o: Output, code: i32, needles: &[&str]| {
        let err = text(&o.stderr);
        assert_eq!(o.status.code(), Some(code), "stderr: {err}");
        assert!(o.stdout.is_empty(), "stdout: {}", text(&o.stdout));
        for n in needles {
            assert!(err.contains(n), "`{n}` missing from stderr: {err}");
        }
    };
    let missing = dir.join("no_such_model.toml");
    check(exmc(&["sample", missing.to_str().unwrap()]), 1, &["exmc: error", "no_such_model.toml"]);
    let bad = dir.join("bad.toml");
    std::fs::write(&bad, "[[node]]\nname = \"mu\"\nkind = \"free\"\ndist = \"Nromal\"\n").unwrap();
    check(exmc(&["sample", bad.to_str().unwrap()]), 1, &["bad.toml"]);
    check(exmc(&["sample", "--no-such-flag", "x.toml"]), 2, &["--no-such-flag"]);
    check(exmc(&["sample", "x.toml", "--chain-ids", "5..2"]), 2, &["5..2"]);
    check(exmc(&["frobnicate"]), 2, &["frobnicate"]);
    check(
        sample_eight_schools(&dir.join("r"), &["--chains", "4", "--chain-ids", "2..6"]),
        1,
        &["--chain-ids", "2..6"],
    );
    // Output under a regular file cannot be created.
    let file = dir.join("a_file");
    std::fs::write(&file, "x").unwrap();
    let unwritable = file.join("run");
    check(sample_eight_schools(&unwritable, &[]), 1, &["a_file"]);
    check(exmc(&["summary", dir.join("nothing_here").to_str().unwrap()]), 1, &["nothing_here"]);
    check(
        exmc(&["merge", dir.to_str().unwrap(), "--out", dir.join("m").to_str().unwrap()]),
        1,
        &["run.json"],
    );
}

/// `exmc sample --live`: the address is printed, the page and its snapshot are served while
/// the chains run, Ctrl-C (SIGINT) stops them with exit status 130, leaves the draws made so
/// far in the trace files, and closes the server.
#[test]
fn sample_serves_a_live_view_until_ctrl_c() {
    use std::io::{BufRead, BufReader, Read};
    let dir = out_dir("live");
    let (model, data) = (models().join("eight_schools.toml"), models().join("eight_schools.json"));
    let mut child = Command::new(EXMC)
        .args(["sample", model.to_str().unwrap(), data.to_str().unwrap(), "--quiet", "--threads", "1"])
        .args(["--backend", "cpu", "--chains", "2", "--draws", "400000", "--live", "127.0.0.1:0"])
        .args(["--live-var", "tau", "--out", dir.join("run").to_str().unwrap()])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut stderr = BufReader::new(child.stderr.take().unwrap());
    let mut line = String::new();
    stderr.read_line(&mut line).unwrap();
    let url = line.trim().strip_prefix("exmc: live view at ").unwrap_or_else(|| panic!("{line}")).to_string();
    let addr = url.trim_start_matches("http://").trim_end_matches('/').to_string();
    let get = |path: &str| common::browser::http_get(&addr, path).map(|(_, body)| body);
    let t = std::time::Instant::now();
    while !get("/state.json").is_some_and(|b| b.contains("\"status\":\"sampling\"")) {
        assert!(t.elapsed().as_secs() < 60, "the run never reached sampling");
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    let state = get("/state.json").unwrap();
    assert!(state.contains("\"name\":\"tau\"") && !state.contains("\"name\":\"mu\""), "{state}");
    assert!(get("/").unwrap().contains("exmc — live view"));
    let kill = Command::new("kill").args(["-INT", &child.id().to_string()]).status().unwrap();
    assert!(kill.success());
    let status = child.wait().unwrap();
    let mut rest = String::new();
    stderr.read_to_string(&mut rest).unwrap();
    assert_eq!(status.code(), Some(130), "stderr: {rest}");
    assert!(rest.contains("cancelled"), "{rest}");
    assert!(get("/").is_none(), "the live view outlived the command");
    // The draws made before Ctrl-C are in the CSV files, whole lines only.
    let csv = read_cmdstan_dir(dir.join("run").join("csv")).unwrap();
    assert!(csv.trace.draws > 0 && csv.trace.draws < 400000, "{} draws", csv.trace.draws);
    assert!(csv.chains.iter().all(|c| !c.complete), "a cancelled chain's file says it is incomplete");
}

/// `exmc predict`: replicates for the run's data (with the predictive check and LOO-PIT
/// plots) and for new covariates (`--data`), written as a Zarr store ArviZ reads; bad input
/// named on stderr.
#[test]
fn predict_replicates_observations_for_the_runs_data_and_new_data() {
    let dir = out_dir("predict");
    let model = dir.join("line.toml");
    std::fs::write(
        &model,
        "[rv.a]\ndist = \"normal\"\nmu = 0\nsigma = 5\n\n[rv.b]\ndist = \"normal\"\nmu = 0\nsigma = 5\n\n\
         [rv.s]\ndist = \"half_normal\"\nsigma = 2\n\n[observe.y]\ndist = \"normal\"\nmu = \"a + b * x\"\n\
         sigma = \"s\"\ndata = \"y_data\"\n",
    )
    .unwrap();
    let data = dir.join("line.json");
    let x: Vec<f64> = (0..12).map(|i| f64::from(i) / 4.0).collect();
    let y: Vec<f64> =
        x.iter().enumerate().map(|(i, x)| 1.0 + 2.0 * x + 0.3 * ((i * 7 % 5) as f64 - 2.0)).collect();
    std::fs::write(&data, serde_json::json!({ "x": x, "y_data": y }).to_string()).unwrap();
    let run = dir.join("run");
    let o = sample(
        &model,
        &data,
        &run,
        &["--draws", "200", "--warmup", "200", "--seed", "1", "--backend", "cpu"],
    );
    assert!(o.status.success(), "{}", text(&o.stderr));
    let o = exmc(&["predict", run.to_str().unwrap(), "--seed", "3"]);
    assert!(o.status.success(), "{}", text(&o.stderr));
    assert!(text(&o.stdout).contains("y[11]"), "{}", text(&o.stdout));
    let store = run.join("predictive.zarr");
    assert!(store.join("posterior_predictive").join("y").is_dir(), "ArviZ's posterior_predictive group");
    for plot in ["ppc.svg", "loo_pit.svg"] {
        let svg = std::fs::read_to_string(run.join("plots").join(plot)).unwrap();
        assert!(svg.starts_with("<svg") && svg.contains("y: "), "{plot}");
    }
    // New covariates: three points; the placeholders for y are not used.
    let new = dir.join("new.json");
    std::fs::write(&new, r#"{"x": [10.0, 20.0, 30.0], "y_data": [0, 0, 0]}"#).unwrap();
    let out = dir.join("new.zarr");
    let o = exmc(&[
        "predict",
        run.to_str().unwrap(),
        "--data",
        new.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", text(&o.stderr));
    let printed = text(&o.stdout);
    assert!(printed.contains("y[2]") && !printed.contains("y[3]"), "{printed}");
    // The predictive mean at x = 30 is near 1 + 2·30.
    let row = printed.lines().find(|l| l.trim_start().starts_with("y[2]")).unwrap();
    let mean: f64 = row.split_whitespace().nth(1).unwrap().parse().unwrap();
    assert!((mean - 61.0).abs() < 3.0, "{row}");
    assert!(out.join("posterior_predictive").is_dir());
    // Bad input: no run directory, a missing data file.
    let o = exmc(&["predict", dir.join("nothing").to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(1));
    assert!(text(&o.stderr).contains("nothing"), "{}", text(&o.stderr));
    let o = exmc(&["predict", run.to_str().unwrap(), "--data", dir.join("no.json").to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(1));
    assert!(text(&o.stderr).contains("no.json"), "{}", text(&o.stderr));
}

#[test]
fn help_and_version() {
    let o = exmc(&["--version"]);
    assert!(o.status.success());
    assert!(text(&o.stdout).contains(env!("CARGO_PKG_VERSION")));
    let o = exmc(&["sample", "--help"]);
    assert!(o.status.success());
    for flag in [
        "--chains",
        "--warmup",
        "--draws",
        "--seed",
        "--backend",
        "--target-accept",
        "--out",
        "--chain-ids",
        "--live",
    ] {
        assert!(text(&o.stdout).contains(flag), "{flag}");
    }
}

/// The Slurm recipe (`deploy/slurm-array.sh`) run as two array tasks would run it, with
/// `exmc` on the PATH, then merged: the whole run, bit for bit.
#[test]
fn slurm_recipe_shards_merge_into_the_whole_run() {
    let dir = out_dir("slurm");
    let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("deploy/slurm-array.sh");
    let bin = Path::new(EXMC).parent().unwrap();
    let path = format!("{}:{}", bin.display(), std::env::var("PATH").unwrap_or_default());
    for task in 0..2 {
        let o = Command::new("bash")
            .arg(&script)
            .current_dir(&dir)
            .env("PATH", &path)
            .env("SLURM_ARRAY_TASK_ID", task.to_string())
            .env("SLURM_ARRAY_TASK_COUNT", "2")
            .env("PER_SHARD", "2")
            .env("BACKEND", "cpu")
            .env("MODEL", models().join("eight_schools.toml"))
            .env("DATA", models().join("eight_schools.json"))
            .output()
            .unwrap();
        assert!(o.status.success(), "task {task}: {}", text(&o.stderr));
    }
    let runs = dir.join("runs");
    let o = exmc(&[
        "merge",
        runs.join("shard-000").to_str().unwrap(),
        runs.join("shard-001").to_str().unwrap(),
        "--out",
        runs.join("whole").to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", text(&o.stderr));
    let (model, data) = (models().join("eight_schools.toml"), models().join("eight_schools.json"));
    let single = dir.join("single");
    let o = sample(&model, &data, &single, &["--chains", "4", "--seed", "1", "--backend", "cpu"]);
    assert!(o.status.success(), "{}", text(&o.stderr));
    let (m, s) = (
        read_zarr(runs.join("whole/posterior.zarr")).unwrap(),
        read_zarr(single.join("posterior.zarr")).unwrap(),
    );
    assert_eq!((m.chains, m.draws), (4, 1000));
    assert!(m.vars == s.vars && m.stats == s.stats, "the merged Slurm shards differ from the single run");
}

/// `exmc sample --init FILE` (CmdStan's `init=` file: one object for every chain, or one per
/// chain) and `--init-pathfinder`: the values reach the chains, and bad files are refused
/// with the option and the field named.
#[test]
fn sample_starts_from_an_init_file_or_pathfinder() {
    let dir = out_dir("init");
    let write = |name: &str, json: &str| {
        let path = dir.join(name);
        std::fs::write(&path, json).unwrap();
        path.to_str().unwrap().to_string()
    };
    let set = r#"{"mu": 1.5, "tau": 2.0, "theta": [0, 1, 2, 3, 4, 5, 6, 7]}"#;
    let shared = write("shared.json", set);
    let per_chain = write("per_chain.json", &format!("[{set}, {set}]"));
    let draws = |run: &str, extra: &[&str]| {
        let o = sample_eight_schools(&dir.join(run), &[&["--chains", "2"], extra].concat());
        assert!(o.status.success(), "{run}: {}", text(&o.stderr));
        read_zarr(dir.join(run).join("posterior.zarr")).unwrap().vars
    };
    let random = draws("random", &[]);
    let one = draws("shared", &["--init", &shared]);
    let each = draws("per_chain", &["--init", &per_chain]);
    assert_eq!(one, each, "one set for all chains is that set given to each");
    assert_ne!(one, random, "the start reached the chains");
    let pf = sample_eight_schools(&dir.join("pf"), &["--chains", "2", "--init-pathfinder"]);
    assert!(pf.status.success(), "{}", text(&pf.stderr));
    assert!(text(&pf.stderr).contains("chains start from Pathfinder's draws"), "{}", text(&pf.stderr));
    let vi = sample_eight_schools(&dir.join("vi"), &["--chains", "2", "--init-advi"]);
    assert!(vi.status.success(), "{}", text(&vi.stderr));
    assert!(text(&vi.stderr).contains("chains start from ADVI's draws"), "{}", text(&vi.stderr));
    for (json, why) in [
        (format!("[{set}, {set}, {set}]"), "3 sets of values for 2 chains"),
        (r#"{"tau": "big"}"#.to_string(), "`tau` is not a number or a rectangular array"),
        (r#"{"theta": [[1, 2, 3], [4, 5]]}"#.to_string(), "`theta` is not a number or a rectangular array"),
        (
            r#"{"theta": [1, 2], "theta_z": [0, 0]}"#.to_string(),
            "give `theta` or its standardised draw `theta_z`",
        ),
        (r#"{"theta": [1, 2]}"#.to_string(), "`theta` needs 8 values, got 2"),
        (r#"[{"mu": 0}, 3]"#.to_string(), "chain 1: expected an object of values"),
        (r#"{"tau": -1}"#.to_string(), "`tau` = -1 is outside the support"),
        ("[]".to_string(), "a non-empty array"),
        (r#"{"nu": 1}"#.to_string(), "`nu` is not a free variable"),
    ] {
        let file = write("bad.json", &json);
        let o = sample_eight_schools(&dir.join("bad"), &["--chains", "2", "--init", &file]);
        assert_eq!(o.status.code(), Some(1), "{json}");
        let said = text(&o.stderr);
        assert!(
            said.contains(why) && said.contains("`--init`") && said.contains("bad.json"),
            "{json}: {said}"
        );
        // Refused values leave no empty run directory behind (whether the file is read
        // apart or checked by the sampler).
        assert!(!dir.join("bad").exists(), "{json}: the run directory was left");
    }
    // Nor the parents the run made, nor after a refused option.
    let file = write("bad.json", r#"{"tau": -1}"#);
    let o = sample_eight_schools(&dir.join("new/a/run"), &["--chains", "2", "--init", &file]);
    assert_eq!(o.status.code(), Some(1));
    assert!(!dir.join("new").exists(), "the run's parents were left");
    let o = sample_eight_schools(&dir.join("ids"), &["--chains", "2", "--chain-ids", "0..9"]);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o.stderr));
    assert!(!dir.join("ids").exists(), "a refused --chain-ids left the run directory");
    // A directory that was there before the run stays.
    std::fs::create_dir_all(dir.join("kept")).unwrap();
    let o = sample_eight_schools(&dir.join("kept"), &["--chains", "2", "--init", &file]);
    assert_eq!(o.status.code(), Some(1));
    assert!(dir.join("kept").is_dir(), "a directory the run did not make is kept");
    let both = sample_eight_schools(&dir.join("both"), &["--init", &shared, "--init-pathfinder"]);
    assert_eq!(both.status.code(), Some(2), "clap refuses the pair");
    let both = sample_eight_schools(&dir.join("both"), &["--init-advi", "--init-pathfinder"]);
    assert_eq!(both.status.code(), Some(2), "clap refuses the pair");
}

/// `exmc graph` prints the model file's graph in DOT (PyMC's `model_to_graphviz`), or writes it.
#[test]
fn graph_prints_the_model_as_dot() {
    let (model, data) = (models().join("eight_schools.toml"), models().join("eight_schools.json"));
    let o = exmc(&["graph", model.to_str().unwrap(), data.to_str().unwrap()]);
    assert!(o.status.success(), "{}", text(&o.stderr));
    let dot = text(&o.stdout);
    for line in
        [r#""mu" -> "theta""#, r#""tau" -> "theta""#, r#""theta" -> "y_obs""#, r#""sigma" -> "y_obs""#]
    {
        assert!(dot.contains(line), "{line} missing from\n{dot}");
    }
    let file = out_dir("graph").join("es.dot");
    let o =
        exmc(&["graph", model.to_str().unwrap(), data.to_str().unwrap(), "--out", file.to_str().unwrap()]);
    assert!(o.status.success() && o.stdout.is_empty(), "{}", text(&o.stderr));
    assert_eq!(std::fs::read_to_string(&file).unwrap(), dot);
    let o = exmc(&["graph", "no_such_model.toml"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(text(&o.stderr).contains("no_such_model.toml"), "{}", text(&o.stderr));
}

/// Power-scaling sensitivity on the command line: `exmc sample` writes the library's default
/// table for the run's draws (`sensitivity.json`, bit for bit, and the report's section) and
/// ArviZ's `log_prior` group beside the others; `exmc sensitivity RUN` prints the table for
/// the nodes and δ chosen (and writes it with `--json`) and leaves the run as it was; bad
/// flags are named before anything is evaluated.
#[test]
fn sensitivity_is_written_by_sample_and_printed_for_options() {
    use exmc::prelude::*;
    let run = out_dir("sensitivity").join("run");
    let o = sample_eight_schools(&run, &[]);
    assert!(o.status.success(), "{}", text(&o.stderr));
    let model =
        Model::from_files(models().join("eight_schools.toml"), Some(&models().join("eight_schools.json")))
            .unwrap();
    let fit = Fit::from_trace(read_zarr(run.join("posterior.zarr")).unwrap());
    let dir = run.to_str().unwrap();
    let check_json = |path: &Path, want: &exmc::diagnostics::Sensitivity| {
        let json: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
        assert_eq!(json["delta"], want.delta);
        assert_eq!(json["threshold"], want.threshold);
        let rows = json["rows"].as_array().unwrap();
        assert_eq!(rows.len(), want.rows.len());
        for (got, want) in rows.iter().zip(&want.rows) {
            assert_eq!(got["name"], want.name.as_str());
            assert_eq!(got["prior"].as_f64().unwrap().to_bits(), want.prior.to_bits(), "{}", want.name);
            assert_eq!(
                got["likelihood"].as_f64().unwrap().to_bits(),
                want.likelihood.to_bits(),
                "{}",
                want.name
            );
            assert_eq!(got["diagnosis"], want.diagnosis.as_str());
        }
        for (field, k) in
            [("prior_pareto_k", want.prior_pareto_k), ("likelihood_pareto_k", want.likelihood_pareto_k)]
        {
            for (j, k) in k.iter().enumerate() {
                assert_eq!(json[field][j].as_f64().unwrap().to_bits(), k.to_bits(), "{field}");
            }
        }
        assert_eq!(json["pareto_k_threshold"], want.pareto_k_threshold);
        assert_eq!(json["warnings"].as_array().unwrap().len(), want.warnings.len());
    };
    // What `exmc sample` wrote: the library's table from the host log-likelihood.
    let likelihood = log_likelihood(&model, &fit).unwrap();
    let log_prior = compute_log_prior(&model, &fit, BackendChoice::Cpu).unwrap();
    let options = SensitivityOptions::default();
    let want = exmc::sampler::sensitivity_from_terms(&fit, &log_prior, &likelihood, &options).unwrap();
    check_json(&run.join("sensitivity.json"), &want);
    let report = std::fs::read_to_string(run.join("report.html")).unwrap();
    let section =
        report.split("<section id=\"sensitivity\">").nth(1).expect("the report's sensitivity section");
    for r in &want.rows {
        let class = if r.diagnosis == exmc::diagnostics::Diagnosis::Fine { "" } else { " class=\"flag\"" };
        let row = format!(
            "<tr{class}><td>{}</td><td>{:.3}</td><td>{:.3}</td><td>{}</td></tr>",
            r.name, r.prior, r.likelihood, r.diagnosis
        );
        assert!(section.contains(&row), "the report lacks {row}");
    }
    assert!(want.rows.iter().any(|r| r.diagnosis != exmc::diagnostics::Diagnosis::Fine));
    for group in
        ["log_prior/mu", "log_prior/tau", "log_prior/theta", "log_likelihood/y_obs", "observed_data/y_obs"]
    {
        assert!(run.join("posterior.zarr").join(group).is_dir(), "{group}");
    }
    let before = files_under(&run);
    // `exmc sensitivity` with options: printed, and with `--json` written; the run unchanged.
    let json = run.parent().unwrap().join("tau.json");
    let options = SensitivityOptions {
        prior: Some(vec!["tau".into(), "mu".into()]),
        likelihood: Some(vec!["y_obs".into()]),
        delta: 0.05,
        threshold: 0.1,
        ..SensitivityOptions::default()
    };
    let want_tau = exmc::sampler::sensitivity_from_terms(&fit, &log_prior, &likelihood, &options).unwrap();
    let flags = ["--prior", "tau,mu", "--likelihood", "y_obs", "--delta", "0.05", "--threshold", "0.1"];
    let o = exmc(&[&["sensitivity", dir][..], &flags, &["--json", json.to_str().unwrap()]].concat());
    assert!(o.status.success(), "{}", text(&o.stderr));
    assert_eq!(text(&o.stdout).trim_end(), want_tau.to_string());
    check_json(&json, &want_tau);
    let written: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    assert_eq!(written["prior"], serde_json::json!(["tau", "mu"]));
    assert_eq!(written["likelihood"], serde_json::json!(["y_obs"]));
    assert_ne!(want_tau.rows[0].prior, want.rows[0].prior);
    // The default options print what `exmc sample` wrote.
    let o = exmc(&["sensitivity", dir]);
    assert!(o.status.success(), "{}", text(&o.stderr));
    assert_eq!(text(&o.stdout).trim_end(), want.to_string());
    assert!(files_under(&run) == before, "`exmc sensitivity` changed the run directory");
    for (flags, want) in [
        (vec!["--prior", "nope"], "`--prior`: `nope` is not one of the model's free nodes (mu, tau, theta)"),
        (vec!["--likelihood", "mu"], "`--likelihood`: `mu` is not one of the model's observed nodes (y_obs)"),
        (vec!["--delta=0"], "`--delta`"),
        (vec!["--threshold=-1"], "`--threshold`"),
    ] {
        let o = exmc(&[&["sensitivity", dir][..], &flags].concat());
        assert_eq!(o.status.code(), Some(1), "{flags:?}");
        assert!(text(&o.stderr).contains(want), "{flags:?}: {}", text(&o.stderr));
    }
}
