//! Diagnostic plots (issue 13, item 1) for eight schools and a Poisson GLM: every kind parses
//! as SVG and holds the panels, series and labels it should.

mod common;

use common::{SCHOOLS_SIGMA, SCHOOLS_Y, eight_schools};
use exmc::plot::{PlotKind, PlotOptions, forest, plot};
use exmc::prelude::*;
use exmc::sampler::Trace;

/// A Poisson regression on simulated counts.
fn poisson_glm() -> Model {
    let x: Vec<f64> = (0..40).map(|i| i as f64 / 20.0 - 1.0).collect();
    let y: Vec<f64> = x
        .iter()
        .enumerate()
        .map(|(i, x)| ((0.5 + 0.8 * x).exp() + (i % 3) as f64 - 1.0).max(0.0).round())
        .collect();
    let mut m = Model::new();
    let a = m.rv("alpha", Normal::new(0.0, 2.0)).unwrap();
    let b = m.rv("beta", Normal::new(0.0, 2.0)).unwrap();
    let xs = m.data("x", x.clone()).unwrap();
    m.observe("y", PoissonLog::new(a + b * xs), &y).unwrap();
    m
}

fn fit(m: &Model) -> Trace {
    Sampler::new(m).chains(4).warmup(300).draws(300).seed(2).progress(false).run().unwrap().trace
}

/// The document's elements by tag, and its text contents (trimmed).
struct Svg {
    tags: Vec<(String, Vec<(String, String)>)>,
    texts: Vec<String>,
}

fn parse(svg: &str) -> Svg {
    let doc = roxmltree::Document::parse(svg).expect("the plot parses as XML");
    assert_eq!(doc.root_element().tag_name().name(), "svg");
    let mut tags = Vec::new();
    let mut texts = Vec::new();
    for n in doc.descendants().filter(|n| n.is_element()) {
        tags.push((
            n.tag_name().name().to_string(),
            n.attributes().map(|a| (a.name().to_string(), a.value().to_string())).collect(),
        ));
        if n.tag_name().name() == "text" {
            texts.push(n.text().unwrap_or_default().trim().to_string());
        }
    }
    Svg { tags, texts }
}

impl Svg {
    fn count(&self, tag: &str) -> usize {
        self.tags.iter().filter(|(t, _)| t == tag).count()
    }
    /// Drawn series of `tag`: every element but the axes and ticks (opaque black).
    fn series(&self, tag: &str) -> usize {
        let attr =
            |a: &Vec<(String, String)>, k: &str| a.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone());
        self.tags
            .iter()
            .filter(|(t, a)| {
                t == tag
                    && !(attr(a, "stroke").as_deref() == Some("#000000")
                        && attr(a, "opacity").as_deref() == Some("1"))
            })
            .count()
    }
    fn count_texts(&self, text: &str) -> usize {
        self.texts.iter().filter(|t| *t == text).count()
    }
}

fn check_all_kinds(trace: &Trace) {
    let names: Vec<String> = trace.scalars().into_iter().map(|(n, _)| n).collect();
    let opts = PlotOptions { per_page: names.len(), ..PlotOptions::default() };
    let (chains, k) = (trace.chains, names.len());
    // Trace: two panels per element captioned with its name, each chain a line in both, axes
    // labelled with the name.
    let s = parse(&plot(trace, PlotKind::Trace, &opts).unwrap());
    for n in &names {
        assert!(s.count_texts(n) >= 3, "{n}: 2 captions and axis descriptions, got {}", s.count_texts(n));
    }
    assert_eq!(s.series("polyline"), 2 * chains * k);
    assert_eq!(s.count_texts("draw"), k);
    // Rank: one panel per element, chains × 20 bars each, a reference line per chain.
    let s = parse(&plot(trace, PlotKind::Rank, &opts).unwrap());
    assert_eq!(s.count("rect"), 1 + chains * 20 * k);
    assert_eq!(s.series("polyline"), chains * k);
    for n in &names {
        assert_eq!(s.count_texts(n), 1, "{n} caption");
        assert_eq!(s.count_texts(&format!("rank of {n} (all chains)")), 1);
    }
    // Posterior: a caption with the mean and HDI per element, density and mean line, HDI area.
    let s = parse(&plot(trace, PlotKind::Posterior, &opts).unwrap());
    for n in &names {
        assert_eq!(s.texts.iter().filter(|t| t.starts_with(&format!("{n}: mean "))).count(), 1, "{n}");
    }
    assert_eq!(s.series("polyline"), 2 * k);
    assert_eq!(s.count("polygon"), k);
    // Autocorrelation: a line per chain and a zero line per element.
    let s = parse(&plot(trace, PlotKind::Autocorr, &opts).unwrap());
    assert_eq!(s.series("polyline"), (chains + 1) * k);
    for n in &names {
        assert_eq!(s.count_texts(&format!("autocorrelation of {n}")), 1);
    }
    // Forest: a row per element (label, mean dot, two HDI lines), R-hat and ESS columns.
    let s = parse(&plot(trace, PlotKind::Forest, &opts).unwrap());
    assert_eq!(s.count("circle"), k);
    assert_eq!(s.series("polyline"), 2 * k);
    assert_eq!((s.count_texts("r_hat"), s.count_texts("ess_bulk")), (1, 1));
    for n in &names {
        assert_eq!(s.count_texts(n), 1, "{n} row label");
    }
    // Energy: two distributions with their legend, E-BFMI of every chain in the caption.
    let s = parse(&plot(trace, PlotKind::Energy, &opts).unwrap());
    assert_eq!(s.count("polygon"), 2);
    assert!(
        s.texts.contains(&"marginal energy".to_string())
            && s.texts.contains(&"energy transition".to_string())
    );
    let caption =
        s.texts.iter().find(|t| t.starts_with("energy; E-BFMI per chain: ")).expect("E-BFMI caption");
    assert_eq!(caption.split(", ").count(), chains);
    // ESS evolution: bulk and tail curves of 20 points each (with legend lines) and the
    // 400 line per element.
    let s = parse(&plot(trace, PlotKind::EssEvolution, &opts).unwrap());
    assert_eq!(s.series("polyline"), 5 * k);
    assert_eq!(s.count("circle"), 2 * 20 * k);
    for n in &names {
        assert_eq!(s.count_texts(&format!("ESS of {n}")), 1);
    }
    // Local ESS: twenty slices per element, the 400 line.
    let s = parse(&plot(trace, PlotKind::EssLocal, &opts).unwrap());
    assert_eq!(s.count("circle"), 20 * k);
    assert_eq!(s.series("polyline"), k);
    for n in &names {
        assert_eq!(s.count_texts(&format!("local ESS of {n}")), 1);
        assert_eq!(s.count_texts(n), 1, "{n} caption");
    }
    // Pair: densities on the diagonal, scatter below, divergent draws in red.
    let few = PlotOptions { per_page: 3, ..PlotOptions::default() };
    let s = parse(&plot(trace, PlotKind::Pair, &few).unwrap());
    let shown = names.len().min(3);
    assert_eq!(s.series("polyline"), shown);
    let red = s
        .tags
        .iter()
        .filter(|(t, a)| t == "circle" && a.iter().any(|(k, v)| k == "fill" && v == "#FF0000"))
        .count();
    assert_eq!(
        red,
        trace.divergences() * shown * (shown - 1) / 2,
        "divergent draws marked in every scatter panel"
    );
}

#[test]
fn every_kind_for_eight_schools() {
    let t = fit(&eight_schools(&SCHOOLS_Y, &SCHOOLS_SIGMA));
    check_all_kinds(&t);
}

/// Pareto k̂: a point per observation, those above the threshold in red, two threshold lines.
#[test]
fn pareto_k_marks_unreliable_observations() {
    let m = poisson_glm();
    let fit = Sampler::new(&m).chains(4).warmup(300).draws(300).seed(2).progress(false).run().unwrap();
    let ll = log_likelihood(&m, &fit).unwrap();
    let mut e = exmc::diagnostics::loo(&ll.values, exmc::sampler::relative_eff(&fit));
    // Make two observations unreliable, so that the marking is exercised.
    e.pareto_k[3] = 0.9;
    e.pareto_k[7] = 1.2;
    let s = parse(&exmc::plot::pareto_k(&e).unwrap());
    assert_eq!(s.count("circle"), 40);
    let red = s
        .tags
        .iter()
        .filter(|(t, a)| t == "circle" && a.iter().any(|(k, v)| k == "fill" && v == "#FF0000"))
        .count();
    assert_eq!(red, e.bad_k().len());
    assert!(red >= 2);
    assert_eq!(s.series("polyline"), 2);
    assert!(s.texts.iter().any(|t| t.starts_with(&format!("Pareto k̂ ({red} of 40 above"))));
}

#[test]
fn every_kind_for_a_poisson_glm() {
    let t = fit(&poisson_glm());
    check_all_kinds(&t);
}

/// A matrix's element is selected however it is written (`beta[1, 2]`, `beta[1,2]`, its
/// position `beta[5]`), and drawn under ArviZ's name.
#[test]
fn a_matrix_element_by_row_and_column() {
    let mut m = Model::new();
    m.rv_matrix("beta", Normal::new(0, 1), 2, 3).unwrap();
    let t = fit(&m);
    for name in ["beta[1, 2]", "beta[1,2]", "beta[5]"] {
        let s = parse(&plot(&t, PlotKind::Posterior, &PlotOptions::vars([name])).unwrap());
        assert_eq!(s.count("polygon"), 1, "{name}");
        assert!(s.texts.iter().any(|t| t.starts_with("beta[1, 2]: mean")), "{name}");
    }
    let whole = parse(&plot(&t, PlotKind::Posterior, &PlotOptions::vars(["beta"])).unwrap());
    assert!(whole.texts.iter().any(|t| t.starts_with("beta[0, 1]: mean")));
    for bad in ["beta[2, 0]", "beta[6]", "beta[0, 3]"] {
        assert!(
            matches!(plot(&t, PlotKind::Trace, &PlotOptions::vars([bad])), Err(Error::UnknownName(_))),
            "{bad}"
        );
    }
}

#[test]
fn selection_paging_and_several_models() {
    let t = fit(&eight_schools(&SCHOOLS_Y, &SCHOOLS_SIGMA));
    // By variable name: theta's eight elements, paged by three.
    let s = parse(
        &plot(&t, PlotKind::Posterior, &PlotOptions { per_page: 3, page: 2, ..PlotOptions::vars(["theta"]) })
            .unwrap(),
    );
    assert_eq!(s.count("polygon"), 2, "the last page of theta holds theta[6] and theta[7]");
    assert!(s.texts.iter().any(|t| t.starts_with("theta[7]: mean")));
    let one = parse(&plot(&t, PlotKind::Trace, &PlotOptions::vars(["theta[2]", "mu"])).unwrap());
    assert_eq!(one.series("polyline"), 2 * 2 * t.chains);
    assert!(
        matches!(plot(&t, PlotKind::Trace, &PlotOptions::vars(["nope"])), Err(Error::UnknownName(n)) if n == "nope")
    );
    let past = PlotOptions { page: 9, ..PlotOptions::default() };
    assert!(matches!(plot(&t, PlotKind::Trace, &past), Err(Error::InvalidOption { option: "page", .. })));
    // Two models side by side in one forest plot.
    let t2 = fit(&poisson_glm());
    let both = parse(&forest(&[("schools", &t), ("glm", &t2)], &PlotOptions::default()).unwrap());
    let rows = 10.min(t.scalars().len()) + t2.scalars().len();
    assert_eq!(both.count("circle"), rows);
    assert!(both.texts.iter().any(|s| s.contains("schools, glm")));
}

/// Posterior predictive checks and LOO-PIT from a fit: densities for eight schools (one line
/// per replicated data set, at most 100), a hanging rootogram for the Poisson GLM's counts
/// (one bar per count from 0 to the largest observed or replicated), and a LOO-PIT panel with
/// its uniform band.
#[test]
fn predictive_checks_and_loo_pit() {
    for (m, name) in [(eight_schools(&SCHOOLS_Y, &SCHOOLS_SIGMA), "y"), (poisson_glm(), "y")] {
        let fit = Sampler::new(&m).chains(4).warmup(300).draws(300).seed(2).progress(false).run().unwrap();
        let ppc = posterior_predictive(&m, &fit, 7).unwrap();
        let data: Vec<f64> = m
            .nodes()
            .iter()
            .find_map(|n| match &n.kind {
                NodeKind::Observed { data, .. } if n.name == name => Some(data.to_vec()),
                _ => None,
            })
            .unwrap();
        let s = parse(&exmc::plot::ppc(&[(name, &data)], &ppc).unwrap());
        let rep = ppc.var(name).unwrap();
        let counts = data.iter().chain(&rep.values).all(|x| x.fract() == 0.0 && *x >= 0.0);
        if counts {
            let max = data.iter().chain(&rep.values).fold(0.0f64, |a, &b| a.max(b)) as usize;
            assert!(
                s.texts
                    .iter()
                    .any(|t| t == &format!("{name}: hanging rootogram over 1200 replicated data sets"))
            );
            // A bar per count and the legend's swatch, half transparent.
            let bars = s
                .tags
                .iter()
                .filter(|(t, a)| t == "rect" && a.iter().any(|(k, v)| k == "opacity" && v == "0.5"))
                .count();
            assert_eq!(bars, max + 1 + 1);
            assert_eq!(s.count("circle"), max + 1, "a point per expected frequency");
            assert_eq!(s.count_texts("√frequency"), 1);
        } else {
            assert_eq!(s.count_texts(&format!("{name}: 100 replicated data sets")), 1);
            let faint = s
                .tags
                .iter()
                .filter(|(t, a)| t == "polyline" && a.iter().any(|(k, v)| k == "opacity" && v == "0.2"))
                .count();
            assert_eq!(faint, 100, "one line per replicated data set shown");
            for label in ["observed", "replicated, pooled", "replicated"] {
                assert_eq!(s.count_texts(label), 1, "{label}");
            }
        }
        let ll = log_likelihood(&m, &fit).unwrap();
        let pit = ll.loo_pit(&m, &fit, &ppc, name).unwrap();
        let s = parse(&exmc::plot::loo_pit(&[(name, &pit)]).unwrap());
        assert_eq!(s.count("polygon"), 1, "the uniform band");
        assert_eq!(s.count_texts(&format!("{name}: LOO-PIT of {} observations", data.len())), 1);
        assert_eq!(s.count_texts("LOO-PIT"), 2, "axis and legend");
        assert!(exmc::plot::ppc(&[("nope", &data)], &ppc).is_err(), "a node without replicates");
    }
}

/// PNG output: the image has the SVG's size times the scale, and its text is drawn (the
/// embedded font works): removing the SVG's text changes many pixels.
#[cfg(feature = "png")]
#[test]
fn png_output_renders_the_svg_with_its_text() {
    use exmc::plot::to_png;
    use resvg::tiny_skia::Pixmap;
    let t = fit(&eight_schools(&SCHOOLS_Y, &SCHOOLS_SIGMA));
    let svg = plot(&t, PlotKind::Forest, &PlotOptions::default()).unwrap();
    let doc = roxmltree::Document::parse(&svg).unwrap();
    let width: f32 = doc.root_element().attribute("width").unwrap().parse().unwrap();
    let height: f32 = doc.root_element().attribute("height").unwrap().parse().unwrap();
    let png = to_png(&svg, 2.0).unwrap();
    let img = Pixmap::decode_png(&png).expect("a PNG image");
    assert_eq!((img.width(), img.height()), ((2.0 * width) as u32, (2.0 * height) as u32));
    let dark =
        |p: &Pixmap| p.pixels().iter().filter(|c| c.red() < 128 && c.green() < 128 && c.blue() < 128).count();
    // Text only (dark, mostly black): the same plot without its text elements.
    let mut no_text = String::new();
    let mut rest = svg.as_str();
    while let Some(at) = rest.find("<text") {
        no_text.push_str(&rest[..at]);
        let end = rest[at..].find("</text>").unwrap() + at + "</text>".len();
        rest = &rest[end..];
    }
    no_text.push_str(rest);
    let bare = Pixmap::decode_png(&to_png(&no_text, 2.0).unwrap()).unwrap();
    let (with, without) = (dark(&img), dark(&bare));
    assert!(with > without + 2000, "text drew {} dark pixels", with.saturating_sub(without));
    assert!(matches!(to_png("not svg", 1.0), Err(Error::InvalidOption { option: "png", .. })));
    assert!(to_png(&svg, 0.0).is_err());
}
