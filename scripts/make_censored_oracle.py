"""Reference posteriors of four censored-data models for tests/censored.rs: simulated data and
PyMC's NUTS posterior summaries (pm.Censored).

- tobit: y*[i] = a + b x[i] + sigma e[i], recorded as clip(y*, 0, 3): pm.Censored(Normal(a + b x,
  sigma), lower=0, upper=3); a, b ~ Normal(0, 2), sigma ~ HalfNormal(2).
- weibull: survival times t*[i] ~ Weibull(alpha, exp(a + b x[i])), each subject followed until a
  time c[i] ~ Uniform(1, 6): t = min(t*, c), upper = c where t* > c (still alive), inf
  elsewhere; a, b ~ Normal(0, 2), alpha ~ Gamma(2, 1).
- lognormal: concentrations ~ LogNormal(mu, sigma) below detection limits of 0.5 (first half)
  and 0.8 (second half), recorded as the limit: lower = the limits, no upper bound;
  mu ~ Normal(0, 2), sigma ~ HalfNormal(1).
- exponential: lifetimes ~ Exponential(lam), a test stopped at 2: upper = 2, no lower bound;
  lam ~ Gamma(2, 1). Its posterior is conjugate: Gamma(2 + d, 1 + sum(t)), d the failures seen.

Deterministic data (fixed seed); PyMC samples 4 chains of 5000 draws after 1000 tuning steps.
ArviZ gives each parameter's posterior mean, standard deviation, Monte Carlo standard error of
the mean and R-hat. JSON has no infinity: a missing bound is written as null.

Usage: python scripts/make_censored_oracle.py   (writes tests/data/censored_oracle.json)
"""

import json
import pathlib

import arviz as az
import numpy as np
import pymc as pm

SEED = 20261207
OUT = pathlib.Path(__file__).resolve().parent.parent / "tests" / "data" / "censored_oracle.json"


def simulate(rng):
    out = {}
    x = rng.normal(size=200)
    y = np.clip(0.5 + 1.2 * x + rng.normal(size=200), 0.0, 3.0)
    out["tobit"] = {"x": x, "y": y, "lower": np.zeros(200), "upper": np.full(200, 3.0)}
    x = rng.normal(size=150)
    t = np.exp(1.0 + 0.5 * x) * rng.weibull(1.5, size=150)
    c = rng.uniform(1.0, 6.0, size=150)
    out["weibull"] = {"x": x, "y": np.minimum(t, c), "lower": np.full(150, -np.inf), "upper": np.where(t > c, c, np.inf)}
    limit = np.where(np.arange(120) < 60, 0.5, 0.8)
    y = rng.lognormal(0.3, 0.8, size=120)
    out["lognormal"] = {"y": np.maximum(y, limit), "lower": limit, "upper": np.full(120, np.inf)}
    t = rng.exponential(1.0 / 0.6, size=100)
    out["exponential"] = {"y": np.minimum(t, 2.0), "lower": np.full(100, -np.inf), "upper": np.full(100, 2.0)}
    return out


def model(name, d):
    lower, upper = d["lower"], d["upper"]
    with pm.Model() as m:
        if name == "tobit":
            a = pm.Normal("a", 0, 2)
            b = pm.Normal("b", 0, 2)
            sigma = pm.HalfNormal("sigma", 2)
            base = pm.Normal.dist(a + b * d["x"], sigma)
            names = ["a", "b", "sigma"]
        elif name == "weibull":
            a = pm.Normal("a", 0, 2)
            b = pm.Normal("b", 0, 2)
            alpha = pm.Gamma("alpha", 2, 1)
            base = pm.Weibull.dist(alpha, pm.math.exp(a + b * d["x"]))
            names = ["a", "b", "alpha"]
        elif name == "lognormal":
            mu = pm.Normal("mu", 0, 2)
            sigma = pm.HalfNormal("sigma", 1)
            base = pm.LogNormal.dist(mu, sigma)
            names = ["mu", "sigma"]
        else:
            lam = pm.Gamma("lam", 2, 1)
            base = pm.Exponential.dist(lam)
            names = ["lam"]
        pm.Censored("y", base, lower=lower, upper=upper, observed=d["y"])
    return m, names


def finite_or_null(v):
    return [float(x) if np.isfinite(x) else None for x in v]


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
        entry = {k: finite_or_null(vals) for k, vals in d.items()}
        entry["posterior"] = post
        entry["divergences"] = int(idata.sample_stats["diverging"].values.sum())
        out["models"][name] = entry
        censored = int(np.sum((d["y"] == d["lower"]) | (d["y"] == d["upper"])))
        print(name, f"{censored}/{len(d['y'])} censored", {v: round(p["mean"], 3) for v, p in post.items()})
    OUT.write_text(json.dumps(out, indent=1) + "\n")
    print(f"wrote {OUT}")


if __name__ == "__main__":
    main()
