"""PyMC's posteriors of two disease-mapping models for tests/areal.rs.

Counts y on a 4 x 5 grid of areas (rook neighbours, binary W; 20 areas), expected counts E:

- car: b0 ~ Normal(0, 2), alpha ~ Beta(2, 2), tau ~ Gamma(2, 2), phi ~ CAR(0, W, alpha, tau),
  y ~ Poisson(E exp(b0 + phi)). PyMC's CAR leaves out constants only, so the posterior is the
  same as exmc's.
- icar: b0 ~ Normal(0, 2), sigma ~ HalfNormal(1), phi = sigma * ICAR(W, 1), y ~ Poisson(E
  exp(b0 + phi)). Non-centred as PyMC's documentation advises: PyMC's ICAR density has no
  -(K - 1) ln sigma term, so a prior on its own sigma is a different model from exmc's (whose
  density is normalised in sigma, and which non-centres a random sigma itself). PyMC's ICAR
  holds the sum near zero with a normal of sd 0.001 K, exmc's on the plane exactly; the
  difference in the posterior is far below the Monte Carlo error.

- bym2: b0 ~ Normal(0, 2), sigma ~ HalfNormal(1), rho ~ Beta(0.5, 0.5), theta ~ Normal(0, 1)
  per area, z ~ ICAR(W, 1), convolved = sigma (sqrt(1 - rho) theta + sqrt(rho / s) z) with s
  the scaling factor (numpy's pseudo-inverse of the Laplacian: exp(mean(ln diag Q+))),
  y ~ Poisson(E exp(b0 + convolved)).

PyMC's NUTS, 4 chains of 3000 draws after 1500 tuning steps, target_accept 0.9, with ArviZ's
Monte Carlo standard errors.

Usage: python scripts/make_areal_oracle.py   (writes tests/data/areal_oracle.json)
"""

import json
import pathlib

import arviz as az
import numpy as np
import pymc as pm

SEED = 20261207
OUT = pathlib.Path(__file__).resolve().parent.parent / "tests" / "data" / "areal_oracle.json"
ROWS, COLS = 4, 5


def grid():
    k = ROWS * COLS
    w = np.zeros((k, k))
    for r in range(ROWS):
        for c in range(COLS):
            i = r * COLS + c
            if c + 1 < COLS:
                w[i, i + 1] = w[i + 1, i] = 1.0
            if r + 1 < ROWS:
                w[i, i + COLS] = w[i + COLS, i] = 1.0
    return w


def summarise(idata, names):
    summary = az.summary(idata, var_names=names, round_to="none")
    post = {}
    for v in names:
        draws = idata.posterior[v].values
        draws = draws.reshape(draws.shape[0] * draws.shape[1], -1)
        rows = [v] if draws.shape[1] == 1 else [f"{v}[{i}]" for i in range(draws.shape[1])]
        for i, r in enumerate(rows):
            key = v if draws.shape[1] == 1 else f"{v}[{i}]"
            post[key] = {
                "mean": float(draws[:, i].mean()),
                "sd": float(draws[:, i].std(ddof=1)),
                "mcse_mean": float(summary.loc[r, "mcse_mean"]),
            }
    return post


def main():
    rng = np.random.default_rng(SEED)
    w = grid()
    k = w.shape[0]
    expected = rng.uniform(2.0, 12.0, size=k)
    # A smooth surface: a gradient across the grid plus noise.
    surface = np.array([0.3 * (r - 1.5) - 0.2 * (c - 2.0) for r in range(ROWS) for c in range(COLS)])
    y = rng.poisson(expected * np.exp(0.1 + surface + rng.normal(size=k) * 0.2))
    sample = dict(draws=3000, tune=1500, chains=4, cores=2, random_seed=SEED, progressbar=False, target_accept=0.9)
    out = {"pymc": pm.__version__, "W": [float(v) for v in w.ravel()], "E": [float(v) for v in expected], "y": [float(v) for v in y]}
    with pm.Model():
        b0 = pm.Normal("b0", 0, 2)
        alpha = pm.Beta("alpha", 2, 2)
        tau = pm.Gamma("tau", 2, 2)
        phi = pm.CAR("phi", mu=np.zeros(k), W=w, alpha=alpha, tau=tau)
        pm.Poisson("y", expected * pm.math.exp(b0 + phi), observed=y)
        idata = pm.sample(**sample)
    out["car"] = {"posterior": summarise(idata, ["b0", "alpha", "tau", "phi"]), "divergences": int(idata.sample_stats["diverging"].values.sum())}
    with pm.Model():
        b0 = pm.Normal("b0", 0, 2)
        sigma = pm.HalfNormal("sigma", 1)
        z = pm.ICAR("z", W=w)
        phi = pm.Deterministic("phi", sigma * z)
        pm.Poisson("y", expected * pm.math.exp(b0 + phi), observed=y)
        idata = pm.sample(**sample)
    out["icar"] = {"posterior": summarise(idata, ["b0", "sigma", "phi"]), "divergences": int(idata.sample_stats["diverging"].values.sum())}
    # BYM2 (Riebler et al. 2016), as in PyMC's example gallery: the scaling factor from numpy's
    # pseudo-inverse of the Laplacian.
    q = np.diag(w.sum(axis=1)) - w
    scale = float(np.exp(np.mean(np.log(np.diag(np.linalg.pinv(q))))))
    out["bym2_scale"] = scale
    with pm.Model():
        b0 = pm.Normal("b0", 0, 2)
        sigma = pm.HalfNormal("sigma", 1)
        rho = pm.Beta("rho", 0.5, 0.5)
        theta = pm.Normal("theta", 0, 1, shape=k)
        z = pm.ICAR("z", W=w)
        convolved = pm.Deterministic("convolved", sigma * (pm.math.sqrt(1 - rho) * theta + pm.math.sqrt(rho / scale) * z))
        pm.Poisson("y", expected * pm.math.exp(b0 + convolved), observed=y)
        idata = pm.sample(**sample)
    out["bym2"] = {"posterior": summarise(idata, ["b0", "sigma", "rho", "convolved"]), "divergences": int(idata.sample_stats["diverging"].values.sum())}
    OUT.write_text(json.dumps(out, indent=1) + "\n")
    print({m: (out[m]["posterior"]["b0"], out[m]["divergences"]) for m in ["car", "icar", "bym2"]})
    print(f"wrote {OUT}")


if __name__ == "__main__":
    main()
