"""The reach: where in (mass, eps) a search sees at least ``threshold`` signal events, and existing bounds.

At each mass the signal rises with eps (more A's, ~eps^2, and in the
long-lived regime more decays in the volume, ~eps^2 more) and then falls once
the A' decays before the volume.  The reach at that mass is the eps interval
where n_signal >= threshold; its edges are interpolated linearly in
(log eps, log n_signal) between grid points.  2.3 events is the 90% CL upper
limit of a Poisson count with no background and none observed.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from importlib import resources
from typing import Any

import numpy as np

__all__ = ["ReachContour", "reach_contour", "shipped_bounds"]


@dataclass(frozen=True)
class ReachContour:
    """Per mass: the lowest and highest eps with n_signal >= threshold (NaN where none)."""

    mass: np.ndarray
    eps_low: np.ndarray
    eps_high: np.ndarray
    threshold: float

    def to_dict(self, band: dict[str, ReachContour] | None = None, key: str = "mass") -> dict[str, Any]:
        def val(x: float) -> float | None:
            return float(x) if np.isfinite(x) else None

        rows = []
        for i, m in enumerate(self.mass):
            row: dict[str, Any] = {key: float(m), "eps_low": val(self.eps_low[i]), "eps_high": val(self.eps_high[i])}
            for name, c in (band or {}).items():
                row[f"eps_low_{name}"] = val(c.eps_low[i])
                row[f"eps_high_{name}"] = val(c.eps_high[i])
            rows.append(row)
        return {"threshold": self.threshold, "contour": rows}


    def at_grid_end(self, eps: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Per mass, whether the lower and the upper edge are the ends of the grid ``eps`` the counts were taken on
        (the count still above the threshold there: the reach goes beyond), False where there is no reach."""
        return (np.asarray(self.eps_low <= eps[0] * (1 + 1e-9)), np.asarray(self.eps_high >= eps[-1] * (1 - 1e-9)))


def _crossing(le: np.ndarray, ln: np.ndarray, j: int, lt: float) -> float:
    """log eps where log n crosses lt between grid points j and j + 1."""
    a, b = ln[j], ln[j + 1]
    if not (np.isfinite(a) and np.isfinite(b)) or a == b:
        return float(le[j + 1] if np.isfinite(b) and b >= lt else le[j])
    return float(le[j] + (lt - a) * (le[j + 1] - le[j]) / (b - a))


def reach_contour(mass: np.ndarray, eps: np.ndarray, n_signal: np.ndarray, threshold: float) -> ReachContour:
    """The reach from signal counts on a grid: ``n_signal`` of shape (masses, eps), ``eps`` increasing."""
    le = np.log(eps)
    lo, hi = np.full(mass.size, np.nan), np.full(mass.size, np.nan)
    lt = np.log(threshold)
    for i in range(mass.size):
        n = n_signal[i]
        above = np.flatnonzero(n >= threshold)
        if above.size == 0:
            continue
        with np.errstate(divide="ignore"):
            ln = np.log(np.where(n > 0, n, 0.0))
        j0, j1 = above[0], above[-1]
        lo[i] = np.exp(le[j0] if j0 == 0 else _crossing(le, ln, j0 - 1, lt))
        hi[i] = np.exp(le[j1] if j1 == eps.size - 1 else _crossing(le, ln, j1, lt))
    return ReachContour(mass, lo, hi, threshold)


def shipped_bounds(kind: str = "aprime") -> dict[str, np.ndarray]:
    """Existing exclusions shipped with gammastar (FORESEE's compilation): name -> (N, 2) outline (mass GeV, eps)."""
    out = {}
    folder = resources.files("gammastar") / "data" / "bounds" / kind
    for ref in sorted(folder.iterdir(), key=lambda r: r.name):
        if not ref.name.endswith(".csv"):
            continue
        rows = list(csv.DictReader(ref.read_text().splitlines()))
        out[ref.name[:-4]] = np.array([[float(r["mass_gev"]), float(r["eps"])] for r in rows])
    return out
