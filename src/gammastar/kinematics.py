"""Lorentz algebra on (N, 4) arrays of (px, py, pz, E), GeV, beam along +z.

Plain numpy, vectorised over the first axis.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .physics import kallen

__all__ = [
    "PairKinematics",
    "pair_kinematics",
    "boost",
    "boost_z",
    "two_body_momentum",
    "isotropic_directions",
    "rotate_from_axis",
    "from_pt_y_phi",
]


@dataclass(frozen=True)
class PairKinematics:
    """Pair invariant mass, transverse momentum, rapidity and azimuth (lab frame)."""

    m: np.ndarray
    pt: np.ndarray
    y: np.ndarray
    phi: np.ndarray


def pair_kinematics(pos: np.ndarray, neg: np.ndarray) -> PairKinematics:
    """m, pT, y, phi of the pair from the two (N, 4) four-momenta."""
    p = pos + neg
    pt = np.hypot(p[:, 0], p[:, 1])
    m = np.sqrt(np.clip(p[:, 3] ** 2 - pt**2 - p[:, 2] ** 2, 0.0, None))
    y = 0.5 * np.log((p[:, 3] + p[:, 2]) / (p[:, 3] - p[:, 2]))
    return PairKinematics(m, pt, y, np.arctan2(p[:, 1], p[:, 0]))


def from_pt_y_phi(pt: np.ndarray, y: np.ndarray, phi: np.ndarray, m: np.ndarray) -> np.ndarray:
    """(N, 4) four-momenta from transverse momentum, rapidity, azimuth and mass."""
    mt = np.sqrt(pt**2 + m**2)
    return np.stack([pt * np.cos(phi), pt * np.sin(phi), mt * np.sinh(y), mt * np.cosh(y)], axis=1)


def boost(p4: np.ndarray, beta: np.ndarray) -> np.ndarray:
    """Boost four-momenta ``p4`` (N, 4) by velocity ``beta`` (N, 3).

    A particle at rest ends up moving with velocity ``beta``: this takes
    momenta from a parent's rest frame to the frame where the parent has
    velocity ``beta`` (= p/E of the parent).
    """
    b2 = np.einsum("ij,ij->i", beta, beta)
    gamma = 1.0 / np.sqrt(1.0 - b2)
    bp = np.einsum("ij,ij->i", beta, p4[:, :3])
    safe_b2 = np.where(b2 > 0, b2, 1.0)
    coef = np.where(b2 > 0, (gamma - 1.0) * bp / safe_b2, 0.0) + gamma * p4[:, 3]
    out = np.empty_like(p4)
    out[:, :3] = p4[:, :3] + coef[:, None] * beta
    out[:, 3] = gamma * (p4[:, 3] + bp)
    return out


def boost_z(p4: np.ndarray, rapidity: float) -> np.ndarray:
    """Boost along +z by ``rapidity`` (e.g. from the centre-of-mass frame to the lab)."""
    ch, sh = np.cosh(rapidity), np.sinh(rapidity)
    out = p4.copy()
    out[:, 2] = ch * p4[:, 2] + sh * p4[:, 3]
    out[:, 3] = ch * p4[:, 3] + sh * p4[:, 2]
    return out


def two_body_momentum(m_parent, m1, m2) -> np.ndarray:
    """Daughter momentum in the rest frame of a parent decaying to masses m1, m2."""
    m_parent = np.asarray(m_parent, dtype=float)
    lam = np.clip(kallen(m_parent**2, np.square(m1), np.square(m2)), 0.0, None)
    return np.sqrt(lam) / (2.0 * m_parent)


def isotropic_directions(n: int, rng: np.random.Generator) -> np.ndarray:
    """(n, 3) unit vectors uniform on the sphere."""
    cos_t = rng.uniform(-1.0, 1.0, n)
    phi = rng.uniform(0.0, 2.0 * np.pi, n)
    sin_t = np.sqrt(1.0 - cos_t**2)
    return np.stack([sin_t * np.cos(phi), sin_t * np.sin(phi), cos_t], axis=1)


def rotate_from_axis(axis: np.ndarray, cos_t: np.ndarray, phi: np.ndarray) -> np.ndarray:
    """Unit vectors at polar angle arccos(cos_t), azimuth phi about ``axis`` (N, 3) unit vectors."""
    helper = np.where(np.abs(axis[:, :1]) < 0.9, [[1.0, 0.0, 0.0]], [[0.0, 1.0, 0.0]])
    e1 = helper - np.einsum("ij,ij->i", helper, axis)[:, None] * axis
    e1 /= np.linalg.norm(e1, axis=1)[:, None]
    e2 = np.cross(axis, e1)
    sin_t = np.sqrt(np.clip(1.0 - cos_t**2, 0.0, None))
    return (sin_t * np.cos(phi))[:, None] * e1 + (sin_t * np.sin(phi))[:, None] * e2 + cos_t[:, None] * axis
