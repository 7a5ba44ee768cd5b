"""The shared part of the scripts that record PyMC's posterior of a model as a test oracle
(make_continuous_oracle.py, make_multinomial_oracle.py, make_circular_oracle.py): sample with
nutpie, 4 chains of 5000 draws after 1000 tuning steps, and store each quantity's mean, standard
deviation, ArviZ's Monte Carlo standard error of the mean and R-hat, with the data and the
number of divergences.

Imported by those scripts (run as `python scripts/NAME.py`, so this folder is on the path).
"""

import arviz as az
import numpy as np
import nutpie


def sample(model, seed, init=None):
    """nutpie's draws; `init` (values by name) starts every chain there, without jitter."""
    if init is None:
        compiled = nutpie.compile_pymc_model(model)
    else:
        compiled = nutpie.compile_pymc_model(model, initial_points=init, jitter_rvs=set())
    return nutpie.sample(compiled, draws=5000, tune=1000, chains=4, cores=2, seed=seed, progress_bar=False)


def summarize(idata, names):
    """Each named quantity's summary, keyed by its name (a scalar) or `name[i]` for element `i`
    of an array in row-major order (ArviZ's rows)."""
    out = {}
    for v in names:
        draws = idata.posterior[v].values
        flat = draws.reshape(draws.shape[0], draws.shape[1], -1)
        summary = az.summary(idata.posterior, var_names=[v], round_to="none")
        for i in range(flat.shape[2]):
            key = v if draws.ndim == 2 else f"{v}[{i}]"
            out[key] = {
                "mean": float(flat[:, :, i].mean()),
                "sd": float(flat[:, :, i].reshape(-1).std(ddof=1)),
                "mcse_mean": float(summary.iloc[i]["mcse_mean"]),
                "r_hat": float(summary.iloc[i]["r_hat"]),
            }
    return out


def record(out, name, data, model, names, seed, init=None):
    """Samples `model` and stores under `out["models"][name]` the data (flattened), the
    summaries of `names` and the divergences."""
    idata = sample(model, seed, init)
    entry = {
        "data": {k: [float(x) for x in np.asarray(v).ravel()] for k, v in data.items()},
        "posterior": summarize(idata, names),
    }
    entry["divergences"] = int(idata.sample_stats["diverging"].values.sum())
    out["models"][name] = entry
    print(name, {k: round(v["mean"], 4) for k, v in entry["posterior"].items()}, "divergences", entry["divergences"])
