"""Lorentz algebra on (N, 4) arrays of (px, py, pz, E), GeV, beam along +z.

Plain numpy, vectorised over the first axis.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike

from .beams import Beam
from .formulas import kallen

__all__ = [
    "pair_mass",
    "PairKinematics",
    "pair_kinematics",
    "boost",
    "boost_z",
    "two_body_momentum",
    "isotropic_directions",
    "rotate_from_axis",
    "from_pt_y_phi",
    "AngularWindow",
    "polar_angle",
    "cell_angles",
    "collins_soper_angles",
    "decay_in_collins_soper",
    "two_body_in_collins_soper",
    "RestFrame",
    "collins_soper_frame",
]


#: a four-vector as its components, each (N,): px, py, pz, e
Components = tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]


def pair_mass(pos: np.ndarray, neg: np.ndarray, m_l: float) -> np.ndarray:
    """Invariant mass (GeV) of lepton pairs from their 3-momenta and the lepton mass.

    ``pos`` and ``neg`` are (N, 3) or (N, 4) arrays whose first three columns
    are px, py, pz.  Energies are recomputed from |p| and ``m_l`` so that
    rounding of stored energies (float32 files, electrons) does not enter.
    """
    p1, p2 = pos[:, :3], neg[:, :3]
    e1 = np.sqrt(np.einsum("ij,ij->i", p1, p1) + m_l**2)
    e2 = np.sqrt(np.einsum("ij,ij->i", p2, p2) + m_l**2)
    m2 = 2.0 * m_l**2 + 2.0 * (e1 * e2 - np.einsum("ij,ij->i", p1, p2))
    return np.asarray(np.sqrt(np.clip(m2, 4.0 * m_l**2, None)))


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
    """(N, 4) four-momenta from transverse momentum, rapidity, azimuth and mass.

    Stored column by column (Fortran order): each component is contiguous, as
    the event writers take them.
    """
    mt = np.sqrt(pt**2 + m**2)
    out = np.empty((np.shape(pt)[0], 4), order="F")
    np.multiply(pt, np.cos(phi), out=out[:, 0])
    np.multiply(pt, np.sin(phi), out=out[:, 1])
    np.multiply(mt, np.sinh(y), out=out[:, 2])
    np.multiply(mt, np.cosh(y), out=out[:, 3])
    return out


def polar_angle(pt: np.ndarray, y: np.ndarray, m: np.ndarray | float) -> np.ndarray:
    """Angle to the beam axis (rad) of a particle of transverse momentum ``pt``, rapidity ``y`` and mass ``m``."""
    return np.asarray(np.arctan2(pt, np.sqrt(np.asarray(pt) ** 2 + np.asarray(m) ** 2) * np.sinh(y)))


def cell_angles(pt_edges: np.ndarray, y_edges: np.ndarray, m: float) -> tuple[np.ndarray, np.ndarray]:
    """The smallest and largest polar angle of a particle of mass ``m`` in each cell of a (pT, y) grid (row-major,
    pT then y): the angle is monotonic in pT and in y inside a cell, so its corners bound it."""
    theta = polar_angle(np.asarray(pt_edges)[:, None], np.asarray(y_edges)[None, :], m)
    corners = np.stack([theta[:-1, :-1], theta[1:, :-1], theta[:-1, 1:], theta[1:, 1:]])
    return corners.min(axis=0).ravel(), corners.max(axis=0).ravel()


@dataclass(frozen=True)
class AngularWindow:
    """Directions from the target (beam along +z): polar angle in [theta_min, theta_max] and azimuth within
    phi_half of phi_centre (rad).  A detector that subtends no more lets a sampler draw only what can reach it."""

    theta_min: float
    theta_max: float
    phi_centre: float = 0.0
    phi_half: float = math.pi

    @property
    def phi_share(self) -> float:
        """The share of a uniform azimuth inside the window."""
        return min(self.phi_half / math.pi, 1.0)

    def phi(self, u: np.ndarray) -> np.ndarray:
        """Azimuths uniform in the window from uniforms ``u`` in [0, 1)."""
        return self.phi_centre + self.phi_half * (2.0 * u - 1.0)


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


def two_body_momentum(m_parent: ArrayLike, m1: ArrayLike, m2: ArrayLike) -> np.ndarray:
    """Daughter momentum in the rest frame of a parent decaying to masses m1, m2."""
    m_parent = np.asarray(m_parent, dtype=float)
    lam = np.clip(kallen(m_parent**2, np.square(m1), np.square(m2)), 0.0, None)
    return np.asarray(np.sqrt(lam) / (2.0 * m_parent))


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
    return np.asarray((sin_t * np.cos(phi))[:, None] * e1 + (sin_t * np.sin(phi))[:, None] * e2 + cos_t[:, None] * axis)


def _incoming(beam: Beam | float, m_target: float) -> tuple[np.ndarray, np.ndarray]:
    """The two incoming four-momenta: a :class:`~gammastar.physics.beams.Beam`, or a fixed-target beam energy."""
    if isinstance(beam, Beam):
        a, b = beam.momenta()
        return np.array(a), np.array(b)
    return np.array([0.0, 0.0, np.sqrt(beam**2 - m_target**2), beam]), np.array([0.0, 0.0, 0.0, m_target])


def _cs_axes(pair: np.ndarray, beam_: Beam | float, m_target: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Collins-Soper axes (x, y, z), each (N, 3), in the pair rest frame.

    z bisects the beam direction and the direction opposite to the target (or second beam);
    y is normal to the beam-target plane (beam x target); x completes a right-handed set.
    """
    x, y, z = collins_soper_frame(pair, beam_, m_target).axes
    return np.column_stack(x), np.column_stack(y), np.column_stack(z)


@dataclass(frozen=True)
class RestFrame:
    """The rest frame of N pairs, component by component (whole (N, 3) arrays cost twice the time): its
    Collins-Soper axes ((x_x, x_y, x_z), (y_...), (z_...)) on the lab axes, and the boost to the lab (the pair's
    velocity beta, gamma, and (gamma - 1)/beta^2)."""

    axes: tuple[tuple[np.ndarray, np.ndarray, np.ndarray], ...]
    beta: tuple[np.ndarray, np.ndarray, np.ndarray]
    gamma: np.ndarray
    over_b2: np.ndarray

    def take(self, idx: np.ndarray) -> RestFrame:
        """The frames of the pairs ``idx``."""
        return RestFrame(tuple((a[idx], b[idx], c[idx]) for a, b, c in self.axes),
                         (self.beta[0][idx], self.beta[1][idx], self.beta[2][idx]), self.gamma[idx], self.over_b2[idx])

    def to_lab(self, px: np.ndarray, py: np.ndarray, pz: np.ndarray, e: np.ndarray,
               out: np.ndarray | None = None) -> np.ndarray:
        """Lab four-momenta, as a (4, N) array (``out`` if given), of momenta given by their components along the
        Collins-Soper axes and their energy in the pair rest frame: one rotation and one boost, fused."""
        (xx, xy, xz), (yx, yy, yz), (zx, zy, zz) = self.axes
        bx, by, bz = self.beta
        out = np.empty((4, len(e))) if out is None else out
        rx, ry, rz = px * xx + py * yx + pz * zx, px * xy + py * yy + pz * zy, px * xz + py * yz + pz * zz
        bp = bx * rx + by * ry + bz * rz
        coef = self.over_b2 * bp + self.gamma * e
        for i, (r, b) in enumerate(((rx, bx), (ry, by), (rz, bz))):
            np.multiply(coef, b, out=out[i])
            out[i] += r
        np.add(e, bp, out=out[3])
        out[3] *= self.gamma
        return out


def collins_soper_frame(pair: np.ndarray, beam_: Beam | float, m_target: float = 0.93827208943) -> RestFrame:
    """The rest frames of ``pair`` (N, 4), with their Collins-Soper axes for ``beam_`` (see :func:`_cs_axes`)."""
    p_a, p_b = _incoming(beam_, m_target)
    e = pair[:, 3]
    bx, by, bz = pair[:, 0] / e, pair[:, 1] / e, pair[:, 2] / e
    b2 = bx * bx + by * by + bz * bz
    gamma = 1.0 / np.sqrt(1.0 - b2)
    moving = b2 > 0
    over_b2 = np.where(moving, (gamma - 1.0) / np.where(moving, b2, 1.0), 0.0)

    def direction_at_rest(p: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        # the incoming momentum p boosted by -beta into the pair rest frame, as a unit vector; the beams' momenta
        # are along z (or zero, a target at rest): terms with a zero component are skipped, not multiplied by 0
        terms = [b * float(c) for b, c in ((bx, p[0]), (by, p[1]), (bz, p[2])) if c != 0.0]
        coef = gamma * float(p[3])
        if terms:
            coef = coef - over_b2 * sum(terms[1:], terms[0])
        vx, vy, vz = (float(c) - coef * b if c != 0.0 else -coef * b for b, c in ((bx, p[0]), (by, p[1]), (bz, p[2])))
        inv = 1.0 / np.sqrt(vx * vx + vy * vy + vz * vz)
        return vx * inv, vy * inv, vz * inv

    ax, ay, az = direction_at_rest(p_a)
    tx, ty, tz = direction_at_rest(p_b)
    zx, zy, zz = ax - tx, ay - ty, az - tz
    norm = np.sqrt(zx * zx + zy * zy + zz * zz)
    zx, zy, zz = zx / norm, zy / norm, zz / norm
    # y = beam x (-target)
    yx, yy, yz = -(ay * tz - az * ty), -(az * tx - ax * tz), -(ax * ty - ay * tx)
    norm = np.sqrt(yx * yx + yy * yy + yz * yz)
    # pT = 0: beam and target are collinear and phi is undefined; any transverse y will do
    ok = norm > 1e-12
    safe = np.where(ok, norm, 1.0)
    yx, yy, yz = np.where(ok, yx / safe, 0.0), np.where(ok, yy / safe, 1.0), np.where(ok, yz / safe, 0.0)
    # x = y x z
    x = (yy * zz - yz * zy, yz * zx - yx * zz, yx * zy - yy * zx)
    return RestFrame((x, (yx, yy, yz), (zx, zy, zz)), (bx, by, bz), gamma, over_b2)


def collins_soper_angles(
    pos: np.ndarray, neg: np.ndarray, beam: Beam | float, m_target: float = 0.93827208943
) -> tuple[np.ndarray, np.ndarray]:
    """cos(theta) and phi of the positive particle in the Collins-Soper frame.

    ``beam`` is a :class:`~gammastar.physics.beams.Beam` (fixed target or
    collider), or the total energy (GeV) of a beam along +z on a target of
    mass ``m_target`` at rest (a proton by default).  Returns (cos_theta, phi)
    with phi in (-pi, pi].
    """
    pair = pos + neg
    x, y, z = _cs_axes(pair, beam, m_target)
    lp = boost(pos, -(pair[:, :3] / pair[:, 3:4]))[:, :3]
    lp /= np.linalg.norm(lp, axis=1)[:, None]
    return np.einsum("ij,ij->i", lp, z), np.arctan2(np.einsum("ij,ij->i", lp, y), np.einsum("ij,ij->i", lp, x))


def decay_in_collins_soper(
    pair: np.ndarray, cos_theta: np.ndarray, phi: np.ndarray, m_daughter: float,
    beam: Beam | float, m_target: float = 0.93827208943,
) -> tuple[np.ndarray, np.ndarray]:
    """Lab four-momenta of the two daughters of ``pair`` (N, 4) at the given Collins-Soper angles.

    The inverse of :func:`collins_soper_angles`: the first daughter (the
    positive one) goes along (cos_theta, phi) in the pair rest frame.
    """
    sin_t = np.sqrt(np.clip(1.0 - cos_theta**2, 0.0, None))
    return two_body_in_collins_soper(pair, (sin_t * np.cos(phi), sin_t * np.sin(phi), cos_theta), m_daughter,
                                     m_daughter, beam, m_target)


def two_body_in_collins_soper(
    pair: np.ndarray, unit: tuple[np.ndarray, np.ndarray, np.ndarray], m1: float, m2: float,
    beam: Beam | float, m_target: float = 0.93827208943,
) -> tuple[np.ndarray, np.ndarray]:
    """Lab four-momenta of the daughters (masses ``m1``, ``m2``) of ``pair`` (N, 4), the first along the unit vector
    ``unit`` (its x, y, z components on the Collins-Soper axes, each (N,)) in the pair rest frame; the second is the
    pair minus the first (one boost, and four-momentum conserved to rounding)."""
    m = np.sqrt(np.clip(pair[:, 3] ** 2 - np.einsum("ij,ij->i", pair[:, :3], pair[:, :3]), 0.0, None))
    k = two_body_momentum(m, m1, m2)
    u, v, w = unit
    a = collins_soper_frame(pair, beam, m_target).to_lab(k * u, k * v, k * w, np.sqrt(k**2 + m1**2)).T
    return a, pair - a
