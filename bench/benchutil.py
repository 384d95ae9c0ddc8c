"""Helpers shared by the bench scripts (run them as ``python bench/<script>.py``)."""

from pathlib import Path

HERE = Path(__file__).resolve().parent


def peak_rss_gb() -> float:
    """This process's peak resident memory (VmHWM, which, unlike ru_maxrss, starts afresh at exec)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024**2
    raise RuntimeError("no VmHWM in /proc/self/status")
