"""Reference posteriors of models with the continuous likelihoods added in one batch (Gumbel,
Wald, ExGaussian, Kumaraswamy, AsymmetricLaplace, ChiSquared, LogitNormal) for
tests/continuous_families.rs: simulated data and PyMC's NUTS posterior summaries.

- quantile: Bayesian quantile regression at q = 0.8 on 150 heteroscedastic points;
  a ~ Normal(0, 10), b ~ Normal(0, 5), rate ~ HalfNormal(5),
  y ~ AsymmetricLaplace(q=0.8, mu=a + b x, b=rate).
- ex_gaussian: 120 reaction times; mu ~ Normal(0.5, 0.3), sigma ~ HalfNormal(0.3),
  nu ~ HalfNormal(0.5), y ~ ExGaussian(mu, sigma, nu).
- wald: 100 reaction times in two conditions; a ~ Normal(0, 1), b ~ Normal(0, 1),
  lam ~ HalfNormal(10), y ~ Wald(mu=exp(a + b cond), lam).
- gumbel: 60 annual maxima; loc ~ Normal(30, 10), scale ~ HalfNormal(10), y ~ Gumbel(loc, scale).
- kumaraswamy: 80 proportions; a ~ HalfNormal(5), b ~ HalfNormal(5), y ~ Kumaraswamy(a, b).
- logit_normal: 80 proportions; mu ~ Normal(0, 2), sigma ~ HalfNormal(2), y ~ LogitNormal(mu, sigma).
- chi_squared: 50 values; nu ~ Exponential(0.1), y ~ ChiSquared(nu).

Deterministic data (fixed seed). The PyMC models are sampled by nutpie, 4 chains of 5000 draws
after 1000 tuning steps; ArviZ gives each quantity's posterior mean, standard deviation, Monte
Carlo standard error of the mean and R-hat.

Usage: python scripts/make_continuous_oracle.py   (writes tests/data/continuous_oracle.json)
"""

import json
import pathlib

import numpy as np
import nutpie
import pymc as pm
from scipy import stats

from pymc_reference import record

SEED = 20261206
OUT = pathlib.Path(__file__).resolve().parent.parent / "tests" / "data" / "continuous_oracle.json"


def main():
    rng = np.random.default_rng(SEED)
    out = {"pymc": pm.__version__, "nutpie": nutpie.__version__, "models": {}}

    x = rng.uniform(0, 10, size=150)
    y = 1.0 + 0.5 * x + (0.5 + 0.2 * x) * rng.normal(size=150)
    with pm.Model() as m:
        a = pm.Normal("a", 0, 10)
        b = pm.Normal("b", 0, 5)
        rate = pm.HalfNormal("rate", 5)
        pm.AsymmetricLaplace("y", q=0.8, mu=a + b * x, b=rate, observed=y)
    record(out, "quantile", {"x": x, "y": y}, m, ["a", "b", "rate"], SEED)

    y = 0.45 + 0.05 * rng.normal(size=120) + rng.exponential(0.25, size=120)
    with pm.Model() as m:
        mu = pm.Normal("mu", 0.5, 0.3)
        sigma = pm.HalfNormal("sigma", 0.3)
        nu = pm.HalfNormal("nu", 0.5)
        pm.ExGaussian("y", mu=mu, sigma=sigma, nu=nu, observed=y)
    record(out, "ex_gaussian", {"y": y}, m, ["mu", "sigma", "nu"], SEED)

    cond = np.repeat([0.0, 1.0], 50)
    y = stats.invgauss(np.exp(-0.5 + 0.4 * cond) / 4.0, scale=4.0).rvs(random_state=rng)
    with pm.Model() as m:
        a = pm.Normal("a", 0, 1)
        b = pm.Normal("b", 0, 1)
        lam = pm.HalfNormal("lam", 10)
        pm.Wald("y", mu=pm.math.exp(a + b * cond), lam=lam, observed=y)
    record(out, "wald", {"cond": cond, "y": y}, m, ["a", "b", "lam"], SEED)

    y = stats.gumbel_r(loc=32.0, scale=6.0).rvs(size=60, random_state=rng)
    with pm.Model() as m:
        loc = pm.Normal("loc", 30, 10)
        scale = pm.HalfNormal("scale", 10)
        pm.Gumbel("y", mu=loc, beta=scale, observed=y)
    record(out, "gumbel", {"y": y}, m, ["loc", "scale"], SEED)

    u = rng.uniform(size=80)
    y = (1.0 - (1.0 - u) ** (1.0 / 3.0)) ** (1.0 / 2.0)
    with pm.Model() as m:
        a = pm.HalfNormal("a", 5)
        b = pm.HalfNormal("b", 5)
        pm.Kumaraswamy("y", a=a, b=b, observed=y)
    record(out, "kumaraswamy", {"y": y}, m, ["a", "b"], SEED)

    y = 1.0 / (1.0 + np.exp(-(0.5 + 0.8 * rng.normal(size=80))))
    with pm.Model() as m:
        mu = pm.Normal("mu", 0, 2)
        sigma = pm.HalfNormal("sigma", 2)
        pm.LogitNormal("y", mu=mu, sigma=sigma, observed=y)
    record(out, "logit_normal", {"y": y}, m, ["mu", "sigma"], SEED)

    y = rng.chisquare(4.0, size=50)
    with pm.Model() as m:
        nu = pm.Exponential("nu", 0.1)
        pm.ChiSquared("y", nu=nu, observed=y)
    record(out, "chi_squared", {"y": y}, m, ["nu"], SEED)

    OUT.write_text(json.dumps(out, indent=1) + "\n")
    print(f"wrote {OUT}")


if __name__ == "__main__":
    main()
