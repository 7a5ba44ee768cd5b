"""Reference posterior of a discrete Weibull regression for tests/discrete.rs: simulated data
and PyMC's NUTS posterior summaries (pymc_reference.record: nutpie, 4 × 5000 draws).

- discrete_weibull: 150 counts against a covariate; a ~ Normal(0, 2), b ~ Normal(0, 2),
  beta ~ Gamma(2, 1), y ~ DiscreteWeibull(q = logistic(a + b x), beta): a free shape, so the
  partials in both parameters are exercised.

The counts are drawn by inverting P(X <= x) = 1 - q^((x+1)^beta) (scipy has no discrete Weibull).

Usage: python scripts/make_discrete_weibull_oracle.py   (writes tests/data/discrete_weibull_oracle.json)
"""

import json
import pathlib

import numpy as np
import nutpie
import pymc as pm

from pymc_reference import record

SEED = 20261207
OUT = pathlib.Path(__file__).resolve().parent.parent / "tests" / "data" / "discrete_weibull_oracle.json"


def main():
    rng = np.random.default_rng(SEED)
    out = {"pymc": pm.__version__, "nutpie": nutpie.__version__, "models": {}}
    x = rng.normal(size=150)
    q = 1.0 / (1.0 + np.exp(-(1.0 - 0.8 * x)))
    u = rng.uniform(size=150)
    y = np.maximum(np.ceil((np.log1p(-u) / np.log(q)) ** (1.0 / 1.5) - 1.0), 0.0)
    with pm.Model() as m:
        a = pm.Normal("a", 0, 2)
        b = pm.Normal("b", 0, 2)
        beta = pm.Gamma("beta", 2, 1)
        pm.DiscreteWeibull("y", q=pm.math.invlogit(a + b * x), beta=beta, observed=y)
    record(out, "discrete_weibull", {"x": x, "y": y}, m, ["a", "b", "beta"], SEED)
    OUT.write_text(json.dumps(out, indent=1) + "\n")
    print(f"wrote {OUT}")


if __name__ == "__main__":
    main()
