"""Reference posteriors of two models with an ordered transform, for tests/posterior_vector.rs:
simulated data and PyMC's NUTS posterior summaries.

- Ordinal regression: eta = X @ beta (300 rows, 2 covariates), beta ~ Normal(0, 2),
  cutpoints ~ Normal(0, 5) with transform=ordered (3 cut points, 4 categories),
  y ~ OrderedLogistic(eta, cutpoints).
- Normal mixture with ordered means: w ~ Dirichlet([2, 2]), mu ~ Normal(0, 5) with
  transform=ordered, sigma ~ HalfNormal(2), y ~ NormalMixture(w, mu, sigma). The means' prior
  is exchangeable: without the ordering the posterior has two symmetric modes.

Deterministic data (fixed seed); PyMC samples 4 chains of 5000 draws after 1000 tuning steps;
ArviZ gives each element's mean, standard deviation and Monte Carlo standard error.

Usage: python scripts/make_ordinal_oracle.py   (writes tests/data/ordinal_oracle.json)
"""

import json
import pathlib

import arviz as az
import numpy as np
import pymc as pm

SEED = 20261206
OUT = pathlib.Path(__file__).resolve().parent.parent / "tests" / "data" / "ordinal_oracle.json"
ORDERED = pm.distributions.transforms.ordered


def summarize(idata, names):
    summary = az.summary(idata, round_to="none")
    post = {}
    for name in names:
        values = idata.posterior[name].values
        values = values.reshape(values.shape[0] * values.shape[1], -1)
        labels = [f"{name}[{k}]" for k in range(values.shape[1])]
        post[name] = {
            "mean": [float(v) for v in values.mean(axis=0)],
            "sd": [float(v) for v in values.std(axis=0, ddof=1)],
            "mcse_mean": [float(summary.loc[lab, "mcse_mean"]) for lab in labels],
            "r_hat_max": float(max(summary.loc[lab, "r_hat"] for lab in labels)),
        }
    return post


def sample():
    return pm.sample(5000, tune=1000, chains=4, cores=2, random_seed=SEED, progressbar=False)


def ordinal(rng):
    n = 300
    x = rng.normal(size=(n, 2))
    latent = x @ np.array([1.2, -0.7]) + rng.logistic(size=n)
    y = np.searchsorted(np.array([-1.5, 0.2, 1.8]), latent)
    with pm.Model():
        beta = pm.Normal("beta", 0.0, 2.0, shape=2)
        cut = pm.Normal("cutpoints", 0.0, 5.0, shape=3, transform=ORDERED, initval=np.array([-1.0, 0.0, 1.0]))
        pm.OrderedLogistic("y", eta=pm.math.dot(x, beta), cutpoints=cut, observed=y)
        idata = sample()
    return {"x": [float(v) for v in x.ravel()], "y": [float(v) for v in y], "posterior": summarize(idata, ["beta", "cutpoints"])}


def mixture(rng):
    n = 200
    comp = rng.uniform(size=n) < 0.4
    y = np.where(comp, rng.normal(-1.5, 0.8, size=n), rng.normal(2.0, 1.0, size=n))
    with pm.Model():
        w = pm.Dirichlet("w", a=np.array([2.0, 2.0]))
        mu = pm.Normal("mu", 0.0, 5.0, shape=2, transform=ORDERED, initval=np.array([-1.0, 1.0]))
        sigma = pm.HalfNormal("sigma", 2.0, shape=2)
        pm.NormalMixture("y", w=w, mu=mu, sigma=sigma, observed=y)
        idata = sample()
    return {"y": [float(v) for v in y], "posterior": summarize(idata, ["w", "mu", "sigma"])}


def main():
    rng = np.random.default_rng(SEED)
    data = {"pymc": pm.__version__, "ordinal": ordinal(rng), "mixture": mixture(rng)}
    OUT.write_text(json.dumps(data, indent=1) + "\n")
    for model in ["ordinal", "mixture"]:
        print(model, {k: [round(m, 3) for m in v["mean"]] for k, v in data[model]["posterior"].items()})
    print(f"wrote {OUT}")


if __name__ == "__main__":
    main()
