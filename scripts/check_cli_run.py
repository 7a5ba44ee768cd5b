"""Checks a run directory that `exmc sample` wrote, the way a Python user would open it.

Opens RUN/posterior.zarr with `arviz.from_zarr` and RUN/csv/*.csv with `arviz.from_cmdstan`,
checks the groups, the chain and draw counts against RUN/run.json, and that ArviZ's own
summary (mean, sd, ess_bulk, r_hat) of every variable agrees with RUN/summary.txt as exmc
printed it. ArviZ's `psens` of the prior and of the likelihood (from the store's `log_prior`
and `log_likelihood` groups) must equal RUN/sensitivity.json, which `exmc sample` writes for a
model with observations (every run checked has them), and, when given, SENSITIVITY (written by
`exmc sensitivity RUN --json SENSITIVITY` with other nodes or delta). Exits non-zero on the first difference. Run by .ci/run after `cargo install`.

    python scripts/check_cli_run.py RUN [SENSITIVITY]
"""

import glob
import json
import os
import sys
import warnings

import arviz as az
import numpy as np


def fail(msg):
    raise AssertionError(msg)


def exmc_summary(path):
    """Rows of summary.txt: name -> {column: value}."""
    lines = open(path).read().splitlines()
    header = lines[0].split()
    rows = {}
    for line in lines[1:]:
        parts = line.split()
        # The numbers are the last columns; a matrix's name has a space (`beta[1, 2]`).
        if len(parts) < len(header) + 1 or line.startswith("warning: "):
            continue
        name = " ".join(parts[: len(parts) - len(header)])
        rows[name] = dict(zip(header, map(float, parts[len(parts) - len(header) :])))
    return rows


def main(run, extra_sensitivity=None):
    meta = json.load(open(os.path.join(run, "run.json")))
    chains, draws = len(meta["chain_ids"]), meta["draws"]
    idata = az.from_zarr(os.path.join(run, "posterior.zarr"))
    for g in ["posterior", "sample_stats", "observed_data", "log_likelihood"]:
        if g not in idata.groups():
            fail(f"group {g} missing from {idata.groups()}")
    post = idata.posterior
    if (post.sizes["chain"], post.sizes["draw"]) != (chains, draws):
        fail(f"posterior is {dict(post.sizes)}, run.json says {chains} chains of {draws}")
    if int(idata.sample_stats["diverging"].sum()) != meta["divergences"]:
        fail("divergences differ from run.json")
    csvs = sorted(glob.glob(os.path.join(run, "csv", "*.csv")))
    if len(csvs) != chains:
        fail(f"{len(csvs)} CSV files for {chains} chains")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from_csv = az.from_cmdstan(csvs)
    if (from_csv.posterior.sizes["chain"], from_csv.posterior.sizes["draw"]) != (chains, draws):
        fail(f"CSV posterior is {dict(from_csv.posterior.sizes)}")
    ours = exmc_summary(os.path.join(run, "summary.txt"))
    theirs = az.summary(idata, kind="all", round_to="none")
    if set(ours) != set(theirs.index):
        fail(f"variables {sorted(ours)} != ArviZ's {sorted(theirs.index)}")
    for name, row in ours.items():
        t = theirs.loc[name]
        for col, tol in [("mean", 6e-4), ("sd", 6e-4), ("ess_bulk", 1.0), ("r_hat", 6e-3)]:
            if abs(row[col] - t[col]) > tol:
                fail(f"{name} {col}: exmc {row[col]}, ArviZ {t[col]}")
    loo = json.load(open(os.path.join(run, "loo.json")))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        theirs_loo = az.loo(idata)
    if abs(theirs_loo.elpd_loo - loo["elpd_loo"]) > 1e-6 * max(1.0, abs(loo["elpd_loo"])):
        fail(f"elpd_loo: exmc {loo['elpd_loo']}, ArviZ {theirs_loo.elpd_loo}")
    pred = os.path.join(run, "predictive.zarr")
    note = ""
    if os.path.isdir(pred):
        # `exmc predict RUN`: ArviZ's posterior_predictive group, one replicate per draw, with
        # the observed data beside it, and ArviZ's LOO-PIT computes from the two stores.
        pp = az.from_zarr(pred)
        for g in ["posterior_predictive", "observed_data"]:
            if g not in pp.groups():
                fail(f"group {g} missing from predictive.zarr: {pp.groups()}")
        for name, var in pp.posterior_predictive.data_vars.items():
            if (var.sizes["chain"], var.sizes["draw"]) != (chains, draws):
                fail(f"posterior_predictive {name} is {dict(var.sizes)}")
            if var.shape[2:] != pp.observed_data[name].shape:
                fail(f"posterior_predictive {name} {var.shape} vs observed {pp.observed_data[name].shape}")
        idata.extend(pp)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            pit = az.loo_pit(idata, y=list(pp.observed_data.data_vars)[0])
        if not ((pit >= 0) & (pit <= 1)).all():
            fail("ArviZ's LOO-PIT outside [0, 1]")
        note = "; the predictive store opens and ArviZ computes LOO-PIT from it"
    sens = os.path.join(run, "sensitivity.json")
    if not os.path.isfile(sens):
        fail(f"{sens} missing: `exmc sample` writes it for a model with observations")
    for path in [sens] + ([extra_sensitivity] if extra_sensitivity else []):
        check_sensitivity(run, path, set(ours))
        note += f"; ArviZ's psens agrees with {os.path.basename(path)}"
    print(f"{run}: ArviZ opens the Zarr store and {len(csvs)} CSV files; its summary of {len(ours)} "
          f"elements agrees with exmc's{note}")


def check_sensitivity(run, path, names):
    """ArviZ's `psens` of both components, from the store's `log_prior` and `log_likelihood`
    groups with the nodes and delta the table records, equals exmc's table element by element."""
    sens = json.load(open(path))
    rows = {r["name"]: r for r in sens["rows"]}
    if set(rows) != names:
        fail(f"sensitivity rows {sorted(rows)} != the summary's {sorted(names)}")
    idata = az.from_zarr(os.path.join(run, "posterior.zarr"))
    if "log_prior" not in idata.groups():
        fail(f"group log_prior missing from {idata.groups()}")
    for component in ["prior", "likelihood"]:
        chosen = sens[component]
        got = flat(az.psens(idata, component=component, component_var_names=chosen, delta=sens["delta"]))
        if set(got) != set(rows):
            fail(f"ArviZ's psens names {sorted(got)} != exmc's {sorted(rows)}")
        for name, value in got.items():
            mine = rows[name][component]
            if mine is None or np.isnan(value):
                # JSON's null is exmc's NaN (a constant element).
                if not (mine is None and np.isnan(value)):
                    fail(f"{name} {component} sensitivity: exmc {mine}, ArviZ {value}")
            elif abs(mine - value) > 1e-8 * max(1.0, abs(value)):
                fail(f"{path}: {name} {component} sensitivity: exmc {mine}, ArviZ {value}")


def flat(ds):
    """A Dataset's values by ArviZ's summary names (`theta[Choate]`, `beta[x1, A]`)."""
    out = {}
    for name, da in ds.data_vars.items():
        if da.ndim == 0:
            out[name] = float(da)
            continue
        for idx in np.ndindex(da.shape):
            labels = [str(da.coords[d].values[i]) for d, i in zip(da.dims, idx)]
            out[f"{name}[{', '.join(labels)}]"] = float(da.values[idx])
    return out


if __name__ == "__main__":
    main(*sys.argv[1:3])
