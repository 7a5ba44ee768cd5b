//! ESS plots. Evolution (ArviZ's `plot_ess(kind="evolution")`): per element, the bulk and
//! tail ESS of the first 5%, 10%, …, 100% of every chain's draws against the draws used; both
//! should grow about linearly, and a flat or falling curve means the chains have not
//! converged. Local (`plot_ess(kind="local")`): the ESS of each 5% slice of the distribution,
//! which shows where (often in a tail) the chains explore poorly.

use super::{Element, caption, color, drawing, grid, line_swatch, range};
use crate::diagnostics::{ess_bulk, ess_local as local, ess_tail};
use crate::error::Result;
use plotters::prelude::*;

/// Points per curve.
const POINTS: usize = 20;
/// ESS below which estimates are unreliable (100 per chain for 4 chains): a dashed line.
const MIN_ESS: f64 = 400.0;

pub(super) fn ess_evolution(elements: &[Element]) -> Result<String> {
    grid(elements, |area, name, chains| {
        let draws = chains.iter().map(Vec::len).min().unwrap_or(0);
        let total = |n: usize| (n * chains.len()) as f64;
        let curves: Vec<Vec<(f64, f64)>> = [ess_bulk, ess_tail]
            .iter()
            .map(|ess| {
                (1..=POINTS)
                    .map(|i| draws * i / POINTS)
                    .filter(|&n| n >= 4)
                    .map(|n| {
                        let prefix: Vec<&[f64]> = chains.iter().map(|c| &c[..n]).collect();
                        (total(n), ess(&prefix))
                    })
                    .collect()
            })
            .collect();
        let top = range(curves.iter().flatten().map(|p| p.1).chain([MIN_ESS])).end;
        let mut chart = ChartBuilder::on(area)
            .caption(name, caption())
            .margin(8)
            .x_label_area_size(32)
            .y_label_area_size(56)
            .build_cartesian_2d(0.0..total(draws).max(1.0), 0.0..top)
            .map_err(drawing)?;
        chart
            .configure_mesh()
            .x_desc("total draws")
            .y_desc(format!("ESS of {name}"))
            .disable_mesh()
            .draw()
            .map_err(drawing)?;
        for (k, (label, curve)) in ["bulk", "tail"].iter().zip(&curves).enumerate() {
            let c = color(k);
            chart
                .draw_series(LineSeries::new(curve.iter().copied(), c).point_size(3))
                .map_err(drawing)?
                .label(*label)
                .legend(line_swatch(c));
        }
        chart
            .draw_series(std::iter::once(PathElement::new(
                vec![(0.0, MIN_ESS), (total(draws), MIN_ESS)],
                BLACK.mix(0.5),
            )))
            .map_err(drawing)?;
        chart
            .configure_series_labels()
            .position(SeriesLabelPosition::UpperLeft)
            .border_style(BLACK)
            .draw()
            .map_err(drawing)?;
        Ok(())
    })
}

pub(super) fn ess_local(elements: &[Element]) -> Result<String> {
    grid(elements, |area, name, chains| {
        let slices: Vec<&[f64]> = chains.iter().map(Vec::as_slice).collect();
        let points: Vec<(f64, f64)> = (0..POINTS)
            .map(|i| {
                let lo = i as f64 / POINTS as f64;
                let hi = (i + 1) as f64 / POINTS as f64;
                (lo + 0.5 / POINTS as f64, local(&slices, lo, hi))
            })
            .collect();
        let top = range(points.iter().map(|p| p.1).chain([MIN_ESS, 0.0])).end;
        let mut chart = ChartBuilder::on(area)
            .caption(name, caption())
            .margin(8)
            .x_label_area_size(32)
            .y_label_area_size(56)
            .build_cartesian_2d(0.0..1.0, 0.0..top)
            .map_err(drawing)?;
        chart
            .configure_mesh()
            .x_desc("quantile")
            .y_desc(format!("local ESS of {name}"))
            .disable_mesh()
            .draw()
            .map_err(drawing)?;
        let c = color(0);
        chart
            .draw_series(points.iter().map(|&(x, y)| Circle::new((x, y), 3, c.filled())))
            .map_err(drawing)?;
        chart
            .draw_series(std::iter::once(PathElement::new(
                vec![(0.0, MIN_ESS), (1.0, MIN_ESS)],
                BLACK.mix(0.5),
            )))
            .map_err(drawing)?;
        Ok(())
    })
}
