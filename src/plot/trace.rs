//! Trace plot: per element, each chain's density (left) and its draws in order (right).

use super::{Element, PANEL, caption, color, drawing, kde, range, svg};
use crate::error::Result;
use plotters::prelude::*;

pub(super) fn trace(elements: &[Element]) -> Result<String> {
    let size = (2 * PANEL.0, PANEL.1 * elements.len() as u32);
    svg(size, |root| {
        let rows = root.split_evenly((elements.len(), 2));
        for ((name, chains), pair) in elements.iter().zip(rows.chunks(2)) {
            let densities: Vec<_> = chains.iter().map(|c| kde(c, 128)).collect();
            let xr = range(densities.iter().flat_map(|(xs, _)| xs.iter().copied()));
            let yr = 0.0..range(densities.iter().flat_map(|(_, ys)| ys.iter().copied())).end;
            let mut left = ChartBuilder::on(&pair[0])
                .caption(name, caption())
                .margin(8)
                .x_label_area_size(32)
                .y_label_area_size(48)
                .build_cartesian_2d(xr, yr)
                .map_err(drawing)?;
            left.configure_mesh()
                .x_desc(name.as_str())
                .y_desc("density")
                .disable_mesh()
                .draw()
                .map_err(drawing)?;
            for (k, (xs, ys)) in densities.iter().enumerate() {
                let line = xs.iter().copied().zip(ys.iter().copied());
                left.draw_series(LineSeries::new(line, color(k))).map_err(drawing)?;
            }
            let draws = chains.iter().map(Vec::len).max().unwrap_or(0);
            let vr = range(chains.iter().flatten().copied());
            let mut right = ChartBuilder::on(&pair[1])
                .caption(name, caption())
                .margin(8)
                .x_label_area_size(32)
                .y_label_area_size(48)
                .build_cartesian_2d(0.0..draws.max(1) as f64, vr)
                .map_err(drawing)?;
            right
                .configure_mesh()
                .x_desc("draw")
                .y_desc(name.as_str())
                .disable_mesh()
                .draw()
                .map_err(drawing)?;
            for (k, c) in chains.iter().enumerate() {
                let line = c.iter().enumerate().map(|(i, &v)| (i as f64, v));
                right.draw_series(LineSeries::new(line, color(k).mix(0.7))).map_err(drawing)?;
            }
        }
        Ok(())
    })
}
