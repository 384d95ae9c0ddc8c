"""Streaming a large input: rates from a 1e8-pair Parquet file in bounded memory (issue 4: < 2 GB).

    python bench/stream_rates.py [--n-pairs 1e8] [--chunk 5e6]

The file (about 7 GB, under bench/out/) is written once from the mock in chunks; the timed
part runs in a fresh process and prints pairs/s and peak memory (VmHWM), and writes JSON.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time

from benchutil import HERE, peak_rss_gb


def make_input(n: int, chunk: int, path) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    from gammastar.io.pairs import PAIR_COLUMNS
    from gammastar.truth.cocktail import MockConfig
    from gammastar.truth.mock import generate_mock

    if path.exists():
        return
    tmp = path.with_name(path.name + ".partial")
    writer, n_coll = None, 0.0
    for i, start in enumerate(range(0, n, chunk)):
        data, _, _ = generate_mock(MockConfig(n_events=min(chunk, n - start), seed=100 + i), progress=False)
        cols = {c: (data.pos if j < 4 else data.neg)[:, j % 4] for j, c in enumerate(PAIR_COLUMNS)}
        cols["weight"] = data.weight
        table = pa.table(cols)
        n_coll += data.n_collisions
        if writer is None:
            writer = pq.ParquetWriter(tmp, table.schema)
        writer.write_table(table)
        print(f"  wrote {start + len(data):.3g} pairs", file=sys.stderr)
    writer.close()
    # the metadata needs the total, known only at the end: rewrite the footer via a second pass
    pf = pq.ParquetFile(tmp)
    schema = pf.schema_arrow.with_metadata({"gammastar.n_collisions": repr(n_coll)})
    with pq.ParquetWriter(path, schema) as w:
        for b in pf.iter_batches(batch_size=chunk):
            w.write_batch(b)
    tmp.unlink()


def job(path: str) -> None:
    import gammastar
    from gammastar import parse_mass_spec
    from gammastar.io.stream import scan_dileptons

    t0 = time.perf_counter()
    sample = scan_dileptons(path, progress=False)
    t_scan = time.perf_counter() - t0
    ap = gammastar.aprime_yield(sample, parse_mass_spec("0.22:1.2:0.005"))
    mc = gammastar.mcp_yield(sample, parse_mass_spec("0.01:0.45:0.01"))
    total = time.perf_counter() - t0
    print(json.dumps({"n_pairs": len(sample), "scan_s": t_scan, "total_s": total, "pairs_per_s": len(sample) / t_scan,
                      "n_aprime": len(ap.mass), "n_mcp": len(mc.m_chi), "peak_rss_gb": peak_rss_gb()}))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n-pairs", type=float, default=1e8)
    ap.add_argument("--chunk", type=float, default=5e6)
    ap.add_argument("--_job", default=None, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args._job:
        job(args._job)
        return
    n = int(args.n_pairs)
    path = HERE / "out" / f"stream_mock_{n}.parquet"
    path.parent.mkdir(exist_ok=True)
    make_input(n, int(args.chunk), path)
    proc = subprocess.run([sys.executable, __file__, "--_job", str(path)], capture_output=True, text=True, check=True)
    res = json.loads(proc.stdout.strip().splitlines()[-1])
    print(f"streamed {res['n_pairs']:.3g} pairs in {res['scan_s']:.0f} s ({res['pairs_per_s']:.3g} pairs/s), "
          f"then {res['n_aprime']} A' and {res['n_mcp']} mCP yields; total {res['total_s']:.0f} s; "
          f"peak memory {res['peak_rss_gb']:.2f} GB (goal < 2 GB)")
    out = HERE / "out" / "stream_rates.json"
    out.write_text(json.dumps(res, indent=1))
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
