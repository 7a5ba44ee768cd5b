//! Fallible allocation of the buffers whose size a model decides (workspaces, chain state,
//! traces): a size that cannot be represented or allocated is [`Error::TooLarge`], never a
//! panic or an abort.

use crate::error::{Error, Result};

/// `a · b · …` in `u128`, for error messages and limit checks.
pub fn product(factors: &[usize]) -> u128 {
    factors.iter().map(|&f| f as u128).product()
}

/// Checks that `elements` values of `f64` can be addressed, naming `what` otherwise.
pub fn check_len(elements: u128, what: impl FnOnce() -> String) -> Result<usize> {
    let max = (isize::MAX as u128) / std::mem::size_of::<f64>() as u128;
    if elements > max {
        return Err(Error::TooLarge {
            what: what(),
            elements,
            reason: format!("more than the {max} values one allocation can address"),
        });
    }
    Ok(elements as usize)
}

/// A vector of `n` copies of `value`, or [`Error::TooLarge`] naming `what` when the memory
/// cannot be allocated.
pub fn try_filled(n: usize, value: f64, what: impl FnOnce() -> String) -> Result<Vec<f64>> {
    let mut v = Vec::new();
    try_reserve(&mut v, n, what)?;
    v.resize(n, value);
    Ok(v)
}

/// Reserves room for `n` more elements, or [`Error::TooLarge`] naming `what`.
pub fn try_reserve<T>(v: &mut Vec<T>, n: usize, what: impl FnOnce() -> String) -> Result<()> {
    v.try_reserve_exact(n).map_err(|e| Error::TooLarge {
        what: what(),
        elements: (v.len() as u128) + n as u128,
        reason: format!("allocation failed ({e})"),
    })
}

/// Bytes of memory and swap this machine has, where the system says (Linux: `MemTotal` plus
/// `SwapTotal` of `/proc/meminfo`); `None` elsewhere. A run needing more cannot succeed, whatever
/// the allocator's overcommit policy lets a reservation do.
pub fn physical_bytes() -> Option<u128> {
    let text = std::fs::read_to_string("/proc/meminfo").ok()?;
    let field = |name: &str| -> Option<u128> {
        let line = text.lines().find(|l| l.starts_with(name))?;
        let kb: u128 = line[name.len()..].trim().trim_end_matches("kB").trim().parse().ok()?;
        Some(kb * 1024)
    };
    Some(field("MemTotal:")? + field("SwapTotal:").unwrap_or(0))
}

/// Asks the processor to bring the cache lines of `data` in (a hint: nothing is read, no
/// fault can occur, and other architectures than x86-64 ignore it). A host loop over many
/// chains' state issues these for a block of chains before handling them, so that their
/// cache misses overlap rather than each waiting in turn.
#[inline]
pub fn prefetch<T>(data: &[T]) {
    #[cfg(target_arch = "x86_64")]
    {
        use std::arch::x86_64::{_MM_HINT_T0, _mm_prefetch};
        let (start, bytes) = (data.as_ptr() as usize, std::mem::size_of_val(data));
        let mut line = start & !63;
        while line < start + bytes {
            // SAFETY: a prefetch is a hint that never faults, whatever the address.
            unsafe { _mm_prefetch::<_MM_HINT_T0>(line as *const i8) };
            line += 64;
        }
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = data;
}

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

/// Slabs at least this large are populated in the background ([`Populator`]): below it a
/// thread costs more than the page faults it takes over.
pub(crate) const POPULATE_MIN_BYTES: usize = 16 << 20;

/// Pages of memory made resident in the background while their owner writes to them (see
/// [`Populator::start`]). Dropping it stops the thread and waits for it.
///
/// A fresh allocation's pages are zeroed by the system at the first write to each: on a
/// virtual machine that hands freed memory back to its host (as this project's does), a page
/// fault costs microseconds, and at 65,536 chains the trace's 1.8 GB of fresh pages cost the
/// host loop more than its own work (DECISIONS 75).
pub(crate) struct Populator {
    stop: Arc<AtomicBool>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Populator {
    /// Starts a thread that asks the system to back `ranges` (row, address, bytes), in this
    /// order, with pages (`MADV_POPULATE_WRITE`, Linux 5.14 and later), one 2 MB piece at a
    /// time, so that the page faults a writer would take are taken ahead of it on another core.
    /// A range is populated once the writers' `progress` (rows reached) is within `lead` rows
    /// of its own row: the thread stays ahead of the writers but no further, so a long run
    /// stopped early makes little more memory resident than it wrote. The
    /// contents are not touched (a present page is left as it is; a fresh one reads zero, as
    /// it would have), so writers need no synchronisation with it. Only whole pages inside a
    /// range are populated. The thread ends at the first refusal (an older kernel, another
    /// system: the writers then fault pages in themselves, as without it).
    ///
    /// The ranges ought to lie inside allocations that outlive this value (the records' slabs,
    /// which own it). The call never changes what memory holds, so a stray range would only
    /// make pages resident, or be refused.
    pub(crate) fn start(
        ranges: Vec<(usize, usize, usize)>,
        progress: Arc<AtomicUsize>,
        lead: usize,
    ) -> Populator {
        let stop = Arc::new(AtomicBool::new(false));
        let flag = stop.clone();
        let thread = std::thread::Builder::new()
            .name("exmc-populate".into())
            .spawn(move || {
                const PIECE: usize = 1 << 21;
                let page = 4096;
                for (row, addr, len) in ranges {
                    while progress.load(Ordering::Relaxed).saturating_add(lead) < row {
                        if flag.load(Ordering::Relaxed) {
                            return;
                        }
                        std::thread::sleep(std::time::Duration::from_micros(200));
                    }
                    let (mut a, end) = (addr.next_multiple_of(page), (addr + len) / page * page);
                    while a < end {
                        if flag.load(Ordering::Relaxed) || !populate(a, PIECE.min(end - a)) {
                            return;
                        }
                        a += PIECE.min(end - a);
                    }
                }
            })
            .ok();
        Populator { stop, thread }
    }
}

/// Faults in the pages of `len` bytes at page-aligned `addr`; false when the system refuses.
#[cfg(target_os = "linux")]
fn populate(addr: usize, len: usize) -> bool {
    // SAFETY: MADV_POPULATE_WRITE only faults pages in (zeroed when fresh, as a first write
    // would find them) and never changes what present pages hold, so no Rust-visible memory
    // changes; an unmapped or protected range is refused with an error.
    unsafe { libc::madvise(addr as *mut libc::c_void, len, libc::MADV_POPULATE_WRITE) == 0 }
}

/// No such call elsewhere: the writers fault pages in themselves.
#[cfg(not(target_os = "linux"))]
fn populate(_addr: usize, _len: usize) -> bool {
    false
}

impl Drop for Populator {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};

    #[test]
    fn populating_leaves_what_memory_holds_while_it_is_written() {
        let n = (super::POPULATE_MIN_BYTES / 8) * 2;
        let mut v: Vec<f64> = bytemuck::allocation::zeroed_vec(n);
        v[..1000].iter_mut().enumerate().for_each(|(i, x)| *x = i as f64);
        let (half, all) = (n * 4, n * 8 - 3);
        let at = v.as_ptr() as usize + 3;
        let progress = Arc::new(AtomicUsize::new(0));
        // The second half waits for the writer's progress to reach row 9 (lead 1).
        let p =
            super::Populator::start(vec![(0, at, half), (10, at + half, all - half)], progress.clone(), 1);
        // The writer goes on meanwhile, from the far end.
        for (k, i) in (0..n).rev().step_by(4099).enumerate() {
            v[i] = -(i as f64);
            progress.store(k / 100, Ordering::Relaxed);
        }
        drop(p);
        for (i, x) in v.iter().enumerate() {
            let want = if (n - 1 - i).is_multiple_of(4099) {
                -(i as f64)
            } else if i < 1000 {
                i as f64
            } else {
                0.0
            };
            assert_eq!(*x, want, "element {i}");
        }
        // A range the process does not map is refused, and the thread ends.
        drop(super::Populator::start(vec![(0, 4096, 1 << 22)], Arc::new(AtomicUsize::new(0)), 0));
        // One waiting for progress that never comes stops when dropped.
        drop(super::Populator::start(vec![(5, at, 4096)], Arc::new(AtomicUsize::new(0)), 0));
    }

    #[test]
    fn physical_memory_is_read_on_linux() {
        if cfg!(target_os = "linux") {
            let b = super::physical_bytes().expect("/proc/meminfo");
            assert!(b > 1 << 26, "{b}");
        }
    }
}
