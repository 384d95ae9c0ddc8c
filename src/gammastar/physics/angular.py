"""Decay-angle laws of a pair made through a virtual photon, and exact sampling from them.

In the rest frame of the vector V(m) only the spatial hadronic tensor H_ij
survives (current conservation).  With n the direction of the positive
particle and beta its velocity there, and tr H = 1 (docs/physics.md section 2)::

    Dirac fermions (leptons, fermion mCPs):  dN/dOmega ~ 1 - beta^2 n.H.n
    complex scalars:                         dN/dOmega ~ n.H.n

Both are bounded by 1, so isotropic proposals accepted with that weight
sample them exactly.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from ..errors import GammastarError
from .formulas import check_spin

__all__ = ["direction", "n_h_n", "sample_law", "sample_law_directions", "decay_law", "transverse_cos_theta"]

#: ``law(nhn, index) -> acceptance in [0, 1]`` for the events at ``index``
AngularLaw = Callable[[np.ndarray, np.ndarray], np.ndarray]
#: ``law(nhn, beta2) -> acceptance in [0, 1]`` of a pair whose members have velocity^2 ``beta2`` in its rest frame
DecayLaw = Callable[[np.ndarray, np.ndarray], np.ndarray]


def _dirac(nhn: np.ndarray, beta2: np.ndarray) -> np.ndarray:
    return np.asarray(1.0 - beta2 * nhn)


def _scalar(nhn: np.ndarray, beta2: np.ndarray) -> np.ndarray:
    return nhn


def decay_law(spin: str) -> DecayLaw:
    """The law of ``spin``'s pairs as an acceptance: 1 - beta^2 n.H.n (Dirac fermions: leptons, fermion mCPs), n.H.n (scalars)."""
    return _dirac if check_spin(spin) == "fermion" else _scalar


def direction(cos_t: np.ndarray, phi: np.ndarray) -> np.ndarray:
    """(N, 3) unit vectors from polar angle cosine and azimuth."""
    sin_t = np.sqrt(np.clip(1.0 - cos_t**2, 0.0, None))
    return np.column_stack([sin_t * np.cos(phi), sin_t * np.sin(phi), cos_t])


def n_h_n(h: np.ndarray, n: np.ndarray) -> np.ndarray:
    """n.H.n for (N, 3, 3) matrices and (N, 3) unit vectors."""
    return np.asarray(np.einsum("ni,nij,nj->n", n, h, n))


def sample_law(h: np.ndarray, law: AngularLaw, rng: np.random.Generator, max_rounds: int = 500
               ) -> tuple[np.ndarray, np.ndarray]:
    """(cos theta, phi) from an angular law given per event as ``law(nhn, index) -> weight in [0, 1]``.

    ``h``: (N, 3, 3) tensors, or (N, 6) their components xx, yy, zz, xy, xz, yz.

    Isotropic proposals accepted with that weight over its largest value
    (accept-reject is exact: every law here, 1 - beta^2 n.H.n or n.H.n, is
    linear in n.H.n, whose range lies inside Gershgorin's bounds on H's
    eigenvalues, so the law over its value at the larger bound is <= 1).
    """
    cos_t, phi, _, _ = _sample(h, law, rng, max_rounds, cartesian=False)
    return cos_t, phi


def sample_law_directions(h: np.ndarray, law: AngularLaw, rng: np.random.Generator, max_rounds: int = 500
                          ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The unit vectors (x, y, z components, each (N,)) of :func:`sample_law`'s directions, the same draws: for
    decays, which need the vector, not the angles."""
    cos_t, _, x, y = _sample(h, law, rng, max_rounds, cartesian=True)
    assert x is not None and y is not None
    return x, y, cos_t


def _sample(h: np.ndarray, law: AngularLaw, rng: np.random.Generator, max_rounds: int, cartesian: bool
            ) -> tuple[np.ndarray, np.ndarray, np.ndarray | None, np.ndarray | None]:
    """cos theta, phi and (with ``cartesian``) the x, y components of directions drawn from ``law``."""
    n_ev = h.shape[0]
    cos_t, phi = np.empty(n_ev), np.empty(n_ev)
    out_x, out_y = (np.empty(n_ev), np.empty(n_ev)) if cartesian else (None, None)
    # the six independent components, each contiguous: n.H.n element by element (an einsum per round was the
    # largest cost of the chi decays)
    if h.ndim == 3:
        h = np.column_stack([h[:, 0, 0], h[:, 1, 1], h[:, 2, 2], h[:, 0, 1], h[:, 0, 2], h[:, 1, 2]])
    comp = np.ascontiguousarray(h.T * np.array([1.0, 1.0, 1.0, 2.0, 2.0, 2.0])[:, None])
    # n.H.n lies between H's eigenvalues, inside Gershgorin's bounds; a law linear in n.H.n is largest at one of
    # them: proposals accepted with law / that largest value (for H near 1/3, 3x fewer rounds than with law / 1)
    r = np.abs(comp[3:]) / 2.0  # |H_xy|, |H_xz|, |H_yz|
    off = np.stack([r[0] + r[1], r[0] + r[2], r[1] + r[2]])
    diag = comp[:3]
    every = np.arange(n_ev)
    top = np.maximum(law(np.clip((diag - off).min(axis=0), 0.0, 1.0), every),
                     law(np.clip((diag + off).max(axis=0), 0.0, 1.0), every))
    top = np.where(top > 0, np.minimum(top, 1.0), 1.0)
    todo = np.arange(n_ev)
    for r in range(max_rounds):
        c, f = rng.uniform(-1.0, 1.0, todo.size), rng.uniform(-np.pi, np.pi, todo.size)
        s = np.sqrt(np.clip(1.0 - c * c, 0.0, None))
        x, y = s * np.cos(f), s * np.sin(f)
        # in the first round every event is proposed for: the arrays themselves, not gathered copies
        at: Any = slice(None) if r == 0 else todo
        k = comp[:, at]
        nhn = k[0] * x * x + k[1] * y * y + k[2] * c * c + k[3] * x * y + k[4] * x * c + k[5] * y * c
        ok = rng.random(todo.size) * top[at] < law(nhn, at)
        done = todo[ok]
        cos_t[done] = c[ok]
        if out_x is not None and out_y is not None:  # the vector, not the angle
            out_x[done], out_y[done] = x[ok], y[ok]
        else:
            phi[done] = f[ok]
        todo = todo[~ok]
        if not todo.size:
            return cos_t, phi, out_x, out_y
    raise GammastarError("angular sampling did not converge (the law vanishes almost everywhere)")


def transverse_cos_theta(m: np.ndarray, m_f: float, spin: str, rng: np.random.Generator) -> np.ndarray:
    """cos(theta) about the axis of a transversely polarised gamma*(m) -> f fbar.

    H = diag(1/2, 1/2, 0): Dirac fermions 1 - beta^2 n.H.n ~ 1 + c^2 + (4 m_f^2/m^2)(1 - c^2)
    (Kroll-Wada; maximum 2), complex scalars n.H.n ~ 1 - c^2 (maximum 1).  Accept-reject.
    """
    a = 4.0 * m_f**2 / m**2
    top = 2.0 if spin == "fermion" else 1.0
    out = np.empty(m.size)
    todo = np.arange(m.size)
    while todo.size:
        c = rng.uniform(-1.0, 1.0, todo.size)
        f = 1.0 + c * c + a[todo] * (1.0 - c * c) if spin == "fermion" else 1.0 - c * c
        ok = rng.uniform(0.0, top, todo.size) < f
        out[todo[ok]] = c[ok]
        todo = todo[~ok]
    return out
