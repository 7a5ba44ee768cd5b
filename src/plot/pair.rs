//! Pair plot: a grid with each element's density on the diagonal and scatter plots of every
//! pair below it; divergent draws in red.

use super::{Element, caption, color, drawing, kde, range, svg};
use crate::error::Result;
use crate::sampler::Trace;
use plotters::prelude::*;

/// Panel side in pixels.
const SIDE: u32 = 170;
/// Non-divergent points drawn per panel at most (evenly thinned).
const MAX_POINTS: usize = 600;
/// Elements in one pair plot at most (a page beyond it is cut: 15 scatter panels).
pub(super) const MAX_ELEMENTS: usize = 6;

pub(super) fn pair(trace: &Trace, elements: &[Element]) -> Result<String> {
    let elements = &elements[..elements.len().min(MAX_ELEMENTS)];
    let k = elements.len();
    let divergent: Vec<bool> = trace.stats.iter().flatten().map(|s| s.diverging).collect();
    let flat: Vec<Vec<f64>> = elements.iter().map(|(_, c)| c.concat()).collect();
    let ranges: Vec<_> = flat.iter().map(|v| range(v.iter().copied())).collect();
    let thin = flat.first().map_or(1, |v| v.len().div_ceil(MAX_POINTS).max(1));
    svg((SIDE * k as u32, SIDE * k as u32), |root| {
        for (cell, area) in root.split_evenly((k, k)).into_iter().enumerate() {
            let (i, j) = (cell / k, cell % k);
            if j > i {
                continue;
            }
            let (x_name, y_name) = (&elements[j].0, &elements[i].0);
            let mut builder = ChartBuilder::on(&area);
            builder
                .margin(4)
                .x_label_area_size(if i + 1 == k { 30 } else { 0 })
                .y_label_area_size(if j == 0 { 40 } else { 0 });
            if i == j {
                let (xs, ys) = kde(&flat[i], 100);
                let top = range(ys.iter().copied()).end;
                let mut chart = builder
                    .caption(x_name, (caption().0, 12))
                    .build_cartesian_2d(ranges[i].clone(), 0.0..top)
                    .map_err(drawing)?;
                chart
                    .configure_mesh()
                    .x_desc(x_name.as_str())
                    .x_labels(4)
                    .y_labels(4)
                    .disable_mesh()
                    .draw()
                    .map_err(drawing)?;
                chart.draw_series(LineSeries::new(xs.into_iter().zip(ys), color(0))).map_err(drawing)?;
                continue;
            }
            let mut chart =
                builder.build_cartesian_2d(ranges[j].clone(), ranges[i].clone()).map_err(drawing)?;
            chart
                .configure_mesh()
                .x_desc(x_name.as_str())
                .y_desc(y_name.as_str())
                .x_labels(4)
                .y_labels(4)
                .disable_mesh()
                .draw()
                .map_err(drawing)?;
            let points = flat[j].iter().zip(&flat[i]).enumerate();
            let plain =
                points.clone().filter(|(s, _)| !divergent.get(*s).copied().unwrap_or(false) && s % thin == 0);
            chart
                .draw_series(plain.map(|(_, (x, y))| Circle::new((*x, *y), 1, color(0).mix(0.4).filled())))
                .map_err(drawing)?;
            let bad = points.filter(|(s, _)| divergent.get(*s).copied().unwrap_or(false));
            chart
                .draw_series(bad.map(|(_, (x, y))| Circle::new((*x, *y), 2, RED.filled())))
                .map_err(drawing)?;
        }
        Ok(())
    })
}
