"""Reference posteriors of models with the families added together with the trigonometric
functions (VonMises, Rice, Moyal, Triangular, Geometric) for tests/circular_families.rs:
simulated data and PyMC's NUTS posterior summaries.

- circular_regression: PyMC's circular regression, 200 directions against a covariate;
  beta0 ~ VonMises(0, 2.5), beta1 ~ Normal(0, 1), kappa ~ HalfNormal(10),
  y ~ VonMises(beta0 + 2 arctan(beta1 x), kappa): a free angle (circular transform), arctan.
  The likelihood has a minor mode (beta0 near -2.2, kappa near 0.8) where a chain started at
  random may stay (one of nutpie's four did): every chain starts at beta0 = beta1 = 0.5,
  kappa = 5, in PyMC and in the test alike.
- mean_direction: 40 angles around 3.0 rad; mu ~ VonMises(0, 0.1), kappa ~ HalfNormal(5),
  y ~ VonMises(mu, kappa): the posterior of mu straddles ±π, so its draws wrap.
- seasonal: 96 monthly values; amp ~ HalfNormal(3), phase ~ VonMises(0, 0.01),
  sigma ~ HalfNormal(2), y ~ Normal(amp cos(2π t/12 − phase), sigma): cos of a free angle.
- rice: 100 magnitudes; nu ~ HalfNormal(5), sigma ~ HalfNormal(2), y ~ Rice(nu, sigma).
- moyal: 80 energy losses; mu ~ Normal(0, 10), sigma ~ HalfNormal(5), y ~ Moyal(mu, sigma).
- triangular: 60 values on (0, 10); c ~ Uniform(0, 10), y ~ Triangular(0, c, 10).
- geometric: 100 trial counts; a ~ Normal(0, 2), b ~ Normal(0, 2),
  y ~ Geometric(p = logistic(a + b x)).

Deterministic data (fixed seed). The PyMC models are sampled by nutpie, 4 chains of 5000 draws
after 1000 tuning steps; ArviZ gives each quantity's posterior mean, standard deviation, Monte
Carlo standard error of the mean and R-hat (of the draws as PyMC reports them: angles wrapped
into [-π, π]).

Usage: python scripts/make_circular_oracle.py   (writes tests/data/circular_oracle.json)
"""

import json
import pathlib

import numpy as np
import nutpie
import pymc as pm
from scipy import stats

from pymc_reference import record

SEED = 20261207
OUT = pathlib.Path(__file__).resolve().parent.parent / "tests" / "data" / "circular_oracle.json"


def wrap(a):
    return np.remainder(a + np.pi, 2 * np.pi) - np.pi


def main():
    rng = np.random.default_rng(SEED)
    out = {"pymc": pm.__version__, "nutpie": nutpie.__version__, "models": {}}

    x = rng.uniform(-2, 2, size=200)
    y = wrap(1.0 + 2 * np.arctan(0.8 * x) + stats.vonmises(12.0).rvs(size=200, random_state=rng))
    with pm.Model() as m:
        beta0 = pm.VonMises("beta0", mu=0, kappa=2.5)
        beta1 = pm.Normal("beta1", 0, 1)
        kappa = pm.HalfNormal("kappa", 10)
        pm.VonMises("y", mu=beta0 + 2 * pm.math.arctan(beta1 * x), kappa=kappa, observed=y)
    init = {"beta0": 0.5, "beta1": 0.5, "kappa": 5.0}
    record(out, "circular_regression", {"x": x, "y": y}, m, ["beta0", "beta1", "kappa"], SEED, init)

    y = wrap(stats.vonmises(2.0, loc=3.0).rvs(size=40, random_state=rng))
    with pm.Model() as m:
        mu = pm.VonMises("mu", mu=0, kappa=0.1)
        kappa = pm.HalfNormal("kappa", 5)
        pm.VonMises("y", mu=mu, kappa=kappa, observed=y)
    record(out, "mean_direction", {"y": y}, m, ["mu", "kappa"], SEED)

    t = np.arange(96.0)
    y = 2.0 * np.cos(2 * np.pi * t / 12 - 1.0) + 0.8 * rng.normal(size=96)
    with pm.Model() as m:
        amp = pm.HalfNormal("amp", 3)
        phase = pm.VonMises("phase", mu=0, kappa=0.01)
        sigma = pm.HalfNormal("sigma", 2)
        pm.Normal("y", mu=amp * pm.math.cos(2 * np.pi * t / 12 - phase), sigma=sigma, observed=y)
    record(out, "seasonal", {"t": t, "y": y}, m, ["amp", "phase", "sigma"], SEED)

    y = stats.rice(2.0, scale=1.0).rvs(size=100, random_state=rng)
    with pm.Model() as m:
        nu = pm.HalfNormal("nu", 5)
        sigma = pm.HalfNormal("sigma", 2)
        pm.Rice("y", nu=nu, sigma=sigma, observed=y)
    record(out, "rice", {"y": y}, m, ["nu", "sigma"], SEED)

    y = stats.moyal(loc=3.0, scale=1.5).rvs(size=80, random_state=rng)
    with pm.Model() as m:
        mu = pm.Normal("mu", 0, 10)
        sigma = pm.HalfNormal("sigma", 5)
        pm.Moyal("y", mu=mu, sigma=sigma, observed=y)
    record(out, "moyal", {"y": y}, m, ["mu", "sigma"], SEED)

    y = stats.triang(0.3, loc=0.0, scale=10.0).rvs(size=60, random_state=rng)
    with pm.Model() as m:
        c = pm.Uniform("c", 0, 10)
        pm.Triangular("y", lower=0, c=c, upper=10, observed=y)
    record(out, "triangular", {"y": y}, m, ["c"], SEED)

    x = rng.normal(size=100)
    y = stats.geom(1.0 / (1.0 + np.exp(-(-1.0 + 0.7 * x)))).rvs(random_state=rng).astype(float)
    with pm.Model() as m:
        a = pm.Normal("a", 0, 2)
        b = pm.Normal("b", 0, 2)
        pm.Geometric("y", p=pm.math.invlogit(a + b * x), observed=y)
    record(out, "geometric", {"x": x, "y": y}, m, ["a", "b"], SEED)

    OUT.write_text(json.dumps(out, indent=1) + "\n")
    print(f"wrote {OUT}")


if __name__ == "__main__":
    main()
