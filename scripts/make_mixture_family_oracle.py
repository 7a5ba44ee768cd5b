"""Reference posteriors of mixtures of one scalar family (PoissonMixture, GammaMixture,
StudentTMixture, BetaMixture: pm.Mixture with one batched component) for
tests/mixture_families.rs: simulated data and PyMC's NUTS posterior summaries.

- poisson: 300 counts from rates 2 and 9 (weights 0.6, 0.4); w ~ Dirichlet(2, 2),
  log_mu ~ Normal([0.5, 2.5], 1) with transform=ordered, y ~ Mixture(w, Poisson(exp(log_mu))).
- gamma: 250 waiting times from Gamma(3, 2) and Gamma(3, 0.25) (weights 0.7, 0.3);
  w ~ Dirichlet(2, 2), alpha ~ Gamma(2, 0.5) shared by both components,
  log_beta ~ Normal([0, -1], 1) with transform=ordered, y ~ Mixture(w, Gamma(alpha, exp(log_beta))).
- student_t: 200 values around -2 and 3 with Student-t(4) noise and a few outliers;
  w ~ Dirichlet(2, 2), mu ~ Normal([-1, 1], 3) with transform=ordered,
  sigma ~ HalfNormal(2) per component, y ~ Mixture(w, StudentT(4, mu, sigma)).
- beta: 150 proportions from Beta(2, 8) and Beta(9, 3) (weights 0.5, 0.5); w ~ Dirichlet(2, 2),
  a ~ Gamma(2, 0.3) and b ~ Gamma(2, 0.3) per component, unordered: every chain starts at
  w = (0.5, 0.5), a = (2, 9), b = (8, 3), in PyMC and in the test alike, so that all keep the
  labelling with the low proportions first (the two modes are far apart).

Deterministic data (fixed seed). The PyMC models are sampled by nutpie, 4 chains of 5000 draws
after 1000 tuning steps; ArviZ gives each quantity's posterior mean, standard deviation, Monte
Carlo standard error of the mean and R-hat.

Usage: python scripts/make_mixture_family_oracle.py   (writes tests/data/mixture_family_oracle.json)
"""

import json
import pathlib

import numpy as np
import nutpie
import pymc as pm
from pymc.distributions.transforms import ordered
from scipy import stats

from pymc_reference import record

SEED = 20261208
OUT = pathlib.Path(__file__).resolve().parent.parent / "tests" / "data" / "mixture_family_oracle.json"


def draw_mixture(rng, w, laws, n):
    comp = rng.choice(len(w), size=n, p=w)
    return np.array([float(laws[c].rvs(random_state=rng)) for c in comp])


def main():
    rng = np.random.default_rng(SEED)
    out = {"pymc": pm.__version__, "nutpie": nutpie.__version__, "models": {}}

    y = draw_mixture(rng, [0.6, 0.4], [stats.poisson(2.0), stats.poisson(9.0)], 300)
    with pm.Model() as m:
        w = pm.Dirichlet("w", a=np.array([2.0, 2.0]))
        log_mu = pm.Normal("log_mu", mu=[0.5, 2.5], sigma=1, transform=ordered, initval=[0.5, 2.5])
        pm.Mixture("y", w=w, comp_dists=pm.Poisson.dist(mu=pm.math.exp(log_mu)), observed=y)
    record(out, "poisson", {"y": y}, m, ["w", "log_mu"], SEED)

    laws = [stats.gamma(3.0, scale=1 / 2.0), stats.gamma(3.0, scale=1 / 0.25)]
    y = draw_mixture(rng, [0.7, 0.3], laws, 250)
    with pm.Model() as m:
        w = pm.Dirichlet("w", a=np.array([2.0, 2.0]))
        alpha = pm.Gamma("alpha", alpha=2, beta=0.5)
        log_beta = pm.Normal("log_beta", mu=[0.0, -1.0], sigma=1, transform=ordered, initval=[-1.0, 0.0])
        pm.Mixture("y", w=w, comp_dists=pm.Gamma.dist(alpha=alpha, beta=pm.math.exp(log_beta)), observed=y)
    record(out, "gamma", {"y": y}, m, ["w", "alpha", "log_beta"], SEED)

    laws = [stats.t(4, loc=-2.0, scale=0.7), stats.t(4, loc=3.0, scale=1.2)]
    y = draw_mixture(rng, [0.45, 0.55], laws, 200)
    y[:3] = [-15.0, 12.0, 20.0]
    with pm.Model() as m:
        w = pm.Dirichlet("w", a=np.array([2.0, 2.0]))
        mu = pm.Normal("mu", mu=[-1.0, 1.0], sigma=3, transform=ordered, initval=[-1.0, 1.0])
        sigma = pm.HalfNormal("sigma", 2, shape=2)
        pm.Mixture("y", w=w, comp_dists=pm.StudentT.dist(nu=4, mu=mu, sigma=sigma), observed=y)
    record(out, "student_t", {"y": y}, m, ["w", "mu", "sigma"], SEED)

    laws = [stats.beta(2.0, 8.0), stats.beta(9.0, 3.0)]
    y = draw_mixture(rng, [0.5, 0.5], laws, 150)
    with pm.Model() as m:
        w = pm.Dirichlet("w", a=np.array([2.0, 2.0]))
        a = pm.Gamma("a", alpha=2, beta=0.3, shape=2)
        b = pm.Gamma("b", alpha=2, beta=0.3, shape=2)
        pm.Mixture("y", w=w, comp_dists=pm.Beta.dist(alpha=a, beta=b), observed=y)
    init = {"w": np.array([0.5, 0.5]), "a": np.array([2.0, 9.0]), "b": np.array([8.0, 3.0])}
    record(out, "beta", {"y": y}, m, ["w", "a", "b"], SEED, init)

    OUT.write_text(json.dumps(out, indent=1) + "\n")
    print(f"wrote {OUT}")


if __name__ == "__main__":
    main()
