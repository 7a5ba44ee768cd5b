"""GARCH(1,1) (posteriordb garch11, T = 200) and stochastic volatility (T = 500) in PyMC and
nutpie, next to exmc on the CPU and on lavapipe, in one sitting.

The models are the same as exmc's model files (models/posteriordb/garch-garch11.toml,
models/stochastic_volatility.toml): GARCH's sigma through pytensor.scan with Stan's flat
priors, the log-volatility as mu + cumsum(step_size * z). Settings follow
../shared/peers/run_peers.py: 4 chains, 1000 tuning + 1000 draws, seed 20240611, ESS_bulk is
ArviZ's smallest over the free variables, sampling_s is PyMC's sampling_time / nutpie.sample's
wall time. Target acceptance 0.95 for the random walk (as exmc's, DECISIONS 62), 0.8 for GARCH.

    ~/.venvs/peers/bin/python scripts/time_series_peers.py [--skip-exmc] [--gpu-models garch11,...]
        [--gpu-chains 4,16] [--out results.json]

`--gpu-models` picks the models run on lavapipe (default: both; the stochastic-volatility model
takes minutes there, see DECISIONS 64), `--gpu-chains` the chain counts run there (default 4;
the GPU backend steps every chain in one dispatch, so its rate grows with chains while the peers'
rates on two cores do not).

Each peer runs in a fresh child process, one at a time; exmc runs through
`cargo run --release --example time_series -- --bench [--backend gpu]`.
"""

import json
import os
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
GARCH_DATA = os.path.join(ROOT, "..", "shared", "posteriordb", "garch-garch11", "data.json")
SV_DATA = os.path.join(ROOT, "models", "stochastic_volatility.json")
CHAINS, TUNE, DRAWS, SEED = 4, 1000, 1000, 20240611
FREE = {"garch11": ["mu", "alpha0", "alpha1", "beta1"], "stochastic_volatility": ["mu", "step_size", "nu", "z"]}
TARGET = {"garch11": 0.8, "stochastic_volatility": 0.95}


def build(model):
    import numpy as np
    import pymc as pm
    import pytensor
    import pytensor.tensor as pt

    with pm.Model() as m:
        if model == "garch11":
            d = json.load(open(GARCH_DATA))
            y = np.asarray(d["y"], dtype=np.float64)
            sigma1 = np.float64(d["sigma1"])
            mu = pm.Flat("mu")
            alpha0 = pm.HalfFlat("alpha0")
            alpha1 = pm.Uniform("alpha1", 0, 1)
            beta1 = pm.Uniform("beta1", 0, 1 - alpha1)
            pm.Potential("flat_beta1", pt.log(1 - alpha1))

            def step(r, prev, mu, a0, a1, b1):
                return pt.sqrt(a0 + a1 * (r - mu) ** 2 + b1 * prev**2)

            sigma, _ = pytensor.scan(
                step,
                sequences=[pt.as_tensor_variable(y[:-1])],
                outputs_info=[pt.as_tensor_variable(sigma1)],
                non_sequences=[mu, alpha0, alpha1, beta1],
            )
            pm.Normal("y_obs_first", mu, sigma1, observed=y[:1])
            pm.Normal("y_obs", mu, sigma, observed=y[1:])
        else:
            d = json.load(open(SV_DATA))
            r = np.asarray(d["returns"], dtype=np.float64)
            mu = pm.Normal("mu", 0, 2)
            step_size = pm.Exponential("step_size", 10)
            nu = pm.Exponential("nu", 0.1)
            z = pm.Normal("z", 0, 1, shape=len(r))
            log_vol = mu + pt.cumsum(step_size * z)
            pm.StudentT("returns_obs", nu=nu, mu=0, sigma=pt.exp(log_vol), observed=r)
    return m


def summarize(model, post, sampling_s, divergences, setup_s, sampler):
    import arviz as az
    import numpy as np

    ds = az.convert_to_dataset({k: np.asarray(post[k], dtype=np.float64) for k in FREE[model]})
    bulk = az.ess(ds, method="bulk")
    ess = float(min(np.nanmin(bulk[v].values) for v in FREE[model]))
    return {
        "model": model,
        "sampler": sampler,
        "sampling_s": sampling_s,
        "setup_s": setup_s,
        "ess_bulk_min": ess,
        "ess_bulk_per_s": ess / sampling_s,
        "divergences": divergences,
    }


def worker(model, sampler):
    t0 = time.perf_counter()
    m = build(model)
    if sampler == "pymc":
        import pymc as pm

        t1 = time.perf_counter()
        idata = pm.sample(
            draws=DRAWS, tune=TUNE, chains=CHAINS, cores=2, random_seed=SEED, progressbar=False,
            target_accept=TARGET[model], compute_convergence_checks=False, model=m,
        )
        s = float(idata.sample_stats.attrs["sampling_time"])
        setup = time.perf_counter() - t0 - s
    else:
        import nutpie

        compiled = nutpie.compile_pymc_model(m, backend="numba")
        setup = time.perf_counter() - t0
        t1 = time.perf_counter()
        idata = nutpie.sample(
            compiled, draws=DRAWS, tune=TUNE, chains=CHAINS, cores=2, seed=SEED, progress_bar=False,
            target_accept=TARGET[model],
        )
        s = time.perf_counter() - t1
    post = {v: idata.posterior[v].values for v in FREE[model]}
    div = int(idata.sample_stats["diverging"].values.sum())
    return summarize(model, post, s, div, setup, sampler)


def main():
    if len(sys.argv) > 2 and sys.argv[1] == "--worker":
        print("RESULT " + json.dumps(worker(sys.argv[2], sys.argv[3])), flush=True)
        return
    out = sys.argv[sys.argv.index("--out") + 1] if "--out" in sys.argv else None
    rows = []
    if "--skip-exmc" not in sys.argv:
        gpu = sys.argv[sys.argv.index("--gpu-models") + 1].split(",") if "--gpu-models" in sys.argv else list(FREE)
        chains = sys.argv[sys.argv.index("--gpu-chains") + 1].split(",") if "--gpu-chains" in sys.argv else ["4"]
        runs = [[]] + ([] if gpu == [""] else [["--backend", "gpu", "--chains", k, *gpu] for k in chains])
        for extra in runs:
            cmd = ["cargo", "run", "--release", "--quiet", "--example", "time_series", "--", "--bench", *extra]
            res = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True)
            rows += [json.loads(l) for l in res.stdout.splitlines() if l.startswith("{")]
            if res.returncode != 0:
                print(res.stderr[-2000:], file=sys.stderr)
    for model in FREE:
        for sampler in ("nutpie", "pymc"):
            res = subprocess.run([sys.executable, __file__, "--worker", model, sampler], capture_output=True, text=True)
            got = [json.loads(l[7:]) for l in res.stdout.splitlines() if l.startswith("RESULT ")]
            if not got:
                print(f"{model} {sampler} failed:\n{res.stderr[-3000:]}", file=sys.stderr)
            rows += got
    print(f"{'model':<24}{'sampler':<16}{'sampling s':>11}{'ESS_bulk min':>14}{'ESS/s':>9}{'div':>5}")
    for r in rows:
        print(f"{r['model']:<24}{r['sampler']:<16}{r['sampling_s']:>11.2f}{r['ess_bulk_min']:>14.0f}"
              f"{r['ess_bulk_per_s']:>9.1f}{r['divergences']:>5}")
    for model in FREE:
        nut = [r for r in rows if r["model"] == model and r["sampler"] == "nutpie"]
        for r in rows:
            if r["model"] == model and r["sampler"].startswith("exmc") and nut:
                print(f"{model}: {r['sampler']} / nutpie ESS_bulk/s = {r['ess_bulk_per_s'] / nut[0]['ess_bulk_per_s']:.2f}")
    if out:
        json.dump(rows, open(out, "w"), indent=1)


if __name__ == "__main__":
    main()
