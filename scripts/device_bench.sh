#!/usr/bin/env bash
# The GPU machine's benchmark commands (issue 12, item 5): copied to .device/commands.sh by
# scripts/device_prepare.sh, run there from .device/ with bin/ on PATH and $OUT set
# (../shared/device/README.md). Budget: about 7.5 minutes in all, every step under `timeout`,
# so a slow step loses its tail rows, never the run. Writes:
#   $OUT/gpu.md     the reference-kernel yardstick and the GPU backend's table (five models)
#   $OUT/cpu.md     the CPU backend on the machine's cores (same models and chain counts)
#   $OUT/numpyro.jsonl  NumPyro's vectorized chains on the same GPU (same models, chain counts)
#   $OUT/host_loop.md   the host loop on the machine's cores: alone (a stand-in device) at 1, 4
#                       and 16 threads, and feeding the GPU on every core, with the backend's
#                       own host seconds (issue 12, item 4)
# QUICK=1 (a dry run against lavapipe on a 2-core machine) shrinks chain counts and iterations.
set -uo pipefail
: "${OUT:?set OUT}"
PY=${PYTHON:-python3}
DATA=peers/data
SMALL=(seed_simple eight_schools_noncentered gaussian_100d)
PEERS=(seed_simple eight_schools_noncentered gaussian_100d_corr radon_varying_intercept logistic_regression)
if [ "${QUICK:-0}" != 0 ]; then
  K_GPU=1,16,256; K_BIG=1024; K_GROUPS=256; K_CPU=1,16,256; K_DATA=1,16; K_NP=(16 256); IT=(50 50); T=(90 60 90 40 30)
  K_HOST=4096; T_HOST=1,2
else
  K_GPU=1,16,256,4096,65536; K_BIG=262144; K_GROUPS=4096,65536; K_CPU=1,16,256,4096; K_DATA=1,256,4096; K_NP=(4096 65536); IT=(100 100); T=(200 60 100 30 40)
  K_HOST=65536; T_HOST=1,4,16
fi
W=${IT[0]}; D=${IT[1]}
start=$(date +%s)
echo "# exmc on $(nproc) cores; $(nvidia-smi --query-gpu=name,driver_version --format=csv,noheader 2>/dev/null || echo 'no nvidia-smi')" | tee "$OUT/gpu.md" > "$OUT/cpu.md"

# 1. GPU backend: the yardstick, the three small models up to 65,536 chains, eight schools at
#    262,144 (pooled warmup, as a many-chain run would), radon and logistic regression.
for m in "${SMALL[@]}"; do
  ref=--no-reference; [ "$m" = eight_schools_noncentered ] && ref=
  timeout $(( ${T[0]} / 3 )) gpu_bench --backend gpu $ref --model "$m" --chains "$K_GPU" --warmup "$W" --draws "$D" >> "$OUT/gpu.md" 2>&1
done
# Device groups (DECISIONS 82): eight schools again in two groups, whose host loops run while
# each other's steps do; compare with the rows above.
timeout "${T[4]}" gpu_bench --backend gpu --no-reference --model eight_schools_noncentered --chains "$K_GROUPS" \
  --warmup "$W" --draws "$D" --device-groups 2 >> "$OUT/gpu.md" 2>&1
timeout "${T[1]}" gpu_bench --backend gpu --no-reference --model eight_schools_noncentered --chains "$K_BIG" \
  --adaptation pooled --warmup 60 --draws "$D" >> "$OUT/gpu.md" 2>&1
for m in radon_varying_intercept logistic_regression; do
  timeout $(( ${T[1]} / 2 )) gpu_bench --backend gpu --no-reference --data "$DATA" --model "$m" --chains "$K_DATA" \
    --warmup "$W" --draws "$D" >> "$OUT/gpu.md" 2>&1
done
echo "gpu done after $(( $(date +%s) - start )) s" | tee -a "$OUT/gpu.md"

# 2. CPU backend on every core of the machine, same models.
for m in "${SMALL[@]}" radon_varying_intercept logistic_regression; do
  timeout $(( ${T[2]} / 5 )) gpu_bench --backend cpu --data "$DATA" --model "$m" --chains "$K_CPU" \
    --warmup "$W" --draws "$D" >> "$OUT/cpu.md" 2>&1
done
echo "cpu done after $(( $(date +%s) - start )) s" | tee -a "$OUT/cpu.md"

# 3. The host loop (issue 12, item 4): the driver and the chains' state machines alone, on a
#    stand-in device, at 1, 4 and 16 threads; then feeding the GPU on every core, with the
#    backend's own host seconds beside the loop's.
timeout 40 host_loop --chains "$K_HOST" --threads "$T_HOST" --backend synthetic-device --warmup "$W" --draws "$D" \
  >> "$OUT/host_loop.md" 2>&1
timeout 40 host_loop --chains "$K_HOST" --threads "$(nproc)" --backend gpu --warmup "$W" --draws "$D" \
  >> "$OUT/host_loop.md" 2>&1
echo "host loop done after $(( $(date +%s) - start )) s" | tee -a "$OUT/host_loop.md"

# 4. NumPyro's vectorized chains on the same GPU, same models and chain counts (each run
#    compiles once, then times a warm pass).
for m in "${PEERS[@]}"; do
  for k in "${K_NP[@]}"; do
    left=$(( 450 - ($(date +%s) - start) ))
    [ "$left" -gt 10 ] || break 2
    t=${T[3]}; [ "$t" -gt "$left" ] && t=$left
    timeout "$t" "$PY" peers/gpu_numpyro.py "$m" --chains "$k" --warmup "$W" --draws "$D" \
      >> "$OUT/numpyro.jsonl" 2>> "$OUT/numpyro.err" || echo "{\"model\": \"$m\", \"chains\": $k, \"error\": \"exit $? (timeout $t s?)\"}" >> "$OUT/numpyro.jsonl"
  done
done
echo "all done after $(( $(date +%s) - start )) s" | tee -a "$OUT/gpu.md"
