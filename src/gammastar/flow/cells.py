"""Drawing cells of a tabulated distribution: the inverse CDF, without a binary search per draw.

A' pairs are drawn from the flow's density tabulated on a grid of cells and
chi-chibar pair masses from the data's fine mass bins.  The textbook inverse
CDF, ``searchsorted(cdf, u)``, costs a binary search through a table too big
for the fastest caches for every draw (it was the largest single cost of
generating A' events).  The guide table of Chen and Asau (1974) remembers,
for each of K equal slices of [0, 1), the first cell whose CDF passes the
slice's start; a draw starts there and steps forward over the few cells
the slice holds.  The cell found is *exactly* the one ``searchsorted``
finds (first cell with CDF > u), so the events are those of the plain
inverse CDF, drawn several times faster.
"""

from __future__ import annotations

import numpy as np

__all__ = ["CellSampler"]

_MAX_STEPS = 8  # after this many forward steps the few draws left are finished by a binary search


class CellSampler:
    """Draws cell indices with probabilities proportional to ``weights`` (non-negative, not all zero).

    >>> CellSampler(np.array([0.0, 1.0, 3.0])).index(np.array([0.1, 0.5]))
    array([1, 2])
    """

    def __init__(self, weights: np.ndarray) -> None:
        w = np.asarray(weights, dtype=float).ravel()
        if w.size == 0 or not np.all(w >= 0) or not w.sum() > 0:
            raise ValueError("cell weights must be non-negative and not all zero")
        cdf = np.cumsum(w)
        self.total = float(cdf[-1])
        #: the normalised cumulative distribution, cdf[-1] == 1
        self.cdf = cdf / cdf[-1]
        self.cdf[-1] = 1.0
        self.size = w.size
        # twice as many slices as cells: a draw steps over about half a cell on average
        self._k = 2 * w.size
        self._guide = np.searchsorted(self.cdf, np.arange(self._k) / self._k, side="right")

    def index(self, u: np.ndarray) -> np.ndarray:
        """The cell of each uniform ``u`` in [0, 1): the first with cdf > u (``searchsorted(cdf, u, "right")``)."""
        u = np.asarray(u, dtype=float)
        idx = self._guide[np.minimum((u * self._k).astype(np.intp), self._k - 1)]
        todo = np.flatnonzero(self.cdf[idx] <= u)
        for _ in range(_MAX_STEPS):
            if todo.size == 0:
                return idx
            idx[todo] += 1
            todo = todo[self.cdf[idx[todo]] <= u[todo]]
        # runs of (near-)empty cells in one slice: the stragglers by bisection
        idx[todo] = np.searchsorted(self.cdf, u[todo], side="right")
        return idx

    def draw(self, rng: np.random.Generator, n: int) -> np.ndarray:
        """``n`` cell indices."""
        return self.index(rng.random(n))
