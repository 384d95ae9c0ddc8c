"""How the cocktail's pairs are made: parent spectra, gamma* line shapes and decays.

Kinematics: parent dN/dpT ~ pT exp(-m_T/T) with T = 0.2 GeV (m_T scaling),
Gaussian rapidity of width 1.0 around y_beam/2 cut at the kinematic limit
(the parent's centre-of-mass energy m_T cosh y at most sqrt(s)/2, so no pair
carries more energy than the collision has), uniform azimuth.  Decay angles:
gamma* from Dalitz decays and from the continuum is transversely polarised
about its flight direction (in the parent frame, resp. the centre-of-mass
frame): dN/dcos(theta) ~ 1 + cos^2 + (4 m_l^2/m^2) sin^2 (Kroll-Wada) for
leptons and fermion mCPs, sin^2 for scalar mCPs (docs/physics.md section 2); the
unpolarised vector mesons decay isotropically.  Everything here works in the
centre-of-mass frame; the callers boost to the lab.
"""

from __future__ import annotations

import numpy as np

from ..errors import GammastarError
from ..physics.angular import transverse_cos_theta
from ..physics.formulas import pair_density, sqrt_s_fixed_target
from ..physics.kinematics import boost, from_pt_y_phi, isotropic_directions, rotate_from_axis, two_body_momentum
from ..physics.pdg import mass, width
from .cocktail import MockConfig
from .sources import Source

__all__ = ["sample_pair_mass", "sample_mt", "gamma_stars", "decay_gamma_star", "cm_rapidity", "to_cm",
           "generate_source"]


def sample_pair_mass(
    src: Source, n: int, rng: np.random.Generator, m_f: float, spin: str = "fermion", m_min: float = 0.0
) -> np.ndarray:
    """Pair masses from N_V(m) (2 alpha/(3 pi m)) R_f(m) above max(2 m_f, m_min): dileptons, or mCP pairs."""
    lo, hi = max(2.0 * m_f, m_min), src.m_hi
    if lo >= hi:
        raise GammastarError(f"source {src.name} cannot make pairs of mass-{m_f:.4g} GeV particles")
    grid = lo + (hi - lo) * np.linspace(0, 1, 200_001) ** 2  # dense near threshold
    if src.resonances:
        grid = np.union1d(grid, np.clip(src.resonances[0] + width(src.parent) * np.linspace(-30, 30, 20_001), lo, hi))
    dens = pair_density(src.n_v(grid), grid, m_f, spin)
    cdf = np.concatenate([[0.0], np.cumsum(0.5 * (dens[1:] + dens[:-1]) * np.diff(grid))])
    return np.interp(rng.uniform(0.0, cdf[-1], n), cdf, grid)


def sample_mt(m: np.ndarray, temperature: float, rng: np.random.Generator) -> np.ndarray:
    """m_T from m_T exp(-m_T/T) on [m, inf): a mixture of Exp(T) and Gamma(2, T) above m."""
    exp_part = rng.uniform(size=m.size) < m / (m + temperature)
    x = np.where(exp_part, rng.exponential(temperature, m.size), rng.gamma(2.0, temperature, m.size))
    return m + x


def decay_gamma_star(
    vstar: np.ndarray, m: np.ndarray, m_f: float, axis: np.ndarray | None, rng: np.random.Generator,
    spin: str = "fermion",
) -> tuple[np.ndarray, np.ndarray]:
    """gamma*(m) with four-momentum ``vstar`` -> f fbar (positive first).

    With ``axis`` (unit vectors, the gamma* flight direction in the frame that
    defines its polarisation) the law is the transverse one of ``spin``
    about it; without (an unpolarised vector), isotropic for either spin.
    """
    n = m.size
    k = np.sqrt(np.clip(m**2 / 4.0 - m_f**2, 0.0, None))
    if axis is None:
        d = isotropic_directions(n, rng)
    else:
        d = rotate_from_axis(axis, transverse_cos_theta(m, m_f, spin, rng), rng.uniform(0.0, 2.0 * np.pi, n))
    e = np.sqrt(k**2 + m_f**2)
    beta = vstar[:, :3] / vstar[:, 3:4]
    return boost(np.column_stack([k[:, None] * d, e]), beta), boost(np.column_stack([-k[:, None] * d, e]), beta)


def gamma_stars(
    src: Source, m: np.ndarray, cfg: MockConfig, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray | None, np.ndarray | None]:
    """gamma*(m) of one source, centre-of-mass frame.

    Returns ``(vstar, axis, parent)``: the gamma* four-momenta in the frame
    where its decay law is defined (the parent rest frame for Dalitz decays,
    else the centre-of-mass frame), its polarisation axis there (None:
    unpolarised), and the parent four-momenta that boost that frame to the
    centre of mass (None: already there).
    """
    n = m.size
    m_parent = m if src.kind in ("vector_ll", "continuum") else np.full(n, mass(src.parent))
    mt = sample_mt(m_parent, cfg.temperature, rng)
    pt = np.sqrt(mt**2 - m_parent**2)
    parent = from_pt_y_phi(pt, cm_rapidity(mt, cfg, rng), rng.uniform(0, 2 * np.pi, n), m_parent)
    if src.kind == "vector_ll":
        return parent, None, None
    if src.kind == "continuum":
        return parent, parent[:, :3] / np.linalg.norm(parent[:, :3], axis=1)[:, None], None
    # Dalitz: parent -> gamma*(m) + recoil, isotropic in the parent frame.
    q = two_body_momentum(m_parent, m, src.recoil_mass)
    axis = isotropic_directions(n, rng)
    return np.column_stack([q[:, None] * axis, np.sqrt(q**2 + m**2)]), axis, parent


def cm_rapidity(mt: np.ndarray, cfg: MockConfig, rng: np.random.Generator) -> np.ndarray:
    """Centre-of-mass rapidities, Gaussian of width ``sigma_y``, redrawn beyond |y| = arccosh(sqrt(s) / (2 m_T))."""
    y_max = np.arccosh(np.maximum(0.5 * float(sqrt_s_fixed_target(cfg.beam_energy)) / mt, 1.0))
    y = rng.normal(0.0, cfg.sigma_y, mt.size)
    bad = np.flatnonzero(np.abs(y) > y_max)
    while bad.size:
        y[bad] = rng.normal(0.0, cfg.sigma_y, bad.size)
        bad = bad[np.abs(y[bad]) > y_max[bad]]
    return y


def to_cm(p4: np.ndarray, parent: np.ndarray | None) -> np.ndarray:
    """Four-momenta from the parent's rest frame to the centre-of-mass frame (unchanged without a parent)."""
    return p4 if parent is None else boost(p4, parent[:, :3] / parent[:, 3:4])


def generate_source(
    src: Source, n: int, cfg: MockConfig, rng: np.random.Generator, m_f: float | None = None, spin: str = "fermion"
) -> tuple[np.ndarray, np.ndarray]:
    """n pairs of one source in the centre-of-mass frame: leptons, or mCPs of mass ``m_f``."""
    m_f = mass(cfg.lepton) if m_f is None else m_f
    m = sample_pair_mass(src, n, rng, m_f, spin)
    vstar, axis, parent = gamma_stars(src, m, cfg, rng)
    a, b = decay_gamma_star(vstar, m, m_f, axis, rng, spin)
    return to_cm(a, parent), to_cm(b, parent)
