"""Reference posteriors of two models with zero-sum group effects for tests/zero_sum.rs.

- conjugate: y[i] ~ Normal(mu + a[g[i]], 1) with mu ~ Normal(0, 5), a ~ ZeroSumNormal(1.5) over
  5 groups of unequal sizes. The posterior is Gaussian: with a = H^T b (H Helmert's orthonormal
  basis of the zero-sum plane, scipy.linalg.helmert), b ~ Normal(0, 1.5^2 I), it is the normal
  linear model's posterior, written out with numpy (a basis independent of exmc's transform).
- hierarchical: y[i] ~ Normal(mu + a[g[i]], sigma_y), a ~ ZeroSumNormal(sigma_g) over 8 groups,
  mu ~ Normal(0, 5), sigma_g ~ HalfNormal(1), sigma_y ~ HalfNormal(2): PyMC's NUTS, 4 chains of
  5000 draws after 1000 tuning steps, with ArviZ's Monte Carlo standard errors.

Usage: python scripts/make_zerosum_oracle.py   (writes tests/data/zerosum_oracle.json)
"""

import json
import pathlib

import arviz as az
import numpy as np
import pymc as pm
from scipy import linalg

SEED = 20261208
OUT = pathlib.Path(__file__).resolve().parent.parent / "tests" / "data" / "zerosum_oracle.json"


def conjugate(rng):
    sizes = [3, 6, 2, 8, 4]
    g = np.repeat(np.arange(5), sizes)
    effects = np.array([0.8, -0.5, 1.1, -1.0, -0.4])
    y = 2.0 + effects[g] + rng.normal(size=g.size)
    h = linalg.helmert(5)  # 4 x 5, orthonormal rows orthogonal to ones
    x = np.column_stack([np.ones(g.size), h.T[g]])
    prior_precision = np.diag([1 / 25.0] + [1 / 1.5**2] * 4)
    cov = np.linalg.inv(x.T @ x + prior_precision)
    mean = cov @ x.T @ y
    # a = H^T b: its mean and covariance.
    # Rows: mu and a[0..5] as linear maps of (mu, b).
    full = np.zeros((6, 5))
    full[0, 0] = 1.0
    full[1:, 1:] = h.T
    m = full @ mean
    sd = np.sqrt(np.diag(full @ cov @ full.T))
    post = {"mu": {"mean": [float(m[0])], "sd": [float(sd[0])]}, "a": {"mean": [float(v) for v in m[1:]], "sd": [float(v) for v in sd[1:]]}}
    return {"g": [int(v) for v in g], "y": [float(v) for v in y], "posterior": post}


def hierarchical(rng):
    g = np.repeat(np.arange(8), 10)
    effects = rng.normal(size=8) * 0.7
    effects -= effects.mean()
    y = 1.0 + effects[g] + rng.normal(size=g.size) * 1.2
    with pm.Model():
        mu = pm.Normal("mu", 0, 5)
        sigma_g = pm.HalfNormal("sigma_g", 1)
        a = pm.ZeroSumNormal("a", sigma=sigma_g, shape=8)
        sigma_y = pm.HalfNormal("sigma_y", 2)
        pm.Normal("y", mu + a[g], sigma_y, observed=y)
        idata = pm.sample(5000, tune=1000, chains=4, cores=2, random_seed=SEED, progressbar=False, target_accept=0.9)
    summary = az.summary(idata, round_to="none")
    post = {}
    for v in ["mu", "sigma_g", "sigma_y", "a"]:
        draws = idata.posterior[v].values.reshape(20000, -1)
        rows = [v] if draws.shape[1] == 1 else [f"{v}[{i}]" for i in range(draws.shape[1])]
        post[v] = {
            "mean": [float(x) for x in draws.mean(0)],
            "sd": [float(x) for x in draws.std(0, ddof=1)],
            "mcse_mean": [float(summary.loc[r, "mcse_mean"]) for r in rows],
            "r_hat": [float(summary.loc[r, "r_hat"]) for r in rows],
        }
    divergences = int(idata.sample_stats["diverging"].values.sum())
    return {"g": [int(v) for v in g], "y": [float(v) for v in y], "posterior": post, "divergences": divergences}


def main():
    rng = np.random.default_rng(SEED)
    out = {"pymc": pm.__version__, "conjugate": conjugate(rng), "hierarchical": hierarchical(rng)}
    OUT.write_text(json.dumps(out, indent=1) + "\n")
    print({k: v["posterior"]["mu"]["mean"] for k, v in out.items() if k != "pymc"}, "divergences", out["hierarchical"]["divergences"])
    print(f"wrote {OUT}")


if __name__ == "__main__":
    main()
