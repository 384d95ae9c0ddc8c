"""The colliding beams: a proton beam on a fixed proton target, or a symmetric proton collider.

The beams fix three things downstream of the data:

* the Collins-Soper frame of every pair (it is built from the two incoming
  momenta, boosted to the pair rest frame);
* what the collisions can make at all: a pair of mass above sqrt(s), or with
  more energy than the collision has (E_beam + m_p on a fixed target, sqrt(s)
  in a collider's lab = centre-of-mass frame), is a mismeasurement or a sign
  that the beams were given wrongly;
* the incoming particles written to HepMC3 and LHE events.

A beam is written as text ``fixed-target:E`` or ``collider:SQRT_S`` (GeV) in
file metadata (``gammastar.beam``) and model files.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from ..errors import GammastarError
from .pdg import mass

__all__ = ["Beam", "DEFAULT_BEAM_ENERGY", "KINDS"]

#: the fixed-target beam energy assumed when nothing says otherwise (GeV; the CERN SPS)
DEFAULT_BEAM_ENERGY = 400.0
KINDS = ("fixed-target", "collider")


@dataclass(frozen=True)
class Beam:
    """``kind`` is ``fixed-target`` (``energy``: the beam's total energy, GeV, on a proton at rest) or
    ``collider`` (``energy``: sqrt(s), GeV, two equal proton beams along +-z)."""

    kind: str = "fixed-target"
    energy: float = DEFAULT_BEAM_ENERGY

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise GammastarError(f"unknown beam kind {self.kind!r}; use {' or '.join(KINDS)}")
        if not (math.isfinite(self.energy) and self.energy > 0):
            raise GammastarError(f"beam energy must be a positive number of GeV, not {self.energy}")
        m_p = mass("p")
        if self.kind == "fixed-target" and not self.energy > m_p:
            raise GammastarError(f"a fixed-target beam energy must exceed the proton mass, not {self.energy} GeV")
        if self.kind == "collider" and not self.energy > 2 * m_p:
            raise GammastarError(f"a collider's sqrt(s) must exceed two proton masses, not {self.energy} GeV")

    @classmethod
    def fixed_target(cls, e_beam: float) -> Beam:
        return cls("fixed-target", float(e_beam))

    @classmethod
    def collider(cls, sqrt_s: float) -> Beam:
        return cls("collider", float(sqrt_s))

    @classmethod
    def from_text(cls, text: str) -> Beam:
        """``fixed-target:400`` or ``collider:13000`` (a bare number is a fixed-target energy)."""
        kind, _, value = str(text).rpartition(":")
        try:
            return cls(kind or "fixed-target", float(value))
        except ValueError:
            raise GammastarError(f"beam {text!r}: use fixed-target:E_GEV or collider:SQRT_S_GEV") from None

    def to_text(self) -> str:
        return f"{self.kind}:{self.energy:.17g}"

    @property
    def sqrt_s(self) -> float:
        """Centre-of-mass energy, GeV (27.4 GeV for 400 GeV on a fixed target)."""
        if self.kind == "collider":
            return self.energy
        m_p = mass("p")
        return math.sqrt(2.0 * m_p**2 + 2.0 * m_p * self.energy)

    @property
    def max_energy(self) -> float:
        """The most lab energy a pair can carry: E_beam + m_p (fixed target) or sqrt(s) (collider)."""
        return self.energy + mass("p") if self.kind == "fixed-target" else self.energy

    def momenta(self) -> tuple[tuple[float, float, float, float], tuple[float, float, float, float]]:
        """Lab four-momenta (px, py, pz, E) of the beam (along +z) and the target or second beam."""
        m_p = mass("p")
        if self.kind == "fixed-target":
            return (0.0, 0.0, math.sqrt(self.energy**2 - m_p**2), self.energy), (0.0, 0.0, 0.0, m_p)
        e = self.energy / 2.0
        p = math.sqrt(e**2 - m_p**2)
        return (0.0, 0.0, p, e), (0.0, 0.0, -p, e)

    def beyond(self, mass_: np.ndarray, energy: np.ndarray) -> np.ndarray:
        """True for pairs these beams cannot make: mass above sqrt(s) or energy above :attr:`max_energy`."""
        return (np.asarray(mass_) > self.sqrt_s) | (np.asarray(energy) > self.max_energy)

    def describe(self) -> str:
        if self.kind == "collider":
            return f"pp collider, sqrt(s) = {_gev(self.sqrt_s)}"
        return f"p ({_gev(self.energy)}) on fixed target, sqrt(s) = {_gev(self.sqrt_s)}"


def _gev(x: float) -> str:
    return f"{x / 1000:.4g} TeV" if x >= 1000 else f"{x:.4g} GeV"
