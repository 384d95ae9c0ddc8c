"""Rates throughput: read a 1e7-pair Parquet file and compute A' yields; print figures, write JSON.

Goal (issue 2): a 1e7-pair file in under 15 s on 2 cores, peak memory under 2 GB.

    python bench/rates_throughput.py [--n-pairs 1e7] [--masses 0.22:1.2:0.005] [--out bench/rates_throughput.json]

The input is made once with the built-in mock (cached under bench/out/); the
timed part runs in a fresh subprocess so that its peak RSS is the rates job's
own, not the generator's.
"""

from __future__ import annotations

import argparse
import json
import platform
import subprocess
import sys
import time
from pathlib import Path

from benchutil import HERE, peak_rss_gb


def make_input(n_pairs: int, path: Path) -> None:
    if path.exists():
        return
    from gammastar import write_dileptons
    from gammastar.truth.cocktail import MockConfig
    from gammastar.truth.mock import generate_mock

    t0 = time.perf_counter()
    data, sid, _ = generate_mock(MockConfig(n_events=n_pairs, seed=1))
    write_dileptons(path, data, {"source_id": sid})
    print(f"made {path} ({path.stat().st_size / 1e6:.0f} MB) in {time.perf_counter() - t0:.0f} s", file=sys.stderr)


def timed_job(path: str, masses: str) -> dict:
    import gammastar
    from gammastar import mcp_yield, parse_mass_spec

    t0 = time.perf_counter()
    data = gammastar.read_dileptons(path)
    t_read = time.perf_counter() - t0
    spec = data.mass_spectrum()
    t_spec = time.perf_counter() - t0 - t_read
    grid = parse_mass_spec(masses)
    t1 = time.perf_counter()
    res = gammastar.aprime_yield(data, grid, spectrum=spec)
    t_ap = time.perf_counter() - t1
    t2 = time.perf_counter()
    mcp_yield(data, parse_mass_spec("0.01:0.45:0.01"), spin="fermion")
    t_mcp = time.perf_counter() - t2
    total = time.perf_counter() - t0
    return {
        "n_pairs": len(data),
        "n_masses": int(grid.size),
        "read_s": t_read,
        "spectrum_s": t_spec,
        "aprime_s": t_ap,
        "mcp_45_masses_s": t_mcp,
        "total_s": total,
        "pairs_per_s": len(data) / (t_read + t_spec + t_ap),
        "aprime_yields_per_s": grid.size / t_ap,
        "peak_rss_gb": peak_rss_gb(),
        "max_rel_err": float((res.n_err / res.n_per_eps2).max()),
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n-pairs", type=float, default=1e7)
    ap.add_argument("--masses", default="0.22:1.2:0.005")
    ap.add_argument("--out", type=Path, default=HERE / "rates_throughput.json")
    ap.add_argument("--_job", nargs=2, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args._job:
        print(json.dumps(timed_job(*args._job)))
        return
    n = int(args.n_pairs)
    path = HERE / "out" / f"mock_{n}.parquet"
    path.parent.mkdir(exist_ok=True)
    make_input(n, path)
    proc = subprocess.run([sys.executable, __file__, "--_job", str(path), args.masses],
                          capture_output=True, text=True, check=True)
    res = json.loads(proc.stdout.strip().splitlines()[-1])
    res.update(machine=platform.machine(), python=platform.python_version(), goal_total_s=15.0, goal_peak_rss_gb=2.0)
    print(f"pairs read + A' yields: {res['n_pairs']:.3g} pairs, {res['n_masses']} masses")
    print(f"  read {res['read_s']:.2f} s, spectrum {res['spectrum_s']:.2f} s, A' {res['aprime_s']:.2f} s, "
          f"mCP (45 m_chi) {res['mcp_45_masses_s']:.2f} s, total {res['total_s']:.2f} s (goal < 15 s)")
    print(f"  throughput {res['pairs_per_s']:.3g} pairs/s, {res['aprime_yields_per_s']:.3g} A' yields/s")
    print(f"  peak memory {res['peak_rss_gb']:.2f} GB (goal < 2 GB)")
    args.out.write_text(json.dumps(res, indent=1))
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
