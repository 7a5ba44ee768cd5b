"""nutpie's ESS per 1,000 gradients over several seeds, with the peer harness's model, data,
settings (4 chains, 1000 tune + 1000 draws) and ESS definition (minimum bulk ESS over every
scalar of the model's variables; gradients in tune and draws).

One seed's ESS carries several percent of estimation noise; this gives the spread that a
one-sitting comparison (`scripts/bench_peers.sh`) sits in. exmc's counterpart:
`cargo run --release --example adaptation -- --set peers --seeds N --variants draw_gradient:1000 MODEL`.

    ~/.venvs/peers/bin/python scripts/nutpie_seeds.py eight_schools_noncentered --seeds 10
"""

import argparse
import os
import statistics
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
SHARED = Path(os.environ.get("EXMC_SHARED", HERE.parent.parent / "shared"))
sys.path.insert(0, str(SHARED / "peers"))

import run_peers  # noqa: E402  (the harness: models, data, settings, ESS)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("model")
    ap.add_argument("--seeds", type=int, default=10)
    ap.add_argument("--first-seed", type=int, default=1)
    args = ap.parse_args()
    data = run_peers.load_data(args.model)
    rows = []
    for seed in range(args.first_seed, args.first_seed + args.seeds):
        run_peers.SEED = seed
        out = run_peers.run_nutpie(args.model, data)
        summary = run_peers.summarize(args.model, out["posterior"])
        grads = out["grad_evals_sampling"] + out["grad_evals_warmup"]
        ess = summary["ess_bulk_min"]
        rows.append((seed, grads, ess, 1000.0 * ess / grads, out["divergences"]))
        print(f"seed {seed}: {grads} gradients, ESS_bulk min {ess:.0f}, "
              f"{1000.0 * ess / grads:.1f} per 1k gradients, {out['divergences']} divergences", flush=True)
    per_k = [r[3] for r in rows]
    print(f"{args.model}: nutpie, {len(rows)} seeds: ESS per 1k gradients median {statistics.median(per_k):.1f}, "
          f"mean {statistics.mean(per_k):.1f}, min {min(per_k):.1f}, max {max(per_k):.1f}; "
          f"median gradients {statistics.median(r[1] for r in rows):.0f}")


if __name__ == "__main__":
    main()
