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
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import GammastarError
from ..physics.pdg import mass

__all__ = ["Legs", "OrientedPairs", "BACKGROUNDS", "polar_four_momenta", "like_sign_weights", "oriented_pairs",
           "check_background",
           "M2_REL_TOL", "infer_lepton", "mass_squared", "lepton_counts", "lepton_from_counts"]

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


#: E >= |p| is checked up to this rounding allowance on m^2 = E^2 - p^2, relative to E^2 (|p| may exceed E by
#: 5e-7 E): float32 stores E and each p_i to 6e-8, so data kept or computed in float32 (columns, branches,
#: or float64 columns holding float32-rounded values) miss m^2 by up to a few 1e-7 E^2.  Every kinematic
#: quantity is then computed in float64.
M2_REL_TOL = 1e-6


def infer_lepton(path: Path, *momenta: np.ndarray) -> str:
    """The flavour, e or mu, that the invariant masses of the lepton four-momenta (N, 4) say.

    Rows that are not finite or not physical are left to :func:`~gammastar.io.pairs.validated_pairs` to name.
    """
    n_e = n_mu = 0
    others = []
    for p in momenta:
        m2, tol = mass_squared(p)
        ok = np.isfinite(m2) & (m2 >= -tol)
        ne, nmu, other = lepton_counts(m2[ok], tol[ok])
        n_e, n_mu = n_e + ne, n_mu + nmu
        others.append(other)
    return lepton_from_counts(n_e, n_mu, np.concatenate(others), path)


def mass_squared(p: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(m^2 = E^2 - p^2, its rounding allowance :data:`M2_REL_TOL` E^2) of four-momenta (N, 4)."""
    e2 = p[:, 3] ** 2
    return e2 - np.einsum("ij,ij->i", p[:, :3], p[:, :3]), M2_REL_TOL * e2 + 1e-12


def lepton_counts(m2: np.ndarray, tol: np.ndarray) -> tuple[int, int, np.ndarray]:
    """(n_e, n_mu, masses of non-leptons) from squared masses m2 = E^2 - p^2 (+- tol).

    Leptons so energetic that rounding blurs e and mu count as neither.
    """
    m_mu2 = mass("mu") ** 2
    is_e = np.abs(m2 - mass("e") ** 2) <= 0.25 * m_mu2 + tol
    is_mu = np.abs(m2 - m_mu2) <= 0.25 * m_mu2 + tol
    other = ~(is_e | is_mu)
    return int((is_e & ~is_mu).sum()), int((is_mu & ~is_e).sum()), np.sqrt(np.abs(m2[other]))


def lepton_from_counts(n_e: int, n_mu: int, others: np.ndarray, path: Path) -> str:
    """The flavour the counts say (electrons, muons, masses of neither), or a one-line error naming ``path``."""
    if others.size:
        raise GammastarError(
            f"{path}: {others.size} lepton(s) have a mass that is neither e nor mu "
            f"(e.g. {others[0]:.4g} GeV); pass `lepton=e|mu` only if the energies are unreliable"
        )
    if n_e and n_mu:
        raise GammastarError(f"{path}: mixed sample, {n_e} leptons look like electrons and {n_mu} like muons")
    if n_e + n_mu == 0:
        raise GammastarError(f"{path}: the energies are too imprecise to tell e from mu; pass `lepton=e|mu`")
    return "e" if n_e else "mu"
