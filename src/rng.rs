//! Counter-based random numbers (Philox4x32-10): every number is a pure function of
//! `(seed, chain, draw, index, purpose)`, so traces do not depend on thread count or on which
//! chains run together. The same generator is meant to be mirrored bit for bit in WGSL.

const M0: u32 = 0xD251_1F53;
const M1: u32 = 0xCD9E_8D57;
const W0: u32 = 0x9E37_79B9;
const W1: u32 = 0xBB67_AE85;

/// What a random number is used for; part of the counter so streams never overlap.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u32)]
pub enum Purpose {
    /// Momentum refresh at the start of a draw.
    Momentum = 0,
    /// Uniform progressive choice of a leaf inside a subtree.
    Leaf = 1,
    /// Biased progressive choice of a subtree at the top level.
    Tree = 2,
    /// Direction of each doubling.
    Direction = 3,
    /// Random initial points.
    Init = 4,
    /// Momentum for the step-size search probes.
    Probe = 5,
    /// Standard normal draws of a Laplace approximation
    /// ([`Optimizer::laplace`](crate::optimize::Optimizer::laplace)).
    Laplace = 6,
    /// Standard normal draws of Pathfinder's chosen approximations
    /// ([`Optimizer::pathfinder`](crate::optimize::Optimizer::pathfinder)).
    Pathfinder = 7,
    /// Standard normal draws of Pathfinder's ELBO estimates.
    PathfinderElbo = 8,
    /// Uniforms of Pathfinder's importance resampling.
    Resample = 9,
    /// Standard normal draws of ADVI's gradient estimates
    /// ([`Optimizer::advi`](crate::optimize::Optimizer::advi)).
    AdviGrad = 10,
    /// Standard normal draws of ADVI's ELBO estimates.
    AdviElbo = 11,
    /// Standard normal draws from ADVI's fitted approximation.
    Advi = 12,
    /// A sequential Monte Carlo move ([`sample_smc`](crate::smc::sample_smc)): the
    /// proposal's standard normals (index `k` for pair `k`) and the acceptance uniform
    /// (index `u32::MAX`) of one particle at one step.
    SmcMove = 13,
    /// The uniform of a sequential Monte Carlo stage's systematic resampling (index 0), and
    /// the seeds of a chain's batches of prior draws (index 1).
    SmcResample = 14,
}

/// Philox4x32-10 block function.
#[inline(always)]
pub fn philox4x32(counter: [u32; 4], key: [u32; 2]) -> [u32; 4] {
    let (mut c, mut k) = (counter, key);
    for _ in 0..10 {
        let p0 = (M0 as u64) * (c[0] as u64);
        let p1 = (M1 as u64) * (c[2] as u64);
        c = [((p1 >> 32) as u32) ^ c[1] ^ k[0], p1 as u32, ((p0 >> 32) as u32) ^ c[3] ^ k[1], p0 as u32];
        k = [k[0].wrapping_add(W0), k[1].wrapping_add(W1)];
    }
    c
}

/// A stream key: the run's seed and one chain.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ChainRng {
    key: [u32; 2],
    chain: u32,
}

impl ChainRng {
    /// The stream of `chain` under `seed`. The counter holds 32 bits of chain id, so ids must
    /// be below 2³² (`Sampler` refuses more chains): chain 2³² would repeat chain 0's stream.
    pub fn new(seed: u64, chain: usize) -> ChainRng {
        ChainRng { key: [seed as u32, (seed >> 32) as u32], chain: chain as u32 }
    }

    /// Four raw words for `(draw, index, purpose)`.
    pub fn words(&self, draw: u64, index: u32, purpose: Purpose) -> [u32; 4] {
        let hi = ((draw >> 32) as u32) << 4 | purpose as u32;
        philox4x32([self.chain, draw as u32, index, hi], self.key)
    }

    /// Two uniforms in `[0, 1)` with 53 random bits each.
    pub fn uniforms(&self, draw: u64, index: u32, purpose: Purpose) -> [f64; 2] {
        let w = self.words(draw, index, purpose);
        [to_unit(w[0], w[1]), to_unit(w[2], w[3])]
    }

    /// One uniform in `[0, 1)`.
    pub fn uniform(&self, draw: u64, index: u32, purpose: Purpose) -> f64 {
        self.uniforms(draw, index, purpose)[0]
    }

    /// Two independent standard normals (Box–Muller, with the branch-free `ln`, `cos` and `sin`
    /// of [`crate::model::fastmath`]).
    pub fn normals(&self, draw: u64, index: u32, purpose: Purpose) -> [f64; 2] {
        let [w0, w1, w2, w3] = self.words(draw, index, purpose);
        box_muller(to_unit(w0, w1), to_unit(w2, w3))
    }

    /// Fills `out` with standard normals: element `2k + j` is `normals(draw, k, purpose)[j]`,
    /// bit for bit. Whole blocks of `LANES` (8) pairs are generated together, each step of
    /// Philox and of the transform across the lanes, so that the loops vectorise; the pairs
    /// after the last whole block one by one, or, from `PAD_FROM` (3) whole pairs on, as one
    /// more block whose values beyond `out` are dropped.
    pub fn fill_normals(&self, draw: u64, purpose: Purpose, out: &mut [f64]) {
        let whole = out.len() / (2 * LANES) * (2 * LANES);
        let (blocks, rest) = out.split_at_mut(whole);
        if !blocks.is_empty() {
            fill_normals_lanes(self, draw, purpose, 0, blocks);
        }
        if rest.len() >= 2 * PAD_FROM {
            // A whole block into scratch, of which the rest's pairs are the first.
            let mut block = [0.0; 2 * LANES];
            fill_normals_lanes(self, draw, purpose, whole / 2, &mut block);
            rest.copy_from_slice(&block[..rest.len()]);
            return;
        }
        for (k, pair) in rest.chunks_mut(2).enumerate() {
            let z = self.normals(draw, (whole / 2 + k) as u32, purpose);
            pair.copy_from_slice(&z[..pair.len()]);
        }
    }
}

/// Pairs of normals [`ChainRng::fill_normals`] computes together.
const LANES: usize = 8;
/// From this many pairs after the last whole block on, a whole block is computed and the
/// pairs beyond the vector discarded: cheaper than the pairs one by one (a 10-dimensional
/// momentum: five pairs).
const PAD_FROM: usize = 3;

/// [`ChainRng::fill_normals`]'s whole blocks (`out.len()` a multiple of `2 · LANES`), the
/// first from pair `first` on.
#[multiversion::multiversion(targets("x86_64+avx512f+avx512dq+avx512vl+avx2+fma", "x86_64+avx2+fma"))]
fn fill_normals_lanes(rng: &ChainRng, draw: u64, purpose: Purpose, first: usize, out: &mut [f64]) {
    let hi = ((draw >> 32) as u32) << 4 | purpose as u32;
    for (b, block) in out.chunks_exact_mut(2 * LANES).enumerate() {
        let base = (first + b * LANES) as u32;
        // Lane by lane, Philox's ten rounds unrolled: the lane loop is the one that vectorises.
        let mut w = [[0u32; 4]; LANES];
        for (l, w) in w.iter_mut().enumerate() {
            *w = philox4x32([rng.chain, draw as u32, base.wrapping_add(l as u32), hi], rng.key);
        }
        let mut z = [0.0; 2 * LANES];
        for l in 0..LANES {
            let [a, b] = box_muller(to_unit(w[l][0], w[l][1]), to_unit(w[l][2], w[l][3]));
            (z[2 * l], z[2 * l + 1]) = (a, b);
        }
        block.copy_from_slice(&z);
    }
}

/// Two standard normals from two uniforms in `[0, 1)`.
#[inline(always)]
fn box_muller(u1: f64, u2: f64) -> [f64; 2] {
    let r = (-2.0 * crate::model::fastmath::ln(1.0 - u1)).sqrt();
    let (cos, sin) = crate::model::fastmath::cos_sin_turn(u2);
    [r * cos, r * sin]
}

/// `(a >> 5)·2²⁶ + (b >> 6)`, 53 random bits, over 2⁵³ (the halves convert exactly from
/// `i32`, which vector units do, and their sum below 2⁵³ is exact).
#[inline(always)]
fn to_unit(a: u32, b: u32) -> f64 {
    (f64::from((a >> 5) as i32) * 67_108_864.0 + f64::from((b >> 6) as i32)) * (1.0 / 9_007_199_254_740_992.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn philox_known_answer() {
        // Random123 known-answer test vectors for philox4x32-10.
        assert_eq!(philox4x32([0, 0, 0, 0], [0, 0]), [0x6627_e8d5, 0xe169_c58d, 0xbc57_ac4c, 0x9b00_dbd8]);
        assert_eq!(
            philox4x32([0xffff_ffff; 4], [0xffff_ffff; 2]),
            [0x408f_276d, 0x41c8_3b0e, 0xa20b_c7c6, 0x6d54_51fd]
        );
        assert_eq!(
            philox4x32([0x243f_6a88, 0x85a3_08d3, 0x1319_8a2e, 0x0370_7344], [0xa409_3822, 0x299f_31d0]),
            [0xd16c_fe09, 0x94fd_cceb, 0x5001_e420, 0x2412_6ea1]
        );
    }

    /// The lane-wise fill gives each pair's `normals`, bit for bit, at every length and
    /// offset of a block; and the 53-bit uniforms are those of the integer formula.
    #[test]
    fn fill_normals_is_normals_pair_by_pair() {
        let r = ChainRng::new(0x1234_5678_9abc, 77);
        for len in [0, 1, 2, 3, 4, 5, 6, 7, 10, 15, 16, 17, 21, 22, 33, 100] {
            let mut v = vec![f64::NAN; len];
            r.fill_normals(1 << 33 | 5, Purpose::Probe, &mut v);
            for (k, pair) in v.chunks(2).enumerate() {
                let z = r.normals(1 << 33 | 5, k as u32, Purpose::Probe);
                assert_eq!(pair, &z[..pair.len()], "len {len} pair {k}");
            }
        }
        for (a, b) in [(0, 0), (u32::MAX, u32::MAX), (0x8000_0000, 0x40), (12345, 678_910)] {
            let exact = (((a >> 5) as u64) << 26 | (b >> 6) as u64) as f64 / 2f64.powi(53);
            assert_eq!(to_unit(a, b), exact);
        }
    }

    #[test]
    fn normals_have_unit_moments() {
        let r = ChainRng::new(42, 3);
        let mut v = vec![0.0; 200_000];
        r.fill_normals(0, Purpose::Momentum, &mut v);
        let n = v.len() as f64;
        let mean = v.iter().sum::<f64>() / n;
        let var = v.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / n;
        assert!(mean.abs() < 5.0 / n.sqrt(), "mean {mean}");
        assert!((var - 1.0).abs() < 5.0 * (2.0 / n).sqrt(), "var {var}");
    }
}
