//! Counter-based randomness: the same seed gives bit-identical traces, whether chains run
//! together or one at a time, on any number of threads.

mod common;
use common::{SCHOOLS_SIGMA, SCHOOLS_Y, eight_schools};
use exmc::prelude::*;

fn model() -> Model {
    eight_schools(&SCHOOLS_Y, &SCHOOLS_SIGMA)
}

fn run(m: &Model, seed: u64, threads: usize, only: Option<Vec<usize>>) -> Fit {
    let mut s = Sampler::new(m)
        .backend(BackendChoice::Cpu)
        .chains(4)
        .warmup(150)
        .draws(100)
        .seed(seed)
        .threads(threads)
        .progress(false);
    if let Some(ids) = only {
        s = s.only_chains(ids);
    }
    s.run().unwrap()
}

#[test]
fn same_seed_same_trace_on_any_thread_count() {
    let m = model();
    let a = run(&m, 5, 2, None);
    let b = run(&m, 5, 2, None);
    let c = run(&m, 5, 1, None);
    let d = run(&m, 5, 3, None);
    assert_eq!(a.trace, b.trace);
    assert_eq!(a.trace, c.trace);
    assert_eq!(a.trace, d.trace);
    assert_ne!(a.trace, run(&m, 6, 2, None).trace, "a different seed must change the trace");
}

#[test]
fn chains_alone_equal_chains_together() {
    let m = model();
    let together = run(&m, 11, 2, None);
    for c in 0..4 {
        let alone = run(&m, 11, 1, Some(vec![c]));
        assert_eq!(alone.trace.stats[0], together.trace.stats[c], "chain {c} stats");
        for (va, vt) in alone.trace.vars.iter().zip(&together.trace.vars) {
            let k = vt.size() * together.trace.draws;
            assert_eq!(va.values[..], vt.values[c * k..(c + 1) * k], "chain {c} {}", vt.name);
        }
    }
}

/// A run of two chains and a million draws, cancelled after 300 ms (on `threads` threads, or
/// the default): it returns the draws so far, the same number from every chain.
fn cancelled_run(threads: Option<usize>) -> Fit {
    let m = model();
    let token = CancelToken::new();
    let canceller = {
        let token = token.clone();
        std::thread::spawn(move || {
            std::thread::sleep(std::time::Duration::from_millis(300));
            token.cancel();
        })
    };
    let mut s = Sampler::new(&m)
        .backend(BackendChoice::Cpu)
        .chains(2)
        .warmup(100)
        .draws(1_000_000)
        .seed(1)
        .cancel_token(token)
        .progress(false);
    if let Some(n) = threads {
        s = s.threads(n);
    }
    let fit = s.run().unwrap();
    canceller.join().unwrap();
    assert!(fit.cancelled);
    assert!(fit.trace.draws > 0 && fit.trace.draws < 1_000_000, "{} draws", fit.trace.draws);
    // Every chain contributes the same number of complete draws.
    assert!(fit.trace.stats.iter().all(|s| s.len() == fit.trace.draws));
    assert_eq!(fit.trace.var("theta").unwrap().values.len(), 2 * fit.trace.draws * 8);
    fit
}

#[test]
fn cancellation_returns_draws_so_far() {
    cancelled_run(None);
}

/// The same on one thread, where a core is free: every group's records (200 MB for a
/// million draws) have a populator waiting for draws that will not come, and the trace's
/// buffers are being made; the run ends, with the draws so far and statistics vectors
/// without room for a million draws (DECISIONS 75, 76).
#[test]
fn cancellation_with_populators_waiting_returns_draws_so_far() {
    let fit = cancelled_run(Some(1));
    assert!(fit.trace.stats.iter().all(|s| s.capacity() < 500_000));
}

/// A factory's backends run the chains: a factory making the CPU backend gives the built-in
/// CPU backend's trace bit for bit, and its backend's name; a factory's error ends the run
/// with that error.
#[test]
fn backend_factory_supplies_the_backends() {
    use exmc::backend::{Backend, CpuBackend};
    use exmc::sampler::BackendFactory;
    let m = model();
    let built_in = run(&m, 3, 2, None);
    let made = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let count = made.clone();
    let factory = BackendFactory::new(move |prog, seed, ids, depth| {
        count.fetch_add(ids.len(), std::sync::atomic::Ordering::SeqCst);
        Ok(Box::new(CpuBackend::new(prog.clone(), seed, ids, depth)) as Box<dyn Backend>)
    });
    let fit = Sampler::new(&m)
        .backend_factory(factory)
        .chains(4)
        .warmup(150)
        .draws(100)
        .seed(3)
        .threads(2)
        .progress(false)
        .run()
        .unwrap();
    assert_eq!(fit.trace, built_in.trace);
    assert_eq!(made.load(std::sync::atomic::Ordering::SeqCst), 4, "every chain on a factory's backend");
    let failing =
        BackendFactory::new(|_, _, _, _| Err(Error::Backend { backend: "test", reason: "no device".into() }));
    let err = Sampler::new(&m).backend_factory(failing).progress(false).run().unwrap_err();
    assert!(err.to_string().contains("no device"), "{err}");
}

/// A factory making one CPU backend for every chain of a run.
fn one_cpu_group() -> exmc::sampler::BackendFactory {
    use exmc::backend::{Backend, CpuBackend};
    exmc::sampler::BackendFactory::new(|prog, seed, ids, depth| {
        Ok(Box::new(CpuBackend::new(prog.clone(), seed, ids, depth)) as Box<dyn Backend>)
    })
    .one_group()
}

/// A backend holding every chain (as the GPU backend does) splits the host loop over the
/// run's threads: 2,560 chains on two threads make two shards of the driver's work. The trace,
/// and each chain's streamed CSV (adapted step size, inverse metric, draws), are the same bits
/// as on one thread (one shard) and as the built-in CPU backend's groups.
#[test]
fn a_split_host_loop_gives_the_same_bits() {
    use exmc::io::{CmdStanCsv, read_cmdstan_dir};
    let m = model();
    let chains = 2_560;
    let dir = std::env::temp_dir().join(format!("exmc_split_host_{}", std::process::id()));
    let run = |threads: usize, one_group: bool, csv: &str| {
        let s = Sampler::new(&m)
            .chains(chains)
            .warmup(40)
            .draws(10)
            .seed(9)
            .threads(threads)
            .progress(false)
            .save(CmdStanCsv::new(dir.join(csv)).block(4));
        let s = if one_group { s.backend_factory(one_cpu_group()) } else { s.backend(BackendChoice::Cpu) };
        s.run().unwrap()
    };
    let serial = run(1, true, "serial");
    let split = run(2, true, "split");
    let grouped = run(2, false, "grouped");
    assert_eq!(serial.counters.host_shards, 1);
    assert_eq!(split.counters.host_shards, 2);
    assert_eq!(grouped.counters.host_shards, 1);
    assert_eq!(split.trace, serial.trace);
    assert_eq!(split.trace, grouped.trace);
    let (a, b) =
        (read_cmdstan_dir(dir.join("serial")).unwrap(), read_cmdstan_dir(dir.join("split")).unwrap());
    assert_eq!(a.chains.len(), chains);
    for (x, y) in a.chains.iter().zip(&b.chains) {
        assert!(x.complete && y.complete);
        assert_eq!((x.step_size, &x.inv_metric, &x.rows), (y.step_size, &y.inv_metric, &y.rows));
    }
    std::fs::remove_dir_all(&dir).ok();
}

/// Device groups (DECISIONS 82): a one-group factory's chains split into two or three groups,
/// each with its own backend and host loop, give the same bits as one group (whose host loop
/// splits over the three threads, where each group's has one); and pooled warmup pools each
/// group.
#[test]
fn device_groups_give_the_same_bits() {
    let m = model();
    let run = |groups: usize, adaptation: Adaptation, only: Option<Vec<usize>>| {
        let s = Sampler::new(&m)
            .chains(2_560)
            .warmup(40)
            .draws(10)
            .seed(9)
            .threads(3)
            .adaptation(adaptation)
            .backend_factory(one_cpu_group())
            .device_groups(groups)
            .progress(false);
        let s = if let Some(ids) = only { s.only_chains(ids) } else { s };
        s.run().unwrap()
    };
    let one = run(1, Adaptation::default(), None);
    assert!(one.counters.host_shards > 1);
    for groups in [2, 3] {
        let split = run(groups, Adaptation::default(), None);
        assert_eq!(split.trace, one.trace, "{groups} device groups");
        assert_eq!(split.counters.host_shards, 1, "each group's host loop on one thread");
    }
    // Pooled warmup: each group is a pool, so the run in two groups is two runs of one pool
    // each, over the halves' chains.
    let pooled = run(2, Adaptation::Pooled, None);
    let halves = [0..1_280, 1_280..2_560].map(|r| run(1, Adaptation::Pooled, Some(r.collect())).trace);
    assert_eq!(pooled.trace, exmc::sampler::Trace::concat(&halves).unwrap());
    assert_ne!(pooled.trace, run(1, Adaptation::Pooled, None).trace);
    let err = Sampler::new(&m).device_groups(0).progress(false).run().unwrap_err();
    assert!(err.to_string().contains("device_groups"), "{err}");
}

/// A run that keeps no warmup statistics (`keep_warmup_stats(false)`, DECISIONS 83) gives the
/// same kept draws and statistics, holds an empty warmup list per chain and counts no warmup
/// gradients in the trace, while the counters still count every leaf step; on a device-sized
/// group with its host loop split too.
#[test]
fn keeping_no_warmup_statistics_keeps_the_same_draws() {
    let m = model();
    for (chains, one_group) in [(4, false), (2_560, true)] {
        let run = |keep: bool| {
            let s = Sampler::new(&m)
                .chains(chains)
                .warmup(60)
                .draws(30)
                .seed(3)
                .threads(2)
                .keep_warmup_stats(keep)
                .progress(false);
            let s = if one_group { s.backend_factory(one_cpu_group()) } else { s };
            s.run().unwrap()
        };
        let (kept, lean) = (run(true), run(false));
        assert!(kept.trace.warmup_stats.iter().all(|w| w.len() == 60));
        assert_eq!(lean.trace.warmup_stats, vec![Vec::new(); chains]);
        assert_eq!(lean.trace.leapfrog_steps().1, 0);
        assert!(kept.trace.leapfrog_steps().1 > 0);
        assert_eq!((&lean.trace.stats, &lean.trace.vars), (&kept.trace.stats, &kept.trace.vars));
        assert_eq!(lean.counters.leaf_steps, kept.counters.leaf_steps);
    }
}

/// Pooled warmup with the host loop split: the pool hears the draws in chain order whatever
/// the number of shards, so one thread and two give the same bits.
#[test]
fn a_split_host_loop_pools_the_same_bits() {
    let m = model();
    let run = |threads: usize| {
        Sampler::new(&m)
            .chains(2_560)
            .adaptation(Adaptation::Pooled)
            .warmup(30)
            .draws(10)
            .seed(4)
            .threads(threads)
            .progress(false)
            .backend_factory(one_cpu_group())
            .run()
            .unwrap()
    };
    let (serial, split) = (run(1), run(2));
    assert_eq!((serial.counters.host_shards, split.counters.host_shards), (1, 2));
    assert_eq!(split.trace, serial.trace);
}

/// Records of tens of megabytes, with a core left free (one thread): a thread faults their
/// pages in ahead of the host loop (DECISIONS 75). The trace is the same bits as the built-in
/// CPU backend's, whose small groups' records are faulted in by their writers.
#[test]
fn populated_records_give_the_same_bits() {
    let cores = std::thread::available_parallelism().map_or(1, usize::from);
    if cores < 2 {
        eprintln!("skipped: one core, so no thread populates the records");
        return;
    }
    let m = model();
    let run = |one_group: bool| {
        let s = Sampler::new(&m).chains(2_560).warmup(100).draws(100).seed(12).threads(1).progress(false);
        let s = if one_group { s.backend_factory(one_cpu_group()) } else { s.backend(BackendChoice::Cpu) };
        s.run().unwrap()
    };
    let (populated, grouped) = (run(true), run(false));
    assert_eq!(populated.trace.draws, 100);
    assert_eq!(populated.trace, grouped.trace);
}

/// A trace writer that writes nothing: attached, it makes the host loop constrain every kept
/// draw itself, as any writer reading the draws while the chains run needs.
#[derive(Debug)]
struct Nothing;

impl exmc::sampler::TraceWriter for Nothing {
    fn open(&self, _: &exmc::sampler::RunInfo<'_>) -> exmc::Result<Vec<Box<dyn exmc::sampler::ChainSink>>> {
        Ok(Vec::new())
    }
}

/// A run large enough (about 35 MB of constrained values, 18 per draw) to record its kept draws
/// unconstrained and constrain them when the trace is gathered (DECISIONS 80) gives the very
/// trace the host loop gives when it constrains each draw, as it does when a writer listens.
#[test]
fn constraining_when_gathering_gives_the_loops_trace() {
    let m = model();
    let run = |listen: bool| {
        let s = Sampler::new(&m).backend(BackendChoice::Cpu).chains(2048).warmup(20).draws(120).seed(3);
        let s = if listen { s.save(Nothing) } else { s };
        s.progress(false).run().unwrap()
    };
    let (gathered, looped) = (run(false), run(true));
    assert!(gathered.counters.constrained_after_loop, "the run recorded its draws unconstrained");
    assert!(!looped.counters.constrained_after_loop, "a listening writer needs them constrained");
    assert_eq!(gathered.trace, looped.trace);
}
