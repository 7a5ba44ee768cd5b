// Philox4x32-10 counter-based generator, bit-identical to src/rng.rs: every random number is a
// pure function of (seed, chain, iteration, index, purpose), so a chain's stream does not depend
// on which other chains share the dispatch. WGSL has no 64-bit integers: the 32x32 -> 64-bit
// products are assembled from 16-bit halves.

const PHILOX_M0: u32 = 0xD2511F53u;
const PHILOX_M1: u32 = 0xCD9E8D57u;
const PHILOX_W0: u32 = 0x9E3779B9u;
const PHILOX_W1: u32 = 0xBB67AE85u;

// (high, low) 32-bit words of the 64-bit product a * b.
fn mulhilo(a: u32, b: u32) -> vec2<u32> {
    let a_lo = a & 0xffffu;
    let a_hi = a >> 16u;
    let b_lo = b & 0xffffu;
    let b_hi = b >> 16u;
    let ll = a_lo * b_lo;
    let lh = a_lo * b_hi;
    let hl = a_hi * b_lo;
    let hh = a_hi * b_hi;
    let mid = (ll >> 16u) + (lh & 0xffffu) + (hl & 0xffffu);
    let lo = (ll & 0xffffu) | (mid << 16u);
    let hi = hh + (lh >> 16u) + (hl >> 16u) + (mid >> 16u);
    return vec2<u32>(hi, lo);
}

fn philox4x32(counter: vec4<u32>, key: vec2<u32>) -> vec4<u32> {
    var c = counter;
    var k = key;
    for (var r = 0u; r < 10u; r++) {
        let p0 = mulhilo(PHILOX_M0, c.x);
        let p1 = mulhilo(PHILOX_M1, c.z);
        c = vec4<u32>(p1.x ^ c.y ^ k.x, p1.y, p0.x ^ c.w ^ k.y, p0.y);
        k = vec2<u32>(k.x + PHILOX_W0, k.y + PHILOX_W1);
    }
    return c;
}

// The words of ChainRng::words(draw, index, purpose) for chain `chain` and a 64-bit seed given
// as (low, high) words; `draw_hi` is the high word of the 64-bit iteration counter.
fn chain_words(seed: vec2<u32>, chain: u32, draw_lo: u32, draw_hi: u32, index: u32, purpose: u32) -> vec4<u32> {
    return philox4x32(vec4<u32>(chain, draw_lo, index, (draw_hi << 4u) | purpose), seed);
}
