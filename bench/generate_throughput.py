"""Generation speed and memory: A' events/s (pair kinematics), the full mCP path, and the direct-decay generator.

    python bench/generate_throughput.py [--model bench/out/model.pt] [--n-memory 1e8]

Figures (printed and written to bench/out/generate_throughput.json):
* A' events/s from the model on CPU (goal >= 1e6/s on 2 cores), table build time per mass separately;
* the full mCP path (pair flow sampled per event, exact decay law) in events/s;
* the mock's direct meson-decay generator for the same A' events, and the ratio, in the same run;
* peak memory while generating and writing n-memory A' events to Parquet (goal: flat, < 1 GB),
  measured in a fresh process against 1e6 events for comparison.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

from benchutil import HERE, peak_rss_gb


def _memory_job(model: str, n: int, out: str) -> None:
    from gammastar import Generator, write_events

    gen = Generator.load(model)
    t0 = time.perf_counter()
    write_events(out, gen.aprime_events(0.5, n, seed=1), progress=False)
    dt = time.perf_counter() - t0
    Path(out).unlink()
    print(json.dumps({"n": n, "seconds": dt, "peak_rss_gb": peak_rss_gb()}))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", default=str(HERE / "out" / "model.pt"))
    ap.add_argument("--n-memory", type=float, default=1e8)
    ap.add_argument("--_memory", nargs=3, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args._memory:
        _memory_job(args._memory[0], int(float(args._memory[1])), args._memory[2])
        return

    import torch

    from gammastar import Generator
    from gammastar.truth.cocktail import MockConfig
    from gammastar.truth.direct import direct_aprime_events

    gen = Generator.load(args.model)
    res = {"threads": torch.get_num_threads()}
    t0 = time.perf_counter()
    gen.grid_coverage(0.5)
    res["aprime_table_seconds"] = time.perf_counter() - t0
    n = 10_000_000
    t0 = time.perf_counter()
    for _ in gen.iter_aprime(0.5, n, seed=1):
        pass
    res["aprime_events_per_s"] = n / (time.perf_counter() - t0)
    n_mcp = 200_000
    for spin in ("fermion", "scalar"):
        t0 = time.perf_counter()
        for _ in gen.iter_mcp(0.15, n_mcp, spin=spin, seed=1):
            pass
        res[f"mcp_{spin}_events_per_s"] = n_mcp / (time.perf_counter() - t0)
    n_direct = 1_000_000
    t0 = time.perf_counter()
    direct_aprime_events(MockConfig(), 0.5, n_direct, seed=1)
    res["direct_decay_events_per_s"] = n_direct / (time.perf_counter() - t0)
    res["flow_over_direct"] = res["aprime_events_per_s"] / res["direct_decay_events_per_s"]
    print(f"A' from the model: {res['aprime_events_per_s']:.3g} events/s on {res['threads']} threads "
          f"(+ {res['aprime_table_seconds']:.2f} s table per mass; goal >= 1e6/s)")
    print(f"mCP full path: fermion {res['mcp_fermion_events_per_s']:.3g}/s, scalar {res['mcp_scalar_events_per_s']:.3g}/s")
    print(f"direct meson-decay generator: {res['direct_decay_events_per_s']:.3g} events/s; "
          f"model / direct = {res['flow_over_direct']:.2f}")
    for n_mem in (1e6, args.n_memory):
        out = HERE / "out" / "memory_probe.parquet"
        proc = subprocess.run([sys.executable, __file__, "--_memory", args.model, str(n_mem), str(out)],
                              capture_output=True, text=True, check=True)
        m = json.loads(proc.stdout.strip().splitlines()[-1])
        res[f"memory_{int(n_mem)}"] = m
        print(f"generate + write {int(n_mem):.0e} A' events: {m['seconds']:.1f} s, peak memory {m['peak_rss_gb']:.2f} GB")
    path = HERE / "out" / "generate_throughput.json"
    path.write_text(json.dumps(res, indent=1))
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
