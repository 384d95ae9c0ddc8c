"""Particle data used by gammastar.

Masses and widths come from the `particle` package (PDG tables); branching
ratios, which `particle` does not carry, are the PDG values of
``docs/physics.md`` section 5.  Everything is in GeV.
"""

from __future__ import annotations

from functools import cache
from typing import Literal, get_args

from particle import Particle

#: Fine-structure constant at q^2 = 0 (PDG).
ALPHA = 1.0 / 137.035999

#: hbar*c in GeV*m, for proper decay lengths.
HBARC_GEV_M = 1.9732698e-16

PDGID = {
    "e": 11,
    "mu": 13,
    "pi0": 111,
    "pi+": 211,
    "gamma": 22,
    "K+": 321,
    "K_S": 310,
    "K_L": 130,
    "eta": 221,
    "etap": 331,
    "rho": 113,
    "omega": 223,
    "phi": 333,
    "J/psi": 443,
    "psi(2S)": 100443,
    "Upsilon(1S)": 553,
    "Upsilon(2S)": 100553,
    "Upsilon(3S)": 200553,
    "p": 2212,
}


@cache
def mass(name: str) -> float:
    """PDG mass of ``name`` (a key of :data:`PDGID`) in GeV."""
    return _mev(Particle.from_pdgid(PDGID[name]).mass, name, "mass") / 1000.0


@cache
def pdgid_mass(code: int) -> float:
    """PDG mass in GeV of the particle (or antiparticle) of PDG code ``code`` (0 for one without a mass)."""
    value = Particle.from_pdgid(abs(int(code))).mass
    return 0.0 if value is None else float(value) / 1000.0


@cache
def width(name: str) -> float:
    """PDG total width of ``name`` in GeV."""
    return _mev(Particle.from_pdgid(PDGID[name]).width, name, "width") / 1000.0


def _mev(value: float | None, name: str, what: str) -> float:
    if value is None:  # every particle of PDGID has both in the PDG tables
        raise ValueError(f"the particle package has no {what} for {name}")
    return value


#: a lepton flavour, by its short name
Lepton = Literal["e", "mu"]
#: Lepton flavours gammastar knows
LEPTONS: tuple[Lepton, ...] = get_args(Lepton)

#: PDG branching ratios (docs/physics.md section 5).  Keys read "parent->products".
BR = {
    "pi0->gg": 0.98823,
    "pi0->gee": 0.01174,
    "eta->gg": 0.3936,
    "eta->gmumu": 3.1e-4,
    "eta->mumu": 5.8e-6,
    "etap->gg": 0.0231,
    "etap->gmumu": 1.09e-4,
    "omega->pi0g": 0.0835,
    "omega->pi0mumu": 1.34e-4,
    "omega->mumu": 7.4e-5,
    "omega->ee": 7.38e-5,
    "rho->mumu": 4.55e-5,
    "rho->ee": 4.72e-5,
    "phi->mumu": 2.86e-4,
    "phi->ee": 2.974e-4,
    "phi->etag": 0.01303,
    "phi->K+K-": 0.491,
    "phi->KSKL": 0.339,
}
