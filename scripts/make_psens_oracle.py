"""Oracle for `tests/power_scaling.rs`: ArviZ's `psens` and `psislw`, and scipy's log densities.

Run with the peers venv (ArviZ 0.23.4, scipy):  ~/.venvs/peers/bin/python scripts/make_psens_oracle.py

Part `cases`: ArviZ's power-scaling sensitivity on draws made here (4 chains x 500, seed 31)
of three quantities (a normal, a skewed gamma, and a rounded copy with ties), with a log prior
of two variables and a log-likelihood of two variables (2 and 3 observations) that depend on
them. Each case scales the prior or the likelihood, all of its variables or some, at a given
delta; one case multiplies the likelihood by 40 so that its weights have a heavy tail. Every
array is rounded (10 decimals) before ArviZ sees it, so its values are exact for the stored
arrays. `psislw`'s k of the summed component at both powers is stored beside.

Part `log_prior`: scipy's log densities of a model's free variables at two given draws (the
Rust test builds the model and a trace holding these values).
"""
import json
import os

import arviz as az
import numpy as np
from scipy import stats

C, S = 4, 500
rng = np.random.default_rng(31)
a = np.round(rng.normal(0.4, 1.0, (C, S)), 10)
b = np.round(rng.gamma(2.0, 1.0, (C, S)), 10)
c = np.round(a + 0.3 * b, 1)
prior = {
    "a": np.round(stats.norm.logpdf(a, 0.0, 1.5), 10),
    "b": np.round(stats.gamma.logpdf(b, 2.0), 10),
}
y = np.array([1.2, -0.1])
z = np.array([0.3, 0.8, 2.0])
lik = {
    "y": np.round(stats.norm.logpdf(y, a[..., None], 0.8), 10),
    "z": np.round(stats.norm.logpdf(z, (a + 0.2 * b)[..., None], 1.1), 10),
}
posterior = {"a": a, "b": b, "c": c}


def case(component, names, delta, scale=1.0):
    group = prior if component == "prior" else lik
    chosen = {k: v * scale for k, v in group.items() if names is None or k in names}
    rest = {k: v * scale for k, v in group.items()}
    idata = az.from_dict(posterior=posterior, log_likelihood=lik if component == "prior" else rest)
    idata.add_groups({"log_prior": prior if component == "likelihood" else rest}, dims={})
    got = az.psens(idata, component=component, component_var_names=names, delta=delta)
    summed = sum(v.reshape(C * S, -1).sum(axis=1) for v in chosen.values())
    ks = [float(az.psislw((alpha - 1.0) * summed)[1]) for alpha in (1.0 / (1.0 + delta), 1.0 + delta)]
    return {
        "component": component,
        "names": names,
        "delta": delta,
        "scale": scale,
        "sensitivity": {k: float(got[k]) for k in posterior},
        "pareto_k": ks,
    }


cases = [
    case("prior", None, 0.01),
    case("likelihood", None, 0.01),
    case("prior", ["a"], 0.01),
    case("likelihood", ["z"], 0.05),
    case("likelihood", None, 0.01, scale=40.0),
]

# Free variables' log densities at two draws (model in tests/power_scaling.rs::log_prior_matches_scipy).
draws = [
    {"mu": 0.4, "tau": 0.7, "theta": [0.1, -0.3, 0.9], "sigma": 0.5, "p": [0.2, 0.3, 0.5], "nu": 4.5},
    {"mu": -1.3, "tau": 2.6, "theta": [2.2, 0.0, -4.1], "sigma": 1.7, "p": [0.6, 0.05, 0.35], "nu": 12.0},
]
log_prior = []
for d in draws:
    log_prior.append({
        "mu": [stats.norm.logpdf(d["mu"], 1.0, 2.0)],
        "tau": [stats.halfcauchy.logpdf(d["tau"], scale=1.5)],
        "theta": stats.norm.logpdf(d["theta"], d["mu"], d["tau"]).tolist(),
        "sigma": [stats.gamma.logpdf(d["sigma"], 2.0, scale=1.0 / 3.0)],
        "p": [stats.dirichlet.logpdf(d["p"], [1.0, 2.0, 3.0])],
        "nu": [stats.gamma.logpdf(d["nu"], 2.0, scale=10.0)],
    })

out = {
    "arviz": az.__version__,
    "chains": C,
    "draws": S,
    "posterior": {k: v.reshape(-1).tolist() for k, v in posterior.items()},
    "log_prior_terms": {k: v.reshape(C * S, -1).T.tolist() for k, v in prior.items()},
    "log_likelihood_terms": {k: v.reshape(C * S, -1).T.tolist() for k, v in lik.items()},
    "cases": cases,
    "free_draws": draws,
    "log_prior": log_prior,
}
path = os.path.join(os.path.dirname(__file__), "..", "tests", "data", "psens_oracle.json")
with open(path, "w") as f:
    json.dump(out, f)
print(json.dumps(cases, indent=1)[:3000])
