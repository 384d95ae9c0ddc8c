"""Where the data have pairs: the support of the measured kinematics, and the coverage it gives.

A flow learns the pair kinematics where the data have pairs and extrapolates
elsewhere.  The support records where that is: the pairs counted in cells of

* pair mass, log m in steps of 0.05 (5%),
* transverse momentum, u = asinh(pT / 0.1 GeV) in steps of 0.25: linear below
  0.1 GeV (the first cell is pT < 25 MeV, where the density per d^2pT is
  flat), logarithmic above (cells 28% wide),
* lab rapidity y, in steps of 0.5,

counting pairs of positive weight, and none whose acceptance was below the
floor of an acceptance map (their region is not measured, only scaled).  At
a mass m a cell is *supported* when pairs of a mass within 10% of m lie in
it, or when it is a hole among such cells (a morphological closing with one
cell each way: in the sparse tails a cell's count is a matter of chance),
but never beyond where the data end.

The *coverage* of a quantity is the share of it that lies in supported cells,
the rest weighed with the data-independent reference density of
:mod:`gammastar.physics.reference`, normalised to the model where both are
present, rapidity row by row (rows of 0.5):

    C = S / (S + sum_k c_k U_k),

S the part where the data have support (from the model), U_k the
reference's part in row k where they have none, c_k = (the model's share in
the support in row k) / (the reference's).  A row with no support at all
takes c_k of the row one inside the nearest that has some (the data's edge
may cut that one inside a cell), so the reference's rapidity
shape enters only beyond the rapidity the data reach, and its pT shape only
where a row has no pairs: where the data thin out in a corner they still
reach (the far-forward, low-pT corner of a full-acceptance sample), the
model's own level carries over.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from ..physics.beams import Beam
from ..physics.reference import reference_cells

__all__ = ["Support", "coverage", "EXTRAPOLATED_BELOW", "P0", "DU", "DY", "DLOGM", "MASS_WINDOW"]

P0 = 0.1  #: GeV: pT scale of u = asinh(pT / P0)
DU = 0.25  #: cell width in u
DY = 0.5  #: cell width in rapidity
DLOGM = 0.05  #: cell width in log m
MASS_WINDOW = 0.10  #: pairs within this relative distance in mass support a mass
#: a coverage below this is ``extrapolated``
EXTRAPOLATED_BELOW = 0.9


@dataclass
class Support:
    """Counts of pairs on (log m, u, y) cells (see the module docstring)."""

    log_m0: float  # lower edge of the first mass cell
    y0: float  # lower edge of the first rapidity cell
    counts: np.ndarray  # (n_m, n_u, n_y) int32
    #: the pairs' summed weights per cell (acceptance-corrected: the data's shape where they are)
    weights: np.ndarray | None = None
    #: the cells: widths in log m, u and y, the pT scale P0 of u, the relative mass window (as when counted)
    dlogm: float = DLOGM
    du: float = DU
    dy: float = DY
    p0: float = P0
    mass_window: float = MASS_WINDOW
    _cube: np.ndarray | None = field(default=None, repr=False, compare=False)

    @classmethod
    def from_pairs(cls, m: np.ndarray, pt: np.ndarray, y: np.ndarray, weight: np.ndarray,
                   measured: np.ndarray | None = None) -> Support:
        """The support of pairs (mass, pT, y, weight); ``measured`` False for pairs whose acceptance was below the
        map's floor (left out)."""
        keep = (weight > 0) & np.isfinite(m) & (m > 0) & np.isfinite(y)
        if measured is not None:
            keep &= measured
        m, pt, y = m[keep], pt[keep], y[keep]
        if m.size == 0:
            return cls(0.0, 0.0, np.zeros((1, 1, 1), dtype=np.int32), np.zeros((1, 1, 1)))
        log_m0 = math.floor(np.log(m).min() / DLOGM) * DLOGM
        y0 = math.floor(y.min() / DY) * DY
        idx = (np.floor((np.log(m) - log_m0) / DLOGM).astype(np.intp), _u_index(pt, P0, DU),
               np.floor((y - y0) / DY).astype(np.intp))
        shape = tuple(int(i.max()) + 1 for i in idx)
        counts = np.zeros(shape, dtype=np.int64)
        np.add.at(counts, idx, 1)
        weights = np.zeros(shape)
        np.add.at(weights, idx, weight[keep])
        return cls(float(log_m0), float(y0), np.minimum(counts, np.iinfo(np.int32).max).astype(np.int32), weights)

    def to_arrays(self) -> dict[str, np.ndarray]:
        out = {"counts": self.counts, "origin": np.array([self.log_m0, self.y0]),
               "cells": np.array([self.dlogm, self.du, self.dy, self.p0, self.mass_window])}
        return out if self.weights is None else {**out, "weights": self.weights.astype(np.float32)}

    @classmethod
    def from_arrays(cls, a: dict[str, np.ndarray]) -> Support:
        counts, origin = np.asarray(a["counts"]), np.asarray(a["origin"], dtype=float)
        cells = np.asarray(a["cells"], dtype=float)
        if counts.ndim != 3 or counts.dtype.kind not in "iu" or origin.shape != (2,) or not np.all(np.isfinite(origin)) \
                or np.any(counts < 0) or cells.shape != (5,) or not np.all(np.isfinite(cells) & (cells > 0)):
            raise ValueError("the support map is not consistent")
        weights = np.asarray(a["weights"], dtype=float) if "weights" in a else None
        if weights is not None and (weights.shape != counts.shape or not np.all(np.isfinite(weights))):
            raise ValueError("the support map is not consistent")
        dlogm, du, dy, p0, window = (float(c) for c in cells)
        return cls(float(origin[0]), float(origin[1]), counts.astype(np.int32), weights, dlogm, du, dy, p0, window)

    @property
    def pairs(self) -> int:
        return int(self.counts.sum())

    @property
    def _reach(self) -> int:
        """Mass cells each way whose pairs support a mass."""
        return int(math.ceil(math.log1p(self.mass_window) / self.dlogm))

    def _supported(self) -> np.ndarray:
        """(n_m + 2 reach, n_u + 2, n_y + 2): per mass cell, from ``reach`` cells below the data's first to ``reach``
        above their last, the cells supported there (padded by one cell each side in u and y)."""
        if self._cube is None:
            from scipy import ndimage

            n_m, n_u, n_y = self.counts.shape
            reach = self._reach
            occupied = np.pad(self.counts > 0, ((reach, reach), (0, 0), (0, 0)))
            near = np.zeros_like(occupied)
            for j in range(occupied.shape[0]):  # pairs within the mass window of cell j
                near[j] = occupied[max(0, j - reach) : j + reach + 1].any(axis=0)
            # close the holes a sparse tail leaves (dilate, then erode: the edges stay where the data end); pT = 0
            # is a boundary, not an edge of the data: the erosion sees the first cell mirrored below it
            element = np.ones((1, 3, 3), dtype=bool)
            dilated = ndimage.binary_dilation(np.pad(near, ((0, 0), (2, 2), (2, 2))), element)
            dilated[:, :2] = dilated[:, 2:3]
            closed = ndimage.binary_erosion(dilated, element, border_value=1)
            cube = np.zeros((near.shape[0], n_u + 2, n_y + 2), dtype=bool)
            cube[:, 1:-1, 1:-1] = closed[:, 2:-2, 2:-2]
            self._cube = cube
        return self._cube

    def contains(self, m: np.ndarray | float, pt: np.ndarray, y: np.ndarray) -> np.ndarray:
        """Whether pairs of mass ``m`` (one, or one per pair), ``pt`` and ``y`` lie where the data have support."""
        cube = self._supported()
        pt, y = np.asarray(pt, dtype=float), np.asarray(y, dtype=float)
        m = np.broadcast_to(np.asarray(m, dtype=float), pt.shape)
        with np.errstate(divide="ignore", invalid="ignore"):
            j = np.floor((np.log(m) - self.log_m0) / self.dlogm) + self._reach
            k = np.floor((y - self.y0) / self.dy) + 1
        i = _u_index(pt, self.p0, self.du) + 1
        ok = (j >= 0) & (j < cube.shape[0]) & (i < cube.shape[1]) & (k >= 0) & (k < cube.shape[2])
        out = np.zeros(pt.shape, dtype=bool)
        out[ok] = cube[j[ok].astype(np.intp), i[ok], k[ok].astype(np.intp)]
        return out

    def phase_space_coverage(self, m: float, beam: Beam) -> float:
        """The share of all pairs of mass ``m`` that lie where the data have pairs: the data themselves where they
        are (their weights, by rapidity row), the reference density where they are not, normalised row by row (NaN
        where the data hold no pairs near ``m``)."""
        ex, ey, prob = reference_cells(m, beam)
        cx, cy = 0.5 * (ex[1:] + ex[:-1]), 0.5 * (ey[1:] + ey[:-1])
        y = np.tile(cy, cx.size)
        inside = self.contains(m, np.exp(np.repeat(cx, cy.size)), y)
        rows = self.row(y)
        first = min(int(rows.min()), 0)
        n_rows = max(int(rows.max()), self.counts.shape[2] - 1) - first + 1
        j = int(math.floor((math.log(m) - self.log_m0) / self.dlogm))
        cells = self.counts if self.weights is None else self.weights
        near = cells[max(0, j - self._reach) : max(0, j + self._reach + 1)].sum(axis=(0, 1))
        data_rows = np.zeros(n_rows)
        data_rows[-first : -first + near.size] = np.maximum(near, 0.0)
        if not data_rows.sum() > 0:
            return math.nan
        reference_rows = np.bincount(rows[inside] - first, prob[inside], n_rows)
        unsupported = np.bincount(rows[~inside] - first, prob[~inside], n_rows)[:, None]
        return float(coverage(np.array([1.0]), data_rows / data_rows.sum(), reference_rows, unsupported)[0])

    def row(self, y: np.ndarray) -> np.ndarray:
        """The rapidity row (cell index, may lie outside the map's rows) of lab rapidities ``y``."""
        return np.floor((np.asarray(y, dtype=float) - self.y0) / self.dy).astype(np.intp)

    def ranges(self, m: float) -> dict[str, tuple[float, float]] | None:
        """The rapidity and pT ranges of the supported cells at mass ``m`` (None where there are none)."""
        cube = self._supported()
        j = int(math.floor((math.log(m) - self.log_m0) / self.dlogm)) + self._reach
        if not 0 <= j < cube.shape[0] or not cube[j].any():
            return None
        iu, iy = np.nonzero(cube[j])
        u_lo, u_hi = (max(iu.min() - 1, 0)) * self.du, iu.max() * self.du
        return {"y": (self.y0 + (iy.min() - 1) * self.dy, self.y0 + iy.max() * self.dy),
                "pt": (self.p0 * math.sinh(u_lo), self.p0 * math.sinh(u_hi))}


def _u_index(pt: np.ndarray, p0: float, du: float) -> np.ndarray:
    return np.asarray(np.floor(np.arcsinh(np.maximum(np.asarray(pt, dtype=float), 0.0) / p0) / du).astype(np.intp))


def coverage(supported_model: np.ndarray, model_rows: np.ndarray, reference_rows: np.ndarray,
             unsupported_reference: np.ndarray) -> np.ndarray:
    """C = S / (S + sum_k c_k U_k) (see the module docstring), NaN where the denominator is 0.

    ``supported_model`` S (per eps) is the quantity's mean over the model where the data have support;
    ``unsupported_reference`` U_k (rows, eps) the reference's where they have none, by rapidity row k;
    ``model_rows`` and ``reference_rows`` the model's and the reference's shares in the support in each row, whose
    ratio c_k normalises the reference to the model row by row.  A row without support takes the c of the row one
    inside the nearest row with support (the data's edge may cut that one inside a cell), so the reference's rapidity
    shape enters only beyond the data's rapidity reach.
    """
    both = (model_rows > 0) & (reference_rows > 0)
    if not both.any():  # no support at this mass: nothing accepted is covered
        return np.where(np.sum(unsupported_reference, axis=0) + supported_model > 0, 0.0, np.nan)
    rows = np.flatnonzero(both)
    nearest = rows[np.abs(np.arange(model_rows.size)[:, None] - rows[None, :]).argmin(axis=1)]
    # a row without support takes c from one row inside the data's edge: the edge row may be cut inside a cell
    inward = nearest + np.sign(nearest - np.arange(model_rows.size))
    use = np.where(both, np.arange(model_rows.size), np.where(both[np.clip(inward, 0, both.size - 1)], inward, nearest))
    c = model_rows[use] / reference_rows[use]
    total = supported_model + c @ unsupported_reference
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(total > 0, supported_model / np.where(total > 0, total, 1.0), np.nan)
