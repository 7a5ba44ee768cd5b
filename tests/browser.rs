//! The HTML report and the live page in a real browser (headless Chromium): each is served on
//! 127.0.0.1, loaded, given time for its scripts, screenshotted, and checked through its DOM —
//! variable names present, progress that grows between two loads, and not one console
//! message. Skips visibly without a browser unless `EXMC_REQUIRE_BROWSER=1` (`.ci/run`).

mod common;

use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::browser::{Browser, http_get, iterations};
use exmc::prelude::*;
use exmc::sampler::live::LiveView;

fn eight_schools() -> Model {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("models");
    Model::from_files(dir.join("eight_schools.toml"), Some(dir.join("eight_schools.json").as_path())).unwrap()
}

/// Where screenshots are kept for a reviewer's eyes.
fn shots() -> PathBuf {
    let d = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("browser");
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn assert_quiet(what: &str, console: &[String]) {
    assert!(console.is_empty(), "{what} logged to the console:\n{}", console.join("\n"));
}

#[test]
fn the_live_page_updates_while_chains_run() {
    let Some(browser) = Browser::find("the_live_page_updates_while_chains_run") else { return };
    let view = LiveView::bind("127.0.0.1:0").unwrap().vars(&["mu", "tau", "theta"]);
    let (url, addr) = (view.url().to_string(), view.url()[7..].trim_end_matches('/').to_string());
    let cancel = CancelToken::new();
    let sampler_view = view.clone();
    let token = cancel.clone();
    let run = std::thread::spawn(move || {
        let m = eight_schools();
        Sampler::new(&m)
            .chains(4)
            .warmup(300)
            .draws(2_000_000)
            .thin(20)
            .seed(8)
            .threads(1)
            .progress(false)
            .cancel_token(token)
            .live_view(sampler_view)
            .run()
            .map(|f| f.cancelled)
    });
    // Wait for the first draws, so that the page has something to plot.
    let t = Instant::now();
    while !http_get(&addr, "/state.json").is_some_and(|(_, b)| b.contains("\"status\":\"sampling\"")) {
        assert!(t.elapsed() < Duration::from_secs(60), "the run never reached sampling");
        std::thread::sleep(Duration::from_millis(20));
    }
    let first = browser.load(&url, 1500);
    assert_quiet("the live page", &first.console);
    let n1 = iterations(&first.dom);
    assert!(n1 > 0, "no progress on the first load");
    for name in ["mu", "tau", "theta[0]", "theta[7]"] {
        assert!(first.dom.contains(&format!("data-var=\"{name}\"")), "{name} missing from the live page");
    }
    // Rows the script made (its own source holds the template `<tr data-chain="${c.id}"`).
    let rows = first
        .dom
        .match_indices("<tr data-chain=\"")
        .filter(|(i, m)| first.dom[i + m.len()..].starts_with(|c: char| c.is_ascii_digit()));
    assert_eq!(rows.count(), 4, "one row per chain");
    assert!(first.dom.matches("class=\"series\"").count() >= 8 * 4, "a trace line per chain and variable");
    std::thread::sleep(Duration::from_millis(600));
    let second = browser.load(&url, 1500);
    assert_quiet("the live page", &second.console);
    let n2 = iterations(&second.dom);
    assert!(n2 > n1, "progress did not grow between two loads: {n1} then {n2}");
    let shot = shots().join("live.png");
    browser.screenshot(&url, 1500, &shot);
    eprintln!("live page screenshot: {}", shot.display());
    cancel.cancel();
    assert!(run.join().unwrap().unwrap(), "the run reports its cancellation");
    let ended = browser.load(&url, 1500);
    assert_quiet("the live page after the run", &ended.console);
    assert!(ended.dom.contains("data-status=\"cancelled\""), "the page shows the cancellation");
    drop(view);
    assert!(http_get(&addr, "/").is_none(), "the server outlived its view");
}

#[test]
fn the_report_renders_without_network_or_console_messages() {
    let Some(browser) = Browser::find("the_report_renders_without_network_or_console_messages") else {
        return;
    };
    let m = eight_schools();
    let fit = Sampler::new(&m).chains(4).warmup(300).draws(300).seed(4).progress(false).run().unwrap();
    let summary = fit.summary();
    let mut report = exmc::report::Report::new("eight schools").summary(&summary).warning("a test warning");
    let kinds = [exmc::plot::PlotKind::Trace, exmc::plot::PlotKind::Rank, exmc::plot::PlotKind::Energy];
    for k in kinds {
        let svg = exmc::plot::plot(&fit.trace, k, &exmc::plot::PlotOptions::default()).unwrap();
        report = report.plot(k.name(), svg);
    }
    let html = report.to_html();
    // Serve it, recording every path the browser asks for.
    let server = tiny_http::Server::http("127.0.0.1:0").unwrap();
    let url = format!("http://{}/", server.server_addr().to_ip().unwrap());
    let asked = Arc::new(Mutex::new(Vec::new()));
    let server = Arc::new(server);
    let serving = {
        let (server, asked) = (Arc::clone(&server), Arc::clone(&asked));
        std::thread::spawn(move || {
            for req in server.incoming_requests() {
                asked.lock().unwrap().push(req.url().to_string());
                let resp = if req.url() == "/" {
                    tiny_http::Response::from_string(html.clone()).with_header(
                        tiny_http::Header::from_bytes(&b"Content-Type"[..], &b"text/html; charset=utf-8"[..])
                            .unwrap(),
                    )
                } else {
                    tiny_http::Response::from_string("").with_status_code(404)
                };
                let _ = req.respond(resp);
            }
        })
    };
    let load = browser.load(&url, 1000);
    assert_quiet("the report", &load.console);
    for name in ["mu", "tau", "theta[0]", "theta[7]", "a test warning"] {
        assert!(load.dom.contains(name), "{name} missing from the report");
    }
    assert!(load.dom.matches("<svg").count() >= kinds.len(), "every plot is inline");
    let shot = shots().join("report.png");
    browser.screenshot(&url, 1000, &shot);
    eprintln!("report screenshot: {}", shot.display());
    server.unblock();
    serving.join().unwrap();
    let asked = asked.lock().unwrap();
    assert!(
        asked.iter().all(|p| p == "/" || p == "/favicon.ico"),
        "the report fetched more than itself: {asked:?}"
    );
}
