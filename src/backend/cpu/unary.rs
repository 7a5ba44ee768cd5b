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
    // Each arm calls `unary_one` with a constant operation, which folds to that operation's
    // function: the table of what goes through `fastmath` is `unary_one`'s alone.
    macro_rules! arms {
        ($($op:ident),*) => {
            match op {
                $(UnOp::$op => each(y, x, |v| unary_one(UnOp::$op, v)),)*
                other => each(y, x, |v| unary_one(other, v)),
            }
        };
    }
    arms!(Neg, Exp, Log, Log1p, Sqrt, Square, Abs)
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
