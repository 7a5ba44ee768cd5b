"""Oracle for `tests/loo_pit_arviz.rs`: ArviZ's `loo_pit` on a normal model.

Run with the peers venv (ArviZ 0.23.4):  ~/.venvs/peers/bin/python scripts/make_loo_pit_oracle.py

Data: 12 draws of N(1, 2) (seed 21) with one outlier (9.0). Posterior of (mu, sigma) under
p(mu, sigma^2) ∝ 1/sigma^2, drawn exactly (4 chains x 150 iid draws, seed 22); replicates
y_rep = mu + sigma * N(0, 1) (seed 23). Arrays are rounded (10 and 8 decimals) before ArviZ sees
them, so its values are exact for the stored arrays.
"""
import json
import os

import arviz as az
import numpy as np
from scipy import stats

rng = np.random.default_rng(21)
y = np.round(rng.normal(1.0, 2.0, 12), 6)
y[5] = 9.0
n = len(y)
C, S = 4, 150
r = np.random.default_rng(22)
s2 = (n - 1) * y.var(ddof=1) / r.chisquare(n - 1, size=(C, S))
sigma = np.round(np.sqrt(s2), 10)
mu = np.round(r.normal(y.mean(), sigma / np.sqrt(n)), 10)
r3 = np.random.default_rng(23)
y_rep = np.round(mu[..., None] + sigma[..., None] * r3.normal(size=(C, S, n)), 8)
ll = np.round(stats.norm.logpdf(y[None, None, :], mu[..., None], sigma[..., None]), 8)
idata = az.from_dict(
    posterior={"mu": mu, "sigma": sigma},
    posterior_predictive={"y": y_rep},
    log_likelihood={"y": ll},
    observed_data={"y": y},
)
pit = az.loo_pit(idata, y="y")
out = {
    "arviz": az.__version__,
    "y": y.tolist(),
    "mu": mu.tolist(),
    "sigma": sigma.tolist(),
    "y_rep": y_rep.tolist(),
    "log_lik": ll.tolist(),
    "loo_pit": np.asarray(pit).tolist(),
}
path = os.path.join(os.path.dirname(__file__), "..", "tests", "data", "loo_pit_oracle.json")
with open(path, "w") as f:
    json.dump(out, f)
print("loo_pit", np.round(np.asarray(pit), 4), "wrote", os.path.getsize(path), "bytes")
