//! Posterior plot: per element, the density of all draws, the 94% HDI shaded, the mean marked.

use super::{Element, caption, color, drawing, grid, kde, range};
use crate::diagnostics::hdi;
use crate::error::Result;
use plotters::prelude::*;

/// ArviZ's default HDI probability.
pub(super) const HDI_PROB: f64 = 0.94;

pub(super) fn posterior(elements: &[Element]) -> Result<String> {
    grid(elements, |area, name, chains| {
        let all: Vec<f64> = chains.iter().flatten().copied().collect();
        let (xs, ys) = kde(&all, 200);
        let (lo, hi) = hdi(&all, HDI_PROB);
        let mean = all.iter().sum::<f64>() / all.len().max(1) as f64;
        let top = range(ys.iter().copied()).end;
        let title = format!("{name}: mean {mean:.3}, 94% HDI [{lo:.3}, {hi:.3}]");
        let mut chart = ChartBuilder::on(area)
            .caption(title, (caption().0, 14))
            .margin(8)
            .x_label_area_size(32)
            .y_label_area_size(48)
            .build_cartesian_2d(range(xs.iter().copied()), 0.0..top)
            .map_err(drawing)?;
        chart.configure_mesh().x_desc(name).y_desc("density").disable_mesh().draw().map_err(drawing)?;
        let inside = xs.iter().zip(&ys).filter(|(x, _)| **x >= lo && **x <= hi).map(|(x, y)| (*x, *y));
        chart.draw_series(AreaSeries::new(inside, 0.0, color(0).mix(0.25))).map_err(drawing)?;
        chart
            .draw_series(LineSeries::new(xs.iter().copied().zip(ys.iter().copied()), color(0)))
            .map_err(drawing)?;
        chart
            .draw_series(std::iter::once(PathElement::new(vec![(mean, 0.0), (mean, top)], BLACK.mix(0.6))))
            .map_err(drawing)?;
        Ok(())
    })
}
