"""Large inputs in bounded memory: a big pair file, or a directory of them, read in chunks.

The rates need only the fine-binned mass spectrum (:class:`MassSpectrum`):
it is accumulated chunk by chunk, every chunk validated like a whole file,
so memory stays at one chunk plus the bins whatever the number of pairs.
mCP yields then come from the fine bins (at each bin's weighted mean mass:
the exact sum over pairs up to R_chi/R_l's variation within a 1e-4-relative
bin).  The rates commands stream by themselves for directories and for files
of more than :data:`STREAM_ROWS` pairs.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .data import (
    N_COLLISIONS_KEY,
    PAIR_COLUMNS,
    WEIGHT_COLUMN,
    DileptonDataset,
    Normalised,
    _Columns,
    _file_kind,
    _M2_REL_TOL,
    _validated,
    _with_acceptance,
)
from .errors import GammastarError
from .pdg import mass
from .spectrum import MassSpectrum

__all__ = ["STREAM_ROWS", "SpectrumSample", "pair_files", "iter_dileptons", "scan_dileptons", "should_stream"]

#: files with more pairs than this are streamed by the rates commands
STREAM_ROWS = 20_000_000
_SUFFIXES = (".parquet", ".pq", ".csv", ".csv.gz", ".root")


def pair_files(path: str | Path) -> list[Path]:
    """The pair files of ``path``: itself, or a directory's .parquet/.pq/.csv/.csv.gz/.root files, sorted."""
    path = Path(path)
    if path.is_dir():
        files = sorted(p for p in path.iterdir() if p.is_file() and p.name.lower().endswith(_SUFFIXES)
                       and not p.name.startswith("."))
        if not files:
            raise GammastarError(f"{path}: directory has no .parquet, .csv, .csv.gz or .root files")
        return files
    return [path]


def should_stream(path: str | Path) -> bool:
    """Directories, and files with more than :data:`STREAM_ROWS` pairs (CSV: more than 1.5 GB)."""
    path = Path(path)
    if path.is_dir():
        return True
    if not path.is_file():
        return False
    kind = _file_kind(path)
    if kind == "csv":
        return path.stat().st_size > 1.5e9
    return _Columns(path).num_rows > STREAM_ROWS if kind == "parquet" else False


def _slices(table, names: list[str], chunk: int) -> Iterator[dict[str, np.ndarray]]:
    """Columns of ``table`` as numpy arrays, in pieces of at most ``chunk`` rows."""
    for start in range(0, table.num_rows, chunk):
        part = table.slice(start, chunk)
        yield {n: part.column(n).to_numpy() for n in names}


def _batches(path: Path, chunk: int, tree: str | None) -> Iterator[dict[str, np.ndarray]]:
    import pyarrow as pa
    import pyarrow.csv as pacsv

    cols = _Columns(path, tree)  # validates the file and its columns
    names = [c for c in (*PAIR_COLUMNS, WEIGHT_COLUMN) if c in cols.names]
    with cols._arrow_errors():
        if cols.kind == "parquet":
            # one row group at a time: iter_batches over the whole file reads ahead and
            # holds most of a large file in memory (measured: 1.1 GB for 1e7 pairs, 0.25 GB this way)
            pf = cols._pf
            for i in range(pf.metadata.num_row_groups):
                if pf.metadata.row_group(i).num_rows <= 4 * chunk:
                    parts = [pf.read_row_group(i, columns=names)]
                else:
                    parts = (pa.Table.from_batches([b]) for b in pf.iter_batches(batch_size=chunk, row_groups=[i],
                                                                                   columns=names))
                for t in parts:
                    yield from _slices(t, names, chunk)
        elif cols.kind == "csv":
            reader = pacsv.open_csv(path, read_options=pacsv.ReadOptions(block_size=16 << 20))
            for b in reader:  # blocks are by bytes: cut them to at most ``chunk`` rows
                yield from _slices(pa.Table.from_batches([b]), names, chunk)
        else:
            for b in cols._tree.iterate(names, step_size=chunk, library="np"):
                yield b


def iter_dileptons(
    path: str | Path, *, lepton: str | None = None, tree: str | None = None, chunk_size: int = 2_000_000,
    acceptance=None, acceptance_floor: float = 0.01, progress: bool = True,
) -> Iterator[DileptonDataset]:
    """Validated chunks of pairs from a file or a directory (normalisation left to the caller)."""
    from tqdm import tqdm

    files = pair_files(path)
    total = sum(_Columns(f, tree).num_rows for f in files if _file_kind(f) != "csv")
    bar = tqdm(total=total or None, desc=f"reading {Path(path).name}", unit="pair", delay=1.0, disable=not progress)
    seen = None
    try:
        for f in files:
            for b in _batches(f, chunk_size, tree):
                n = len(b["px_pos"])
                if n == 0:
                    continue
                pos = np.column_stack([b[c].astype(float) for c in PAIR_COLUMNS[:4]])
                neg = np.column_stack([b[c].astype(float) for c in PAIR_COLUMNS[4:]])
                w = b[WEIGHT_COLUMN].astype(float) if WEIGHT_COLUMN in b else np.ones(n)
                small = min(b[c].dtype.itemsize for c in PAIR_COLUMNS) < 8
                ds = _validated(f, pos, neg, w, lepton, None, {}, _M2_REL_TOL[4 if small else 8])
                if seen is not None and lepton is None and ds.lepton != seen:
                    raise GammastarError(f"{f}: mixed sample across chunks ({seen} and {ds.lepton})")
                seen = ds.lepton
                yield _with_acceptance(ds, acceptance, acceptance_floor)
                bar.update(n)
    finally:
        bar.close()
    if seen is None:
        raise GammastarError(f"{path}: no pairs")


def _n_collisions(files: list[Path], flag: float | None) -> float | None:
    """The flag, else the sum of the files' gammastar.n_collisions metadata (all or none must have it)."""
    if flag is not None:
        return flag
    values = [_Columns(f).meta.get(N_COLLISIONS_KEY) if _file_kind(f) == "parquet" else None for f in files]
    have = [v for v in values if v is not None]
    if have and len(have) != len(values):
        raise GammastarError(f"{len(have)} of {len(values)} files carry {N_COLLISIONS_KEY}: pass --n-collisions")
    return sum(float(v) for v in have) if have else None


@dataclass
class SpectrumSample(Normalised):
    """A pair sample known through its fine-binned spectrum (what the rates need)."""

    spectrum: MassSpectrum
    lepton: str
    n_collisions: float | None
    source: str
    n_pairs: int

    def __len__(self) -> int:
        return self.n_pairs

    def mass_spectrum(self) -> MassSpectrum:
        return self.spectrum

    @property
    def m_max(self) -> float:
        return self.spectrum.m_max

    def mcp(self, m_chi: float, spin: str) -> tuple[float, float, float]:
        """(pairs, error, 0) per eps^2 before ``scale``, from the fine bins."""
        c, c2 = self.spectrum.mcp_contributions(m_chi, spin)
        return float(c.sum()), float(np.sqrt(c2.sum())), 0.0


def scan_dileptons(
    path: str | Path, *, lepton: str | None = None, n_collisions: float | None = None, tree: str | None = None,
    chunk_size: int = 2_000_000, acceptance=None, acceptance_floor: float = 0.01, progress: bool = True,
) -> SpectrumSample:
    """Read a large file or a directory in chunks into a :class:`SpectrumSample`."""
    files = pair_files(path)
    if n_collisions is not None and not (np.isfinite(n_collisions) and n_collisions > 0):
        raise GammastarError(f"n_collisions must be positive and finite, not {n_collisions!r}")
    n_coll = _n_collisions(files, n_collisions)
    state = {"lepton": None, "n": 0}

    def chunks():
        for ds in iter_dileptons(path, lepton=lepton, tree=tree, chunk_size=chunk_size, acceptance=acceptance,
                                 acceptance_floor=acceptance_floor, progress=progress):
            state["lepton"], state["n"] = ds.lepton, state["n"] + len(ds)
            yield ds.mass, ds.weight

    # the lepton (hence the threshold) is known only after the first chunk: peek at it
    it = chunks()
    first = next(it)

    def all_chunks():
        yield first
        yield from it

    spec = MassSpectrum.from_chunks(all_chunks(), mass(state["lepton"]), lepton=state["lepton"])
    return SpectrumSample(spec, state["lepton"], n_coll, str(path), state["n"])
