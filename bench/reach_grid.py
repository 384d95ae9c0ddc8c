"""Speed of the A' signal grid (issue 12, requirement 5): 100 masses x 100 eps from a trained model.

    python bench/reach_grid.py [--model bench/out/model.pt] [--experiment ship] [--n-events 1e5]

Prints and writes bench/out/reach_grid.json: seconds for the whole grid (goal <= 60 s on 2 cores), per mass,
and the same for the first 10 masses with generate's finer sampling table (grid 400) as the baseline of this run,
with the largest change of the reach edges between the two.
"""

from __future__ import annotations

import argparse
import json
import time

import numpy as np

from benchutil import HERE


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", default=str(HERE / "out" / "model.pt"))
    ap.add_argument("--experiment", default="ship")
    ap.add_argument("--n-events", type=float, default=1e5)
    args = ap.parse_args()

    import gammastar
    from gammastar.cli.reach import REACH_GRID
    from gammastar.flow.generate import GRID
    from gammastar.reach.contour import reach_contour
    from gammastar.reach.experiment import load_experiment
    from gammastar.reach.signal import signal_grid

    ex = load_experiment(args.experiment)
    n = int(args.n_events)
    gen = gammastar.Generator.load(args.model, grid=REACH_GRID)
    lo, hi = gen.model.mass_range
    masses = np.geomspace(max(lo, 0.22) * 1.01, min(hi * 0.7, 1.2), 100)  # where the data have pairs
    eps = np.geomspace(1e-9, 1e-3, 100)
    t0 = time.perf_counter()
    grid = signal_grid(gen, ex, masses, eps, n_events=n, seed=1)
    full = time.perf_counter() - t0
    fine = gammastar.Generator.load(args.model, grid=GRID)
    t0 = time.perf_counter()
    ref = signal_grid(fine, ex, masses[:10], eps, n_events=n, seed=1)
    base = (time.perf_counter() - t0) / 10
    c = reach_contour(masses[:10], eps, grid.reshaped("n_signal")[:10], 2.3)
    r = reach_contour(masses[:10], eps, ref.reshaped("n_signal"), 2.3)
    edges = np.concatenate([c.eps_low / r.eps_low, c.eps_high / r.eps_high])
    out = {"experiment": ex.name, "masses": 100, "eps": 100, "n_events_per_mass": n, "grid": REACH_GRID,
           "seconds": full, "seconds_per_mass": full / 100, "baseline_grid": GRID,
           "baseline_seconds_per_mass": base, "speed_up": base / (full / 100),
           "max_edge_change": float(np.nanmax(np.abs(edges - 1)))}
    print(f"{ex.name}: 100 masses x 100 eps, {n:.0e} A' a mass: {full:.1f} s ({full / 100:.2f} s a mass; goal <= 60 s)")
    print(f"  baseline (grid {GRID}) {base:.2f} s a mass: {out['speed_up']:.1f}x; reach edges within "
          f"{100 * out['max_edge_change']:.1f}% of it")
    (HERE / "out").mkdir(exist_ok=True)
    (HERE / "out" / "reach_grid.json").write_text(json.dumps(out, indent=1) + "\n")


if __name__ == "__main__":
    main()
