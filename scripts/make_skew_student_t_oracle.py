"""Reference posterior of a skewed-t model for tests/continuous_families.rs: simulated data and
PyMC's NUTS posterior summaries (pymc_reference.record: nutpie, 4 × 5000 draws).

- skew_student_t: 1000 values from Jones & Faddy's skew-t (a = 4, b = 1.5, loc 1, scale 2);
  a ~ Gamma(4, 1), b ~ Gamma(4, 1), mu ~ Normal(0, 5), sigma ~ HalfNormal(3),
  y ~ SkewStudentT(a, b, mu, sigma): free shapes, so the normaliser's partials are exercised.

Usage: python scripts/make_skew_student_t_oracle.py   (writes tests/data/skew_student_t_oracle.json)
"""

import json
import pathlib

import nutpie
import numpy as np
import pymc as pm
from scipy import stats

from pymc_reference import record

SEED = 20261207
OUT = pathlib.Path(__file__).resolve().parent.parent / "tests" / "data" / "skew_student_t_oracle.json"


def main():
    rng = np.random.default_rng(SEED)
    out = {"pymc": pm.__version__, "nutpie": nutpie.__version__, "models": {}}
    y = stats.jf_skew_t(4.0, 1.5, loc=1.0, scale=2.0).rvs(size=1000, random_state=rng)
    with pm.Model() as m:
        a = pm.Gamma("a", 4, 1)
        b = pm.Gamma("b", 4, 1)
        mu = pm.Normal("mu", 0, 5)
        sigma = pm.HalfNormal("sigma", 3)
        pm.SkewStudentT("y", a=a, b=b, mu=mu, sigma=sigma, observed=y)
    record(out, "skew_student_t", {"y": y}, m, ["a", "b", "mu", "sigma"], SEED)
    OUT.write_text(json.dumps(out, indent=1) + "\n")
    print(f"wrote {OUT}")


if __name__ == "__main__":
    main()
