// A hand-written fused leapfrog kernel for eight schools (non-centred), the issue's yardstick
// for the NUTS step kernel: one invocation per chain, no NUTS bookkeeping, 4 bytes read back per
// chain. State is a structure of arrays of vec4s (q, p, g: 3 vec4s each, 10 coordinates + 2
// padding), the layout the step kernel uses. The host replaces K with the chain count.
@group(0) @binding(0) var<storage, read_write> st: array<vec4<f32>>;
@group(0) @binding(1) var<storage, read_write> energy: array<f32>;
const K: u32 = KKu;
const Y = array<f32, 8>(28.0, 8.0, -3.0, 7.0, -1.0, 1.0, 18.0, 12.0);
const SD = array<f32, 8>(15.0, 10.0, 16.0, 11.0, 9.0, 11.0, 10.0, 18.0);
const H: f32 = 0.1;

@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) id: vec3<u32>) {
    let c = id.x;
    if (c >= K) { return; }
    var q: array<f32, 12>;
    var p: array<f32, 12>;
    var g: array<f32, 12>;
    for (var j = 0u; j < 3u; j++) {
        let a = st[j * K + c];
        let b = st[(3u + j) * K + c];
        let d = st[(6u + j) * K + c];
        for (var t = 0u; t < 4u; t++) { q[4u * j + t] = a[t]; p[4u * j + t] = b[t]; g[4u * j + t] = d[t]; }
    }
    for (var i = 0u; i < 10u; i++) { p[i] += 0.5 * H * g[i]; q[i] += H * p[i]; }
    // mu ~ N(0, 5), log tau with tau ~ HalfCauchy(5) (+ Jacobian), z ~ N(0, 1),
    // y ~ N(mu + tau z, sd).
    let mu = q[0];
    let tau = exp(q[1]);
    let u = tau / 5.0;
    var lp = -0.5 * mu * mu / 25.0 + q[1] - log(1.0 + u * u);
    var gmu = -mu / 25.0;
    var glt = 1.0 - 2.0 * u * u / (1.0 + u * u);
    for (var i = 0u; i < 8u; i++) {
        let z = q[2u + i];
        let r = (Y[i] - mu - tau * z) / SD[i];
        lp += -0.5 * z * z - 0.5 * r * r;
        let dr = r / SD[i];
        gmu += dr;
        glt += dr * tau * z;
        g[2u + i] = -z + dr * tau;
    }
    g[0] = gmu;
    g[1] = glt;
    var kinetic = 0.0;
    for (var i = 0u; i < 10u; i++) { p[i] += 0.5 * H * g[i]; kinetic += p[i] * p[i]; }
    for (var j = 0u; j < 3u; j++) {
        st[j * K + c] = vec4<f32>(q[4u * j], q[4u * j + 1u], q[4u * j + 2u], q[4u * j + 3u]);
        st[(3u + j) * K + c] = vec4<f32>(p[4u * j], p[4u * j + 1u], p[4u * j + 2u], p[4u * j + 3u]);
        st[(6u + j) * K + c] = vec4<f32>(g[4u * j], g[4u * j + 1u], g[4u * j + 2u], g[4u * j + 3u]);
    }
    energy[c] = -lp + 0.5 * kinetic;
}
