"""Reference posteriors of two models with an ordered transform, for tests/posterior_vector.rs:
simulated data and PyMC's NUTS posterior summaries.

- Ordinal regression: eta = X @ beta (300 rows, 2 covariates), beta ~ Normal(0, 2),
  cutpoints ~ Normal(0, 5) with transform=ordered (3 cut points, 4 categories),
  y ~ OrderedLogistic(eta, cutpoints).
- Ordinal probit regression: the same form with OrderedProbit (sigma = 1) and outcomes from
  a latent normal.
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


def ordinal(rng, n, beta_true, cut_true, probit):
    """An ordinal regression on simulated data: latent logistic (OrderedLogistic) or normal
    (OrderedProbit, sigma = 1) noise around X @ beta, cut at cut_true."""
    x = rng.normal(size=(n, 2))
    noise = rng.normal(size=n) if probit else rng.logistic(size=n)
    y = np.searchsorted(np.array(cut_true), x @ np.array(beta_true) + noise)
    with pm.Model():
        beta = pm.Normal("beta", 0.0, 2.0, shape=2)
        cut = pm.Normal("cutpoints", 0.0, 5.0, shape=3, transform=ORDERED, initval=np.array([-1.0, 0.0, 1.0]))
        eta = pm.math.dot(x, beta)
        if probit:
            pm.OrderedProbit("y", eta=eta, cutpoints=cut, sigma=1.0, observed=y)
        else:
            pm.OrderedLogistic("y", eta=eta, cutpoints=cut, observed=y)
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
    data = {"pymc": pm.__version__}
    data["ordinal"] = ordinal(rng, 300, [1.2, -0.7], [-1.5, 0.2, 1.8], probit=False)
    data["mixture"] = mixture(rng)
    data["probit"] = ordinal(rng, 250, [0.8, -0.5], [-1.0, 0.3, 1.2], probit=True)
    OUT.write_text(json.dumps(data, indent=1) + "\n")
    for model in ["ordinal", "mixture", "probit"]:
        print(model, {k: [round(m, 3) for m in v["mean"]] for k, v in data[model]["posterior"].items()})
    print(f"wrote {OUT}")


if __name__ == "__main__":
    main()
