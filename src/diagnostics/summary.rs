//! `az.summary`-style table rows (ArviZ 0.23.4 `summary` with `stat_focus="mean"`,
//! `hdi_prob=0.94`, using `_multichain_statistics` for the diagnostics).

use std::fmt;

use super::ess::{ess_matrix, indicator, py_min, quantile_sorted, sorted_flat};
use super::hdi::hdi;
use super::mcse::mcse_sd_from_sims;
use super::rank::{flatten, is_valid, map_matrix, mean, split_chains, to_matrix, var, z_scale};
use super::rhat::rhat_summary;

/// One row of a posterior summary, with the columns of `az.summary()`.
#[derive(Debug, Clone, PartialEq)]
pub struct SummaryRow {
    /// Parameter name.
    pub name: String,
    /// Mean over all draws.
    pub mean: f64,
    /// Standard deviation over all draws (`ddof = 1`).
    pub sd: f64,
    /// Lower end of the 94 % HDI.
    pub hdi_3: f64,
    /// Upper end of the 94 % HDI.
    pub hdi_97: f64,
    /// Monte Carlo standard error of the mean.
    pub mcse_mean: f64,
    /// Monte Carlo standard error of the standard deviation.
    pub mcse_sd: f64,
    /// Bulk effective sample size.
    pub ess_bulk: f64,
    /// Tail effective sample size.
    pub ess_tail: f64,
    /// Rank-normalised split R-hat (NaN with a single chain).
    pub r_hat: f64,
}

/// Computes one summary row exactly as `az.summary` does for one scalar variable.
///
/// `mean`, `sd` and the HDI use all draws pooled; the diagnostics follow
/// ArviZ's `_multichain_statistics`, whose quirks are kept: `mcse_mean` is
/// `sqrt(var / ess_mean)` and the tail R-hat folds the unsplit draws around
/// their median before splitting (for an odd number of draws this differs
/// slightly from [`rhat`](super::rhat())). Diagnostics are NaN for input
/// [`ess_bulk`](super::ess_bulk) rejects; `r_hat` is NaN for one chain.
pub fn summary_row(name: &str, chains: &[&[f64]]) -> SummaryRow {
    let m = to_matrix(chains);
    let flat = flatten(&m);
    let (hdi_3, hdi_97) = hdi(&flat, 0.94);
    let mut row = SummaryRow {
        name: name.to_string(),
        mean: mean(&flat),
        sd: var(&flat, 1.0).sqrt(),
        hdi_3,
        hdi_97,
        mcse_mean: f64::NAN,
        mcse_sd: f64::NAN,
        ess_bulk: f64::NAN,
        ess_tail: f64::NAN,
        r_hat: f64::NAN,
    };
    if !is_valid(chains, 1) {
        return row;
    }
    let z_split = z_scale(&split_chains(&m));

    let sorted = sorted_flat(&m);
    let ess05 = ess_matrix(&split_chains(&indicator(&m, quantile_sorted(&sorted, 0.05))));
    let ess95 = ess_matrix(&split_chains(&indicator(&m, quantile_sorted(&sorted, 0.95))));
    row.ess_tail = py_min(ess05, ess95);
    row.r_hat = rhat_summary(chains);

    let ess_mean_value = ess_matrix(&split_chains(&m));
    let mu = mean(&flat);
    let sims = map_matrix(&m, |x| (x - mu) * (x - mu));
    let sims_sum: f64 = flatten(&sims).iter().sum();
    let size = flat.len() as f64;
    row.mcse_mean = (sims_sum / (size - 1.0) / ess_mean_value).sqrt();
    row.ess_bulk = ess_matrix(&z_split);
    row.mcse_sd = mcse_sd_from_sims(&sims, sims_sum / size);
    row
}

/// A table of [`SummaryRow`]s; its `Display` mimics the pandas table printed
/// for `az.summary()` (values rounded like ArviZ: 3 decimals, ESS to integers,
/// R-hat to 2 decimals), followed by one line per warning.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Summary {
    /// The rows, in display order.
    pub rows: Vec<SummaryRow>,
    /// What the numbers cannot be trusted for, in words (see [`Summary::new`]).
    pub warnings: Vec<String>,
}

/// R-hat above which chains are reported as not mixed (Vehtari et al. 2021).
pub const RHAT_WARN: f64 = 1.01;
/// Bulk or tail ESS per chain below which a variable is reported (ArviZ's rule of 100).
pub const ESS_PER_CHAIN_WARN: f64 = 100.0;

impl Summary {
    /// A table of `rows` computed from `chains` chains of `draws` draws each, with the
    /// warnings those numbers call for. Every NaN R-hat or ESS is explained by one of them: no
    /// or too few draws, one chain, identical draws (ESS is then reported as the number of
    /// draws), non-finite draws, or a bare "is NaN"; and R-hat above `RHAT_WARN` (1.01) or ESS below
    /// `ESS_PER_CHAIN_WARN` (100) per chain are named.
    pub fn new(rows: Vec<SummaryRow>, chains: usize, draws: usize) -> Summary {
        let warnings = warnings(&rows, chains, draws);
        Summary { rows, warnings }
    }

    /// Summarises several named parameters, each given as its chains. The warnings use the
    /// most chains and the fewest draws any parameter has.
    pub fn from_chains<'a>(params: impl IntoIterator<Item = (&'a str, Vec<&'a [f64]>)>) -> Self {
        let (mut chains, mut draws) = (0, usize::MAX);
        let rows: Vec<SummaryRow> = params
            .into_iter()
            .map(|(name, c)| {
                chains = chains.max(c.len());
                draws = draws.min(c.iter().map(|x| x.len()).min().unwrap_or(0));
                summary_row(name, &c)
            })
            .collect();
        Summary::new(rows, chains, if draws == usize::MAX { 0 } else { draws })
    }

    /// The row named `name` (`"mu"`, `"theta[3]"`).
    pub fn get(&self, name: &str) -> Option<&SummaryRow> {
        self.rows.iter().find(|r| r.name == name)
    }
}

/// Names of the rows matching `pred`, quoted, at most five and a count of the rest.
fn names(rows: &[SummaryRow], pred: impl Fn(&SummaryRow) -> bool) -> Option<String> {
    let hits: Vec<&str> = rows.iter().filter(|r| pred(r)).map(|r| r.name.as_str()).collect();
    if hits.is_empty() {
        return None;
    }
    let mut s = hits.iter().take(5).map(|n| format!("`{n}`")).collect::<Vec<_>>().join(", ");
    if hits.len() > 5 {
        s.push_str(&format!(" and {} more", hits.len() - 5));
    }
    Some(s)
}

fn warnings(rows: &[SummaryRow], chains: usize, draws: usize) -> Vec<String> {
    let mut out = Vec::new();
    if rows.is_empty() {
        return out;
    }
    if draws == 0 {
        out.push("no draws: the run kept 0 draws per chain, so there is nothing to summarise".into());
        return out;
    }
    if draws < 4 {
        out.push(format!("only {draws} draws per chain: ESS, MCSE and R-hat need at least 4 and are NaN"));
        return out;
    }
    let nonfinite = |r: &SummaryRow| !r.mean.is_finite();
    let constant = |r: &SummaryRow| r.sd == 0.0;
    if let Some(n) = names(rows, nonfinite) {
        out.push(format!("{n}: draws contain NaN or infinite values, so their diagnostics are NaN"));
    }
    if let Some(n) = names(rows, constant) {
        out.push(format!(
            "{n}: every draw is identical (sd 0): the chains did not move, so ESS (reported as the number of draws) and R-hat (NaN) say nothing"
        ));
    }
    if chains == 1 {
        out.push("one chain: R-hat needs at least 2 chains and is NaN".into());
    }
    let explained = |r: &SummaryRow| nonfinite(r) || constant(r);
    let rhat_nan = |r: &SummaryRow| chains > 1 && r.r_hat.is_nan();
    let ess_nan = |r: &SummaryRow| r.ess_bulk.is_nan() || r.ess_tail.is_nan();
    if let Some(n) = names(rows, |r| !explained(r) && (rhat_nan(r) || ess_nan(r))) {
        out.push(format!("{n}: R-hat or ESS is NaN"));
    }
    if let Some(n) = names(rows, |r| r.r_hat > RHAT_WARN) {
        out.push(format!(
            "{n}: R-hat above {RHAT_WARN}: the chains have not mixed; run longer or reparameterise"
        ));
    }
    let low = ESS_PER_CHAIN_WARN * chains as f64;
    if let Some(n) = names(rows, |r| !explained(r) && (r.ess_bulk < low || r.ess_tail < low)) {
        out.push(format!(
            "{n}: bulk or tail ESS below {ESS_PER_CHAIN_WARN} per chain: estimates of the mean or the tails are unreliable"
        ));
    }
    out
}

/// Column headers of the summary table, in order.
pub const SUMMARY_HEADERS: [&str; 9] =
    ["mean", "sd", "hdi_3%", "hdi_97%", "mcse_mean", "mcse_sd", "ess_bulk", "ess_tail", "r_hat"];

fn formatted(row: &SummaryRow) -> [String; 9] {
    let f3 = |x: f64| format!("{x:.3}");
    let f0 = |x: f64| format!("{x:.0}");
    [
        f3(row.mean),
        f3(row.sd),
        f3(row.hdi_3),
        f3(row.hdi_97),
        f3(row.mcse_mean),
        f3(row.mcse_sd),
        f0(row.ess_bulk),
        f0(row.ess_tail),
        format!("{:.2}", row.r_hat),
    ]
}

impl fmt::Display for Summary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let cells: Vec<[String; 9]> = self.rows.iter().map(formatted).collect();
        let name_w = self.rows.iter().map(|r| r.name.chars().count()).max().unwrap_or(0);
        let widths: Vec<usize> = (0..9)
            .map(|j| cells.iter().map(|c| c[j].len()).chain([SUMMARY_HEADERS[j].len()]).max().unwrap_or(0))
            .collect();
        write!(f, "{:name_w$}", "")?;
        for (h, w) in SUMMARY_HEADERS.iter().zip(&widths) {
            write!(f, "  {h:>w$}")?;
        }
        for (row, c) in self.rows.iter().zip(&cells) {
            write!(f, "\n{:<name_w$}", row.name)?;
            for (v, w) in c.iter().zip(&widths) {
                write!(f, "  {v:>w$}")?;
            }
        }
        writeln!(f)?;
        for w in &self.warnings {
            writeln!(f, "warning: {w}")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_is_aligned() {
        let a: Vec<f64> = (0..40).map(|i| ((i * 7) % 13) as f64).collect();
        let b: Vec<f64> = (0..40).map(|i| ((i * 5) % 11) as f64).collect();
        let s = Summary::from_chains([("mu", vec![&a[..], &b[..]]), ("sigma_long", vec![&b[..]])]);
        let text = s.to_string();
        let lines: Vec<&str> = text.lines().filter(|l| !l.starts_with("warning: ")).collect();
        assert_eq!(lines.len(), 3);
        assert!(lines[0].trim_start().starts_with("mean"));
        assert!(lines.iter().all(|l| l.len() == lines[0].len()));
        assert!(lines[2].ends_with("NaN"));
    }
}

#[cfg(test)]
mod warning_tests {
    use super::*;

    #[test]
    fn every_nan_diagnostic_is_explained() {
        let moving: Vec<f64> = (0..40).map(|i| ((i * 7) % 13) as f64).collect();
        let still = vec![3.0; 40];
        let two = |a: &[f64]| summary_row("a", &[a, a]);
        let mut nan = two(&moving);
        nan.name = "n".into();
        nan.mean = f64::NAN;
        let mut constant = two(&still);
        constant.name = "c".into();
        let s = Summary::new(vec![two(&moving), constant, nan], 2, 40);
        let text = s.warnings.join("\n");
        assert!(text.contains("`c`: every draw is identical"), "{text}");
        assert!(text.contains("`n`: draws contain NaN"), "{text}");
        let one = Summary::new(vec![summary_row("a", &[&moving])], 1, 40);
        assert!(one.warnings.iter().any(|w| w.contains("one chain")), "{:?}", one.warnings);
        let few = Summary::new(vec![summary_row("a", &[&moving[..3]])], 1, 3);
        assert!(few.warnings[0].contains("only 3 draws"), "{:?}", few.warnings);
        assert!(Summary::new(vec![], 4, 0).warnings.is_empty());
        let none = Summary::new(vec![summary_row("a", &[&[][..], &[][..]])], 2, 0);
        assert!(none.to_string().contains("warning: no draws"));
        assert!(none.rows[0].sd.is_nan() && none.rows[0].mean.is_nan());
    }
}
