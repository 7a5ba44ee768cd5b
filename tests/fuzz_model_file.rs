//! Issue 10's fuzz target for the model-file loader: proptest over mutated model files and
//! data files. The corpus is every model file in `models/` (with its data: `models/*.json`, and
//! `../shared/posteriordb/<name>/data.json` where present). Each case applies 1–4 mutations —
//! bytes truncated or replaced, numbers replaced by extremes, tokens inserted into expression
//! strings (operators, brackets, functions, names, huge and negative indices), family and
//! parameter names swapped, lines deleted or duplicated, section headers inserted — and loads
//! the result (`Model::from_model_str`, and `DataSet::from_json` for mutated data). What loads
//! is compiled (rewrite passes, lowering, reverse mode); what compiles and has small data is
//! sampled briefly on the CPU. Every call must return `Ok` or a typed error: a panic fails the
//! case, and a case running longer than `HANG_SECS` aborts the binary with the case printed.
//!
//! The suite runs it for `EXMC_FUZZ_SECS` seconds (default 15); the 10-minute run is
//! `EXMC_FUZZ_SECS=600 cargo test --release --test fuzz_model_file -- --nocapture`, which
//! prints the number of inputs at the end.

mod common;

use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};

use exmc::model::DistKind;
use exmc::model::file::DataSet;
use exmc::prelude::*;
use exmc::rewrite::RewriteOptions;
use proptest::prelude::*;

/// Tokens inserted into expression strings.
const TOKENS: &[&str] = &[
    "(",
    ")",
    "[",
    "]",
    "@",
    "+",
    "-",
    "*",
    "/",
    "^",
    "==",
    ",",
    " ",
    "exp(",
    "log(",
    "sum(",
    "mean(",
    "sd(",
    "slice(",
    "cols(",
    "center(",
    "stack(",
    "dot(",
    "pow(",
    "sqrt(",
    "log10(",
    "x",
    "y",
    "N",
    "K",
    "mu",
    "beta",
    "sigma",
    "theta",
    "tau",
    "0",
    "1",
    "-1",
    "0.5",
    "1e308",
    "-1e308",
    "1e-320",
    "nan",
    "inf",
    "[0]",
    "[-1]",
    "[99999999999]",
    "[18446744073709551615]",
    ".",
    "..",
    "\\",
    "\"",
    "é",
    "beta[",
    "X @",
    "@ beta",
];

/// Lines inserted as they are (section headers, fields).
const LINES: &[&str] = &[
    "[rv.z]\ndist = \"normal\"\nmu = 0\nsigma = 1",
    "[rv.w]\ndist = \"half_normal\"\nsigma = \"w\"",
    "[observe.q]\ndist = \"poisson\"\nmu = \"exp(mu)\"\ndata = \"y\"",
    "[deterministic]\nd = \"mu * 2\"",
    "[potential]\npp = \"-mu^2\"",
    "[transformed_data]\ntd = \"mean(y)\"",
    "[data]\nextra = [1, 2, 3]",
    "shape = 99999999999999",
    "shape = -1",
    "shape = 0",
    "shape = \"J\"",
    "dist = \"nope\"",
    "lower = 5\nupper = 1",
    "[rv.mu]",
    "[bogus]",
    "x = { a = 1 }",
];

#[derive(Clone, Debug)]
enum Mutation {
    Truncate(usize),
    Byte(usize, u8),
    Number(usize, String),
    Token(usize, usize, usize),
    Family(usize, usize),
    DeleteLine(usize),
    DuplicateLine(usize),
    InsertLine(usize, usize),
}

fn mutation() -> impl Strategy<Value = Mutation> {
    let number = prop_oneof![
        Just("0".to_string()),
        Just("-0".to_string()),
        Just("1e308".to_string()),
        Just("-1e309".to_string()),
        Just("1e-320".to_string()),
        Just("nan".to_string()),
        Just("inf".to_string()),
        Just("18446744073709551616".to_string()),
        Just("4294967296".to_string()),
        Just("-3".to_string()),
        Just("2.5".to_string()),
        (-1e6..1e6f64).prop_map(|x| x.to_string()),
    ];
    prop_oneof![
        1 => any::<usize>().prop_map(Mutation::Truncate),
        2 => (any::<usize>(), any::<u8>()).prop_map(|(i, b)| Mutation::Byte(i, b)),
        3 => (any::<usize>(), number).prop_map(|(i, n)| Mutation::Number(i, n)),
        6 => (any::<usize>(), any::<usize>(), 0..TOKENS.len()).prop_map(|(s, p, t)| Mutation::Token(s, p, t)),
        2 => (any::<usize>(), any::<usize>()).prop_map(|(s, f)| Mutation::Family(s, f)),
        1 => any::<usize>().prop_map(Mutation::DeleteLine),
        1 => any::<usize>().prop_map(Mutation::DuplicateLine),
        2 => (any::<usize>(), 0..LINES.len()).prop_map(|(i, l)| Mutation::InsertLine(i, l)),
    ]
}

/// Byte spans of the quoted strings in `text` (inside the quotes).
fn string_spans(text: &str) -> Vec<(usize, usize)> {
    let mut out = Vec::new();
    let mut open = None;
    for (i, c) in text.char_indices() {
        if c == '"' {
            match open.take() {
                Some(a) => out.push((a, i)),
                None => open = Some(i + 1),
            }
        }
    }
    out
}

fn number_spans(text: &str) -> Vec<(usize, usize)> {
    let b = text.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        if b[i].is_ascii_digit() {
            let start = i;
            while i < b.len() && (b[i].is_ascii_digit() || b"+-.eE".contains(&b[i])) {
                i += 1;
            }
            out.push((start, i));
        } else {
            i += 1;
        }
    }
    out
}

/// The nearest char boundary at or below `i`.
fn floor_char(text: &str, i: usize) -> usize {
    let mut i = i.min(text.len());
    while !text.is_char_boundary(i) {
        i -= 1;
    }
    i
}

fn mutate(text: &str, muts: &[Mutation]) -> String {
    let mut t = text.to_string();
    for m in muts {
        let lines: Vec<String> = t.lines().map(String::from).collect();
        match m {
            Mutation::Truncate(i) => {
                let at = floor_char(&t, i % (t.len() + 1));
                t.truncate(at);
            }
            Mutation::Byte(i, b) if !t.is_empty() => {
                let mut bytes = t.into_bytes();
                let at = i % bytes.len();
                bytes[at] = *b;
                t = String::from_utf8_lossy(&bytes).into_owned();
            }
            Mutation::Number(i, n) => {
                let spans = number_spans(&t);
                if let Some(&(a, b)) = spans.get(i % spans.len().max(1)) {
                    t = format!("{}{n}{}", &t[..a], &t[b..]);
                }
            }
            Mutation::Token(s, p, k) => {
                let spans = string_spans(&t);
                if let Some(&(a, b)) = spans.get(s % spans.len().max(1)) {
                    let at = floor_char(&t, a + p % (b - a + 1));
                    t.insert_str(at, TOKENS[*k]);
                }
            }
            Mutation::Family(s, f) => {
                let spans: Vec<(usize, usize)> =
                    string_spans(&t).into_iter().filter(|&(a, _)| t[..a].ends_with("dist = \"")).collect();
                if let Some(&(a, b)) = spans.get(s % spans.len().max(1)) {
                    let all = DistKind::ALL;
                    let name = match f % (all.len() + 2) {
                        k if k < all.len() => all[k].name().to_string(),
                        k if k == all.len() => "NormalLogit".to_string(),
                        _ => "poisson_log".to_string(),
                    };
                    t = format!("{}{name}{}", &t[..a], &t[b..]);
                }
            }
            Mutation::DeleteLine(i) if !lines.is_empty() => {
                let mut l = lines;
                l.remove(i % l.len());
                t = l.join("\n");
            }
            Mutation::DuplicateLine(i) if !lines.is_empty() => {
                let mut l = lines;
                let k = i % l.len();
                let line = l[k].clone();
                l.insert(k, line);
                t = l.join("\n");
            }
            Mutation::InsertLine(i, k) => {
                let mut l = lines;
                l.insert(i % (l.len() + 1), LINES[*k].to_string());
                t = l.join("\n");
            }
            _ => {}
        }
    }
    t
}

struct Entry {
    name: String,
    text: String,
    data_text: String,
    data: DataSet,
    small: bool,
}

fn corpus() -> Vec<Entry> {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let shared = std::env::var_os("EXMC_SHARED")
        .map(PathBuf::from)
        .unwrap_or_else(|| root.join("../shared"))
        .join("posteriordb");
    let mut files: Vec<(PathBuf, PathBuf)> =
        vec![(root.join("models/eight_schools.toml"), root.join("models/eight_schools.json"))];
    if let Ok(dir) = std::fs::read_dir(root.join("models/posteriordb")) {
        let mut names: Vec<PathBuf> = dir.flatten().map(|e| e.path()).collect();
        names.sort();
        for p in names {
            let stem = p.file_stem().and_then(|s| s.to_str()).unwrap_or_default().to_string();
            let data = shared.join(&stem).join("data.json");
            if data.is_file() {
                files.push((p, data));
            }
        }
    }
    if files.len() == 1 {
        eprintln!(
            "SKIPPED part of fuzz_model_file: ../shared/posteriordb not found, fuzzing eight schools only"
        );
    }
    files
        .into_iter()
        .map(|(model, data)| {
            let text = std::fs::read_to_string(&model).unwrap();
            let data_text = std::fs::read_to_string(&data).unwrap();
            let parsed = DataSet::from_json(&data_text, "data.json").unwrap();
            Entry {
                name: model.display().to_string(),
                text,
                small: data_text.len() < 20_000,
                data_text,
                data: parsed,
            }
        })
        .collect()
}

static LOADED: AtomicU64 = AtomicU64::new(0);
static COMPILED: AtomicU64 = AtomicU64::new(0);
static SAMPLED: AtomicU64 = AtomicU64::new(0);

fn load_and_use(text: &str, data: &DataSet, small: bool, sample: bool) {
    let Ok(m) = Model::from_model_str(text, data, "fuzz.toml") else { return };
    LOADED.fetch_add(1, Ordering::Relaxed);
    let Ok(compiled) = exmc::compile::compile(&m, RewriteOptions::default()) else { return };
    COMPILED.fetch_add(1, Ordering::Relaxed);
    if sample && small && compiled.pointmap.dim > 0 && compiled.pointmap.dim < 200 {
        SAMPLED.fetch_add(1, Ordering::Relaxed);
        let _ = Sampler::new(&m)
            .backend(BackendChoice::Cpu)
            .chains(1)
            .warmup(10)
            .draws(10)
            .seed(1)
            .progress(false)
            .run();
    }
}

#[test]
fn fuzz_model_file_loader() {
    let corpus = corpus();
    // Unmutated, every entry loads.
    for e in &corpus {
        Model::from_model_str(&e.text, &e.data, &e.name).unwrap_or_else(|err| panic!("{}: {err}", e.name));
    }
    let strategy = (
        0..corpus.len(),
        prop::collection::vec(mutation(), 1..5),
        prop::bool::weighted(0.2),
        prop::bool::weighted(0.3),
    );
    let r = common::fuzz::run(15, strategy, |(k, muts, mutate_data, sample)| {
        let e = &corpus[k];
        common::fuzz::case_started(|| format!("{}\n{muts:?} data: {mutate_data}", e.name));
        if mutate_data && e.small {
            if let Ok(d) = DataSet::from_json(&mutate(&e.data_text, &muts), "data.json") {
                load_and_use(&e.text, &d, true, sample);
            }
        } else {
            load_and_use(&mutate(&e.text, &muts), &e.data, e.small, sample);
        }
        Ok(())
    });
    eprintln!(
        "fuzz_model_file: {} inputs in {} s ({} runs of 64, seeds from {}), corpus of {}; \
         {} loaded, {} compiled, {} sampled",
        r.cases,
        r.secs,
        r.runs,
        r.first_seed,
        corpus.len(),
        LOADED.load(Ordering::Relaxed),
        COMPILED.load(Ordering::Relaxed),
        SAMPLED.load(Ordering::Relaxed),
    );
}
