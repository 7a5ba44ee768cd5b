//! Diagnostic plots as SVG, drawn natively (plotters' SVG backend; no Python, no system
//! libraries): trace, rank, posterior density with HDI, autocorrelation, forest, energy, ESS
//! evolution, local ESS and pair plots of a [`Trace`], in ArviZ's layout; Pareto k̂ of a
//! PSIS-LOO estimate ([`pareto_k`]); posterior predictive checks ([`ppc`]: densities, or a
//! hanging rootogram for counts) and LOO-PIT ([`loo_pit`]). With the `png` feature (on by
//! default) any of them becomes a PNG image (`to_png`), fonts embedded.
//!
//! One panel per scalar element (`theta[0]`, …), captioned with its name; variables are chosen
//! by name and many elements are paged ([`PlotOptions`]).
//!
//! ```
//! use exmc::prelude::*;
//! use exmc::plot::{PlotKind, PlotOptions, plot};
//!
//! let mut m = Model::new();
//! let mu = m.rv("mu", Normal::new(0.0, 1.0))?;
//! m.observe("y", Normal::new(mu, 1.0), &[0.3, -0.1])?;
//! let fit = Sampler::new(&m).chains(2).warmup(100).draws(100).progress(false).run()?;
//! let svg = plot(&fit.trace, PlotKind::Trace, &PlotOptions::default())?;
//! assert!(svg.starts_with("<svg") && svg.contains(">\nmu\n<"));
//! # Ok::<(), exmc::Error>(())
//! ```

mod autocorr;
mod energy;
mod ess;
mod forest;
mod kde;
mod loo_pit;
mod pair;
mod pareto_k;
#[cfg(feature = "png")]
mod png;
mod posterior;
mod ppc;
mod rank;
mod trace;

pub use kde::kde;
pub use loo_pit::loo_pit;
pub use pareto_k::pareto_k;
#[cfg(feature = "png")]
pub use png::to_png;
pub use ppc::ppc;

use crate::error::{Error, Result};
use crate::sampler::Trace;
use plotters::coord::Shift;
use plotters::prelude::*;

/// The kinds of plot.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PlotKind {
    /// Per element: each chain's density (left) and its draws in order (right).
    Trace,
    /// Per element: each chain's histogram of the ranks of its draws among all draws (flat
    /// when the chains mix).
    Rank,
    /// Per element: the density of all draws with the 94% HDI shaded and the mean marked.
    Posterior,
    /// Per element: each chain's autocorrelation against the lag.
    Autocorr,
    /// One panel: every element's mean, 50% and 94% HDI, with R-hat and bulk ESS beside.
    Forest,
    /// One panel: the marginal energy and the energy transitions, with each chain's E-BFMI.
    Energy,
    /// Per element: bulk and tail ESS of growing shares of the draws against the draws used.
    EssEvolution,
    /// Per element: the local ESS of twenty slices of the distribution (between its 0, 5%,
    /// …, 100% quantiles): low values show where the chains explore poorly (often a tail).
    EssLocal,
    /// A grid of pairwise scatter plots (densities on the diagonal), divergent draws marked;
    /// the first six elements of the page.
    Pair,
}

impl PlotKind {
    /// Every kind.
    pub const ALL: [PlotKind; 9] = [
        PlotKind::Trace,
        PlotKind::Rank,
        PlotKind::Posterior,
        PlotKind::Autocorr,
        PlotKind::Forest,
        PlotKind::Energy,
        PlotKind::EssEvolution,
        PlotKind::EssLocal,
        PlotKind::Pair,
    ];

    /// The kind's name (`"trace"`, `"rank"`, …).
    pub fn name(self) -> &'static str {
        match self {
            PlotKind::Trace => "trace",
            PlotKind::Rank => "rank",
            PlotKind::Posterior => "posterior",
            PlotKind::Autocorr => "autocorr",
            PlotKind::Forest => "forest",
            PlotKind::Energy => "energy",
            PlotKind::EssEvolution => "ess_evolution",
            PlotKind::EssLocal => "ess_local",
            PlotKind::Pair => "pair",
        }
    }

    /// The kind called `name`.
    pub fn from_name(name: &str) -> Option<PlotKind> {
        PlotKind::ALL.into_iter().find(|k| k.name() == name)
    }
}

/// What to plot.
#[derive(Clone, Debug, PartialEq)]
pub struct PlotOptions {
    /// Variables (`"theta"`) or elements (`"theta[2]"`) to plot, in this order; empty for all.
    pub vars: Vec<String>,
    /// Elements per page (the pair plot shows at most six of them).
    pub per_page: usize,
    /// The page (0-based) of the selected elements.
    pub page: usize,
}

impl Default for PlotOptions {
    fn default() -> Self {
        PlotOptions { vars: Vec::new(), per_page: 10, page: 0 }
    }
}

impl PlotOptions {
    /// Options selecting `vars`.
    pub fn vars<S: Into<String>>(vars: impl IntoIterator<Item = S>) -> PlotOptions {
        PlotOptions { vars: vars.into_iter().map(Into::into).collect(), ..PlotOptions::default() }
    }
}

/// One scalar element's draws: its name and its chains.
pub(crate) type Element = (String, Vec<Vec<f64>>);

/// Draws `kind` of `trace` as an SVG document.
pub fn plot(trace: &Trace, kind: PlotKind, opts: &PlotOptions) -> Result<String> {
    if kind == PlotKind::Forest {
        return forest::forest(&[("", trace)], opts);
    }
    if kind == PlotKind::Energy {
        return energy::energy(trace);
    }
    let elements = select(trace, opts)?;
    match kind {
        PlotKind::Trace => trace::trace(&elements),
        PlotKind::Rank => rank::rank(&elements),
        PlotKind::Posterior => posterior::posterior(&elements),
        PlotKind::Autocorr => autocorr::autocorr(&elements),
        PlotKind::EssEvolution => ess::ess_evolution(&elements),
        PlotKind::EssLocal => ess::ess_local(&elements),
        PlotKind::Pair => pair::pair(trace, &elements),
        PlotKind::Forest | PlotKind::Energy => unreachable!("drawn above"),
    }
}

/// A forest plot of several models side by side (each model's elements in its own colour).
pub fn forest(models: &[(&str, &Trace)], opts: &PlotOptions) -> Result<String> {
    forest::forest(models, opts)
}

/// The selected elements of `trace`, paged.
pub(crate) fn select(trace: &Trace, opts: &PlotOptions) -> Result<Vec<Element>> {
    let all = trace.scalars();
    if all.is_empty() || trace.draws == 0 {
        return Err(Error::InvalidOption { option: "plot", reason: "the trace holds no draws".into() });
    }
    let base = |name: &str| name.split('[').next().unwrap_or(name).to_string();
    let chosen: Vec<Element> = if opts.vars.is_empty() {
        all
    } else {
        let mut out = Vec::new();
        for v in &opts.vars {
            // One element however it is written (`beta[1,2]`, `beta[5]`), or a whole variable.
            let one = trace.scalar(v).map(|(var, e)| var.element_name(e));
            let hits: Vec<Element> =
                all.iter().filter(|(n, _)| Some(n) == one.as_ref() || base(n) == *v).cloned().collect();
            if hits.is_empty() {
                return Err(Error::UnknownName(v.clone()));
            }
            out.extend(hits);
        }
        out
    };
    let per = opts.per_page.max(1);
    let pages = chosen.len().div_ceil(per);
    if opts.page >= pages {
        return Err(Error::InvalidOption {
            option: "page",
            reason: format!("page {} of {pages} (0-based) does not exist", opts.page),
        });
    }
    Ok(chosen.into_iter().skip(opts.page * per).take(per).collect())
}

/// Chain colours (matplotlib's tab10, ArviZ's default cycle).
pub(crate) const COLORS: [RGBColor; 10] = [
    RGBColor(31, 119, 180),
    RGBColor(255, 127, 14),
    RGBColor(44, 160, 44),
    RGBColor(214, 39, 40),
    RGBColor(148, 103, 189),
    RGBColor(140, 86, 75),
    RGBColor(227, 119, 194),
    RGBColor(127, 127, 127),
    RGBColor(188, 189, 34),
    RGBColor(23, 190, 207),
];

/// Colour of chain (or series) `k`.
pub(crate) fn color(k: usize) -> RGBColor {
    COLORS[k % COLORS.len()]
}

/// One panel per element on a grid of up to three columns: `draw(area, name, chains)`.
pub(crate) fn grid(
    elements: &[Element],
    draw: impl Fn(&DrawingArea<SVGBackend, Shift>, &str, &[Vec<f64>]) -> Result<()>,
) -> Result<String> {
    let cols = elements.len().clamp(1, 3);
    let rows = elements.len().div_ceil(cols);
    svg((PANEL.0 * cols as u32, PANEL.1 * rows as u32), |root| {
        for ((name, chains), area) in elements.iter().zip(root.split_evenly((rows, cols))) {
            draw(&area, name, chains)?;
        }
        Ok(())
    })
}

/// Panel width and height in pixels.
pub(crate) const PANEL: (u32, u32) = (420, 220);

/// Draws into an SVG document of `size` pixels.
pub(crate) fn svg(
    size: (u32, u32),
    draw: impl FnOnce(&DrawingArea<SVGBackend, Shift>) -> Result<()>,
) -> Result<String> {
    let mut out = String::new();
    {
        let root = SVGBackend::with_string(&mut out, size).into_drawing_area();
        root.fill(&WHITE).map_err(drawing)?;
        draw(&root)?;
        root.present().map_err(drawing)?;
    }
    Ok(out)
}

/// A drawing failure as an error.
pub(crate) fn drawing<E: std::fmt::Debug>(e: E) -> Error {
    Error::InvalidOption { option: "plot", reason: format!("drawing failed: {e:?}") }
}

/// The range of `values` widened by 5% on each side (a unit range around a constant).
pub(crate) fn range(values: impl Iterator<Item = f64>) -> std::ops::Range<f64> {
    let (lo, hi) = values
        .filter(|v| v.is_finite())
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), v| (a.min(v), b.max(v)));
    if !lo.is_finite() {
        return -1.0..1.0;
    }
    let pad = if hi > lo { 0.05 * (hi - lo) } else { 0.5 };
    (lo - pad)..(hi + pad)
}

/// Draws `chart`'s series legend in the plots' one style (framed, on a translucent white).
pub(crate) fn legend<'a, CT: plotters::coord::CoordTranslate>(
    chart: &mut ChartContext<'a, SVGBackend<'a>, CT>,
) -> Result<()> {
    chart
        .configure_series_labels()
        .border_style(BLACK)
        .background_style(WHITE.mix(0.8))
        .draw()
        .map_err(drawing)
}

/// A legend entry's swatch for a line series drawn in `style`.
pub(crate) fn line_swatch(style: impl Into<ShapeStyle>) -> impl Fn((i32, i32)) -> PathElement<(i32, i32)> {
    let style = style.into();
    move |(x, y)| PathElement::new(vec![(x, y), (x + 16, y)], style)
}

/// Caption style.
pub(crate) fn caption() -> (&'static str, u32) {
    ("sans-serif", 16)
}
