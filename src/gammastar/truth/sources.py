"""What every truth generator shares: a source's N_V(m), and the direct A' and mCP yields it implies.

A source (a meson Dalitz decay, a vector meson, a continuum) is described by
its N_V(m): the number of unit-coupling vectors V of mass m it makes per
collision, which *is* its direct dark-photon yield per eps^2 (docs/physics.md
section 3).  Its lepton pairs follow dN_ll/dm = N_V(m) phi_l(m), its mCP pairs
dN/dm = N_V(m) phi_chi(m) (:func:`gammastar.physics.formulas.pair_density`).
The built-in cocktail (:mod:`.cocktail`) and the Pythia8 backend
(:mod:`.pythia`) both describe their sources this way and build their truth
records with :func:`yield_truth`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..errors import GammastarError
from ..physics.mesons import chi_pairs
from ..physics.pdg import mass
from ..samples import check_lepton

__all__ = ["Source", "mcp_yield_of_sources", "yield_truth", "check_lepton_and_count"]


@dataclass(frozen=True)
class Source:
    """One source of virtual photons: its N_V(m) per collision and how its pairs are made."""

    name: str
    kind: str  # "dalitz_p", "dalitz_v", "vector_ll", "continuum"
    parent: str
    recoil: str | None  # the Dalitz partner: "gamma", "pi0", "eta"
    n_v: Callable[[Any], np.ndarray]  # N_V(m) for masses m (float or array, GeV)
    m_hi: float  # highest pair mass
    multiplicity: float = float("nan")  # parents per collision, where the source has one

    @property
    def recoil_mass(self) -> float:
        return 0.0 if self.recoil in (None, "gamma") else mass(self.recoil)

    @property
    def resonances(self) -> list[float]:
        return [mass(self.parent)] if self.kind == "vector_ll" else []


def mcp_yield_of_sources(sources: list[Source], m_chi: Any, spin: str = "fermion", m_min: float = 0.0) -> np.ndarray:
    """chi-chibar pairs per collision per eps^2 from the N_V(m) of ``sources`` (any generator's): the sum of
    :func:`gammastar.physics.mesons.chi_pairs` over them."""
    m_chi = np.atleast_1d(np.asarray(m_chi, dtype=float))
    return sum((chi_pairs(src.n_v, src.m_hi, m_chi, spin, m_min) for src in sources), np.zeros(m_chi.size))


def yield_truth(sources: dict[str, Source], lepton: str) -> dict[str, Any]:
    """The ``aprime`` and ``mcp`` parts of a truth record: direct yields of ``sources`` on standard grids."""
    m_l = mass(lepton)
    masses = np.round(np.linspace(0.22 if lepton == "mu" else 0.01, 1.5, 256), 6)
    m_chi = np.round(np.linspace(0.01, 0.45, 45), 6)
    srcs = list(sources.values())
    dalitz = [src for src in srcs if src.kind.startswith("dalitz")]
    out: dict[str, Any] = {
        "aprime": {
            "mass": masses.tolist(),
            "n_per_eps2": sum(src.n_v(masses) for src in srcs).tolist(),  # type: ignore[union-attr]
            "by_source": {name: src.n_v(masses).tolist() for name, src in sources.items()},
        },
        "mcp": {"m_chi": m_chi.tolist(), "m_min": 2.0 * m_l},
    }
    for spin in ("fermion", "scalar"):
        out["mcp"][spin] = {
            "n_pairs_per_eps2_visible": mcp_yield_of_sources(srcs, m_chi, spin, 2.0 * m_l).tolist(),
            "n_pairs_per_eps2_total": mcp_yield_of_sources(srcs, m_chi, spin).tolist(),
            "n_pairs_per_eps2_visible_dalitz": (
                mcp_yield_of_sources(dalitz, m_chi, spin, 2.0 * m_l).tolist() if dalitz else None
            ),
        }
    return out


def check_lepton_and_count(lepton: str, n_events: int) -> None:
    """The checks every sample generator makes of its lepton flavour and pair count."""
    check_lepton(lepton)
    if n_events < 1:
        raise GammastarError(f"n_events must be at least 1, not {n_events}")
