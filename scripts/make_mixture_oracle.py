"""Reference posterior of a two-component normal mixture, for tests/posterior_vector.rs:
simulated data and PyMC's NUTS posterior summary.

Model: w ~ Dirichlet([2, 2]), mu ~ Normal([-2, 2], 1), sigma[k] ~ HalfNormal(2),
y[i] ~ NormalMixture(w, mu, sigma). The data (200 values from components at -1.8 and 2.1 with
weights 0.35 and 0.65) and the priors keep the two components apart, so no chain switches
labels. Deterministic data (fixed seed); PyMC samples 4 chains of 5000 draws after 1000 tuning
steps; ArviZ gives each element's mean, standard deviation and Monte Carlo standard error.

Usage: python scripts/make_mixture_oracle.py   (writes tests/data/mixture_oracle.json)
"""

import json
import pathlib

import arviz as az
import numpy as np
import pymc as pm

SEED = 20261207
N = 200
OUT = pathlib.Path(__file__).resolve().parent.parent / "tests" / "data" / "mixture_oracle.json"


def main():
    rng = np.random.default_rng(SEED)
    comp = rng.uniform(size=N) < 0.35
    y = np.where(comp, rng.normal(-1.8, 0.7, size=N), rng.normal(2.1, 1.1, size=N))
    with pm.Model():
        w = pm.Dirichlet("w", a=np.array([2.0, 2.0]))
        mu = pm.Normal("mu", mu=np.array([-2.0, 2.0]), sigma=1.0, shape=2)
        sigma = pm.HalfNormal("sigma", 2.0, shape=2)
        pm.NormalMixture("y", w=w, mu=mu, sigma=sigma, observed=y)
        idata = pm.sample(5000, tune=1000, chains=4, cores=2, random_seed=SEED, progressbar=False)
    summary = az.summary(idata, round_to="none")
    post = {}
    for name in ["w", "mu", "sigma"]:
        values = idata.posterior[name].values.reshape(4 * 5000, -1)
        labels = [f"{name}[{k}]" for k in range(2)]
        post[name] = {
            "mean": [float(v) for v in values.mean(axis=0)],
            "sd": [float(v) for v in values.std(axis=0, ddof=1)],
            "mcse_mean": [float(summary.loc[lab, "mcse_mean"]) for lab in labels],
            "r_hat_max": float(max(summary.loc[lab, "r_hat"] for lab in labels)),
        }
    data = {"pymc": pm.__version__, "y": [float(v) for v in y], "posterior": post}
    OUT.write_text(json.dumps(data, indent=1) + "\n")
    print(f"wrote {OUT}", {k: [round(m, 3) for m in v["mean"]] for k, v in post.items()})


if __name__ == "__main__":
    main()
