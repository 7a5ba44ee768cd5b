//! The fuzz targets' driver (`tests/fuzz.rs`, `tests/fuzz_model_file.rs`): proptest runs of 64
//! cases with consecutive seeds until `EXMC_FUZZ_SECS` have passed (first seed
//! `EXMC_FUZZ_SEED`, default 1), and a watchdog that aborts the binary, printing the case,
//! when one case runs longer than `HANG_SECS`.

use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use proptest::strategy::Strategy;
use proptest::test_runner::{Config, TestCaseError, TestRng, TestRunner};

/// A case running longer than this is a hang.
pub const HANG_SECS: u64 = 120;

static CURRENT: Mutex<String> = Mutex::new(String::new());
static STARTED: AtomicU64 = AtomicU64::new(0);

fn now_s() -> u64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs())
}

/// Marks the start of a case, described for the hang report.
pub fn case_started(describe: impl FnOnce() -> String) {
    STARTED.store(now_s(), Ordering::SeqCst);
    if let Ok(mut c) = CURRENT.lock() {
        *c = describe();
    }
}

/// What a fuzzing session did.
pub struct Report {
    /// Cases run.
    pub cases: u64,
    /// Runs of 64 cases.
    pub runs: u64,
    /// The first seed.
    pub first_seed: u64,
    /// Seconds asked for.
    pub secs: u64,
}

/// Runs `case` over `strategy` for `EXMC_FUZZ_SECS` seconds (default `default_secs`); a failing
/// case panics with its seed (after proptest's shrinking).
pub fn run<S: Strategy>(
    default_secs: u64,
    strategy: S,
    case: impl Fn(S::Value) -> Result<(), TestCaseError>,
) -> Report {
    let secs: u64 = std::env::var("EXMC_FUZZ_SECS").ok().and_then(|s| s.parse().ok()).unwrap_or(default_secs);
    let first_seed: u64 = std::env::var("EXMC_FUZZ_SEED").ok().and_then(|s| s.parse().ok()).unwrap_or(1);
    std::thread::spawn(|| {
        loop {
            std::thread::sleep(Duration::from_secs(5));
            let started = STARTED.load(Ordering::SeqCst);
            if started > 0 && now_s().saturating_sub(started) > HANG_SECS {
                let case = CURRENT.lock().map(|c| c.clone()).unwrap_or_default();
                eprintln!("HANG: a fuzz case ran for more than {HANG_SECS} s:\n{case}");
                std::process::abort();
            }
        }
    });
    let deadline = Instant::now() + Duration::from_secs(secs);
    let cases = AtomicU64::new(0);
    let (mut runs, mut seed) = (0u64, first_seed);
    while Instant::now() < deadline {
        let config = Config { cases: 64, failure_persistence: None, ..Config::default() };
        let mut bytes = [0u8; 32];
        bytes[..8].copy_from_slice(&seed.to_le_bytes());
        let rng = TestRng::from_seed(proptest::test_runner::RngAlgorithm::ChaCha, &bytes);
        let mut runner = TestRunner::new_with_rng(config, rng);
        let result = runner.run(&strategy, |v| {
            cases.fetch_add(1, Ordering::Relaxed);
            case(v)
        });
        if let Err(e) = result {
            panic!("fuzz seed {seed}: {e}");
        }
        runs += 1;
        seed += 1;
    }
    STARTED.store(0, Ordering::SeqCst);
    Report { cases: cases.load(Ordering::Relaxed), runs, first_seed, secs }
}
