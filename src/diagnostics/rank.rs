//! Rank normalisation, chain splitting and folding, as in ArviZ 0.23.4
//! (`_split_chains`, `_z_scale`, `_backtransform_ranks`, `_z_fold`), plus the
//! small numerical helpers they need (inverse normal CDF, `np.median`, `np.var`).

use std::cmp::Ordering;

/// A `(chains × draws)` matrix stored as one `Vec` per chain.
pub type Matrix = Vec<Vec<f64>>;

/// Checks ArviZ's `_not_valid`: at least `min_chains` chains, all chains of the
/// same length, at least 4 draws each and no NaN anywhere (infinities pass, as
/// in ArviZ).
pub(crate) fn is_valid(chains: &[&[f64]], min_chains: usize) -> bool {
    let Some(first) = chains.first() else {
        return false;
    };
    let n = first.len();
    chains.len() >= min_chains.max(1)
        && n >= 4
        && chains.iter().all(|c| c.len() == n && !c.iter().any(|x| x.is_nan()))
}

/// Copies borrowed chains into an owned [`Matrix`].
pub(crate) fn to_matrix(chains: &[&[f64]]) -> Matrix {
    chains.iter().map(|c| c.to_vec()).collect()
}

/// Applies `f` to every element of a matrix.
pub(crate) fn map_matrix(m: &[Vec<f64>], f: impl Fn(f64) -> f64) -> Matrix {
    m.iter().map(|c| c.iter().map(|&x| f(x)).collect()).collect()
}

/// All elements of a matrix in row-major order.
pub(crate) fn flatten(m: &[Vec<f64>]) -> Vec<f64> {
    m.iter().flatten().copied().collect()
}

/// Splits every chain into halves, ArviZ-style: the result has `2 × chains`
/// rows, all first halves (in chain order) followed by all second halves.
/// With an odd number of draws the middle draw is dropped
/// (`ary[:, :half]` and `ary[:, -half:]`).
pub fn split_chains(chains: &[Vec<f64>]) -> Matrix {
    let n = chains.first().map_or(0, Vec::len);
    let half = n / 2;
    let firsts = chains.iter().map(|c| c[..half].to_vec());
    let seconds = chains.iter().map(|c| c[c.len() - half..].to_vec());
    firsts.chain(seconds).collect()
}

/// Ranks with ties given their average rank (`scipy.stats.rankdata(method="average")`).
/// Ranks start at 1. NaNs must be filtered out by the caller.
pub fn rankdata_average(values: &[f64]) -> Vec<f64> {
    let mut idx: Vec<usize> = (0..values.len()).collect();
    idx.sort_by(|&a, &b| values[a].partial_cmp(&values[b]).unwrap_or(Ordering::Equal));
    let mut ranks = vec![0.0; values.len()];
    let mut start = 0;
    while start < idx.len() {
        let mut end = start + 1;
        while end < idx.len() && values[idx[end]] == values[idx[start]] {
            end += 1;
        }
        // ranks start+1 ..= end share their mean
        let avg = 0.5 * ((start + 1 + end) as f64);
        for &i in &idx[start..end] {
            ranks[i] = avg;
        }
        start = end;
    }
    ranks
}

/// Rank-normalises a matrix (ArviZ `_z_scale`): ranks over all elements
/// pooled, offset `(r - 3/8) / (S - 2·3/8 + 1)` (Blom, 1958) with `S` the
/// number of elements, then mapped through the standard normal quantile.
pub fn z_scale(m: &[Vec<f64>]) -> Matrix {
    let flat = flatten(m);
    let ranks = rankdata_average(&flat);
    let c = 3.0 / 8.0;
    let denom = flat.len() as f64 - 2.0 * c + 1.0;
    let mut it = ranks.into_iter().map(|r| norm_ppf((r - c) / denom));
    m.iter().map(|row| row.iter().map(|_| it.next().unwrap_or(f64::NAN)).collect()).collect()
}

/// Folds a matrix around the median of all its elements: `|x - median|`.
pub fn fold(m: &[Vec<f64>]) -> Matrix {
    let med = median(&flatten(m));
    map_matrix(m, |x| (x - med).abs())
}

/// `np.median` of a slice (mean of the two middle values for even length);
/// NaN for an empty slice.
pub fn median(values: &[f64]) -> f64 {
    if values.is_empty() {
        return f64::NAN;
    }
    let mut s = values.to_vec();
    s.sort_by(|a, b| a.partial_cmp(b).unwrap_or(Ordering::Equal));
    let n = s.len();
    if n % 2 == 1 { s[n / 2] } else { (s[n / 2 - 1] + s[n / 2]) / 2.0 }
}

/// Arithmetic mean (`np.mean`); NaN for an empty slice.
pub(crate) fn mean(values: &[f64]) -> f64 {
    values.iter().sum::<f64>() / values.len() as f64
}

/// Two-pass variance with `ddof` degrees of freedom removed (`np.var`); NaN when there are
/// no more values than `ddof` (NumPy warns and returns NaN or ±inf there).
pub(crate) fn var(values: &[f64], ddof: f64) -> f64 {
    if values.len() as f64 <= ddof {
        return f64::NAN;
    }
    let m = mean(values);
    let ss: f64 = values.iter().map(|x| (x - m) * (x - m)).sum();
    ss / (values.len() as f64 - ddof)
}

/// Inverse of the standard normal CDF (Wichura's AS 241 `PPND16`, relative
/// accuracy about 1e-16). Returns ±∞ at 0 and 1 and NaN outside `[0, 1]`.
#[allow(clippy::excessive_precision)] // published AS 241 coefficients, kept verbatim
pub fn norm_ppf(p: f64) -> f64 {
    if p.is_nan() || !(0.0..=1.0).contains(&p) {
        return f64::NAN;
    }
    if p == 0.0 {
        return f64::NEG_INFINITY;
    }
    if p == 1.0 {
        return f64::INFINITY;
    }
    let q = p - 0.5;
    if q.abs() <= 0.425 {
        let r = 0.180625 - q * q;
        let num = poly(
            r,
            &[
                3.387_132_872_796_366_608,
                1.331_416_678_917_843_774_5e2,
                1.971_590_950_306_551_442_7e3,
                1.373_169_376_550_946_112_5e4,
                4.592_195_393_154_987_145_7e4,
                6.726_577_092_700_870_085_3e4,
                3.343_057_558_358_812_810_5e4,
                2.509_080_928_730_122_672_7e3,
            ],
        );
        let den = poly(
            r,
            &[
                1.0,
                4.231_333_070_160_091_125_2e1,
                6.871_870_074_920_579_083e2,
                5.394_196_021_424_751_107_7e3,
                2.121_379_430_158_659_586_7e4,
                3.930_789_580_009_271_061e4,
                2.872_908_573_572_194_267_4e4,
                5.226_495_278_852_854_561e3,
            ],
        );
        return q * num / den;
    }
    let r = (-(if q < 0.0 { p } else { 1.0 - p }).ln()).sqrt();
    let val = if r <= 5.0 {
        let r = r - 1.6;
        poly(
            r,
            &[
                1.423_437_110_749_683_577_34,
                4.630_337_846_156_545_295_9,
                5.769_497_221_460_691_405_5,
                3.647_848_324_763_204_605_04,
                1.270_458_252_452_368_382_58,
                2.417_807_251_774_506_117_7e-1,
                2.272_384_498_926_918_458_33e-2,
                7.745_450_142_783_414_076_4e-4,
            ],
        ) / poly(
            r,
            &[
                1.0,
                2.053_191_626_637_758_821_87,
                1.676_384_830_183_803_849_4,
                6.897_673_349_851_000_045_5e-1,
                1.481_039_764_274_800_745_9e-1,
                1.519_866_656_361_645_719_66e-2,
                5.475_938_084_995_344_946e-4,
                1.050_750_071_644_416_843_24e-9,
            ],
        )
    } else {
        let r = r - 5.0;
        poly(
            r,
            &[
                6.657_904_643_501_103_777_2,
                5.463_784_911_164_114_369_9,
                1.784_826_539_917_291_335_8,
                2.965_605_718_285_048_912_3e-1,
                2.653_218_952_657_612_309_3e-2,
                1.242_660_947_388_078_438_6e-3,
                2.711_555_568_743_487_578_15e-5,
                2.010_334_399_292_288_132_65e-7,
            ],
        ) / poly(
            r,
            &[
                1.0,
                5.998_322_065_558_879_376_9e-1,
                1.369_298_809_227_358_053_1e-1,
                1.487_536_129_085_061_485_25e-2,
                7.868_691_311_456_132_591e-4,
                1.846_318_317_510_054_681_8e-5,
                1.421_511_758_316_445_888_7e-7,
                2.044_263_103_389_939_785_64e-15,
            ],
        )
    };
    if q < 0.0 { -val } else { val }
}

/// Horner evaluation of `c[0] + c[1] x + … + c[k] x^k`.
fn poly(x: f64, c: &[f64]) -> f64 {
    c.iter().rev().fold(0.0, |acc, &ci| acc * x + ci)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ppf_matches_scipy_ndtri() {
        // (p, scipy.special.ndtri(p)) from SciPy 1.17.1
        let cases = [
            (1e-300, -37.0470962993612),
            (1e-20, -9.262340089798409),
            (1e-10, -6.361340902404056),
            (0.001, -3.090232306167813),
            (0.02425, -1.972961051311885),
            (0.075, -1.4395314709384563),
            (0.3, -0.5244005127080409),
            (0.6, 0.2533471031357997),
            (0.924, 1.432502720825812),
            (0.975, 1.959963984540054),
            (0.999, 3.090232306167813),
            (0.999999999999, 7.0344869100478356),
        ];
        for (p, want) in cases {
            let got = norm_ppf(p);
            assert!(((got - want) / want).abs() < 1e-14, "p={p}: {got} vs {want}");
        }
        assert_eq!(norm_ppf(0.5), 0.0);
        assert!(norm_ppf(-0.1).is_nan() && norm_ppf(f64::NAN).is_nan());
        assert_eq!(norm_ppf(0.0), f64::NEG_INFINITY);
    }

    #[test]
    fn ranks_average_ties() {
        let r = rankdata_average(&[3.0, 1.0, 3.0, 2.0, -0.0, 0.0]);
        assert_eq!(r, vec![5.5, 3.0, 5.5, 4.0, 1.5, 1.5]);
    }

    #[test]
    fn split_drops_middle_draw() {
        let m = split_chains(&[vec![1.0, 2.0, 3.0, 4.0, 5.0], vec![6.0, 7.0, 8.0, 9.0, 10.0]]);
        assert_eq!(m, vec![vec![1.0, 2.0], vec![6.0, 7.0], vec![4.0, 5.0], vec![9.0, 10.0]]);
    }

    #[test]
    fn median_even_and_odd() {
        assert_eq!(median(&[3.0, 1.0, 2.0]), 2.0);
        assert_eq!(median(&[4.0, 1.0, 2.0, 3.0]), 2.5);
        assert!(median(&[]).is_nan());
    }
}
