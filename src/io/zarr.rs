//! ArviZ InferenceData as a Zarr store (format 2), written through the `zarrs` crate.
//!
//! The store is a directory with one group per InferenceData group — `posterior`,
//! `sample_stats`, `observed_data`, and, when given, `log_likelihood`, `log_prior`, `prior`,
//! `prior_predictive`, `posterior_predictive` — each variable an array whose dimensions are
//! named in its `_ARRAY_DIMENSIONS` attribute (`chain`, `draw`, `theta_dim_0` …) with a
//! coordinate array per dimension (chain ids, draw numbers, element labels when the model gave
//! them), and consolidated metadata (`.zmetadata`) at the root. `arviz.from_zarr` opens it
//! (zarr-python 2), and so does `xarray.open_datatree(path, engine="zarr")` with
//! zarr-python 3. Why Zarr rather than netCDF: DECISIONS 46.
//!
//! Arrays of draws are chunked one chain by `block` draws: [`Zarr`] writes each chain's
//! chunks while it samples, so a run that dies leaves every completed block on disk (chunks
//! never written read as NaN; [`read_zarr`] stops at the first draw a chain did not reach).

use std::collections::BTreeMap;
use std::num::NonZeroU64;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use serde_json::{Value, json};
use zarrs::array::{Array, ArrayMetadata, ArrayMetadataV2, ArraySubset, CodecOptions};
use zarrs::filesystem::FilesystemStore;
use zarrs::group::{Group, GroupMetadata};
use zarrs::metadata::FillValueMetadata;
use zarrs::metadata::v2::GroupMetadataV2;

use crate::model::{Model, NodeKind, Shape};
use crate::nuts::DrawStats;
use crate::sampler::{
    ChainSink, Fit, LogLikelihood, LogPrior, RunInfo, Trace, TraceVar, TraceVarInfo, TraceWriter,
};
use crate::smc::{Smc, SmcStage};
use crate::{Error, Result};

/// Attribute of the `posterior` group listing its variables in model order (Zarr groups are
/// unordered); [`read_zarr`] follows it.
const ORDER_ATTR: &str = "exmc_variable_order";

/// Most values one chunk may hold when reading (a damaged chunk shape must not decide an
/// allocation).
const MAX_CHUNK: u64 = 1 << 24;

/// Default number of draws per chunk.
pub const DEFAULT_BLOCK: usize = 100;

type Store = Arc<FilesystemStore>;
type ZArray = Array<FilesystemStore>;

fn zarr_error(path: &Path, reason: impl std::fmt::Display) -> Error {
    Error::TraceFile { file: path.display().to_string(), line: None, reason: reason.to_string() }
}

/// Element type of an array.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Dtype {
    F64,
    I64,
    Bool,
    Str,
}

/// Values of an array, row-major.
#[derive(Clone, Debug, PartialEq)]
enum Data {
    F64(Vec<f64>),
    I64(Vec<i64>),
    Bool(Vec<bool>),
    Str(Vec<String>),
}

/// A Zarr store being written: the directory and its `zarrs` storage.
struct ZarrStore {
    root: PathBuf,
    store: Store,
}

impl ZarrStore {
    /// Opens (creating) the directory and writes the root group.
    fn create(root: &Path) -> Result<ZarrStore> {
        std::fs::create_dir_all(root).map_err(|e| zarr_error(root, e))?;
        let store = Arc::new(FilesystemStore::new(root).map_err(|e| zarr_error(root, e))?);
        let z = ZarrStore { root: root.to_path_buf(), store };
        z.group("", library_attrs())?;
        Ok(z)
    }

    /// Writes group `name` (`""` for the root) with `attrs`, replacing an earlier one.
    fn group(&self, name: &str, attrs: serde_json::Map<String, Value>) -> Result<()> {
        if !name.is_empty() {
            let dir = self.root.join(name);
            if dir.exists() {
                std::fs::remove_dir_all(&dir).map_err(|e| zarr_error(&dir, e))?;
            }
        }
        let mut meta = GroupMetadataV2::new();
        meta.attributes = attrs;
        let g = Group::new_with_metadata(self.store.clone(), &format!("/{name}"), GroupMetadata::V2(meta))
            .map_err(|e| zarr_error(&self.root, e))?;
        g.store_metadata().map_err(|e| zarr_error(&self.root, e))
    }

    /// Creates array `path` (`group/name`) with named dimensions and its chunk shape.
    fn array(
        &self,
        path: &str,
        dims: &[String],
        shape: &[usize],
        chunks: &[usize],
        dtype: Dtype,
    ) -> Result<ZArray> {
        let nz = |v: &[usize]| {
            v.iter().map(|&x| NonZeroU64::new(x.max(1) as u64).unwrap_or(NonZeroU64::MIN)).collect()
        };
        let (code, fill, filters) = match dtype {
            Dtype::F64 => ("<f8", FillValueMetadata::from(f64::NAN), None),
            Dtype::I64 => ("<i8", FillValueMetadata::Null, None),
            Dtype::Bool => ("|b1", FillValueMetadata::Null, None),
            Dtype::Str => ("|O", FillValueMetadata::Null, Some(vec![vlen_utf8()])),
        };
        let shape: Vec<u64> = shape.iter().map(|&s| s as u64).collect();
        let mut meta = ArrayMetadataV2::new(shape, nz(chunks), code.into(), fill, None, filters);
        meta.attributes.insert("_ARRAY_DIMENSIONS".into(), json!(dims));
        let a = Array::new_with_metadata(self.store.clone(), &format!("/{path}"), ArrayMetadata::V2(meta))
            .map_err(|e| zarr_error(&self.root.join(path), e))?;
        a.store_metadata().map_err(|e| zarr_error(&self.root.join(path), e))?;
        Ok(a)
    }

    /// Creates an array holding `data` in one chunk.
    fn whole(&self, path: &str, dims: &[String], shape: &[usize], data: &Data) -> Result<()> {
        let dtype = match data {
            Data::F64(_) => Dtype::F64,
            Data::I64(_) => Dtype::I64,
            Data::Bool(_) => Dtype::Bool,
            Data::Str(_) => Dtype::Str,
        };
        let a = self.array(path, dims, shape, shape, dtype)?;
        if shape.contains(&0) {
            return Ok(());
        }
        store_chunk(&a, &vec![0; shape.len()], data).map_err(|e| zarr_error(&self.root.join(path), e))
    }

    /// Writes `.zmetadata`: every `.zgroup`, `.zattrs` and `.zarray` under the root, so readers
    /// open the store with one read (xarray expects it).
    fn consolidate(&self) -> Result<()> {
        let mut metadata = BTreeMap::new();
        collect_metadata(&self.root, &self.root, &mut metadata)?;
        let doc = json!({ "metadata": metadata, "zarr_consolidated_format": 1 });
        let path = self.root.join(".zmetadata");
        let text = serde_json::to_string_pretty(&doc).map_err(|e| zarr_error(&path, e))?;
        std::fs::write(&path, text).map_err(|e| zarr_error(&path, e))
    }
}

fn vlen_utf8() -> zarrs::metadata::v2::MetadataV2 {
    serde_json::from_value(json!({"id": "vlen-utf8"})).expect("a valid codec description")
}

/// Writes one chunk, also when every value equals the fill value (zarrs would skip it by
/// default, and zarr-python 2 reads a missing integer chunk with a null fill as garbage).
fn store_chunk(a: &ZArray, index: &[u64], data: &Data) -> std::result::Result<(), String> {
    let opt = CodecOptions::default().with_store_empty_chunks(true);
    let r = match data {
        Data::F64(v) => a.store_chunk_opt(index, v.as_slice(), &opt),
        Data::I64(v) => a.store_chunk_opt(index, v.as_slice(), &opt),
        Data::Bool(v) => a.store_chunk_opt(index, v.as_slice(), &opt),
        Data::Str(v) => {
            let s: Vec<&str> = v.iter().map(String::as_str).collect();
            a.store_chunk_opt(index, s.as_slice(), &opt)
        }
    };
    r.map_err(|e| e.to_string())
}

/// The array's data type as zarrs names it (`float64`, `int64`, `bool`, `string`).
fn type_name(a: &ZArray) -> String {
    a.data_type().to_string().split_whitespace().next().unwrap_or_default().to_string()
}

fn collect_metadata(root: &Path, dir: &Path, out: &mut BTreeMap<String, Value>) -> Result<()> {
    let entries = std::fs::read_dir(dir).map_err(|e| zarr_error(dir, e))?;
    let mut paths: Vec<PathBuf> = entries.filter_map(|e| e.ok().map(|e| e.path())).collect();
    paths.sort();
    for p in paths {
        let name = p.file_name().and_then(|n| n.to_str()).unwrap_or_default();
        if p.is_dir() {
            collect_metadata(root, &p, out)?;
        } else if matches!(name, ".zgroup" | ".zattrs" | ".zarray") {
            let text = std::fs::read_to_string(&p).map_err(|e| zarr_error(&p, e))?;
            let value: Value = serde_json::from_str(&text).map_err(|e| zarr_error(&p, e))?;
            let key = p.strip_prefix(root).unwrap_or(&p).to_string_lossy().replace('\\', "/");
            out.insert(key, value);
        }
    }
    Ok(())
}

/// Attributes ArviZ puts on every group.
fn library_attrs() -> serde_json::Map<String, Value> {
    let mut m = serde_json::Map::new();
    m.insert("inference_library".into(), json!("exmc"));
    m.insert("inference_library_version".into(), json!(env!("CARGO_PKG_VERSION")));
    m
}

/// A variable of a group: name, dims after `chain`/`draw` (when it has them), shape.
struct Variable<'a> {
    name: &'a str,
    shape: &'a [usize],
    labels: Option<&'a [String]>,
}

impl Variable<'_> {
    /// ArviZ's default dimension names, `{name}_dim_{k}`.
    fn dims(&self) -> Vec<String> {
        (0..self.shape.len()).map(|k| format!("{}_dim_{k}", self.name)).collect()
    }

    /// The labels of each dimension: a vector's, or a matrix's rows and columns.
    fn axis_labels(&self) -> Option<Vec<Vec<String>>> {
        let labels = self.labels?;
        match *self.shape {
            [n] if labels.len() == n => Some(vec![labels.to_vec()]),
            [r, c] => Shape::split_matrix_labels(labels, r, c).map(|(rows, cols)| vec![rows, cols]),
            _ => None,
        }
    }
}

/// Writes the coordinate arrays of a group: `chain` and `draw` (if `draws` is given) and
/// each variable's element dimensions (labels when present, else 0..n).
fn write_coords(
    z: &ZarrStore,
    group: &str,
    chains: Option<(&[usize], usize)>,
    vars: &[Variable<'_>],
) -> Result<()> {
    if let Some((ids, draws)) = chains {
        let ids: Vec<i64> = ids.iter().map(|&c| c as i64).collect();
        z.whole(&format!("{group}/chain"), &["chain".into()], &[ids.len()], &Data::I64(ids))?;
        // Draw numbers in chunks of at most 2^16, so that a long run's index stays small to read.
        let chunk = draws.clamp(1, 1 << 16);
        let path = format!("{group}/draw");
        let a = z.array(&path, &["draw".into()], &[draws], &[chunk], Dtype::I64)?;
        for (k, start) in (0..draws).step_by(chunk).enumerate() {
            let d: Vec<i64> = (start as i64..(start + chunk) as i64).collect();
            store_chunk(&a, &[k as u64], &Data::I64(d)).map_err(|e| zarr_error(&z.root.join(&path), e))?;
        }
    }
    let mut done = std::collections::HashSet::new();
    for v in vars {
        for (k, dim) in v.dims().into_iter().enumerate() {
            if !done.insert(dim.clone()) {
                continue;
            }
            let n = v.shape[k];
            let data = match v.axis_labels().map(|mut axes| axes.swap_remove(k)) {
                Some(l) if l.len() == n => Data::Str(l),
                _ => Data::I64((0..n as i64).collect()),
            };
            z.whole(&format!("{group}/{dim}"), std::slice::from_ref(&dim), &[n], &data)?;
        }
    }
    Ok(())
}

/// Writes a whole trace-like group: variables `[chain, draw, dims…]` from `vars`.
fn write_draw_group(
    z: &ZarrStore,
    group: &str,
    trace: &Trace,
    vars: &[&TraceVar],
    attrs: serde_json::Map<String, Value>,
) -> Result<()> {
    z.group(group, attrs)?;
    let specs: Vec<Variable<'_>> = vars
        .iter()
        .map(|v| Variable { name: &v.name, shape: &v.shape, labels: v.labels.as_deref() })
        .collect();
    let ids: Vec<usize> = (0..trace.chains).collect();
    write_coords(z, group, Some((&ids, trace.draws)), &specs)?;
    for (v, spec) in vars.iter().zip(&specs) {
        let dims: Vec<String> =
            ["chain".to_string(), "draw".to_string()].into_iter().chain(spec.dims()).collect();
        let shape: Vec<usize> =
            [trace.chains, trace.draws].into_iter().chain(v.shape.iter().copied()).collect();
        z.whole(&format!("{group}/{}", v.name), &dims, &shape, &Data::F64(v.values.clone()))?;
    }
    Ok(())
}

/// A sampler statistic as ArviZ names and types it, read from and written into a draw's
/// statistics.
struct Stat {
    name: &'static str,
    dtype: Dtype,
    get: fn(&DrawStats) -> f64,
    set: fn(&mut DrawStats, f64),
}

/// The `sample_stats` variables, `lp` first.
const STATS: [Stat; 8] = [
    Stat { name: "lp", dtype: Dtype::F64, get: |s| s.lp, set: |s, x| s.lp = x },
    Stat {
        name: "acceptance_rate",
        dtype: Dtype::F64,
        get: |s| s.accept_stat,
        set: |s, x| s.accept_stat = x,
    },
    Stat { name: "step_size", dtype: Dtype::F64, get: |s| s.step_size, set: |s, x| s.step_size = x },
    Stat {
        name: "tree_depth",
        dtype: Dtype::I64,
        get: |s| s.tree_depth as f64,
        set: |s, x| s.tree_depth = x as u8,
    },
    Stat {
        name: "n_steps",
        dtype: Dtype::I64,
        get: |s| s.n_leapfrog as f64,
        set: |s, x| s.n_leapfrog = x as u32,
    },
    Stat {
        name: "diverging",
        dtype: Dtype::Bool,
        get: |s| s.diverging as u8 as f64,
        set: |s, x| s.diverging = x != 0.0,
    },
    Stat { name: "energy", dtype: Dtype::F64, get: |s| s.energy, set: |s, x| s.energy = x },
    Stat { name: "energy_error", dtype: Dtype::F64, get: |s| s.energy_error, set: |s, x| s.energy_error = x },
];

/// Values of one statistic for a block of draws, typed.
fn stat_data(dtype: Dtype, values: impl Iterator<Item = f64>) -> Data {
    match dtype {
        Dtype::I64 => Data::I64(values.map(|x| x as i64).collect()),
        Dtype::Bool => Data::Bool(values.map(|x| x != 0.0).collect()),
        _ => Data::F64(values.collect()),
    }
}

/// The `observed_data` group: every observed node's data, shaped as the node.
fn write_observed(z: &ZarrStore, model: &Model) -> Result<()> {
    z.group("observed_data", library_attrs())?;
    let observed: Vec<(&str, Vec<usize>, &[f64])> = model
        .nodes()
        .iter()
        .filter_map(|n| match &n.kind {
            NodeKind::Observed { data, .. } => {
                let dims = n.shape.dims();
                let shape = if dims.iter().product::<usize>() == data.len() && !dims.is_empty() {
                    dims
                } else {
                    vec![data.len()]
                };
                Some((n.name.as_str(), shape, data.as_slice()))
            }
            _ => None,
        })
        .collect();
    let specs: Vec<Variable<'_>> =
        observed.iter().map(|(name, shape, _)| Variable { name, shape, labels: None }).collect();
    write_coords(z, "observed_data", None, &specs)?;
    for ((name, shape, data), spec) in observed.iter().zip(&specs) {
        z.whole(&format!("observed_data/{name}"), &spec.dims(), shape, &Data::F64(data.to_vec()))?;
    }
    Ok(())
}

/// Streams a run into an InferenceData Zarr store: `posterior` and `sample_stats` chunks as
/// each chain makes them, `observed_data` from the model up front
/// ([`Sampler::save`](crate::Sampler::save)). Add the other groups afterwards with
/// [`InferenceData::write_zarr`] on the same path.
///
/// ```
/// use exmc::prelude::*;
/// use exmc::io::{Zarr, read_zarr};
/// # fn main() -> exmc::Result<()> {
/// let mut m = Model::new();
/// let mu = m.rv("mu", Normal::new(0, 1))?;
/// m.observe("y", Normal::new(mu, 1), &[0.4, 1.2])?;
/// let path = std::env::temp_dir().join(format!("exmc-doc-{}.zarr", std::process::id()));
/// let fit = Sampler::new(&m).chains(2).warmup(100).draws(50).progress(false)
///     .save(Zarr::new(&path))
///     .run()?;
/// let back = read_zarr(&path)?;
/// assert_eq!(back.draws("mu").unwrap().values(), fit.draws("mu")?.values());
/// # std::fs::remove_dir_all(&path).ok();
/// # Ok(())
/// # }
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct Zarr {
    path: PathBuf,
    block: usize,
}

impl Zarr {
    /// The store goes to directory `path`: created if missing, replaced if it holds a Zarr
    /// store, refused if it holds anything else.
    pub fn new(path: impl Into<PathBuf>) -> Zarr {
        Zarr { path: path.into(), block: DEFAULT_BLOCK }
    }

    /// Draws per chunk, written together (at least 1; default [`DEFAULT_BLOCK`]).
    pub fn block(mut self, draws: usize) -> Zarr {
        self.block = draws.max(1);
        self
    }
}

/// The arrays of a streamed run, shared by the chains' sinks.
struct StreamArrays {
    vars: Vec<(TraceVarInfo, ZArray)>,
    stats: Vec<ZArray>,
    root: PathBuf,
}

impl TraceWriter for Zarr {
    fn open(&self, run: &RunInfo<'_>) -> Result<Vec<Box<dyn ChainSink>>> {
        // A new run replaces an earlier store at the path (whose other groups would not match
        // it); anything else there is left alone.
        if self.path.join(".zgroup").is_file() {
            std::fs::remove_dir_all(&self.path).map_err(|e| zarr_error(&self.path, e))?;
        } else if std::fs::read_dir(&self.path).is_ok_and(|mut d| d.next().is_some()) {
            return Err(zarr_error(&self.path, "exists and is neither empty nor a Zarr store"));
        }
        let z = ZarrStore::create(&self.path)?;
        let block = self.block.min(run.kept.max(1));
        let chains = run.chain_ids.len();
        let mut attrs = library_attrs();
        attrs.insert("tuning_steps".into(), json!(run.warmup));
        z.group("sample_stats", attrs.clone())?;
        attrs.insert(ORDER_ATTR.into(), json!(run.vars.iter().map(|v| &v.name).collect::<Vec<_>>()));
        z.group("posterior", attrs)?;
        let specs: Vec<Variable<'_>> = run
            .vars
            .iter()
            .map(|v| Variable { name: &v.name, shape: &v.shape, labels: v.labels.as_deref() })
            .collect();
        write_coords(&z, "posterior", Some((&run.chain_ids, run.kept)), &specs)?;
        write_coords(&z, "sample_stats", Some((&run.chain_ids, run.kept)), &[])?;
        let mut vars = Vec::new();
        for (v, spec) in run.vars.iter().zip(&specs) {
            let dims: Vec<String> =
                ["chain".to_string(), "draw".to_string()].into_iter().chain(spec.dims()).collect();
            let shape: Vec<usize> = [chains, run.kept].into_iter().chain(v.shape.iter().copied()).collect();
            let chunks: Vec<usize> = [1, block].into_iter().chain(v.shape.iter().copied()).collect();
            vars.push((
                v.clone(),
                z.array(&format!("posterior/{}", v.name), &dims, &shape, &chunks, Dtype::F64)?,
            ));
        }
        let dims = ["chain".to_string(), "draw".to_string()];
        let stats = STATS
            .iter()
            .map(|st| {
                z.array(
                    &format!("sample_stats/{}", st.name),
                    &dims,
                    &[chains, run.kept],
                    &[1, block],
                    st.dtype,
                )
            })
            .collect::<Result<Vec<_>>>()?;
        write_observed(&z, run.model)?;
        z.consolidate()?;
        let arrays = Arc::new(StreamArrays { vars, stats, root: self.path.clone() });
        Ok((0..chains)
            .map(|c| {
                Box::new(ZarrSink {
                    arrays: arrays.clone(),
                    chain: c,
                    block,
                    next_chunk: 0,
                    values: Vec::new(),
                    stats: Vec::new(),
                }) as Box<dyn ChainSink>
            })
            .collect())
    }
}

/// One chain's buffered block.
struct ZarrSink {
    arrays: Arc<StreamArrays>,
    /// Position of the chain in the arrays.
    chain: usize,
    block: usize,
    next_chunk: u64,
    /// Buffered draws' values (as the sink receives them) and statistics.
    values: Vec<f64>,
    stats: Vec<DrawStats>,
}

impl ZarrSink {
    /// Writes the buffered draws as the next chunk of every array (a short last block is
    /// padded with fill values beyond the array's end).
    fn write_block(&mut self) -> Result<()> {
        let n = self.stats.len();
        if n == 0 {
            return Ok(());
        }
        let per_draw = self.values.len() / n;
        let err = |e: String| zarr_error(&self.arrays.root, e);
        for (info, array) in &self.arrays.vars {
            let size = info.size();
            let mut chunk = vec![f64::NAN; self.block * size];
            for d in 0..n {
                let at = d * per_draw + info.offset;
                chunk[d * size..(d + 1) * size].copy_from_slice(&self.values[at..at + size]);
            }
            let mut index = vec![self.chain as u64, self.next_chunk];
            index.extend(std::iter::repeat_n(0, info.shape.len()));
            store_chunk(array, &index, &Data::F64(chunk)).map_err(err)?;
        }
        // `lp` (first in STATS) goes last: a readable `lp` chunk means the block's other chunks
        // were written whole, so a reader judging progress by `lp` never meets a chunk cut by
        // a kill.
        for (st, array) in STATS.iter().zip(&self.arrays.stats).rev() {
            let padded = self.stats.iter().map(st.get).chain(std::iter::repeat_n(f64::NAN, self.block - n));
            store_chunk(array, &[self.chain as u64, self.next_chunk], &stat_data(st.dtype, padded))
                .map_err(err)?;
        }
        self.next_chunk += 1;
        self.values.clear();
        self.stats.clear();
        Ok(())
    }
}

impl ChainSink for ZarrSink {
    fn adapted(&mut self, _step_size: f64, _inv_metric: &[f64]) -> Result<()> {
        Ok(())
    }

    fn draw(&mut self, stats: &DrawStats, values: &[f64]) -> Result<()> {
        self.values.extend_from_slice(values);
        self.stats.push(*stats);
        if self.stats.len() == self.block { self.write_block() } else { Ok(()) }
    }

    fn finish(&mut self, _complete: bool, _warmup_s: f64, _sampling_s: f64) -> Result<()> {
        self.write_block()
    }
}

/// The groups of an InferenceData beyond a streamed posterior, written to a Zarr store.
///
/// ```
/// use exmc::prelude::*;
/// use exmc::io::InferenceData;
/// # fn main() -> exmc::Result<()> {
/// let mut m = Model::new();
/// let mu = m.rv("mu", Normal::new(0, 1))?;
/// m.observe("y", Normal::new(mu, 1), &[0.4, 1.2])?;
/// let fit = Sampler::new(&m).chains(2).warmup(100).draws(50).progress(false).run()?;
/// let ll = log_likelihood(&m, &fit)?;
/// let ppc = posterior_predictive(&m, &fit, 1)?;
/// let prior = prior_predictive(&m, 100, 2)?;
/// let path = std::env::temp_dir().join(format!("exmc-doc-idata-{}.zarr", std::process::id()));
/// InferenceData::new(&m)
///     .posterior(&fit)
///     .log_likelihood(&ll)
///     .posterior_predictive(&ppc)
///     .prior(&prior)
///     .write_zarr(&path)?;
/// # std::fs::remove_dir_all(&path).ok();
/// # Ok(())
/// # }
/// ```
#[derive(Clone, Debug)]
pub struct InferenceData<'a> {
    model: &'a Model,
    /// The posterior trace, its sampling time when known, and its warmup length.
    posterior: Option<(&'a Trace, Option<f64>, usize)>,
    /// A warmup length that overrides the posterior's.
    warmup: Option<usize>,
    log_likelihood: Option<&'a LogLikelihood>,
    log_prior: Option<&'a LogPrior>,
    prior: Option<&'a Trace>,
    posterior_predictive: Option<&'a Trace>,
    smc: Option<&'a Smc>,
}

impl<'a> InferenceData<'a> {
    /// Groups for `model` (its data gives `observed_data`).
    pub fn new(model: &'a Model) -> InferenceData<'a> {
        InferenceData {
            model,
            posterior: None,
            warmup: None,
            log_likelihood: None,
            log_prior: None,
            prior: None,
            posterior_predictive: None,
            smc: None,
        }
    }

    /// `posterior` and `sample_stats` from [`sample_smc`](crate::smc::sample_smc)'s particles
    /// (as [`posterior`](Self::posterior)), and its stages in `sample_stats` as PyMC's
    /// `sample_smc` keeps them, one value per chain and stage (dimension `stage`; NaN, 0 or
    /// false past a chain's last stage): `beta`, `log_marginal_likelihood` (the running sum:
    /// a chain's last is its estimate; PyMC writes NaN before `β = 1`), `accept_rate`,
    /// `proposal_scale`, `steps` (moves) and `lagging` ([`SmcStage::lagging`]); attributes
    /// `log_marginal_likelihood` (the chains pooled, [`Smc::log_evidence`]) and `kernel`.
    pub fn smc(mut self, smc: &'a Smc) -> Self {
        self = self.posterior(&smc.fit);
        self.smc = Some(smc);
        self
    }

    /// `posterior` and `sample_stats` from a fit (leave out when the run streamed them).
    pub fn posterior(mut self, fit: &'a Fit) -> Self {
        self.posterior = Some((&fit.trace, Some(fit.timing.sampling_s), fit.warmup));
        self
    }

    /// `posterior` and `sample_stats` from a trace (e.g. shards joined by [`Trace::concat`]),
    /// without a sampling time; `tuning_steps` is the length of its warmup statistics.
    pub fn posterior_trace(mut self, trace: &'a Trace) -> Self {
        self.posterior = Some((trace, None, trace.warmup_stats.first().map_or(0, Vec::len)));
        self
    }

    /// The warmup length written as `sample_stats`' `tuning_steps` attribute (by default the
    /// fit's, or the length of the trace's warmup statistics): for a trace joined from shards
    /// that kept no warmup statistics.
    pub fn warmup(mut self, iterations: usize) -> Self {
        self.warmup = Some(iterations);
        self
    }

    /// `log_likelihood`, one variable per observed node.
    pub fn log_likelihood(mut self, ll: &'a LogLikelihood) -> Self {
        self.log_likelihood = Some(ll);
        self
    }

    /// `log_prior`, one variable per free node (PyMC's `compute_log_prior`; what ArviZ's
    /// `psens(component="prior")` reads).
    pub fn log_prior(mut self, lp: &'a LogPrior) -> Self {
        self.log_prior = Some(lp);
        self
    }

    /// `prior` (free variables and deterministics) and `prior_predictive` (observed nodes)
    /// from [`prior_predictive`](crate::sampler::prior_predictive)'s trace.
    pub fn prior(mut self, trace: &'a Trace) -> Self {
        self.prior = Some(trace);
        self
    }

    /// `posterior_predictive` from [`posterior_predictive`](crate::sampler::posterior_predictive).
    pub fn posterior_predictive(mut self, trace: &'a Trace) -> Self {
        self.posterior_predictive = Some(trace);
        self
    }

    /// Writes the groups given (and `observed_data`) into the store at `path`, replacing
    /// those groups and keeping the others (a streamed posterior), then re-indexes the store.
    pub fn write_zarr(&self, path: impl AsRef<Path>) -> Result<()> {
        let z = ZarrStore::create(path.as_ref())?;
        let observed = |name: &str| {
            self.model.nodes().iter().any(|n| n.name == name && matches!(n.kind, NodeKind::Observed { .. }))
        };
        if let Some((t, sampling_s, warmup)) = self.posterior {
            let mut attrs = library_attrs();
            if let Some(s) = sampling_s {
                attrs.insert("sampling_time".into(), json!(s));
            }
            attrs.insert("tuning_steps".into(), json!(self.warmup.unwrap_or(warmup)));
            let vars: Vec<&TraceVar> = t.vars.iter().collect();
            let mut stats_attrs = attrs.clone();
            if let Some(smc) = self.smc {
                stats_attrs.insert("log_marginal_likelihood".into(), json!(smc.log_evidence()));
                stats_attrs.insert("kernel".into(), json!(smc.kernel.name()));
            }
            z.group("sample_stats", stats_attrs)?;
            attrs.insert(ORDER_ATTR.into(), json!(t.vars.iter().map(|v| &v.name).collect::<Vec<_>>()));
            write_draw_group(&z, "posterior", t, &vars, attrs)?;
            let ids: Vec<usize> = (0..t.chains).collect();
            write_coords(&z, "sample_stats", Some((&ids, t.draws)), &[])?;
            let dims = ["chain".to_string(), "draw".to_string()];
            for st in &STATS {
                let data = stat_data(st.dtype, t.stats.iter().flatten().map(st.get));
                z.whole(&format!("sample_stats/{}", st.name), &dims, &[t.chains, t.draws], &data)?;
            }
            if let Some(smc) = self.smc {
                write_smc_stages(&z, &smc.stages)?;
            }
        }
        write_observed(&z, self.model)?;
        if let Some(ll) = self.log_likelihood {
            write_terms(&z, "log_likelihood", ll)?;
        }
        if let Some(lp) = self.log_prior {
            write_terms(&z, "log_prior", lp)?;
        }
        if let Some(t) = self.prior {
            let (pred, free): (Vec<&TraceVar>, Vec<&TraceVar>) =
                t.vars.iter().partition(|v| observed(&v.name));
            write_draw_group(&z, "prior", t, &free, library_attrs())?;
            write_draw_group(&z, "prior_predictive", t, &pred, library_attrs())?;
        }
        if let Some(t) = self.posterior_predictive {
            let pred: Vec<&TraceVar> = t.vars.iter().filter(|v| observed(&v.name)).collect();
            write_draw_group(&z, "posterior_predictive", t, &pred, library_attrs())?;
        }
        z.consolidate()
    }
}

/// Sequential Monte Carlo's stages in `sample_stats`: `[chain, stage]` arrays, padded past a
/// chain's last stage, and the `stage` coordinate.
fn write_smc_stages(z: &ZarrStore, stages: &[Vec<SmcStage>]) -> Result<()> {
    let (chains, most) = (stages.len(), stages.iter().map(Vec::len).max().unwrap_or(0));
    let dims = ["chain".to_string(), "stage".to_string()];
    let table = |get: fn(&SmcStage) -> f64, pad: f64| -> Vec<f64> {
        stages.iter().flat_map(|c| (0..most).map(move |k| c.get(k).map_or(pad, get))).collect()
    };
    z.whole("sample_stats/stage", &dims[1..], &[most], &Data::I64((0..most as i64).collect()))?;
    type Column = (&'static str, fn(&SmcStage) -> f64);
    let floats: [Column; 4] = [
        ("beta", |s| s.beta),
        ("log_marginal_likelihood", |s| s.log_marginal_likelihood),
        ("accept_rate", |s| s.accept_rate),
        ("proposal_scale", |s| s.proposal_scale),
    ];
    for (name, get) in floats {
        z.whole(&format!("sample_stats/{name}"), &dims, &[chains, most], &Data::F64(table(get, f64::NAN)))?;
    }
    let steps = table(|s| s.steps as f64, 0.0).into_iter().map(|x| x as i64).collect();
    z.whole("sample_stats/steps", &dims, &[chains, most], &Data::I64(steps))?;
    let lagging = table(|s| f64::from(u8::from(s.lagging)), 0.0).into_iter().map(|x| x != 0.0).collect();
    z.whole("sample_stats/lagging", &dims, &[chains, most], &Data::Bool(lagging))
}

/// A group of pointwise log densities (`log_likelihood`, `log_prior`): one variable per node,
/// of its terms.
fn write_terms(z: &ZarrStore, group: &str, terms: &LogLikelihood) -> Result<()> {
    let mut start = 0;
    let vars: Vec<TraceVar> = terms
        .nodes
        .iter()
        .map(|(name, n)| {
            let mut values = vec![0.0; terms.chains * terms.draws * n];
            for (i, term) in terms.values[start..start + n].iter().enumerate() {
                for (s, &v) in term.iter().enumerate() {
                    values[s * n + i] = v;
                }
            }
            start += n;
            TraceVar { name: name.clone(), shape: vec![*n], values, labels: None }
        })
        .collect();
    let shell = Trace {
        chains: terms.chains,
        draws: terms.draws,
        vars: Vec::new(),
        stats: Vec::new(),
        warmup_stats: Vec::new(),
    };
    write_draw_group(z, group, &shell, &vars.iter().collect::<Vec<_>>(), library_attrs())
}

/// Runs a `zarrs` read, turning its error — or a panic inside it on damaged bytes — into an
/// error naming the array (a reader must not panic on a file; the panic hook still prints).
fn guard<T, E: std::fmt::Display>(p: &Path, f: impl FnOnce() -> std::result::Result<T, E>) -> Result<T> {
    match std::panic::catch_unwind(std::panic::AssertUnwindSafe(f)) {
        Ok(r) => r.map_err(|e| zarr_error(p, e)),
        Err(_) => Err(zarr_error(p, "damaged chunk (the decoder failed)")),
    }
}

/// Checks every stored chunk of a `vlen-utf8` string array before `zarrs` decodes it (zarrs
/// 0.23 slices by the lengths in the chunk without bounds checks): the header's element count
/// matches the chunk and every length stays inside the chunk.
fn check_vlen_chunks(a: &ZArray, p: &Path) -> Result<()> {
    let grid = a.chunk_grid_shape().to_vec();
    let chunks = grid.iter().try_fold(1u64, |acc, &g| acc.checked_mul(g)).unwrap_or(u64::MAX);
    if chunks > 1 << 20 {
        return Err(zarr_error(p, "too many chunks for a coordinate"));
    }
    for k in 0..chunks {
        let mut index = Vec::with_capacity(grid.len());
        let mut rest = k;
        for &g in grid.iter().rev() {
            index.push(rest % g);
            rest /= g;
        }
        index.reverse();
        let shape = a.chunk_shape(&index).map_err(|e| zarr_error(p, e))?;
        let elements: u64 = shape.iter().map(|n| n.get()).product();
        let Some(bytes) = a.retrieve_encoded_chunk(&index).map_err(|e| zarr_error(p, e))? else { continue };
        let word =
            |at: usize| bytes.get(at..at + 4).map(|b| u32::from_le_bytes([b[0], b[1], b[2], b[3]]) as u64);
        if word(0) != Some(elements) {
            return Err(zarr_error(
                p,
                format!("chunk {index:?}: the string header does not count {elements} elements"),
            ));
        }
        let mut at = 4usize;
        for _ in 0..elements {
            let len = word(at).ok_or_else(|| zarr_error(p, format!("chunk {index:?} is truncated")))?;
            at = (at + 4).checked_add(len as usize).filter(|&end| end <= bytes.len()).ok_or_else(|| {
                zarr_error(p, format!("chunk {index:?}: a string runs past the chunk's end"))
            })?;
        }
    }
    Ok(())
}

/// How many draws every chain completed: chains write their draws in order, so a chain's
/// `lp` is a run of numbers followed by never-written NaN fill (or a chunk cut short by a
/// kill, read as not written); a binary search finds the first NaN reading one chunk per
/// probe. `lp` is each block's last chunk written, so every chunk before it is whole.
fn reached(lp: &ZArray, shape: &[usize], root: &Path) -> Result<usize> {
    if shape.len() != 2 {
        return Err(zarr_error(&root.join("sample_stats/lp"), format!("shape {shape:?}, not [chain, draw]")));
    }
    let value = |c: usize, d: usize| -> Result<f64> {
        let subset = ArraySubset::new_with_ranges(&[c as u64..c as u64 + 1, d as u64..d as u64 + 1]);
        // A chunk that does not decode was being written when the run died: not reached.
        let v: Vec<f64> =
            guard(&root.join("sample_stats/lp"), || lp.retrieve_array_subset(&subset)).unwrap_or_default();
        Ok(v.first().copied().unwrap_or(f64::NAN))
    };
    let mut kept = shape[1];
    for c in 0..shape[0] {
        let (mut lo, mut hi) = (0, kept);
        while lo < hi {
            let mid = lo + (hi - lo) / 2;
            if value(c, mid)?.is_nan() { hi = mid } else { lo = mid + 1 }
        }
        kept = lo;
    }
    Ok(kept)
}

/// Reads the `posterior` and `sample_stats` groups of an InferenceData Zarr store (format 2,
/// as [`Zarr`] and [`InferenceData`] write) back into a trace. String coordinates come back as
/// labels: a vector's, and a matrix's rows and columns (as [`Model::set_matrix_labels`] gives
/// them; none that hold a comma). A store whose run died reads up to the last draw every
/// chain completed.
pub fn read_zarr(path: impl AsRef<Path>) -> Result<Trace> {
    let root = path.as_ref();
    let index_path = root.join(".zmetadata");
    let text = std::fs::read_to_string(&index_path).map_err(|e| zarr_error(&index_path, e))?;
    let index: Value = serde_json::from_str(&text).map_err(|e| zarr_error(&index_path, e))?;
    let meta = index
        .get("metadata")
        .and_then(Value::as_object)
        .ok_or_else(|| zarr_error(&index_path, "no `metadata` object"))?;
    let store = Arc::new(FilesystemStore::new(root).map_err(|e| zarr_error(root, e))?);
    let dims_of = |group: &str, name: &str| -> Result<Vec<String>> {
        let key = format!("{group}/{name}/.zattrs");
        let dims = meta.get(&key).and_then(|a| a.get("_ARRAY_DIMENSIONS")).and_then(Value::as_array);
        let dims = dims.ok_or_else(|| zarr_error(&root.join(&key), "no `_ARRAY_DIMENSIONS` list"))?;
        Ok(dims.iter().map(|d| d.as_str().unwrap_or_default().to_string()).collect())
    };
    // An array, its shape, and how many values its chunks on disk hold (a bound on what a
    // read may ask for: a shape larger than the files is a damaged store, not an allocation).
    let open = |group: &str, name: &str| -> Result<(ZArray, Vec<usize>, u64)> {
        let p = root.join(group).join(name);
        let a = Array::open(store.clone(), &format!("/{group}/{name}")).map_err(|e| zarr_error(&p, e))?;
        let shape: Vec<usize> = a.shape().iter().map(|&s| s as usize).collect();
        let chunk: Option<u64> = meta
            .get(&format!("{group}/{name}/.zarray"))
            .and_then(|m| m.get("chunks"))
            .and_then(Value::as_array)
            .and_then(|c| c.iter().try_fold(1u64, |acc, n| acc.checked_mul(n.as_u64()?)));
        let chunk = chunk
            .filter(|&n| n <= MAX_CHUNK)
            .ok_or_else(|| zarr_error(&p, format!("chunks missing or larger than {MAX_CHUNK} values")))?;
        let files = std::fs::read_dir(&p).map_or(0, |d| {
            d.filter_map(|e| e.ok()).filter(|e| !e.file_name().to_string_lossy().starts_with('.')).count()
        }) as u64;
        Ok((a, shape, files.saturating_mul(chunk)))
    };
    // An array's values over all chains and the first `draws` draws (axis 1), as f64.
    let read_f64 = |group: &str, name: &str, draws: Option<usize>| -> Result<(Vec<f64>, Vec<usize>)> {
        let (a, mut shape, capacity) = open(group, name)?;
        let p = root.join(group).join(name);
        if let Some(d) = draws.filter(|_| shape.len() >= 2) {
            shape[1] = shape[1].min(d);
        }
        let elements = shape.iter().try_fold(1u64, |acc, &s| acc.checked_mul(s as u64));
        if elements.is_none_or(|n| n > capacity) {
            return Err(zarr_error(&p, format!("shape {shape:?} is larger than its chunks on disk hold")));
        }
        let ranges: Vec<std::ops::Range<u64>> = shape.iter().map(|&n| 0..n as u64).collect();
        let subset = ArraySubset::new_with_ranges(&ranges);
        let v: Vec<f64> = match type_name(&a).as_str() {
            "float64" => guard(&p, || a.retrieve_array_subset(&subset))?,
            "int64" => {
                let v: Vec<i64> = guard(&p, || a.retrieve_array_subset(&subset))?;
                v.into_iter().map(|x| x as f64).collect()
            }
            "bool" => {
                let v: Vec<bool> = guard(&p, || a.retrieve_array_subset(&subset))?;
                v.into_iter().map(|x| x as u8 as f64).collect()
            }
            t => return Err(zarr_error(&p, format!("unsupported data type {t}"))),
        };
        Ok((v, shape))
    };
    let members = |group: &str| -> Vec<String> {
        let prefix = format!("{group}/");
        meta.keys()
            .filter_map(|k| k.strip_prefix(&prefix)?.strip_suffix("/.zarray").map(str::to_string))
            .filter(|k| !k.contains('/'))
            .collect()
    };
    let mut names = members("posterior");
    let order: Vec<&str> = meta
        .get("posterior/.zattrs")
        .and_then(|a| a.get(ORDER_ATTR))
        .and_then(Value::as_array)
        .map(|l| l.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    names.sort_by_key(|n| order.iter().position(|o| o == n).unwrap_or(usize::MAX));
    if names.is_empty() {
        return Err(zarr_error(root, "no `posterior` group"));
    }
    // Variables with chain and draw dimensions (the others are coordinates), and their layout.
    let mut layout: Option<(usize, usize)> = None;
    let mut found = Vec::new();
    for name in &names {
        let dims = dims_of("posterior", name)?;
        if dims.len() < 2 || dims[0] != "chain" || dims[1] != "draw" {
            continue;
        }
        let (_, shape, _) = open("posterior", name)?;
        let p = root.join("posterior").join(name);
        if shape.len() != dims.len() {
            return Err(zarr_error(&p, "dimensions and shape disagree"));
        }
        if layout.is_some_and(|l| l != (shape[0], shape[1])) {
            return Err(zarr_error(&p, "chain and draw counts differ between variables"));
        }
        layout = Some((shape[0], shape[1]));
        found.push((name.clone(), dims));
    }
    let (chains, draws) = layout
        .ok_or_else(|| zarr_error(root, "the posterior has no variable with chain and draw dimensions"))?;
    let stat_names = members("sample_stats");
    let kept = if stat_names.iter().any(|n| n == "lp") {
        let (lp, shape, _) = open("sample_stats", "lp")?;
        if shape != [chains, draws] {
            let p = root.join("sample_stats/lp");
            return Err(zarr_error(&p, format!("shape {shape:?}, not [{chains}, {draws}]")));
        }
        reached(&lp, &shape, root)?
    } else {
        draws
    };
    let mut vars = Vec::new();
    for (name, dims) in found {
        let (values, shape) = read_f64("posterior", &name, Some(kept))?;
        // String coordinates of every element dimension (a vector's, or a matrix's rows and
        // columns) become labels; one that is not strings, or does not match its dimension's
        // length, leaves the variable unlabelled.
        let mut axes = Vec::new();
        for (k, dim) in dims.iter().enumerate().skip(2) {
            if !names.contains(dim) || dims.len() > 4 {
                break;
            }
            // A coordinate that cannot be read as labels leaves the variable unlabelled.
            let Ok((a, n, capacity)) = open("posterior", dim) else { break };
            let p = root.join("posterior").join(dim);
            if type_name(&a) != "string" || n.iter().product::<usize>() as u64 > capacity {
                break;
            }
            check_vlen_chunks(&a, &p)?;
            let l: Vec<String> = guard(&p, || a.retrieve_array_subset::<Vec<String>>(&a.subset_all()))?;
            if l.len() != shape[k] {
                break;
            }
            axes.push(l);
        }
        let labels = match axes.as_slice() {
            [l] if dims.len() == 3 => Some(l.clone()),
            // Only labels that split back into these rows and columns (none with a comma).
            [rows, cols] => Some(Shape::matrix_labels(rows, cols))
                .filter(|flat| Shape::split_matrix_labels(flat, rows.len(), cols.len()).is_some()),
            _ => None,
        };
        vars.push(TraceVar { name, shape: shape[2..].to_vec(), values, labels });
    }
    let mut stats = vec![vec![DrawStats::default(); kept]; chains];
    for st in &STATS {
        if !stat_names.iter().any(|n| n == st.name) {
            continue;
        }
        let (v, shape) = read_f64("sample_stats", st.name, Some(kept))?;
        if shape != [chains, kept] {
            let p = root.join("sample_stats").join(st.name);
            return Err(zarr_error(&p, format!("shape {shape:?}, not [{chains}, {kept}]")));
        }
        for (s, &x) in stats.iter_mut().flatten().zip(&v) {
            (st.set)(s, x);
        }
    }
    Ok(Trace { chains, draws: kept, vars, stats, warmup_stats: vec![Vec::new(); chains] })
}
