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

/// Checks, before anything is allocated, that `values` values of `f64` fit: addressable,
/// within this machine's memory and swap where the system says ([`physical_bytes`]), and
/// reservable once (which proves the address space is there). [`Error::TooLarge`] naming
/// `what` otherwise, its reason ending with `hint` (how to need less) where the machine is too
/// small.
pub fn check_fits(values: u128, what: impl Fn() -> String, hint: &str) -> Result<()> {
    let bytes = values.saturating_mul(std::mem::size_of::<f64>() as u128);
    if let Some(total) = physical_bytes()
        && bytes > total
    {
        return Err(Error::TooLarge {
            what: what(),
            elements: values,
            reason: format!("{bytes} bytes, more than this machine's {total} bytes of memory and swap{hint}"),
        });
    }
    let n = check_len(values, &what)?;
    let mut probe: Vec<f64> = Vec::new();
    try_reserve(&mut probe, n, what)
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

/// Whether a run on `threads` threads leaves one of the cores this process may use free.
pub(crate) fn core_free(threads: usize) -> bool {
    threads < std::thread::available_parallelism().map_or(1, usize::from)
}

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
        let alive = Alive::new();
        let thread = std::thread::Builder::new()
            .name("exmc-populate".into())
            .spawn(move || {
                let _alive = alive;
                for (row, addr, len) in ranges {
                    while progress.load(Ordering::Relaxed).saturating_add(lead) < row {
                        if flag.load(Ordering::Relaxed) {
                            return;
                        }
                        std::thread::sleep(PAUSE);
                    }
                    if !populate_range(addr, len, &flag) {
                        return;
                    }
                }
            })
            .ok();
        Populator { stop, thread }
    }
}

/// [`Populator`] threads alive: [`populate_when_idle`] waits until there are none.
static POPULATORS: AtomicUsize = AtomicUsize::new(0);

/// How long a waiting thread sleeps between looks.
const PAUSE: std::time::Duration = std::time::Duration::from_micros(200);

/// Counts a populator thread in [`POPULATORS`] while it lives.
struct Alive;

impl Alive {
    fn new() -> Alive {
        POPULATORS.fetch_add(1, Ordering::Relaxed);
        Alive
    }
}

impl Drop for Alive {
    fn drop(&mut self) {
        POPULATORS.fetch_sub(1, Ordering::Relaxed);
    }
}

/// Faults in the whole pages among `len` bytes at `addr` (see [`Populator::start`]), 2 MB at a
/// time; false when the system refuses or `stop` is raised.
fn populate_range(addr: usize, len: usize, stop: &AtomicBool) -> bool {
    populate_pieces(addr, len, stop, 1 << 21, || ())
}

/// [`populate_range`] in pieces of `piece` bytes, each after `before` returns.
fn populate_pieces(addr: usize, len: usize, stop: &AtomicBool, piece: usize, before: impl Fn()) -> bool {
    let page = page_size();
    let (mut a, end) = (addr.next_multiple_of(page), (addr + len) / page * page);
    while a < end {
        before();
        if stop.load(Ordering::Relaxed) || !populate(a, piece.min(end - a)) {
            return false;
        }
        a += piece.min(end - a);
    }
    true
}

/// Faults in the pages of `v`'s buffer, its spare capacity included, on the calling thread
/// (whole pages only; see [`Populator::start`]), 128 kB at a time, once no [`Populator`] is
/// alive: their writers need their pages first, and faulting threads slow each other (on this
/// project's VM, starting as the populators did cost the host loop 2–5 ns per chain per
/// dispatch; DECISIONS 76). Nothing `v` holds changes.
/// It gives up once `stop` returns true.
pub(crate) fn populate_when_idle<T>(v: &Vec<T>, stop: &dyn Fn() -> bool) {
    populate_span_when_idle(v.as_ptr() as usize, v.capacity() * size_of::<T>(), stop);
}

/// [`populate_when_idle`] for `len` bytes at `addr`.
fn populate_span_when_idle(addr: usize, len: usize, stop: &dyn Fn() -> bool) {
    let stopped = AtomicBool::new(false);
    let idle = || stopped.store(!wait_until_idle(stop), Ordering::Relaxed);
    populate_pieces(addr, len, &stopped, 1 << 17, idle);
}

/// Waits until no [`Populator`] is alive (true) or `stop` returns true (false).
fn wait_until_idle(stop: &dyn Fn() -> bool) -> bool {
    while POPULATORS.load(Ordering::Relaxed) > 0 {
        if stop() {
            return false;
        }
        std::thread::sleep(PAUSE);
    }
    !stop()
}

/// Lowers the calling thread's scheduling priority to the least (nice 19), for background
/// work that should take only what other threads leave; a no-op where unsupported.
pub(crate) fn lowest_priority() {
    #[cfg(target_os = "linux")]
    // SAFETY: plain system calls on the calling thread's own id; a failure changes nothing.
    unsafe {
        let tid = libc::syscall(libc::SYS_gettid) as libc::id_t;
        libc::setpriority(libc::PRIO_PROCESS, tid, 19);
    }
}

/// Buffers at least this large are backed by huge pages where the system allows
/// ([`advise_huge`]): glibc's largest mmap threshold (32 MB on 64-bit systems), above which
/// every allocation is a fresh mapping whose pages nothing has written yet (below it, a zeroed
/// allocation may reuse a heap chunk the allocator clears itself).
pub(crate) const HUGE_MIN_BYTES: usize = 32 << 20;

/// Asks the system to back `v`'s buffer (its spare capacity included) with huge pages, where
/// it is at least [`HUGE_MIN_BYTES`] (Linux's transparent huge pages, `MADV_HUGEPAGE`, for the
/// whole 2 MB pages inside the buffer). Call it on a fresh zeroed allocation, before its pages
/// are first written: each huge page is then faulted in and cleared once rather than as 512
/// pages, and one TLB entry maps what 512 would. On this project's VM, the records' and the
/// trace's 3.4 GB at 65,536 chains took a page fault per 4 kB page, each a fault in the guest
/// and one in its host (DECISIONS 77). A hint: nothing the buffer holds changes, and where the
/// system refuses (huge pages off, another system) the pages are ordinary ones, as without it.
pub(crate) fn advise_huge<T>(v: &Vec<T>) {
    let len = v.capacity() * size_of::<T>();
    if len < HUGE_MIN_BYTES {
        return;
    }
    #[cfg(target_os = "linux")]
    {
        let page = page_size();
        let addr = v.as_ptr() as usize;
        let (a, end) = (addr.next_multiple_of(page), (addr + len) / page * page);
        if a < end {
            // SAFETY: MADV_HUGEPAGE only marks whole pages of the buffer as eligible for huge
            // pages: what memory holds never changes, whatever the system does with the hint.
            unsafe { libc::madvise(a as *mut libc::c_void, end - a, libc::MADV_HUGEPAGE) };
        }
    }
}

/// The system's page size (4 kB where it cannot be read).
fn page_size() -> usize {
    static PAGE: std::sync::OnceLock<usize> = std::sync::OnceLock::new();
    *PAGE.get_or_init(|| {
        #[cfg(target_os = "linux")]
        // SAFETY: sysconf reads a constant of the system.
        let page = unsafe { libc::sysconf(libc::_SC_PAGESIZE) };
        #[cfg(not(target_os = "linux"))]
        let page = 4096;
        usize::try_from(page).ok().filter(|p| p.is_power_of_two()).unwrap_or(4096)
    })
}

/// Whether the system faults pages in on request (`MADV_POPULATE_WRITE`, Linux 5.14 and
/// later), tried once on a fresh page of its own.
pub(crate) fn populating_works() -> bool {
    static WORKS: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
    #[cfg(target_os = "linux")]
    let works = || Fresh::new(page_size()).is_some_and(|f| populate(f.0, f.1));
    #[cfg(not(target_os = "linux"))]
    let works = || false;
    *WORKS.get_or_init(works)
}

/// A fresh private anonymous mapping (address, bytes) whose pages nothing has touched (no
/// allocator hands back such memory for sure), unmapped when dropped.
#[cfg(target_os = "linux")]
struct Fresh(usize, usize);

#[cfg(target_os = "linux")]
impl Fresh {
    /// `len` bytes, or None when the system refuses.
    fn new(len: usize) -> Option<Fresh> {
        // SAFETY: a new private anonymous mapping; the result is checked.
        let p = unsafe {
            libc::mmap(
                std::ptr::null_mut(),
                len,
                libc::PROT_READ | libc::PROT_WRITE,
                libc::MAP_PRIVATE | libc::MAP_ANONYMOUS,
                -1,
                0,
            )
        };
        (p != libc::MAP_FAILED).then_some(Fresh(p as usize, len))
    }
}

#[cfg(target_os = "linux")]
impl Drop for Fresh {
    fn drop(&mut self) {
        // SAFETY: the mapping made in `new`, unmapped once.
        unsafe { libc::munmap(self.0 as *mut libc::c_void, self.1) };
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

    #[cfg(target_os = "linux")]
    use super::Fresh;

    #[cfg(target_os = "linux")]
    impl Fresh {
        /// Pages resident in memory.
        fn resident(&self) -> usize {
            let mut flags = vec![0u8; self.1.div_ceil(super::page_size())];
            // SAFETY: mincore reads the residency of the mapping's pages into `flags`, one
            // byte per page.
            let rc = unsafe { libc::mincore(self.0 as *mut libc::c_void, self.1, flags.as_mut_ptr()) };
            assert_eq!(rc, 0);
            flags.iter().filter(|&&f| f & 1 == 1).count()
        }

        /// Waits up to ten seconds for every page to be resident.
        fn becomes_resident(&self) -> bool {
            let pages = self.1 / super::page_size();
            (0..10_000).any(|_| {
                std::thread::sleep(std::time::Duration::from_millis(1));
                self.resident() == pages
            })
        }
    }

    /// A populator waits for its writers' progress, and background filling waits for the
    /// populators; on a kernel without `MADV_POPULATE_WRITE` the test says so and stops.
    #[cfg(target_os = "linux")]
    #[test]
    fn populators_wait_for_progress_and_idle_filling_for_populators() {
        let len = 8 << 20;
        let fresh = |len| Fresh::new(len).expect("a fresh mapping");
        let (a, b, probe) = (fresh(len), fresh(len), fresh(super::page_size()));
        assert_eq!((a.resident(), b.resident()), (0, 0), "fresh mappings are not resident");
        if !super::populate(probe.0, probe.1) {
            assert!(!super::populating_works(), "the cached probe agrees");
            eprintln!("skipped: this kernel refuses MADV_POPULATE_WRITE");
            return;
        }
        assert!(super::populating_works(), "the cached probe agrees");
        let progress = Arc::new(AtomicUsize::new(0));
        let p = super::Populator::start(vec![(5, a.0, len)], progress.clone(), 1);
        let (b_addr, b_len) = (b.0, b.1);
        let filler = std::thread::spawn(move || super::populate_span_when_idle(b_addr, b_len, &|| false));
        std::thread::sleep(std::time::Duration::from_millis(100));
        assert_eq!(a.resident(), 0, "row 5 with lead 1 waits while progress is 0");
        progress.store(3, Ordering::Relaxed);
        std::thread::sleep(std::time::Duration::from_millis(100));
        assert_eq!(a.resident(), 0, "and while it is 3");
        assert!(!filler.is_finished() && b.resident() == 0, "the filler waits while a populator lives");
        progress.store(4, Ordering::Relaxed);
        assert!(a.becomes_resident(), "populated once progress is 4");
        // The populator's thread ends with its last range; the filler goes on.
        filler.join().unwrap();
        assert!(b.becomes_resident(), "filled once no populator lives");
        drop(p);
    }

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

    /// The flags of the mapping holding `addr` (the `VmFlags` line of `/proc/self/smaps`).
    #[cfg(target_os = "linux")]
    fn vm_flags(addr: usize) -> Vec<String> {
        let smaps = std::fs::read_to_string("/proc/self/smaps").expect("/proc/self/smaps");
        let mut inside = false;
        for line in smaps.lines() {
            let range = line.split_whitespace().next().and_then(|r| r.split_once('-'));
            if let Some((lo, hi)) = range
                && let (Ok(lo), Ok(hi)) = (usize::from_str_radix(lo, 16), usize::from_str_radix(hi, 16))
            {
                inside = (lo..hi).contains(&addr);
            } else if inside && let Some(flags) = line.strip_prefix("VmFlags:") {
                return flags.split_whitespace().map(String::from).collect();
            }
        }
        panic!("no mapping holds {addr:#x}");
    }

    /// A large buffer's mapping is marked for huge pages and what it holds is unchanged.
    #[cfg(target_os = "linux")]
    #[test]
    fn large_buffers_are_advised_huge_pages() {
        if !std::path::Path::new("/sys/kernel/mm/transparent_hugepage/enabled").exists() {
            eprintln!("skipped: this kernel has no transparent huge pages");
            return;
        }
        let n = super::HUGE_MIN_BYTES / 8 * 3;
        let mut v: Vec<f64> = bytemuck::allocation::zeroed_vec(n);
        let middle = v.as_ptr() as usize + n * 4;
        if vm_flags(middle).iter().any(|f| f == "hg") {
            eprintln!("skipped: the allocator already asks for huge pages (GLIBC_TUNABLES?)");
            return;
        }
        super::advise_huge(&v);
        assert!(vm_flags(middle).iter().any(|f| f == "hg"), "{:?}", vm_flags(middle));
        assert!(v.iter().all(|&x| x == 0.0));
        v.iter_mut().enumerate().for_each(|(i, x)| *x = i as f64);
        assert!(v.iter().enumerate().all(|(i, &x)| x == i as f64));
    }

    #[test]
    fn physical_memory_is_read_on_linux() {
        if cfg!(target_os = "linux") {
            let b = super::physical_bytes().expect("/proc/meminfo");
            assert!(b > 1 << 26, "{b}");
        }
    }
}
