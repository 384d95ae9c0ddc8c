"""Training benchmark: time to train the flow on 1e6 mock pairs (2 cores), figures printed and written as JSON.

Goal (issue 3): <= 15 min to the acceptance quality (checked by bench/flow_acceptance.py).

    python bench/train_flow.py [--n-pairs 1e6] [--epochs 30] [--holdout-mass 0.40:0.45] [--out bench/out/model.pt]
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import torch

from benchutil import HERE, peak_rss_gb
from gammastar import FlowConfig, train, write_dileptons
from gammastar.truth.cocktail import MockConfig
from gammastar.truth.mock import generate_mock


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n-pairs", type=float, default=1e6)
    ap.add_argument("--epochs", type=int, default=30)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--holdout-mass", default=None, help="LO:HI held out of training")
    ap.add_argument("--out", type=Path, default=HERE / "out" / "model.pt")
    args = ap.parse_args()
    args.out.parent.mkdir(parents=True, exist_ok=True)
    n = int(args.n_pairs)
    data_path = HERE / "out" / f"train_mock_{n}_seed{args.seed}.parquet"
    if not data_path.exists():
        data, sid, _ = generate_mock(MockConfig(n_events=n, seed=args.seed))
        write_dileptons(data_path, data, {"source_id": sid})
    from gammastar import read_dileptons

    data = read_dileptons(data_path)
    holdout = tuple(float(x) for x in args.holdout_mass.split(":")) if args.holdout_mass else None
    t0 = time.perf_counter()
    model = train(data, FlowConfig(epochs=args.epochs, seed=args.seed, holdout_mass=holdout))
    seconds = time.perf_counter() - t0
    model.save(args.out)
    res = {
        "n_pairs": n,
        "threads": torch.get_num_threads(),
        "train_seconds": seconds,
        "epochs_run": len(model.history),
        "best_val_loss": model.provenance["best_val_loss"],
        "pairs_per_second": model.provenance["n_train"] * len(model.history) / seconds,
        "peak_rss_gb": peak_rss_gb(),
        "holdout_mass": holdout,
        "model": str(args.out),
        "history": model.history,
    }
    print(f"trained on {n:.3g} pairs: {seconds / 60:.1f} min for {len(model.history)} epochs "
          f"({res['pairs_per_second']:.3g} pairs/s, {res['threads']} threads), best val loss {res['best_val_loss']:.4f}, "
          f"peak memory {res['peak_rss_gb']:.2f} GB (goal <= 15 min)")
    out_json = args.out.with_suffix(".train.json")
    out_json.write_text(json.dumps(res, indent=1))
    print(f"wrote {args.out} and {out_json}")


if __name__ == "__main__":
    main()
