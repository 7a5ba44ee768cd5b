//! Elementwise unary instructions over a vector, compiled for the host's vector units.

use multiversion::multiversion;

use crate::compile::UnOp;
use crate::model::fastmath;

/// `y[i] = op(x[i])`, each element as [`unary_one`] computes it. The match on `op` sits outside
/// the loops, and `exp`, `ln` and `ln(1 + x)` are branch-free (`model::fastmath`), so each loop
/// vectorises.
#[multiversion(targets("x86_64+avx512f+avx512dq+avx512vl+avx2+fma", "x86_64+avx2+fma"))]
pub(crate) fn unary_into(op: UnOp, y: &mut [f64], x: &[f64]) {
    #[inline(always)]
    fn each(y: &mut [f64], x: &[f64], f: impl Fn(f64) -> f64) {
        y.iter_mut().zip(x).for_each(|(y, &x)| *y = f(x));
    }
    match op {
        UnOp::Neg => each(y, x, |v| UnOp::Neg.apply(v)),
        UnOp::Exp => each(y, x, fastmath::exp),
        UnOp::Log => each(y, x, fastmath::ln),
        UnOp::Log1p => each(y, x, fastmath::ln_1p),
        UnOp::Sqrt => each(y, x, |v| UnOp::Sqrt.apply(v)),
        UnOp::Square => each(y, x, |v| UnOp::Square.apply(v)),
        UnOp::Abs => each(y, x, |v| UnOp::Abs.apply(v)),
        other => each(y, x, |v| other.apply(v)),
    }
}

/// `op(x)` as the interpreter computes it: `exp`, `ln` and `ln(1 + x)` through
/// `model::fastmath` (within 1 ulp of `UnOp::apply`), the rest through `UnOp::apply`.
#[inline(always)]
pub(crate) fn unary_one(op: UnOp, x: f64) -> f64 {
    match op {
        UnOp::Exp => fastmath::exp(x),
        UnOp::Log => fastmath::ln(x),
        UnOp::Log1p => fastmath::ln_1p(x),
        other => other.apply(x),
    }
}
