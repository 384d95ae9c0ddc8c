"""Large inputs in bounded memory: a big pair file, or a directory of them, read in chunks.

The rates need only the fine-binned mass spectrum
(:class:`~gammastar.spectrum.estimator.MassSpectrum`): it is accumulated chunk
by chunk, every chunk validated like a whole file, so memory stays at one
chunk plus the bins whatever the number of pairs.  mCP yields then come from
the fine bins (at each bin's weighted mean mass: the exact sum over pairs up
to R_chi/R_l's variation within a 1e-4-relative bin).  :func:`gammastar.open_sample`
streams by itself directories and files of more than
:data:`~gammastar.io.readers.STREAM_ROWS` pairs.
"""

from __future__ import annotations

import glob
import itertools
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from ..errors import GammastarError
from ..physics.pdg import mass
from ..samples import EventSample, SpectrumSample, check_lepton, check_n_collisions
from ..spectrum.estimator import BinSums, MassSpectrum
from .columns import open_pairs
from .options import ReadOptions
from .pairs import (
    N_COLLISIONS_KEY,
    layout_pairs,
    resolve_beam,
    validated_pairs,
    warn_beyond_beams,
    with_acceptance,
    within_beams,
)
from .readers import STREAM_ROWS, listed_suffixes, pair_suffixes, reader_for
from .subtract import Subtraction, subtraction_chunks

if TYPE_CHECKING:
    pass

__all__ = ["STREAM_ROWS", "pair_files", "iter_dileptons", "scan_dileptons", "should_stream", "file_sums", "FileSums"]


def pair_files(path: str | Path) -> list[Path]:
    """The pair files of ``path``: itself, a directory's pair files of every registered format, or the files a
    wildcard pattern (``data/run*.root``) matches; sorted."""
    path = Path(path)
    if is_pattern(path):
        files = sorted(p for p in map(Path, glob.glob(str(path))) if p.is_file() and not p.name.startswith("."))
        if not files:
            raise GammastarError(f"{path}: no file matches")
        return files
    if path.is_dir():
        files = sorted(p for p in path.iterdir() if p.is_file() and p.name.lower().endswith(pair_suffixes())
                       and not p.name.startswith("."))
        if not files:
            raise GammastarError(f"{path}: directory has no {listed_suffixes()} files")
        return files
    return [path]


def is_pattern(path: str | Path) -> bool:
    """A wildcard pattern (``*``, ``?``, ``[``) that is not itself the name of a file."""
    return any(c in str(path) for c in "*?[") and not Path(path).exists()


def should_stream(path: str | Path) -> bool:
    """Directories, wildcard patterns, and files too large to read at once (more than :data:`STREAM_ROWS` pairs)."""
    path = Path(path)
    if path.is_dir() or is_pattern(path):
        return True
    if not path.is_file():
        return False
    return reader_for(path).is_large(path)


def _file_chunks(f: Path, o: ReadOptions) -> Iterator[tuple[EventSample, int, int]]:
    """One file's validated chunks: (pairs, rows read, pairs dropped as beyond the beams)."""
    pf = open_pairs(f, o.tree, o.columns)  # validates the file and its columns
    names = pf.layout.names
    rows = 0
    for b in pf.batches(names, o.chunk_size):
        n = len(b[names[0]])
        if n == 0:
            continue
        rows += n
        op, lep = layout_pairs(f, pf.layout, b.__getitem__, n, o.lepton)
        ds = validated_pairs(f, op.pos, op.neg, op.weight, lep, None, {})
        n_bad = 0
        if o.beam is not None:
            ds.beam = o.beam
            ds, n_bad = within_beams(ds, o.beam, str(f))
        yield with_acceptance(ds, o.acceptance, o.acceptance_floor), n, n_bad
    if rows == 0:  # as for a single file: a member with no pairs is an error, not skipped
        raise GammastarError(f"{f}: file contains no pairs")


def iter_dileptons(path: str | Path, options: ReadOptions | None = None, *, progress: bool = True,
                   **keywords: Any) -> Iterator[EventSample]:
    """Validated chunks of pairs from a file or a directory (normalisation left to the caller), read as ``options``
    (or its fields as keywords: ``lepton``, ``tree``, ``columns``, ``chunk_size``, ``acceptance``, ``beam``) say.

    With ``beam``, pairs it cannot make are dropped (more than 1% of a chunk is
    an error: see :func:`~gammastar.io.pairs.within_beams`) and counted in a
    warning at the end.
    """
    from tqdm import tqdm

    o = ReadOptions.of(options, **keywords)
    files = pair_files(path)
    dropped = 0
    counts = [reader_for(f).row_count(f, o.tree) for f in files]
    total = sum(c for c in counts if c is not None)
    bar = tqdm(total=total or None, desc=f"reading {Path(path).name}", unit="pair", delay=1.0, disable=not progress)
    seen = None
    try:
        for f in files:
            for ds, n, n_bad in _file_chunks(f, o):
                dropped += n_bad
                seen = _same_lepton(seen, ds.lepton, o.lepton, f)
                yield ds
                bar.update(n)
    finally:
        bar.close()
    if seen is None:
        raise GammastarError(f"{path}: no pairs")
    if o.beam is not None:
        warn_beyond_beams(str(path), dropped, o.beam)


def _same_lepton(seen: str | None, this: str, asked: str | None, f: Path) -> str:
    if seen is not None and asked is None and this != seen:
        raise GammastarError(f"{f}: mixed sample across chunks ({seen} and {this})")
    return this


@dataclass
class FileSums:
    """What one file adds to a streamed spectrum: its bin sums, lepton, pairs kept and dropped."""

    sums: BinSums
    lepton: str
    n_pairs: int
    n_dropped: int


def file_sums(f: str | Path, options: ReadOptions) -> FileSums:
    """One file's fine-bin sums, read as ``options`` say (what a Dask worker computes for the files it is given)."""
    f = Path(f)
    seen: dict[str, Any] = {"lepton": None, "n": 0, "dropped": 0}

    def chunks() -> Iterator[tuple[np.ndarray, np.ndarray]]:
        for ds, _, n_bad in _file_chunks(f, options):
            seen["lepton"] = _same_lepton(seen["lepton"], ds.lepton, options.lepton, f)
            seen["n"] += len(ds)
            seen["dropped"] += n_bad
            yield ds.mass, ds.weight

    # the lepton (hence the threshold of the bins) is known only after the first chunk: peek at it
    it = chunks()
    first = next(it)
    sums = BinSums.of_chunks(itertools.chain([first], it), mass(seen["lepton"]))
    return FileSums(sums, seen["lepton"], seen["n"], seen["dropped"])


def _n_collisions(metas: list[dict[str, str]], flag: float | None) -> float | None:
    """The flag, else the sum of the files' gammastar.n_collisions metadata (all or none must have it)."""
    if flag is not None:
        return flag
    values = [meta.get(N_COLLISIONS_KEY) for meta in metas]
    have = [v for v in values if v is not None]
    if have and len(have) != len(values):
        raise GammastarError(f"{len(have)} of {len(values)} files carry {N_COLLISIONS_KEY}: pass `n_collisions`")
    return sum(float(v) for v in have) if have else None


def scan_dileptons(path: str | Path, options: ReadOptions | None = None, *, progress: bool = True,
                   subtract: Sequence[Subtraction] = (), client: Any = None, **keywords: Any) -> SpectrumSample:
    """Read a large file or a directory in chunks into a :class:`~gammastar.samples.SpectrumSample`, as ``options``
    (or its fields as keywords) say; ``subtract`` takes simulated non-gamma* pairs out.

    The beams are ``beam``, else those the first file records, else the default (see
    :func:`~gammastar.io.pairs.resolve_beam`).  With a Dask ``client``, each
    worker reads whole files into their fine-bin sums (:func:`file_sums`) and
    the sums are added here, in file order: the same spectrum as serially.
    """
    o = ReadOptions.of(options, **keywords)
    n_collisions, lepton = o.n_collisions, o.lepton
    files = pair_files(path)
    if n_collisions is not None:
        n_collisions = check_n_collisions(n_collisions)
    metas = [reader_for(f).metadata(f) for f in files]
    n_coll = _n_collisions(metas, n_collisions)
    beam = resolve_beam(o.beam, metas[0], str(path))
    per_file = _sums_of(files, ReadOptions.of(o, beam=beam), client, progress, Path(path).name)
    lep = per_file[0].lepton
    for f, fs in zip(files, per_file, strict=True):
        _same_lepton(lep, fs.lepton, lepton, f)
    total = BinSums.empty()
    for fs in per_file:  # in file order, serially or not: the same sums to the last bit
        total = total + fs.sums
    total = total + BinSums.of_chunks(subtraction_chunks(subtract, lep, n_coll, beam), mass(lep))
    if beam is not None:
        warn_beyond_beams(str(path), sum(fs.n_dropped for fs in per_file), beam)
    spec = MassSpectrum.from_sums(total, mass(lep), lepton=lep)
    return SpectrumSample(spec, check_lepton(lep), n_coll, str(path), sum(fs.n_pairs for fs in per_file), beam,
                          tuple(str(s.path) for s in subtract))


def _sums_of(files: list[Path], options: ReadOptions, client: Any, progress: bool, name: str) -> list[FileSums]:
    """Each file's sums, in file order: here one after another, or on the Dask ``client``'s workers."""
    from tqdm import tqdm

    bar = tqdm(total=len(files), desc=f"reading {name}", unit="file", delay=1.0, disable=not progress)
    try:
        if client is None:
            out = []
            for f in files:
                out.append(file_sums(f, options))
                bar.update(1)
            return out
        from distributed import as_completed

        futures = client.map(file_sums, [str(f) for f in files], options=options, retries=2, pure=False)
        for fut in as_completed(futures):
            fut.result()  # the first error, as it comes
            bar.update(1)
        return list(client.gather(futures))
    finally:
        bar.close()
