//! PNG output: any plot's SVG rasterised by resvg (pure Rust), its text set in DejaVu Sans,
//! which the binary embeds — no system fonts or libraries are needed. Behind the `png`
//! feature (on by default through `cli`).

use crate::error::{Error, Result};
use resvg::{tiny_skia, usvg};

/// The SVG document `svg` (a plot from this module) as a PNG image, at `scale` times its
/// size in pixels (1 for the SVG's own size; 2 for high-density screens).
///
/// ```
/// use exmc::prelude::*;
/// use exmc::plot::{PlotKind, PlotOptions, plot, to_png};
/// let mut m = Model::new();
/// let mu = m.rv("mu", Normal::new(0.0, 1.0))?;
/// m.observe("y", Normal::new(mu, 1.0), &[0.3, -0.1])?;
/// let fit = Sampler::new(&m).chains(2).warmup(100).draws(100).progress(false).run()?;
/// let png = to_png(&plot(&fit.trace, PlotKind::Posterior, &PlotOptions::default())?, 1.0)?;
/// assert!(png.starts_with(b"\x89PNG"));
/// # Ok::<(), exmc::Error>(())
/// ```
pub fn to_png(svg: &str, scale: f32) -> Result<Vec<u8>> {
    let bad = |reason: String| Error::InvalidOption { option: "png", reason };
    if !(scale > 0.0 && scale <= 8.0) {
        return Err(bad(format!("scale {scale} must lie in (0, 8]")));
    }
    let mut opt = usvg::Options { font_family: "DejaVu Sans".into(), ..usvg::Options::default() };
    let fonts = opt.fontdb_mut();
    fonts.load_font_data(dejavu::sans::regular().to_vec());
    fonts.load_font_data(dejavu::sans::bold().to_vec());
    fonts.set_sans_serif_family("DejaVu Sans");
    let tree = usvg::Tree::from_str(svg, &opt).map_err(|e| bad(format!("not an SVG document: {e}")))?;
    let size = tree.size().to_int_size();
    let (w, h) = ((size.width() as f32 * scale).ceil() as u32, (size.height() as f32 * scale).ceil() as u32);
    let mut pixmap =
        tiny_skia::Pixmap::new(w, h).ok_or_else(|| bad(format!("cannot make a {w}×{h} image")))?;
    pixmap.fill(tiny_skia::Color::WHITE);
    resvg::render(&tree, tiny_skia::Transform::from_scale(scale, scale), &mut pixmap.as_mut());
    pixmap.encode_png().map_err(|e| bad(format!("PNG encoding failed: {e}")))
}
