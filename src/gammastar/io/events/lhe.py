"""LHE 3.0 (pylhe), 16 significant digits.

The beam and target protons as incoming (status -1) particles and the same
outgoing particles as HepMC3 (A' status 1 or 2, daughters pointing to it);
the listed incoming momenta are the beams', the hadronic rest of the
collision is not written.  The metadata go into a comment after the opening
tag; XSECUP is the expected yield.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

from ...physics.pdg import mass
from .base import Chunk, EventInfo, EventSink, beam_momenta, particles

__all__ = ["LheSink"]


class LheSink(EventSink):
    format = "lhe"
    suffixes = (".lhe",)

    def __init__(self, path: Path, info: EventInfo, meta: dict[str, str]) -> None:
        import pylhe

        self.pylhe, self.info = pylhe, info
        # 16 significant digits: the four-momenta survive the text round trip to 1e-15
        digits = "{px: .16e} {py: .16e} {pz: .16e} {e: .16e} {m: .16e} {lifetime: .4e} {spin: .4e}"
        self.fmt = pylhe.LHEXMLFormat(particle="{id:8d} {status:3d} {mother1:3d} {mother2:3d} {color1:3d} {color2:3d} "
                                      + digits)
        self.f = open(path, "w")
        m_p = mass("p")
        init = pylhe.LHEInit(
            initInfo=pylhe.LHEInitInfo(2212, 2212, info.beam_energy, m_p, 0, 0, 0, 0, 3, 1),
            procInfo=[pylhe.LHEProcInfo(float(meta.get("gammastar.expected_yield", "0")), 0.0, 1.0, 1)],
            generators=[],
        )
        # JSON (ASCII, control characters escaped) with no "--", which would end an XML comment: any string round-trips
        comment = re.sub("-(?=-)", r"\\u002d", json.dumps(meta))
        self.f.write('<LesHouchesEvents version="3.0">\n')
        self.f.write(f"<!-- gammastar {comment} -->\n")
        self.f.write(init.tolhe(lheformat=self.fmt) + "\n")
        self.beams = [(*b, m) for b, m in zip(beam_momenta(info.beam_energy), (m_p, m_p), strict=True)]

    def write(self, chunk: Chunk) -> None:
        lhe = self.pylhe
        parts = particles(chunk, self.info)
        for i, w in enumerate(chunk["weight"]):
            plist = [lhe.LHEParticle(2212, -1, 0, 0, 0, 0, *b, 0.0, 9.0) for b in self.beams]
            for pid, status, parent, mom, m in parts:
                mothers = (1, 2) if parent < 0 else (parent + 3, parent + 3)
                plist.append(lhe.LHEParticle(int(pid), status, *mothers, 0, 0, *map(float, mom[i]), float(m[i]), 0.0, 9.0))
            info = lhe.LHEEventInfo(len(plist), 1, float(w), float(self.info.mass), 1.0 / 137.035999, 0.0)
            self.f.write(lhe.LHEEvent(eventinfo=info, particles=plist).tolhe(lheformat=self.fmt) + "\n")

    def close(self) -> None:
        try:
            self.f.write("</LesHouchesEvents>\n")
        finally:
            self.f.close()
