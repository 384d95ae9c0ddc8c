"""Generation speed and memory, end to end through the command line, against the numpy direct-decay generator.

    python bench/generate_throughput.py [--model bench/out/model.pt] [--n 5e6] [--n-memory 1e8] [--repeat 3]

Figures (printed and written to bench/out/generate_throughput.json), each the median of --repeat runs:
* A': ``gammastar generate aprime --mass 0.4 --n-events N --out FILE.parquet`` as a fresh process (Python start,
  imports, model, table, sampling, Parquet, rename), in events/s (goal >= 2e6/s on 2 cores);
* the mock's direct meson-decay generator (numpy, truth.direct) sampling the same N A' in this process, nothing
  written: the floor the command is compared with (goal: command / direct >= 1.0);
* mCP: ``gammastar generate mcp --mchi 0.15 --n-events N`` likewise, both spins, in chi-chibar pairs/s
  (goal >= 1e6/s), and the generator's own rate once loaded;
* the same A' command with ``--workers 2`` (a local Dask cluster, started by the command);
* peak memory of generating and writing 1e6 and --n-memory A' events in a fresh process (goal: flat, < 1 GB).
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from benchutil import HERE, command_seconds, peak_rss_gb


def _memory_job(model: str, n: int, out: str) -> None:
    from gammastar import Generator, write_events

    gen = Generator.load(model)
    t0 = time.perf_counter()
    write_events(out, gen.aprime_events(0.4, n, seed=1), progress=False)
    dt = time.perf_counter() - t0
    Path(out).unlink()
    print(json.dumps({"n": n, "seconds": dt, "peak_rss_gb": peak_rss_gb()}))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", default=str(HERE / "out" / "model.pt"))
    ap.add_argument("--n", type=float, default=5e6)
    ap.add_argument("--n-memory", type=float, default=1e8)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--_memory", nargs=3, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args._memory:
        _memory_job(args._memory[0], int(float(args._memory[1])), args._memory[2])
        return

    from gammastar import Generator
    from gammastar.truth.cocktail import MockConfig
    from gammastar.truth.direct import direct_aprime_events

    n, res = int(args.n), {}
    res["n"] = n
    with tempfile.TemporaryDirectory(dir=HERE / "out") as tmp:
        out = Path(tmp)
        t = command_seconds(["generate", "aprime", "--model", args.model, "--mass", "0.4", "--n-events", str(n),
                      "--out", str(out / "a.parquet")], args.repeat)
        res["cli_aprime_seconds"], res["cli_aprime_events_per_s"] = t, n / t
        times = []
        for i in range(args.repeat):
            t0 = time.perf_counter()
            direct_aprime_events(MockConfig(), 0.4, n, seed=i)
            times.append(time.perf_counter() - t0)
        res["direct_aprime_events_per_s"] = n / statistics.median(times)
        res["cli_over_direct"] = res["cli_aprime_events_per_s"] / res["direct_aprime_events_per_s"]
        print(f"A' {n:.0e} events to Parquet through the CLI: {t:.2f} s, {res['cli_aprime_events_per_s']:.3g} events/s "
              "(goal >= 2e6/s)")
        print(f"numpy direct-decay generator, sampling only: {res['direct_aprime_events_per_s']:.3g} events/s; "
              f"CLI / direct = {res['cli_over_direct']:.2f} (goal >= 1.0)")

        gen = Generator.load(args.model)
        for spin in ("fermion", "scalar"):
            t = command_seconds(["generate", "mcp", "--model", args.model, "--mchi", "0.15", "--spin", spin,
                          "--n-events", str(n), "--out", str(out / "m.parquet")], args.repeat)
            res[f"cli_mcp_{spin}_events_per_s"] = n / t
            t0 = time.perf_counter()
            for _ in gen.iter_mcp(0.15, 1_000_000, spin=spin, seed=1):
                pass
            res[f"mcp_{spin}_loaded_events_per_s"] = 1e6 / (time.perf_counter() - t0)
            print(f"mCP ({spin}) {n:.0e} pairs through the CLI: {t:.2f} s, {n / t:.3g} pairs/s (goal >= 1e6/s); "
                  f"generator once loaded {res[f'mcp_{spin}_loaded_events_per_s']:.3g}/s")

        t = command_seconds(["generate", "aprime", "--model", args.model, "--mass", "0.4", "--n-events", str(n),
                      "--out", str(out / "shards"), "--workers", "2"], 1)
        res["cli_aprime_2_workers_events_per_s"] = n / t
        print(f"A' with --workers 2 (cluster start included): {t:.2f} s, {n / t:.3g} events/s")

        for n_mem in (1e6, args.n_memory):
            proc = subprocess.run([sys.executable, __file__, "--_memory", args.model, str(n_mem), str(out / "mem.parquet")],
                                  capture_output=True, text=True, check=True)
            m = json.loads(proc.stdout.strip().splitlines()[-1])
            res[f"memory_{int(n_mem)}"] = m
            print(f"generate + write {int(n_mem):.0e} A' events: {m['seconds']:.1f} s, peak memory {m['peak_rss_gb']:.2f} GB")
    path = HERE / "out" / "generate_throughput.json"
    path.write_text(json.dumps(res, indent=1) + "\n")
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
