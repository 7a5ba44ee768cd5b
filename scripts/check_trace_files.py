"""Checks the files `cargo run --release --example save_and_compare -- OUTDIR` wrote.

Opens each model's CmdStan CSV files with `arviz.from_cmdstan` and `cmdstanpy.from_csv`, and
its InferenceData store with `arviz.from_zarr`, and asserts that every group, variable, dim,
shape, coordinate and a sample of values equal what exmc recorded in OUTDIR/manifest.json.
Exits non-zero on the first difference. Run by .ci/run in a virtual environment holding
arviz, cmdstanpy and zarr 2 (scripts/requirements-trace-check.txt).

    python scripts/check_trace_files.py OUTDIR
"""

import json
import sys
import warnings

import arviz as az
import cmdstanpy
import numpy as np

CSV_STATS = {
    "lp": "lp__",
    "acceptance_rate": "accept_stat__",
    "step_size": "stepsize__",
    "tree_depth": "treedepth__",
    "n_steps": "n_leapfrog__",
    "diverging": "divergent__",
    "energy": "energy__",
}


def fail(msg):
    raise AssertionError(msg)


def check_var(where, da, want, check_dims=True):
    """One variable of an xarray Dataset against its manifest entry."""
    if check_dims and list(da.dims) != want["dims"]:
        fail(f"{where}: dims {list(da.dims)} != {want['dims']}")
    if list(da.shape) != want["shape"]:
        fail(f"{where}: shape {list(da.shape)} != {want['shape']}")
    flat = np.asarray(da.values, dtype=np.float64).reshape(-1)
    for i, v in want["sample"]:
        if not (flat[i] == v or (np.isnan(flat[i]) and v is None)):
            fail(f"{where}: value {i} is {flat[i]!r}, exmc wrote {v!r}")
    labels = want.get("labels")
    if labels is not None and check_dims:
        # A vector's labels, or a matrix's per dimension (rows, then columns).
        per_dim = labels if labels and isinstance(labels[0], list) else [labels]
        if len(per_dim) != len(want["dims"]) - 2:
            fail(f"{where}: labels for {len(per_dim)} dimensions, dims {want['dims']}")
        for dim, want_labels in zip(want["dims"][2:], per_dim):
            got = [str(x) for x in da.coords[dim].values]
            if got != want_labels:
                fail(f"{where}: coordinate {dim} {got} != {want_labels}")


def check_zarr(name, m):
    idata = az.from_zarr(m["zarr"])
    groups = set(idata.groups())
    want_groups = set(m["groups"])
    if groups != want_groups:
        fail(f"{name}: groups {sorted(groups)} != {sorted(want_groups)}")
    for group, spec in m["groups"].items():
        ds = idata[group]
        want_vars = set(spec["variables"])
        got_vars = set(ds.data_vars)
        # sample_stats holds every statistic; the manifest samples lp only.
        if group != "sample_stats" and got_vars != want_vars:
            fail(f"{name}/{group}: variables {sorted(got_vars)} != {sorted(want_vars)}")
        for var, want in spec["variables"].items():
            check_var(f"{name} zarr {group}/{var}", ds[var], want)
        if "chains" in spec:
            if list(ds.coords["chain"].values) != list(range(spec["chains"])):
                fail(f"{name}/{group}: chain coordinate {ds.coords['chain'].values}")
            if list(ds.coords["draw"].values) != list(range(spec["draws"])):
                fail(f"{name}/{group}: draw coordinate is not 0..{spec['draws']}")
    stats = set(idata.sample_stats.data_vars)
    missing = set(CSV_STATS) - stats
    if missing:
        fail(f"{name}: sample_stats lacks {sorted(missing)}")
    if idata.sample_stats["diverging"].dtype != bool:
        fail(f"{name}: diverging is {idata.sample_stats['diverging'].dtype}, not bool")
    return idata


def check_csv(name, m, idata):
    post = m["groups"]["posterior"]
    chains, draws = post["chains"], post["draws"]
    # ArviZ's reader.
    fit = az.from_cmdstan(posterior=m["csv"])
    for var, want in post["variables"].items():
        # ArviZ names CSV element dims itself (var_dim_0): compare shapes and values.
        check_var(f"{name} from_cmdstan posterior/{var}", fit.posterior[var], want, check_dims=False)
    for stat, col in CSV_STATS.items():
        a = np.asarray(fit.sample_stats[stat].values, dtype=np.float64)
        b = np.asarray(idata.sample_stats[stat].values, dtype=np.float64)
        if a.shape != (chains, draws) or not np.array_equal(a, b):
            fail(f"{name}: CSV column {col} differs from the Zarr store's {stat}")
    # cmdstanpy's reader.
    mcmc = cmdstanpy.from_csv(m["csv"])
    if mcmc.chains != chains or mcmc.num_draws_sampling != draws:
        fail(f"{name}: cmdstanpy reads {mcmc.chains} chains × {mcmc.num_draws_sampling} draws")
    if not np.array_equal(mcmc.step_size, np.array(m["step_size"])):
        fail(f"{name}: cmdstanpy step sizes {mcmc.step_size} != {m['step_size']}")
    if mcmc.inv_metric is None or mcmc.inv_metric.shape[0] != chains:
        fail(f"{name}: cmdstanpy found no inverse metric")
    for var, want in post["variables"].items():
        got = mcmc.stan_variable(var)  # (chains × draws, *shape), chain after chain
        if list(got.shape) != [chains * draws] + want["shape"][2:]:
            fail(f"{name}: cmdstanpy {var} shape {got.shape}")
        flat = got.reshape(-1)
        for i, v in want["sample"]:
            if flat[i] != v:
                fail(f"{name}: cmdstanpy {var} value {i} is {flat[i]!r}, exmc wrote {v!r}")


def main():
    out = sys.argv[1]
    with open(f"{out}/manifest.json") as f:
        manifest = json.load(f)
    warnings.simplefilter("ignore", FutureWarning)
    for name, m in manifest.items():
        idata = check_zarr(name, m)
        check_csv(name, m, idata)
        n = sum(len(s["variables"]) for s in m["groups"].values())
        print(f"{name}: {len(m['groups'])} groups, {n} variables, {len(m['csv'])} CSV files agree with what exmc wrote")
    print("trace files OK")


if __name__ == "__main__":
    main()
