"""From two leptons per candidate to oriented l+ l- pairs, and like-sign background subtraction.

Inputs that do not say which lepton is positive (lepton collections paired
event by event, flat trees with per-leg columns ``px1 ... q1, px2 ... q2``)
give :class:`Legs`: two four-momenta and two charges per candidate.
:func:`oriented_pairs` puts the positive lepton first, keeps opposite-sign
candidates, and either drops the same-sign ones or, with
``background="like-sign"``, uses them to subtract the combinatorial
background.

Like-sign subtraction: in mass bins of width ``bin_width`` the
combinatorial opposite-sign yield is 2 R sqrt(N++ N--) (R = 1 for
charge-symmetric production and acceptance), so every like-sign pair in bin
k enters with weight -2 R sqrt(N++ N--) / (N++ + N--).  The opposite-sign
pairs keep weight +1, and the summed weights in every bin are
N+- - 2 R sqrt(N++ N--), the signal, with the like-sign pairs' own
kinematics standing for the background's.  The geometric mean is biased low
when a bin holds only a few like-sign pairs: choose ``bin_width`` so that
typical bins hold tens of them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from ..errors import GammastarError

__all__ = ["Legs", "OrientedPairs", "BACKGROUNDS", "polar_four_momenta", "like_sign_weights", "oriented_pairs",
           "check_background"]

#: background subtraction methods
BACKGROUNDS = ("like-sign",)


@dataclass
class Legs:
    """Two leptons per candidate: four-momenta ``a``, ``b`` (N, 4) in float64, charges, weights."""

    a: np.ndarray
    b: np.ndarray
    qa: np.ndarray
    qb: np.ndarray
    weight: np.ndarray


@dataclass
class OrientedPairs:
    """Pairs with the positive lepton first; like-sign pairs (if used) carry negative weights."""

    pos: np.ndarray
    neg: np.ndarray
    weight: np.ndarray
    n_opposite: int
    n_plus_plus: int
    n_minus_minus: int

    def describe(self) -> str:
        return f"{self.n_opposite} opposite-sign, {self.n_plus_plus} ++, {self.n_minus_minus} --"


def check_background(background: str | None) -> None:
    if background not in (None, *BACKGROUNDS):
        raise GammastarError(f"unknown background method {background!r}; the one available is like-sign")


def polar_four_momenta(pt: Any, eta: Any, phi: Any, m: Any) -> np.ndarray:
    """(N, 4) four-momenta (px, py, pz, E) in float64 from pT, eta, phi and mass, via ``vector``."""
    import vector

    pt = np.asarray(pt, dtype=float)
    v: Any = vector.array({"pt": pt, "eta": np.asarray(eta, dtype=float), "phi": np.asarray(phi, dtype=float),
                           "mass": np.broadcast_to(np.asarray(m, dtype=float), pt.shape)})
    return np.column_stack([v.px, v.py, v.pz, v.E])


def like_sign_weights(
    m_ls: np.ndarray, plus: np.ndarray, m_lo: float, r: float = 1.0, bin_width: float = 0.01
) -> np.ndarray:
    """Weights of like-sign pairs (masses ``m_ls``, ``plus`` True for ++) for the subtraction above."""
    if not bin_width > 0 or not r > 0:
        raise GammastarError("like-sign bin width and R must be positive")
    if m_ls.size == 0:
        return np.zeros(0)
    k = np.floor((m_ls - m_lo) / bin_width).astype(np.int64)
    k -= k.min()
    n_pp = np.bincount(k[plus], minlength=k.max() + 1).astype(float)
    n_mm = np.bincount(k[~plus], minlength=k.max() + 1).astype(float)
    total = n_pp + n_mm
    per_pair = np.where(total > 0, -2.0 * r * np.sqrt(n_pp * n_mm) / np.where(total > 0, total, 1.0), 0.0)
    return per_pair[k]


def oriented_pairs(
    legs: Legs, m_lepton: float, background: str | None = None, r: float = 1.0, bin_width: float = 0.01,
) -> OrientedPairs:
    """Opposite-sign candidates as (l+, l-); same-sign ones dropped or, with like-sign, weighted as background.

    Candidates with a zero charge are neither and are dropped.
    """
    check_background(background)
    a, b, qa, qb = legs.a, legs.b, np.asarray(legs.qa), np.asarray(legs.qb)
    opposite = qa * qb < 0
    a_pos = (qa > 0)[:, None]
    pos = np.where(a_pos, a, b)[opposite]
    neg = np.where(a_pos, b, a)[opposite]
    weight = legs.weight[opposite]
    same = qa * qb > 0
    n_pp, n_mm = int(np.sum(same & (qa > 0))), int(np.sum(same & (qa < 0)))
    if background == "like-sign":
        ls_a, ls_b = a[same], b[same]
        p = ls_a + ls_b
        m_ls = np.sqrt(np.clip(p[:, 3] ** 2 - np.sum(p[:, :3] ** 2, axis=1), 0.0, None))
        w_ls = like_sign_weights(m_ls, qa[same] > 0, 2.0 * m_lepton, r, bin_width) * legs.weight[same]
        keep = w_ls != 0
        pos = np.concatenate([pos, ls_a[keep]])
        neg = np.concatenate([neg, ls_b[keep]])
        weight = np.concatenate([weight, w_ls[keep]])
    return OrientedPairs(pos, neg, weight, int(opposite.sum()), n_pp, n_mm)
