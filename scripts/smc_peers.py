"""PyMC's `sample_smc` on three models of `tests/data/smc_oracle.json` (normal_unknown,
eight_schools, bimodal), for comparison with `exmc smc` (DECISIONS 127): the chains' log
marginal likelihood (mean and sd), the stages and the wall time. Both kernels, 4 chains of
2,000 particles, seeds 1 to 4.

Run with the peers venv:  ~/.venvs/peers/bin/python scripts/smc_peers.py [MODEL ...]
"""
import json
import os
import sys
import time

import numpy as np
import pymc as pm

here = os.path.dirname(__file__)
oracle = json.load(open(os.path.join(here, "..", "tests", "data", "smc_oracle.json")))


def build(name):
    o = oracle[name]
    with pm.Model() as m:
        if name == "eight_schools":
            mu = pm.Normal("mu", 0, 5)
            tau = pm.HalfCauchy("tau", 5)
            theta = pm.Normal("theta", mu, tau, shape=8)
            pm.Normal("y", theta, np.array(o["sigma"]), observed=np.array(o["y"]))
        elif name == "normal_unknown":
            mu = pm.Normal("mu", 0, 2)
            sigma = pm.HalfNormal("sigma", 1)
            pm.Normal("y", mu, sigma, observed=np.array(o["y"]))
        elif name == "bimodal":
            mu = pm.Normal("mu", 0, 2)
            pm.Normal("y", mu * mu, 0.5, observed=np.array(o["y"]))
        else:
            raise SystemExit(f"no PyMC form of {name}")
    return m


names = sys.argv[1:] or ["normal_unknown", "eight_schools", "bimodal"]
for name in names:
    for kernel in (pm.smc.IMH, pm.smc.MH):
        logz, times, stages = [], [], []
        for seed in range(1, 5):
            with build(name):
                t = time.time()
                idata = pm.sample_smc(2000, kernel=kernel, chains=4, cores=2, random_seed=seed, progressbar=False, compute_convergence_checks=False)
                times.append(time.time() - t)
            lml = idata.sample_stats["log_marginal_likelihood"].values
            logz += [float(np.asarray(c, dtype=float)[-1]) for c in lml]
            stages += [len(c) for c in idata.sample_stats["beta"].values]
        logz = np.array(logz)
        print(json.dumps({
            "model": name, "kernel": kernel.__name__, "oracle": oracle[name]["log_z"],
            "log_z_mean": logz.mean(), "log_z_sd": logz.std(ddof=1), "stages_mean": float(np.mean(stages)),
            "seconds_per_run": float(np.mean(times)), "seconds_min": float(np.min(times)),
        }), flush=True)
