"""nutpie on the softmax regression of tests/data/softmax_oracle.json, with the settings of
`cargo run --release --example softmax_regression` (4 chains, 1000 tuning + 1000 draws):
wall time of sampling (compilation excluded), the smallest bulk ESS, and ESS per 1,000
gradients of the kept draws.

Usage: ~/.venvs/peers/bin/python scripts/softmax_peers.py [--seed 1]
"""

import json
import pathlib
import sys
import time

import arviz as az
import numpy as np
import nutpie
import pymc as pm

PATH = pathlib.Path(__file__).resolve().parent.parent / "tests" / "data" / "softmax_oracle.json"


def main():
    seed = int(sys.argv[sys.argv.index("--seed") + 1]) if "--seed" in sys.argv else 1
    o = json.loads(PATH.read_text())
    n, c, k = o["n"], o["c"], o["k"]
    x = np.array(o["x"]).reshape(n, c)
    y = np.array(o["y"], dtype=int)
    with pm.Model() as model:
        alpha = pm.Normal("alpha", 0, 2, shape=k)
        beta = pm.Normal("beta", 0, 1, shape=(c, k))
        pm.Categorical("y", logit_p=alpha + pm.math.dot(x, beta), observed=y)
    compiled = nutpie.compile_pymc_model(model)
    start = time.perf_counter()
    idata = nutpie.sample(compiled, chains=4, tune=1000, draws=1000, seed=seed, cores=2, progress_bar=False)
    secs = time.perf_counter() - start
    ess = float(az.ess(idata, method="bulk").to_array().min())
    grads = int(idata.sample_stats["n_steps"].sum())
    print(
        f"nutpie {nutpie.__version__}: {secs:.2f} s, min ESS_bulk {ess:.0f} ({ess / secs:.0f}/s), "
        f"{1000 * ess / grads:.1f} ESS per 1,000 draw gradients, "
        f"{int(idata.sample_stats['diverging'].sum())} divergences"
    )


if __name__ == "__main__":
    main()
