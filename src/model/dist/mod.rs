//! Distribution families: one file per family, tied together by the [`Family`] trait and the
//! family table ([`DistKind`]).
//!
//! Every family provides, in its own file: the log density and its analytic partials (sharing
//! subexpressions, as Stan Math does), its support, its parameters' domains, a random sampler,
//! its moments and its WGSL (`shaders/dist/<name>.wgsl`). The compiler, the backends and the
//! tests only ever reach a family through [`DistKind`], so adding a family means one new file
//! (and its WGSL) plus one row in the table of `families!` below.

use rand::Rng;
use serde::{Deserialize, Serialize};

use super::expr::Expr;
mod adjacency;
mod bessel;
mod censoring;
mod hurdle;
mod logspace;
mod mixture;
mod normal_cdf;
mod ordinal;
pub mod vector;
mod zero_inflation;
pub(crate) use asymmetric_laplace::kappa_of_quantile;
pub use censoring::{Censored, censoring_bound};
pub(crate) use dirichlet::categories as dirichlet_categories;
pub use mixture::Mixture;
pub(crate) use mv_normal::solve_lower;
pub use mv_normal_cov::cholesky;
pub use vector::{VecCode, VecFamily};

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
    /// `(lower, ∞)` with `lower` the first parameter (shifted log transform).
    Above,
    /// `(−∞, upper)` with `upper` the first parameter (reflected, shifted log transform).
    Below,
    /// `{0, 1}` (discrete: observed only).
    Binary,
    /// `{0, 1, 2, …}` (discrete: observed only).
    Count,
    /// `{0, 1, …, n}` with `n` the family's [`Domain::Count`] parameter (discrete: observed
    /// only; [`DistKind::count_bound`]).
    BoundedCount,
    /// Vectors of positive values summing to one, row by row (simplex transform).
    Simplex,
    /// Cholesky factors of correlation matrices, row by row (Cholesky-correlation transform).
    CorrCholesky,
    /// Category numbers `{0, 1, …, K − 1}` (discrete: observed only).
    Category,
    /// `[0, ∞)` with a point mass at 0 beside a density above it (a continuous hurdle: observed
    /// only).
    ZeroOrPositive,
    /// Values of a base family recorded within `[lower, upper]` (the first two parameters): the
    /// base's support between the bounds, with point masses at the upper bound and at the
    /// lower one where the base has mass below it (a censored family: observed only;
    /// `censoring::in_support`).
    Censored,
    /// Vectors of reals summing to zero (zero-sum transform).
    ZeroSum,
    /// Angles in `[−π, π]` (circular transform: the unconstrained value wrapped into the
    /// interval, as PyMC's `CircularTransform`).
    Circular,
}

impl Support {
    /// Whether values are integers: such a family can only be observed
    /// ([`Self::observed_only`]; NUTS samples continuous variables).
    pub fn is_discrete(self) -> bool {
        matches!(self, Support::Binary | Support::Count | Support::BoundedCount | Support::Category)
    }

    /// Whether a family can only be observed: a discrete one, or one with a point mass beside a
    /// density (NUTS samples continuous variables without atoms).
    pub fn observed_only(self) -> bool {
        self.observed_only_reason().is_some()
    }

    /// Why a family can only be observed, worded for messages ("is discrete"), or `None`.
    pub fn observed_only_reason(self) -> Option<&'static str> {
        match self {
            s if s.is_discrete() => Some("is discrete"),
            Support::ZeroOrPositive => Some("has a point mass at 0"),
            Support::Censored => Some("has point masses at its bounds"),
            _ => None,
        }
    }

    /// Whether the family's cross-parameter checks and its support read its data-only
    /// parameters alone (a censored family's bounds; its base's support is fixed), so that
    /// validation runs them whatever the other parameters are.
    pub fn checks_read_data_only(self) -> bool {
        self == Support::Censored
    }

    /// Whether `x` lies in the support where it does not depend on the parameters (the bounds
    /// data are checked against when the parameters are random).
    pub fn contains_fixed(self, x: f64) -> bool {
        match self {
            Support::Real
            | Support::Interval
            | Support::Above
            | Support::Below
            | Support::Censored
            | Support::ZeroSum => x.is_finite(),
            Support::Positive => x.is_finite() && x > 0.0,
            Support::Circular => x.abs() <= std::f64::consts::PI,
            Support::ZeroOrPositive => x.is_finite() && x >= 0.0,
            Support::UnitInterval => x > 0.0 && x < 1.0,
            Support::Binary => x == 0.0 || x == 1.0,
            Support::Count | Support::BoundedCount | Support::Category => is_count(x),
            Support::Simplex => x > 0.0 && x < 1.0,
            Support::CorrCholesky => x.abs() <= 1.0,
        }
    }
}

/// [`Family::lpdf_grad`] of a family whose normaliser is a data-only term that reads `x`
/// ([`Family::NORMALIZER_READS_X`]: `−ln x!`, `ln C(n, x)`): the kernel plus
/// [`Family::log_normalizer_at`], added only where the kernel is above −∞ (outside the support
/// the term may be undefined). The count families' `kernel_grad` is their whole work, so that
/// the kernel, evaluated every gradient, does not compute the term to subtract it.
pub(crate) fn lpdf_grad_with_data_term<F: Family>(x: f64, p: &[f64], g: &mut [f64]) -> f64 {
    let kernel = F::kernel_grad(x, p, g);
    if kernel == f64::NEG_INFINITY {
        // Zero partials, as `lpdf_grad_from_split` gives (a rate of 0 leaves `x/μ` infinite).
        g[..=F::PARAMS.len()].fill(0.0);
        kernel
    } else {
        kernel + F::log_normalizer_at(x, p)
    }
}

/// The position of the one [`Domain::Count`] parameter among `params` (the bound of a
/// [`Support::BoundedCount`]: `n` of Binomial(n, p), of BetaBinomial(alpha, beta, n)).
fn count_param(params: &[(&str, Domain)]) -> usize {
    let at = params.iter().position(|(_, d)| *d == Domain::Count);
    debug_assert!(at.is_some(), "a bounded count family without a count parameter");
    at.unwrap_or(0)
}

/// Whether `x` is a whole number in `0..=2^53`.
pub fn is_count(x: f64) -> bool {
    x >= 0.0 && x.fract() == 0.0 && x <= 9_007_199_254_740_992.0
}

/// The set a parameter must lie in.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Domain {
    /// Any finite real.
    Real,
    /// Finite and strictly positive.
    Positive,
    /// Finite and positive or zero (a categorical's unnormalised probabilities).
    NonNegative,
    /// A probability: `0 ≤ p ≤ 1`.
    Probability,
    /// A count: a whole number `≥ 0`. Such a parameter must not depend on free variables.
    Count,
    /// Any finite real given as data (a covariance matrix): it must not depend on free
    /// variables.
    Fixed,
    /// A censoring bound given as data: a real number, or `∓∞` for no bound. It must not depend
    /// on free variables. The constructors store an infinite bound as `∓f32::MAX`
    /// ([`censoring_bound`]), beyond every value both backends hold.
    Bound,
}

impl Domain {
    /// Whether a parameter of this domain must be data (constants and data nodes).
    pub fn data_only(self) -> bool {
        matches!(self, Domain::Fixed | Domain::Bound)
    }

    /// Whether `v` lies in the domain.
    pub fn contains(self, v: f64) -> bool {
        match self {
            Domain::Real | Domain::Fixed => v.is_finite(),
            Domain::Positive => v.is_finite() && v > 0.0,
            Domain::NonNegative => v.is_finite() && v >= 0.0,
            Domain::Probability => (0.0..=1.0).contains(&v),
            Domain::Count => is_count(v),
            Domain::Bound => v.abs() <= f32::MAX as f64,
        }
    }

    /// The rule, worded for error messages ("must be positive").
    pub fn rule(self) -> &'static str {
        match self {
            Domain::Real => "must be finite",
            Domain::Positive => "must be positive and finite",
            Domain::NonNegative => "must be non-negative and finite",
            Domain::Probability => "must lie in [0, 1]",
            Domain::Count => "must be a whole number ≥ 0",
            Domain::Fixed => "must be finite",
            Domain::Bound => "must be a number within f32's range (±3.4e38), or ±inf for no bound",
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

    /// Whether `x` lies in the part of the support that no parameter moves: what data are
    /// checked against when the parameters are random. The support's
    /// [`Support::contains_fixed`] unless a family narrows it (the geometric's counts from 1).
    fn in_fixed_support(x: f64) -> bool {
        Self::SUPPORT.contains_fixed(x)
    }

    /// Whether `x` lies in the support for parameters `p`.
    fn in_support(x: f64, p: &[f64]) -> bool {
        match Self::SUPPORT {
            Support::Real => x.is_finite(),
            Support::Positive => x.is_finite() && x > 0.0,
            Support::UnitInterval => x > 0.0 && x < 1.0,
            Support::Interval => x > p[0] && x < p[1],
            Support::Above => x > p[0] && x.is_finite(),
            Support::Below => x < p[0] && x.is_finite(),
            Support::Binary => x == 0.0 || x == 1.0,
            Support::Count => is_count(x),
            Support::BoundedCount => is_count(x) && x <= p[count_param(Self::PARAMS)],
            s => s.contains_fixed(x),
        }
    }

    /// WGSL source of the family's functions (`shaders/dist/<name>.wgsl`, through
    /// `include_str!`): `<name>_lpdf_grad(x, p0, …) -> Lg`, `<name>_kernel_grad` and
    /// `<name>_log_normalizer_grad(p0, …)` with exactly one argument per parameter (`Lg8` with
    /// more than three parameters), mirroring the Rust below.
    const WGSL: &'static str;

    /// Families whose WGSL functions [`Family::WGSL`] calls (a zero-inflated family calls its
    /// base's kernel): the GPU module includes them with this one. One level only: a family
    /// listed here must not need another.
    const WGSL_NEEDS: &'static [DistKind] = &[];

    /// Whether the density integrates to one. Improper families (Flat, HalfFlat) serve as
    /// priors only: they have no sampler (draws are NaN) and no moments.
    const PROPER: bool = true;

    /// Representative parameter sets, from ordinary to awkward (the test suite checks the
    /// sampler's moments at each).
    const EXAMPLES: &'static [&'static [f64]];

    /// Mean and variance, where both are finite (`None` otherwise, e.g. Cauchy).
    fn moments(_p: &[f64]) -> Option<(f64, f64)> {
        None
    }

    /// Median, where it has a closed form.
    fn median(_p: &[f64]) -> Option<f64> {
        None
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

    /// Whether [`Family::log_normalizer_at`] also reads the value `x` (data-only terms of
    /// discrete families, such as `−ln x!`): the normaliser is then hoisted only where `x` is
    /// constant (observed data), summed on the host, and never evaluated as a scalar.
    const NORMALIZER_READS_X: bool = false;

    /// The normaliser at `x`: [`Family::log_normalizer`] unless it reads `x`.
    fn log_normalizer_at(_x: f64, p: &[f64]) -> f64 {
        Self::log_normalizer(p)
    }

    /// `lpdf - log_normalizer` with its partials (same layout as [`Family::lpdf_grad`]); the
    /// partials of the parameters in [`Family::NORMALIZER_PARAMS`] exclude the normaliser's.
    fn kernel_grad(x: f64, p: &[f64], g: &mut [f64]) -> f64 {
        Self::lpdf_grad(x, p, g) - Self::log_normalizer(p)
    }

    /// Values that [`Family::kernel_grad`] computes from the parameters in
    /// [`Family::NORMALIZER_PARAMS`] alone, computed once where each of those parameters is the
    /// same for every element (a scalar broadcast over a vector of values), so that the element
    /// loop skips that work (Normal: `1/σ`, one division per element otherwise). The default
    /// shares nothing.
    fn kernel_shared(_p: &[f64]) -> [f64; 2] {
        [0.0; 2]
    }

    /// [`Family::kernel_grad`] given [`Family::kernel_shared`] of the same normaliser
    /// parameters: the same bits.
    #[inline]
    fn kernel_grad_shared(x: f64, p: &[f64], _shared: &[f64; 2], g: &mut [f64]) -> f64 {
        Self::kernel_grad(x, p, g)
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

/// The family table: each row `Variant in module` names a family type (`module::Variant`, in
/// `model/dist/<module>.rs`) and its [`DistKind`] variant; scalar families ([`Family`]) come
/// first, then the families over whole vectors ([`VecFamily`]). Everything that lists families
/// is derived from it: the module declarations and re-exports, [`DistKind`] and its
/// dispatching methods, and the `with_family!` macro the compiler and backends use to
/// monomorphise loops per scalar family (the WGSL of a family is its [`Family::WGSL`] or
/// [`VecFamily::wgsl`]). The first token is `$`, which lets this macro define `with_family!`.
macro_rules! families {
    ($d:tt scalar: $($variant:ident in $module:ident),* ; vector: $($vvariant:ident in $vmodule:ident),* $(,)?) => {
        $(mod $module;)*
        $(mod $vmodule;)*
        $(pub use $module::$variant;)*
        $(pub use $vmodule::$vvariant;)*

        /// Every family type, for glob imports (the prelude re-exports them).
        pub mod families {
            $(pub use super::$variant;)*
            $(pub use super::$vvariant;)*
        }

        /// Every family exmc knows, as data (serialisable, matchable).
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
        #[serde(rename_all = "snake_case")]
        pub enum DistKind {
            $(#[doc = concat!("[`", stringify!($variant), "`]")] $variant,)*
            $(#[doc = concat!("[`", stringify!($vvariant), "`]")] $vvariant,)*
        }

        impl DistKind {
            /// Every family, in table order.
            pub const ALL: &'static [DistKind] = &[$(DistKind::$variant,)* $(DistKind::$vvariant,)*];
            /// The scalar families (elementwise densities).
            pub const SCALAR: &'static [DistKind] = &[$(DistKind::$variant),*];
            /// The families over whole vectors.
            pub const VECTOR: &'static [DistKind] = &[$(DistKind::$vvariant),*];
            /// Lower-case name.
            pub fn name(self) -> &'static str { match self { $(DistKind::$variant => <$variant>::NAME,)* $(DistKind::$vvariant => <$vvariant>::NAME,)* } }
            /// Parameter names and domains.
            pub fn params(self) -> &'static [(&'static str, Domain)] { match self { $(DistKind::$variant => <$variant>::PARAMS,)* $(DistKind::$vvariant => <$vvariant>::PARAMS,)* } }
            /// Support of the values.
            pub fn support(self) -> Support { match self { $(DistKind::$variant => <$variant>::SUPPORT,)* $(DistKind::$vvariant => <$vvariant>::SUPPORT,)* } }
            /// Whether the family's density is over whole vectors ([`VecFamily`]).
            pub fn is_vector(self) -> bool { match self { $(DistKind::$variant => false,)* $(DistKind::$vvariant => true,)* } }
            /// Cross-parameter checks (scalar families; vector ones: [`DistKind::vec_check_params`]).
            pub fn check_params(self, p: &[f64]) -> Result<(), &'static str> { match self { $(DistKind::$variant => <$variant>::check_params(p),)* _ => Ok(()) } }
            /// Whether `x` is in the support (scalar families).
            pub fn in_support(self, x: f64, p: &[f64]) -> bool { match self { $(DistKind::$variant => <$variant>::in_support(x, p),)* _ => self.support().contains_fixed(x) } }
            /// Whether `x` lies in the support whatever the parameters (see [`Family::in_fixed_support`]).
            pub fn in_fixed_support(self, x: f64) -> bool { match self { $(DistKind::$variant => <$variant>::in_fixed_support(x),)* _ => self.support().contains_fixed(x) } }
            /// Log density (scalar families; NaN for vector ones).
            pub fn lpdf(self, x: f64, p: &[f64]) -> f64 { match self { $(DistKind::$variant => <$variant>::lpdf(x, p),)* _ => f64::NAN } }
            /// Log density and partials (see [`Family::lpdf_grad`]; NaN for vector families).
            pub fn lpdf_grad(self, x: f64, p: &[f64], g: &mut [f64]) -> f64 { match self { $(DistKind::$variant => <$variant>::lpdf_grad(x, p, g),)* _ => f64::NAN } }
            /// One random draw (scalar families; NaN for vector ones: [`DistKind::vec_sample`]).
            pub fn sample<R: Rng + ?Sized>(self, p: &[f64], rng: &mut R) -> f64 { match self { $(DistKind::$variant => <$variant>::sample(p, rng),)* _ => f64::NAN } }
            /// WGSL source of a scalar family's functions (see [`Family::WGSL`]; empty for vector
            /// families, whose code is generated: [`VecFamily::wgsl`]).
            pub fn wgsl(self) -> &'static str { match self { $(DistKind::$variant => <$variant>::WGSL,)* _ => "" } }
            /// Families whose WGSL this one's calls (see [`Family::WGSL_NEEDS`]).
            pub fn wgsl_needs(self) -> &'static [DistKind] { match self { $(DistKind::$variant => <$variant>::WGSL_NEEDS,)* $(DistKind::$vvariant => <$vvariant>::WGSL_NEEDS,)* } }
            /// Mean and variance, where both are finite (see [`Family::moments`]).
            pub fn moments(self, p: &[f64]) -> Option<(f64, f64)> { match self { $(DistKind::$variant => <$variant>::moments(p),)* _ => None } }
            /// Median (see [`Family::median`]).
            pub fn median(self, p: &[f64]) -> Option<f64> { match self { $(DistKind::$variant => <$variant>::median(p),)* _ => None } }
            /// Whether the density is proper (see [`Family::PROPER`]).
            pub fn proper(self) -> bool { match self { $(DistKind::$variant => <$variant>::PROPER,)* _ => true } }
            /// Representative parameter sets (see [`Family::EXAMPLES`]).
            pub fn examples(self) -> &'static [&'static [f64]] { match self { $(DistKind::$variant => <$variant>::EXAMPLES,)* _ => &[] } }
            /// Whether the normaliser reads the value (see [`Family::NORMALIZER_READS_X`]).
            pub fn normalizer_reads_x(self) -> bool { match self { $(DistKind::$variant => <$variant>::NORMALIZER_READS_X,)* _ => false } }
            /// The normaliser at `x` (see [`Family::log_normalizer_at`]).
            pub fn log_normalizer_at(self, x: f64, p: &[f64]) -> f64 { match self { $(DistKind::$variant => <$variant>::log_normalizer_at(x, p),)* _ => 0.0 } }
            /// Parameters the normaliser reads (see [`Family::NORMALIZER_PARAMS`]).
            pub fn normalizer_params(self) -> &'static [usize] { match self { $(DistKind::$variant => <$variant>::NORMALIZER_PARAMS,)* _ => &[] } }
            /// The kernel and its partials (see [`Family::kernel_grad`]).
            pub fn kernel_grad(self, x: f64, p: &[f64], g: &mut [f64]) -> f64 { match self { $(DistKind::$variant => <$variant>::kernel_grad(x, p, g),)* _ => f64::NAN } }
            /// The normaliser and its partials (see [`Family::log_normalizer_grad`]).
            pub fn log_normalizer_grad(self, p: &[f64], g: &mut [f64]) -> f64 { match self { $(DistKind::$variant => <$variant>::log_normalizer_grad(p, g),)* _ => 0.0 } }
            /// Whether a vector family's elements are draws of their own (see [`VecFamily::ELEMENTWISE`]).
            pub fn vec_elementwise(self) -> bool { match self { $(DistKind::$vvariant => <$vvariant>::ELEMENTWISE,)* _ => false } }
            /// A vector family's parameters with one value per element (see [`VecFamily::ALIGNED_PARAMS`]).
            pub fn vec_aligned_params(self) -> &'static [usize] { match self { $(DistKind::$vvariant => <$vvariant>::ALIGNED_PARAMS,)* _ => &[] } }
            /// Whether a vector family's parameters may be matrices (see [`VecFamily::MATRIX_PARAMS`]).
            pub fn vec_matrix_params(self) -> bool { match self { $(DistKind::$vvariant => <$vvariant>::MATRIX_PARAMS,)* _ => true } }
            /// A vector family's value shape (see [`VecFamily::value_shape`]).
            pub fn vec_value_shape(self, lens: &[usize], consts: &[Option<&[f64]>]) -> Result<crate::model::Shape, String> { match self { $(DistKind::$vvariant => <$vvariant>::value_shape(lens, consts),)* _ => Err("not a vector family".into()) } }
            /// Values in one draw of a vector family (see [`VecFamily::draw_len`]).
            pub fn vec_draw_len(self, n: usize, lens: &[usize], consts: &[Option<&[f64]>]) -> Option<usize> { match self { $(DistKind::$vvariant => <$vvariant>::draw_len(n, lens, consts),)* _ => None } }
            /// A vector family's parameters given a row per draw (see [`VecFamily::DRAW_ROWS`]).
            pub fn vec_draw_rows(self) -> &'static [usize] { match self { $(DistKind::$vvariant => <$vvariant>::DRAW_ROWS,)* _ => &[] } }
            /// Whether a draw reads its own part of a parameter (see [`VecFamily::split_per_draw`]).
            pub fn vec_split_per_draw(self, j: usize, len: usize, n: usize, draws: usize) -> bool { match self { $(DistKind::$vvariant => <$vvariant>::split_per_draw(j, len, n, draws),)* _ => false } }
            /// Whether a vector family accepts a value of `n` elements (see [`VecFamily::accepts_len`]).
            pub fn vec_accepts_len(self, n: usize, lens: &[usize], consts: &[Option<&[f64]>]) -> Result<(), String> { match self { $(DistKind::$vvariant => <$vvariant>::accepts_len(n, lens, consts),)* _ => Err("not a vector family".into()) } }
            /// A vector family's checks of constant parameters (see [`VecFamily::check_params`]).
            pub fn vec_check_params(self, p: &[Option<&[f64]>]) -> Result<(), String> { match self { $(DistKind::$vvariant => <$vvariant>::check_params(p),)* _ => Ok(()) } }
            /// A vector family's support check of data (see [`VecFamily::check_value`]).
            pub fn vec_check_value(self, x: &[f64], lens: &[usize], p: &[Option<&[f64]>]) -> Result<(), (usize, String)> { match self { $(DistKind::$vvariant => <$vvariant>::check_value(x, lens, p),)* _ => Ok(()) } }
            /// A vector family's log density and partials (see [`VecFamily::lpdf_grad`]).
            pub fn vec_lpdf_grad(self, args: &[&[f64]], grads: Option<&mut [Vec<f64>]>) -> f64 { match self { $(DistKind::$vvariant => <$vvariant>::lpdf_grad(args, grads),)* _ => f64::NAN } }
            /// A vector family's WGSL statements (see [`VecFamily::wgsl`]).
            pub fn vec_wgsl(self, code: &VecCode) -> String { match self { $(DistKind::$vvariant => <$vvariant>::wgsl(code),)* _ => String::new() } }
            /// A vector family's data parameter `j` in the form its density reads (see [`VecFamily::prepare`]).
            pub fn vec_prepare(self, j: usize, value: &[f64]) -> Option<Result<Vec<f64>, String>> { match self { $(DistKind::$vvariant => <$vvariant>::prepare(j, value),)* _ => None } }
            /// One draw of a vector family's value into `out` (see [`VecFamily::sample`]).
            pub fn vec_sample<R: Rng + ?Sized>(self, p: &[&[f64]], out: &mut [f64], rng: &mut R) { match self { $(DistKind::$vvariant => <$vvariant>::sample(p, out, rng),)* _ => out.fill(f64::NAN) } }
        }

        /// Runs `$body` with `$F` bound to the family type of `$kind`, so that loops inside
        /// the body are monomorphised per family (no dispatch per element). Scalar families
        /// only: the compiler never gives a vector family to a scalar instruction.
        macro_rules! with_family {
            ($d kind:expr, $d F:ident => $d body:expr) => {{
                #[allow(unused_imports)]
                use $d crate::model::dist::{DistKind, Family};
                match $d kind {
                    $(DistKind::$variant => {
                        type $d F = $d crate::model::dist::$variant;
                        $d body
                    })*
                    other => unreachable!("{} is a vector family", other.name()),
                }
            }};
        }
        pub(crate) use with_family;
    };
}

families! {$
    scalar:
    Normal in normal,
    HalfNormal in half_normal,
    Exponential in exponential,
    Gamma in gamma,
    Beta in beta,
    Uniform in uniform,
    StudentT in student_t,
    Cauchy in cauchy,
    LogNormal in log_normal,
    HalfCauchy in half_cauchy,
    Bernoulli in bernoulli,
    BernoulliLogit in bernoulli_logit,
    Binomial in binomial,
    BinomialLogit in binomial_logit,
    Poisson in poisson,
    PoissonLog in poisson_log,
    NegativeBinomial in negative_binomial,
    NegativeBinomialLog in negative_binomial_log,
    Flat in flat,
    HalfFlat in half_flat,
    HalfStudentT in half_student_t,
    InverseGamma in inverse_gamma,
    Weibull in weibull,
    Laplace in laplace,
    Logistic in logistic,
    SkewNormal in skew_normal,
    TruncatedNormal in truncated_normal,
    TruncatedNormalLower in truncated_normal_lower,
    TruncatedNormalUpper in truncated_normal_upper,
    ZeroInflatedPoisson in zero_inflated_poisson,
    ZeroInflatedNegativeBinomial in zero_inflated_negative_binomial,
    ZeroInflatedBinomial in zero_inflated_binomial,
    BetaBinomial in beta_binomial,
    HurdlePoisson in hurdle_poisson,
    HurdleNegativeBinomial in hurdle_negative_binomial,
    HurdleGamma in hurdle_gamma,
    HurdleLogNormal in hurdle_log_normal,
    CensoredNormal in censored_normal,
    CensoredLogNormal in censored_log_normal,
    CensoredExponential in censored_exponential,
    CensoredWeibull in censored_weibull,
    Gumbel in gumbel,
    Pareto in pareto,
    Wald in wald,
    ExGaussian in ex_gaussian,
    Kumaraswamy in kumaraswamy,
    AsymmetricLaplace in asymmetric_laplace,
    ChiSquared in chi_squared,
    LogitNormal in logit_normal,
    VonMises in von_mises,
    Rice in rice,
    Moyal in moyal,
    Triangular in triangular,
    Geometric in geometric,
    DiscreteWeibull in discrete_weibull,
    SkewStudentT in skew_student_t;
    vector:
    Dirichlet in dirichlet,
    MvNormal in mv_normal,
    MvNormalCov in mv_normal_cov,
    LkjCholesky in lkj_cholesky,
    Categorical in categorical,
    CategoricalLogit in categorical_logit,
    CategoricalRows in categorical_rows,
    CategoricalLogitRows in categorical_logit_rows,
    NormalMixture in normal_mixture,
    OrderedLogistic in ordered_logistic,
    OrderedProbit in ordered_probit,
    ZeroSumNormal in zero_sum_normal,
    Multinomial in multinomial,
    DirichletMultinomial in dirichlet_multinomial,
    MvStudentT in mv_student_t,
    PoissonMixture in poisson_mixture,
    NegativeBinomialMixture in negative_binomial_mixture,
    ExponentialMixture in exponential_mixture,
    GammaMixture in gamma_mixture,
    LogNormalMixture in log_normal_mixture,
    StudentTMixture in student_t_mixture,
    BetaMixture in beta_mixture,
    Car in car,
    Icar in icar,
}

impl DistKind {
    /// Number of parameters.
    pub fn n_params(self) -> usize {
        self.params().len()
    }

    /// The parameter that bounds a [`Support::BoundedCount`] family's values (`n`), by
    /// position; `None` for other supports.
    pub fn count_bound(self) -> Option<usize> {
        (self.support() == Support::BoundedCount).then(|| count_param(self.params()))
    }

    /// Whether each element of an observed value is an observation of its own in the
    /// pointwise log-likelihood: every scalar family's, and the draws of a vector family whose
    /// elements are draws of their own (a categorical's, a mixture's); another vector family's
    /// draws count whole ([`Self::observations`]).
    pub fn per_element_observations(self) -> bool {
        !self.is_vector() || self.vec_elementwise()
    }

    /// Whether a vector family's value of `n` elements (node `node`) fits parameters of lengths
    /// `lens` (values `consts` where known): after `Model::set_data`, a shape error naming the
    /// node and the lengths where it does not, before a sampler or a density reads the rows.
    pub fn vec_check_fits(
        self,
        node: &str,
        n: usize,
        lens: &[usize],
        consts: &[Option<&[f64]>],
    ) -> crate::error::Result<()> {
        self.vec_accepts_len(n, lens, consts).map_err(|detail| {
            let held: Vec<String> =
                self.params().iter().zip(lens).map(|((name, _), len)| format!("`{name}` {len}")).collect();
            crate::error::Error::ShapeMismatch {
                node: node.to_string(),
                detail: format!(
                    "{detail} ({n} values; parameters of {} values: set the data of every parameter \
                     to match)",
                    held.join(", ")
                ),
            }
        })
    }

    /// The observations in a value of `n` elements given the parameters' lengths `lens`: every
    /// element of a scalar family or of a vector family whose elements are draws of their own
    /// ([`Self::per_element_observations`]), else each whole draw (a matrix's rows: an
    /// MvNormal's vectors, a multinomial's counts), one where the draws cannot be told.
    pub fn observations(self, n: usize, lens: &[usize]) -> usize {
        if self.per_element_observations() {
            return n;
        }
        let none = vec![None; lens.len()];
        match self.vec_draw_len(n, lens, &none) {
            Some(k) if k > 0 && n.is_multiple_of(k) => n / k,
            _ => 1,
        }
    }

    /// Whether parameter `j` holds one value per element of the value (or one shared), taken
    /// element by element with it: every parameter of a scalar family, a vector family's
    /// [`VecFamily::ALIGNED_PARAMS`].
    pub fn aligned_param(self, j: usize) -> bool {
        !self.is_vector() || self.vec_aligned_params().contains(&j)
    }

    /// The family with a row of parameters per observation that this one becomes when its
    /// parameter is a matrix of one row per observation (a categorical's).
    pub fn per_row(self) -> Option<DistKind> {
        match self {
            DistKind::Categorical => Some(DistKind::CategoricalRows),
            DistKind::CategoricalLogit => Some(DistKind::CategoricalLogitRows),
            _ => None,
        }
    }

    /// The family of one observation of a per-row family, given its row (the inverse of
    /// [`DistKind::per_row`]).
    pub fn one_row(self) -> Option<DistKind> {
        DistKind::VECTOR.iter().copied().find(|k| k.per_row() == Some(self))
    }
}

/// [`Family::lpdf_grad`] of a family that writes out its kernel and its normaliser: the
/// kernel's value and partials plus the normaliser's, for the parameters in
/// [`Family::NORMALIZER_PARAMS`]. Where the kernel is −∞ (outside the support) so is the
/// density, with zero partials: the normaliser's are not added (as these families' WGSL
/// `_lpdf_grad`s do; a few others', Student-t's, Laplace's, have no such guard).
pub(crate) fn lpdf_grad_from_split<F: Family>(x: f64, p: &[f64], g: &mut [f64]) -> f64 {
    let k = F::kernel_grad(x, p, g);
    if k == f64::NEG_INFINITY {
        g[..=F::PARAMS.len()].fill(0.0);
        return k;
    }
    let mut kernel = [0.0; 8];
    for &j in F::NORMALIZER_PARAMS {
        kernel[j] = g[1 + j];
    }
    let n = F::log_normalizer_grad(p, g);
    for &j in F::NORMALIZER_PARAMS {
        g[1 + j] += kernel[j];
    }
    k + n
}

/// Standard normal draw via `rand_distr` (shared by the Gaussian-based samplers).
pub(crate) fn std_normal<R: Rng + ?Sized>(rng: &mut R) -> f64 {
    rand_distr::Distribution::sample(&rand_distr::StandardNormal, rng)
}

/// Standard logistic draw, `ln(u/(1 − u))` (`u = 0` moved to the smallest normal number).
pub(crate) fn std_logistic<R: Rng + ?Sized>(rng: &mut R) -> f64 {
    let u = std_uniform(rng).max(f64::MIN_POSITIVE);
    u.ln() - (-u).ln_1p()
}

/// Uniform draw in `[0, 1)` (Bernoulli samplers).
pub(crate) fn std_uniform<R: Rng + ?Sized>(rng: &mut R) -> f64 {
    rand_distr::Distribution::sample(&rand_distr::StandardUniform, rng)
}
