//! The WGSL Philox4x32-10 gives the same words as `exmc::rng` for the same (seed, chain,
//! iteration, index, purpose): the basis of bit-identical chains on every backend.

mod common;

use exmc::backend::gpu::module::RNG;
use exmc::rng::{ChainRng, Purpose, philox4x32};

#[test]
fn wgsl_philox_matches_rust_bit_for_bit() {
    let Some(gpu) = common::gpu("wgsl_philox_matches_rust_bit_for_bit") else { return };
    let n = 4096u32;
    let seed: u64 = 0x0123_4567_89ab_cdef;
    let src = format!(
        "{RNG}\n@group(0) @binding(0) var<storage, read_write> out: array<u32>;\n\
         @compute @workgroup_size(64)\n\
         fn main(@builtin(global_invocation_id) id: vec3<u32>) {{\n\
             let t = id.x;\n    if (t >= {n}u) {{ return; }}\n\
             let w = chain_words(vec2<u32>({lo}u, {hi}u), t % 97u, t * 7919u, t / 2048u, t * 31u, t % 6u);\n\
             let k = philox4x32(vec4<u32>(t, ~t, t * 2654435761u, 0xffffffffu - t), vec2<u32>(t ^ 0xdeadbeefu, t));\n\
             out[8u * t] = w.x; out[8u * t + 1u] = w.y; out[8u * t + 2u] = w.z; out[8u * t + 3u] = w.w;\n\
             out[8u * t + 4u] = k.x; out[8u * t + 5u] = k.y; out[8u * t + 6u] = k.z; out[8u * t + 7u] = k.w;\n}}\n",
        lo = seed as u32,
        hi = (seed >> 32) as u32,
    );
    let words = gpu.run_words(&src, "main", n, 8).unwrap();
    let purposes =
        [Purpose::Momentum, Purpose::Leaf, Purpose::Tree, Purpose::Direction, Purpose::Init, Purpose::Probe];
    for t in 0..n {
        let draw = (u64::from(t / 2048) << 32) | u64::from(t.wrapping_mul(7919));
        let rng = ChainRng::new(seed, (t % 97) as usize);
        let want = rng.words(draw, t.wrapping_mul(31), purposes[(t % 6) as usize]);
        let at = 8 * t as usize;
        assert_eq!(words[at..at + 4], want, "chain_words at t = {t}");
        let k = philox4x32([t, !t, t.wrapping_mul(2_654_435_761), u32::MAX - t], [t ^ 0xdead_beef, t]);
        assert_eq!(words[at + 4..at + 8], k, "philox4x32 at t = {t}");
    }
}
