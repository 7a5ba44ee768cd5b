//! Pareto k̂ plot: PSIS-LOO's shape estimate per observation, with the threshold above which
//! its importance sampling is unreliable for this sample size; observations above it in red.

use super::{PANEL, caption, color, drawing, range, svg};
use crate::diagnostics::Elpd;
use crate::error::{Error, Result};
use plotters::prelude::*;

/// The k̂ of each observation of `elpd` (a PSIS-LOO estimate) against its index.
pub fn pareto_k(elpd: &Elpd) -> Result<String> {
    if elpd.pareto_k.is_empty() {
        return Err(Error::InvalidOption {
            option: "plot",
            reason: "the estimate has no Pareto k̂ (WAIC?)".into(),
        });
    }
    let n = elpd.pareto_k.len();
    let good = elpd.good_k;
    svg((PANEL.0 * 2, PANEL.1 * 2), |root| {
        let yr = range(elpd.pareto_k.iter().copied().chain([good, 1.0, 0.0]));
        let mut chart = ChartBuilder::on(root)
            .caption(format!("Pareto k̂ ({} of {n} above {good:.2})", elpd.bad_k().len()), caption())
            .margin(10)
            .x_label_area_size(36)
            .y_label_area_size(48)
            .build_cartesian_2d(-0.5..n as f64 - 0.5, yr)
            .map_err(drawing)?;
        chart
            .configure_mesh()
            .x_desc("observation")
            .y_desc("Pareto k̂")
            .disable_mesh()
            .draw()
            .map_err(drawing)?;
        for level in [good, 1.0] {
            chart
                .draw_series(std::iter::once(PathElement::new(
                    vec![(-0.5, level), (n as f64 - 0.5, level)],
                    BLACK.mix(0.5),
                )))
                .map_err(drawing)?;
        }
        let points = elpd.pareto_k.iter().enumerate().map(|(i, &k)| {
            let style = if k > good { RED.filled() } else { color(0).filled() };
            Circle::new((i as f64, k), 3, style)
        });
        chart.draw_series(points).map_err(drawing)?;
        Ok(())
    })
}
