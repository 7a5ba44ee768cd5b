#!/usr/bin/env bash
# Fills .device/ for one run on the GPU machine: ../shared/device/prepare.sh with the benchmark
# examples, and scripts/device_bench.sh as its commands. Then, here (dry run against lavapipe):
#   QUICK=1 OUT=$(mktemp -d) bash .device/run.sh
# and on the GPU machine: bash .device/run.sh (see ../shared/device/README.md).
set -euo pipefail
root=$(git rev-parse --show-toplevel)
cd "$root"
cp scripts/device_bench.sh /tmp/exmc-device-commands.sh
rm -f .device/commands.sh
bash ../shared/device/prepare.sh gpu_bench step_kernel_bench host_loop
cp /tmp/exmc-device-commands.sh .device/commands.sh
echo "commands: scripts/device_bench.sh"
