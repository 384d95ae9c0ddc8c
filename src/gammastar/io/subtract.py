"""Pairs that are not gamma* out of the sample: ``--subtract FILE [--subtract-n-collisions N]``.

The method takes every opposite-sign pair as a gamma*.  Some sources make
lepton pairs without one: the two-body decay eta -> l+ l- (C-even, it has no
A' analogue), open charm (D Dbar -> l+ l- X) above ~1 GeV, photon
conversions for electrons, the Z at collider energies.  Left in, they bias
N_V where they sit: eta -> mu mu, a narrow peak at m_eta, adds +34% / +68% /
+136% to N_V(m_eta) at 20 / 10 / 5 MeV mass resolution on the mock cocktail.
Like-sign subtraction does not remove them (the two leptons are correlated).

A simulation of such a source, in any input format, is subtracted: its pairs
join the sample with weights -w_i N_data / N_sim, where N_data and N_sim are
the collisions the data and the simulation stand for, so every mass bin (and
every kinematic distribution, for training) loses what the source puts there.
The simulation should include the detector's resolution and acceptance as the
data do.  Its statistical error enters the yields' errors through the squared
weights.
"""

from __future__ import annotations

import dataclasses
import warnings
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..errors import GammastarError
from ..physics.beams import Beam
from ..physics.pdg import mass
from ..samples import EventSample, check_n_collisions
from .pairs import read_dileptons

__all__ = ["Subtraction", "subtractions", "subtracted", "subtraction_chunks", "KNOWN_PEAKS", "GAMMA_STAR_ONLY_KEY",
           "warn_known_peaks"]

#: metadata of samples known to hold gamma* pairs only (the mock): no warning about non-gamma* peaks
GAMMA_STAR_ONLY_KEY = "gammastar.gamma_star_only"

#: non-gamma* pair sources with a peak: name -> (mass in GeV, half-width of the region it biases in GeV)
KNOWN_PEAKS = {"eta -> l+ l-": (mass("eta"), 0.03), "Z -> l+ l-": (91.1876, 15.0)}


@dataclass(frozen=True)
class Subtraction:
    """A simulated non-gamma* source and the collisions it stands for (None: from its file's metadata)."""

    path: Path
    n_collisions: float | None = None


def subtractions(subtract: Iterable[str | Path | tuple[str | Path, float | None] | Subtraction],
                 subtract_n_collisions: Sequence[float] = ()) -> list[Subtraction]:
    """The ``subtract`` files with their ``subtract_n_collisions`` (one per file, in order, or none)."""
    subs = [p if isinstance(p, Subtraction) else Subtraction(Path(p[0]), p[1]) if isinstance(p, tuple)
            else Subtraction(Path(p)) for p in subtract]
    if subtract_n_collisions:
        if len(subtract_n_collisions) != len(subs):
            raise GammastarError(f"{len(subtract_n_collisions)} `subtract_n_collisions` for {len(subs)} `subtract` files: "
                                 "give one per file, in the same order, or none (each file's metadata)")
        subs = [Subtraction(s.path, float(n)) for s, n in zip(subs, subtract_n_collisions, strict=True)]
    return subs


def _read(sub: Subtraction, lepton: str, n_data: float | None, beam: Beam | None) -> tuple[EventSample, float]:
    """The simulated pairs and the factor N_data / N_sim their weights take."""
    if n_data is None:
        raise GammastarError("`subtract` scales the simulation to the data's collisions: give the data's "
                             "`n_collisions` (or metadata gammastar.n_collisions)")
    sim = read_dileptons(sub.path, lepton=lepton, n_collisions=sub.n_collisions, beam=beam)
    if sim.n_collisions is None:
        raise GammastarError(f"{sub.path}: give the collisions the simulation stands for with `subtract_n_collisions` "
                             "(it has no gammastar.n_collisions metadata)")
    return sim, check_n_collisions(n_data) / sim.n_collisions


def subtracted(data: EventSample, subs: Sequence[Subtraction]) -> EventSample:
    """``data`` with every simulated source's pairs added at weights -w N_data / N_sim."""
    if not subs:
        return data
    pos, neg, weight = [data.pos], [data.neg], [data.weight]
    for sub in subs:
        sim, scale = _read(sub, data.lepton, data.n_collisions, data.beam)
        pos.append(sim.pos)
        neg.append(sim.neg)
        weight.append(-scale * sim.weight)
    meta = {**data.metadata, "gammastar.subtracted": ",".join(str(s.path) for s in subs)}
    below = None if data.below_floor is None else np.concatenate(
        [data.below_floor, np.zeros(sum(len(w) for w in weight[1:]), dtype=bool)])
    return dataclasses.replace(data, pos=np.concatenate(pos), neg=np.concatenate(neg), weight=np.concatenate(weight),
                               metadata=meta, subtracted=tuple(str(s.path) for s in subs), below_floor=below)


def subtraction_chunks(subs: Sequence[Subtraction], lepton: str, n_data: float | None, beam: Beam | None
                       ) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """(mass, weight) of every simulated source's pairs at -w N_data / N_sim, for a streamed spectrum."""
    for sub in subs:
        sim, scale = _read(sub, lepton, n_data, beam)
        yield sim.mass, -scale * sim.weight


def warn_known_peaks(masses: np.ndarray, reach: np.ndarray, data: object) -> None:
    """A warning for each known non-gamma* peak within ``reach`` (GeV) of a requested mass of ``data`` (a Sample),
    unless something was subtracted from it or it is known to hold gamma* pairs only."""
    if getattr(data, "subtracted", ()) or getattr(data, "metadata", {}).get(GAMMA_STAR_ONLY_KEY) == "true":
        return
    for name, (m_peak, half) in KNOWN_PEAKS.items():
        near = np.abs(masses - m_peak) <= np.maximum(half, np.nan_to_num(reach, nan=0.0))
        if near.any():
            warnings.warn(f"{int(near.sum())} mass(es) near m = {m_peak:.4g} GeV, where {name} pairs (not gamma*) "
                          "sit in the data: if they are in your sample, subtract a simulation of them with "
                          "`subtract=FILE`", stacklevel=3)
