"""Checks the InferenceData store that `exmc smc --zarr STORE --json JSON` wrote, the way a
Python user would open it: `arviz.from_zarr` gives the posterior (chain, draw) and, in
`sample_stats`, the stages as PyMC's `sample_smc` keeps them (`beta`, `log_marginal_likelihood`,
`accept_rate`, `proposal_scale`, `steps`, `lagging` over (chain, stage)), equal to the JSON's
stages; each chain's last `beta` is 1 and its last `log_marginal_likelihood` its estimate; the
group's `log_marginal_likelihood` attribute is the pooled `log_evidence`. Exits non-zero on
the first difference. Run by .ci/run after `cargo install`.

    python scripts/check_smc_zarr.py STORE JSON
"""

import json
import sys

import arviz as az
import numpy as np


def fail(msg):
    raise AssertionError(msg)


store, path = sys.argv[1], sys.argv[2]
want = json.load(open(path))
idata = az.from_zarr(store)
chains = len(want["log_marginal_likelihood"])
for name, values in want["draws"].items():
    got = idata.posterior[name]
    if got.dims[:2] != ("chain", "draw") or got.shape[0] != chains:
        fail(f"posterior {name}: dims {got.dims}, shape {got.shape}")
    if not np.allclose(np.asarray(got).ravel(), np.asarray(values).ravel(), rtol=0, atol=0):
        fail(f"posterior {name} differs from the JSON's draws")
stats = idata.sample_stats
most = max(len(c) for c in want["stages"])
for name in ["beta", "log_marginal_likelihood", "accept_rate", "proposal_scale", "steps", "lagging"]:
    got = stats[name]
    if got.dims != ("chain", "stage") or got.shape != (chains, most):
        fail(f"sample_stats {name}: dims {got.dims}, shape {got.shape}, want (chain, stage) {(chains, most)}")
    for c, stages in enumerate(want["stages"]):
        row = np.asarray(got[c])
        for k, s in enumerate(stages):
            w = s[name]
            if w is None:  # not finite: written as null
                if not np.isnan(row[k]):
                    fail(f"{name}[{c}, {k}] = {row[k]}, want NaN")
            elif row[k] != w:
                fail(f"{name}[{c}, {k}] = {row[k]}, want {w}")
        pad = row[len(stages):]
        if name in ("steps", "lagging"):
            if pad.any():
                fail(f"{name}[{c}] past the last stage: {pad}")
        elif not np.isnan(pad.astype(float)).all():
            fail(f"{name}[{c}] past the last stage: {pad}")
    if name == "beta":
        last = [np.asarray(got[c])[len(s) - 1] for c, s in enumerate(want["stages"])]
        if last != [1.0] * chains:
            fail(f"last beta per chain {last}")
ml = stats["log_marginal_likelihood"]
last = [float(np.asarray(ml[c])[len(s) - 1]) for c, s in enumerate(want["stages"])]
if last != want["log_marginal_likelihood"]:
    fail(f"chains' last log_marginal_likelihood {last} vs {want['log_marginal_likelihood']}")
if stats.attrs.get("log_marginal_likelihood") != want["log_evidence"]:
    fail(f"attribute log_marginal_likelihood {stats.attrs.get('log_marginal_likelihood')} vs {want['log_evidence']}")
if stats.attrs.get("kernel") != want["kernel"]:
    fail(f"attribute kernel {stats.attrs.get('kernel')}")
print(f"check_smc_zarr: {store}: {chains} chains, {most} stages, log evidence {want['log_evidence']:.4f}: ok")
