"""Detector-level A' events (``generate aprime --experiment``): speed, memory, HepMC3 against pyhepmc, sums vs reach.

    python bench/detector_events.py [--model bench/out/model.pt] [--n 5e6] [--n-memory 1e7] [--repeat 3]

Figures (printed and written to bench/out/detector_events.json):
* ``gammastar generate aprime --experiment ship --eps E --mass M --n-events N --out FILE.parquet`` as a fresh
  process (start, imports, model, the pilot, sampling, decays, Parquet, rename), median of --repeat, in events/s, at
  0.45 GeV (leptons and pi pi) and 0.78 GeV (the omega: 41% pi+ pi- pi0): goal >= 1e6/s on 2 cores; and, from
  the time for 1000 events (start, imports, model, the pilot sample), the rate beyond that fixed part;
* the CPU time (user + system) an event costs beyond the start, and the rate two whole cores would give: this
  machine's second core comes and goes, the CPU time does not;
* for scale, plain ``generate aprime`` (five columns, no decays) in the same run: this machine's speed drifts;
* HepMC3: the same events written by gammastar's writer and by a plain loop of pyhepmc calls building the same
  events from Python lists (protons, A', decay vertex, daughters, generated masses, run info) in this process: the
  ratio (goal ~1);
* peak memory generating and writing 1e6 and --n-memory events in a fresh process (goal: flat);
* the sum of the weights against ``reach aprime``'s n_signal at the same (m, eps) in the three presets.
"""

from __future__ import annotations

import argparse
import json
import math
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from benchutil import HERE, command_seconds, command_times, peak_rss_gb

POINTS = ((0.45, 1e-7), (0.78, 3e-8))  # (mass, eps): long-lived enough to fill SHiP's volume


def _memory_job(model: str, n: int, out: str) -> None:
    from gammastar import Generator, write_events
    from gammastar.reach.events import aprime_detector_events
    from gammastar.reach.experiment import load_experiment

    gen = Generator.load(model)
    t0 = time.perf_counter()
    write_events(out, aprime_detector_events(gen, load_experiment("ship"), 0.78, n, 3e-8, seed=1), progress=False)
    dt = time.perf_counter() - t0
    Path(out).unlink()
    print(json.dumps({"n": n, "seconds": dt, "peak_rss_gb": peak_rss_gb()}))


def _pyhepmc_baseline(chunk: dict, path: Path) -> float:
    """Seconds for pyhepmc alone to write the chunk's events (the loop a user would write)."""
    import pyhepmc as hep

    from gammastar.io.events.base import pdg_masses

    # the same content as gammastar's file (run info, event numbers, generated masses), from plain lists
    c = {k: v.tolist() for k, v in chunk.items()}
    masses = {k: pdg_masses(chunk[f"pid_d{k}"]).tolist() for k in (1, 2, 3)}
    t0 = time.perf_counter()
    run = hep.GenRunInfo()
    run.weight_names = ["weight"]
    with hep.io.WriterAscii(str(path)) as w:
        beam = (0.0, 0.0, math.sqrt(400.0**2 - 0.938272**2), 400.0)
        target = (0.0, 0.0, 0.0, 0.938272)
        for i in range(len(c["weight"])):
            ev = hep.GenEvent(hep.Units.GEV, hep.Units.MM)
            ev.run_info = run
            ev.event_number = i
            ev.weights = [c["weight"][i]]
            v0 = hep.GenVertex((0.0, 0.0, 0.0, 0.0))
            v0.add_particle_in(hep.GenParticle(beam, 2212, 4))
            v0.add_particle_in(hep.GenParticle(target, 2212, 4))
            aprime = hep.GenParticle((c["px"][i], c["py"][i], c["pz"][i], c["e"][i]), 4900022, 2)
            aprime.generated_mass = 0.78
            v0.add_particle_out(aprime)
            ev.add_vertex(v0)
            v1 = hep.GenVertex((c["vx_m"][i] * 1e3, c["vy_m"][i] * 1e3, c["vz_m"][i] * 1e3, c["vt_ns"][i] * 299.792458))
            v1.add_particle_in(aprime)
            for k in (1, 2, 3):
                if c[f"pid_d{k}"][i]:
                    p = hep.GenParticle((c[f"px_d{k}"][i], c[f"py_d{k}"][i], c[f"pz_d{k}"][i], c[f"e_d{k}"][i]),
                                        c[f"pid_d{k}"][i], 1)
                    p.generated_mass = masses[k][i]
                    v1.add_particle_out(p)
            ev.add_vertex(v1)
            w.write(ev)
    return time.perf_counter() - t0


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", default=str(HERE / "out" / "model.pt"))
    ap.add_argument("--n", type=float, default=5e6)
    ap.add_argument("--n-memory", type=float, default=1e7)
    ap.add_argument("--n-hepmc", type=float, default=2e4)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--_memory", nargs=3, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args._memory:
        _memory_job(args._memory[0], int(float(args._memory[1])), args._memory[2])
        return

    from gammastar import Generator, write_events
    from gammastar.io.events import EventInfo, EventStream
    from gammastar.reach.events import aprime_at_detector, aprime_detector_tasks
    from gammastar.reach.experiment import load_experiment
    from gammastar.reach.signal import signal_grid

    n, res = int(args.n), {"n": int(args.n), "speed": [], "sums": []}
    with tempfile.TemporaryDirectory(dir=HERE / "out") as tmp:
        out = Path(tmp)
        for m, eps in POINTS:
            cmd = ["generate", "aprime", "--model", args.model, "--mass", str(m), "--eps", str(eps), "--experiment",
                   "ship", "--out", str(out / "a.parquet"), "--n-events"]
            t, cpu = command_times([*cmd, str(n)], args.repeat)
            t0, cpu0 = command_times([*cmd, "1000"], args.repeat)  # the fixed part: start, imports, model, the pilot
            row = {"mass": m, "eps": eps, "seconds": t, "events_per_s": n / t, "fixed_seconds": t0,
                   "marginal_events_per_s": (n - 1000) / (t - t0), "cpu_seconds": cpu,
                   "cpu_us_per_event": (cpu - cpu0) / (n - 1000) * 1e6}
            res["speed"].append(row)
            print(f"generate aprime --experiment ship, m = {m} GeV, eps = {eps:g}: {n:.0e} events in {t:.2f} s = "
                  f"{n / t:.3g} events/s end to end; {t0:.2f} s for 1000 (start, model, pilot), so "
                  f"{row['marginal_events_per_s']:.3g} events/s beyond; CPU {row['cpu_us_per_event']:.2f} us an event "
                  f"beyond the start ({2e6 / row['cpu_us_per_event']:.3g} events/s on two whole cores)")
        # the machine's speed in the same run: plain A' events (five columns, no decays), the issue-13 figure
        t = command_seconds(["generate", "aprime", "--model", args.model, "--mass", "0.4", "--n-events", str(n),
                             "--out", str(out / "p.parquet")], args.repeat)
        res["plain_aprime_events_per_s"] = n / t
        print(f"for scale, in the same run: generate aprime (no experiment) {n / t:.3g} events/s")
        gen = Generator.load(args.model)
        ship = load_experiment("ship")
        k = int(args.n_hepmc)
        chunk = aprime_at_detector(gen, ship, 0.78, k, 3e-8, seed=2)
        t0 = time.perf_counter()
        write_events(out / "ours.hepmc3", EventStream(EventInfo("aprime", 0.78, "mu", gen.beam), k, [chunk]),
                     progress=False)
        ours = time.perf_counter() - t0
        base = _pyhepmc_baseline(chunk, out / "base.hepmc3")
        res["hepmc3"] = {"n": k, "gammastar_s": ours, "pyhepmc_s": base, "ratio": ours / base}
        print(f"HepMC3, {k:.0e} events: gammastar's writer {ours:.2f} s, pyhepmc alone {base:.2f} s (ratio "
              f"{ours / base:.2f})")
        mem = []
        for count in (1_000_000, int(args.n_memory)):
            r = subprocess.run([sys.executable, __file__, "--_memory", args.model, str(count), str(out / "m.parquet")],
                               check=True, capture_output=True, text=True)
            mem.append(json.loads(r.stdout.strip().splitlines()[-1]))
            print(f"memory: {count:.0e} events written in {mem[-1]['seconds']:.1f} s, peak {mem[-1]['peak_rss_gb']:.2f} GB")
        res["memory"] = mem
    for name in ("ship", "na62-dump", "charm"):
        ex = load_experiment(name)
        for m, eps in ((0.45, 2e-7), (0.78, 1e-7)):
            tasks, summary = aprime_detector_tasks(gen, ex, m, 500_000, eps, seed=4)
            w = np.concatenate([t()["weight"] for t in tasks])
            err = w.sum() * math.hypot(w.std() / w.mean() / math.sqrt(w.size),
                                       math.sqrt((1 - summary["kept_share"]) / (summary["kept_share"] * 2e5)))
            g = signal_grid(gen, ex, [m], [eps], n_events=1_000_000, seed=5)
            row = {"experiment": name, "mass": m, "eps": eps, "sum_weights": float(w.sum()), "sum_err": err,
                   "n_signal": float(g.n_signal[0]), "n_signal_mc_err": float(g.n_signal_mc_err[0])}
            row["pull"] = (row["sum_weights"] - row["n_signal"]) / math.hypot(err, row["n_signal_mc_err"])
            res["sums"].append(row)
            print(f"{name:10s} m = {m} eps = {eps:g}: sum of weights {row['sum_weights']:.4g} +- {err:.2g}, reach "
                  f"{row['n_signal']:.4g} +- {row['n_signal_mc_err']:.2g} (pull {row['pull']:+.2f})")
    (HERE / "out" / "detector_events.json").write_text(json.dumps(res, indent=1))


if __name__ == "__main__":
    main()
