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

#[cfg(test)]
mod tests {
    #[test]
    fn physical_memory_is_read_on_linux() {
        if cfg!(target_os = "linux") {
            let b = super::physical_bytes().expect("/proc/meminfo");
            assert!(b > 1 << 26, "{b}");
        }
    }
}
