"""Acceptance x efficiency corrections: a map A(m, pT, y) applied as 1/A pair weights.

Maps come as ``.npz`` (arrays ``m_edges``, ``pt_edges``, ``y_edges``,
``acceptance`` of shape (n_m, n_pt, n_y)), as a ROOT ``TH3`` read with uproot
(``file.root`` takes the first TH3, ``file.root:name`` a given one; a ``hist``
histogram saved with uproot is one), or from a ``hist.Hist`` in Python
(:meth:`AcceptanceMap.from_hist`).  Axes: pair mass (GeV), pair pT (GeV),
pair rapidity (lab).

A pair in a cell of acceptance A gets its weight divided by max(A, floor):
the floor (default 0.01) keeps a few pairs in nearly blind cells from
dominating, and a warning says how much of the corrected weight comes from
cells below 0.1 and how many pairs hit the floor.  Pairs outside the map are an
error (their acceptance is unknown), as are negative, > 1 or NaN entries.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import GammastarError, describe
from .readers.root import open_root, uproot_errors

__all__ = ["AcceptanceMap", "read_acceptance", "acceptance_file"]

LOW = 0.1


@dataclass
class AcceptanceMap:
    """A(m, pT, y) on a 3-D grid of bins."""

    m_edges: np.ndarray
    pt_edges: np.ndarray
    y_edges: np.ndarray
    values: np.ndarray
    source: str = ""

    def __post_init__(self) -> None:
        edges = [np.asarray(e, dtype=float) for e in (self.m_edges, self.pt_edges, self.y_edges)]
        self.m_edges, self.pt_edges, self.y_edges = edges
        self.values = np.asarray(self.values, dtype=float)
        where = f"{self.source}: " if self.source else ""
        for name, e in zip(("mass", "pT", "rapidity"), edges, strict=True):
            if e.ndim != 1 or e.size < 2 or np.any(np.diff(e) <= 0):
                raise GammastarError(f"{where}acceptance {name} edges must increase")
        shape = tuple(e.size - 1 for e in edges)
        if self.values.shape != shape:
            raise GammastarError(f"{where}acceptance has shape {self.values.shape}, the edges need {shape}")
        if not np.all(np.isfinite(self.values)):
            raise GammastarError(f"{where}acceptance has {int(np.sum(~np.isfinite(self.values)))} NaN or infinite cells")
        if np.any(self.values < 0) or np.any(self.values > 1):
            bad = int(np.sum((self.values < 0) | (self.values > 1)))
            raise GammastarError(f"{where}acceptance must lie in [0, 1]; {bad} cell(s) do not "
                                 f"(min {self.values.min():.3g}, max {self.values.max():.3g})")

    @classmethod
    def from_hist(cls, h: Any, source: str = "") -> AcceptanceMap:
        """From a 3-D ``hist.Hist`` (or anything with ``.values()`` and ``.axes[i].edges``)."""
        return cls(h.axes[0].edges, h.axes[1].edges, h.axes[2].edges, h.values(), source)

    def __call__(self, m: np.ndarray, pt: np.ndarray, y: np.ndarray) -> np.ndarray:
        idx = []
        outside = np.zeros(len(m), dtype=bool)
        for x, e in ((m, self.m_edges), (pt, self.pt_edges), (y, self.y_edges)):
            i = np.searchsorted(e, x, side="right") - 1
            outside |= (i < 0) | (i >= e.size - 1)
            idx.append(np.clip(i, 0, e.size - 2))
        if outside.any():
            raise GammastarError(
                f"{self.source or 'acceptance map'}: {int(outside.sum())} pair(s) lie outside the map "
                f"(m {self.m_edges[0]:.3g}-{self.m_edges[-1]:.3g} GeV, pT {self.pt_edges[0]:.3g}-{self.pt_edges[-1]:.3g} GeV, "
                f"y {self.y_edges[0]:.3g}-{self.y_edges[-1]:.3g}); their acceptance is unknown"
            )
        return self.values[tuple(idx)]

    def correct(self, weight: np.ndarray, m: np.ndarray, pt: np.ndarray, y: np.ndarray, floor: float = 0.01) -> np.ndarray:
        """weight / max(A, floor), warning about the weight from low-acceptance cells."""
        if not 0 < floor <= 1:
            raise GammastarError(f"acceptance floor must be in (0, 1], not {floor}")
        a = self(m, pt, y)
        new = weight / np.maximum(a, floor)
        low = a < LOW
        total = np.sum(np.abs(new))
        if low.any() and total > 0:
            warnings.warn(
                f"{100 * np.sum(np.abs(new[low])) / total:.1f}% of the acceptance-corrected weight comes from "
                f"{int(low.sum())} pair(s) in cells with A < {LOW}; {int(np.sum(a < floor))} hit the floor {floor}",
                stacklevel=3,
            )
        return np.asarray(new)


def acceptance_file(path: str | Path) -> tuple[Path, str | None]:
    """The file of an acceptance map given as ``file.npz``, ``file.root`` or ``file.root:histogram``, and the name."""
    text = str(path)
    if ".root:" in text:
        text, name = text.split(".root:", 1)
        return Path(text + ".root"), name
    return Path(text), None


def read_acceptance(path: str | Path) -> AcceptanceMap:
    """Read an acceptance map from ``.npz`` or ``.root[:name]`` (see the module docstring)."""
    p, name = acceptance_file(path)
    if not p.is_file():
        raise GammastarError(f"{p}: no such acceptance file")
    if p.suffix.lower() == ".npz":
        try:
            with np.load(p) as z:
                return AcceptanceMap(z["m_edges"], z["pt_edges"], z["y_edges"], z["acceptance"], str(p))
        except KeyError as exc:
            raise GammastarError(f"{p}: acceptance .npz needs m_edges, pt_edges, y_edges, acceptance ({exc} missing)") from None
        except GammastarError:
            raise
        except Exception as exc:  # numpy and zipfile raise many types for damaged files
            raise GammastarError(f"{p}: cannot read as .npz ({describe(exc, 120)})") from None
    if p.suffix.lower() == ".root":
        f = open_root(p)
        th3 = [k.split(";")[0] for k, c in f.classnames().items() if c.startswith("TH3")]
        key = name or (th3[0] if th3 else None)
        if key is None or key not in th3:
            raise GammastarError(f"{p}: no 3-D histogram {name or ''} (TH3s: {', '.join(th3) or 'none'})".replace("  ", " "))
        with uproot_errors(p, f"histogram {key}"):
            values, m_edges, pt_edges, y_edges = f[key].to_numpy()
        return AcceptanceMap(m_edges, pt_edges, y_edges, values, f"{p}:{key}")
    raise GammastarError(f"{p}: an acceptance map must be .npz or .root")
