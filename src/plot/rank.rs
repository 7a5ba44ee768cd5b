//! Rank plot (Vehtari et al. 2021): per element, each chain's histogram of the ranks of its
//! draws among all chains' draws, chains stacked; flat bars when the chains mix.

use super::{Element, caption, color, drawing, grid};
use crate::diagnostics::rankdata_average;
use crate::error::Result;
use plotters::prelude::*;

/// Bins per histogram.
const BINS: usize = 20;

pub(super) fn rank(elements: &[Element]) -> Result<String> {
    grid(elements, |area, name, chains| {
        let all: Vec<f64> = chains.iter().flatten().copied().collect();
        let ranks = rankdata_average(&all);
        let n = all.len().max(1) as f64;
        let m = chains.len();
        let mut chart = ChartBuilder::on(area)
            .caption(name, caption())
            .margin(8)
            .x_label_area_size(32)
            .y_label_area_size(48)
            .build_cartesian_2d(0.0..n, 0.0..m as f64)
            .map_err(drawing)?;
        chart
            .configure_mesh()
            .x_desc(format!("rank of {name} (all chains)"))
            .y_desc("chain")
            .disable_mesh()
            .y_labels(m.min(10))
            .draw()
            .map_err(drawing)?;
        let width = n / BINS as f64;
        let mut start = 0;
        for (k, c) in chains.iter().enumerate() {
            let mut counts = [0usize; BINS];
            for r in &ranks[start..start + c.len()] {
                counts[(((r - 1.0) / width) as usize).min(BINS - 1)] += 1;
            }
            start += c.len();
            // The expected count per bin reaches 0.8 of the chain's band.
            let expected = c.len() as f64 / BINS as f64;
            let scale = 0.8 / expected.max(1e-12);
            let bars = counts.iter().enumerate().map(|(b, &count)| {
                let x0 = b as f64 * width;
                let top = k as f64 + (count as f64 * scale).min(1.0);
                Rectangle::new([(x0, k as f64), (x0 + width * 0.95, top)], color(k).mix(0.8).filled())
            });
            chart.draw_series(bars).map_err(drawing)?;
            let level = k as f64 + 0.8;
            chart
                .draw_series(std::iter::once(PathElement::new(
                    vec![(0.0, level), (n, level)],
                    BLACK.mix(0.5),
                )))
                .map_err(drawing)?;
        }
        Ok(())
    })
}
