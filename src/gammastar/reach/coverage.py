"""How much of what an experiment accepts lies where the data have pairs (``data_coverage``).

A signal count rests on the model's kinematics wherever the accepted A' (or
chi) come from.  Where the training data have pairs (their support,
:mod:`gammastar.rates.support`) those kinematics are measured; elsewhere the
flow extrapolates, and nothing says how well.  For each mass and coupling,

    data_coverage = S / (S + sum_k c_k U_k),

with S the accepted, decay-weighted A' of the model that lie in the support,
U_k the accepted, decay-weighted A' of the data-independent reference density
(:mod:`gammastar.physics.reference`) that lie outside it in rapidity row k,
and c_k the ratio of the model's share in the support to the reference's in
that row (or the nearest row with support), which normalises the reference to
the data where both are present (:func:`gammastar.rates.support.coverage`).  It is 1 when every accepted
A' is where the data are, and falls as the experiment looks where they are
not, whatever the flow put there.  ``extrapolated`` is data_coverage < 0.9.
The daughters' acceptance is left out (it follows the A').

The reference's A' are drawn, like the model's, only toward the detector
(from the cells of a (log pT, y) table of the reference that can reach it).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from ..flow.cells import CellSampler
from ..physics.beams import Beam
from ..physics.kinematics import AngularWindow, cell_angles, from_pt_y_phi
from ..physics.reference import reference_cells
from ..rates.support import EXTRAPOLATED_BELOW, Support, coverage
from .contour import ReachContour

__all__ = ["EXTRAPOLATED_BELOW", "MassCoverage", "ReferenceEvents", "reference_toward", "model_rows_in_support",
           "mass_coverage", "edge_coverage", "weighted_range"]


@dataclass(frozen=True)
class MassCoverage:
    """At one mass: data_coverage per eps, and the rapidity and pT ranges of 90% of the accepted A' (from the
    reference, weighted as long-lived) and of the data's support there."""

    per_eps: np.ndarray
    needs: dict[str, tuple[float, float]] | None
    holds: dict[str, tuple[float, float]] | None


@dataclass(frozen=True)
class ReferenceEvents:
    """Reference A' toward a window: four-momenta, the share of the reference they stand for, and per rapidity row
    of the support map (from ``first_row``) the reference's share in the support."""

    p4: np.ndarray
    share: float
    first_row: int
    in_support_rows: np.ndarray


def reference_toward(m: float, beam: Beam, window: AngularWindow, n: int, rng: np.random.Generator,
                     support: Support) -> ReferenceEvents:
    """``n`` A' of mass ``m`` from the reference density, drawn from its cells that can reach ``window``."""
    ex, ey, prob = reference_cells(m, beam)
    lo, hi = cell_angles(np.exp(ex), ey, m)
    reach = (hi >= window.theta_min) & (lo <= window.theta_max)
    g = ey.size - 1
    cx, cy = 0.5 * (ex[1:] + ex[:-1]), 0.5 * (ey[1:] + ey[:-1])
    rows = support.row(np.tile(cy, g))
    inside = support.contains(m, np.exp(np.repeat(cx, g)), np.tile(cy, g))
    first = int(rows.min())
    in_support_rows = np.bincount(rows[inside] - first, prob[inside], int(rows.max()) - first + 1)
    toward = np.where(reach, prob, 0.0)
    share = float(toward.sum()) * window.phi_share
    if share <= 0:
        return ReferenceEvents(np.zeros((0, 4)), 0.0, first, in_support_rows)
    idx = CellSampler(toward).draw(rng, n)
    ix, iy = np.divmod(idx, g)
    log_pt = ex[ix] + (ex[1] - ex[0]) * rng.random(n)
    y = ey[iy] + (ey[1] - ey[0]) * rng.random(n)
    p4 = from_pt_y_phi(np.exp(log_pt), y, window.phi(rng.random(n)), np.full(n, m))
    return ReferenceEvents(p4, share, first, in_support_rows)


def model_rows_in_support(generator: Any, m: float, support: Support, first_row: int, n_rows: int) -> np.ndarray:
    """The model's share of the pairs at mass ``m`` in the support, by rapidity row from ``first_row`` (its table's
    cells, at their centres)."""
    table = generator.density
    cells = table.cells_at(m)
    cells = cells / cells.sum()
    cx, cy = 0.5 * (table.ex[1:] + table.ex[:-1]), 0.5 * (table.ey[1:] + table.ey[:-1])
    v = table.to_pair(np.column_stack([np.repeat(cx, cy.size), np.tile(cy, cx.size)]))
    inside = support.contains(m, v["pt"], v["y"])
    rows = support.row(v["y"]) - first_row
    keep = inside & (rows >= 0) & (rows < n_rows)
    return np.bincount(rows[keep], cells[keep], n_rows)


def mass_coverage(generator: Any, m: float, supported_model: np.ndarray, ref: ReferenceEvents, ref_accepted: np.ndarray,
                  support: Support) -> MassCoverage:
    """data_coverage per eps from the model's supported, accepted mean ``supported_model`` (eps) and the reference
    events' accepted, decay-weighted probabilities ``ref_accepted`` (events, eps)."""
    n_rows = ref.in_support_rows.size
    n = max(ref.p4.shape[0], 1)
    needs = None
    unsupported = np.zeros((n_rows, supported_model.size))
    if ref.p4.shape[0]:
        pt = np.hypot(ref.p4[:, 0], ref.p4[:, 1])
        y = 0.5 * np.log((ref.p4[:, 3] + ref.p4[:, 2]) / (ref.p4[:, 3] - ref.p4[:, 2]))
        outside = ~support.contains(m, pt, y)
        rows = np.clip(support.row(y) - ref.first_row, 0, n_rows - 1)
        np.add.at(unsupported, rows[outside], ref.share * ref_accepted[outside] / n)
        w = ref_accepted[:, 0]  # the smallest coupling: long-lived, the shape of the lower branch
        if w.sum() > 0:
            needs = {"y": weighted_range(y, w), "pt": weighted_range(pt, w)}
    model_rows = model_rows_in_support(generator, m, support, ref.first_row, n_rows)
    per_eps = coverage(supported_model, model_rows, ref.in_support_rows, unsupported)
    return MassCoverage(per_eps, needs, support.ranges(m))


def weighted_range(x: np.ndarray, w: np.ndarray) -> tuple[float, float]:
    """The 5% and 95% weighted quantiles (``w`` >= 0): the range holding 90% of the weight."""
    order = np.argsort(x)
    c = np.cumsum(w[order]) / w.sum()
    return float(x[order][np.searchsorted(c, 0.05)]), float(x[order][min(np.searchsorted(c, 0.95), c.size - 1)])


def edge_coverage(eps: np.ndarray, data_coverage: np.ndarray, contour: ReachContour) -> tuple[np.ndarray, np.ndarray]:
    """Per mass, data_coverage (a (masses, eps) table) at the reach's lower edge, or where a mass has no reach at the
    grid's smallest eps (the long-lived limit: the lower branch's shape), and at its upper edge (NaN where none, or
    where it is the grid's end rather than the reach's); interpolated in log eps."""
    eps_low, eps_high = contour.eps_low, contour.eps_high
    _, high_at_end = contour.at_grid_end(eps)
    low, high = np.full(eps_low.size, np.nan), np.full(eps_low.size, np.nan)
    for i, c in enumerate(data_coverage):
        ok = np.isfinite(c)
        if not ok.any():
            continue
        log_eps, values = np.log(eps[ok]), c[ok]
        low[i] = np.interp(np.log(eps_low[i]), log_eps, values) if np.isfinite(eps_low[i]) else values[0]
        edge = np.isfinite(eps_high[i]) and not high_at_end[i]
        high[i] = np.interp(np.log(eps_high[i]), log_eps, values) if edge else np.nan
    return low, high
