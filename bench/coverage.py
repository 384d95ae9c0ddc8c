"""data_coverage on data that cover the volumes, and on data seen through a spectrometer's window.

    python bench/coverage.py [--model bench/out/model.pt] [--window-model bench/out/window_model.pt]

Two models of the same built-in mock (1e6 pairs, seed 1): ``--model`` trained on every pair (bench/train_flow.py
makes it), ``--window-model`` on the pairs a dimuon spectrometer would see, 3.3 < y_lab < 4.3 (trained here with
the defaults if absent).  For the FASER-like, NA62-like and CHARM-like volumes of bench/forward_tail.py (1e20
collisions) it prints, per mass, data_coverage at the lower edge of the reach (the long-lived limit where there is
none) and the truth it estimates: the share of the accepted, decay-weighted direct meson-decay A' inside the
model's support, and (windowed) inside the window itself.  Also ``compare``'s coverage of the whole phase space.
Writes bench/out/coverage.json.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

import numpy as np

from benchutil import HERE
from forward_tail import GEOMETRIES, experiment_toml

MASSES = (0.3, 0.45, 0.6)
EPS = np.geomspace(1e-9, 1e-3, 61)


def window_model(path: Path) -> None:
    from gammastar import FlowConfig, read_dileptons, train, write_dileptons
    from gammastar.physics.kinematics import pair_kinematics

    data_path = HERE / "out" / "train_mock_1000000_seed1.parquet"
    data = read_dileptons(data_path)
    y = pair_kinematics(data.pos, data.neg).y
    seen = data.select((y > 3.3) & (y < 4.3))
    write_dileptons(HERE / "out" / "window_mock.parquet", seen)
    train(seen, FlowConfig()).save(path)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", type=Path, default=HERE / "out" / "model.pt")
    ap.add_argument("--window-model", type=Path, default=HERE / "out" / "window_model.pt")
    ap.add_argument("--out", type=Path, default=HERE / "out" / "coverage.json")
    args = ap.parse_args()
    if not args.window_model.exists():
        window_model(args.window_model)

    import gammastar
    from gammastar.reach.contour import reach_contour
    from gammastar.reach.coverage import edge_coverage
    from gammastar.reach.experiment import load_experiment
    from gammastar.reach.signal import _in_shape_at, decay_probability, signal_grid
    from gammastar.truth.cocktail import MockConfig
    from gammastar.truth.direct import direct_aprime_events

    t0 = time.perf_counter()
    tmp = Path(tempfile.mkdtemp())
    rows = []
    print("data_coverage at the lower edge of the reach (long-lived where none) vs the truth it estimates")
    print(f"{'model':8s} {'geometry':11s} {'m[GeV]':>6s} {'coverage':>8s} {'truth':>6s} {'in window':>9s} extrapolated")
    for label, path in (("full", args.model), ("window", args.window_model)):
        gen = gammastar.Generator.load(path)
        for name, volume in GEOMETRIES.items():
            toml = tmp / f"{name}.toml"
            toml.write_text(experiment_toml(name, volume).replace("n_collisions = 1e18", "n_collisions = 1e20"))
            ex = load_experiment(toml)
            v = ex.decay_volume
            g = signal_grid(gen, ex, list(MASSES), EPS, n_events=100_000, seed=1)
            con = reach_contour(np.array(MASSES), EPS, g.reshaped("n_signal"), 2.3)
            low, _ = edge_coverage(EPS, g.reshaped("data_coverage"), con.eps_low, con.eps_high)
            for i, m in enumerate(MASSES):
                eps = con.eps_low[i] if np.isfinite(con.eps_low[i]) else EPS[0]
                t, _ = direct_aprime_events(MockConfig(), m, 20_000_000 if name.startswith("FASER") else 4_000_000, seed=5)
                hit = _in_shape_at(v.shape, v.z_end, 0.0, 0.0, 0.0, t[:, :3])
                p = decay_probability(m / (t[hit, 2] * gammastar.aprime_decay([m]).ctau_m_eps1[0]), [eps], v.z_start,
                                      v.z_end)[:, 0]
                pt = np.hypot(t[hit, 0], t[hit, 1])
                y = 0.5 * np.log((t[hit, 3] + t[hit, 2]) / (t[hit, 3] - t[hit, 2]))
                truth = float(np.sum(p * gen.support.contains(m, pt, y)) / p.sum())
                in_window = float(np.sum(p * ((y > 3.3) & (y < 4.3))) / p.sum())
                rows.append({"model": label, "geometry": name, "mass": m, "data_coverage": float(low[i]),
                             "truth_in_support": truth, "truth_in_window": in_window, "eps": float(eps),
                             "extrapolated": bool(low[i] < 0.9)})
                print(f"{label:8s} {name:11s} {m:6.2f} {low[i]:8.3f} {truth:6.3f} {in_window:9.3f} "
                      f"{'yes' if low[i] < 0.9 else 'no'}")
    from gammastar.rates.compare import aprime_comparison

    compare = {}
    for label, data in (("full", HERE / "out" / "train_mock_1000000_seed1.parquet"),
                        ("window", HERE / "out" / "window_mock.parquet")):
        if data.exists():
            c = aprime_comparison(gammastar.open_sample(data), list(MASSES))
            compare[label] = [float(x) for x in c.data_coverage]
            print(f"compare aprime, {label} data: data_coverage of the phase space "
                  + ", ".join(f"{x:.2f}" for x in compare[label]))
    args.out.write_text(json.dumps({"rows": rows, "compare": compare, "seconds": time.perf_counter() - t0}, indent=1))
    print(f"wrote {args.out} ({time.perf_counter() - t0:.0f} s)")


if __name__ == "__main__":
    main()
