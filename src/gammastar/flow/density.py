"""The flow's pair density tabulated on (mass, log pT, y): what A' and chi-chibar pairs are drawn from.

Drawing a pair from the flow costs a network pass per transform; drawing it
from a table costs a few array look-ups.  Where the pair azimuth is uniform
(the training data passed the test), a pair at mass m needs only
p(log pT, y | m), so the flow's own density is tabulated once, when the
model is trained, and stored in the model file:

* in the standardised (log pT, y) features, on ``grid`` x ``grid`` cells
  spanning the training data plus half a standard deviation (128 cells: ~1/12
  of a standard deviation each, with the pair drawn uniformly inside its
  cell; the probability the flow puts outside the grid is kept);
* at mass nodes spaced in log m: 33 across the trained range to start, and a
  node added halfway wherever the flow's table there differs from the
  interpolation between its neighbours by more than :data:`TOLERANCE` in
  total variation (so nodes crowd where the kinematics change fast with the
  mass, near the resonances), up to :data:`MAX_NODES`.

Between nodes the density is interpolated linearly in log m.  A sample at one
mass (A') is drawn from the interpolated cells; samples at many masses
(chi-chibar pairs) take, per pair, the lower or upper node with the
interpolation's weights, which is the same mixture.

The angular network's H(m, pT, y) (the hadronic tensor that fixes every decay
law exactly, docs/physics.md section 2) is tabulated at the same nodes on a
:data:`H_GRID` x :data:`H_GRID` grid of cell centres and interpolated
trilinearly (log m, log pT, y): H is smooth, and for the mock's full-size
model the table is within 6e-5 of the network on average, 5e-4 at most
(weights >= 0 keep the interpolated H positive with unit trace).  The decays
take, pair by pair, one corner drawn with its interpolation weight: each law
is linear in H with a normalisation independent of it (tr H = 1), so that is
the interpolated H's law exactly, for one look-up instead of eight.
Generating A' and chi-chibar events, decays included, needs numpy only: no
torch import, no network pass.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

from ..physics.kinematics import cell_angles
from .cells import CellSampler
from .sample import given_pairs, h_tensor

if TYPE_CHECKING:
    from .networks import KinematicsFlow

__all__ = ["PairDensity", "ReplicaTables", "cell_probabilities", "GRID", "H_GRID", "TOLERANCE", "MAX_NODES"]

#: cells per axis of the (log pT, y) table
GRID = 128
#: largest total-variation distance allowed between the flow and the interpolation halfway between nodes
TOLERANCE = 0.005
#: most mass nodes a table gets
MAX_NODES = 257
#: centres per axis of the H(m, log pT, y) table
H_GRID = 64
#: the six components of the symmetric H kept in the table: xx, yy, zz, xy, xz, yz
_H_IJ = ((0, 0), (1, 1), (2, 2), (0, 1), (0, 2), (1, 2))
_START_NODES = 33
_BATCH = 1 << 16  # density evaluations per network call


@dataclass
class PairDensity:
    """Cell probabilities of the standardised (log pT, y) features at mass nodes.

    ``prob[k]`` holds the flow's probability of each cell (row-major, log pT
    then y) at ``masses[k]``; a row sums to the probability inside the grid.
    """

    masses: np.ndarray  # (M,) GeV, increasing
    ex: np.ndarray  # (G+1,) standardised log pT edges
    ey: np.ndarray  # (G+1,) standardised y edges
    prob: np.ndarray  # (M, G*G) float32
    #: H at the nodes on H_GRID x H_GRID centres spanning the same ranges, components xx, yy, zz, xy, xz, yz
    h: np.ndarray | None = None  # (M, H_GRID, H_GRID, 6) float32
    #: log pT (GeV) and y at the edges ``ex`` and ``ey``: how a drawn pair becomes physics without the flow's maps
    #: (None until :meth:`set_physical`; a pair is uniform in log pT and y inside its cell)
    log_pt_edges: np.ndarray | None = None
    y_edges: np.ndarray | None = None
    _nodes: dict[int, CellSampler] = field(default_factory=dict, repr=False, compare=False)
    _h64: np.ndarray | None = field(default=None, repr=False, compare=False)

    @property
    def grid(self) -> int:
        return self.ex.size - 1

    # -- building -------------------------------------------------------------------

    @classmethod
    def tabulate(cls, log_prob: Callable[[np.ndarray, np.ndarray], np.ndarray], mass_range: tuple[float, float],
                 pair_range: tuple[list[float], list[float]], grid: int = GRID, tolerance: float = TOLERANCE,
                 max_nodes: int = MAX_NODES, h: Callable[[np.ndarray, np.ndarray], np.ndarray] | None = None
                 ) -> PairDensity:
        """Tabulate ``log_prob(z, m)`` (log density of standardised features z at masses m), and ``h(z, m)``
        ((N, 3, 3) H tensors) when given.

        Nodes: :data:`_START_NODES` spaced in log m across ``mass_range``, then
        midpoints where the interpolation misses by more than ``tolerance``.
        """
        lo = np.asarray(pair_range[0][:2], dtype=float) - 0.5
        hi = np.asarray(pair_range[1][:2], dtype=float) + 0.5
        ex, ey = np.linspace(lo[0], hi[0], grid + 1), np.linspace(lo[1], hi[1], grid + 1)

        def table(ms: np.ndarray) -> np.ndarray:
            return cell_probabilities(log_prob, ms, ex, ey)

        log_m = np.linspace(math.log(mass_range[0]), math.log(mass_range[1]), min(_START_NODES, max_nodes))
        prob = table(np.exp(log_m))
        todo = np.arange(log_m.size - 1)  # intervals (k, k+1) to check halfway
        while todo.size and log_m.size < max_nodes:
            todo = todo[: max_nodes - log_m.size]
            mid_m = 0.5 * (log_m[todo] + log_m[todo + 1])
            mid = table(np.exp(mid_m))
            miss = 0.5 * np.abs(mid - 0.5 * (prob[todo] + prob[todo + 1])).sum(axis=1)
            at = todo + 1
            log_m = np.insert(log_m, at, mid_m)
            prob = np.insert(prob, at, mid, axis=0)
            # the new node sits at at + (its rank among the new ones); refine both halves where it missed
            new = at + np.arange(at.size)
            bad = new[miss > tolerance]
            todo = np.sort(np.concatenate([bad - 1, bad]))
        masses = np.exp(log_m)
        return cls(masses, ex, ey, prob.astype(np.float32), None if h is None else _h_table(h, masses, ex, ey))

    @classmethod
    def from_flow(cls, flow: KinematicsFlow, mass_range: tuple[float, float], pair_range: tuple[list[float], list[float]],
                  grid: int = GRID) -> PairDensity:
        """The table of a trained flow (torch): its pair density and its H."""
        table = cls.tabulate(lambda z, m: flow.log_prob_pair(z, flow.mass_context(m)), mass_range, pair_range, grid,
                             h=lambda z, m: h_tensor(flow, given_pairs(flow, m, z)))
        table.set_physical(flow.features_to_pair)
        return table

    def probabilities_of(self, log_prob: Callable[[np.ndarray, np.ndarray], np.ndarray]) -> np.ndarray:
        """(M, G*G) float32: another density's cell probabilities on this table's nodes and cells."""
        return cell_probabilities(log_prob, self.masses, self.ex, self.ey).astype(np.float32)

    def set_physical(self, features_to_pair: Callable[[np.ndarray], dict[str, np.ndarray]]) -> None:
        """Record log pT and y at the cell edges from the flow's map of standardised features to pT and y."""
        v = features_to_pair(np.column_stack([self.ex, self.ey]))
        self.log_pt_edges, self.y_edges = np.log(v["pt"]), np.asarray(v["y"], dtype=float)

    # -- storing --------------------------------------------------------------------

    def to_arrays(self) -> dict[str, np.ndarray]:
        out = {"masses": self.masses, "ex": self.ex, "ey": self.ey, "prob": self.prob}
        if self.log_pt_edges is not None and self.y_edges is not None:
            out.update(log_pt_edges=self.log_pt_edges, y_edges=self.y_edges)
        return out if self.h is None else {**out, "h": self.h}

    @classmethod
    def from_arrays(cls, a: dict[str, np.ndarray]) -> PairDensity:
        masses, ex, ey = (np.asarray(a[k], dtype=float) for k in ("masses", "ex", "ey"))
        prob = np.asarray(a["prob"], dtype=np.float32)
        ok = (masses.ndim == 1 and masses.size >= 2 and bool(np.all(np.diff(masses) > 0)) and masses[0] > 0
              and ex.size >= 3 and ey.size == ex.size and prob.shape == (masses.size, (ex.size - 1) ** 2)
              and bool(np.all(np.isfinite(prob))) and bool(np.all(prob >= 0)) and bool(np.all(prob.sum(axis=1) > 0)))
        h = None if "h" not in a else np.asarray(a["h"], dtype=np.float32)
        if h is not None:
            ok = ok and h.ndim == 4 and h.shape[0] == masses.size and h.shape[1] == h.shape[2] >= 2 and h.shape[3] == 6 \
                and bool(np.all(np.isfinite(h)))
        phys = [np.asarray(a[k], dtype=float) if k in a else None for k in ("log_pt_edges", "y_edges")]
        for edges in phys:
            ok = ok and (edges is None or (edges.shape == ex.shape and bool(np.all(np.diff(edges) > 0))))
        if not ok:
            raise ValueError("the pair-density table is not consistent")
        return cls(masses, ex, ey, prob, h, phys[0], phys[1])

    # -- drawing --------------------------------------------------------------------

    def _bracket(self, m: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Lower node index and interpolation weight of the upper node, per mass (clamped to the nodes)."""
        log_n = np.log(self.masses)
        lm = np.clip(np.log(m), log_n[0], log_n[-1])
        k = np.clip(np.searchsorted(log_n, lm, side="right") - 1, 0, log_n.size - 2)
        return k, (lm - log_n[k]) / (log_n[k + 1] - log_n[k])

    def cell_of(self, z: np.ndarray) -> np.ndarray:
        """The cell (row-major index) of standardised features ``z`` (N, 2), clamped to the grid."""
        idx = []
        for axis, edges in ((0, self.ex), (1, self.ey)):
            f = (z[:, axis] - edges[0]) * ((edges.size - 1) / (edges[-1] - edges[0]))
            idx.append(np.clip(np.floor(f), 0, edges.size - 2).astype(np.intp))
        return np.asarray(idx[0] * self.grid + idx[1])

    def interpolated(self, prob: np.ndarray, m: np.ndarray, cells: np.ndarray) -> np.ndarray:
        """``prob`` (a table of this one's nodes and cells) at masses ``m`` and ``cells``, linear in log m between
        the nodes and divided by the whole row there (a probability, as the samplers normalise)."""
        k, t = self._bracket(np.asarray(m, dtype=float))
        rows = prob.sum(axis=-1, dtype=float)
        value = (1.0 - t) * prob[..., k, cells] + t * prob[..., k + 1, cells]
        return np.asarray(value / ((1.0 - t) * rows[..., k] + t * rows[..., k + 1]))

    def cells_at(self, m: float) -> np.ndarray:
        """The cell probabilities at mass ``m``, interpolated between the nodes."""
        k, t = self._bracket(np.array([float(m)]))
        return np.asarray((1.0 - t[0]) * self.prob[k[0]].astype(float) + t[0] * self.prob[k[0] + 1].astype(float))

    def cell_angles(self, m: float) -> tuple[np.ndarray, np.ndarray]:
        """The smallest and the largest polar angle (rad) of a pair of mass ``m`` in each cell (row-major, as
        ``prob``)."""
        if self.log_pt_edges is None or self.y_edges is None:
            raise ValueError("this table does not know its physical edges (set_physical)")
        return cell_angles(np.exp(self.log_pt_edges), self.y_edges, m)

    def _features(self, idx: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        """Standardised (log pT, y) uniformly inside the cells ``idx``."""
        ix, iy = np.divmod(idx, self.grid)
        n = idx.size
        return np.column_stack([self.ex[ix] + (self.ex[1] - self.ex[0]) * rng.random(n),
                                self.ey[iy] + (self.ey[1] - self.ey[0]) * rng.random(n)])

    def to_pair(self, z: np.ndarray) -> dict[str, np.ndarray]:
        """``pt`` and ``y`` of standardised features ``z`` inside the grid: linear in log pT and y within each cell
        (numpy only: the flow's own maps may need scipy)."""
        if self.log_pt_edges is None or self.y_edges is None:
            raise ValueError("this table does not know its physical edges (set_physical)")
        out = []
        for axis, (edges, phys) in enumerate(((self.ex, self.log_pt_edges), (self.ey, self.y_edges))):
            f = (z[:, axis] - edges[0]) * ((edges.size - 1) / (edges[-1] - edges[0]))
            i = np.clip(f.astype(np.intp), 0, edges.size - 2)
            out.append(phys[i] + (phys[i + 1] - phys[i]) * (f - i))
        return {"pt": np.exp(out[0]), "y": out[1]}

    def draw(self, sampler: CellSampler, n: int, rng: np.random.Generator) -> np.ndarray:
        """``n`` standardised (log pT, y) from the cells of ``sampler`` (a :meth:`cells_at` table)."""
        return self._features(sampler.draw(rng, n), rng)

    def draw_at(self, m: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        """One standardised (log pT, y) per mass in ``m``: each from its lower or upper node, with the
        interpolation's weights (the interpolated density as a mixture)."""
        k, t = self._bracket(np.asarray(m, dtype=float))
        node = k + (rng.random(k.size) < t)
        idx = np.empty(k.size, dtype=np.intp)
        order = np.argsort(node, kind="stable")
        starts = np.flatnonzero(np.r_[True, np.diff(node[order]) != 0])
        for a, b in zip(starts, np.r_[starts[1:], order.size], strict=True):
            j = int(node[order[a]])
            if j not in self._nodes:
                self._nodes[j] = CellSampler(self.prob[j])
            idx[order[a:b]] = self._nodes[j].draw(rng, b - a)
        return self._features(idx, rng)

    def h_at(self, m: np.ndarray, z: np.ndarray) -> np.ndarray:
        """(N, 3, 3) H at masses ``m`` and standardised (log pT, y) ``z``: trilinear in the table (clamped to it)."""
        out = self.h_components_at(m, z)
        h = np.empty((out.shape[0], 3, 3))
        for c, (i, j) in enumerate(_H_IJ):
            h[:, i, j] = h[:, j, i] = out[:, c]
        return h

    def h_components_at(self, m: np.ndarray, z: np.ndarray) -> np.ndarray:
        """(N, 6) the components xx, yy, zz, xy, xz, yz of :meth:`h_at`."""
        index, step, frac = self._h_corners(m, z)
        out = np.zeros((index.size, 6))
        for corner in range(8):  # node, ix, iy each lower (0) or upper (1)
            w = np.ones(index.size)
            for axis in range(3):
                w = w * (frac[axis] if corner >> axis & 1 else 1.0 - frac[axis])
            out += w[:, None] * np.take(self._flat_h(), index + sum(step[a] for a in range(3) if corner >> a & 1), axis=0)
        return out

    def h_draw(self, m: np.ndarray, z: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        """(N, 6) H components of one table corner per pair, each drawn with its trilinear weight.

        Every decay law is linear in H with a normalisation that does not depend
        on it (tr H = 1), so angles drawn with such an H follow, pair by pair, the
        law of the interpolated H (:meth:`h_at`) exactly, for one look-up instead
        of eight.
        """
        index, step, frac = self._h_corners(m, z)
        for axis in range(3):
            index = index + step[axis] * (rng.random(index.size) < frac[axis])
        return np.take(self._flat_h(), index, axis=0)

    def _h_corners(self, m: np.ndarray, z: np.ndarray) -> tuple[np.ndarray, tuple[int, int, int], list[np.ndarray]]:
        """Row of the lower corner in the flat H table, the row steps to the upper node, ix and iy, and the
        interpolation weights of the upper ones."""
        if self.h is None:
            raise ValueError("this table holds no H")
        k, t = self._bracket(np.asarray(m, dtype=float))
        g = self.h.shape[1]
        index, frac = k * (g * g), [t]  # the flat table's row: (node * g + ix) * g + iy
        for axis, edges in ((0, self.ex), (1, self.ey)):
            width = (edges[-1] - edges[0]) / g
            f = np.clip((z[:, axis] - edges[0]) / width - 0.5, 0.0, g - 1.0)  # in units of centres
            i = np.minimum(f.astype(np.intp), g - 2)
            index = index + i * (g if axis == 0 else 1)
            frac.append(f - i)
        return index, (g * g, g, 1), frac

    def _flat_h(self) -> np.ndarray:
        if self._h64 is None:
            assert self.h is not None
            self._h64 = self.h.reshape(-1, 6).astype(float)
        return self._h64


def cell_probabilities(log_prob: Callable[[np.ndarray, np.ndarray], np.ndarray], masses: np.ndarray, ex: np.ndarray,
                       ey: np.ndarray) -> np.ndarray:
    """(M, G*G) the probability of each cell (edges ``ex`` x ``ey``, row-major) at each of ``masses``: the density
    ``log_prob(z, m)`` at the cell's centre times its area."""
    cx, cy = 0.5 * (ex[1:] + ex[:-1]), 0.5 * (ey[1:] + ey[:-1])
    cells = np.column_stack([np.repeat(cx, cy.size), np.tile(cy, cx.size)])
    area = (ex[1] - ex[0]) * (ey[1] - ey[0])
    z = np.tile(cells, (masses.size, 1))
    m = np.repeat(masses, cells.shape[0])
    logp = np.concatenate([log_prob(z[i : i + _BATCH], m[i : i + _BATCH]) for i in range(0, m.size, _BATCH)])
    return np.asarray((np.exp(logp) * area).reshape(masses.size, -1))


def _h_table(h: Callable[[np.ndarray, np.ndarray], np.ndarray], masses: np.ndarray, ex: np.ndarray, ey: np.ndarray
             ) -> np.ndarray:
    """H at every node on H_GRID x H_GRID centres spanning the edges ``ex``, ``ey``."""
    cx = np.linspace(ex[0], ex[-1], H_GRID + 1)
    cy = np.linspace(ey[0], ey[-1], H_GRID + 1)
    cx, cy = 0.5 * (cx[1:] + cx[:-1]), 0.5 * (cy[1:] + cy[:-1])
    z = np.tile(np.column_stack([np.repeat(cx, H_GRID), np.tile(cy, H_GRID)]), (masses.size, 1))
    m = np.repeat(masses, H_GRID * H_GRID)
    full = np.concatenate([h(z[i : i + _BATCH], m[i : i + _BATCH]) for i in range(0, m.size, _BATCH)])
    return np.stack([full[:, i, j] for i, j in _H_IJ], axis=1).reshape(masses.size, H_GRID, H_GRID, 6).astype(np.float32)


@dataclass
class ReplicaTables:
    """The pair densities of K flows fitted to resampled data (:mod:`.replicas`), on a model's table.

    ``prob[r]`` is replica r's cell probabilities at the model table's mass
    nodes and cells.  An event drawn from the model at mass m in cell c stands
    for replica r's events with weight p_r(c | m) / p(c | m) (importance
    weights): averages over the same events with these weights are the
    replicas' averages, so their spread is the uncertainty that the finite
    number of data pairs leaves on any acceptance, with none of the Monte
    Carlo noise that independent samples would add.
    """

    #: (K, M, G*G) float32 (None: read by ``load`` when first used)
    stored: np.ndarray | None
    #: per replica: its seed, epochs and best validation loss
    fits: list[dict[str, float]]
    load: Callable[[], np.ndarray] | None = field(default=None, repr=False, compare=False)

    @property
    def prob(self) -> np.ndarray:
        if self.stored is None:
            assert self.load is not None
            self.stored = self.load()
        return self.stored

    @property
    def count(self) -> int:
        return len(self.fits)

    def ratios(self, table: PairDensity, m: np.ndarray | float, z: np.ndarray) -> np.ndarray:
        """(K, N) the importance weights p_r / p of pairs at masses ``m`` with standardised features ``z``."""
        cells = table.cell_of(z)
        m = np.broadcast_to(np.asarray(m, dtype=float), (cells.size,))
        nominal = table.interpolated(table.prob, m, cells)
        replica = table.interpolated(self.prob, m, cells)
        return np.asarray(np.divide(replica, nominal, out=np.ones_like(replica), where=nominal > 0))
