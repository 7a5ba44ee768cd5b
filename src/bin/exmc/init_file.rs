//! `exmc sample --init FILE`: starting values in JSON, as CmdStan's `init=` file — an object
//! of free variables' constrained values (a number, or an array, nested row by row for a
//! matrix) shared by every chain, or an array of such objects, one per chain.

use std::collections::HashMap;
use std::path::Path;

use exmc::prelude::*;
use serde_json::Value;

/// The starting values in `path` ([`Init::Values`] or [`Init::PerChain`]).
pub fn read(path: &Path) -> Result<Init> {
    let bad = |reason: String| Error::invalid_option("--init", format!("{}: {reason}", path.display()));
    let text = std::fs::read_to_string(path).map_err(|e| bad(e.to_string()))?;
    let json: Value = serde_json::from_str(&text).map_err(|e| bad(e.to_string()))?;
    match json {
        Value::Object(_) => Ok(Init::Values(values(&json, "").map_err(bad)?)),
        Value::Array(sets) if !sets.is_empty() => {
            let per_chain = sets.iter().enumerate().map(|(c, v)| values(v, &format!("chain {c}: ")));
            Ok(Init::PerChain(per_chain.collect::<std::result::Result<_, _>>().map_err(bad)?))
        }
        _ => Err(bad("expected an object of values, or a non-empty array of them (one per chain)".into())),
    }
}

/// One set of values: an object of numbers or (nested, rectangular) arrays of numbers.
fn values(set: &Value, at: &str) -> std::result::Result<HashMap<String, Vec<f64>>, String> {
    let Value::Object(fields) = set else { return Err(format!("{at}expected an object of values")) };
    fields
        .iter()
        .map(|(name, v)| {
            let mut out = Vec::new();
            flatten(v, &mut out).ok_or_else(|| {
                format!("{at}`{name}` is not a number or a rectangular array of numbers (rows of one length)")
            })?;
            Ok((name.clone(), out))
        })
        .collect()
}

/// Appends the numbers of `v`, row by row, and returns its shape (`[]` for a number);
/// `None` for anything else, or rows of different shapes.
fn flatten(v: &Value, out: &mut Vec<f64>) -> Option<Vec<usize>> {
    match v {
        Value::Number(n) => {
            out.push(n.as_f64()?);
            Some(Vec::new())
        }
        Value::Array(items) => {
            let shapes = items.iter().map(|x| flatten(x, out)).collect::<Option<Vec<_>>>()?;
            let inner = shapes.first().cloned().unwrap_or_default();
            shapes.iter().all(|s| *s == inner).then(|| [vec![items.len()], inner].concat())
        }
        _ => None,
    }
}
