"""Reference posteriors of six count models with zero inflation, hurdles or overdispersion, and
two hurdle models of amounts, for tests/discrete.rs: simulated data and PyMC's NUTS posterior
summaries.

- zip: y[i] ~ ZeroInflatedPoisson(psi, exp(a + b x[i])), a, b ~ Normal(0, 2), psi ~ Beta(2, 2).
- zinb: y[i] ~ ZeroInflatedNegativeBinomial(psi, exp(a + b x[i]), alpha), alpha ~ HalfNormal(5).
- zib: y[i] ~ ZeroInflatedBinomial(psi, n[i], sigmoid(a + b x[i])).
- beta_binomial: y[i] ~ BetaBinomial(mu kappa, (1 - mu) kappa, n[i]), mu ~ Beta(2, 2),
  kappa ~ Gamma(2, 0.1) (rate).
- hurdle_poisson: y[i] ~ HurdlePoisson(psi, exp(a + b x[i])).
- hurdle_nb: y[i] ~ HurdleNegativeBinomial(psi, exp(a + b x[i]), alpha), alpha ~ HalfNormal(5).
- hurdle_gamma: y[i] ~ HurdleGamma(psi, alpha, alpha / exp(a + b x[i])) (mean exp(a + b x[i])
  above 0), alpha ~ HalfNormal(5).
- hurdle_log_normal: y[i] ~ HurdleLogNormal(psi, a + b x[i], sigma), sigma ~ HalfNormal(2).

Deterministic data (fixed seed); PyMC samples 4 chains of 5000 draws after 1000 tuning steps.
ArviZ gives each parameter's posterior mean, standard deviation, Monte Carlo standard error of
the mean and R-hat.

Usage: python scripts/make_count_oracle.py   (writes tests/data/count_oracle.json)
"""

import json
import pathlib

import arviz as az
import numpy as np
import pymc as pm
from scipy import special

SEED = 20261206
OUT = pathlib.Path(__file__).resolve().parent.parent / "tests" / "data" / "count_oracle.json"


def zero_inflate(rng, psi, draws):
    return np.where(rng.uniform(size=draws.shape) < psi, draws, 0)


def hurdle(rng, psi, draw):
    """0 with probability 1 - psi, else draw() redrawn where it is 0 (the base truncated to
    positive counts)."""
    y = draw()
    while (y == 0).any():
        y = np.where(y == 0, draw(), y)
    return np.where(rng.uniform(size=y.shape) < psi, y, 0)


def simulate(rng):
    out = {}
    x = rng.normal(size=200)
    y = zero_inflate(rng, 0.65, rng.poisson(np.exp(0.8 + 0.6 * x)))
    out["zip"] = {"x": x, "y": y}
    x = rng.normal(size=250)
    mu, alpha = np.exp(1.5 - 0.7 * x), 2.0
    y = zero_inflate(rng, 0.7, rng.negative_binomial(alpha, alpha / (mu + alpha)))
    out["zinb"] = {"x": x, "y": y}
    x = rng.normal(size=150)
    n = 5 + np.arange(150) % 16
    y = zero_inflate(rng, 0.6, rng.binomial(n, special.expit(-0.3 + 1.1 * x)))
    out["zib"] = {"x": x, "n": n, "y": y}
    n = 10 + np.arange(60) % 25
    y = rng.binomial(n, rng.beta(0.3 * 8.0, 0.7 * 8.0, size=60))
    out["beta_binomial"] = {"n": n, "y": y}
    x = rng.normal(size=200)
    y = hurdle(rng, 0.6, lambda: rng.poisson(np.exp(0.5 + 0.5 * x)))
    out["hurdle_poisson"] = {"x": x, "y": y}
    x = rng.normal(size=250)
    mu, alpha = np.exp(1.2 - 0.6 * x), 1.5
    y = hurdle(rng, 0.55, lambda: rng.negative_binomial(alpha, alpha / (mu + alpha)))
    out["hurdle_nb"] = {"x": x, "y": y}
    x = rng.normal(size=200)
    alpha, mu = 2.5, np.exp(0.7 + 0.4 * x)
    y = zero_inflate(rng, 0.65, rng.gamma(alpha, mu / alpha))
    out["hurdle_gamma"] = {"x": x, "y": y}
    x = rng.normal(size=200)
    y = zero_inflate(rng, 0.5, rng.lognormal(0.3 - 0.8 * x, 0.6))
    out["hurdle_log_normal"] = {"x": x, "y": y}
    return out


def model(name, d):
    with pm.Model() as m:
        if name == "beta_binomial":
            mu = pm.Beta("mu", 2, 2)
            kappa = pm.Gamma("kappa", 2, 0.1)
            pm.BetaBinomial("y", alpha=mu * kappa, beta=(1 - mu) * kappa, n=d["n"], observed=d["y"])
            return m, ["mu", "kappa"]
        a = pm.Normal("a", 0, 2)
        b = pm.Normal("b", 0, 2)
        psi = pm.Beta("psi", 2, 2)
        eta = a + b * d["x"]
        if name == "zip":
            pm.ZeroInflatedPoisson("y", psi=psi, mu=pm.math.exp(eta), observed=d["y"])
            return m, ["a", "b", "psi"]
        if name == "hurdle_poisson":
            pm.HurdlePoisson("y", psi=psi, mu=pm.math.exp(eta), observed=d["y"])
            return m, ["a", "b", "psi"]
        if name == "hurdle_nb":
            alpha = pm.HalfNormal("alpha", 5)
            pm.HurdleNegativeBinomial("y", psi=psi, mu=pm.math.exp(eta), alpha=alpha, observed=d["y"])
            return m, ["a", "b", "psi", "alpha"]
        if name == "hurdle_gamma":
            alpha = pm.HalfNormal("alpha", 5)
            pm.HurdleGamma("y", psi=psi, alpha=alpha, beta=alpha / pm.math.exp(eta), observed=d["y"])
            return m, ["a", "b", "psi", "alpha"]
        if name == "hurdle_log_normal":
            sigma = pm.HalfNormal("sigma", 2)
            pm.HurdleLogNormal("y", psi=psi, mu=eta, sigma=sigma, observed=d["y"])
            return m, ["a", "b", "psi", "sigma"]
        if name == "zinb":
            alpha = pm.HalfNormal("alpha", 5)
            pm.ZeroInflatedNegativeBinomial("y", psi=psi, mu=pm.math.exp(eta), alpha=alpha, observed=d["y"])
            return m, ["a", "b", "psi", "alpha"]
        pm.ZeroInflatedBinomial("y", psi=psi, n=d["n"], p=pm.math.sigmoid(eta), observed=d["y"])
        return m, ["a", "b", "psi"]


def main():
    rng = np.random.default_rng(SEED)
    data = simulate(rng)
    out = {"pymc": pm.__version__, "models": {}}
    for name, d in data.items():
        m, names = model(name, d)
        with m:
            idata = pm.sample(5000, tune=1000, chains=4, cores=2, random_seed=SEED, progressbar=False)
        summary = az.summary(idata, var_names=names, round_to="none")
        post = {}
        for v in names:
            draws = idata.posterior[v].values.ravel()
            post[v] = {
                "mean": float(draws.mean()),
                "sd": float(draws.std(ddof=1)),
                "mcse_mean": float(summary.loc[v, "mcse_mean"]),
                "r_hat": float(summary.loc[v, "r_hat"]),
            }
        entry = {k: [float(v) for v in vals] for k, vals in d.items()}
        entry["posterior"] = post
        out["models"][name] = entry
        print(name, {v: round(p["mean"], 3) for v, p in post.items()})
    OUT.write_text(json.dumps(out, indent=1) + "\n")
    print(f"wrote {OUT}")


if __name__ == "__main__":
    main()
