//! What the live view costs a run (issue 13): the same run with and without
//! [`Sampler::live_view`], alternated, with a client polling `state.json` twice a second as the
//! page does, so the server's snapshots are paid for too.
//!
//! ```text
//! cargo run --release --example live_overhead -- [--reps 5] [--case quickstart|gpu|all]
//!     [--draws 200000] [--gpu-chains 1024] [--gpu-draws 300]
//! ```
//! Cases: `quickstart` (models/quickstart.toml, 4 chains, CPU) and `gpu` (eight schools,
//! 1,024 chains on the GPU backend: a hardware GPU or lavapipe). For each: the median sampling
//! time without and with the view, the median of the paired ratios (with/without), and the
//! same for the process's CPU time (all threads, the server's included: on a busy VM CPU time
//! is steadier than wall time), and the extra host-loop time of the run with the view as a
//! share of all the drivers' time (the sampler-side cost alone: the view's sinks run in the
//! host loop; steadier still, since it leaves out the backend's steps), and the server
//! thread's CPU time as a share of the process's CPU time without the view. `--no-client`
//! leaves the page unpolled.

#[path = "common/args.rs"]
#[allow(dead_code)]
mod args;

use std::io::{Read, Write};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use exmc::diagnostics::median;
use exmc::prelude::*;
use exmc::sampler::live::LiveView;

fn model(name: &str) -> Model {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("models");
    let data = dir.join(format!("{name}.json"));
    Model::from_files(dir.join(format!("{name}.toml")), data.exists().then_some(data.as_path()))
        .expect("the model files in models/ load")
}

/// Polls `addr`'s snapshot every 500 ms until `stop`; returns how many were fetched.
fn poll(addr: &str, stop: &AtomicBool) -> usize {
    let mut n = 0;
    while !stop.load(Ordering::Acquire) {
        if let Ok(mut s) = std::net::TcpStream::connect(addr) {
            let _ = write!(s, "GET /state.json HTTP/1.0\r\n\r\n");
            let mut body = Vec::new();
            if s.read_to_end(&mut body).is_ok() && body.len() > 100 {
                n += 1;
            }
        }
        std::thread::sleep(Duration::from_millis(500));
    }
    n
}

/// CPU seconds this process has used, all threads (Linux: /proc/self/stat; NaN elsewhere).
fn cpu_s() -> f64 {
    let Ok(stat) = std::fs::read_to_string("/proc/self/stat") else { return f64::NAN };
    // Fields after the command name (which may hold spaces): utime and stime are 14 and 15.
    let rest = stat.rsplit_once(')').map_or("", |(_, r)| r);
    let f: Vec<f64> = rest.split_whitespace().filter_map(|x| x.parse().ok()).collect();
    // `rest` starts at field 3 (state, not a number), so utime is f[10], stime f[11].
    (f.get(10).copied().unwrap_or(f64::NAN) + f.get(11).copied().unwrap_or(f64::NAN)) / 100.0
}

/// CPU seconds of this process's threads named `name` (Linux; 0 elsewhere).
fn thread_cpu_s(name: &str) -> f64 {
    let Ok(tasks) = std::fs::read_dir("/proc/self/task") else { return 0.0 };
    tasks
        .flatten()
        .filter_map(|t| std::fs::read_to_string(t.path().join("stat")).ok())
        .filter(|stat| {
            stat.split_once('(').and_then(|(_, r)| r.split_once(')')).is_some_and(|(c, _)| c == name)
        })
        .map(|stat| {
            let rest = stat.rsplit_once(')').map_or("", |(_, r)| r);
            let f: Vec<f64> = rest.split_whitespace().filter_map(|x| x.parse().ok()).collect();
            (f.get(10).copied().unwrap_or(0.0) + f.get(11).copied().unwrap_or(0.0)) / 100.0
        })
        .sum()
}

/// One timed run.
#[derive(Clone, Copy, Default)]
struct Run {
    /// Sampling seconds (wall).
    wall: f64,
    /// Process CPU seconds, all threads.
    cpu: f64,
    /// Snapshots the client fetched.
    polls: usize,
    /// Thread-seconds the drivers spent on the host (where the view's sinks run), and in all.
    host: f64,
    driver: f64,
    /// CPU seconds of the view's server thread.
    server: f64,
}

/// One run, with the live view (and a polling client) when `live`.
fn time_run(base: &Sampler<'_>, live: bool) -> Result<Run> {
    let c0 = cpu_s();
    let run = |f: &Fit, polls, server| Run {
        wall: f.timing.sampling_s,
        cpu: cpu_s() - c0,
        polls,
        host: f.counters.host_s,
        driver: f.counters.host_s + f.counters.step_s,
        server,
    };
    if !live {
        let f = base.clone().run()?;
        return Ok(run(&f, 0, 0.0));
    }
    let view = LiveView::bind("127.0.0.1:0")?;
    let addr = view.url().trim_start_matches("http://").trim_end_matches('/').to_string();
    let stop = AtomicBool::new(false);
    let server0 = thread_cpu_s("exmc-live");
    std::thread::scope(|s| {
        let client = s.spawn(|| if args::flag("--no-client") { 0 } else { poll(&addr, &stop) });
        let fit = base.clone().live_view(view.clone()).run();
        stop.store(true, Ordering::Release);
        let polls = client.join().unwrap_or(0);
        // Read while the view (and its thread) is still alive.
        let server = thread_cpu_s("exmc-live") - server0;
        fit.map(|f| run(&f, polls, server))
    })
}

fn measure(name: &str, base: Sampler<'_>, reps: usize) -> Result<()> {
    // One run unmeasured: compiled kernels and caches warm.
    base.clone().run()?;
    let mut pairs: Vec<[Run; 2]> = Vec::new();
    for r in 0..reps {
        // Alternate which goes first, so that drift in the machine's speed cancels.
        let order = if r % 2 == 0 { [false, true] } else { [true, false] };
        let mut pair = [Run::default(); 2];
        for live in order {
            pair[usize::from(live)] = time_run(&base, live)?;
        }
        let [a, b] = pair;
        println!(
            "  {name} rep {r}: sampling {:.3} s without, {:.3} s with ({:+.1}%); CPU {:.2} s, {:.2} s ({:+.1}%); server {:.3} s",
            a.wall,
            b.wall,
            100.0 * (b.wall / a.wall - 1.0),
            a.cpu,
            b.cpu,
            100.0 * (b.cpu / a.cpu - 1.0),
            b.server
        );
        pairs.push(pair);
    }
    let med = |f: &dyn Fn(&[Run; 2]) -> f64| median(&pairs.iter().map(f).collect::<Vec<_>>());
    let polls: usize = pairs.iter().map(|p| p[1].polls).sum();
    println!(
        "| {name} | {:.3} s | {:.3} s | {:+.1}% | {:+.1}% | {:+.2}% | {:.2}% | {polls} |",
        med(&|p| p[0].wall),
        med(&|p| p[1].wall),
        100.0 * (med(&|p| p[1].wall / p[0].wall) - 1.0),
        100.0 * (med(&|p| p[1].cpu / p[0].cpu) - 1.0),
        // The sampler-side cost: extra host-loop time as a share of all driver time.
        100.0 * med(&|p| (p[1].host - p[0].host) / p[0].driver),
        // The server's CPU as a share of the process's CPU without the view.
        100.0 * med(&|p| p[1].server / p[0].cpu),
    );
    Ok(())
}

fn main() -> Result<()> {
    let reps = args::arg("--reps", 5usize);
    let case = args::value("--case").unwrap_or_else(|| "all".into());
    println!(
        "| case | sampling without | with live view | median paired change | CPU time change | host loop change (share of driver time) | server thread CPU (share of CPU without) | snapshots fetched |"
    );
    println!("|---|---|---|---|---|---|---|---|");
    if case == "all" || case == "quickstart" {
        let m = model("quickstart");
        let draws = args::arg("--draws", 200_000usize);
        let base =
            Sampler::new(&m).chains(4).draws(draws).seed(1).progress(false).backend(BackendChoice::Cpu);
        measure("quickstart, 4 chains, CPU", base, reps)?;
    }
    if case == "all" || case == "gpu" {
        let m = model("eight_schools");
        let chains = args::arg("--gpu-chains", 1024usize);
        let draws = args::arg("--gpu-draws", 300usize);
        let base =
            Sampler::new(&m).chains(chains).draws(draws).seed(1).progress(false).backend(BackendChoice::Gpu);
        measure(&format!("eight schools, {chains} chains, GPU backend"), base, reps)?;
    }
    Ok(())
}
