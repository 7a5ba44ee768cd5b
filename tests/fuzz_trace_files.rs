//! Issue 11's fuzz targets for the trace-file readers: proptest over mutated CmdStan CSV files
//! (`StanCsvChain::parse` and the trace built from it) and mutated Zarr stores (`read_zarr`).
//! The corpus is a short run written by exmc itself in both formats. CSV cases apply 1–4
//! mutations — truncation, byte replacement, numbers replaced by extremes (`nan`, `1e999`,
//! `18446744073709551616`, empty), lines deleted, duplicated or inserted (adaptation comments,
//! headers with odd column names) — then parse, assemble and summarise. Zarr cases mutate one
//! to three files of a copy of the store — a JSON metadata document (numbers, strings, keys
//! replaced; truncated) or a chunk (truncated, bytes flipped, deleted) — and read it. Every
//! call must return `Ok` or a typed error: a panic fails the case, and a case running longer
//! than `HANG_SECS` aborts the binary with the case printed.
//!
//! The suite runs each for `EXMC_FUZZ_SECS` seconds (default 10); the issue's 10-minute runs
//! are `EXMC_FUZZ_SECS=600 cargo test --release --test fuzz_trace_files -- --nocapture
//! --test-threads 1`, which print the number of inputs.

mod common;

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use exmc::io::{CmdStanCsv, StanCsvChain, Zarr, cmdstan, read_zarr};
use exmc::prelude::*;
use proptest::prelude::*;

/// The corpus: one short run in both formats.
fn corpus() -> &'static (PathBuf, Vec<String>) {
    static CORPUS: OnceLock<(PathBuf, Vec<String>)> = OnceLock::new();
    CORPUS.get_or_init(|| {
        // Per process, so that two runs of this binary never share files.
        let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
            .join(format!("fuzz_trace_files-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let mut m = Model::new();
        let mu = m.rv("mu", Normal::new(0, 1)).unwrap();
        let a = m.rv_vec("a", Normal::new(mu, 1), 3).unwrap();
        m.set_labels(a, vec!["p".into(), "q".into(), "r".into()]).unwrap();
        m.rv("L", LkjCholesky::new(2, 2.0)).unwrap();
        m.observe("y", Normal::new(a, 1), &[0.1, 0.5, -0.3]).unwrap();
        Sampler::new(&m)
            .chains(2)
            .warmup(50)
            .draws(30)
            .progress(false)
            .save(CmdStanCsv::new(dir.join("csv")).model_name("m").block(10))
            .save(Zarr::new(dir.join("m.zarr")).block(10))
            .run()
            .unwrap();
        let csv =
            (1..=2).map(|c| std::fs::read_to_string(dir.join(format!("csv/m_{c}.csv"))).unwrap()).collect();
        (dir.join("m.zarr"), csv)
    })
}

const NUMBERS: &[&str] = &[
    "0",
    "-0",
    "nan",
    "inf",
    "-inf",
    "1e999",
    "-1e309",
    "1e-320",
    "18446744073709551616",
    "",
    "-",
    "1.5.2",
    "3",
    "-7",
];
const LINES: &[&str] = &[
    "# Adaptation terminated",
    "# Step size = ",
    "# Step size = 0.5",
    "# Diagonal elements of inverse mass matrix:",
    "# 1, 2, x",
    "#  Elapsed Time: 1 seconds (Warm-up)",
    "# id = 99999999999999999999",
    "lp__,mu,mu",
    "lp__,b.1,b.3",
    "lp__,c.0",
    "lp__,d.1.1,d.2",
    "lp__,e.99999999999999999999",
    "lp__,f.4294967296.4294967296",
    "lp__,,g",
    "",
    ",,,,",
];

#[derive(Clone, Debug)]
enum CsvMutation {
    Truncate(usize),
    Byte(usize, u8),
    Number(usize, usize),
    DeleteLine(usize),
    DuplicateLine(usize),
    InsertLine(usize, usize),
}

fn csv_mutation() -> impl Strategy<Value = CsvMutation> {
    prop_oneof![
        1 => any::<usize>().prop_map(CsvMutation::Truncate),
        2 => (any::<usize>(), any::<u8>()).prop_map(|(i, b)| CsvMutation::Byte(i, b)),
        3 => (any::<usize>(), 0..NUMBERS.len()).prop_map(|(i, n)| CsvMutation::Number(i, n)),
        1 => any::<usize>().prop_map(CsvMutation::DeleteLine),
        1 => any::<usize>().prop_map(CsvMutation::DuplicateLine),
        2 => (any::<usize>(), 0..LINES.len()).prop_map(|(i, l)| CsvMutation::InsertLine(i, l)),
    ]
}

fn floor_char(s: &str, i: usize) -> usize {
    (0..=i.min(s.len())).rev().find(|&k| s.is_char_boundary(k)).unwrap_or(0)
}

fn mutate_csv(text: &str, muts: &[CsvMutation]) -> String {
    let mut t = text.to_string();
    for m in muts {
        let lines: Vec<&str> = t.split('\n').collect();
        let n = lines.len();
        t = match *m {
            CsvMutation::Truncate(i) => t[..floor_char(&t, i % (t.len() + 1))].to_string(),
            CsvMutation::Byte(i, b) if !t.is_empty() => {
                let mut bytes = t.clone().into_bytes();
                let at = i % bytes.len();
                bytes[at] = b;
                String::from_utf8_lossy(&bytes).into_owned()
            }
            CsvMutation::Number(i, k) => {
                // Replace the i-th comma-separated field of the text.
                let fields: Vec<&str> = t.split(',').collect();
                let at = i % fields.len();
                let mut f: Vec<String> = fields.iter().map(|s| s.to_string()).collect();
                let keep_newline = f[at].find('\n').map(|p| f[at][p..].to_string()).unwrap_or_default();
                f[at] = format!("{}{keep_newline}", NUMBERS[k]);
                f.join(",")
            }
            CsvMutation::DeleteLine(i) if n > 0 => {
                let mut l = lines.clone();
                l.remove(i % n);
                l.join("\n")
            }
            CsvMutation::DuplicateLine(i) if n > 0 => {
                let mut l = lines.clone();
                l.insert(i % n, lines[i % n]);
                l.join("\n")
            }
            CsvMutation::InsertLine(i, k) => {
                let mut l = lines.clone();
                l.insert(i % (n + 1), LINES[k]);
                l.join("\n")
            }
            _ => t.clone(),
        };
    }
    t
}

/// Parses, assembles and summarises; only a panic (or a hang) fails.
fn exercise_csv(texts: &[String]) {
    let chains: Vec<StanCsvChain> = texts
        .iter()
        .enumerate()
        .filter_map(|(c, t)| StanCsvChain::parse(&format!("m_{c}.csv"), t).ok())
        .collect();
    if chains.is_empty() {
        return;
    }
    if let Ok(read) = cmdstan::assemble(chains) {
        let _ = read.trace.summary();
    }
}

#[test]
fn fuzz_cmdstan_reader() {
    let (_, csv) = corpus();
    let strategy = (0..2usize, proptest::collection::vec(csv_mutation(), 1..5));
    let report = common::fuzz::run(10, strategy, |(which, muts)| {
        let mut texts = csv.clone();
        texts[which] = mutate_csv(&texts[which], &muts);
        common::fuzz::case_started(|| format!("{muts:?}\n{}", texts[which]));
        exercise_csv(&texts);
        Ok(())
    });
    println!(
        "fuzz_cmdstan_reader: {} inputs in {} runs of 64 from seed {}, {} s",
        report.cases, report.runs, report.first_seed, report.secs
    );
}

#[derive(Clone, Debug)]
enum ZarrMutation {
    /// In a metadata document: replace the k-th JSON number with an extreme.
    Number(usize, usize, usize),
    /// In a metadata document: replace the k-th JSON string with another.
    Str(usize, usize, usize),
    /// Truncate a file.
    Truncate(usize, usize),
    /// Replace a byte of a file.
    Byte(usize, usize, u8),
    /// Delete a file.
    Delete(usize),
}

const JSON_NUMBERS: &[&str] = &[
    "0",
    "-1",
    "1",
    "2",
    "3",
    "1e308",
    "18446744073709551615",
    "4294967296",
    "1.5",
    "null",
    "[]",
    "{}",
    "\"x\"",
];
const JSON_STRINGS: &[&str] = &[
    "",
    "<f8",
    "<i8",
    "|b1",
    "|O",
    ">f8",
    "<f4",
    "<u2",
    "|S3",
    "C",
    "F",
    "chain",
    "draw",
    "vlen-utf8",
    "zlib",
    "NaN",
    "posterior",
    "a_dim_0",
    "lp",
    "/",
    "..",
    "mu/0",
];

fn zarr_mutation() -> impl Strategy<Value = ZarrMutation> {
    prop_oneof![
        4 => (any::<usize>(), any::<usize>(), 0..JSON_NUMBERS.len()).prop_map(|(f, k, n)| ZarrMutation::Number(f, k, n)),
        3 => (any::<usize>(), any::<usize>(), 0..JSON_STRINGS.len()).prop_map(|(f, k, n)| ZarrMutation::Str(f, k, n)),
        2 => (any::<usize>(), any::<usize>()).prop_map(|(f, i)| ZarrMutation::Truncate(f, i)),
        2 => (any::<usize>(), any::<usize>(), any::<u8>()).prop_map(|(f, i, b)| ZarrMutation::Byte(f, i, b)),
        1 => any::<usize>().prop_map(ZarrMutation::Delete),
    ]
}

fn files_under(dir: &Path, out: &mut Vec<PathBuf>) {
    let mut entries: Vec<PathBuf> = std::fs::read_dir(dir).unwrap().map(|e| e.unwrap().path()).collect();
    entries.sort();
    for p in entries {
        if p.is_dir() { files_under(&p, out) } else { out.push(p) }
    }
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let p = e.unwrap().path();
        let dest = to.join(p.file_name().unwrap());
        if p.is_dir() { copy_dir(&p, &dest) } else { std::fs::copy(&p, &dest).map(|_| ()).unwrap() }
    }
}

/// Spans of JSON numbers (and literals) and of JSON strings' contents in `t`.
/// Byte ranges in a text.
type Spans = Vec<(usize, usize)>;

fn json_spans(t: &str) -> (Spans, Spans) {
    let b = t.as_bytes();
    let (mut nums, mut strs) = (Vec::new(), Vec::new());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'"' {
            let start = i + 1;
            i += 1;
            while i < b.len() && b[i] != b'"' {
                i += 1;
            }
            strs.push((start, i));
        } else if b[i] == b'-' || b[i].is_ascii_digit() || b[i] == b'n' {
            let start = i;
            while i < b.len() && (b[i].is_ascii_alphanumeric() || matches!(b[i], b'-' | b'+' | b'.')) {
                i += 1;
            }
            nums.push((start, i));
            continue;
        }
        i += 1;
    }
    (nums, strs)
}

fn mutate_zarr(root: &Path, muts: &[ZarrMutation]) {
    for m in muts {
        let mut files = Vec::new();
        files_under(root, &mut files);
        if files.is_empty() {
            return;
        }
        let json: Vec<&PathBuf> = files
            .iter()
            .filter(|p| p.file_name().is_some_and(|n| n.to_string_lossy().starts_with(".z")))
            .collect();
        let edit_json = |f: usize, k: usize, with: &str, numbers: bool| {
            let p = json[f % json.len()];
            let t = std::fs::read_to_string(p).unwrap_or_default();
            let (nums, strs) = json_spans(&t);
            let spans = if numbers { nums } else { strs };
            if let Some(&(a, b)) = spans.get(k % spans.len().max(1)) {
                std::fs::write(p, format!("{}{with}{}", &t[..a], &t[b..])).unwrap();
            }
        };
        match *m {
            ZarrMutation::Number(f, k, n) => edit_json(f, k, JSON_NUMBERS[n], true),
            ZarrMutation::Str(f, k, n) => edit_json(f, k, JSON_STRINGS[n], false),
            ZarrMutation::Truncate(f, i) => {
                let p = &files[f % files.len()];
                let bytes = std::fs::read(p).unwrap();
                std::fs::write(p, &bytes[..i % (bytes.len() + 1)]).unwrap();
            }
            ZarrMutation::Byte(f, i, v) => {
                let p = &files[f % files.len()];
                let mut bytes = std::fs::read(p).unwrap();
                if !bytes.is_empty() {
                    let at = i % bytes.len();
                    bytes[at] = v;
                    std::fs::write(p, bytes).unwrap();
                }
            }
            ZarrMutation::Delete(f) => std::fs::remove_file(&files[f % files.len()]).unwrap(),
        }
    }
}

#[test]
fn fuzz_zarr_reader() {
    let (store, _) = corpus();
    let work = PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("fuzz_trace_files_case-{}", std::process::id()));
    let strategy = proptest::collection::vec(zarr_mutation(), 1..4);
    let report = common::fuzz::run(10, strategy, |muts| {
        let _ = std::fs::remove_dir_all(&work);
        copy_dir(store, &work);
        mutate_zarr(&work, &muts);
        common::fuzz::case_started(|| format!("{muts:?}"));
        if let Ok(trace) = read_zarr(&work) {
            let _ = trace.summary();
        }
        Ok(())
    });
    let _ = std::fs::remove_dir_all(&work);
    println!(
        "fuzz_zarr_reader: {} inputs in {} runs of 64 from seed {}, {} s",
        report.cases, report.runs, report.first_seed, report.secs
    );
}
