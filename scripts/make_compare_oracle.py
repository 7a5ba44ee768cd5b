"""Oracle for `tests/compare_arviz.rs`: ArviZ's `loo` and `compare` on two models of the same
data with outliers (Normal, Student-t with 3 degrees of freedom, and a
Normal with its location fixed at 1): the first two alone, and all three.

Run with the peers venv (ArviZ 0.23.4):  ~/.venvs/peers/bin/python scripts/make_compare_oracle.py

Data: 20 draws of N(0, 1) (seed 11) with two replaced by outliers (3.6 and -3.1). Each model's
posterior over (mu, log sigma) under flat priors is sampled exactly on a 600 x 600 grid (iid draws,
seeds 12, 13, 14), 4 chains x 200 draws. log_lik[c, s, i] is the pointwise log density; draws and
log_lik are rounded (10 and 8 decimals) before ArviZ sees them, so the values below are exact
for the stored arrays.
"""
import json
import os

import arviz as az
import numpy as np
from scipy import stats

rng = np.random.default_rng(11)
y = rng.normal(0.0, 1.0, 20)
y[3], y[11] = 3.6, -3.1
y = np.round(y, 6)

NU = 3.0
CHAINS, DRAWS = 4, 200


def logpdf(model, yv, mu, sigma):
    if model == "normal":
        return stats.norm.logpdf(yv, mu, sigma)
    if model == "normal_mu1":  # the location fixed at 1 (mu's draws unused)
        return stats.norm.logpdf(yv, 1.0 + 0.0 * mu, sigma)
    return stats.t.logpdf(yv, NU, mu, sigma)


def sample(model, seed):
    mus = np.linspace(-2.5, 2.5, 600)
    lss = np.linspace(np.log(0.2), np.log(8.0), 600)
    M, L = np.meshgrid(mus, lss, indexing="ij")
    # flat prior on (mu, log sigma)
    lp = sum(logpdf(model, yi, M, np.exp(L)) for yi in y)
    p = np.exp(lp - lp.max()).ravel()
    p /= p.sum()
    r = np.random.default_rng(seed)
    idx = r.choice(p.size, size=CHAINS * DRAWS, p=p)
    dmu, dls = mus[1] - mus[0], lss[1] - lss[0]
    mu = M.ravel()[idx] + r.uniform(-dmu / 2, dmu / 2, idx.size)
    sigma = np.exp(L.ravel()[idx] + r.uniform(-dls / 2, dls / 2, idx.size))
    mu = np.round(mu.reshape(CHAINS, DRAWS), 10)
    sigma = np.round(sigma.reshape(CHAINS, DRAWS), 10)
    ll = np.round(logpdf(model, y[None, None, :], mu[..., None], sigma[..., None]), 8)
    return mu, sigma, ll


out = {"y": y.tolist(), "nu": NU, "models": {}, "arviz": az.__version__}
idatas = {}
for name, seed in [("normal", 12), ("student_t", 13), ("normal_mu1", 14)]:
    mu, sigma, ll = sample(name, seed)
    idata = az.from_dict(posterior={"mu": mu, "sigma": sigma}, log_likelihood={"y": ll})
    idatas[name] = idata
    l = az.loo(idata, pointwise=True)
    out["models"][name] = {
        "mu": mu.tolist(),
        "sigma": sigma.tolist(),
        "log_lik": ll.tolist(),
        "loo": {
            "elpd_loo": float(l.elpd_loo),
            "se": float(l.se),
            "p_loo": float(l.p_loo),
            "pareto_k": l.pareto_k.values.tolist(),
        },
    }
pairs = {k: idatas[k] for k in ["normal", "student_t"]}
for key, models, method in [
    ("stacking", pairs, "stacking"),
    ("pseudo-BMA", pairs, "pseudo-BMA"),
    ("three_stacking", idatas, "stacking"),
    ("three_pseudo-BMA", idatas, "pseudo-BMA"),
]:
    c = az.compare(models, ic="loo", method=method)
    out[f"compare_{key}"] = [
        {
            "name": name,
            "rank": int(row["rank"]),
            "elpd_loo": float(row["elpd_loo"]),
            "p_loo": float(row["p_loo"]),
            "elpd_diff": float(row["elpd_diff"]),
            "weight": float(row["weight"]),
            "se": float(row["se"]),
            "dse": float(row["dse"]),
            "warning": bool(row["warning"]),
        }
        for name, row in c.iterrows()
    ]
    print(key, "\n", c[["rank", "elpd_loo", "weight", "dse"]])
path = os.path.join(os.path.dirname(__file__), "..", "tests", "data", "compare_oracle.json")
with open(path, "w") as f:
    json.dump(out, f)
print("wrote", path, os.path.getsize(path), "bytes")
