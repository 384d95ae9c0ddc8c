"""HepMC3 ASCII (pyhepmc), units GeV and mm.

One event per A' or chi pair: a production vertex at the target (origin)
with the beam and target protons as incoming particles (status 4) and the A'
(status 1, or 2 when its decay is written) or chi, chibar (status 1) as
outgoing; with ``--decay`` a second vertex at the same point holds A' ->
l+ l- (status 1): the decay position is not moved, so apply the A' decay
length appropriate for your eps in the detector simulation.  The event
weight is the event's weight.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from .base import Chunk, EventInfo, EventSink, particles

__all__ = ["HepMC3Sink"]


class HepMC3Sink(EventSink):
    format = "hepmc3"
    suffixes = (".hepmc", ".hepmc3")

    def __init__(self, path: Path, info: EventInfo, meta: dict[str, str]) -> None:
        import pyhepmc as hep

        self.hep, self.info = hep, info
        self.writer = hep.io.WriterAscii(str(path))
        self.run = hep.GenRunInfo()
        self.run.weight_names = ["weight"]
        self.run.tools = [hep.GenRunInfo.ToolInfo("gammastar", meta.get("gammastar.version", ""), "data-driven A'/mCP")]
        self.beams = info.beam.momenta()
        self.count = 0

    def write(self, chunk: Chunk) -> None:
        hep = self.hep
        parts = particles(chunk, self.info)
        for i, w in enumerate(chunk["weight"]):
            ev = hep.GenEvent(hep.Units.GEV, hep.Units.MM)
            ev.run_info = self.run
            ev.event_number = self.count
            ev.weights = [float(w)]
            vtx = hep.GenVertex((0.0, 0.0, 0.0, 0.0))
            for b in self.beams:
                vtx.add_particle_in(hep.GenParticle(b, 2212, 4))
            ev.add_vertex(vtx)
            made: list[Any] = []
            for pid, status, parent, mom, m in parts:
                p = hep.GenParticle(tuple(mom[i]), int(pid), status)
                p.generated_mass = float(m[i])
                if parent < 0:
                    vtx.add_particle_out(p)
                else:
                    mother = made[parent]
                    if mother.end_vertex is None:
                        dv = hep.GenVertex((0.0, 0.0, 0.0, 0.0))
                        dv.add_particle_in(mother)
                        ev.add_vertex(dv)
                    mother.end_vertex.add_particle_out(p)
                made.append(p)
            self.writer.write(ev)
            self.count += 1
        self._check()

    def _check(self) -> None:
        # HepMC3's C++ stream does not raise: ask it, or a full disk would pass silently
        if self.writer.failed():
            raise OSError("the HepMC3 writer failed (disk full or file-size limit?)")

    def close(self) -> None:
        self.writer.close()
        self._check()
