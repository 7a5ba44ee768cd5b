"""Reference posterior of a softmax (multinomial logistic) regression, for
tests/posterior_vector.rs: simulated data and PyMC's NUTS posterior summary.

Model: alpha[k] ~ Normal(0, 2), beta[j, k] ~ Normal(0, 1) (k = 0..K-1, j = 0..C-1),
y[i] ~ Categorical(softmax(alpha + x[i] @ beta)). Deterministic data (fixed seed); PyMC samples
4 chains of 5000 draws after 1000 tuning steps. ArviZ gives each parameter's posterior mean,
standard deviation and the Monte Carlo standard error of the mean.

Usage: python scripts/make_softmax_oracle.py   (writes tests/data/softmax_oracle.json)
"""

import json
import pathlib

import arviz as az
import numpy as np
import pymc as pm

SEED = 20261205
N, C, K = 240, 2, 3
OUT = pathlib.Path(__file__).resolve().parent.parent / "tests" / "data" / "softmax_oracle.json"


def main():
    rng = np.random.default_rng(SEED)
    x = rng.normal(size=(N, C))
    alpha_true = np.array([0.5, -0.3, 0.0])
    beta_true = np.array([[1.0, -0.5, 0.0], [-0.8, 0.6, 0.3]])
    eta = alpha_true + x @ beta_true
    p = np.exp(eta - eta.max(axis=1, keepdims=True))
    p /= p.sum(axis=1, keepdims=True)
    y = np.array([rng.choice(K, p=row) for row in p])
    with pm.Model():
        alpha = pm.Normal("alpha", 0, 2, shape=K)
        beta = pm.Normal("beta", 0, 1, shape=(C, K))
        pm.Categorical("y", logit_p=alpha + pm.math.dot(x, beta), observed=y)
        idata = pm.sample(5000, tune=1000, chains=4, cores=2, random_seed=SEED, progressbar=False)
    summary = az.summary(idata, kind="all", round_to="none")
    post = {}
    for name in ["alpha", "beta"]:
        values = idata.posterior[name].values.reshape(4 * 5000, -1)
        post[name] = {
            "mean": [float(v) for v in values.mean(axis=0)],
            "sd": [float(v) for v in values.std(axis=0, ddof=1)],
        }
        labels = [f"{name}[{k}]" for k in range(K)] if name == "alpha" else [
            f"{name}[{j}, {k}]" for j in range(C) for k in range(K)
        ]
        post[name]["mcse_mean"] = [float(summary.loc[lab, "mcse_mean"]) for lab in labels]
        post[name]["r_hat_max"] = float(max(summary.loc[lab, "r_hat"] for lab in labels))
    data = {
        "pymc": pm.__version__,
        "n": N,
        "c": C,
        "k": K,
        "x": [float(v) for v in x.ravel()],
        "y": [float(v) for v in y],
        "posterior": post,
    }
    OUT.write_text(json.dumps(data, indent=1) + "\n")
    print(f"wrote {OUT}")


if __name__ == "__main__":
    main()
