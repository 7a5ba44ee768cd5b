#!/usr/bin/env bash
# One shard of an exmc run per Slurm array task, each on its own GPU (or node): 8 tasks × 512
# chains = 4,096 chains. Submit with `sbatch deploy/slurm-array.sh`, then, when all tasks are
# done, join the shards: `exmc merge runs/shard-* --out runs/whole`.
#SBATCH --job-name=exmc
#SBATCH --array=0-7
#SBATCH --gpus-per-task=1
#SBATCH --cpus-per-task=4
#SBATCH --time=01:00:00
#SBATCH --output=runs/slurm-%A_%a.log
set -euo pipefail

MODEL=${MODEL:-models/eight_schools.toml}
DATA=${DATA:-models/eight_schools.json}
PER_SHARD=${PER_SHARD:-512}
SHARDS=${SLURM_ARRAY_TASK_COUNT:-8}
i=${SLURM_ARRAY_TASK_ID:?run under sbatch --array}
first=$((i * PER_SHARD))
# Every shard uses the same seed and total chain count: chain c's draws depend only on
# (seed, c), so the merged shards equal one run of all the chains, bit for bit.
exmc sample "$MODEL" "$DATA" --chains $((SHARDS * PER_SHARD)) \
  --chain-ids "${first}..$((first + PER_SHARD))" --seed "${SEED:-1}" --backend "${BACKEND:-auto}" \
  --quiet --out "runs/shard-$(printf %03d "$i")"
