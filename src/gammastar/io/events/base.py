"""What every event writer shares: what the events are, how they arrive, and their particles.

Events arrive as an :class:`EventStream`: chunks (dicts of numpy columns,
``px, py, pz, e, weight`` for A', ``px_pos ... e_neg, weight`` for chi-chibar,
plus ``*_pos``/``*_neg`` daughters for decayed A') with an :class:`EventInfo`
and metadata.  A format is one :class:`EventSink` subclass in a module of its
own, listed once in :data:`gammastar.io.events.EVENT_FORMATS`.

Particle codes in HepMC3 and LHE (override with ``aprime_id``/``chi_id``):

* A': 4900022, the dark photon (``gamma_v``) of Pythia 8's Hidden Valley, used by its dark-photon setups;
* chi: 9000001 (chibar -9000001), a code from the PDG range reserved for new
  particles, chosen here because no standard code exists for a millicharged
  particle; leptons: e+- 11, mu+- 13 with the PDG signs.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

import numpy as np

from ...physics.beams import Beam
from ...physics.pdg import mass, pdgid_mass

__all__ = ["APRIME_ID", "CHI_ID", "C_M_PER_NS", "EventInfo", "EventStream", "EventSink", "particles", "decay_vertex_mm",
           "proper_decay_length_mm", "pdg_masses", "p4_columns", "concat_chunks"]

APRIME_ID = 4900022
CHI_ID = 9000001
LEPTON_ID = {"e": 11, "mu": 13}
#: speed of light, m/ns (decay times are in ns)
C_M_PER_NS = 0.299792458

Chunk = dict[str, np.ndarray]


@dataclass(frozen=True)
class EventInfo:
    """What the events are, for the formats that need particle codes and beams."""

    kind: str  # "aprime" or "mcp"
    mass: float  # A' mass or m_chi, GeV
    lepton: str = "mu"  # A' decay products, when the chunks carry them
    beam: Beam = Beam()
    aprime_id: int = APRIME_ID
    chi_id: int = CHI_ID


@dataclass
class EventStream:
    """Events to write: ``n`` of them in ``chunks``, what they are, and metadata (JSON-able values).

    ``chunks`` is consumed once, by the writer.  ``tasks``, when given, make
    the same chunks one each, independently (so the writer may make several
    at once, in threads).
    """

    info: EventInfo
    n: int
    chunks: Iterable[Chunk]
    metadata: dict[str, Any] = field(default_factory=dict)
    tasks: Sequence[Callable[[], Chunk]] | None = None


class EventSink(ABC):
    """A file being written in one format: ``write`` each chunk, then ``close``."""

    format: ClassVar[str]
    suffixes: ClassVar[tuple[str, ...]]
    #: the metadata go to a sidecar NAME.meta.json (:mod:`gammastar.io.sidecar`): the format has no place for them
    sidecar: ClassVar[bool] = False

    @abstractmethod
    def __init__(self, path: Path, info: EventInfo, meta: dict[str, str]) -> None:
        """Open ``path``; ``meta`` holds ``gammastar.*`` keys with string values."""

    @abstractmethod
    def write(self, chunk: Chunk) -> None:
        """Append the events of one chunk."""

    @abstractmethod
    def close(self) -> None:
        """Finish the file."""


def p4(chunk: Chunk, suffix: str = "") -> np.ndarray:
    """(N, 4) four-momenta of the columns ``px{suffix}, py{suffix}, pz{suffix}, e{suffix}``."""
    return np.column_stack([chunk[f"{c}{suffix}"] for c in ("px", "py", "pz", "e")])


def p4_columns(p4: np.ndarray, suffix: str = "") -> Chunk:
    """The columns ``px{suffix}, py{suffix}, pz{suffix}, e{suffix}`` of (N, 4) four-momenta, each contiguous (the
    inverse of :func:`p4`)."""
    return {f"{c}{suffix}": np.ascontiguousarray(p4[:, i]) for i, c in enumerate(("px", "py", "pz", "e"))}


def concat_chunks(chunks: Iterable[Chunk]) -> Chunk:
    """One chunk of the columns of ``chunks``, concatenated."""
    parts = list(chunks)
    return {k: np.concatenate([p[k] for p in parts]) for k in parts[0]}


#: (PDG code, per event (N,); status; index of the parent in the list or -1; four-momenta (N, 4); masses (N,)).
#: A code 0 marks an event without this particle (a decay with fewer daughters than the slots).
Particle = tuple[np.ndarray, int, int, np.ndarray, np.ndarray]


def particles(chunk: Chunk, info: EventInfo) -> list[Particle]:
    """The particles of every event of ``chunk``, as arrays over the events."""
    n = len(chunk["weight"])
    if info.kind == "aprime":
        daughters = "pid_d1" in chunk  # detector-level: the decay's channel, its daughters and where it decays
        decayed = daughters or "px_pos" in chunk
        out: list[Particle] = [(np.full(n, info.aprime_id), 2 if decayed else 1, -1, p4(chunk), np.full(n, info.mass))]
        if daughters:
            slot = 1
            while f"pid_d{slot}" in chunk:
                pid = chunk[f"pid_d{slot}"]
                out.append((pid, 1, 0, p4(chunk, f"_d{slot}"), pdg_masses(pid)))
                slot += 1
        elif decayed:
            lid, m_l = LEPTON_ID[info.lepton], mass(info.lepton)
            out += [(np.full(n, -lid), 1, 0, p4(chunk, "_pos"), np.full(n, m_l)),
                    (np.full(n, lid), 1, 0, p4(chunk, "_neg"), np.full(n, m_l))]
        return out
    return [(np.full(n, info.chi_id), 1, -1, p4(chunk, "_pos"), np.full(n, info.mass)),
            (np.full(n, -info.chi_id), 1, -1, p4(chunk, "_neg"), np.full(n, info.mass))]


def decay_vertex_mm(chunk: Chunk) -> np.ndarray | None:
    """(N, 4) positions (x, y, z, c t) in mm of the A' decays of a detector-level chunk (None for others)."""
    if "vz_m" not in chunk:
        return None
    return np.column_stack([chunk["vx_m"] * 1e3, chunk["vy_m"] * 1e3, chunk["vz_m"] * 1e3,
                            chunk["vt_ns"] * (C_M_PER_NS * 1e3)])


def proper_decay_length_mm(chunk: Chunk, m: float) -> np.ndarray | None:
    """c tau of each A' of a detector-level chunk, mm: its flight to the decay point in its own rest frame
    (|r| m / |p| = z m / p_z), from which a reader (Pythia 8 with LHE) puts the decay where gammastar did."""
    if "vz_m" not in chunk:
        return None
    return chunk["vz_m"] * 1e3 * m / chunk["pz"]


def pdg_masses(pid: np.ndarray) -> np.ndarray:
    """PDG masses (GeV) of the particles of codes ``pid`` (0 for the code 0)."""
    out = np.zeros(len(pid))
    for code in np.unique(pid):
        if code:
            out[pid == code] = pdgid_mass(int(code))
    return out
