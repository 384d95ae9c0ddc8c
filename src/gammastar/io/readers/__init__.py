"""Readers of pair files, one module per format, behind one registry.

Every pair-file format is a :class:`~.base.PairFile` subclass in its own
module, listed once in :data:`PAIR_FORMATS`; everything that opens, streams,
counts or writes pair files goes through :func:`reader_for`.  Two other
inputs are not pair files and have modules of their own:
:mod:`.lepton_collections` (event-level leptons, e.g. NanoAOD, paired by
gammastar) and :mod:`.tables` (published binned spectra).
"""

from __future__ import annotations

from pathlib import Path

from ...errors import GammastarError
from .base import PAIR_COLUMNS, STREAM_ROWS, WEIGHT_COLUMN, PairFile
from .csv import CsvPairs
from .parquet import ParquetPairs
from .root import RootPairs
from .tables import YAML_SUFFIXES

__all__ = ["PAIR_FORMATS", "PAIR_COLUMNS", "WEIGHT_COLUMN", "STREAM_ROWS", "PairFile", "reader_for", "pair_suffixes",
           "listed_suffixes"]

#: The pair-file formats.  A new format is a PairFile subclass in a new module, added here.
PAIR_FORMATS: tuple[type[PairFile], ...] = (ParquetPairs, CsvPairs, RootPairs)


def pair_suffixes() -> tuple[str, ...]:
    """Every file-name ending a pair file may have."""
    return tuple(s for fmt in PAIR_FORMATS for s in fmt.suffixes)


def listed_suffixes() -> str:
    """The suffixes for messages: ``".parquet, .csv, .csv.gz or .root"``."""
    names = [s for fmt in PAIR_FORMATS for s in fmt.listed]
    return ", ".join(names[:-1]) + " or " + names[-1]


def reader_for(path: str | Path) -> type[PairFile]:
    """The format of a pair file, from its name; a one-line error for anything else."""
    path = Path(path)
    name = path.name.lower()
    for fmt in PAIR_FORMATS:
        if name.endswith(fmt.suffixes):
            return fmt
    if name.endswith(YAML_SUFFIXES):
        raise GammastarError(f"{path} looks like a binned spectrum table; this needs events "
                             "(tables are read with `spectrum=True`)")
    raise GammastarError(
        f"{path}: unknown file type {''.join(path.suffixes) or '(no extension)'!r}; "
        f"expected {listed_suffixes()}"
    )
