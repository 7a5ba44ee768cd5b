"""Reference posteriors of models with the multinomial likelihoods (Multinomial,
DirichletMultinomial) for tests/multinomial.rs: simulated data and PyMC's NUTS posterior
summaries.

- softmax: a multinomial logistic regression, 80 draws of 30 trials over 3 categories;
  coef ~ Normal(0, 1) of shape (2, 3), p = softmax([1, x] @ coef) row by row,
  y ~ Multinomial(n=30, p) (one n for every row of p).
- dirichlet_multinomial: 40 draws of 20 to 60 trials over 4 categories, overdispersed;
  frac ~ Dirichlet(1, 1, 1, 1), conc ~ LogNormal(1, 1),
  y ~ DirichletMultinomial(n, a=frac * conc).

Deterministic data (fixed seed). The PyMC models are sampled by nutpie, 4 chains of 5000 draws
after 1000 tuning steps; ArviZ gives each element's posterior mean, standard deviation, Monte
Carlo standard error of the mean and R-hat, named `name[i]` by position (row by row).

Usage: python scripts/make_multinomial_oracle.py   (writes tests/data/multinomial_oracle.json)
"""

import json
import pathlib

import numpy as np
import nutpie
import pymc as pm
import pytensor.tensor as pt

from pymc_reference import record

SEED = 20261207
OUT = pathlib.Path(__file__).resolve().parent.parent / "tests" / "data" / "multinomial_oracle.json"


def softmax(eta):
    e = np.exp(eta - eta.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def main():
    rng = np.random.default_rng(SEED)
    out = {"pymc": pm.__version__, "nutpie": nutpie.__version__, "models": {}}

    x = rng.normal(size=80)
    design = np.column_stack([np.ones(80), x])
    truth = np.array([[0.0, 0.5, -0.3], [0.0, 1.0, -0.8]])
    y = np.array([rng.multinomial(30, p) for p in softmax(design @ truth)])
    with pm.Model() as m:
        coef = pm.Normal("coef", 0, 1, shape=(2, 3))
        pm.Multinomial("y", n=30, p=pm.math.softmax(pt.dot(design, coef), axis=-1), observed=y)
    record(out, "softmax", {"x": x, "y": y}, m, ["coef"], SEED)

    n = rng.integers(20, 61, size=40)
    probs = rng.dirichlet(8.0 * np.array([0.1, 0.2, 0.3, 0.4]), size=40)
    y = np.array([rng.multinomial(k, p) for k, p in zip(n, probs)])
    with pm.Model() as m:
        frac = pm.Dirichlet("frac", np.ones(4))
        conc = pm.LogNormal("conc", 1, 1)
        pm.DirichletMultinomial("y", n=n, a=frac * conc, observed=y)
    record(out, "dirichlet_multinomial", {"n": n, "y": y}, m, ["frac", "conc"], SEED)

    OUT.write_text(json.dumps(out, indent=1) + "\n")
    print(f"wrote {OUT}")


if __name__ == "__main__":
    main()
