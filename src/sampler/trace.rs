//! The trace: draws per variable in the constrained space (chain × draw × shape), plus
//! per-draw sampler statistics.

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

    /// Name of element `e`: `theta[3]`, `a[Aitkin]` with labels, the variable's name for a
    /// scalar.
    pub fn element_name(&self, e: usize) -> String {
        match (&self.labels, self.shape.is_empty()) {
            (_, true) => self.name.clone(),
            (Some(l), false) if e < l.len() => format!("{}[{}]", self.name, l[e]),
            _ => format!("{}[{e}]", self.name),
        }
    }
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
    /// The variable called `name`.
    pub fn var(&self, name: &str) -> Option<&TraceVar> {
        self.vars.iter().find(|v| v.name == name)
    }

    /// Draws of element `elem` of `name`, one vector per chain.
    pub fn chains_of(&self, name: &str, elem: usize) -> Option<Vec<Vec<f64>>> {
        let v = self.var(name)?;
        let size = v.size();
        if elem >= size {
            return None;
        }
        Some(
            (0..self.chains)
                .map(|c| (0..self.draws).map(|d| v.values[(c * self.draws + d) * size + elem]).collect())
                .collect(),
        )
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
