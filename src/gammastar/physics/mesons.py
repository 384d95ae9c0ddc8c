"""Model-based A' production from meson decays: multiplicities x direct decay formulas.

A dark photon of mass m comes, per collision and per eps^2, from the Dalitz-like decays of the light mesons
(docs/physics.md section 3)::

    N_A'(m) = sum_P N_P 2 BR(P -> gamma gamma) (1 - m^2/M_P^2)^3 |F_P(m^2)|^2           P = pi0, eta, eta'
            + sum_V N_V BR(V -> P gamma) [lambda^(1/2)(M_V^2, M_P^2, m^2)/(M_V^2 - M_P^2)]^3 |F_V(m^2)|^2
                                                                                      omega -> pi0, phi -> eta

The data-driven yield needs none of the hadronic inputs; this one needs two, and they are what a model-based
prediction is uncertain by: the multiplicities N_P, N_V and the transition form factors |F|^2.  Named sets:

multiplicities (``MULTIPLICITIES``), p-p at 400 GeV:
    ``na27``     NA27 (LEBC-EHS, Z. Phys. C 50 (1991) 405): pi0 3.87, eta 0.30, omega 0.39, phi 0.019, and
                 eta' = 0.12 omega, an assumption (NA27 did not measure it), as in the built-in mock;
    ``pythia8``  Pythia 8's own per inelastic collision at 400 GeV, measured for the Pythia8 cross-check (docs/closure.md)
                 (bench/pythia_crosscheck.py): pi0 5.1, eta 0.58, eta' 0.061, omega 0.66, phi 0.023.
form factors (``FORM_FACTORS``):
    ``pointlike``  |F|^2 = 1;
    ``vmd``        one rho pole for every channel, |F|^2 = 1/(1 - m^2/m_rho^2)^2; for the eta', whose range
                   crosses the pole, width-regularised with Gamma_rho (as Pythia 8 does);
    ``na60``       the measured poles: eta 1.934 and omega 2.223 GeV^-2 (NA60, PLB 757 (2016) 437); pi0 the
                   PDG linear slope 0.032; eta' 1.7 GeV^-2 regularised with G = 0.10 GeV and phi a pole at
                   m_phi (vector dominance), both unmeasured at this precision: the built-in mock's set.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import numpy as np

from . import formfactors as ff
from .formulas import br_pseudoscalar_to_gamma_aprime, br_vector_to_pseudoscalar_aprime, pair_density
from .pdg import BR, mass, width

__all__ = ["CHANNELS", "MULTIPLICITIES", "FORM_FACTORS", "form_factor", "channel_n_v", "channel_end", "meson_aprime",
           "chi_pairs", "meson_chi_pairs"]

#: parent -> (recoil, BR key of the radiative decay): P -> gamma A' and V -> P A'
CHANNELS: dict[str, tuple[str, str]] = {
    "pi0": ("gamma", "pi0->gg"),
    "eta": ("gamma", "eta->gg"),
    "etap": ("gamma", "etap->gg"),
    "omega": ("pi0", "omega->pi0g"),
    "phi": ("eta", "phi->etag"),
}

#: parents per collision, p-p at 400 GeV (see the module docstring)
MULTIPLICITIES: dict[str, dict[str, float]] = {
    "na27": {"pi0": 3.87, "eta": 0.30, "etap": 0.12 * 0.39, "omega": 0.39, "phi": 0.019},
    "pythia8": {"pi0": 5.1, "eta": 0.58, "etap": 0.061, "omega": 0.66, "phi": 0.023},
}

FORM_FACTORS = ("pointlike", "vmd", "na60")

FF2 = Callable[[Any], np.ndarray]


def form_factor(name: str, parent: str) -> FF2:
    """|F(m^2)|^2 of ``parent``'s channel in the named set."""
    if name == "pointlike":
        return lambda m: np.ones_like(np.asarray(m, dtype=float))
    if name == "vmd":
        if parent == "etap":
            return lambda m: ff.regularised_pole_ff2(m, 1.0 / mass("rho") ** 2, width("rho"))
        return lambda m: ff.pole_ff2(m, 1.0 / mass("rho") ** 2)
    if name == "na60":
        return {
            "pi0": lambda m: ff.linear_ff2(m, ff.PI0_SLOPE, mass("pi0")),
            "eta": lambda m: ff.pole_ff2(m, ff.NA60_INV_LAMBDA2_ETA),
            "etap": lambda m: ff.regularised_pole_ff2(m, 1.7, 0.10),
            "omega": lambda m: ff.pole_ff2(m, ff.NA60_INV_LAMBDA2_OMEGA),
            "phi": lambda m: ff.pole_ff2(m, 1.0 / mass("phi") ** 2),
        }[parent]
    raise ValueError(f"unknown form factors {name!r}; choose from {', '.join(FORM_FACTORS)}")


def channel_end(parent: str) -> float:
    """The highest A' mass ``parent``'s channel makes: M_P, or M_V - M_P."""
    recoil = CHANNELS[parent][0]
    return mass(parent) - (0.0 if recoil == "gamma" else mass(recoil))


def channel_n_v(parent: str, multiplicity: float, ff2: FF2) -> Callable[[Any], np.ndarray]:
    """N_V(m) of one channel: A' per collision per eps^2 at mass m (zero where the channel is closed)."""
    recoil, br_key = CHANNELS[parent]
    end = channel_end(parent)

    def n_v(m: Any) -> np.ndarray:
        m = np.asarray(m, dtype=float)
        inside = (m > 0) & (m < end)
        ms = np.where(inside, m, 0.0)
        if recoil == "gamma":
            val = br_pseudoscalar_to_gamma_aprime(ms, mass(parent), BR[br_key], ff2(ms))
        else:
            val = br_vector_to_pseudoscalar_aprime(ms, mass(parent), mass(recoil), BR[br_key], ff2(ms))
        return multiplicity * np.where(inside, val, 0.0)

    return n_v


def meson_aprime(masses: Any, multiplicity: Mapping[str, float], form_factors: str) -> np.ndarray:
    """A' per collision per eps^2 at ``masses`` from the meson decays, summed over the channels open there."""
    masses = np.asarray(masses, dtype=float)
    return sum((channel_n_v(p, float(n), form_factor(form_factors, p))(masses) for p, n in multiplicity.items()),
               np.zeros(masses.shape))


def chi_pairs(n_v: Callable[[Any], np.ndarray], m_hi: float, m_chi: Any, spin: str = "fermion", m_min: float = 0.0
              ) -> np.ndarray:
    """chi-chibar pairs per collision per eps^2 from a source's N_V(m) below ``m_hi``.

    Integrates N_V(m) (2 alpha / (3 pi m)) R_chi(m) over m > max(2 m_chi, m_min)
    with a vectorised Simpson rule in s, m = lo + (hi - lo) s^2, which makes
    the sqrt(m - 2 m_chi) threshold smooth; 8001 nodes resolve the phi's
    4 MeV width with ~17 nodes (1e-5 agreement with adaptive quadrature, tested).
    """
    from scipy import integrate

    m_chi = np.atleast_1d(np.asarray(m_chi, dtype=float))
    s = np.linspace(0.0, 1.0, 8_001)
    lo = np.maximum(2.0 * m_chi, m_min)[:, None]
    span = np.clip(m_hi - lo, 0.0, None)
    m = lo + span * s**2
    ms = np.where(m > 0, m, 1.0)
    return np.asarray(integrate.simpson(pair_density(n_v(ms), ms, m_chi[:, None], spin) * 2.0 * s * span, x=s, axis=1))


def meson_chi_pairs(m_chi: Any, multiplicity: Mapping[str, float], form_factors: str, spin: str = "fermion",
                    m_min: float = 0.0) -> np.ndarray:
    """chi-chibar pairs per collision per eps^2 from the meson Dalitz channels, pair masses above
    max(2 m_chi, ``m_min``)."""
    m_chi = np.atleast_1d(np.asarray(m_chi, dtype=float))
    return sum((chi_pairs(channel_n_v(p, float(n), form_factor(form_factors, p)), channel_end(p), m_chi, spin, m_min)
                for p, n in multiplicity.items()), np.zeros(m_chi.shape))
