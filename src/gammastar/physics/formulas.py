"""The physics of the correspondence: pure, vectorised numpy functions.

Conventions: masses and energies in GeV, yields dimensionless (per collision
or per sample), ``eps`` the kinetic-mixing parameter (dark photon) or the
charge in units of e (millicharged particle).  All formulas are those of
``docs/physics.md`` sections 1, 3 and 6; rates per eps^2 are returned for eps = 1.
"""

from __future__ import annotations

from typing import Literal, get_args

import numpy as np
from numpy.typing import ArrayLike

from ..errors import GammastarError
from .pdg import ALPHA, mass

__all__ = [
    "SPINS",
    "Spin",
    "check_spin",
    "kallen",
    "r_lepton",
    "r_chi",
    "pair_density",
    "phi_l",
    "dalitz_pseudoscalar_dgamma_dm",
    "dalitz_vector_dgamma_dm",
    "br_pseudoscalar_to_gamma_aprime",
    "br_vector_to_pseudoscalar_aprime",
    "sqrt_s_fixed_target",
    "y_beam",
]


#: an mCP spin: Dirac fermion or complex scalar
Spin = Literal["fermion", "scalar"]
#: mCP spins gammastar knows
SPINS: tuple[Spin, ...] = get_args(Spin)


def check_spin(spin: str) -> Spin:
    """``spin`` if it is one of :data:`SPINS`, else a :class:`GammastarError`."""
    if spin not in SPINS:
        raise GammastarError(f"`spin` must be 'fermion' or 'scalar', not {spin!r}")
    return spin


def kallen(a: ArrayLike, b: ArrayLike, c: ArrayLike) -> np.ndarray:
    """Kallen triangle function lambda(a, b, c) = a^2 + b^2 + c^2 - 2ab - 2ac - 2bc.

    Arguments are squared masses (GeV^2); the result is in GeV^4.
    """
    a, b, c = (np.asarray(x, dtype=float) for x in (a, b, c))
    return np.asarray(a * a + b * b + c * c - 2.0 * (a * b + a * c + b * c))


def _beta2(m: ArrayLike, m_f: float | np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """x = m_f^2/m^2 and beta^2 = 1 - 4x clipped at 0 (zero at and below threshold, m <= 0 included)."""
    m = np.asarray(m, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        x = np.square(m_f) / np.square(m)
    x = np.where(m > 0, x, np.inf) if np.any(m <= 0) else x
    return x, np.clip(1.0 - 4.0 * x, 0.0, None)


def r_lepton(m: ArrayLike, m_l: float | np.ndarray) -> np.ndarray:
    """R_l(m) = (1 + 2 m_l^2/m^2) sqrt(1 - 4 m_l^2/m^2) for a Dirac fermion pair.

    The ratio of Gamma(V(m) -> f fbar) to its massless limit; zero at and
    below the threshold m = 2 m_l.  It tends to 1 for m >> m_l.
    """
    x, b2 = _beta2(m, m_l)
    return np.where(b2 > 0, (1.0 + 2.0 * x) * np.sqrt(b2), 0.0)


def r_chi(m: ArrayLike, m_chi: float | np.ndarray, spin: str = "fermion") -> np.ndarray:
    """Pair-production factor R_chi(m) of a millicharged particle of mass ``m_chi``.

    ``spin="fermion"``: (1 + 2x) sqrt(1 - 4x), the Dirac-fermion law (same as
    :func:`r_lepton`); ``spin="scalar"``: (1/4)(1 - 4x)^(3/2) for a complex
    scalar, with x = m_chi^2/m^2.  Zero below 2 m_chi.  Tends to 1 and 1/4
    for m >> m_chi.
    """
    if check_spin(spin) == "fermion":
        return r_lepton(m, m_chi)
    _, b2 = _beta2(m, m_chi)
    return np.asarray(0.25 * b2 * np.sqrt(b2))


def pair_density(n_v: float | np.ndarray, m: ArrayLike, m_f: float | np.ndarray, spin: str = "fermion") -> np.ndarray:
    """dN(f fbar)/dm = N_V(m) (2 alpha / (3 pi m)) R_f(m): pairs per GeV from N_V unit-coupling vectors.

    The correspondence of docs/physics.md section 1 for any pair of unit charge:
    leptons (``m_f = m_l``), or mCPs of mass ``m_f`` and ``spin``.  Zero at and
    below the threshold 2 m_f.  (Written as one product, left to right, so that
    every caller gets the same rounding.)
    """
    m = np.asarray(m, dtype=float)
    return n_v * 2.0 * ALPHA * r_chi(m, m_f, spin) / (3.0 * np.pi * np.where(m > 0, m, 1.0))


def phi_l(m: ArrayLike, m_l: float) -> np.ndarray:
    """phi_l(m) = 2 alpha R_l(m) / (3 pi m), GeV^-1: dN(l+l-)/dm per unit N_V(m).

    N_V(m) = (dN_ll/dm) / phi_l(m) is the number of massive unit-coupling
    vectors of mass m (docs/physics.md section 1), and the dark-photon yield is
    eps^2 N_V(m_A').
    """
    return pair_density(1.0, m, m_l)


def dalitz_pseudoscalar_dgamma_dm(m: ArrayLike, m_parent: float, m_l: float, ff2: float | np.ndarray = 1.0) -> np.ndarray:
    """dGamma(P -> gamma l+l-)/dm / Gamma(P -> gamma gamma) (Kroll-Wada), GeV^-1.

    (4 alpha / (3 pi m)) (1 - m^2/M_P^2)^3 |F(m^2)|^2 R_l(m), zero outside
    2 m_l < m < M_P.  ``ff2`` is |F|^2 evaluated at ``m``.
    """
    m = np.asarray(m, dtype=float)
    inside = (m > 2.0 * m_l) & (m < m_parent)
    ms = np.where(inside, m, 1.0)
    val = 2.0 * phi_l(ms, m_l) * (1.0 - ms**2 / m_parent**2) ** 3 * ff2
    return np.where(inside, val, 0.0)


def _vector_phase_space(m: np.ndarray, m_v: float, m_p: float) -> np.ndarray:
    """[lambda(M_V^2, M_P^2, m^2)^(1/2) / (M_V^2 - M_P^2)]^3, zero above M_V - M_P."""
    lam = np.clip(kallen(m_v**2, m_p**2, m**2), 0.0, None)
    return np.where(m < m_v - m_p, (np.sqrt(lam) / (m_v**2 - m_p**2)) ** 3, 0.0)


def dalitz_vector_dgamma_dm(m: ArrayLike, m_v: float, m_p: float, m_l: float, ff2: float | np.ndarray = 1.0) -> np.ndarray:
    """dGamma(V -> P l+l-)/dm / Gamma(V -> P gamma), GeV^-1.

    (2 alpha / (3 pi m)) [lambda^(1/2)/(M_V^2 - M_P^2)]^3 |F|^2 R_l(m) for
    2 m_l < m < M_V - M_P (e.g. omega -> pi0 mu mu, phi -> eta mu mu).
    """
    m = np.asarray(m, dtype=float)
    inside = (m > 2.0 * m_l) & (m < m_v - m_p)
    ms = np.where(inside, m, 1.0)
    val = phi_l(ms, m_l) * _vector_phase_space(ms, m_v, m_p) * ff2
    return np.where(inside, val, 0.0)


def br_pseudoscalar_to_gamma_aprime(m: ArrayLike, m_parent: float, br_gg: float, ff2: float | np.ndarray = 1.0
                                     ) -> np.ndarray:
    """BR(P -> gamma A') / eps^2 = 2 BR(P -> gamma gamma) (1 - m^2/M_P^2)^3 |F|^2."""
    m = np.asarray(m, dtype=float)
    return np.where(m < m_parent, 2.0 * br_gg * np.clip(1.0 - m**2 / m_parent**2, 0.0, None) ** 3 * ff2, 0.0)


def br_vector_to_pseudoscalar_aprime(
    m: ArrayLike, m_v: float, m_p: float, br_pgamma: float, ff2: float | np.ndarray = 1.0
) -> np.ndarray:
    """BR(V -> P A') / eps^2 = BR(V -> P gamma) [lambda^(1/2)/(M_V^2 - M_P^2)]^3 |F|^2."""
    m = np.asarray(m, dtype=float)
    return br_pgamma * _vector_phase_space(m, m_v, m_p) * ff2


def sqrt_s_fixed_target(e_beam: ArrayLike, m_beam: float | None = None, m_target: float | None = None) -> np.ndarray:
    """Centre-of-mass energy of a beam of total energy ``e_beam`` (GeV) on a target at rest.

    sqrt(s) = sqrt(m_b^2 + m_t^2 + 2 m_t E_beam); both masses default to the
    proton's (27.4 GeV at 400 GeV, 17.3 GeV at 158 GeV).
    """
    m_b = mass("p") if m_beam is None else m_beam
    m_t = mass("p") if m_target is None else m_target
    return np.sqrt(m_b**2 + m_t**2 + 2.0 * m_t * np.asarray(e_beam, dtype=float))


def y_beam(e_beam: ArrayLike, m_beam: float | None = None) -> np.ndarray:
    """Lab rapidity of the beam, arccosh(E_beam / m_beam) (6.75 for 400 GeV protons).

    For a symmetric system the centre-of-mass rapidity is y_beam / 2 in the lab.
    """
    m_b = mass("p") if m_beam is None else m_beam
    return np.arccosh(np.asarray(e_beam, dtype=float) / m_b)
