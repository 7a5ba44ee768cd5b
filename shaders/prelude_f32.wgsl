// Precision prelude for f32 kernels. The generator emits exactly one prelude (this file or
// prelude_f64.wgsl) first, then special.wgsl, the dist/*.wgsl files and the generated code.
// Library code uses only `real`, `real(...)` literals, ln_r/exp_r for logarithms and
// exponentials, and the helpers below, so the same source serves both precisions.
alias real = f32;

// Bit patterns read at run time: WGSL const-evaluation rejects infinite and NaN values, and a
// private variable is never a const-expression, so no implementation folds these into literals.
var<private> REAL_INF_BITS: u32 = 0x7f800000u;
var<private> REAL_NAN_BITS: u32 = 0x7fc00000u;

fn pos_inf() -> real { return bitcast<f32>(REAL_INF_BITS); }
fn neg_inf() -> real { return -bitcast<f32>(REAL_INF_BITS); }
fn nan_r() -> real { return bitcast<f32>(REAL_NAN_BITS); }

// Unit roundoff-ish machine epsilon, 2^-23.
const REAL_EPS: real = 1.1920928955078125e-7;
// digamma: recurrence up to this argument, then the asymptotic series (truncation < 2e-13).
const DIGAMMA_ASYMPTOTIC_MIN: real = 6.0;
// ln Φ(t) switches to its asymptotic series below this (erfc(-t/√2) underflows f32 near t = -13).
const NDTR_ASYMPTOTIC_BELOW: real = -10.0;

// Natural log, exponential, cosine and sine, arctangent: the hardware built-ins in f32.
fn ln_r(x: real) -> real { return log(x); }
fn exp_r(x: real) -> real { return exp(x); }
// The hardware's sin and cos are accurate on [−π, π] only: the argument is wrapped first.
fn cos_sin_r(x: real) -> vec2<real> {
    let r = wrap_angle_r(x);
    return vec2<real>(cos(r), sin(r));
}
fn atan_r(x: real) -> real { return atan(x); }

// Random numbers (src/rng.rs). A uniform in [0, 1) from the two words the host's 53-bit
// uniform is made of: here the top 24 of those bits.
fn unit2(a: u32, b: u32) -> real { return f32(a >> 8u) * 5.9604644775390625e-8; }
// (cos, sin) of 2πu, the angle of Box-Muller.
fn cos_sin_2pi(u: real) -> vec2<real> {
    let t = 6.2831855 * u;
    return vec2<real>(cos(t), sin(t));
}
// A step size sent as two f32 words (its f32 rounding and the rest).
fn step_size_r(hi: u32, lo: u32) -> real { return bitcast<f32>(hi); }
