//! LOO-PIT, ArviZ's `plot_loo_pit`: per observed node, the density of the leave-one-out
//! probability integral transforms (each observation's predictive CDF at its value, from
//! [`LogLikelihood::loo_pit`](crate::sampler::LogLikelihood::loo_pit)) over the 94% band of
//! the densities of as many uniform draws. A calibrated model's PIT values are uniform; a
//! U shape means over-confident predictions, a hump under-dispersed data or too wide ones.

use super::{PANEL, caption, color, drawing, legend, line_swatch, svg};
use crate::error::{Error, Result};
use plotters::prelude::*;
use rand::rngs::StdRng;
use rand::{RngExt, SeedableRng};

/// Grid points on [0, 1].
const POINTS: usize = 101;
/// Uniform samples behind the band.
const SIMULATIONS: usize = 200;

/// The LOO-PIT check of each node's PIT values (name, values in [0, 1]): one panel per node.
pub fn loo_pit(pits: &[(&str, &[f64])]) -> Result<String> {
    if pits.is_empty() || pits.iter().any(|(_, p)| p.is_empty()) {
        return Err(Error::InvalidOption { option: "plot", reason: "no LOO-PIT values".into() });
    }
    let cols = pits.len().clamp(1, 2);
    let rows = pits.len().div_ceil(cols);
    svg(((PANEL.0 + 60) * cols as u32, (PANEL.1 + 40) * rows as u32), |root| {
        for (&(name, pit), area) in pits.iter().zip(root.split_evenly((rows, cols))) {
            let xs: Vec<f64> = (0..POINTS).map(|i| i as f64 / (POINTS - 1) as f64).collect();
            let density = unit_kde(pit, &xs);
            let (lo, hi) = uniform_band(pit.len(), &xs);
            let top = density.iter().chain(&hi).fold(1.5f64, |a, &b| a.max(b)) * 1.05;
            let mut chart = ChartBuilder::on(&area)
                .caption(format!("{name}: LOO-PIT of {} observations", pit.len()), caption())
                .margin(8)
                .x_label_area_size(32)
                .y_label_area_size(48)
                .build_cartesian_2d(0.0..1.0, 0.0..top)
                .map_err(drawing)?;
            chart
                .configure_mesh()
                .x_desc("LOO-PIT")
                .y_desc("density")
                .disable_mesh()
                .draw()
                .map_err(drawing)?;
            let band: Vec<(f64, f64)> = xs
                .iter()
                .zip(&hi)
                .map(|(x, y)| (*x, *y))
                .chain(xs.iter().zip(&lo).rev().map(|(x, y)| (*x, *y)))
                .collect();
            let grey = BLACK.mix(0.15);
            chart
                .draw_series(std::iter::once(Polygon::new(band, grey.filled())))
                .map_err(drawing)?
                .label("94% of uniform samples")
                .legend(move |(x, y)| Rectangle::new([(x, y - 4), (x + 12, y + 4)], grey.filled()));
            chart
                .draw_series(std::iter::once(PathElement::new(vec![(0.0, 1.0), (1.0, 1.0)], BLACK.mix(0.6))))
                .map_err(drawing)?;
            let c = color(0);
            chart
                .draw_series(LineSeries::new(
                    xs.iter().copied().zip(density.iter().copied()),
                    c.stroke_width(2),
                ))
                .map_err(drawing)?
                .label("LOO-PIT")
                .legend(line_swatch(c.stroke_width(2)));
            legend(&mut chart)?;
        }
        Ok(())
    })
}

/// Gaussian KDE of values in [0, 1] at `xs`, reflected at both ends so that the density of
/// uniform values stays near 1 up to the edges (Silverman's bandwidth, at least 0.02).
pub(crate) fn unit_kde(values: &[f64], xs: &[f64]) -> Vec<f64> {
    let n = values.len() as f64;
    let mean = values.iter().sum::<f64>() / n;
    let sd = (values.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (n - 1.0).max(1.0)).sqrt();
    let bw = (0.9 * sd * n.powf(-0.2)).max(0.02);
    let norm = 1.0 / (n * bw * (2.0 * std::f64::consts::PI).sqrt());
    let k = |d: f64| (-0.5 * (d / bw).powi(2)).exp();
    xs.iter()
        .map(|&x| norm * values.iter().map(|&v| k(x - v) + k(x + v) + k(x - (2.0 - v))).sum::<f64>())
        .collect()
}

/// Pointwise 3% and 97% quantiles of the densities of [`SIMULATIONS`] samples of `n` uniform
/// values (a fixed seed: the band is the same for every call).
fn uniform_band(n: usize, xs: &[f64]) -> (Vec<f64>, Vec<f64>) {
    let mut rng = StdRng::seed_from_u64(0x100_917);
    let sims: Vec<Vec<f64>> = (0..SIMULATIONS)
        .map(|_| {
            let u: Vec<f64> = (0..n).map(|_| rng.random::<f64>()).collect();
            unit_kde(&u, xs)
        })
        .collect();
    let q = |i: usize, p: f64| {
        let mut col: Vec<f64> = sims.iter().map(|s| s[i]).collect();
        col.sort_by(f64::total_cmp);
        col[((p * (col.len() - 1) as f64).round() as usize).min(col.len() - 1)]
    };
    ((0..xs.len()).map(|i| q(i, 0.03)).collect(), (0..xs.len()).map(|i| q(i, 0.97)).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Evenly spread values have a reflected density of about 1 everywhere, edges included.
    #[test]
    fn reflected_density_of_uniform_values_is_flat() {
        let u: Vec<f64> = (0..2000).map(|i| (i as f64 + 0.5) / 2000.0).collect();
        let xs: Vec<f64> = (0..=20).map(|i| i as f64 / 20.0).collect();
        for (x, d) in xs.iter().zip(unit_kde(&u, &xs)) {
            assert!((d - 1.0).abs() < 0.05, "density {d} at {x}");
        }
        let (lo, hi) = uniform_band(200, &xs);
        assert!(lo.iter().zip(&hi).all(|(l, h)| *l < 1.0 && 1.0 < *h));
    }
}
