"""Helpers shared by the bench scripts (run them as ``python bench/<script>.py``)."""

import resource
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
    return command_times(args, repeat)[0]


def command_times(args: list[str], repeat: int) -> tuple[float, float]:
    """Median wall time and median CPU time (user + system, all threads) of ``python -m gammastar ARGS`` in fresh
    processes: the CPU time does not depend on how many cores the machine gives the run at that moment."""
    walls, cpus = [], []
    for _ in range(repeat):
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        t0 = time.perf_counter()
        subprocess.run([sys.executable, "-m", "gammastar", *args], check=True, capture_output=True)
        walls.append(time.perf_counter() - t0)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpus.append(after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime)
    return statistics.median(walls), statistics.median(cpus)
