//! The leaf step's vector loops (`chain.rs`): the kicks and the drift of a leapfrog step, the
//! kinetic energy and the U-turn checks' dot products, compiled for the host's vector units.
//! Sums run in [`LANES`] partial sums, element `i` into lane `i mod LANES`, added in one fixed
//! order at the end, so that they vectorise and give the same bits on every target (no fused
//! multiply-adds: Rust does not contract).

use multiversion::multiversion;

/// Partial sums of every reduction.
const LANES: usize = 8;

/// Vectors at least this long run through the versions compiled for the host's vector units;
/// shorter ones through the baseline build of the same code (the same bits), which saves the
/// indirect call where there is nothing to vectorise.
const WIDE: usize = 2 * LANES;

/// The slices `$s, …` as consecutive fixed-size blocks of [`LANES`] elements (`$body` runs per
/// block with each name bound to its block), then the last `n mod LANES` elements (`$tail`
/// runs once with each name bound to that rest). Indexing a fixed-size block needs no bounds
/// checks, so a block's lane loop vectorises. A macro rather than a function taking closures:
/// a closure defined in a multiversioned function is compiled once, for the baseline target,
/// and is not inlined into the vector versions.
macro_rules! blocks {
    ($n:expr, [$($s:ident),*], $body:block, $tail:block) => {{
        let n: usize = $n;
        let full = n / LANES * LANES;
        for base in (0..full).step_by(LANES) {
            $(let $s: &[f64; LANES] = $s[base..base + LANES].try_into().expect("a full block");)*
            $body
        }
        $(let $s = &$s[full..n];)*
        $tail
    }};
}

/// `dst.copy_from_slice(src)`, inline for vectors of at most [`SHORT`] elements: in blocks of
/// four, the last block overlapping the one before it, and element by element under four. A
/// small model's leaf copies a handful of such vectors (checkpoints, the selected sample), and
/// a call to `memcpy` for each costs more than the copy.
#[inline(always)]
pub(crate) fn copy(dst: &mut [f64], src: &[f64]) {
    let n = dst.len();
    if n > SHORT || n != src.len() {
        dst.copy_from_slice(src);
    } else if n >= 4 {
        let four = |d: &mut [f64], s: &[f64], at: usize| {
            let d: &mut [f64; 4] = (&mut d[at..at + 4]).try_into().expect("four elements");
            *d = s[at..at + 4].try_into().expect("four elements");
        };
        // Straight-line blocks: a loop over them would be turned back into a `memcpy` call.
        for at in [0, 4, 8, 12, 16, 20, 24, 28] {
            if at + 4 > n {
                break;
            }
            four(dst, src, at);
        }
        four(dst, src, n - 4);
    } else {
        if n > 0 {
            dst[0] = src[0];
        }
        if n > 1 {
            dst[1] = src[1];
        }
        if n > 2 {
            dst[2] = src[2];
        }
    }
}

/// The longest vector [`copy`] copies inline.
const SHORT: usize = 32;

/// A sum's partial sums, added in one fixed order.
#[inline(always)]
fn total(a: [f64; LANES]) -> f64 {
    ((a[0] + a[1]) + (a[2] + a[3])) + ((a[4] + a[5]) + (a[6] + a[7]))
}

/// A half kick then a drift under a diagonal metric: `p += h/2 · g`, then `q += h · m ∘ p`.
pub(crate) fn kick_drift(p: &mut [f64], q: &mut [f64], g: &[f64], inv_mass: &[f64], h: f64) {
    if p.len() < WIDE { kick_drift_body(p, q, g, inv_mass, h) } else { kick_drift_wide(p, q, g, inv_mass, h) }
}

#[multiversion(targets("x86_64+avx512f+avx512dq+avx512vl+avx2+fma", "x86_64+avx2+fma"))]
fn kick_drift_wide(p: &mut [f64], q: &mut [f64], g: &[f64], inv_mass: &[f64], h: f64) {
    kick_drift_body(p, q, g, inv_mass, h)
}

#[inline(always)]
fn kick_drift_body(p: &mut [f64], q: &mut [f64], g: &[f64], inv_mass: &[f64], h: f64) {
    for (((p, q), g), m) in p.iter_mut().zip(q.iter_mut()).zip(g).zip(inv_mass) {
        *p += 0.5 * h * g;
        *q += h * m * *p;
    }
}

/// The closing half kick `p += h/2 · g`; returns `Σ m_i p_i²` (the new momentum's, twice the
/// kinetic energy under a diagonal metric when `inv_mass` is it) and whether every `g_i` is
/// finite.
pub(crate) fn kick_kinetic(p: &mut [f64], g: &[f64], inv_mass: &[f64], h: f64) -> (f64, bool) {
    if p.len() < WIDE { kick_kinetic_body(p, g, inv_mass, h) } else { kick_kinetic_wide(p, g, inv_mass, h) }
}

#[multiversion(targets("x86_64+avx512f+avx512dq+avx512vl+avx2+fma", "x86_64+avx2+fma"))]
fn kick_kinetic_wide(p: &mut [f64], g: &[f64], inv_mass: &[f64], h: f64) -> (f64, bool) {
    kick_kinetic_body(p, g, inv_mass, h)
}

#[inline(always)]
#[allow(clippy::eq_op)] // `g - g` is the finiteness test (see the comment in the body)
fn kick_kinetic_body(p: &mut [f64], g: &[f64], inv_mass: &[f64], h: f64) -> (f64, bool) {
    let n = p.len();
    let (g, inv_mass) = (&g[..n], &inv_mass[..n]);
    for (p, g) in p.iter_mut().zip(g) {
        *p += 0.5 * h * g;
    }
    let p = &*p;
    // `g - g` is 0 for a finite g and NaN otherwise, so its sum flags any non-finite element.
    let (mut kinetic, mut flag) = ([0.0; LANES], [0.0; LANES]);
    blocks!(
        n,
        [inv_mass, p, g],
        {
            for l in 0..LANES {
                kinetic[l] += inv_mass[l] * p[l] * p[l];
                flag[l] += g[l] - g[l];
            }
        },
        {
            for l in 0..p.len() {
                kinetic[l] += inv_mass[l] * p[l] * p[l];
                flag[l] += g[l] - g[l];
            }
        }
    );
    (total(kinetic), total(flag) == 0.0)
}

/// `Σ w_i x_i y_i`.
pub(crate) fn weighted_dot(w: &[f64], x: &[f64], y: &[f64]) -> f64 {
    if w.len() < WIDE { weighted_dot_body(w, x, y) } else { weighted_dot_wide(w, x, y) }
}

#[multiversion(targets("x86_64+avx512f+avx512dq+avx512vl+avx2+fma", "x86_64+avx2+fma"))]
fn weighted_dot_wide(w: &[f64], x: &[f64], y: &[f64]) -> f64 {
    weighted_dot_body(w, x, y)
}

#[inline(always)]
fn weighted_dot_body(w: &[f64], x: &[f64], y: &[f64]) -> f64 {
    let n = w.len();
    let (x, y) = (&x[..n], &y[..n]);
    let mut d = [0.0; LANES];
    blocks!(
        n,
        [w, x, y],
        {
            for l in 0..LANES {
                d[l] += w[l] * x[l] * y[l];
            }
        },
        {
            for l in 0..w.len() {
                d[l] += w[l] * x[l] * y[l];
            }
        }
    );
    total(d)
}

/// A piece of trajectory as a U-turn check sees it: the (sharp) momentum at its end away from
/// the other piece (`far`), at its end next to it (`near`), and its momentum sum `hi − lo`
/// (two running sums, or a sum and zeros), element by element.
pub(crate) struct Piece<'a> {
    pub far: &'a [f64],
    pub near: &'a [f64],
    pub hi: &'a [f64],
    pub lo: &'a [f64],
}

/// Checks merging adjacent trajectory pieces `a` and `b` with the generalised no-U-turn
/// criterion (`p♯₋·ρ > 0` and `p♯₊·ρ > 0`, weighted by `w`): on the whole, and Stan's two
/// extra checks across the boundary (`ρ_a + p_b,near` and `ρ_b + p_a,near`): six products, in
/// three passes of two.
pub(crate) fn merge_ok(w: &[f64], a: &Piece<'_>, b: &Piece<'_>) -> bool {
    if w.len() < WIDE { merge_ok_body(w, a, b) } else { merge_ok_wide(w, a, b) }
}

#[multiversion(targets("x86_64+avx512f+avx512dq+avx512vl+avx2+fma", "x86_64+avx2+fma"))]
fn merge_ok_wide<'a>(w: &[f64], a: &Piece<'a>, b: &Piece<'a>) -> bool {
    merge_ok_body(w, a, b)
}

#[inline(always)]
fn merge_ok_body(w: &[f64], a: &Piece<'_>, b: &Piece<'_>) -> bool {
    let n = w.len();
    let (af, an, ahi, alo) = (&a.far[..n], &a.near[..n], &a.hi[..n], &a.lo[..n]);
    let (bf, bn, bhi, blo) = (&b.far[..n], &b.near[..n], &b.hi[..n], &b.lo[..n]);
    // Two products per pass (six accumulators in one pass do not vectorise), the whole first:
    // when it fails the check fails, and the other passes are skipped.
    macro_rules! two {
        ([$($s:ident),*], |$l:ident| $terms:expr) => {{
            let (mut x, mut y) = ([0.0; LANES], [0.0; LANES]);
            blocks!(n, [$($s),*], {
                for $l in 0..LANES {
                    let (tx, ty): (f64, f64) = $terms;
                    x[$l] += tx;
                    y[$l] += ty;
                }
            }, {
                for $l in 0..n % LANES {
                    let (tx, ty): (f64, f64) = $terms;
                    x[$l] += tx;
                    y[$l] += ty;
                }
            });
            total(x) > 0.0 && total(y) > 0.0
        }};
    }
    two!([w, af, bf, ahi, alo, bhi, blo], |l| {
        let whole = (ahi[l] - alo[l]) + (bhi[l] - blo[l]);
        (w[l] * bf[l] * whole, w[l] * af[l] * whole)
    }) && two!([w, af, bn, ahi, alo], |l| {
        let to_b = (ahi[l] - alo[l]) + bn[l];
        (w[l] * bn[l] * to_b, w[l] * af[l] * to_b)
    }) && two!([w, bf, an, bhi, blo], |l| {
        let to_a = (bhi[l] - blo[l]) + an[l];
        (w[l] * bf[l] * to_a, w[l] * an[l] * to_a)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The inline copy equals `copy_from_slice` at every length around its blocks.
    #[test]
    fn copy_equals_copy_from_slice() {
        for n in 0..=40 {
            let src: Vec<f64> = (0..n).map(|i| i as f64 + 0.5).collect();
            let mut dst = vec![f64::NAN; n];
            copy(&mut dst, &src);
            assert_eq!(dst, src, "length {n}");
        }
    }

    /// The lane sums equal a plain sum to rounding, at lengths around the lane count.
    #[test]
    fn lane_sums_match_plain_sums() {
        for n in [0, 1, 7, 8, 9, 16, 17, 100] {
            let w: Vec<f64> = (0..n).map(|i| 1.0 + i as f64 / 7.0).collect();
            let x: Vec<f64> = (0..n).map(|i| (i as f64).sin()).collect();
            let y: Vec<f64> = (0..n).map(|i| (i as f64 * 0.3).cos()).collect();
            let plain: f64 = (0..n).map(|i| w[i] * x[i] * y[i]).sum();
            assert!((weighted_dot(&w, &x, &y) - plain).abs() <= 1e-13, "n {n}");
        }
    }

    /// The vector builds and the baseline build give the same bits, whatever the length.
    #[test]
    fn every_build_gives_the_same_bits() {
        for n in [1, 3, 8, 15, 16, 21, 100] {
            let v = |s: f64| -> Vec<f64> {
                (0..n).map(|i| ((i as f64 + s) * 0.37).sin() * 1e3f64.powf((i % 5) as f64 - 2.0)).collect()
            };
            let (w, x, y) = (v(0.0).iter().map(|a| a.abs()).collect::<Vec<_>>(), v(1.0), v(2.0));
            assert_eq!(
                weighted_dot_wide(&w, &x, &y).to_bits(),
                weighted_dot_body(&w, &x, &y).to_bits(),
                "n {n}"
            );
            let (mut p1, mut p2) = (x.clone(), x.clone());
            let (k1, k2) = (kick_kinetic_wide(&mut p1, &y, &w, 0.3), kick_kinetic_body(&mut p2, &y, &w, 0.3));
            assert_eq!((k1.0.to_bits(), k1.1, &p1), (k2.0.to_bits(), k2.1, &p2), "n {n}");
            let (mut q1, mut q2) = (y.clone(), y.clone());
            kick_drift_wide(&mut p1, &mut q1, &x, &w, 0.3);
            kick_drift_body(&mut p2, &mut q2, &x, &w, 0.3);
            assert_eq!((&p1, &q1), (&p2, &q2), "n {n}");
            let (vs, zeros) = ((3..9).map(|s| v(f64::from(s))).collect::<Vec<_>>(), vec![0.0; n]);
            for flip in [1.0, -1.0] {
                let bf: Vec<f64> = vs[4].iter().map(|a| flip * a).collect();
                let a = Piece { far: &vs[0], near: &vs[1], hi: &vs[2], lo: &vs[3] };
                let b = Piece { far: &bf, near: &vs[5], hi: &x, lo: &zeros };
                assert_eq!(merge_ok_wide(&w, &a, &b), merge_ok_body(&w, &a, &b), "n {n}");
            }
        }
    }

    /// The kick's finiteness flag catches an infinite or NaN gradient element anywhere.
    #[test]
    fn kick_flags_non_finite_gradients() {
        for bad in [f64::INFINITY, f64::NEG_INFINITY, f64::NAN] {
            for at in [0, 5, 8, 12] {
                let mut p = vec![1.0; 13];
                let mut g = vec![0.5; 13];
                let m = vec![2.0; 13];
                assert!(kick_kinetic(&mut p.clone(), &g, &m, 0.1).1);
                g[at] = bad;
                assert!(!kick_kinetic(&mut p, &g, &m, 0.1).1, "{bad} at {at}");
            }
        }
        let (mut p, g, m) = (vec![1.0, 2.0, 3.0], vec![2.0, 0.0, -2.0], vec![1.0, 0.5, 2.0]);
        let (k, ok) = kick_kinetic(&mut p, &g, &m, 0.5);
        assert_eq!(p, vec![1.5, 2.0, 2.5]);
        assert!(ok && (k - (2.25 + 2.0 + 12.5)).abs() < 1e-15);
    }

    /// The merge check agrees with the six products computed one by one.
    #[test]
    fn merge_ok_is_the_six_products() {
        let n = 11;
        let v = |s: f64| -> Vec<f64> { (0..n).map(|i| ((i as f64 + s) * 1.7).sin().abs() + 0.2).collect() };
        let (w, af, an, alo, bf, bn, bhi) = (v(9.0), v(0.0), v(1.0), v(3.0), v(4.0), v(5.0), v(6.0));
        // hi above lo: every momentum sum, and so every product, is positive.
        let ahi: Vec<f64> = alo.iter().zip(v(2.0)).map(|(l, x)| l + x).collect();
        let zeros = vec![0.0; n];
        let (a, b) = (
            Piece { far: &af, near: &an, hi: &ahi, lo: &alo },
            Piece { far: &bf, near: &bn, hi: &bhi, lo: &zeros },
        );
        let dot = |x: &[f64], y: &[f64]| -> f64 { (0..n).map(|i| w[i] * x[i] * y[i]).sum() };
        let ra: Vec<f64> = (0..n).map(|i| ahi[i] - alo[i]).collect();
        let whole: Vec<f64> = (0..n).map(|i| ra[i] + bhi[i]).collect();
        let to_b: Vec<f64> = (0..n).map(|i| ra[i] + bn[i]).collect();
        let to_a: Vec<f64> = (0..n).map(|i| bhi[i] + an[i]).collect();
        let want = [
            dot(&bf, &whole),
            dot(&af, &whole),
            dot(&bn, &to_b),
            dot(&af, &to_b),
            dot(&bf, &to_a),
            dot(&an, &to_a),
        ];
        assert!(want.iter().all(|&x| x > 0.0));
        assert!(merge_ok(&w, &a, &b));
        // b's far momentum reversed: the first and fifth products turn negative.
        let neg: Vec<f64> = bf.iter().map(|x| -x).collect();
        assert!(!merge_ok(&w, &a, &Piece { far: &neg, ..b }));
    }
}
