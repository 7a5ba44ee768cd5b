//! Posterior (or prior) predictive check, ArviZ's `plot_ppc`: per observed node, the density
//! of the observed data (black) over the densities of replicated data sets (one thin line per
//! draw, at most [`MAX_LINES`] draws evenly spaced) and of all replicates pooled (dashed).
//! Counts — observed and replicated values all non-negative integers — get a hanging
//! rootogram instead (Kleiber and Zeileis): the square root of the expected frequency of each
//! count as a curve, and bars of the square root of the observed frequency hanging from it, so
//! that misfit shows as bars that stop short of zero or cross it.

use super::{PANEL, caption, color, drawing, kde, legend, line_swatch, range, svg};
use crate::error::{Error, Result};
use crate::sampler::Trace;
use plotters::prelude::*;

/// Most replicated data sets drawn as lines.
pub const MAX_LINES: usize = 100;
/// Most distinct counts a rootogram shows (larger counts are drawn as densities).
const MAX_COUNT: f64 = 200.0;

/// The check of `observed` (each observed node's name and data) against `replicates` (from
/// [`posterior_predictive`](crate::sampler::posterior_predictive) or
/// [`prior_predictive`](crate::sampler::prior_predictive)): one panel per node.
pub fn ppc(observed: &[(&str, &[f64])], replicates: &Trace) -> Result<String> {
    let bad = |reason: String| Error::InvalidOption { option: "plot", reason };
    if observed.is_empty() {
        return Err(bad("no observed data to check".into()));
    }
    let mut panels = Vec::with_capacity(observed.len());
    for &(name, data) in observed {
        let var = replicates.var(name).ok_or_else(|| bad(format!("no replicates of `{name}`")))?;
        let sets = replicates.chains * replicates.draws;
        if var.size() != data.len() || sets == 0 {
            return Err(bad(format!(
                "`{name}` has {} observations but replicates of size {} ({} draws)",
                data.len(),
                var.size(),
                sets
            )));
        }
        panels.push((name, data, &var.values[..], sets));
    }
    let cols = panels.len().clamp(1, 2);
    let rows = panels.len().div_ceil(cols);
    let size = ((PANEL.0 + 100) * cols as u32, (PANEL.1 + 60) * rows as u32);
    svg(size, |root| {
        for (&(name, data, values, sets), area) in panels.iter().zip(root.split_evenly((rows, cols))) {
            if is_counts(data) && is_counts(values) {
                rootogram(&area, name, data, values, sets)?;
            } else {
                densities(&area, name, data, values, sets)?;
            }
        }
        Ok(())
    })
}

/// Whether every value is a non-negative integer no larger than [`MAX_COUNT`].
fn is_counts(v: &[f64]) -> bool {
    v.iter().all(|&x| (0.0..=MAX_COUNT).contains(&x) && x.fract() == 0.0)
}

type Area<'a> = DrawingArea<SVGBackend<'a>, plotters::coord::Shift>;

fn densities(area: &Area<'_>, name: &str, data: &[f64], values: &[f64], sets: usize) -> Result<()> {
    let n = data.len();
    let step = sets.div_ceil(MAX_LINES).max(1);
    let chosen: Vec<&[f64]> = (0..sets).step_by(step).map(|s| &values[s * n..(s + 1) * n]).collect();
    let lines: Vec<(Vec<f64>, Vec<f64>)> = chosen.iter().map(|d| kde(d, 100)).collect();
    let pooled: Vec<f64> = chosen.concat();
    let mean = kde(&pooled, 200);
    let obs = kde(data, 200);
    let xr = range(obs.0.iter().chain(&mean.0).copied());
    let top = range(lines.iter().flat_map(|l| l.1.iter()).chain(&obs.1).chain(&mean.1).copied()).end;
    let mut chart = ChartBuilder::on(area)
        .caption(format!("{name}: {} replicated data sets", chosen.len()), caption())
        .margin(8)
        .x_label_area_size(32)
        .y_label_area_size(48)
        .build_cartesian_2d(xr, 0.0..top)
        .map_err(drawing)?;
    chart.configure_mesh().x_desc(name).y_desc("density").disable_mesh().draw().map_err(drawing)?;
    for (xs, ys) in &lines {
        chart
            .draw_series(LineSeries::new(xs.iter().copied().zip(ys.iter().copied()), color(0).mix(0.2)))
            .map_err(drawing)?;
    }
    let c = color(0);
    chart
        .draw_series(std::iter::empty::<PathElement<(f64, f64)>>())
        .map_err(drawing)?
        .label("replicated")
        .legend(line_swatch(c.mix(0.4)));
    let o = color(1);
    chart
        .draw_series(DashedLineSeries::new(
            mean.0.iter().copied().zip(mean.1.iter().copied()),
            6,
            4,
            o.stroke_width(2),
        ))
        .map_err(drawing)?
        .label("replicated, pooled")
        .legend(line_swatch(o.stroke_width(2)));
    chart
        .draw_series(LineSeries::new(obs.0.iter().copied().zip(obs.1.iter().copied()), BLACK.stroke_width(2)))
        .map_err(drawing)?
        .label("observed")
        .legend(line_swatch(BLACK.stroke_width(2)));
    legend(&mut chart)?;
    Ok(())
}

fn rootogram(area: &Area<'_>, name: &str, data: &[f64], values: &[f64], sets: usize) -> Result<()> {
    let max = data.iter().chain(values).fold(0.0f64, |a, &b| a.max(b)) as usize;
    let mut observed = vec![0.0f64; max + 1];
    data.iter().for_each(|&x| observed[x as usize] += 1.0);
    let mut expected = vec![0.0f64; max + 1];
    values.iter().for_each(|&x| expected[x as usize] += 1.0);
    expected.iter_mut().for_each(|e| *e /= sets as f64);
    let top: Vec<f64> = expected.iter().map(|e| e.sqrt()).collect();
    let bottom: Vec<f64> = top.iter().zip(&observed).map(|(t, o)| t - o.sqrt()).collect();
    let yr = range(top.iter().chain(&bottom).copied().chain([0.0]));
    let mut chart = ChartBuilder::on(area)
        .caption(format!("{name}: hanging rootogram over {sets} replicated data sets"), caption())
        .margin(8)
        .x_label_area_size(32)
        .y_label_area_size(48)
        .build_cartesian_2d(-0.5..max as f64 + 0.5, yr)
        .map_err(drawing)?;
    chart
        .configure_mesh()
        .x_desc(format!("{name} (count)"))
        .y_desc("√frequency")
        .disable_mesh()
        .draw()
        .map_err(drawing)?;
    let c = color(0);
    chart
        .draw_series(top.iter().zip(&bottom).enumerate().map(|(k, (&t, &b))| {
            Rectangle::new([(k as f64 - 0.4, b), (k as f64 + 0.4, t)], c.mix(0.5).filled())
        }))
        .map_err(drawing)?
        .label("√observed, hanging")
        .legend(move |(x, y)| Rectangle::new([(x, y - 4), (x + 12, y + 4)], c.mix(0.5).filled()));
    let r = color(3);
    chart
        .draw_series(
            LineSeries::new(top.iter().enumerate().map(|(k, &t)| (k as f64, t)), r.stroke_width(2))
                .point_size(2),
        )
        .map_err(drawing)?
        .label("√expected")
        .legend(line_swatch(r.stroke_width(2)));
    chart
        .draw_series(std::iter::once(PathElement::new(vec![(-0.5, 0.0), (max as f64 + 0.5, 0.0)], BLACK)))
        .map_err(drawing)?;
    legend(&mut chart)?;
    Ok(())
}
