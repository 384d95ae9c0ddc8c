"""HepMC3 ASCII (pyhepmc), units GeV and mm.

One event per A' or chi pair: a production vertex at the target (origin)
with the beam and target protons as incoming particles (status 4) and the A'
(status 1, or 2 when its decay is written) or chi, chibar (status 1) as
outgoing.  Detector-level A' (``--experiment``): a second vertex at the decay
point (x, y, z, c t in mm, the event's length unit) holds the daughters of
the channel drawn (status 1; pi0 and K_S left undecayed for the simulation).
With ``--decay`` alone the A' -> l+ l- vertex is at the origin: apply the
decay length for your eps in the simulation.  chi at an mCP detector
(``generate mcp --experiment``) carry where they cross its plane as particle
attributes ``x_m`` and ``y_m`` (metres; absent for a chi that misses).  The event weight is the
event's weight.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

from .base import Chunk, EventInfo, EventSink, decay_vertex_mm, particles

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
        # Python lists once per chunk: indexing them is several times cheaper than numpy scalars per particle
        parts = [(pid.tolist(), status, parent, mom.tolist(), m.tolist())
                 for pid, status, parent, mom, m in particles(chunk, self.info)]
        vertex = decay_vertex_mm(chunk)
        where = vertex.tolist() if vertex is not None else None
        # chi at an mCP detector: where each crosses its plane, as particle attributes x_m, y_m (none if it misses)
        crossing = ([(chunk[f"x_{leg}_m"].tolist(), chunk[f"y_{leg}_m"].tolist()) for leg in ("pos", "neg")]
                    if "x_pos_m" in chunk else None)
        for i, w in enumerate(chunk["weight"].tolist()):
            ev = hep.GenEvent(hep.Units.GEV, hep.Units.MM)
            ev.run_info = self.run
            ev.event_number = self.count
            ev.weights = [w]
            vtx = hep.GenVertex((0.0, 0.0, 0.0, 0.0))
            for b in self.beams:
                vtx.add_particle_in(hep.GenParticle(b, 2212, 4))
            ev.add_vertex(vtx)
            made: list[Any] = []
            decay: Any = None
            for pid, status, parent, mom, m in parts:
                if not pid[i]:  # a slot this event's decay does not fill
                    continue
                p = hep.GenParticle(mom[i], pid[i], status)
                p.generated_mass = m[i]
                if parent < 0:
                    vtx.add_particle_out(p)
                else:  # every daughter's parent is the A' (the first particle)
                    if decay is None:
                        decay = hep.GenVertex(where[i] if where is not None else (0.0, 0.0, 0.0, 0.0))
                        decay.add_particle_in(made[parent])
                        ev.add_vertex(decay)
                    decay.add_particle_out(p)
                if crossing is not None and not math.isnan(crossing[len(made)][0][i]):  # NaN: this chi misses
                    p.attributes["x_m"], p.attributes["y_m"] = crossing[len(made)][0][i], crossing[len(made)][1][i]
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
