//! Autocorrelation plot: per element, each chain's autocorrelation against the lag.

use super::{Element, caption, color, drawing, grid};
use crate::diagnostics::autocov;
use crate::error::Result;
use plotters::prelude::*;

/// Lags shown (ArviZ's default `max_lag` is 100).
const MAX_LAG: usize = 100;

pub(super) fn autocorr(elements: &[Element]) -> Result<String> {
    grid(elements, |area, name, chains| {
        let lags = chains.iter().map(Vec::len).min().unwrap_or(0).min(MAX_LAG + 1);
        let mut chart = ChartBuilder::on(area)
            .caption(name, caption())
            .margin(8)
            .x_label_area_size(32)
            .y_label_area_size(48)
            .build_cartesian_2d(0.0..lags.max(2) as f64 - 1.0, -1.0..1.0)
            .map_err(drawing)?;
        chart
            .configure_mesh()
            .x_desc("lag")
            .y_desc(format!("autocorrelation of {name}"))
            .disable_mesh()
            .draw()
            .map_err(drawing)?;
        for (k, c) in chains.iter().enumerate() {
            let acov = autocov(c);
            let var = acov.first().copied().unwrap_or(0.0);
            let rho = acov
                .iter()
                .take(lags)
                .enumerate()
                .map(|(t, a)| (t as f64, if var > 0.0 { a / var } else { 0.0 }));
            chart.draw_series(LineSeries::new(rho, color(k))).map_err(drawing)?;
        }
        chart
            .draw_series(std::iter::once(PathElement::new(
                vec![(0.0, 0.0), (lags as f64, 0.0)],
                BLACK.mix(0.4),
            )))
            .map_err(drawing)?;
        Ok(())
    })
}
