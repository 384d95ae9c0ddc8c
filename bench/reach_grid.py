"""Speed of the A' signal grid (issue 12, requirement 5): 100 masses x 100 eps from a trained model.

    python bench/reach_grid.py [--model bench/out/model.pt] [--experiment ship] [--n-events 1e5]

Prints and writes bench/out/reach_grid.json: seconds for the whole grid from the model's stored pair-density
table (goal <= 60 s on 2 cores), per mass, and, as the check of that table's cells, the first 10 masses from a
finer table (400 cells per axis, tabulated from the flow in this run) with the largest change of the reach edges.
"""

from __future__ import annotations

import argparse
import json
import time

import numpy as np

from benchutil import HERE

FINE = 400  # cells per axis of the comparison table


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", default=str(HERE / "out" / "model.pt"))
    ap.add_argument("--experiment", default="ship")
    ap.add_argument("--n-events", type=float, default=1e5)
    args = ap.parse_args()

    import gammastar
    from gammastar.reach.contour import reach_contour
    from gammastar.reach.experiment import load_experiment
    from gammastar.reach.signal import signal_grid

    ex = load_experiment(args.experiment)
    n = int(args.n_events)
    gen = gammastar.Generator.load(args.model)  # the model's stored table
    lo, hi = gen.model.mass_range
    masses = np.geomspace(max(lo, 0.22) * 1.01, min(hi * 0.7, 1.2), 100)  # where the data have pairs
    eps = np.geomspace(1e-9, 1e-3, 100)
    t0 = time.perf_counter()
    grid = signal_grid(gen, ex, masses, eps, n_events=n, seed=1)
    full = time.perf_counter() - t0
    fine = gammastar.Generator.load(args.model, grid=FINE)
    t0 = time.perf_counter()
    _ = fine.density
    table = time.perf_counter() - t0
    t0 = time.perf_counter()
    ref = signal_grid(fine, ex, masses[:10], eps, n_events=n, seed=1)
    base = (time.perf_counter() - t0) / 10
    c = reach_contour(masses[:10], eps, grid.reshaped("n_signal")[:10], 2.3)
    r = reach_contour(masses[:10], eps, ref.reshaped("n_signal"), 2.3)
    edges = np.concatenate([c.eps_low / r.eps_low, c.eps_high / r.eps_high])
    out = {"experiment": ex.name, "masses": 100, "eps": 100, "n_events_per_mass": n, "grid": gen.density.grid,
           "seconds": full, "seconds_per_mass": full / 100, "fine_grid": FINE, "fine_table_seconds": table,
           "fine_seconds_per_mass": base, "max_edge_change": float(np.nanmax(np.abs(edges - 1)))}
    print(f"{ex.name}: 100 masses x 100 eps, {n:.0e} A' a mass: {full:.1f} s ({full / 100:.2f} s a mass; goal <= 60 s)")
    print(f"  a {FINE}-cell table instead of the stored {gen.density.grid}: {table:.1f} s to tabulate, then {base:.2f} s "
          f"a mass; reach edges within {100 * out['max_edge_change']:.1f}% of it")
    (HERE / "out").mkdir(exist_ok=True)
    (HERE / "out" / "reach_grid.json").write_text(json.dumps(out, indent=1) + "\n")


if __name__ == "__main__":
    main()
