#!/usr/bin/env python3
"""Generate tests/data/dist_oracle.json: scipy.stats log densities for every exmc family (mpmath
at 60 digits for the ExGaussian and the Kumaraswamy, see their classes).

Deterministic (fixed seed). Each family gets hand-picked awkward points (tiny/huge scales, heavy
tails, values near the support's edges) plus random points spread over the parameter space.
Parameters use exmc's (PyMC's) parameterisation; the mapping to scipy's is below.

Usage: python scripts/make_dist_oracle.py   (writes tests/data/dist_oracle.json)
"""

import json
import math
import pathlib

import numpy as np
import scipy
from scipy import special, stats

SEED = 20240917
N_RANDOM = 20
OUT = pathlib.Path(__file__).resolve().parent.parent / "tests" / "data" / "dist_oracle.json"

rng = np.random.default_rng(SEED)


def loguniform(lo, hi):
    return float(math.exp(rng.uniform(math.log(lo), math.log(hi))))


def quantile():
    """A probability in (0, 1), sometimes far in a tail."""
    r = rng.uniform()
    if r < 0.15:
        return float(10.0 ** rng.uniform(-8, -3))
    if r < 0.30:
        return float(1.0 - 10.0 ** rng.uniform(-8, -3))
    return float(rng.uniform(0.01, 0.99))


# name -> (exmc parameter names, frozen scipy distribution from exmc params)
FAMILIES = {
    "normal": (["mu", "sigma"], lambda mu, sigma: stats.norm(loc=mu, scale=sigma)),
    "half_normal": (["sigma"], lambda sigma: stats.halfnorm(scale=sigma)),
    "exponential": (["lam"], lambda lam: stats.expon(scale=1.0 / lam)),
    "gamma": (["alpha", "beta"], lambda a, b: stats.gamma(a, scale=1.0 / b)),
    "beta": (["alpha", "beta"], lambda a, b: stats.beta(a, b)),
    "uniform": (["lower", "upper"], lambda lo, up: stats.uniform(loc=lo, scale=up - lo)),
    "student_t": (["nu", "mu", "sigma"], lambda nu, mu, s: stats.t(df=nu, loc=mu, scale=s)),
    "cauchy": (["alpha", "beta"], lambda a, b: stats.cauchy(loc=a, scale=b)),
    "log_normal": (["mu", "sigma"], lambda mu, s: stats.lognorm(s=s, scale=math.exp(mu))),
    "half_cauchy": (["beta"], lambda b: stats.halfcauchy(scale=b)),
    "bernoulli": (["p"], lambda p: stats.bernoulli(p)),
    "bernoulli_logit": (["logit_p"], lambda l: stats.bernoulli(special.expit(l))),
    "binomial": (["n", "p"], lambda n, p: stats.binom(n, p)),
    "binomial_logit": (["n", "logit_p"], lambda n, l: stats.binom(n, special.expit(l))),
    "poisson": (["mu"], lambda mu: stats.poisson(mu)),
    "poisson_log": (["log_mu"], lambda eta: stats.poisson(math.exp(eta))),
    "negative_binomial": (["mu", "alpha"], lambda mu, a: stats.nbinom(a, a / (mu + a))),
    "negative_binomial_log": (["log_mu", "alpha"], lambda eta, a: stats.nbinom(a, a / (math.exp(eta) + a))),
    # Improper: log density 0 everywhere on the support (x drawn from a stand-in distribution).
    "flat": ([], lambda: Improper(stats.norm(0, 100))),
    "half_flat": ([], lambda: Improper(stats.expon(scale=100))),
    "half_student_t": (["nu", "sigma"], lambda nu, s: Doubled(stats.t(df=nu, scale=s))),
    "inverse_gamma": (["alpha", "beta"], lambda a, b: stats.invgamma(a, scale=b)),
    "weibull": (["alpha", "beta"], lambda a, b: stats.weibull_min(a, scale=b)),
    "laplace": (["mu", "b"], lambda mu, b: stats.laplace(loc=mu, scale=b)),
    "logistic": (["mu", "s"], lambda mu, s: stats.logistic(loc=mu, scale=s)),
    "skew_normal": (["mu", "sigma", "alpha"], lambda mu, s, a: stats.skewnorm(a, loc=mu, scale=s)),
    "truncated_normal": (
        ["lower", "upper", "mu", "sigma"],
        lambda lo, up, mu, s: stats.truncnorm((lo - mu) / s, (up - mu) / s, loc=mu, scale=s),
    ),
    "truncated_normal_lower": (
        ["lower", "mu", "sigma"],
        lambda lo, mu, s: stats.truncnorm((lo - mu) / s, np.inf, loc=mu, scale=s),
    ),
    "truncated_normal_upper": (
        ["upper", "mu", "sigma"],
        lambda up, mu, s: stats.truncnorm(-np.inf, (up - mu) / s, loc=mu, scale=s),
    ),
    "zero_inflated_poisson": (["psi", "mu"], lambda psi, mu: ZeroInflated(psi, stats.poisson(mu))),
    "zero_inflated_negative_binomial": (
        ["psi", "mu", "alpha"],
        lambda psi, mu, a: ZeroInflated(psi, stats.nbinom(a, a / (mu + a))),
    ),
    "zero_inflated_binomial": (["psi", "n", "p"], lambda psi, n, p: ZeroInflated(psi, stats.binom(n, p))),
    "beta_binomial": (["alpha", "beta", "n"], lambda a, b, n: stats.betabinom(n, a, b)),
    "hurdle_poisson": (["psi", "mu"], lambda psi, mu: Hurdle(psi, stats.poisson(mu))),
    "hurdle_negative_binomial": (
        ["psi", "mu", "alpha"],
        lambda psi, mu, a: Hurdle(psi, stats.nbinom(a, a / (mu + a))),
    ),
    "hurdle_gamma": (["psi", "alpha", "beta"], lambda psi, a, b: Hurdle(psi, stats.gamma(a, scale=1.0 / b))),
    "hurdle_log_normal": (
        ["psi", "mu", "sigma"],
        lambda psi, mu, s: Hurdle(psi, stats.lognorm(s, scale=np.exp(mu))),
    ),
    "censored_normal": (
        ["lower", "upper", "mu", "sigma"],
        lambda lo, hi, mu, s: Censored(lo, hi, stats.norm(loc=mu, scale=s)),
    ),
    "censored_log_normal": (
        ["lower", "upper", "mu", "sigma"],
        lambda lo, hi, mu, s: Censored(lo, hi, stats.lognorm(s=s, scale=math.exp(mu))),
    ),
    "censored_exponential": (["lower", "upper", "lam"], lambda lo, hi, lam: Censored(lo, hi, stats.expon(scale=1.0 / lam))),
    "censored_weibull": (
        ["lower", "upper", "alpha", "beta"],
        lambda lo, hi, a, b: Censored(lo, hi, stats.weibull_min(a, scale=b)),
    ),
    "gumbel": (["mu", "beta"], lambda mu, b: stats.gumbel_r(loc=mu, scale=b)),
    # exmc stores a Pareto's parameters lower bound first.
    "pareto": (["m", "alpha"], lambda m, a: stats.pareto(a, scale=m)),
    "wald": (["mu", "lam"], lambda mu, lam: stats.invgauss(mu / lam, scale=lam)),
    "ex_gaussian": (["mu", "sigma", "nu"], lambda mu, s, nu: ExGaussianExact(mu, s, nu)),
    "kumaraswamy": (["a", "b"], lambda a, b: Kumaraswamy(a, b)),
    "asymmetric_laplace": (
        ["kappa", "mu", "b"],
        lambda k, mu, b: stats.laplace_asymmetric(k, loc=mu, scale=1.0 / b),
    ),
    "chi_squared": (["nu"], lambda nu: stats.chi2(nu)),
    "logit_normal": (["mu", "sigma"], lambda mu, s: LogitNormal(mu, s)),
    "von_mises": (["mu", "kappa"], lambda mu, k: VonMises(mu, k)),
    "rice": (["nu", "sigma"], lambda nu, s: Rice(nu, s)),
    "moyal": (["mu", "sigma"], lambda mu, s: stats.moyal(loc=mu, scale=s)),
    # exmc stores a triangular's parameters bounds first: [lower, upper, c].
    "triangular": (["lower", "upper", "c"], lambda lo, up, c: stats.triang((c - lo) / (up - lo), loc=lo, scale=up - lo)),
    "geometric": (["p"], lambda p: stats.geom(p)),
    "discrete_weibull": (["q", "beta"], lambda q, b: DiscreteWeibull(q, b)),
    "skew_student_t": (["a", "b", "mu", "sigma"], lambda a, b, mu, s: JonesFaddy(a, b, mu, s)),
}

# No bound: exmc stores an infinite censoring bound as ±f32::MAX.
NO_BOUND = float(np.finfo(np.float32).max)


class Improper:
    """An improper flat density: log density 0; points placed by a stand-in distribution."""

    def __init__(self, place):
        self.place = place

    def ppf(self, q):
        return self.place.ppf(q)

    def logpdf(self, x):
        return 0.0


class ZeroInflated:
    """With probability psi a draw of scipy's base distribution, otherwise 0."""

    def __init__(self, psi, base):
        self.psi = psi
        self.base = base

    def ppf(self, q):
        # F(x) = (1 - psi) + psi F_base(x) for x >= 0.
        if q <= (1.0 - self.psi) + self.psi * self.base.pmf(0):
            return 0.0
        return float(self.base.ppf((q - (1.0 - self.psi)) / self.psi))

    def logpmf(self, x):
        if x == 0:
            return float(np.logaddexp(np.log1p(-self.psi), np.log(self.psi) + self.base.logpmf(0)))
        return float(np.log(self.psi) + self.base.logpmf(x))


class Hurdle:
    """0 with probability 1 - psi, else a draw of scipy's base conditioned on being positive: a
    count base truncated to x >= 1 (logpmf), or a continuous base on (0, inf) as it is, since it
    puts no mass at 0 (logpdf)."""

    def __init__(self, psi, base):
        self.psi = psi
        self.base = base

    def ppf(self, q):
        # F(x) = (1 - psi) + psi (F_base(x) - F_base(0)) / (1 - F_base(0)) for x >= 0.
        if q <= 1.0 - self.psi:
            return 0.0
        f0 = self.base.cdf(0)
        x = float(self.base.ppf(f0 + (q - (1.0 - self.psi)) / self.psi * (1.0 - f0)))
        return max(1.0, x) if isinstance(self.base.dist, stats.rv_discrete) else x

    def logpmf(self, x):
        if x == 0:
            return float(np.log1p(-self.psi))
        return float(np.log(self.psi) + self.base.logpmf(x) - self.base.logsf(0))

    def logpdf(self, x):
        if x == 0:
            return float(np.log1p(-self.psi))
        return float(np.log(self.psi) + self.base.logpdf(x))


class Censored:
    """Values of scipy's base below lo read lo and above hi read hi: ln F(lo) at lo,
    ln(1 - F(hi)) at hi and the base's log density between."""

    def __init__(self, lo, hi, base):
        self.lo = lo
        self.hi = hi
        self.base = base

    def ppf(self, q):
        return float(min(max(self.base.ppf(q), self.lo), self.hi))

    def logpdf(self, x):
        if x == self.lo:
            return float(self.base.logcdf(self.lo))
        if x == self.hi:
            return float(self.base.logsf(self.hi))
        return float(self.base.logpdf(x))


class Doubled:
    """The half of a distribution symmetric about 0: density 2 f(x) for x > 0."""

    def __init__(self, d):
        self.d = d

    def ppf(self, q):
        return self.d.ppf(0.5 + 0.5 * q)

    def logpdf(self, x):
        return math.log(2.0) + self.d.logpdf(x)

class ExGaussianExact:
    """scipy's exponnorm places the points; the log density is the textbook formula
    -ln nu + (mu - x)/nu + sigma^2/(2 nu^2) + ln Phi((x - mu)/sigma - sigma/nu) at 60 digits
    (mpmath), since scipy's own sum of those terms cancels where nu << sigma."""

    def __init__(self, mu, sigma, nu):
        self.mu, self.sigma, self.nu = mu, sigma, nu
        self.place = stats.exponnorm(nu / sigma, loc=mu, scale=sigma)

    def ppf(self, q):
        return float(self.place.ppf(q))

    def logpdf(self, x):
        import mpmath

        with mpmath.workdps(60):
            mu, s, nu, v = (mpmath.mpf(a) for a in (self.mu, self.sigma, self.nu, x))
            t = (v - mu) / s - s / nu
            lc = mpmath.log(mpmath.ncdf(t))
            lp = float(-mpmath.log(nu) + (mu - v) / nu + s * s / (2 * nu * nu) + lc)
        # Where the terms do not cancel, scipy must agree.
        if self.nu > 0.2 * self.sigma:
            ref = float(self.place.logpdf(x))
            assert abs(ref - lp) <= 1e-9 * max(1.0, abs(lp)), (ref, lp)
        return lp


class Kumaraswamy:
    """x^a is Beta(1, b): the density is Beta(1, b)'s, ln b + (b - 1) ln(1 - y), at y = x^a times
    a x^(a-1), at 60 digits (mpmath: in doubles 1 - x^a loses its digits near x = 1); scipy's
    beta must agree where 1 - x^a keeps them."""

    def __init__(self, a, b):
        self.a, self.b = a, b

    def ppf(self, q):
        w = -math.expm1(math.log1p(-q) / self.b)
        return min(w ** (1.0 / self.a), 1.0 - 1e-12)

    def logpdf(self, x):
        import mpmath

        a, b = self.a, self.b
        with mpmath.workdps(60):
            y = mpmath.mpf(x) ** a
            lp = float(mpmath.log(b) + (b - 1) * mpmath.log(1 - y) + mpmath.log(a) + (a - 1) * mpmath.log(mpmath.mpf(x)))
        if x**a < 0.999:
            ref = float(stats.beta(1.0, b).logpdf(x**a) + math.log(a) + (a - 1.0) * math.log(x))
            assert abs(ref - lp) <= 1e-9 * max(1.0, abs(lp)), (ref, lp)
        return lp


class DiscreteWeibull:
    """P(x) = q^(x^b) - q^((x+1)^b) on x = 0, 1, ... (not in scipy) at 60 digits (mpmath: in
    doubles the difference cancels for large x); at b = 1 it is scipy's geom(1 - q) shifted to
    start at 0, which must agree."""

    def __init__(self, q, b):
        self.q, self.b = q, b

    def ppf(self, u):
        return float(max(math.ceil((math.log1p(-u) / math.log(self.q)) ** (1.0 / self.b) - 1.0), 0))

    def logpmf(self, x):
        import mpmath

        with mpmath.workdps(60):
            q, b, v = mpmath.mpf(self.q), mpmath.mpf(self.b), mpmath.mpf(x)
            lp = float(mpmath.log(q ** (v**b) - q ** ((v + 1) ** b)))
        if self.b == 1.0:
            ref = float(stats.geom(1.0 - self.q).logpmf(x + 1))
            assert abs(ref - lp) <= 1e-9 * max(1.0, abs(lp)), (ref, lp)
        return lp


class JonesFaddy:
    """Jones & Faddy's skew-t at 60 digits (mpmath: scipy's jf_skew_t forms 1 - t/s, which
    cancels in the right tail, 0.6 off at t = 5e7 for a = b = 1/2); scipy must agree where
    |t| < 100."""

    def __init__(self, a, b, mu, sigma):
        self.a, self.b, self.mu, self.sigma = a, b, mu, sigma
        self.d = stats.jf_skew_t(a, b, loc=mu, scale=sigma)

    def ppf(self, q):
        return float(self.d.ppf(q))

    def logpdf(self, x):
        import mpmath

        with mpmath.workdps(60):
            a, b, mu, s, v = (mpmath.mpf(w) for w in (self.a, self.b, self.mu, self.sigma, x))
            t = (v - mu) / s
            r = mpmath.sqrt(a + b + t * t)
            lp = float(-(a + b - 1) * mpmath.log(2) - mpmath.log(mpmath.beta(a, b)) - mpmath.log(a + b) / 2
                       - mpmath.log(s) + (a + 0.5) * mpmath.log(1 + t / r) + (b + 0.5) * mpmath.log(1 - t / r))
        if abs(x - self.mu) < 100 * self.sigma:
            ref = float(self.d.logpdf(x))
            assert abs(ref - lp) <= 1e-9 * max(1.0, abs(lp)), (ref, lp)
        return lp


class LogitNormal:
    """logit(x) is Normal(mu, sigma): scipy's normal density at logit(x) over x(1 - x)."""

    def __init__(self, mu, sigma):
        self.d = stats.norm(loc=mu, scale=sigma)

    def ppf(self, q):
        return min(float(special.expit(self.d.ppf(q))), 1.0 - 1e-12)

    def logpdf(self, x):
        return float(self.d.logpdf(special.logit(x)) - math.log(x) - math.log1p(-x))


class VonMises:
    """kappa cos(x - mu) - ln(2 pi) - ln I0(kappa) at 60 digits (mpmath), x in [-pi, pi]: scipy's
    quantiles around mu wrapped into it; scipy's vonmises must agree."""

    def __init__(self, mu, kappa):
        self.mu, self.kappa = mu, kappa
        self.d = stats.vonmises(kappa, loc=mu)

    def ppf(self, q):
        return float(math.remainder(float(self.d.ppf(q)), 2.0 * math.pi))

    def logpdf(self, x):
        import mpmath

        with mpmath.workdps(60):
            k = mpmath.mpf(self.kappa)
            lp = float(k * mpmath.cos(mpmath.mpf(x) - mpmath.mpf(self.mu)) - mpmath.log(2 * mpmath.pi) - mpmath.log(mpmath.besseli(0, k)))
        ref = float(self.d.logpdf(x))
        assert abs(ref - lp) <= 1e-9 * max(1.0, abs(lp)), (ref, lp)
        return lp


class Rice:
    """ln x - 2 ln sigma - (x^2 + nu^2)/(2 sigma^2) + ln I0(x nu/sigma^2) at 60 digits (mpmath);
    scipy's rice(nu/sigma, scale=sigma) must agree."""

    def __init__(self, nu, sigma):
        self.nu, self.sigma = nu, sigma
        self.d = stats.rice(nu / sigma, scale=sigma)

    def ppf(self, q):
        return float(self.d.ppf(q))

    def logpdf(self, x):
        import mpmath

        with mpmath.workdps(60):
            v, nu, s = (mpmath.mpf(a) for a in (x, self.nu, self.sigma))
            lp = float(mpmath.log(v) - 2 * mpmath.log(s) - (v * v + nu * nu) / (2 * s * s) + mpmath.log(mpmath.besseli(0, v * nu / (s * s))))
        ref = float(self.d.logpdf(x))
        if math.isfinite(ref):
            assert abs(ref - lp) <= 1e-8 * max(1.0, abs(lp)), (ref, lp)
        return lp


# Families over the integers: scipy's logpmf, x drawn from the integer quantiles.
DISCRETE = {
    "bernoulli", "bernoulli_logit", "binomial", "binomial_logit", "poisson", "poisson_log",
    "negative_binomial", "negative_binomial_log", "zero_inflated_poisson",
    "zero_inflated_negative_binomial", "zero_inflated_binomial", "beta_binomial",
    "hurdle_poisson", "hurdle_negative_binomial", "geometric", "discrete_weibull",
}

# Hand-picked points: (x, params). x=None means "draw x from a tail quantile".
FIXED = {
    "normal": [
        (0.0, [0.0, 1.0]),
        (1e-3, [0.0, 1e-3]),
        (-7.5, [0.0, 1.0]),
        (1234.5, [1000.0, 50.0]),
        (-3.0e4, [2.0, 1e4]),
        (0.3, [0.30001, 1e-4]),
    ],
    "half_normal": [
        (1e-9, [1.0]),
        (6.0, [1.0]),
        (1e-6, [1e-3]),
        (5e3, [1e3]),
        (0.5, [0.01]),
    ],
    "exponential": [
        (1e-10, [1.0]),
        (30.0, [1.0]),
        (1e5, [1e-4]),
        (1e-7, [1e3]),
        (0.02, [500.0]),
    ],
    "gamma": [
        (1e-12, [0.1, 1.0]),
        (1e-80, [0.05, 3.0]),
        (3.0, [0.5, 0.2]),
        (1.0, [1.0, 1.0]),
        (95.0, [100.0, 1.0]),
        (1e-4, [200.0, 1e6]),
        (40.0, [2.5, 0.01]),
    ],
    "beta": [
        (1e-6, [0.5, 0.5]),
        (1.0 - 1e-6, [0.5, 0.5]),
        (1e-6, [2.0, 5.0]),
        (1.0 - 1e-6, [5.0, 2.0]),
        (0.5, [1.0, 1.0]),
        (0.01, [0.1, 30.0]),
        (0.97, [40.0, 1.5]),
        (0.3, [50.0, 50.0]),
    ],
    "uniform": [
        (0.5, [0.0, 1.0]),
        (-0.999, [-1.0, 1.0]),
        (1e-3, [1e-4, 2e-3]),
        (500.0, [-1e3, 1e3]),
        (1.000001, [1.0, 1.00001]),
    ],
    "student_t": [
        (0.0, [0.5, 0.0, 1.0]),
        (1e6, [0.5, 0.0, 1.0]),
        (-30.0, [1.0, 0.0, 1.0]),
        (2.0, [2.0, 1.0, 0.5]),
        (1e3, [2.5, 0.0, 10.0]),
        (-4.0, [50.0, 0.0, 1.0]),
        (0.1, [50.0, 0.1, 1e-3]),
        (-150.0, [3.0, -100.0, 20.0]),
    ],
    "cauchy": [
        (0.0, [0.0, 1.0]),
        (1e8, [0.0, 1.0]),
        (-5.0, [2.0, 1e-3]),
        (3.0, [-1e3, 1e3]),
        (0.0, [0.0, 1e-6]),
    ],
    "log_normal": [
        (1.0, [0.0, 1.0]),
        (1e-8, [0.0, 1.0]),
        (1e6, [10.0, 2.0]),
        (0.95, [0.0, 0.05]),
        (2.0, [-3.0, 3.0]),
        (5e-3, [-5.0, 0.1]),
    ],
    "half_cauchy": [
        (1e-9, [1.0]),
        (1e9, [1.0]),
        (0.5, [1e-3]),
        (5.0, [1e3]),
        (2.5, [2.5]),
    ],
    "bernoulli": [(1.0, [0.3]), (0.0, [0.3]), (1.0, [1e-6]), (0.0, [1.0 - 1e-9]), (1.0, [1.0]), (0.0, [0.0])],
    "bernoulli_logit": [(1.0, [0.0]), (0.0, [0.0]), (1.0, [-40.0]), (0.0, [35.0]), (1.0, [12.5]), (0.0, [-3.0])],
    "binomial": [
        (0.0, [10.0, 0.3]),
        (10.0, [10.0, 0.3]),
        (3.0, [10.0, 0.3]),
        (0.0, [5.0, 0.0]),
        (5.0, [5.0, 1.0]),
        (480.0, [1000.0, 0.5]),
        (2.0, [1e4, 1e-3]),
    ],
    "binomial_logit": [(0.0, [10.0, -2.0]), (10.0, [10.0, 3.0]), (7.0, [20.0, 0.1]), (1.0, [1.0, -30.0]), (250.0, [500.0, 0.0])],
    "poisson": [(0.0, [1e-6]), (0.0, [3.0]), (7.0, [3.0]), (1000.0, [1000.0]), (5.0, [1e-3]), (20.0, [400.0])],
    "poisson_log": [(0.0, [-10.0]), (3.0, [1.0]), (150.0, [5.0]), (0.0, [4.0])],
    "negative_binomial": [
        (0.0, [1.0, 1.0]),
        (10.0, [2.0, 0.1]),
        (3.0, [3.0, 1e4]),
        (100.0, [80.0, 5.0]),
        (0.0, [1e-3, 0.5]),
        (1.0, [0.5, 1e-3]),
    ],
    "negative_binomial_log": [(0.0, [0.0, 1.0]), (12.0, [2.0, 0.5]), (3.0, [1.0, 5e3]), (60.0, [4.0, 30.0])],
    "flat": [(0.0, []), (-1e6, []), (3.5, [])],
    "half_flat": [(1e-9, []), (1e6, []), (2.0, [])],
    "half_student_t": [(1e-8, [3.0, 1.0]), (1e4, [1.0, 1.0]), (0.5, [30.0, 0.01]), (2.0, [0.5, 2.0]), (4.0, [200.0, 2.0])],
    "inverse_gamma": [(1e-3, [1.0, 1.0]), (1e3, [2.0, 1.0]), (0.5, [50.0, 20.0]), (2.0, [0.1, 3.0])],
    "weibull": [(1e-6, [0.5, 1.0]), (1.0, [1.0, 1.0]), (3.0, [20.0, 3.0]), (100.0, [1.5, 40.0]), (0.02, [3.0, 1e-2])],
    "laplace": [(0.0, [0.0, 1.0]), (700.0, [0.0, 1.0]), (2.005, [2.0, 1e-3]), (0.5, [0.4, 1e3])],
    "logistic": [(0.0, [0.0, 1.0]), (60.0, [0.0, 1.0]), (-700.0, [0.0, 1.0]), (2.0, [1.9, 1e-3]), (1e3, [0.0, 500.0])],
    # Far into the skewed-away tail (ln Φ(αz) from its asymptotic series), at α = 0, and
    # just either side of the series' switch at αz = -20.
    "skew_normal": [(0.0, [0.0, 1.0, 0.0]), (-5.0, [0.0, 1.0, 10.0]), (-3.0, [1.0, 2.0, 20.0]), (2.0, [0.0, 1.0, -9.95]),
                    (2.0, [0.0, 1.0, -10.05]), (0.3, [0.0, 0.01, 4.0])],
    # Both bounds far in the upper tail (the mass formed by symmetry), far in the lower tail,
    # a narrow interval, a wide one; one-sided bounds on either side of the mean and far out.
    "truncated_normal": [(30.5, [30.0, 31.0, 0.0, 1.0]), (-30.5, [-31.0, -30.0, 0.0, 1.0]), (-0.9995, [-1.0, -0.999, 0.0, 1.0]),
                         (3.0, [-50.0, 50.0, 1.0, 2.0]), (5.01, [5.0, 6.0, 0.0, 1.0])],
    "truncated_normal_lower": [(30.2, [30.0, 0.0, 1.0]), (0.0, [-30.0, 0.0, 1.0]), (2.0, [1.0, 0.0, 1.0]), (-4.0, [-5.0, 0.0, 3.0])],
    "truncated_normal_upper": [(-30.2, [-30.0, 0.0, 1.0]), (0.0, [30.0, 0.0, 1.0]), (-2.0, [-1.0, 0.0, 1.0]), (4.0, [5.0, 0.0, 3.0])],
    # Zeros mostly from the inflation, mostly from the base, and where the base alone is
    # negligible (psi near 1, a large mean); counts far out.
    # psi = 0 (all zeros) and 1 (no inflation); a base mass at 0 that underflows (e^-800).
    "zero_inflated_poisson": [(0.0, [0.5, 3.0]), (0.0, [1e-6, 2.0]), (0.0, [1.0 - 1e-6, 50.0]), (0.0, [0.3, 1e-4]),
                              (7.0, [0.4, 6.0]), (200.0, [0.9, 180.0]), (1.0, [1e-6, 1e-3]), (0.0, [0.5, 800.0]),
                              (0.0, [1.0, 3.0]), (0.0, [0.0, 3.0]), (3.0, [1.0, 3.0])],
    "zero_inflated_negative_binomial": [(0.0, [0.5, 4.0, 2.0]), (0.0, [0.01, 100.0, 0.5]), (0.0, [0.999, 200.0, 1e3]),
                                        (15.0, [0.3, 10.0, 0.8]), (2.0, [0.9, 0.1, 1e4]), (400.0, [0.6, 300.0, 50.0])],
    "zero_inflated_binomial": [(0.0, [0.5, 10.0, 0.3]), (0.0, [0.9, 50.0, 0.999]), (10.0, [0.4, 10.0, 0.3]),
                               (3.0, [0.2, 10.0, 0.3]), (0.0, [0.3, 1000.0, 1e-4]), (480.0, [0.7, 1000.0, 0.5]),
                               (0.0, [0.4, 5.0, 1.0])],
    "beta_binomial": [(0.0, [1.0, 1.0, 10.0]), (10.0, [1.0, 1.0, 10.0]), (3.0, [0.1, 0.1, 20.0]), (250.0, [50.0, 50.0, 500.0]),
                      (1.0, [1e3, 1e3, 5.0]), (7.0, [2.5, 0.5, 8.0]), (0.0, [1e-3, 5.0, 100.0])],
    # Zeros at any psi; a positive count where the base's mass at 0 is nearly all (mu = 1e-4:
    # the truncation's 1 - e^-mu in full), negligible (mu = 800: e^-800 underflows) or
    # moderate; psi near 0 and 1; counts far out.
    "hurdle_poisson": [(0.0, [0.5, 3.0]), (0.0, [1e-6, 2.0]), (0.0, [1.0 - 1e-6, 50.0]), (1.0, [0.3, 1e-4]),
                       (2.0, [0.6, 1e-4]), (7.0, [0.4, 6.0]), (800.0, [0.9, 800.0]), (1.0, [1e-6, 1.0]),
                       (3.0, [1.0, 3.0])],
    "hurdle_negative_binomial": [(0.0, [0.5, 4.0, 2.0]), (1.0, [0.3, 1e-3, 0.5]), (15.0, [0.3, 10.0, 0.8]),
                                 (2.0, [0.9, 0.1, 1e4]), (400.0, [0.6, 300.0, 50.0]), (1.0, [0.5, 5.0, 1e-3])],
    # Zeros at psi near 0 and 1; values near 0, in the bulk and far in the tail.
    "hurdle_gamma": [(0.0, [0.5, 2.0, 1.0]), (0.0, [1e-6, 2.0, 1.0]), (0.0, [1.0 - 1e-6, 0.5, 3.0]), (1e-8, [0.4, 0.3, 2.0]),
                     (3.0, [0.7, 2.0, 0.5]), (500.0, [0.2, 40.0, 0.1]), (2.0, [1.0, 2.0, 1.0])],
    "hurdle_log_normal": [(0.0, [0.5, 0.0, 1.0]), (0.0, [1e-6, 1.0, 0.5]), (1e-6, [0.3, 0.0, 1.0]), (1.0, [0.6, 0.0, 0.1]),
                          (1e4, [0.8, 5.0, 1.5]), (2.0, [1.0, 0.5, 0.3])],
}
# At each bound and inside; bounds far in either tail (ln F of -30σ through the asymptotic
# series, a survival function of e^-100) and where the mass beyond is nearly all or nearly
# none; one-sided (the other bound stored as ±f32::MAX).
NB = NO_BOUND
FIXED.update({
    "censored_normal": [(-1.0, [-1.0, 2.0, 0.5, 1.0]), (2.0, [-1.0, 2.0, 0.5, 1.0]), (0.3, [-1.0, 2.0, 0.5, 1.0]),
                        (-30.0, [-30.0, NB, 0.0, 1.0]), (40.0, [-NB, 40.0, 0.0, 1.0]), (-20.0, [-NB, -20.0, 0.0, 1.0]),
                        (5.0, [5.0, NB, 0.0, 1.0]), (-3.0, [-NB, 10.0, -1.0, 0.01])],
    "censored_log_normal": [(0.5, [0.5, 4.0, 0.5, 1.0]), (4.0, [0.5, 4.0, 0.5, 1.0]), (1.3, [0.5, 4.0, 0.5, 1.0]),
                            (1e-8, [1e-8, NB, 0.0, 1.0]), (1e6, [-NB, 1e6, 0.0, 0.5]), (0.01, [-NB, 0.01, 0.0, 1.0])],
    "censored_exponential": [(0.5, [0.5, 3.0, 0.5]), (3.0, [0.5, 3.0, 0.5]), (1.0, [0.5, 3.0, 0.5]),
                             (1e-9, [1e-9, NB, 2.0]), (50.0, [-NB, 50.0, 2.0]), (100.0, [100.0, NB, 1.0])],
    "censored_weibull": [(0.5, [0.5, 3.0, 1.5, 2.0]), (3.0, [0.5, 3.0, 1.5, 2.0]), (1.0, [0.5, 3.0, 1.5, 2.0]),
                         (1e-6, [1e-6, NB, 0.7, 4.0]), (30.0, [-NB, 30.0, 2.0, 3.0]), (20.0, [20.0, NB, 3.0, 2.0]),
                         (0.3, [-NB, 0.3, 0.5, 1.0])],
})
# Tails on both sides; tiny and huge scales; the ExGaussian either side of exmc's switch to
# the cancellation-free form at t = -20 and far below it (nu << sigma); x^a near 1 for the
# Kumaraswamy; the asymmetric Laplace at its kink and either side of mu at extreme kappa.
FIXED.update({
    "gumbel": [(0.0, [0.0, 1.0]), (-3.0, [0.0, 1.0]), (50.0, [0.0, 1.0]), (1e3, [900.0, 30.0]),
               (2.0001, [2.0, 1e-4]), (-600.0, [-500.0, 40.0])],
    "pareto": [(1.0000001, [1.0, 3.0]), (1e6, [1.0, 0.5]), (2.0, [1.9, 50.0]), (1e-3, [1e-4, 1.2]),
               (1e30, [1e3, 0.1])],
    "wald": [(1.0, [1.0, 1.0]), (1e-3, [1.0, 1.0]), (100.0, [1.0, 1.0]), (0.5, [0.5, 1e4]),
             (3000.0, [1000.0, 50.0]), (1e-4, [1e-3, 1e-2])],
    "ex_gaussian": [(0.0, [0.0, 1.0, 1.0]), (-8.0, [0.0, 1.0, 1.0]), (50.0, [0.0, 1.0, 1.0]),
                    (0.1, [0.0, 1.0, 1e-3]), (0.0, [0.0, 1.0, 0.048]), (0.0, [0.0, 1.0, 0.052]),
                    (5.0, [0.0, 1.0, 0.01]), (1e3, [0.0, 10.0, 500.0]), (2.0, [1.0, 1e-3, 0.5]),
                    (-3.0, [0.0, 1.0, 1e-4])],
    "kumaraswamy": [(0.5, [2.0, 5.0]), (1e-6, [0.5, 0.5]), (0.999999, [0.5, 0.5]), (0.99, [10.0, 1.5]),
                    (0.3, [0.1, 30.0]), (0.9, [50.0, 2.0]), (1e-3, [3.0, 0.2])],
    "asymmetric_laplace": [(0.0, [1.0, 0.0, 1.0]), (5.0, [0.3, 0.0, 1.0]), (-5.0, [0.3, 0.0, 1.0]),
                           (1e3, [4.0, 0.0, 0.5]), (-1e3, [4.0, 0.0, 0.5]), (2.0001, [1e-3, 2.0, 1.0]),
                           (1.9999, [1e3, 2.0, 1.0])],
    "chi_squared": [(1e-8, [1.0]), (100.0, [1.0]), (1e-6, [0.3]), (35.0, [40.0]), (1e4, [1e4])],
    "logit_normal": [(0.5, [0.0, 1.0]), (1e-8, [0.0, 1.0]), (1.0 - 1e-8, [0.0, 1.0]), (0.9, [2.0, 0.3]),
                     (1e-3, [-1.0, 3.0]), (0.5, [10.0, 0.1])],
})


# Von Mises angles at ±π and either side of the mean, concentrations from nearly uniform to the
# asymptotic series' side of I0 (κ > 20) and far beyond; Rice points on both sides of the Bessel
# switch (xν/σ² = 20), ν = 0 (Rayleigh) and a signal far above its noise; Moyal's tails; a
# triangular's mode at either bound and points beside it; geometric counts with p near 0 and 1.
FIXED.update({
    "von_mises": [(0.0, [0.0, 1.0]), (math.pi, [0.0, 1.0]), (-math.pi, [3.0, 5.0]), (0.3, [0.0, 19.9]),
                  (0.3, [0.0, 20.1]), (2.5, [2.4, 1e4]), (1.0, [-2.0, 1e-6]), (-3.1, [3.1, 50.0])],
    "rice": [(1.0, [1.0, 1.0]), (0.5, [0.0, 1.0]), (2.0, [10.0, 1.0]), (1.0, [2.0, 0.3]), (4.5, [4.4, 0.2]),
             (1e3, [1e3, 0.1]), (1e-6, [1.0, 1.0]), (30.0, [1.0, 1.0])],
    "moyal": [(0.0, [0.0, 1.0]), (-4.0, [0.0, 1.0]), (60.0, [0.0, 1.0]), (2.0001, [2.0, 1e-4]),
              (1e3, [900.0, 30.0])],
    "triangular": [(0.5, [0.0, 1.0, 0.5]), (0.1, [0.0, 1.0, 0.0]), (0.9, [0.0, 1.0, 1.0]), (9.0, [-2.0, 10.0, 9.5]),
                   (9.9, [-2.0, 10.0, 9.5]), (5.005, [5.0, 6.0, 5.01]), (1e-9, [0.0, 1.0, 0.3])],
    "geometric": [(1.0, [0.5]), (1.0, [1.0]), (40.0, [0.02]), (2.0, [0.999]), (3000.0, [1e-3]), (7.0, [0.3])],
    "discrete_weibull": [(0.0, [0.5, 1.0]), (3.0, [0.5, 1.0]), (1e6, [0.2, 0.1]), (50.0, [0.99, 2.0]),
                         (0.0, [0.999, 0.5]), (2.0, [1e-6, 3.0]), (12.0, [0.9, 1.0]), (1.0, [0.3, 8.0])],
    "skew_student_t": [(0.0, [2.0, 3.0, 0.0, 1.0]), (1e4, [2.0, 3.0, 0.0, 1.0]), (-1e4, [2.0, 3.0, 0.0, 1.0]),
                       (1e8, [0.5, 0.5, 1.0, 2.0]), (-3.0, [20.0, 0.3, 0.0, 0.1]), (0.7, [1.5, 1.5, 0.7, 1e-3])],
})


def random_params(name):
    if name == "normal":
        return [float(rng.uniform(-50, 50)), loguniform(1e-3, 1e3)]
    if name == "half_normal":
        return [loguniform(1e-3, 1e3)]
    if name == "exponential":
        return [loguniform(1e-3, 1e3)]
    if name == "gamma":
        return [loguniform(0.05, 200.0), loguniform(1e-2, 1e2)]
    if name == "beta":
        return [loguniform(0.1, 50.0), loguniform(0.1, 50.0)]
    if name == "uniform":
        lo = float(rng.uniform(-100, 100))
        return [lo, lo + loguniform(1e-3, 1e3)]
    if name == "student_t":
        return [loguniform(0.5, 50.0), float(rng.uniform(-20, 20)), loguniform(1e-2, 1e2)]
    if name == "cauchy":
        return [float(rng.uniform(-20, 20)), loguniform(1e-3, 1e3)]
    if name == "log_normal":
        return [float(rng.uniform(-5, 5)), loguniform(0.05, 3.0)]
    if name == "half_cauchy":
        return [loguniform(1e-3, 1e3)]
    if name == "bernoulli":
        return [float(rng.uniform(0.001, 0.999))]
    if name == "bernoulli_logit":
        return [float(rng.uniform(-30, 30))]
    if name == "binomial":
        return [float(rng.integers(1, 2000)), float(rng.uniform(0.001, 0.999))]
    if name == "binomial_logit":
        return [float(rng.integers(1, 2000)), float(rng.uniform(-8, 8))]
    if name == "poisson":
        return [loguniform(1e-3, 1e4)]
    if name == "poisson_log":
        return [float(rng.uniform(-6, 9))]
    if name == "negative_binomial":
        return [loguniform(1e-2, 1e3), loguniform(1e-2, 1e3)]
    if name == "negative_binomial_log":
        return [float(rng.uniform(-4, 7)), loguniform(1e-2, 1e3)]
    if name in ("flat", "half_flat"):
        return []
    if name == "half_student_t":
        return [loguniform(0.5, 50.0), loguniform(1e-2, 1e2)]
    if name == "inverse_gamma":
        return [loguniform(0.1, 100.0), loguniform(1e-2, 1e2)]
    if name == "weibull":
        return [loguniform(0.3, 20.0), loguniform(1e-2, 1e2)]
    if name == "skew_normal":
        return [float(rng.uniform(-50, 50)), loguniform(1e-2, 1e2), float(rng.uniform(-15, 15))]
    if name == "truncated_normal":
        mu, sd = float(rng.uniform(-20, 20)), loguniform(0.1, 10.0)
        lo = mu + sd * float(rng.uniform(-3, 2))
        return [lo, lo + sd * loguniform(0.05, 5.0), mu, sd]
    if name in ("truncated_normal_lower", "truncated_normal_upper"):
        mu, sd = float(rng.uniform(-20, 20)), loguniform(0.1, 10.0)
        return [mu + sd * float(rng.uniform(-3, 3)), mu, sd]
    if name in ("laplace", "logistic"):
        return [float(rng.uniform(-50, 50)), loguniform(1e-3, 1e3)]
    if name == "zero_inflated_poisson":
        return [float(rng.uniform(0.01, 0.99)), loguniform(1e-2, 1e3)]
    if name == "zero_inflated_negative_binomial":
        return [float(rng.uniform(0.01, 0.99)), loguniform(1e-2, 1e3), loguniform(1e-2, 1e3)]
    if name == "zero_inflated_binomial":
        return [float(rng.uniform(0.01, 0.99)), float(rng.integers(1, 2000)), float(rng.uniform(0.001, 0.999))]
    if name == "beta_binomial":
        return [loguniform(0.05, 200.0), loguniform(0.05, 200.0), float(rng.integers(1, 2000))]
    if name == "hurdle_poisson":
        return [float(rng.uniform(0.01, 0.99)), loguniform(1e-2, 1e3)]
    if name == "hurdle_negative_binomial":
        return [float(rng.uniform(0.01, 0.99)), loguniform(1e-2, 1e3), loguniform(1e-2, 1e3)]
    if name == "hurdle_gamma":
        return [float(rng.uniform(0.01, 0.99)), loguniform(0.05, 200.0), loguniform(1e-2, 1e2)]
    if name == "hurdle_log_normal":
        return [float(rng.uniform(0.01, 0.99)), float(rng.uniform(-5, 5)), loguniform(0.05, 3.0)]
    if name.startswith("censored_"):
        base = {
            "censored_normal": lambda: [float(rng.uniform(-50, 50)), loguniform(1e-2, 1e2)],
            "censored_log_normal": lambda: [float(rng.uniform(-5, 5)), loguniform(0.05, 3.0)],
            "censored_exponential": lambda: [loguniform(1e-2, 1e2)],
            "censored_weibull": lambda: [loguniform(0.3, 10.0), loguniform(1e-2, 1e2)],
        }[name]()
        d = FAMILIES[name][1](-NO_BOUND, NO_BOUND, *base).base
        lo, hi = float(d.ppf(rng.uniform(0.02, 0.4))), float(d.ppf(rng.uniform(0.6, 0.98)))
        side = int(rng.integers(0, 3))
        return [-NO_BOUND if side == 1 else lo, NO_BOUND if side == 2 else hi] + base
    if name == "gumbel":
        return [float(rng.uniform(-50, 50)), loguniform(1e-3, 1e3)]
    if name == "pareto":
        return [loguniform(1e-3, 1e3), loguniform(0.1, 50.0)]
    if name == "wald":
        return [loguniform(1e-2, 1e2), loguniform(1e-2, 1e3)]
    if name == "ex_gaussian":
        return [float(rng.uniform(-20, 20)), loguniform(1e-2, 10.0), loguniform(1e-2, 10.0)]
    if name == "kumaraswamy":
        return [loguniform(0.1, 50.0), loguniform(0.1, 50.0)]
    if name == "asymmetric_laplace":
        return [loguniform(0.05, 20.0), float(rng.uniform(-50, 50)), loguniform(1e-2, 1e2)]
    if name == "chi_squared":
        return [loguniform(0.1, 200.0)]
    if name == "logit_normal":
        return [float(rng.uniform(-5, 5)), loguniform(0.05, 5.0)]
    if name == "von_mises":
        return [float(rng.uniform(-math.pi, math.pi)), loguniform(1e-2, 1e3)]
    if name == "rice":
        return [loguniform(1e-2, 1e2), loguniform(1e-2, 1e2)]
    if name == "moyal":
        return [float(rng.uniform(-50, 50)), loguniform(1e-3, 1e3)]
    if name == "triangular":
        lo = float(rng.uniform(-100, 100))
        w = loguniform(1e-2, 1e2)
        return [lo, lo + w, lo + w * float(rng.uniform(0, 1))]
    if name == "geometric":
        return [float(rng.uniform(1e-3, 0.999))]
    if name == "discrete_weibull":
        return [float(rng.uniform(0.01, 0.99)), loguniform(0.2, 5.0)]
    if name == "skew_student_t":
        return [loguniform(0.2, 50.0), loguniform(0.2, 50.0), float(rng.uniform(-20, 20)), loguniform(1e-2, 1e2)]
    raise KeyError(name)


def main():
    out = {"scipy_version": scipy.__version__, "seed": SEED, "families": {}}
    for name, (pnames, make) in FAMILIES.items():
        points = []
        cases = list(FIXED[name])
        for _ in range(N_RANDOM):
            cases.append((None, random_params(name)))
        for x, p in cases:
            d = make(*p)
            if x is None:
                x = float(d.ppf(quantile()))
            lp = float(d.logpmf(x) if name in DISCRETE else d.logpdf(x))
            # scipy forms p = expit(l) first and loses ln(1 - p) for large l; the logit
            # families' oracle uses log_expit instead (scipy.special, accurate to the last bit).
            if name == "bernoulli_logit":
                lp = float(special.log_expit(p[0] if x == 1 else -p[0]))
            if name == "binomial_logit":
                n, l = p
                lchoose = special.gammaln(n + 1) - special.gammaln(x + 1) - special.gammaln(n - x + 1)
                lp = float(lchoose + x * special.log_expit(l) + (n - x) * special.log_expit(-l))
            if not math.isfinite(lp):
                raise ValueError(f"{name}: non-finite logpdf at x={x}, p={p}")
            if name == "uniform" and not (p[0] < x < p[1]):
                raise ValueError(f"uniform point outside support: {x}, {p}")
            points.append({"x": float(x), "p": [float(v) for v in p], "logpdf": lp})
        out["families"][name] = {"params": pnames, "points": points}
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps(out, indent=1) + "\n")
    counts = {k: len(v["points"]) for k, v in out["families"].items()}
    print(f"wrote {OUT} (scipy {scipy.__version__}): {counts}")


if __name__ == "__main__":
    main()
