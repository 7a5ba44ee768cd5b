//! Forest plot: per element a row with the mean, the 50% HDI (thick) and the 94% HDI (thin),
//! one colour per model, and columns of R-hat and bulk ESS at the right.

use super::{PANEL, caption, color, drawing, range, select, svg};
use crate::diagnostics::{hdi, summary_row};
use crate::error::Result;
use crate::plot::PlotOptions;
use crate::sampler::Trace;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

/// One drawn row: model index, row, mean, 50% and 94% HDI, R-hat, bulk ESS.
struct Row {
    model: usize,
    row: usize,
    mean: f64,
    inner: (f64, f64),
    outer: (f64, f64),
    r_hat: f64,
    ess: f64,
}

pub(super) fn forest(models: &[(&str, &Trace)], opts: &PlotOptions) -> Result<String> {
    let mut names: Vec<String> = Vec::new();
    let mut rows = Vec::new();
    for (m, (_, trace)) in models.iter().enumerate() {
        for (name, chains) in select(trace, opts)? {
            let row = match names.iter().position(|n| *n == name) {
                Some(r) => r,
                None => {
                    names.push(name.clone());
                    names.len() - 1
                }
            };
            let refs: Vec<&[f64]> = chains.iter().map(Vec::as_slice).collect();
            let s = summary_row(&name, &refs);
            let all: Vec<f64> = chains.concat();
            rows.push(Row {
                model: m,
                row,
                mean: s.mean,
                inner: hdi(&all, 0.5),
                outer: (s.hdi_3, s.hdi_97),
                r_hat: s.r_hat,
                ess: s.ess_bulk,
            });
        }
    }
    let n = names.len();
    let height = (60 + 28 * n * models.len().max(1)) as u32 + 60;
    svg((PANEL.0 * 2, height.max(PANEL.1)), |root| {
        let (plot_area, table) = root.split_horizontally(PANEL.0 * 2 * 7 / 10);
        let xr = range(rows.iter().flat_map(|r| [r.outer.0, r.outer.1]));
        let title = if models.len() > 1 || !models[0].0.is_empty() {
            format!(
                "94% and 50% HDI: {}",
                models.iter().map(|(name, _)| *name).collect::<Vec<_>>().join(", ")
            )
        } else {
            "94% and 50% HDI".to_string()
        };
        let mut chart = ChartBuilder::on(&plot_area)
            .caption(title, caption())
            .margin(8)
            .x_label_area_size(32)
            .y_label_area_size(90)
            .build_cartesian_2d(xr, -0.5..n as f64 - 0.5)
            .map_err(drawing)?;
        let label = |y: &f64| {
            let r = y.round();
            if (y - r).abs() < 1e-6 && r >= 0.0 {
                names.get(n - 1 - r as usize).cloned().unwrap_or_default()
            } else {
                String::new()
            }
        };
        chart
            .configure_mesh()
            .x_desc("value")
            .y_labels(n.max(1) * 2 + 1)
            .y_label_formatter(&label)
            .disable_mesh()
            .draw()
            .map_err(drawing)?;
        let offset = |r: &Row| {
            let k = models.len().max(1) as f64;
            (n - 1 - r.row) as f64 + 0.3 * ((r.model as f64 + 0.5) / k - 0.5)
        };
        for r in &rows {
            let y = offset(r);
            let c = color(r.model);
            chart
                .draw_series(std::iter::once(PathElement::new(
                    vec![(r.outer.0, y), (r.outer.1, y)],
                    c.stroke_width(1),
                )))
                .map_err(drawing)?;
            chart
                .draw_series(std::iter::once(PathElement::new(
                    vec![(r.inner.0, y), (r.inner.1, y)],
                    c.stroke_width(4),
                )))
                .map_err(drawing)?;
            chart.draw_series(std::iter::once(Circle::new((r.mean, y), 4, c.filled()))).map_err(drawing)?;
        }
        // The table: headers, then each row's R-hat and ESS at the row's height.
        let (w, _) = table.dim_in_pixel();
        let style = ("sans-serif", 13).into_font().color(&BLACK).pos(Pos::new(HPos::Center, VPos::Center));
        let top = 8 + 20 + 8; // chart margin + caption
        let bottom = plot_area.dim_in_pixel().1 as i32 - 8 - 32;
        let to_px = |y: f64| top + ((n as f64 - 0.5 - y) / n.max(1) as f64 * (bottom - top) as f64) as i32;
        table.draw(&Text::new("r_hat", ((w / 3) as i32, top - 12), style.clone())).map_err(drawing)?;
        table.draw(&Text::new("ess_bulk", ((2 * w / 3) as i32, top - 12), style.clone())).map_err(drawing)?;
        for r in &rows {
            let y = to_px(offset(r));
            table
                .draw(&Text::new(format!("{:.2}", r.r_hat), ((w / 3) as i32, y), style.clone()))
                .map_err(drawing)?;
            table
                .draw(&Text::new(format!("{:.0}", r.ess), ((2 * w / 3) as i32, y), style.clone()))
                .map_err(drawing)?;
        }
        Ok(())
    })
}
