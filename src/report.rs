//! A self-contained HTML report of a run: the summary table, warnings, plots (inline SVG), the
//! model as written, the settings, backend and timings. One file, no scripts, nothing fetched:
//! it opens offline in any browser.
//!
//! ```
//! use exmc::prelude::*;
//! use exmc::plot::{PlotKind, PlotOptions, plot};
//! use exmc::report::Report;
//!
//! let mut m = Model::new();
//! let mu = m.rv("mu", Normal::new(0.0, 1.0))?;
//! m.observe("y", Normal::new(mu, 1.0), &[0.3, -0.1])?;
//! let fit = Sampler::new(&m).chains(2).warmup(100).draws(100).progress(false).run()?;
//! let html = Report::new("toy")
//!     .summary(&fit.summary())
//!     .plot("trace", plot(&fit.trace, PlotKind::Trace, &PlotOptions::default())?)
//!     .setting("chains", "2")
//!     .to_html();
//! assert!(html.contains("<td>mu</td>") && html.contains("<svg"));
//! # Ok::<(), exmc::Error>(())
//! ```

use crate::diagnostics::{Diagnosis, SUMMARY_HEADERS, Sensitivity, Summary};

/// The parts of a report, in the order they are shown.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Report {
    title: String,
    warnings: Vec<String>,
    summary: Option<Summary>,
    sensitivity: Option<Sensitivity>,
    plots: Vec<(String, String)>,
    sources: Vec<(String, String)>,
    settings: Vec<(String, String)>,
}

impl Report {
    /// An empty report titled `title`.
    pub fn new(title: impl Into<String>) -> Report {
        Report { title: title.into(), ..Report::default() }
    }

    /// The summary table (rows with R-hat above 1.01 or bulk ESS below 400 highlighted); its
    /// warnings join the report's.
    pub fn summary(mut self, s: &Summary) -> Report {
        self.warnings.extend(s.warnings.iter().cloned());
        self.summary = Some(s.clone());
        self
    }

    /// The power-scaling sensitivity table, after the summary (rows with a diagnosis
    /// highlighted); its warnings (unreliable weights) join the report's, its diagnoses stay
    /// in its section.
    pub fn sensitivity(mut self, s: &Sensitivity) -> Report {
        self.warnings.extend(s.warnings.iter().cloned());
        self.sensitivity = Some(s.clone());
        self
    }

    /// A warning (divergences, R-hat, ESS, E-BFMI, Pareto k̂, …), shown at the top.
    pub fn warning(mut self, w: impl Into<String>) -> Report {
        self.warnings.push(w.into());
        self
    }

    /// A plot: its caption and SVG document (inlined as it is).
    pub fn plot(mut self, caption: impl Into<String>, svg: String) -> Report {
        self.plots.push((caption.into(), svg));
        self
    }

    /// A source file shown verbatim (the model as written, its data's description).
    pub fn source(mut self, name: impl Into<String>, text: impl Into<String>) -> Report {
        self.sources.push((name.into(), text.into()));
        self
    }

    /// One row of the settings table (sampler options, backend, timings).
    pub fn setting(mut self, name: impl Into<String>, value: impl Into<String>) -> Report {
        self.settings.push((name.into(), value.into()));
        self
    }

    /// The report as one HTML document.
    pub fn to_html(&self) -> String {
        let mut h = String::new();
        h.push_str("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\"/>\n");
        h.push_str(&format!(
            "<title>{}</title>\n<style>{CSS}</style>\n</head>\n<body>\n",
            escape(&self.title)
        ));
        h.push_str(&format!("<h1>{}</h1>\n", escape(&self.title)));
        h.push_str("<section id=\"warnings\">\n<h2>Warnings</h2>\n");
        if self.warnings.is_empty() {
            h.push_str("<p class=\"ok\">None: no divergences, R-hat and ESS within bounds.</p>\n");
        } else {
            h.push_str("<ul>\n");
            for w in &self.warnings {
                h.push_str(&format!("<li class=\"warning\">{}</li>\n", escape(w)));
            }
            h.push_str("</ul>\n");
        }
        h.push_str("</section>\n");
        if let Some(s) = &self.summary {
            h.push_str("<section id=\"summary\">\n<h2>Summary</h2>\n<table>\n<thead><tr><th></th>");
            for col in SUMMARY_HEADERS {
                h.push_str(&format!("<th>{}</th>", escape(col)));
            }
            h.push_str("</tr></thead>\n<tbody>\n");
            for r in &s.rows {
                let cells = [
                    fmt(r.mean, 3),
                    fmt(r.sd, 3),
                    fmt(r.hdi_3, 3),
                    fmt(r.hdi_97, 3),
                    fmt(r.mcse_mean, 3),
                    fmt(r.mcse_sd, 3),
                    fmt(r.ess_bulk, 0),
                    fmt(r.ess_tail, 0),
                    fmt(r.r_hat, 2),
                ];
                // Rows to look at: R-hat above 1.01 or bulk ESS below 400 (or either undefined).
                let flagged = r.r_hat.is_nan() || r.r_hat > 1.01 || r.ess_bulk.is_nan() || r.ess_bulk < 400.0;
                let class = if flagged { " class=\"flag\"" } else { "" };
                h.push_str(&format!("<tr{class}><td>{}</td>", escape(&r.name)));
                for c in cells {
                    h.push_str(&format!("<td>{c}</td>"));
                }
                h.push_str("</tr>\n");
            }
            h.push_str("</tbody>\n</table>\n</section>\n");
        }
        if let Some(s) = &self.sensitivity {
            h.push_str(&format!(
                "<section id=\"sensitivity\">\n<h2>Prior and likelihood sensitivity</h2>\n<p>Power-scaling \
                 (Kallioinen et al. 2023; ArviZ's <code>psens</code>): how far each posterior moves when \
                 the prior or the likelihood is raised to a power near 1 (δ = {}); {} or more calls for \
                 attention. Pareto k̂ of the weights: prior {}/{}, likelihood {}/{}.</p>\n<table>\n<thead><tr>\
                 <th></th><th>prior</th><th>likelihood</th><th>diagnosis</th></tr></thead>\n<tbody>\n",
                s.delta,
                s.threshold,
                fmt(s.prior_pareto_k[0], 2),
                fmt(s.prior_pareto_k[1], 2),
                fmt(s.likelihood_pareto_k[0], 2),
                fmt(s.likelihood_pareto_k[1], 2)
            ));
            for r in &s.rows {
                let class = if r.diagnosis == Diagnosis::Fine { "" } else { " class=\"flag\"" };
                h.push_str(&format!(
                    "<tr{class}><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>\n",
                    escape(&r.name),
                    fmt(r.prior, 3),
                    fmt(r.likelihood, 3),
                    escape(r.diagnosis.as_str())
                ));
            }
            h.push_str("</tbody>\n</table>\n</section>\n");
        }
        if !self.plots.is_empty() {
            h.push_str("<section id=\"plots\">\n<h2>Plots</h2>\n");
            for (caption, svg) in &self.plots {
                h.push_str(&format!(
                    "<figure>\n<figcaption>{}</figcaption>\n{}\n</figure>\n",
                    escape(caption),
                    svg
                ));
            }
            h.push_str("</section>\n");
        }
        for (name, text) in &self.sources {
            h.push_str(&format!(
                "<section class=\"source\">\n<h2>{}</h2>\n<pre>{}</pre>\n</section>\n",
                escape(name),
                escape(text)
            ));
        }
        if !self.settings.is_empty() {
            h.push_str("<section id=\"settings\">\n<h2>Settings</h2>\n<table>\n<tbody>\n");
            for (k, v) in &self.settings {
                h.push_str(&format!("<tr><th>{}</th><td>{}</td></tr>\n", escape(k), escape(v)));
            }
            h.push_str("</tbody>\n</table>\n</section>\n");
        }
        h.push_str(&format!("<footer>exmc {}</footer>\n</body>\n</html>\n", env!("CARGO_PKG_VERSION")));
        h
    }
}

const CSS: &str = "body{font-family:sans-serif;margin:2em;color:#222}\
table{border-collapse:collapse;font-variant-numeric:tabular-nums}\
th,td{padding:2px 10px;text-align:right;border-bottom:1px solid #ddd}\
td:first-child,th:first-child{text-align:left}\
tr.flag td{background:#fde8e8}\
li.warning{color:#a40000}p.ok{color:#176b17}\
figure{margin:1em 0}figcaption{font-weight:bold;margin-bottom:4px}\
pre{background:#f6f6f6;padding:1em;overflow:auto}";

/// `x` with `digits` decimals, `nan` when it is not a number.
fn fmt(x: f64, digits: usize) -> String {
    if x.is_nan() { "nan".into() } else { format!("{x:.digits$}") }
}

/// Text with `& < > "` escaped for HTML.
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_what_html_would_read_as_markup() {
        assert_eq!(escape("a<b & \"c\">"), "a&lt;b &amp; &quot;c&quot;&gt;");
        let html = Report::new("<x>").source("model.toml", "mu = \"<b>\"").warning("R-hat > 1.01").to_html();
        assert!(html.contains("<h1>&lt;x&gt;</h1>"));
        assert!(html.contains("mu = &quot;&lt;b&gt;&quot;"));
        assert!(html.contains("R-hat &gt; 1.01"));
        assert!(!html.contains("<script"), "no scripts: the report is static");
    }
}
