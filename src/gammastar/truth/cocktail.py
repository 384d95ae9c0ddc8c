"""Built-in NA60-like p-A low-mass dilepton cocktail at SPS energy, with its truth.

Sources (per collision, p-p multiplicities at 400 GeV/c from NA27, LEBC-EHS,
M. Aguilar-Benitez et al., Z. Phys. C 50 (1991) 405, used as a stand-in for
p-A per-collision yields; eta' was not measured there and is set to
eta'/omega = 0.12, an assumption of this mock that only sets how many eta'
Dalitz pairs it makes; <pi0> = 3.87 from the same paper):

==========  =====================  ==============================================
name        process                form factor |F|^2
==========  =====================  ==============================================
pi0         pi0 -> gamma e e       linear, slope a = 0.032 (PDG); electrons only
eta         eta -> gamma l l       pole, Lambda^-2 = 1.934 GeV^-2 (NA60 2016)
etap        eta' -> gamma l l      width-regularised pole, 1.7 GeV^-2, G = 0.10
omega       omega -> pi0 l l       pole, Lambda^-2 = 2.223 GeV^-2 (NA60 2016)
phi         phi -> eta l l         pole at Lambda = m_phi (vector dominance)
rho_ll      rho -> l l             P-wave Breit-Wigner x exp(-(m - M)/0.17 GeV)
omega_ll    omega -> l l           relativistic Breit-Wigner
phi_ll      phi -> l l             relativistic Breit-Wigner
continuum   smooth gamma* -> l l   N_V ~ exp(-m / 0.25 GeV), 1.5e-5 mu mu pairs
==========  =====================  ==============================================

Every source is described by its N_V(m) (:class:`~.sources.Source`): the
number of unit-coupling vectors V of mass m it makes per collision, which
*is* the direct dark-photon yield per eps^2 (docs/physics.md section 3).  Its pairs
follow dN_ll/dm = N_V(m) phi_l(m).  For the Dalitz decays N_V is the direct
formula BR(P -> gamma A') etc.; the two-body vector decays are normalised to
the PDG BR(V -> mu mu), so the electron cocktail follows from the same N_V.

This module holds the sources, their settings (:class:`MockConfig`) and the
direct yields; the kinematics of the events are in :mod:`.production`, the
event generator in :mod:`.mock`, events straight from meson decays (the truth
the flow is checked against) in :mod:`.direct`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from typing import Any

import numpy as np
from scipy import integrate

from ..errors import GammastarError
from ..physics.formulas import phi_l
from ..physics.mesons import MULTIPLICITIES, channel_end, channel_n_v, form_factor
from ..physics.pdg import BR, mass, width
from .sources import Source, check_lepton_and_count, mcp_yield_of_sources

__all__ = [
    "SOURCES",
    "DALITZ",
    "MULTIPLICITY",
    "MockConfig",
    "check_config",
    "cocktail_sources",
    "parse_sources",
    "direct_aprime_yield",
    "direct_mcp_yield",
    "dilepton_yield",
]

#: NA27 p-p multiplicities at 400 GeV/c (Z. Phys. C 50 (1991) 405); eta' see module docstring.
MULTIPLICITY = {**MULTIPLICITIES["na27"], "rho": 0.385}

M_UPPER = 2.0  # GeV, top of the generated mass range (continuum and resonance tails)
CONTINUUM_T = 0.25  # GeV
CONTINUUM_PAIRS_MUMU = 1.5e-5  # mu mu pairs per collision above 2 m_mu

# (pi0 last: a source's index is its source_id in files and seeds the source's random stream)
SOURCES = ("eta", "etap", "omega", "phi", "rho_ll", "omega_ll", "phi_ll", "continuum", "pi0")
DALITZ = ("pi0", "eta", "etap", "omega", "phi")

NV = Callable[[Any], np.ndarray]


def _dalitz(parent: str) -> NV:
    """The Dalitz channel's N_V: NA27's multiplicity, the measured (NA60) form factors (physics.mesons)."""
    return channel_n_v(parent, MULTIPLICITY[parent], form_factor("na60", parent))


def _breit_wigner(parent: str) -> NV:
    """Relativistic Breit-Wigner in m (unit-normalised shape before BR scaling)."""
    m0, g0 = mass(parent), width(parent)

    def shape(m: Any) -> np.ndarray:
        m = np.asarray(m, dtype=float)
        if parent == "rho":  # P-wave pi pi width, Gamma(m) = Gamma0 (M/m) (k/k0)^3
            mpi = mass("pi+")
            k = np.sqrt(np.clip(m**2 / 4 - mpi**2, 0.0, None))
            k0 = np.sqrt(m0**2 / 4 - mpi**2)
            g = g0 * (m0 / np.where(m > 0, m, 1.0)) * (k / k0) ** 3
        else:
            g = np.full_like(m, g0)
        return np.asarray(2.0 * m * m0 * g / np.pi / ((m**2 - m0**2) ** 2 + m0**2 * g**2))

    return shape


def _vector_ll(parent: str) -> NV:
    bw = _breit_wigner(parent)
    m0 = mass(parent)

    def shape(m: Any) -> np.ndarray:
        # The broad rho gets the Boltzmann factor of hadronic production
        # (T = 0.17 GeV), which keeps its P-wave tail from dominating above
        # 1 GeV; for the narrow omega and phi it would only distort the tails.
        if parent != "rho":
            return bw(m)
        return bw(m) * np.exp(-(np.asarray(m, dtype=float) - m0) / 0.17)

    lo = 2.0 * mass("mu")
    norm, _ = integrate.quad(lambda t: shape(t) * phi_l(t, mass("mu")), lo, M_UPPER, points=[mass(parent)], limit=400)
    c = MULTIPLICITY[parent] * BR[f"{parent}->mumu"] / norm

    def n_v(m: Any) -> np.ndarray:
        m = np.asarray(m, dtype=float)
        return np.where(m < M_UPPER, c * shape(m), 0.0)

    return n_v


def _continuum() -> NV:
    lo = 2.0 * mass("mu")
    norm, _ = integrate.quad(lambda t: np.exp(-t / CONTINUUM_T) * phi_l(t, mass("mu")), lo, M_UPPER, limit=200)
    c = CONTINUUM_PAIRS_MUMU / norm

    def n_v(m: Any) -> np.ndarray:
        m = np.asarray(m, dtype=float)
        return np.where(m < M_UPPER, c * np.exp(-m / CONTINUUM_T), 0.0)

    return n_v


def _source(name: str, kind: str, parent: str, recoil: str | None, n_v: NV, m_hi: float) -> Source:
    return Source(name, kind, parent, recoil, n_v, m_hi, MULTIPLICITY.get(parent, float("nan")))


@cache
def cocktail_sources() -> dict[str, Source]:
    """The cocktail's sources by name (built once: the line shapes' normalisations are integrals)."""
    return {
        "eta": _source("eta", "dalitz_p", "eta", "gamma", _dalitz("eta"), channel_end("eta")),
        "etap": _source("etap", "dalitz_p", "etap", "gamma", _dalitz("etap"), channel_end("etap")),
        "omega": _source("omega", "dalitz_v", "omega", "pi0", _dalitz("omega"), channel_end("omega")),
        "phi": _source("phi", "dalitz_v", "phi", "eta", _dalitz("phi"), channel_end("phi")),
        "rho_ll": _source("rho_ll", "vector_ll", "rho", None, _vector_ll("rho"), M_UPPER),
        "omega_ll": _source("omega_ll", "vector_ll", "omega", None, _vector_ll("omega"), M_UPPER),
        "phi_ll": _source("phi_ll", "vector_ll", "phi", None, _vector_ll("phi"), M_UPPER),
        "continuum": _source("continuum", "continuum", "continuum", None, _continuum(), M_UPPER),
        "pi0": _source("pi0", "dalitz_p", "pi0", "gamma", _dalitz("pi0"), channel_end("pi0")),
    }


def parse_sources(spec: str | list[str] | tuple[str, ...] | None) -> tuple[str, ...]:
    """Source names from ``"eta,etap"``, ``"dalitz"``, ``"all"`` or a list."""
    if spec is None:
        return SOURCES
    names = spec.split(",") if isinstance(spec, str) else list(spec)
    out: list[str] = []
    for name in (n.strip() for n in names):
        group = {"all": SOURCES, "dalitz": DALITZ}.get(name, (name,))
        for g in group:
            if g not in SOURCES:
                raise GammastarError(f"unknown source {g!r}; choose from {', '.join(SOURCES)}, dalitz, all")
            if g not in out:
                out.append(g)
    if not out:
        raise GammastarError("no sources selected")
    return tuple(out)


def direct_aprime_yield(masses: Any, sources: Any = SOURCES) -> np.ndarray:
    """Direct-formula A' yield per collision per eps^2, N_V(m), summed over ``sources``."""
    masses = np.asarray(masses, dtype=float)
    return sum(cocktail_sources()[s].n_v(masses) for s in parse_sources(sources))  # type: ignore[return-value]


def _integrate_source(src: Source, f: Callable[[float], Any], lo: float) -> float:
    hi = src.m_hi
    if lo >= hi:
        return 0.0
    pts = [p for p in src.resonances if lo < p < hi]
    val, _ = integrate.quad(lambda t: float(src.n_v(t) * f(t)), lo, hi, points=pts or None, limit=400, epsrel=1e-9)
    return float(val)


def dilepton_yield(lepton: str, sources: Any = SOURCES) -> dict[str, float]:
    """Pairs per collision, integrated dN_ll/dm = N_V phi_l, per source."""
    m_l = mass(lepton)
    return {s: _integrate_source(cocktail_sources()[s], lambda t: phi_l(t, m_l), 2.0 * m_l) for s in parse_sources(sources)}


def direct_mcp_yield(m_chi: Any, spin: str = "fermion", sources: Any = SOURCES, m_min: float = 0.0) -> np.ndarray:
    """Direct chi-chibar pairs per collision per eps^2 from ``sources``.

    Integrates N_V(m) (2 alpha / (3 pi m)) R_chi(m) over m > max(2 m_chi, m_min);
    pass ``m_min = 2 m_l`` for the part a dilepton sample can see.
    """
    return mcp_yield_of_sources([cocktail_sources()[s] for s in parse_sources(sources)], m_chi, spin, m_min)


@dataclass(frozen=True)
class MockConfig:
    """Settings of the built-in cocktail."""

    n_events: int = 1_000_000
    seed: int = 1
    lepton: str = "mu"
    beam_energy: float = 400.0
    sources: tuple[str, ...] = SOURCES
    temperature: float = 0.2
    sigma_y: float = 1.0


def check_config(cfg: MockConfig) -> MockConfig:
    """``cfg`` checked, with its sources parsed."""
    check_lepton_and_count(cfg.lepton, cfg.n_events)
    if not cfg.beam_energy > mass("p"):
        raise GammastarError(f"beam energy must exceed the proton mass, not {cfg.beam_energy}")
    # sources whose masses end below the pair threshold (pi0 for muons) make no pairs: left out
    threshold = 2.0 * mass(cfg.lepton)
    sources = tuple(s for s in parse_sources(cfg.sources) if cocktail_sources()[s].m_hi > threshold)
    if not sources:
        raise GammastarError(f"the source(s) {cfg.sources} make no {cfg.lepton} pairs (their masses end below "
                             f"2 m_{cfg.lepton} = {threshold:.4g} GeV)")
    return MockConfig(**{**cfg.__dict__, "sources": sources})
