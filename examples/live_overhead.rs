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
//! host loop; steadier still, since it leaves out the backend's steps). `--no-client` leaves
//! the page unpolled.

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

/// Sampling seconds and process CPU seconds of one run, with the live view (and a polling
/// client) when `live`.
fn time_run(base: &Sampler<'_>, live: bool) -> Result<(f64, f64, usize, [f64; 2])> {
    let c0 = cpu_s();
    // Thread-seconds the drivers spent on the host (where the view's sinks run) and in all.
    let driver = |f: &Fit| [f.counters.host_s, f.counters.host_s + f.counters.step_s];
    if !live {
        let f = base.clone().run()?;
        return Ok((f.timing.sampling_s, cpu_s() - c0, 0, driver(&f)));
    }
    let view = LiveView::bind("127.0.0.1:0")?;
    let addr = view.url().trim_start_matches("http://").trim_end_matches('/').to_string();
    let stop = AtomicBool::new(false);
    std::thread::scope(|s| {
        let client = s.spawn(|| if args::value("--no-client").is_some() { 0 } else { poll(&addr, &stop) });
        let fit = base.clone().live_view(view.clone()).run();
        stop.store(true, Ordering::Release);
        let polls = client.join().unwrap_or(0);
        fit.map(|f| (f.timing.sampling_s, cpu_s() - c0, polls, driver(&f)))
    })
}

fn measure(name: &str, base: Sampler<'_>, reps: usize) -> Result<()> {
    // One run unmeasured: compiled kernels and caches warm.
    base.clone().run()?;
    let (mut off, mut on, mut ratios, mut cpu_ratios) = (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    let mut host_shares = Vec::new();
    let mut polls = 0;
    for r in 0..reps {
        // Alternate which goes first, so that drift in the machine's speed cancels.
        let order = if r % 2 == 0 { [false, true] } else { [true, false] };
        let (mut wall, mut cpu, mut host) = ([0.0; 2], [0.0; 2], [[0.0; 2]; 2]);
        for live in order {
            let (t, c, p, h) = time_run(&base, live)?;
            (wall[usize::from(live)], cpu[usize::from(live)], host[usize::from(live)]) = (t, c, h);
            polls += p;
        }
        // The sampler-side cost: extra host-loop time as a share of all driver time.
        host_shares.push((host[1][0] - host[0][0]) / host[0][1]);
        println!(
            "  {name} rep {r}: sampling {:.3} s without, {:.3} s with ({:+.1}%); CPU {:.2} s, {:.2} s ({:+.1}%)",
            wall[0],
            wall[1],
            100.0 * (wall[1] / wall[0] - 1.0),
            cpu[0],
            cpu[1],
            100.0 * (cpu[1] / cpu[0] - 1.0)
        );
        off.push(wall[0]);
        on.push(wall[1]);
        ratios.push(wall[1] / wall[0]);
        cpu_ratios.push(cpu[1] / cpu[0]);
    }
    let (off, on, ratio, cpu_ratio) = (median(&off), median(&on), median(&ratios), median(&cpu_ratios));
    let host_share = median(&host_shares);
    println!(
        "| {name} | {off:.3} s | {on:.3} s | {:+.1}% | {:+.1}% | {:+.2}% | {polls} |",
        100.0 * (ratio - 1.0),
        100.0 * (cpu_ratio - 1.0),
        100.0 * host_share
    );
    Ok(())
}

fn main() -> Result<()> {
    let reps = args::arg("--reps", 5usize);
    let case = args::value("--case").unwrap_or_else(|| "all".into());
    println!(
        "| case | sampling without | with live view | median paired change | CPU time change | host loop change (share of driver time) | snapshots fetched |"
    );
    println!("|---|---|---|---|---|---|---|");
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
