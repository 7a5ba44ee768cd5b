//! CmdStan's CSV output: one file per chain, written as the chain samples and read back.
//!
//! A file holds, as CmdStan's does: the configuration as `# key = value` comment lines
//! (`model`, `method = sample`, `num_samples`, `num_warmup`, `thin`, `max_depth`, `metric =
//! diag_e`, `id`, `seed` …); the header line (`lp__,accept_stat__,stepsize__,treedepth__,
//! n_leapfrog__,divergent__,energy__`, then every element of every variable named Stan's way,
//! `theta.1`, `Sigma.2.1`, matrices column-major); the adaptation comments (`# Adaptation
//! terminated`, `# Step size = …`, `# Diagonal elements of inverse mass matrix:` and the
//! diagonal); one line per kept draw; and, when the chain completed, the elapsed-time block.
//! `arviz.from_cmdstan` and `cmdstanpy.from_csv` read these files. Values are written in the
//! shortest form that reads back to the same `f64`, so a trace read back is the trace written.
//!
//! Draw lines are flushed every `block` draws: a run killed mid-sampling leaves each file
//! readable ([`read_cmdstan`]) with every completed block.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::fs::File;
use std::io::Write;
use std::path::{Path, PathBuf};

use crate::nuts::DrawStats;
use crate::sampler::{ChainSink, RunInfo, Trace, TraceVar, TraceVarInfo, TraceWriter};
use crate::{Error, Result};

/// The sampler columns, in CmdStan's order.
pub const SAMPLER_COLUMNS: [&str; 7] =
    ["lp__", "accept_stat__", "stepsize__", "treedepth__", "n_leapfrog__", "divergent__", "energy__"];

/// Default number of draws between flushes.
pub const DEFAULT_BLOCK: usize = 100;

/// Writes a run as CmdStan CSV files, `DIR/<model>_<chain>.csv` with chains numbered from 1,
/// while it samples ([`Sampler::save`](crate::Sampler::save)). Chain files of the same model
/// left by an earlier run are replaced, or removed when this run has fewer chains.
///
/// ```
/// use exmc::prelude::*;
/// use exmc::io::{CmdStanCsv, read_cmdstan_dir};
/// # fn main() -> exmc::Result<()> {
/// let mut m = Model::new();
/// let mu = m.rv("mu", Normal::new(0, 1))?;
/// m.observe("y", Normal::new(mu, 1), &[0.4, 1.2])?;
/// let dir = std::env::temp_dir().join(format!("exmc-doc-csv-{}", std::process::id()));
/// let fit = Sampler::new(&m).chains(2).warmup(100).draws(50).progress(false)
///     .save(CmdStanCsv::new(&dir).model_name("normal"))
///     .run()?;
/// let back = read_cmdstan_dir(&dir)?;
/// assert_eq!(back.trace.draws("mu").unwrap().values(), fit.draws("mu")?.values());
/// # std::fs::remove_dir_all(&dir).ok();
/// # Ok(())
/// # }
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct CmdStanCsv {
    dir: PathBuf,
    model: String,
    block: usize,
}

impl CmdStanCsv {
    /// Files go into `dir` (created if missing); the model is named after the directory.
    pub fn new(dir: impl Into<PathBuf>) -> CmdStanCsv {
        let dir = dir.into();
        let model = dir.file_name().and_then(|n| n.to_str()).unwrap_or("model").to_string();
        CmdStanCsv { dir, model, block: DEFAULT_BLOCK }
    }

    /// The model's name (the `model` line and the file names).
    pub fn model_name(mut self, name: &str) -> CmdStanCsv {
        self.model = name.to_string();
        self
    }

    /// Draws written per flush (at least 1; default [`DEFAULT_BLOCK`]).
    pub fn block(mut self, draws: usize) -> CmdStanCsv {
        self.block = draws.max(1);
        self
    }

    /// The file of chain `chain` (0-based): `DIR/<model>_<chain + 1>.csv`.
    pub fn chain_path(&self, chain: usize) -> PathBuf {
        self.dir.join(format!("{}_{}.csv", self.model, chain + 1))
    }

    /// Removes this model's chain files (`<model>_<n>.csv` starting with a comment line) that
    /// the run will not rewrite, so that an earlier run with more chains leaves no stale chain
    /// behind for [`read_cmdstan_dir`]. Other files are left alone.
    fn remove_stale(&self, run: &RunInfo<'_>) -> Result<()> {
        let Ok(entries) = std::fs::read_dir(&self.dir) else { return Ok(()) };
        let ours: std::collections::HashSet<PathBuf> =
            run.chain_ids.iter().map(|&c| self.chain_path(c)).collect();
        let prefix = format!("{}_", self.model);
        for path in entries.filter_map(|e| e.ok().map(|e| e.path())) {
            let name = path.file_name().and_then(|n| n.to_str()).unwrap_or_default();
            let chain_file = name
                .strip_prefix(&prefix)
                .and_then(|r| r.strip_suffix(".csv"))
                .is_some_and(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()));
            let stan_csv = || std::fs::read(&path).is_ok_and(|b| b.starts_with(b"# "));
            if chain_file && !ours.contains(&path) && stan_csv() {
                std::fs::remove_file(&path).map_err(|e| io_error(&path, None, &e))?;
            }
        }
        Ok(())
    }
}

impl TraceWriter for CmdStanCsv {
    fn open(&self, run: &RunInfo<'_>) -> Result<Vec<Box<dyn ChainSink>>> {
        std::fs::create_dir_all(&self.dir).map_err(|e| io_error(&self.dir, None, &e))?;
        self.remove_stale(run)?;
        let columns = stan_columns(&run.vars);
        let mut header = SAMPLER_COLUMNS.join(",");
        for (name, _) in &columns {
            header.push(',');
            header.push_str(name);
        }
        run.chain_ids
            .iter()
            .map(|&c| {
                let path = self.chain_path(c);
                let file = File::create(&path).map_err(|e| io_error(&path, None, &e))?;
                let mut sink = CsvSink {
                    out: file,
                    path,
                    block: self.block,
                    pending: 0,
                    columns: columns.iter().map(|(_, k)| *k).collect(),
                    buf: String::new(),
                };
                let config = config_lines(&self.model, run, c, &sink.path);
                sink.put(&config);
                sink.put(&header);
                sink.put("\n");
                sink.flush()?;
                Ok(Box::new(sink) as Box<dyn ChainSink>)
            })
            .collect()
    }
}

/// The configuration comments, CmdStan's layout and names.
fn config_lines(model: &str, run: &RunInfo<'_>, chain: usize, path: &Path) -> String {
    let flag = |b: bool| if b { "true" } else { "false" };
    let file = path.file_name().and_then(|n| n.to_str()).unwrap_or_default();
    let lines = [
        format!("model = {model}"),
        "method = sample (Default)".into(),
        "  sample".into(),
        format!("    num_samples = {}", run.draws),
        format!("    num_warmup = {}", run.warmup),
        "    save_warmup = false".into(),
        format!("    thin = {}", run.thin),
        "    adapt".into(),
        format!("      engaged = {}", flag(run.warmup > 0)),
        format!("      delta = {}", run.target_accept),
        "    algorithm = hmc (Default)".into(),
        "      hmc".into(),
        "        engine = nuts (Default)".into(),
        "          nuts".into(),
        format!("            max_depth = {}", run.max_treedepth),
        "        metric = diag_e (Default)".into(),
        format!("        stepsize = {}", run.step_size),
        "    num_chains = 1 (Default)".into(),
        format!("id = {}", chain + 1),
        "random".into(),
        format!("  seed = {}", run.seed),
        "output".into(),
        format!("  file = {file}"),
        format!("exmc_version = {}", env!("CARGO_PKG_VERSION")),
        format!("exmc_adaptation = {}", run.adaptation),
    ];
    lines.iter().map(|l| format!("# {l}\n")).collect()
}

/// Every element's Stan name (`theta.2`, `Sigma.1.2`) and its index in a draw's values, in
/// Stan's order (each variable's elements column-major).
pub fn stan_columns(vars: &[TraceVarInfo]) -> Vec<(String, usize)> {
    let mut out = Vec::new();
    for v in vars {
        let size = v.size();
        for k in 0..size {
            // k-th element in column-major order: the first index varies fastest.
            let mut rest = k;
            let mut index = vec![0; v.shape.len()];
            for (i, &n) in index.iter_mut().zip(&v.shape) {
                *i = rest % n;
                rest /= n;
            }
            let row_major = index.iter().zip(&v.shape).fold(0, |acc, (&i, &n)| acc * n + i);
            let mut name = v.name.clone();
            for i in &index {
                let _ = write!(name, ".{}", i + 1);
            }
            out.push((name, v.offset + row_major));
        }
    }
    out
}

/// A number as written: the shortest decimal that reads back to the same `f64` (exponent form
/// outside `[1e-5, 1e16)`), `nan`, `inf`, `-inf`.
fn put_number(line: &mut String, x: f64) {
    let a = x.abs();
    let _ = if x.is_nan() {
        write!(line, "nan")
    } else if x.is_infinite() {
        write!(line, "{}", if x > 0.0 { "inf" } else { "-inf" })
    } else if a == 0.0 || (1e-5..1e16).contains(&a) {
        write!(line, "{x}")
    } else {
        write!(line, "{x:e}")
    };
}

/// One chain's CSV file while it samples: text collects in `buf` and goes to the file in one
/// write per block, so the file always ends at a line's end.
struct CsvSink {
    out: File,
    path: PathBuf,
    block: usize,
    pending: usize,
    /// Index in a draw's values of each variable column.
    columns: Vec<usize>,
    buf: String,
}

impl CsvSink {
    fn put(&mut self, s: &str) {
        self.buf.push_str(s);
    }

    fn flush(&mut self) -> Result<()> {
        self.out.write_all(self.buf.as_bytes()).map_err(|e| io_error(&self.path, None, &e))?;
        self.buf.clear();
        Ok(())
    }
}

impl ChainSink for CsvSink {
    fn adapted(&mut self, step_size: f64, inv_metric: &[f64]) -> Result<()> {
        let mut s = String::from("# Adaptation terminated\n# Step size = ");
        put_number(&mut s, step_size);
        s.push_str("\n# Diagonal elements of inverse mass matrix:\n# ");
        for (i, &m) in inv_metric.iter().enumerate() {
            if i > 0 {
                s.push_str(", ");
            }
            put_number(&mut s, m);
        }
        s.push('\n');
        self.put(&s);
        Ok(())
    }

    fn draw(&mut self, stats: &DrawStats, values: &[f64]) -> Result<()> {
        let line = &mut self.buf;
        for x in [stats.lp, stats.accept_stat, stats.step_size] {
            put_number(line, x);
            line.push(',');
        }
        let _ = write!(line, "{},{},{},", stats.tree_depth, stats.n_leapfrog, stats.diverging as u8);
        put_number(line, stats.energy);
        for &k in &self.columns {
            line.push(',');
            put_number(line, values[k]);
        }
        line.push('\n');
        self.pending += 1;
        if self.pending >= self.block {
            self.pending = 0;
            self.flush()?;
        }
        Ok(())
    }

    fn finish(&mut self, complete: bool, warmup_s: f64, sampling_s: f64) -> Result<()> {
        if complete {
            let total = warmup_s + sampling_s;
            let s = format!(
                "# \n#  Elapsed Time: {warmup_s:.6} seconds (Warm-up)\n#                {sampling_s:.6} seconds (Sampling)\n#                {total:.6} seconds (Total)\n# \n"
            );
            self.put(&s);
        }
        self.flush()
    }
}

fn io_error(path: &Path, line: Option<usize>, e: &std::io::Error) -> Error {
    Error::TraceFile { file: path.display().to_string(), line, reason: e.to_string() }
}

/// One chain's CSV file, read.
#[derive(Clone, Debug, PartialEq)]
pub struct StanCsvChain {
    /// The file.
    pub file: String,
    /// `key = value` configuration comments (before the header), `(Default)` removed.
    pub config: BTreeMap<String, String>,
    /// The header's column names.
    pub columns: Vec<String>,
    /// Adapted step size (`# Step size = …`), when the file has the adaptation block.
    pub step_size: Option<f64>,
    /// Adapted inverse metric diagonal, when the file has it.
    pub inv_metric: Option<Vec<f64>>,
    /// Draw lines, parsed, in order.
    pub rows: Vec<Vec<f64>>,
    /// Whether the elapsed-time block closes the file (the chain completed).
    pub complete: bool,
    /// Whether the file ended inside a draw line — a run killed while writing a block — which
    /// was dropped (the draws before it are read).
    pub partial_line_dropped: bool,
}

impl StanCsvChain {
    /// Parses a file's text (`file` names it in errors). Comment lines may appear anywhere;
    /// every other line after the header must hold one number per column, except a last line
    /// cut short without its newline (a run killed mid-write), which is dropped and flagged.
    pub fn parse(file: &str, text: &str) -> Result<StanCsvChain> {
        let err = |line: usize, reason: String| Error::TraceFile {
            file: file.to_string(),
            line: Some(line),
            reason,
        };
        let mut chain = StanCsvChain {
            file: file.to_string(),
            config: BTreeMap::new(),
            columns: Vec::new(),
            step_size: None,
            inv_metric: None,
            rows: Vec::new(),
            complete: false,
            partial_line_dropped: false,
        };
        let mut expect_metric = false;
        let mut lines = text.split_inclusive('\n').enumerate().peekable();
        while let Some((i, raw)) = lines.next() {
            let no = i + 1;
            let line = raw.trim_end_matches(['\n', '\r']);
            if !raw.ends_with('\n') && lines.peek().is_none() && !line.starts_with('#') {
                // A run killed while writing a block leaves a partial last draw line: dropped.
                // Anywhere else (the header) the file is damaged.
                if chain.columns.is_empty() {
                    return Err(err(no, "the file ends inside this line (truncated)".into()));
                }
                chain.partial_line_dropped = true;
                break;
            }
            if let Some(comment) = line.strip_prefix('#') {
                let c = comment.trim();
                if expect_metric {
                    expect_metric = false;
                    let m: Result<Vec<f64>> = c
                        .split(',')
                        .map(|t| {
                            parse_number(t.trim())
                                .ok_or_else(|| err(no, format!("`{}` is not a number", t.trim())))
                        })
                        .collect();
                    chain.inv_metric = Some(m?);
                } else if c.starts_with("Diagonal elements of inverse mass matrix") {
                    expect_metric = true;
                } else if let Some(v) = c.strip_prefix("Step size = ") {
                    chain.step_size = Some(
                        parse_number(v.trim())
                            .ok_or_else(|| err(no, format!("step size `{v}` is not a number")))?,
                    );
                } else if c.starts_with("Elapsed Time") {
                    chain.complete = true;
                } else if chain.columns.is_empty()
                    && let Some((k, v)) = c.split_once(" = ")
                {
                    chain.config.insert(k.trim().to_string(), v.replace("(Default)", "").trim().to_string());
                }
                continue;
            }
            if line.trim().is_empty() {
                continue;
            }
            if chain.columns.is_empty() {
                chain.columns = line.split(',').map(|c| c.trim().to_string()).collect();
                if chain.columns.iter().any(String::is_empty) {
                    return Err(err(no, "the header has an empty column name".into()));
                }
                continue;
            }
            let mut row = Vec::with_capacity(chain.columns.len());
            for (k, t) in line.split(',').enumerate() {
                let x = parse_number(t.trim()).ok_or_else(|| {
                    let col = chain.columns.get(k).map(String::as_str).unwrap_or("beyond the header");
                    err(no, format!("field {} (`{col}`) is `{}`, not a number", k + 1, t.trim()))
                })?;
                row.push(x);
            }
            if row.len() != chain.columns.len() {
                return Err(err(
                    no,
                    format!("{} fields where the header has {} columns", row.len(), chain.columns.len()),
                ));
            }
            chain.rows.push(row);
        }
        if chain.columns.is_empty() {
            return Err(Error::TraceFile {
                file: file.to_string(),
                line: None,
                reason: "no header line".into(),
            });
        }
        Ok(chain)
    }

    /// Reads and parses one file.
    pub fn read(path: impl AsRef<Path>) -> Result<StanCsvChain> {
        let path = path.as_ref();
        let text = std::fs::read_to_string(path).map_err(|e| io_error(path, None, &e))?;
        StanCsvChain::parse(&path.display().to_string(), &text)
    }
}

/// `nan`, `inf`, `-inf` and decimal numbers (what CmdStan and this module write).
fn parse_number(t: &str) -> Option<f64> {
    match t {
        "nan" | "NaN" => Some(f64::NAN),
        "inf" | "Inf" => Some(f64::INFINITY),
        "-inf" | "-Inf" => Some(f64::NEG_INFINITY),
        _ => t.parse().ok().filter(|x: &f64| x.is_finite()),
    }
}

/// Several chains' files read into one trace.
#[derive(Clone, Debug, PartialEq)]
pub struct StanCsv {
    /// The draws: every variable (shapes from the column names, row-major like exmc's), the
    /// sampler statistics (`energy_error`, not a CmdStan column, reads as NaN). Chains that
    /// stopped early (a killed run) are cut to the shortest.
    pub trace: Trace,
    /// Each file as read (configuration, adaptation).
    pub chains: Vec<StanCsvChain>,
}

/// Reads one CSV file per chain (in the given order) into a trace.
pub fn read_cmdstan<P: AsRef<Path>>(paths: &[P]) -> Result<StanCsv> {
    let chains = paths.iter().map(StanCsvChain::read).collect::<Result<Vec<_>>>()?;
    assemble(chains)
}

/// Reads every `*.csv` file of `dir`, ordered by their `id` (chain) configuration line.
pub fn read_cmdstan_dir(dir: impl AsRef<Path>) -> Result<StanCsv> {
    let dir = dir.as_ref();
    let entries = std::fs::read_dir(dir).map_err(|e| io_error(dir, None, &e))?;
    let mut paths: Vec<PathBuf> = entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "csv"))
        .collect();
    if paths.is_empty() {
        return Err(Error::TraceFile {
            file: dir.display().to_string(),
            line: None,
            reason: "no .csv files".into(),
        });
    }
    paths.sort();
    let mut chains = paths.iter().map(StanCsvChain::read).collect::<Result<Vec<_>>>()?;
    chains.sort_by_key(|c| c.config.get("id").and_then(|v| v.parse::<u64>().ok()).unwrap_or(u64::MAX));
    assemble(chains)
}

/// Builds the trace of chains read from files with the same columns.
pub fn assemble(chains: Vec<StanCsvChain>) -> Result<StanCsv> {
    let first = chains.first().ok_or_else(|| Error::TraceFile {
        file: String::new(),
        line: None,
        reason: "no files given".into(),
    })?;
    let header_err =
        |c: &StanCsvChain, reason: String| Error::TraceFile { file: c.file.clone(), line: None, reason };
    for c in &chains {
        if c.columns != first.columns {
            return Err(header_err(c, format!("its columns differ from those of {}", first.file)));
        }
    }
    let col = |name: &str| first.columns.iter().position(|c| c == name);
    let stat_cols: Vec<Option<usize>> = SAMPLER_COLUMNS.iter().map(|s| col(s)).collect();
    let vars = parse_variables(&first.columns).map_err(|r| header_err(first, r))?;
    let draws = chains.iter().map(|c| c.rows.len()).min().unwrap_or(0);
    let get = |row: &[f64], k: Option<usize>| k.map_or(f64::NAN, |k| row[k]);
    let stats = chains
        .iter()
        .map(|c| {
            c.rows[..draws]
                .iter()
                .map(|r| DrawStats {
                    lp: get(r, stat_cols[0]),
                    accept_stat: get(r, stat_cols[1]),
                    step_size: get(r, stat_cols[2]),
                    tree_depth: get(r, stat_cols[3]) as u8,
                    n_leapfrog: get(r, stat_cols[4]) as u32,
                    diverging: get(r, stat_cols[5]) != 0.0,
                    energy: get(r, stat_cols[6]),
                    energy_error: f64::NAN,
                    tuning: false,
                })
                .collect()
        })
        .collect();
    let trace_vars = vars
        .into_iter()
        .map(|(name, shape, cols)| {
            let mut values = Vec::with_capacity(chains.len() * draws * cols.len());
            for c in &chains {
                for r in &c.rows[..draws] {
                    values.extend(cols.iter().map(|&k| r[k]));
                }
            }
            TraceVar { name, shape, values, labels: None }
        })
        .collect();
    let trace = Trace {
        chains: chains.len(),
        draws,
        vars: trace_vars,
        stats,
        warmup_stats: vec![Vec::new(); chains.len()],
    };
    Ok(StanCsv { trace, chains })
}

/// A variable read from the header: name, shape, the column of each row-major element.
type ColumnVar = (String, Vec<usize>, Vec<usize>);
/// A column's 1-based indices and its position in the header.
type IndexedColumn = (Vec<usize>, usize);

/// Groups the non-sampler columns into variables: `(name, shape, column of each row-major
/// element)`. A variable's columns must be adjacent and cover every index of its shape once.
fn parse_variables(columns: &[String]) -> std::result::Result<Vec<ColumnVar>, String> {
    let mut groups: Vec<(String, Vec<IndexedColumn>)> = Vec::new();
    for (k, c) in columns.iter().enumerate().filter(|(_, c)| !c.ends_with("__")) {
        let mut parts = c.split('.');
        let base = parts.next().unwrap_or_default().to_string();
        let index: Option<Vec<usize>> = parts.map(|p| p.parse::<usize>().ok().filter(|&i| i >= 1)).collect();
        let index = index.ok_or_else(|| format!("column `{c}`: indices must be whole numbers from 1"))?;
        match groups.last_mut() {
            Some((name, cols)) if *name == base => cols.push((index, k)),
            _ => {
                if groups.iter().any(|(n, _)| *n == base) {
                    return Err(format!("the columns of `{base}` are not adjacent"));
                }
                groups.push((base, vec![(index, k)]));
            }
        }
    }
    groups
        .into_iter()
        .map(|(name, cols)| {
            let rank = cols[0].0.len();
            if cols.iter().any(|(i, _)| i.len() != rank) {
                return Err(format!("the columns of `{name}` have different numbers of indices"));
            }
            let shape: Vec<usize> =
                (0..rank).map(|d| cols.iter().map(|(i, _)| i[d]).max().unwrap_or(0)).collect();
            let size = shape.iter().try_fold(1usize, |a, &n| a.checked_mul(n));
            if size != Some(cols.len()) {
                return Err(format!(
                    "`{name}` has {} columns, not one per element of its shape {shape:?}",
                    cols.len()
                ));
            }
            let mut at = vec![usize::MAX; cols.len()];
            for (index, k) in &cols {
                let e = index.iter().zip(&shape).fold(0, |acc, (&i, &n)| acc * n + i - 1);
                if at[e] != usize::MAX {
                    return Err(format!("`{name}` names element {index:?} twice"));
                }
                at[e] = *k;
            }
            Ok((name, shape, at))
        })
        .collect()
}
