"""Reference posterior of a robust multivariate location model with a multivariate Student-t
likelihood, for tests/robust_multivariate.rs: simulated data and PyMC's NUTS posterior summary.

- robust_location: 80 bivariate rows from a multivariate t (nu = 4) around (1, -2) with scale
  matrix s² L Lᵀ (s = 1.5, L a fixed factor given as data), and 4 of them moved far out;
  mu ~ Normal(0, 5) (2 values), nu ~ Gamma(2, 0.1), s ~ HalfNormal(3),
  y ~ MvStudentT(nu, mu, chol = s L).

Deterministic data (fixed seed); sampled by nutpie, 4 chains of 5000 draws after 1000 tuning
steps (scripts/pymc_reference.py).

Usage: python scripts/make_mv_student_t_oracle.py   (writes tests/data/mv_student_t_oracle.json)
"""

import json
import pathlib

import numpy as np
import nutpie
import pymc as pm
from scipy import stats

from pymc_reference import record

SEED = 20261208
OUT = pathlib.Path(__file__).resolve().parent.parent / "tests" / "data" / "mv_student_t_oracle.json"


def main():
    rng = np.random.default_rng(SEED)
    out = {"pymc": pm.__version__, "nutpie": nutpie.__version__, "models": {}}

    chol = np.array([[1.0, 0.0], [0.6, 0.8]])
    shape = 1.5**2 * chol @ chol.T
    y = stats.multivariate_t(np.array([1.0, -2.0]), shape, df=4.0).rvs(size=80, random_state=rng)
    y[:4] += np.array([[12.0, -9.0], [-10.0, 8.0], [9.0, 11.0], [-12.0, -10.0]])
    with pm.Model() as m:
        mu = pm.Normal("mu", 0, 5, shape=2)
        nu = pm.Gamma("nu", 2, 0.1)
        s = pm.HalfNormal("s", 3)
        pm.MvStudentT("y", nu=nu, mu=mu, chol=s * chol, observed=y)
    record(out, "robust_location", {"chol": chol, "y": y}, m, ["mu", "nu", "s"], SEED)

    OUT.write_text(json.dumps(out, indent=1) + "\n")
    print(f"wrote {OUT}")


if __name__ == "__main__":
    main()
