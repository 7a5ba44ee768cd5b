//! Energy plot (Betancourt 2016): the marginal energy distribution (centred) against the
//! distribution of energy transitions between successive draws; when the second is much
//! narrower than the first, momentum resampling explores the energy poorly (low E-BFMI).

use super::{PANEL, caption, color, drawing, kde, legend, range, svg};
use crate::error::{Error, Result};
use crate::sampler::Trace;
use plotters::prelude::*;

pub(super) fn energy(trace: &Trace) -> Result<String> {
    let per_chain = trace.stat(|s| s.energy);
    if per_chain.iter().all(|c| c.len() < 2) {
        return Err(Error::InvalidOption {
            option: "plot",
            reason: "energy needs at least 2 draws per chain".into(),
        });
    }
    let all: Vec<f64> = per_chain.iter().flatten().copied().collect();
    let mean = all.iter().sum::<f64>() / all.len() as f64;
    let marginal: Vec<f64> = all.iter().map(|e| e - mean).collect();
    let transitions: Vec<f64> = per_chain.iter().flat_map(|c| c.windows(2).map(|w| w[1] - w[0])).collect();
    let bfmis: Vec<String> = trace.bfmi().iter().map(|b| format!("{b:.2}")).collect();
    let curves = [("marginal energy", kde(&marginal, 200)), ("energy transition", kde(&transitions, 200))];
    svg((PANEL.0 * 2, PANEL.1 * 2), |root| {
        let xr = range(curves.iter().flat_map(|(_, (xs, _))| xs.iter().copied()));
        let top = range(curves.iter().flat_map(|(_, (_, ys))| ys.iter().copied())).end;
        let mut chart = ChartBuilder::on(root)
            .caption(format!("energy; E-BFMI per chain: {}", bfmis.join(", ")), caption())
            .margin(10)
            .x_label_area_size(36)
            .y_label_area_size(56)
            .build_cartesian_2d(xr, 0.0..top)
            .map_err(drawing)?;
        chart
            .configure_mesh()
            .x_desc("energy − mean energy")
            .y_desc("density")
            .disable_mesh()
            .draw()
            .map_err(drawing)?;
        for (k, (label, (xs, ys))) in curves.iter().enumerate() {
            let c = color(k);
            chart
                .draw_series(
                    AreaSeries::new(xs.iter().copied().zip(ys.iter().copied()), 0.0, c.mix(0.3))
                        .border_style(c),
                )
                .map_err(drawing)?
                .label(*label)
                .legend(move |(x, y)| Rectangle::new([(x, y - 5), (x + 16, y + 5)], c.filled()));
        }
        legend(&mut chart)?;
        Ok(())
    })
}
