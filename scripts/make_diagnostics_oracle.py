#!/usr/bin/env python
"""ArviZ 0.23.4 oracle for exmc::diagnostics.

Usage (from the repository root):
    ~/.venvs/peers/bin/python scripts/make_diagnostics_oracle.py
Writes tests/data/diagnostics_oracle.json: a list of cases, each with
  name, draws (chains x draws), energy (1-d), and
  arviz: {ess_bulk, ess_tail, ess_mean, ess_sd, ess_median, ess_folded,
          ess_identity, ess_quantile_0.05, ess_quantile_0.95, ess_local_0_0.05,
          ess_local_0.45_0.5, ess_local_0.95_1, rhat, rhat_split,
          rhat_folded, rhat_z_scale, rhat_identity, mcse_mean, mcse_sd, bfmi,
          hdi_0.94, hdi_0.5, hdi_0.89}
  summary: the unrounded az.summary row {mean, sd, hdi_3%, hdi_97%, mcse_mean,
          mcse_sd, ess_bulk, ess_tail, r_hat}.
NaN is written as null. Floats are written with repr (exact round trip).
Numba is disabled so ArviZ uses its pure-NumPy code paths (with numba, 0.23.4's
mcse(method="sd") fails under NumPy 2.x).
Random numbers: np.random.default_rng(20240607), drawn in the order below.
"""
from __future__ import annotations

import json
import math
import warnings
from pathlib import Path

import numpy as np

OUT = Path(__file__).resolve().parent.parent / "tests" / "data" / "diagnostics_oracle.json"


def ar1(rng, chains, draws, rho, scale=1.0):
    x = np.empty((chains, draws))
    x[:, 0] = rng.normal(size=chains) * scale / math.sqrt(1 - rho**2)
    eps = rng.normal(size=(chains, draws)) * scale
    for t in range(1, draws):
        x[:, t] = rho * x[:, t - 1] + eps[:, t]
    return x


def energy_like(rng, n, rho):
    """A positive, autocorrelated 1-d series resembling HMC energies."""
    return 10.0 + ar1(rng, 1, n, rho)[0] ** 2 + rng.gamma(2.0, 1.0, size=n)


def make_cases(rng):
    cases = {}
    cases["iid_normal_4x500"] = (rng.normal(size=(4, 500)), energy_like(rng, 500, 0.2))
    cases["ar1_rho095_4x1000"] = (ar1(rng, 4, 1000, 0.95), energy_like(rng, 1000, 0.9))
    heavy = rng.standard_t(2.5, size=(2, 777)) + 0.3 * ar1(rng, 2, 777, 0.5)
    cases["heavy_tailed_2x777"] = (heavy, energy_like(rng, 777, 0.5))
    shifts = np.array([0.0, 0.1, 0.8, 2.0])[:, None]
    cases["bad_mixing_4x400"] = (ar1(rng, 4, 400, 0.6) + shifts, energy_like(rng, 400, 0.7))
    cases["short_4x100"] = (ar1(rng, 4, 100, 0.3), energy_like(rng, 100, 0.3))
    cases["single_chain_1x300"] = (ar1(rng, 1, 300, 0.8), energy_like(rng, 300, 0.0))
    ties = np.round(rng.normal(size=(3, 201)), 1)  # many exact ties
    cases["ties_3x201"] = (ties, np.round(energy_like(rng, 201, 0.4), 1))
    cases["tiny_2x5"] = (rng.normal(size=(2, 5)), energy_like(rng, 5, 0.0))
    cases["min_draws_3x4"] = (rng.normal(size=(3, 4)) * 1e3 + 5e3, energy_like(rng, 4, 0.0))
    cases["antithetic_4x300"] = (ar1(rng, 4, 300, -0.7), energy_like(rng, 300, -0.5))
    return cases


def num(x):
    x = float(np.asarray(x).reshape(-1)[0]) if np.ndim(x) else float(x)
    return None if math.isnan(x) else x


def arviz_values(az, draws, energy):
    ds = az.convert_to_dataset({"x": draws})

    def one(fn, **kw):
        return num(fn(ds, **kw)["x"].values)

    flat = draws.ravel()
    out = {
        "ess_bulk": one(az.ess, method="bulk"),
        "ess_tail": one(az.ess, method="tail"),
        "ess_mean": one(az.ess, method="mean"),
        "ess_sd": one(az.ess, method="sd"),
        "ess_median": one(az.ess, method="median"),
        "ess_folded": one(az.ess, method="folded"),
        "ess_identity": one(az.ess, method="identity"),
        "ess_quantile_0.05": one(az.ess, method="quantile", prob=0.05),
        "ess_quantile_0.95": one(az.ess, method="quantile", prob=0.95),
        "ess_local_0_0.05": one(az.ess, method="local", prob=(0.0, 0.05)),
        "ess_local_0.45_0.5": one(az.ess, method="local", prob=(0.45, 0.5)),
        "ess_local_0.95_1": one(az.ess, method="local", prob=(0.95, 1.0)),
        "rhat": one(az.rhat, method="rank"),
        "rhat_split": one(az.rhat, method="split"),
        "rhat_folded": one(az.rhat, method="folded"),
        "rhat_z_scale": one(az.rhat, method="z_scale"),
        "rhat_identity": one(az.rhat, method="identity"),
        "mcse_mean": one(az.mcse, method="mean"),
        "mcse_sd": one(az.mcse, method="sd"),
        "bfmi": num(az.bfmi(energy)),
    }
    for p in (0.94, 0.5, 0.89):
        out[f"hdi_{p}"] = [float(v) for v in az.hdi(flat, hdi_prob=p)]
    summ = az.summary(ds, round_to="none")
    out_summary = {col: num(summ.loc["x", col]) for col in summ.columns}
    return out, out_summary


def main():
    warnings.filterwarnings("ignore")
    import arviz as az
    import scipy

    az.Numba.disable_numba()
    rng = np.random.default_rng(20240607)
    result = {
        "generator": "scripts/make_diagnostics_oracle.py, np.random.default_rng(20240607)",
        "versions": {"arviz": az.__version__, "numpy": np.__version__, "scipy": scipy.__version__},
        "cases": [],
    }
    for name, (draws, energy) in make_cases(rng).items():
        vals, summ = arviz_values(az, draws, energy)
        result["cases"].append(
            {
                "name": name,
                "draws": draws.tolist(),
                "energy": energy.tolist(),
                "arviz": vals,
                "summary": summ,
            }
        )
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps(result, allow_nan=False))
    print(f"wrote {OUT} ({len(result['cases'])} cases)")


if __name__ == "__main__":
    main()
