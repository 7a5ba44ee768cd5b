#!/usr/bin/env bash
# Runs the peer samplers (PyMC, nutpie, NumPyro) and exmc on the same models and data, in one
# sitting, and prints one table. Needs the peers venv (see ../shared/peers/README.md):
#   python3 -m venv ~/.venvs/peers && ~/.venvs/peers/bin/pip install pymc nutpie numpyro "jax[cpu]" arviz numpy pandas numba
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PEERS_PYTHON:-$HOME/.venvs/peers/bin/python}
SHARED=${EXMC_SHARED:-../shared}
export PEERS_OUT=${PEERS_OUT:-$(mktemp -d)}
cargo build --release --example bench_peers
for model in seed_simple eight_schools_noncentered gaussian_100d_corr radon_varying_intercept logistic_regression; do
  "$PY" "$SHARED/peers/run_peers.py" "$model"
done
"$PY" "$SHARED/peers/run_peers.py" --report
cargo run --release --example bench_peers
