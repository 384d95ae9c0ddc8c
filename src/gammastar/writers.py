"""Event writers: Parquet, CSV, ROOT (uproot), HepMC3 (pyhepmc) and LHE (pylhe).

Events arrive as chunks (dicts of numpy columns, see :mod:`gammastar.generate`)
and are streamed to a temporary file next to the target, renamed on success:
an interrupted run never leaves a file that looks complete.

Particle codes in HepMC3 and LHE (override with ``aprime_id``/``chi_id``):

* A': 4900022, the dark photon (``gamma_v``) of Pythia 8's Hidden Valley, used by its dark-photon setups;
* chi: 9000001 (chibar -9000001), a code from the PDG range reserved for new
  particles, chosen here because no standard code exists for a millicharged
  particle; leptons: e+- 11, mu+- 13 with the PDG signs.

HepMC3 events (units GeV, mm): a production vertex at the target (origin)
with the beam and target protons as incoming particles (status 4) and the A'
(status 1, or 2 when its decay is written) or chi, chibar (status 1) as
outgoing; with ``--decay`` a second vertex at the same point holds A' ->
l+ l- (status 1): the decay position is not moved, so apply the A' decay
length appropriate for your eps in the detector simulation.  LHE events: the
beam and target protons (status -1) and the same outgoing particles (A'
status 1 or 2, daughters pointing to it); the listed incoming momenta are
the beams', the hadronic rest of the collision is not written.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .errors import GammastarError
from .pdg import mass

__all__ = ["FORMATS", "EventInfo", "format_from_path", "write_events"]

FORMATS = ("parquet", "csv", "root", "hepmc3", "lhe")
_SUFFIX = {".parquet": "parquet", ".pq": "parquet", ".csv": "csv", ".root": "root", ".hepmc": "hepmc3",
           ".hepmc3": "hepmc3", ".lhe": "lhe"}
APRIME_ID = 4900022
CHI_ID = 9000001
_LEPTON_ID = {"e": 11, "mu": 13}


@dataclass(frozen=True)
class EventInfo:
    """What the events are, for the formats that need particle codes and beams."""

    kind: str  # "aprime" or "mcp"
    mass: float  # A' mass or m_chi, GeV
    lepton: str = "mu"  # A' decay products, when the chunks carry them
    beam_energy: float = 400.0
    aprime_id: int = APRIME_ID
    chi_id: int = CHI_ID


def format_from_path(path: str | Path, fmt: str | None = None) -> str:
    """The output format: ``fmt`` if given, else from the file extension."""
    if fmt is not None:
        if fmt not in FORMATS:
            raise GammastarError(f"unknown format {fmt!r}; choose from {', '.join(FORMATS)}")
        return fmt
    suffix = Path(path).suffix.lower()
    if suffix not in _SUFFIX:
        raise GammastarError(f"{path}: cannot tell the format from {suffix or 'no extension'!r}; use "
                             f"{', '.join(sorted(_SUFFIX))} or --format {'|'.join(FORMATS)}")
    return _SUFFIX[suffix]


def _p4(chunk: dict[str, np.ndarray], suffix: str = "") -> np.ndarray:
    return np.column_stack([chunk[f"{c}{suffix}"] for c in ("px", "py", "pz", "e")])


def _particles(chunk: dict[str, np.ndarray], info: EventInfo):
    """Per event: [(pid, status, parent index or -1, four-momentum, mass)] as arrays over events."""
    n = len(chunk["weight"])
    if info.kind == "aprime":
        decayed = "px_pos" in chunk
        lid = _LEPTON_ID[info.lepton]
        out = [(info.aprime_id, 2 if decayed else 1, -1, _p4(chunk), np.full(n, info.mass))]
        if decayed:
            m_l = mass(info.lepton)
            out += [(-lid, 1, 0, _p4(chunk, "_pos"), np.full(n, m_l)), (lid, 1, 0, _p4(chunk, "_neg"), np.full(n, m_l))]
        return out
    return [(info.chi_id, 1, -1, _p4(chunk, "_pos"), np.full(n, info.mass)),
            (-info.chi_id, 1, -1, _p4(chunk, "_neg"), np.full(n, info.mass))]


class _ArrowSink:
    """Parquet (with the metadata) or CSV through pyarrow's streaming writers."""

    def __init__(self, path: Path, info: EventInfo, meta: dict[str, str], csv: bool = False) -> None:
        self.path, self.meta, self.csv, self.writer = path, meta, csv, None

    def write(self, chunk):
        import pyarrow as pa
        import pyarrow.csv as pacsv
        import pyarrow.parquet as pq

        table = pa.table(chunk)
        if self.writer is None:
            self.writer = (pacsv.CSVWriter(str(self.path), table.schema) if self.csv
                           else pq.ParquetWriter(self.path, table.schema.with_metadata(self.meta)))
        self.writer.write_table(table)

    def close(self):
        if self.writer is not None:
            self.writer.close()


class _RootSink:
    """A TTree ``events`` with one branch per column; the metadata as TObjStrings."""

    def __init__(self, path: Path, info: EventInfo, meta: dict[str, str]) -> None:
        import uproot

        self.file = uproot.recreate(path)
        for k, v in meta.items():
            self.file[k.replace(".", "_")] = v
        self.started = False

    def write(self, chunk):
        if not self.started:  # mktree: a TTree (plain assignment would make an RNTuple)
            self.file.mktree("events", {k: v.dtype for k, v in chunk.items()})
            self.started = True
        self.file["events"].extend(chunk)

    def close(self):
        self.file.close()


class _HepMC3Sink:
    def __init__(self, path: Path, info: EventInfo, meta: dict[str, str]) -> None:
        import pyhepmc as hep

        self.hep, self.info = hep, info
        self.writer = hep.io.WriterAscii(str(path))
        self.run = hep.GenRunInfo()
        self.run.weight_names = ["weight"]
        self.run.tools = [hep.GenRunInfo.ToolInfo("gammastar", meta.get("gammastar.version", ""), "data-driven A'/mCP")]
        m_p = mass("p")
        self.beams = ((0.0, 0.0, float(np.sqrt(info.beam_energy**2 - m_p**2)), info.beam_energy), (0.0, 0.0, 0.0, m_p))
        self.count = 0

    def write(self, chunk):
        hep = self.hep
        parts = _particles(chunk, self.info)
        for i, w in enumerate(chunk["weight"]):
            ev = hep.GenEvent(hep.Units.GEV, hep.Units.MM)
            ev.run_info = self.run
            ev.event_number = self.count
            ev.weights = [float(w)]
            vtx = hep.GenVertex((0.0, 0.0, 0.0, 0.0))
            for b in self.beams:
                vtx.add_particle_in(hep.GenParticle(b, 2212, 4))
            ev.add_vertex(vtx)
            made = []
            for pid, status, parent, p4, m in parts:
                p = hep.GenParticle(tuple(p4[i]), int(pid), status)
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

    def close(self):
        self.writer.close()


class _LheSink:
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
        comment = json.dumps({k: v for k, v in meta.items()})
        self.f.write('<LesHouchesEvents version="3.0">\n')
        self.f.write(f"<!-- gammastar {comment} -->\n")
        self.f.write(init.tolhe(lheformat=self.fmt) + "\n")
        m_p = mass("p")
        self.beams = ((0.0, 0.0, float(np.sqrt(info.beam_energy**2 - m_p**2)), info.beam_energy, m_p),
                      (0.0, 0.0, 0.0, m_p, m_p))

    def write(self, chunk):
        lhe = self.pylhe
        parts = _particles(chunk, self.info)
        for i, w in enumerate(chunk["weight"]):
            plist = [lhe.LHEParticle(2212, -1, 0, 0, 0, 0, *b, 0.0, 9.0) for b in self.beams]
            for pid, status, parent, p4, m in parts:
                mothers = (1, 2) if parent < 0 else (parent + 3, parent + 3)
                plist.append(lhe.LHEParticle(int(pid), status, *mothers, 0, 0, *map(float, p4[i]), float(m[i]), 0.0, 9.0))
            info = lhe.LHEEventInfo(len(plist), 1, float(w), float(self.info.mass), 1.0 / 137.035999, 0.0)
            self.f.write(lhe.LHEEvent(eventinfo=info, particles=plist).tolhe(lheformat=self.fmt) + "\n")

    def close(self):
        self.f.write("</LesHouchesEvents>\n")
        self.f.close()


_SINKS = {
    "parquet": _ArrowSink,
    "csv": lambda path, info, meta: _ArrowSink(path, info, meta, csv=True),
    "root": _RootSink,
    "hepmc3": _HepMC3Sink,
    "lhe": _LheSink,
}


def write_events(
    path: str | Path, chunks, n_total: int, info: EventInfo, metadata: dict | None = None,
    fmt: str | None = None, progress: bool = True,
) -> Path:
    """Stream event chunks to ``path`` in ``fmt`` (default: from the extension), atomically.

    ``metadata`` (JSON-able values) is stored as ``gammastar.*`` key-value
    metadata (Parquet), TObjStrings (ROOT), or a comment (LHE).
    """
    from tqdm import tqdm

    path = Path(path)
    fmt = format_from_path(path, fmt)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.partial")
    meta = {f"gammastar.{k}": (v if isinstance(v, str) else json.dumps(v)) for k, v in (metadata or {}).items()}
    sink = None
    try:
        sink = _SINKS[fmt](tmp, info, meta)
        with tqdm(total=n_total, desc=f"writing {path.name}", unit="ev", delay=1.0, disable=not progress) as bar:
            for ch in chunks:
                sink.write(ch)
                bar.update(len(ch["weight"]))
        sink.close()
        sink = None
        tmp.replace(path)
    finally:
        if sink is not None:
            sink.close()
        tmp.unlink(missing_ok=True)
    return path
