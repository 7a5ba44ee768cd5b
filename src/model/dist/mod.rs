//! Distribution families: one file per family, tied together by the [`Family`] trait and the
//! [`DistKind`] table.
//!
//! Every family provides, in its own file: the log density and its analytic partials (sharing
//! subexpressions, as Stan Math does), its support, its parameters' domains, and a random
//! sampler. The compiler and backends only ever reach a family through [`DistKind`], so adding a
//! family means one new file plus one line in the [`families!`] table below.

use rand::Rng;
use serde::{Deserialize, Serialize};

use super::expr::Expr;

mod beta;
mod cauchy;
mod exponential;
mod gamma;
mod half_cauchy;
mod half_normal;
mod log_normal;
mod normal;
mod student_t;
mod uniform;

pub use beta::Beta;
pub use cauchy::Cauchy;
pub use exponential::Exponential;
pub use gamma::Gamma;
pub use half_cauchy::HalfCauchy;
pub use half_normal::HalfNormal;
pub use log_normal::LogNormal;
pub use normal::Normal;
pub use student_t::StudentT;
pub use uniform::Uniform;

/// `ln(2π)/2`, shared by the Gaussian-family densities.
pub(crate) const HALF_LN_2PI: f64 = 0.918_938_533_204_672_8;
/// `ln(π)`.
pub(crate) const LN_PI: f64 = 1.144_729_885_849_400_2;

/// The set a family's values live in; it decides the default bijector to the unconstrained space.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Support {
    /// The real line (identity transform).
    Real,
    /// `(0, ∞)` (log transform).
    Positive,
    /// `(0, 1)` (logit transform).
    UnitInterval,
    /// `(lower, upper)` given by the first two parameters (logit-interval transform).
    Interval,
}

/// The set a parameter must lie in.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Domain {
    /// Any finite real.
    Real,
    /// Finite and strictly positive.
    Positive,
}

impl Domain {
    /// Whether `v` lies in the domain.
    pub fn contains(self, v: f64) -> bool {
        match self {
            Domain::Real => v.is_finite(),
            Domain::Positive => v.is_finite() && v > 0.0,
        }
    }

    /// The rule, worded for error messages ("must be positive").
    pub fn rule(self) -> &'static str {
        match self {
            Domain::Real => "must be finite",
            Domain::Positive => "must be positive and finite",
        }
    }
}

/// One distribution family: value, analytic partials, domains, support and sampler.
///
/// `p` always holds the parameters in the order of [`Family::PARAMS`]. `lpdf` may assume the
/// parameters are inside their domains and `x` inside the support; outside the support it
/// returns `-inf`.
pub trait Family {
    /// Lower-case name used in messages and JSON ("normal").
    const NAME: &'static str;
    /// Parameter names and domains, in order.
    const PARAMS: &'static [(&'static str, Domain)];
    /// Support of the values.
    const SUPPORT: Support;

    /// Cross-parameter checks beyond the per-parameter domains (e.g. `lower < upper`).
    /// Returns the rule that is broken.
    fn check_params(_p: &[f64]) -> Result<(), &'static str> {
        Ok(())
    }

    /// Whether `x` lies in the support for parameters `p`.
    fn in_support(x: f64, p: &[f64]) -> bool {
        match Self::SUPPORT {
            Support::Real => x.is_finite(),
            Support::Positive => x.is_finite() && x > 0.0,
            Support::UnitInterval => x > 0.0 && x < 1.0,
            Support::Interval => x > p[0] && x < p[1],
        }
    }

    /// Log density at `x`, all normalising constants included.
    fn lpdf(x: f64, p: &[f64]) -> f64;

    /// Log density at `x`; writes `∂/∂x` into `g[0]` and `∂/∂p[i]` into `g[1 + i]`.
    fn lpdf_grad(x: f64, p: &[f64], g: &mut [f64]) -> f64;

    /// One random draw.
    fn sample<R: Rng + ?Sized>(p: &[f64], rng: &mut R) -> f64;

    /// Parameters that [`Family::log_normalizer`] reads. When all of them are constants, a
    /// backend may compute the normaliser once and evaluate only [`Family::kernel_grad`]
    /// (Stan's `propto` idea without dropping the constant). Empty: no split.
    const NORMALIZER_PARAMS: &'static [usize] = &[];

    /// The terms of the log density that depend on the parameters only:
    /// `lpdf(x, p) = kernel(x, p) + log_normalizer(p)`.
    fn log_normalizer(_p: &[f64]) -> f64 {
        0.0
    }

    /// [`Family::log_normalizer`] and its partials, written to `g[1 + j]` for the parameters
    /// it reads (`g[0]` and the other entries are left alone). Families that declare
    /// [`Family::NORMALIZER_PARAMS`] override the three methods together.
    fn log_normalizer_grad(p: &[f64], _g: &mut [f64]) -> f64 {
        Self::log_normalizer(p)
    }

    /// `lpdf - log_normalizer` with its partials (same layout as [`Family::lpdf_grad`]); the
    /// partials of the parameters in [`Family::NORMALIZER_PARAMS`] exclude the normaliser's.
    fn kernel_grad(x: f64, p: &[f64], g: &mut [f64]) -> f64 {
        Self::lpdf_grad(x, p, g) - Self::log_normalizer(p)
    }
}

/// A distribution with its parameters given as expressions: what `Model::rv` receives.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Dist {
    /// The family.
    pub kind: DistKind,
    /// One expression per parameter, in the family's order.
    pub params: Vec<Expr>,
}

macro_rules! families {
    ($($variant:ident => $ty:ty),* $(,)?) => {
        /// Every family exmc knows, as data (serialisable, matchable).
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
        #[serde(rename_all = "snake_case")]
        pub enum DistKind { $(#[doc = concat!("[`", stringify!($ty), "`]")] $variant),* }

        impl DistKind {
            /// Every family, in table order.
            pub const ALL: &'static [DistKind] = &[$(DistKind::$variant),*];
            /// Lower-case name.
            pub fn name(self) -> &'static str { match self { $(DistKind::$variant => <$ty>::NAME),* } }
            /// Parameter names and domains.
            pub fn params(self) -> &'static [(&'static str, Domain)] { match self { $(DistKind::$variant => <$ty>::PARAMS),* } }
            /// Support of the values.
            pub fn support(self) -> Support { match self { $(DistKind::$variant => <$ty>::SUPPORT),* } }
            /// Cross-parameter checks.
            pub fn check_params(self, p: &[f64]) -> Result<(), &'static str> { match self { $(DistKind::$variant => <$ty>::check_params(p)),* } }
            /// Whether `x` is in the support.
            pub fn in_support(self, x: f64, p: &[f64]) -> bool { match self { $(DistKind::$variant => <$ty>::in_support(x, p)),* } }
            /// Log density.
            pub fn lpdf(self, x: f64, p: &[f64]) -> f64 { match self { $(DistKind::$variant => <$ty>::lpdf(x, p)),* } }
            /// Log density and partials (see [`Family::lpdf_grad`]).
            pub fn lpdf_grad(self, x: f64, p: &[f64], g: &mut [f64]) -> f64 { match self { $(DistKind::$variant => <$ty>::lpdf_grad(x, p, g)),* } }
            /// One random draw.
            pub fn sample<R: Rng + ?Sized>(self, p: &[f64], rng: &mut R) -> f64 { match self { $(DistKind::$variant => <$ty>::sample(p, rng)),* } }
        }

    };
}

families! {
    Normal => Normal,
    HalfNormal => HalfNormal,
    Exponential => Exponential,
    Gamma => Gamma,
    Beta => Beta,
    Uniform => Uniform,
    StudentT => StudentT,
    Cauchy => Cauchy,
    LogNormal => LogNormal,
    HalfCauchy => HalfCauchy,
}

/// Runs `$body` with `$F` bound to the family type of `$kind`, so that loops inside the body
/// are monomorphised per family (no dispatch per element). The match is exhaustive, so a
/// family added to the table above without a line here does not compile.
macro_rules! with_family {
    ($kind:expr, $F:ident => $body:expr) => {{
        use $crate::model::dist::*;
        match $kind {
            DistKind::Normal => {
                type $F = Normal;
                $body
            }
            DistKind::HalfNormal => {
                type $F = HalfNormal;
                $body
            }
            DistKind::Exponential => {
                type $F = Exponential;
                $body
            }
            DistKind::Gamma => {
                type $F = Gamma;
                $body
            }
            DistKind::Beta => {
                type $F = Beta;
                $body
            }
            DistKind::Uniform => {
                type $F = Uniform;
                $body
            }
            DistKind::StudentT => {
                type $F = StudentT;
                $body
            }
            DistKind::Cauchy => {
                type $F = Cauchy;
                $body
            }
            DistKind::LogNormal => {
                type $F = LogNormal;
                $body
            }
            DistKind::HalfCauchy => {
                type $F = HalfCauchy;
                $body
            }
        }
    }};
}
pub(crate) use with_family;

impl DistKind {
    /// Number of parameters.
    pub fn n_params(self) -> usize {
        self.params().len()
    }
}

/// Standard normal draw via `rand_distr` (shared by the Gaussian-based samplers).
pub(crate) fn std_normal<R: Rng + ?Sized>(rng: &mut R) -> f64 {
    rand_distr::Distribution::sample(&rand_distr::StandardNormal, rng)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// For every family: kernel + normaliser reproduce the density and every partial.
    #[test]
    fn kernel_and_normalizer_split_is_exact() {
        // (x, params) inside the support and domains, one row per family in table order.
        let cases: [(f64, &[f64]); 10] = [
            (0.7, &[-0.3, 1.7]),
            (0.7, &[1.3]),
            (0.7, &[2.2]),
            (0.7, &[2.5, 1.5]),
            (0.3, &[2.5, 1.5]),
            (0.3, &[-1.0, 2.0]),
            (0.7, &[4.5, -0.3, 1.7]),
            (0.7, &[-0.3, 1.7]),
            (0.7, &[-0.3, 1.7]),
            (0.7, &[1.3]),
        ];
        for (&kind, (x, p)) in DistKind::ALL.iter().zip(cases) {
            assert_eq!(p.len(), kind.n_params(), "{}", kind.name());
            with_family!(kind, F => {
                let k = p.len() + 1;
                let (mut full, mut kern, mut norm) = ([0.0; 4], [0.0; 4], [0.0; 4]);
                let value = F::lpdf_grad(x, p, &mut full[..k]);
                let kv = F::kernel_grad(x, p, &mut kern[..k]);
                let nv = F::log_normalizer_grad(p, &mut norm[..k]);
                assert!((kv + nv - value).abs() <= 1e-12 * value.abs().max(1.0), "{}", F::NAME);
                assert!((nv - F::log_normalizer(p)).abs() <= 1e-14, "{}", F::NAME);
                for j in 0..k {
                    let reads = j > 0 && F::NORMALIZER_PARAMS.contains(&(j - 1));
                    let split = kern[j] + if reads { norm[j] } else { 0.0 };
                    assert!((split - full[j]).abs() <= 1e-12 * full[j].abs().max(1.0), "{} partial {j}", F::NAME);
                }
            });
        }
    }
}
