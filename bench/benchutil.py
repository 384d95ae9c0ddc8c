"""Helpers shared by the bench scripts (run them as ``python bench/<script>.py``)."""

import statistics
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent


def peak_rss_gb() -> float:
    """This process's peak resident memory (VmHWM, which, unlike ru_maxrss, starts afresh at exec)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024**2
    raise RuntimeError("no VmHWM in /proc/self/status")


def command_seconds(args: list[str], repeat: int) -> float:
    """Median wall time of ``python -m gammastar ARGS`` in fresh processes."""
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        subprocess.run([sys.executable, "-m", "gammastar", *args], check=True, capture_output=True)
        times.append(time.perf_counter() - t0)
    return statistics.median(times)
