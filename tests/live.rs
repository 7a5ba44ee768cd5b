//! The live view without a browser: what `state.json` reports during and after a run, that
//! the view leaves the draws untouched, that the server stops when it should, typed errors,
//! and the sample of chains shown when there are many.

mod common;

use std::path::PathBuf;
use std::time::{Duration, Instant};

use common::browser::http_get;
use exmc::prelude::*;
use exmc::sampler::live::LiveView;

fn model(name: &str) -> Model {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("models");
    let data = dir.join(format!("{name}.json"));
    Model::from_files(dir.join(format!("{name}.toml")), data.exists().then_some(data.as_path())).unwrap()
}

fn addr(view: &LiveView) -> String {
    view.url().trim_start_matches("http://").trim_end_matches('/').to_string()
}

fn state(addr: &str) -> Option<serde_json::Value> {
    let (code, body) = http_get(addr, "/state.json")?;
    assert_eq!(code, 200);
    Some(serde_json::from_str(&body).expect("state.json is JSON"))
}

/// Polls `state.json` until `pred` holds (at most 60 s).
fn wait_for(addr: &str, pred: impl Fn(&serde_json::Value) -> bool) -> serde_json::Value {
    let t = Instant::now();
    loop {
        if let Some(s) = state(addr).filter(&pred) {
            return s;
        }
        assert!(t.elapsed() < Duration::from_secs(60), "state.json never satisfied the condition");
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn the_view_reports_the_finished_run_and_leaves_the_draws_alone() {
    let m = model("quickstart");
    let run = |s: Sampler<'_>| s.chains(4).warmup(200).draws(300).seed(11).progress(false).run().unwrap();
    let plain = run(Sampler::new(&m));
    let view = LiveView::bind("127.0.0.1:0").unwrap();
    let watched = run(Sampler::new(&m).live_view(view.clone()));
    for v in ["mu", "sigma"] {
        assert_eq!(plain.trace.var(v).unwrap().values, watched.trace.var(v).unwrap().values, "{v}");
    }
    let a = addr(&view);
    let s = state(&a).expect("the view serves while the caller holds it");
    assert_eq!(s["status"], "finished");
    assert_eq!(s["chains"], 4);
    assert_eq!(s["chains_done"], 4);
    assert_eq!(s["iterations_done"], 4 * 500);
    assert_eq!(s["divergences"].as_u64().unwrap(), plain.trace.divergences() as u64);
    let vars: Vec<&str> = s["vars"].as_array().unwrap().iter().map(|v| v["name"].as_str().unwrap()).collect();
    assert_eq!(vars, ["mu", "sigma"]);
    // The view's mean and R-hat over all chains agree with the fit's own figures.
    let mu = &s["vars"][0];
    let mean = mu["mean"].as_f64().unwrap();
    assert!((mean - watched.mean("mu").unwrap()).abs() < 1e-9, "{mean}");
    let rhat_all = mu["rhat_all_chains"].as_f64().unwrap();
    assert!((0.99..1.02).contains(&rhat_all), "{rhat_all}");
    let rhat = mu["rhat"].as_f64().unwrap();
    let row = watched.summary().rows.into_iter().find(|r| r.name == "mu").unwrap();
    assert!(
        (rhat - row.r_hat).abs() < 1e-9,
        "rank-normalised R-hat of the shown chains {rhat} vs {}",
        row.r_hat
    );
    assert_eq!(mu["trace"].as_array().unwrap().len(), 4);
    assert_eq!(mu["ranks"][0].as_array().unwrap().len(), 20);
    // Warmup paths of every shown chain: one step size per warmup iteration.
    assert_eq!(s["warmup_paths"][0]["step_size"].as_array().unwrap().len(), 200);
    let (code, page) = http_get(&a, "/").unwrap();
    assert_eq!(code, 200);
    assert!(page.contains("exmc — live view") && page.contains("state.json"));
    assert_eq!(http_get(&a, "/nothing").unwrap().0, 404);
    drop(view);
    assert!(http_get(&a, "/state.json").is_none(), "the server still answers after the view was dropped");
}

#[test]
fn a_view_given_twice_counts_each_chain_once_with_thinning() {
    let m = model("quickstart");
    let view = LiveView::bind("127.0.0.1:0").unwrap();
    let fit = Sampler::new(&m)
        .chains(2)
        .warmup(100)
        .draws(200)
        .thin(3)
        .seed(2)
        .progress(false)
        .save(view.clone())
        .live_view(view.clone())
        .run()
        .unwrap();
    let s = state(&addr(&view)).unwrap();
    assert_eq!(s["status"], "finished");
    assert_eq!(s["iterations_done"], 2 * 300);
    assert_eq!(s["chains_done"], 2);
    // ceil(200 / 3) kept draws per chain, each counted once.
    let mu = &s["vars"][0];
    assert_eq!(mu["draws_all_chains"], 2 * 67);
    assert!((mu["mean"].as_f64().unwrap() - fit.mean("mu").unwrap()).abs() < 1e-9);
    assert_eq!(mu["trace"][0].as_array().unwrap().len(), 67);
}

#[test]
fn a_live_address_serves_during_the_run_and_closes_when_it_is_cancelled() {
    let m = model("eight_schools");
    // A free port: bind, read it, release it.
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let a = format!("127.0.0.1:{port}");
    let cancel = CancelToken::new();
    let fit = std::thread::scope(|scope| {
        let watcher = scope.spawn(|| {
            let s = wait_for(&a, |s| s["iterations_done"].as_u64().unwrap_or(0) > 0);
            assert!(["warmup", "sampling"].contains(&s["status"].as_str().unwrap()));
            cancel.cancel();
        });
        let fit = Sampler::new(&m)
            .chains(2)
            .warmup(500)
            .draws(1_000_000)
            .thin(10)
            .seed(5)
            .progress(false)
            .cancel_token(cancel.clone())
            .live(&a)
            .run()
            .unwrap();
        watcher.join().unwrap();
        fit
    });
    assert!(fit.cancelled);
    assert!(http_get(&a, "/state.json").is_none(), "the server outlived the run");
}

#[test]
fn live_errors_are_typed() {
    let m = model("quickstart");
    let held = LiveView::bind("127.0.0.1:0").unwrap();
    let taken = addr(&held);
    match LiveView::bind(&taken) {
        Err(Error::Live { addr, reason }) => assert!(addr == taken && !reason.is_empty()),
        other => panic!("binding a taken address: {other:?}"),
    }
    match Sampler::new(&m).live("no-such-host:").run() {
        Err(Error::Live { addr, .. }) => assert_eq!(addr, "no-such-host:"),
        other => panic!("a malformed address: {:?}", other.map(|_| ())),
    }
    let view = LiveView::bind("127.0.0.1:0").unwrap().vars(&["mu", "nope"]);
    match Sampler::new(&m).draws(10).warmup(10).progress(false).live_view(view).run() {
        Err(Error::Live { reason, .. }) => {
            assert!(reason.contains("`nope`") && reason.contains("mu, sigma"), "{reason}")
        }
        other => panic!("an unknown variable: {:?}", other.map(|_| ())),
    }
}

#[test]
fn many_chains_show_an_evenly_spaced_sample_and_aggregate_all() {
    let m = model("eight_schools");
    let view = LiveView::bind("127.0.0.1:0").unwrap().vars(&["theta"]).chains_shown(8);
    let fit = Sampler::new(&m)
        .chains(256)
        .warmup(100)
        .draws(100)
        .seed(2)
        .progress(false)
        .live_view(view.clone())
        .run()
        .unwrap();
    let s = state(&addr(&view)).unwrap();
    let ids: Vec<u64> = s["shown"].as_array().unwrap().iter().map(|c| c["id"].as_u64().unwrap()).collect();
    assert_eq!(ids, (0..8).map(|k| k * 32).collect::<Vec<_>>());
    assert_eq!(s["chains"], 256);
    assert_eq!(s["iterations_done"], 256 * 200);
    assert_eq!(s["divergences"].as_u64().unwrap(), fit.trace.divergences() as u64);
    let vars = s["vars"].as_array().unwrap();
    assert_eq!(vars.len(), 8, "theta has eight elements");
    assert_eq!(vars[0]["draws_all_chains"], 256 * 100);
    assert_eq!(vars[0]["trace"].as_array().unwrap().len(), 8);
}
