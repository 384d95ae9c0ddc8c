"""LHE 3.0 (pylhe), 16 significant digits everywhere (momenta, weights, XSECUP).

The two incoming protons (the beam and the target at rest, or the two
collider beams) as status -1 particles and the same outgoing particles as
HepMC3 (A' status 1 or 2, daughters pointing to it); the hadronic rest of the
collision is not written.  The metadata go into a comment after the opening
tag.

LHE has no place for positions.  Of a detector-level A' (``--experiment``)
it carries the decay point only through the A' lifetime field (VTIMUP): its
proper flight c tau to the decay point, mm (z m / p_z), from which a reader
that places decays from it (Pythia 8) puts the decay where gammastar did,
starting from a production vertex at the origin.  The decay times, the
channel code and the run's summary are in the other formats (and here in
the comment).

Weights (one convention, read back by Pythia 8 as written): IDWTUP = -4,
weighted events with signed weights (mCP events carry negative weights where
the data do, e.g. after like-sign subtraction).  XWGTUP of each event is its
weight: the number of A' (or chi pairs) per collision it stands for at the
requested eps, so the weights of a file add up to the expected yield per
collision.  XSECUP is that expected yield, XERRUP its statistical error, and
XMAXUP the largest |XWGTUP|.  Pythia 8 (``Beams:frameType = 4``) reads every
event with ``info.weight()`` = XWGTUP and ``info.weightSum()`` = the expected
yield per collision (tested); its ``sigmaGen()`` takes the mean weight for a
cross section in pb and reports it in mb (yield / n_events x 1e-9): the unit
is "per collision", not pb.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

from ...physics.pdg import mass
from .base import Chunk, EventInfo, EventSink, particles, proper_decay_length_mm

__all__ = ["LheSink"]


class LheSink(EventSink):
    format = "lhe"
    suffixes = (".lhe",)

    def __init__(self, path: Path, info: EventInfo, meta: dict[str, str]) -> None:
        import pylhe

        self.pylhe, self.info = pylhe, info
        # 16 significant digits: the four-momenta survive the text round trip to 1e-15
        digits = "{px: .16e} {py: .16e} {pz: .16e} {e: .16e} {m: .16e} {lifetime: .16e} {spin: .4e}"
        self.fmt = pylhe.LHEXMLFormat(
            particle="{id:8d} {status:3d} {mother1:3d} {mother2:3d} {color1:3d} {color2:3d} " + digits,
            eventinfo="{nparticles:3d} {pid:6d} {weight: .16e} {scale: .16e} {aqed: .16e} {aqcd: .16e}",
            initinfo=" {beamA: 6d} {beamB: 6d} {energyA: .16e} {energyB: .16e} {PDFgroupA: 5d} {PDFgroupB: 5d} "
                     "{PDFsetA: 5d} {PDFsetB: 5d} {weightingStrategy: 5d} {numProcesses: 5d}",
            procinfo="{xSection: .16e} {error: .16e} {unitWeight: .16e} {procId: 5d}")
        self.f = open(path, "w")
        m_p = mass("p")
        beams = info.beam.momenta()
        total = float(meta.get("gammastar.expected_yield", "0"))
        n = float(meta.get("gammastar.n_events", "1"))
        w_max = float(meta.get("gammastar.max_abs_weight", str(abs(total) / n)))
        init = pylhe.LHEInit(
            initInfo=pylhe.LHEInitInfo(2212, 2212, beams[0][3], beams[1][3], 0, 0, 0, 0, -4, 1),
            procInfo=[pylhe.LHEProcInfo(total, float(meta.get("gammastar.expected_yield_err", "0")), w_max, 1)],
            generators=[],
        )
        # JSON (ASCII, control characters escaped) with no "--", which would end an XML comment: any string round-trips
        comment = re.sub("-(?=-)", r"\\u002d", json.dumps(meta))
        self.f.write('<LesHouchesEvents version="3.0">\n')
        self.f.write(f"<!-- gammastar {comment} -->\n")
        self.f.write(init.tolhe(lheformat=self.fmt) + "\n")
        self.beams = [(*b, m_p) for b in beams]

    def write(self, chunk: Chunk) -> None:
        lhe = self.pylhe
        parts = particles(chunk, self.info)
        ctau = proper_decay_length_mm(chunk, self.info.mass)
        for i, w in enumerate(chunk["weight"]):
            plist = [lhe.LHEParticle(2212, -1, 0, 0, 0, 0, *b, 0.0, 9.0) for b in self.beams]
            for k, (pid, status, parent, mom, m) in enumerate(parts):
                if not pid[i]:  # a slot this event's decay does not fill
                    continue
                mothers = (1, 2) if parent < 0 else (parent + 3, parent + 3)
                life = float(ctau[i]) if ctau is not None and k == 0 else 0.0
                plist.append(lhe.LHEParticle(int(pid[i]), status, *mothers, 0, 0, *map(float, mom[i]), float(m[i]),
                                             life, 9.0))
            info = lhe.LHEEventInfo(len(plist), 1, float(w), float(self.info.mass), 1.0 / 137.035999, 0.0)
            self.f.write(lhe.LHEEvent(eventinfo=info, particles=plist).tolhe(lheformat=self.fmt) + "\n")

    def close(self) -> None:
        try:
            self.f.write("</LesHouchesEvents>\n")
        finally:
            self.f.close()
