//! Effective sample size, replicating ArviZ 0.23.4's `_ess` (FFT autocovariance,
//! Geyer's initial positive and initial monotone sequences) and the `ess`
//! methods built on it.

use rustfft::{FftPlanner, num_complex::Complex};

use super::rank::{Matrix, flatten, fold, is_valid, map_matrix, mean, split_chains, to_matrix};
use super::rank::{var, z_scale};

/// Smallest `2^a 3^b 5^c ≥ n` (`scipy.fftpack.next_fast_len`), at least 1.
pub(crate) fn next_fast_len(n: usize) -> usize {
    let smooth = |mut k: usize| {
        for f in [2, 3, 5] {
            while k.is_multiple_of(f) {
                k /= f;
            }
        }
        k == 1
    };
    (n.max(1)..).find(|&k| smooth(k)).unwrap_or(n)
}

/// Biased autocovariance `acov[t] = Σ (x_i - x̄)(x_{i+t} - x̄) / n` for every lag
/// `t < n`, computed with a zero-padded FFT of length `next_fast_len(2n)`
/// exactly as ArviZ's `autocov`.
pub fn autocov(chain: &[f64]) -> Vec<f64> {
    autocov_with(&mut FftPlanner::new(), chain)
}

fn autocov_with(planner: &mut FftPlanner<f64>, chain: &[f64]) -> Vec<f64> {
    let n = chain.len();
    if n == 0 {
        return Vec::new();
    }
    let m = next_fast_len(2 * n);
    let mu = mean(chain);
    let mut buf: Vec<Complex<f64>> = chain
        .iter()
        .map(|&x| Complex::new(x - mu, 0.0))
        .chain(std::iter::repeat(Complex::new(0.0, 0.0)))
        .take(m)
        .collect();
    planner.plan_fft_forward(m).process(&mut buf);
    for z in buf.iter_mut() {
        *z = Complex::new(z.norm_sqr(), 0.0);
    }
    planner.plan_fft_inverse(m).process(&mut buf);
    buf[..n].iter().map(|z| z.re / m as f64 / n as f64).collect()
}

/// ArviZ `_ess` on an already prepared `(chains × draws)` matrix.
///
/// Quirks kept: an (almost) constant matrix (`max - min < 1e-15`) returns the
/// number of elements; `tau` is floored at `1 / log10(chains · draws)`.
pub(crate) fn ess_matrix(m: &[Vec<f64>]) -> f64 {
    let n_chain = m.len();
    let n_draw = m.first().map_or(0, Vec::len);
    let flat = flatten(m);
    if n_draw < 2 || flat.iter().any(|x| x.is_nan()) {
        return f64::NAN;
    }
    let max = flat.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let min = flat.iter().copied().fold(f64::INFINITY, f64::min);
    if max - min < 1e-15 {
        return flat.len() as f64;
    }
    let mut planner = FftPlanner::new();
    let acov: Matrix = m.iter().map(|c| autocov_with(&mut planner, c)).collect();
    let acov_mean = |t: usize| acov.iter().map(|a| a[t]).sum::<f64>() / n_chain as f64;
    let chain_mean: Vec<f64> = m.iter().map(|c| mean(c)).collect();
    let n = n_draw as f64;
    let mean_var = acov_mean(0) * n / (n - 1.0);
    let mut var_plus = mean_var * (n - 1.0) / n;
    if n_chain > 1 {
        var_plus += var(&chain_mean, 1.0);
    }
    let rho_at = |t: usize| 1.0 - (mean_var - acov_mean(t)) / var_plus;

    let mut rho = vec![0.0; n_draw];
    let mut rho_even = 1.0;
    rho[0] = rho_even;
    let mut rho_odd = rho_at(1);
    rho[1] = rho_odd;

    // Geyer's initial positive sequence
    let mut t = 1;
    while t + 3 < n_draw && rho_even + rho_odd > 0.0 {
        rho_even = rho_at(t + 1);
        rho_odd = rho_at(t + 2);
        if rho_even + rho_odd >= 0.0 {
            rho[t + 1] = rho_even;
            rho[t + 2] = rho_odd;
        }
        t += 2;
    }
    // max_t = t - 2 may be -1 (loop never ran); keep indices as `max_t + 1`.
    let max_t1 = t - 1;
    if rho_even > 0.0 {
        rho[max_t1] = rho_even;
    }
    // Geyer's initial monotone sequence
    let mut t = 1;
    while t + 3 <= max_t1 {
        if rho[t + 1] + rho[t + 2] > rho[t - 1] + rho[t] {
            rho[t + 1] = (rho[t - 1] + rho[t]) / 2.0;
            rho[t + 2] = rho[t + 1];
        }
        t += 2;
    }
    let size = (n_chain * n_draw) as f64;
    let tail: f64 = rho[max_t1..(max_t1 + 1).min(n_draw)].iter().sum();
    let tau = -1.0 + 2.0 * rho[..max_t1].iter().sum::<f64>() + tail;
    let floor = 1.0 / size.log10();
    let tau = if floor > tau { floor } else { tau }; // Python's max(tau, floor)
    if rho.iter().any(|r| r.is_nan()) {
        return f64::NAN;
    }
    size / tau
}

/// Type-7 quantile of sorted values, with SciPy `mquantiles(alphap=1, betap=1)`
/// arithmetic (ArviZ's `_quantile`).
pub(crate) fn quantile_sorted(sorted: &[f64], p: f64) -> f64 {
    let n = sorted.len();
    if n == 0 || p.is_nan() {
        return f64::NAN;
    }
    if n == 1 {
        return sorted[0];
    }
    // m = alphap + p (1 - alphap - betap) with alphap = betap = 1; p * -1.0 = -p
    // exactly, so this is bit-identical to SciPy's expression.
    let m = 1.0 - p;
    let aleph = n as f64 * p + m;
    let k = aleph.clamp(1.0, (n - 1) as f64).floor();
    let gamma = (aleph - k).clamp(0.0, 1.0);
    let k = k as usize;
    (1.0 - gamma) * sorted[k - 1] + gamma * sorted[k]
}

/// Sorted copy of all draws.
pub(crate) fn sorted_flat(m: &[Vec<f64>]) -> Vec<f64> {
    let mut s = flatten(m);
    s.sort_by(|a, b| a.total_cmp(b));
    s
}

/// Indicator matrix `x <= q`.
pub(crate) fn indicator(m: &[Vec<f64>], q: f64) -> Matrix {
    map_matrix(m, |x| if x <= q { 1.0 } else { 0.0 })
}

/// Python's `min(a, b)`: `a` unless `b < a` (NaN handling included).
pub(crate) fn py_min(a: f64, b: f64) -> f64 {
    if b < a { b } else { a }
}

/// Bulk ESS (`az.ess(method="bulk")`): ESS of the rank-normalised split chains.
/// NaN for fewer than 4 draws, ragged or empty input, or any NaN.
pub fn ess_bulk(chains: &[&[f64]]) -> f64 {
    if !is_valid(chains, 1) {
        return f64::NAN;
    }
    ess_matrix(&z_scale(&split_chains(&to_matrix(chains))))
}

/// Tail ESS (`az.ess(method="tail")`): the minimum of the quantile ESS at 5 % and 95 %.
pub fn ess_tail(chains: &[&[f64]]) -> f64 {
    py_min(ess_quantile(chains, 0.05), ess_quantile(chains, 0.95))
}

/// ESS of the indicator `x <= q_prob` (`az.ess(method="quantile", prob=prob)`),
/// where `q_prob` is the type-7 quantile of the pooled draws.
pub fn ess_quantile(chains: &[&[f64]], prob: f64) -> f64 {
    if !is_valid(chains, 1) {
        return f64::NAN;
    }
    let m = to_matrix(chains);
    let q = quantile_sorted(&sorted_flat(&m), prob);
    ess_matrix(&split_chains(&indicator(&m, q)))
}

/// Median ESS (`az.ess(method="median")`), i.e. `ess_quantile(chains, 0.5)`.
pub fn ess_median(chains: &[&[f64]]) -> f64 {
    ess_quantile(chains, 0.5)
}

/// ESS for the mean (`az.ess(method="mean")`): ESS of the raw split chains.
pub fn ess_mean(chains: &[&[f64]]) -> f64 {
    if !is_valid(chains, 1) {
        return f64::NAN;
    }
    ess_matrix(&split_chains(&to_matrix(chains)))
}

/// ESS for the standard deviation (`az.ess(method="sd")`): ESS of the split
/// chains of `(x - mean)^2`, the mean taken over all draws.
pub fn ess_sd(chains: &[&[f64]]) -> f64 {
    if !is_valid(chains, 1) {
        return f64::NAN;
    }
    let m = to_matrix(chains);
    let mu = mean(&flatten(&m));
    ess_matrix(&split_chains(&map_matrix(&m, |x| (x - mu) * (x - mu))))
}

/// Folded ESS (`az.ess(method="folded")`): split, fold around the median,
/// rank-normalise.
pub fn ess_folded(chains: &[&[f64]]) -> f64 {
    if !is_valid(chains, 1) {
        return f64::NAN;
    }
    ess_matrix(&z_scale(&fold(&split_chains(&to_matrix(chains)))))
}

/// `az.ess(method="z_scale")`: identical computation to [`ess_bulk`].
pub fn ess_z_scale(chains: &[&[f64]]) -> f64 {
    ess_bulk(chains)
}

/// Local ESS (`az.ess(method="local", prob=(lo, hi))`): ESS of the indicator that a draw
/// lies between the pooled draws' `lo` and `hi` quantiles (both included), on split chains —
/// how well the chains explore that slice of the distribution. ArviZ's local ESS plot draws
/// it for twenty slices of width 0.05.
pub fn ess_local(chains: &[&[f64]], lo: f64, hi: f64) -> f64 {
    if !is_valid(chains, 1) || !(0.0..=1.0).contains(&lo) || !(lo..=1.0).contains(&hi) {
        return f64::NAN;
    }
    let m = to_matrix(chains);
    let sorted = sorted_flat(&m);
    let (a, b) = (quantile_sorted(&sorted, lo), quantile_sorted(&sorted, hi));
    ess_matrix(&split_chains(&map_matrix(&m, |x| if a <= x && x <= b { 1.0 } else { 0.0 })))
}

/// `az.ess(method="identity")`: ESS of the raw chains, not split.
pub fn ess_identity(chains: &[&[f64]]) -> f64 {
    if !is_valid(chains, 1) {
        return f64::NAN;
    }
    ess_matrix(&to_matrix(chains))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fast_len_is_five_smooth() {
        assert_eq!(next_fast_len(14), 15);
        assert_eq!(next_fast_len(1554), 1600);
        assert_eq!(next_fast_len(2000), 2000);
        assert_eq!(next_fast_len(17), 18);
    }

    #[test]
    fn autocov_matches_direct_sum() {
        let x = [1.0, 3.0, -2.0, 0.5, 4.0, 2.5, -1.0];
        let mu = x.iter().sum::<f64>() / 7.0;
        let acov = autocov(&x);
        for (t, a) in acov.iter().enumerate() {
            let want: f64 = (0..7 - t).map(|i| (x[i] - mu) * (x[i + t] - mu)).sum::<f64>() / 7.0;
            assert!((a - want).abs() < 1e-12, "lag {t}");
        }
    }

    #[test]
    fn quantile_type7() {
        let s = [1.0, 2.0, 3.0, 4.0];
        assert_eq!(quantile_sorted(&s, 0.5), 2.5);
        assert_eq!(quantile_sorted(&s, 0.0), 1.0);
        assert_eq!(quantile_sorted(&s, 1.0), 4.0);
    }

    #[test]
    fn constant_input_returns_size() {
        let c = [2.0; 10];
        assert_eq!(ess_mean(&[&c, &c]), 20.0);
        assert!(ess_bulk(&[&c[..3]]).is_nan());
    }
}
