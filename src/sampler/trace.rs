//! The trace: draws per variable in the constrained space (chain × draw × shape), plus
//! per-draw sampler statistics.

use crate::diagnostics::{self, Summary};
use crate::model::Shape;
use crate::nuts::DrawStats;

/// Draws of one variable.
#[derive(Clone, Debug, PartialEq)]
pub struct TraceVar {
    /// Variable name.
    pub name: String,
    /// Shape of one draw (`[]` for scalars).
    pub shape: Vec<usize>,
    /// Values laid out `[chain][draw][element]`.
    pub values: Vec<f64>,
    /// Labels of the elements (coordinates), when the model gave them.
    pub labels: Option<Vec<String>>,
}

impl TraceVar {
    /// Elements per draw.
    pub fn size(&self) -> usize {
        self.shape.iter().product()
    }

    /// Name of element `e`: `theta[3]`, `beta[1, 2]` in a matrix (row by row), `a[Aitkin]`
    /// with labels, the variable's name for a scalar.
    pub fn element_name(&self, e: usize) -> String {
        Shape::element_name(&self.name, &self.shape, self.labels.as_deref(), e)
    }
}

/// One variable's draws with the run's layout: a view of a [`TraceVar`] that knows the chain
/// and draw counts (what [`Fit::draws`](super::Fit::draws) returns).
#[derive(Clone, Copy, Debug)]
pub struct Draws<'t> {
    var: &'t TraceVar,
    chains: usize,
    draws: usize,
}

impl<'t> Draws<'t> {
    /// The variable's name.
    pub fn name(&self) -> &'t str {
        &self.var.name
    }

    /// `[chains, draws, element dims…]`.
    pub fn shape(&self) -> Vec<usize> {
        [self.chains, self.draws].into_iter().chain(self.var.shape.iter().copied()).collect()
    }

    /// Coordinate labels of the elements, when the model gave them.
    pub fn labels(&self) -> Option<&'t [String]> {
        self.var.labels.as_deref()
    }

    /// All values, laid out `[chain][draw][element]`.
    pub fn values(&self) -> &'t [f64] {
        &self.var.values
    }

    /// Element `elem` of draw `draw` of chain `chain` (`None` out of range).
    pub fn get(&self, chain: usize, draw: usize, elem: usize) -> Option<f64> {
        let size = self.var.size();
        (chain < self.chains && draw < self.draws && elem < size)
            .then(|| self.var.values[(chain * self.draws + draw) * size + elem])
    }

    /// Element `elem`'s draws, one vector per chain.
    pub fn element(&self, elem: usize) -> Option<Vec<Vec<f64>>> {
        let size = self.var.size();
        (elem < size).then(|| {
            let v = &self.var.values;
            (0..self.chains)
                .map(|c| (0..self.draws).map(|d| v[(c * self.draws + d) * size + elem]).collect())
                .collect()
        })
    }

    /// Posterior mean of every element (all chains pooled).
    pub fn mean(&self) -> Vec<f64> {
        (0..self.var.size())
            .map(|e| moments(self.element(e).unwrap_or_default().iter().flatten()).0)
            .collect()
    }

    /// Posterior standard deviation of every element (all chains pooled; `n − 1` denominator,
    /// as ArviZ's summary).
    pub fn sd(&self) -> Vec<f64> {
        (0..self.var.size())
            .map(|e| moments(self.element(e).unwrap_or_default().iter().flatten()).1)
            .collect()
    }
}

/// Mean and sample standard deviation (`n − 1`).
pub(crate) fn moments<'a>(xs: impl Iterator<Item = &'a f64> + Clone) -> (f64, f64) {
    let n = xs.clone().count() as f64;
    let mean = xs.clone().sum::<f64>() / n;
    let var = xs.map(|x| (x - mean).powi(2)).sum::<f64>() / (n - 1.0);
    (mean, var.sqrt())
}

/// All draws of a run.
#[derive(Clone, Debug, PartialEq)]
pub struct Trace {
    /// Number of chains.
    pub chains: usize,
    /// Kept draws per chain.
    pub draws: usize,
    /// Free variables (constrained) and deterministics, in model order.
    pub vars: Vec<TraceVar>,
    /// Statistics of the kept draws, per chain.
    pub stats: Vec<Vec<DrawStats>>,
    /// Statistics of the warmup iterations, per chain.
    pub warmup_stats: Vec<Vec<DrawStats>>,
}

impl Trace {
    /// Joins the chains of several traces, in order: the traces of shards of one run (the
    /// same model, seed and settings, disjoint chain ids; see [`Sampler::only_chains`]) join
    /// into the trace of the whole run. Variables (names, shapes, labels) and kept draws per
    /// chain must agree.
    ///
    /// [`Sampler::only_chains`]: crate::Sampler::only_chains
    pub fn concat(traces: &[Trace]) -> crate::Result<Trace> {
        let Some(first) = traces.first() else {
            return Err(crate::Error::TraceMismatch { index: 0, reason: "no traces given".into() });
        };
        let mut out = first.clone();
        for (index, t) in traces.iter().enumerate().skip(1) {
            let bad = |reason: String| crate::Error::TraceMismatch { index, reason };
            if t.draws != first.draws {
                return Err(bad(format!("{} draws per chain, against {}", t.draws, first.draws)));
            }
            let names =
                |t: &Trace| t.vars.iter().map(|v| (v.name.clone(), v.shape.clone())).collect::<Vec<_>>();
            if names(t) != names(first) {
                return Err(bad(format!(
                    "variables {:?}, against {:?}",
                    names(t).into_iter().map(|(n, _)| n).collect::<Vec<_>>(),
                    names(first).into_iter().map(|(n, _)| n).collect::<Vec<_>>()
                )));
            }
            for (o, v) in out.vars.iter_mut().zip(&t.vars) {
                if o.labels != v.labels {
                    return Err(bad(format!("variable `{}` has other coordinate labels", v.name)));
                }
                o.values.extend_from_slice(&v.values);
            }
            out.chains += t.chains;
            out.stats.extend(t.stats.iter().cloned());
            out.warmup_stats.extend(t.warmup_stats.iter().cloned());
        }
        Ok(out)
    }

    /// The variable called `name`.
    pub fn var(&self, name: &str) -> Option<&TraceVar> {
        self.vars.iter().find(|v| v.name == name)
    }

    /// The draws of variable `name` with their layout.
    pub fn draws(&self, name: &str) -> Option<Draws<'_>> {
        self.var(name).map(|var| Draws { var, chains: self.chains, draws: self.draws })
    }

    /// Finds a scalar by name: a scalar variable (`mu`) or one element of a vector (`beta[3]`,
    /// or by coordinate label, `a[Aitkin]`) or of a matrix (`beta[1, 2]`, its position row by
    /// row, `beta[5]`, or its row and column labels, `beta[x1, a]`; spaces after the comma
    /// optional). A label wins over a position where both read alike (elements labelled `1`).
    /// Returns the variable and the element index.
    pub fn scalar(&self, name: &str) -> Option<(&TraceVar, usize)> {
        if let Some(v) = self.var(name) {
            return (v.size() == 1).then_some((v, 0));
        }
        let (base, rest) = name.split_once('[')?;
        let inner = rest.strip_suffix(']')?;
        let v = self.var(base)?;
        // A matrix's labels are `row, col`, so `beta[x1,a]` names `beta[x1, a]` (an exact
        // match first: a vector's labels may hold commas).
        let labels = v.labels.as_deref().unwrap_or_default();
        let spaced = inner.split(',').map(str::trim).collect::<Vec<_>>().join(", ");
        let by_label = labels
            .iter()
            .position(|x| x == inner)
            .or_else(|| labels.iter().position(|x| v.shape.len() == 2 && *x == spaced));
        let e = by_label.or_else(|| Shape::parse_index(&v.shape, inner))?;
        (e < v.size()).then_some((v, e))
    }

    /// Draws of element `elem` of `name`, one vector per chain.
    pub fn chains_of(&self, name: &str, elem: usize) -> Option<Vec<Vec<f64>>> {
        self.draws(name)?.element(elem)
    }

    /// Every scalar as `(name, per-chain draws)` with names like `theta[3]`.
    pub fn scalars(&self) -> Vec<(String, Vec<Vec<f64>>)> {
        let mut out = Vec::new();
        for v in &self.vars {
            for e in 0..v.size() {
                out.push((v.element_name(e), self.chains_of(&v.name, e).unwrap_or_default()));
            }
        }
        out
    }

    /// ArviZ-style summary of every scalar (mean, sd, hdi 3%–97%, mcse, ess, r_hat), with the
    /// warnings its numbers call for (see [`Summary::new`]) and a count of divergences.
    pub fn summary(&self) -> Summary {
        let rows = self
            .scalars()
            .iter()
            .map(|(name, chains)| {
                let refs: Vec<&[f64]> = chains.iter().map(Vec::as_slice).collect();
                diagnostics::summary_row(name, &refs)
            })
            .collect();
        let mut s = Summary::new(rows, self.chains, self.draws);
        let divergences = self.divergences();
        if divergences > 0 {
            s.warnings.insert(0, format!(
                "{divergences} divergent transitions after warmup: the posterior may be biased; raise target_accept or reparameterise"
            ));
        }
        s
    }

    /// E-BFMI of each chain ([`diagnostics::bfmi`] of its energies).
    pub fn bfmi(&self) -> Vec<f64> {
        self.stat(|s| s.energy).iter().map(|e| diagnostics::bfmi(e)).collect()
    }

    /// Nested R-hat ([`diagnostics::nested_rhat`]) of every scalar, for runs of many short
    /// chains started in `superchains` groups: chains `0..M` form the first superchain, `M..2M`
    /// the second, and so on (`M = chains / superchains`). The diagnostic is designed for
    /// chains of a superchain that share their starting point.
    /// Errors when `superchains` is below 2 or does not divide the number of chains.
    pub fn nested_rhat(&self, superchains: usize) -> crate::Result<Vec<(String, f64)>> {
        if superchains < 2 || !self.chains.is_multiple_of(superchains) {
            return Err(crate::Error::InvalidOption {
                option: "superchains",
                reason: format!("must be at least 2 and divide the {} chains", self.chains),
            });
        }
        Ok(self
            .scalars()
            .into_iter()
            .map(|(name, chains)| {
                let refs: Vec<&[f64]> = chains.iter().map(Vec::as_slice).collect();
                (name, diagnostics::nested_rhat(&refs, superchains))
            })
            .collect())
    }

    /// One statistic of the kept draws, per chain.
    pub fn stat(&self, f: impl Fn(&DrawStats) -> f64) -> Vec<Vec<f64>> {
        self.stats.iter().map(|c| c.iter().map(&f).collect()).collect()
    }

    /// Number of divergent kept draws.
    pub fn divergences(&self) -> usize {
        self.stats.iter().flatten().filter(|s| s.diverging).count()
    }

    /// Total leapfrog steps (gradient evaluations) in kept draws and in warmup.
    pub fn leapfrog_steps(&self) -> (u64, u64) {
        let sum = |s: &Vec<Vec<DrawStats>>| s.iter().flatten().map(|d| d.n_leapfrog as u64).sum();
        (sum(&self.stats), sum(&self.warmup_stats))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A name resolves to an element that exists, even where the labels (from a file written
    /// elsewhere) outnumber the elements.
    #[test]
    fn scalar_names_stay_in_range() {
        let var = |name: &str, shape: Vec<usize>, labels: Option<Vec<String>>| TraceVar {
            name: name.into(),
            values: vec![0.0; shape.iter().product()],
            shape,
            labels,
        };
        let t = Trace {
            chains: 1,
            draws: 1,
            vars: vec![
                var("a", vec![2], Some(vec!["x".into(), "y".into(), "z".into()])),
                var("b", vec![2, 3], None),
                var("c", vec![2], Some(vec!["x, y".into(), "x,y".into()])),
            ],
            stats: vec![Vec::new()],
            warmup_stats: vec![Vec::new()],
        };
        let at = |n: &str| t.scalar(n).map(|(v, e)| (v.name.clone(), e));
        assert_eq!(at("a[y]"), Some(("a".into(), 1)));
        assert_eq!(at("a[z]"), None);
        assert_eq!(at("b[1, 0]"), Some(("b".into(), 3)));
        assert_eq!(at("b[1,2]"), Some(("b".into(), 5)));
        assert_eq!(at("b[4]"), Some(("b".into(), 4)));
        assert_eq!(at("b[2, 0]"), None);
        assert_eq!(at("b"), None);
        assert_eq!(t.vars[1].element_name(3), "b[1, 0]");
        // A vector's labels may hold commas: the exact label wins.
        assert_eq!((at("c[x,y]"), at("c[x, y]")), (Some(("c".into(), 1)), Some(("c".into(), 0))));
    }
}
