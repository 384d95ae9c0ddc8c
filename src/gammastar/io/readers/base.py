"""What every pair-file format provides: columns, chunks, metadata, and writing the same schema back.

A format is one subclass of :class:`PairFile` in a module of its own,
listed once in :data:`gammastar.io.readers.PAIR_FORMATS`.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, ClassVar

import numpy as np
import pyarrow as pa

from ...errors import GammastarError, first_line

if TYPE_CHECKING:
    from ..columns import ColumnLayout

__all__ = ["PairFile", "PAIR_COLUMNS", "WEIGHT_COLUMN", "STREAM_ROWS", "metadata_bytes"]

PAIR_COLUMNS = ("px_pos", "py_pos", "pz_pos", "e_pos", "px_neg", "py_neg", "pz_neg", "e_neg")
WEIGHT_COLUMN = "weight"

#: files with more pairs than this are streamed by the rates commands
STREAM_ROWS = 20_000_000


class PairFile(ABC):
    """An open file of lepton pairs (in the input schema :data:`PAIR_COLUMNS` [+ ``weight``], or mapped onto it).

    Subclasses set ``format`` (the name in messages), ``suffixes`` (matched at
    the end of the lower-case file name), ``listed`` (the suffixes named in
    help and error texts) and ``stores_metadata`` (whether the file, or its
    sidecar, carries ``gammastar.*`` key-value metadata), open the file in :meth:`_open`, and
    implement :meth:`column`, :meth:`batches` and :meth:`write`.
    """

    format: ClassVar[str]
    suffixes: ClassVar[tuple[str, ...]]
    listed: ClassVar[tuple[str, ...]]
    stores_metadata: ClassVar[bool] = False

    names: list[str]
    num_rows: int
    meta: dict[str, str]
    #: which columns hold the pairs (set by :func:`~gammastar.io.columns.open_pairs`)
    layout: ColumnLayout

    def __init__(self, path: Path, tree: str | None = None) -> None:
        self.path = path
        if not path.exists():
            raise GammastarError(f"{path}: no such file")
        if path.is_dir():
            raise GammastarError(f"{path}: is a directory, expected a file")
        if path.stat().st_size == 0:
            raise GammastarError(f"{path}: file is empty")
        self.meta = {}
        with self.read_errors():
            self._open(tree)
        twice = sorted({n for n in self.names if self.names.count(n) > 1})
        if twice:
            raise GammastarError(f"{path}: column name(s) {', '.join(twice)} appear more than once")

    @abstractmethod
    def _open(self, tree: str | None) -> None:
        """Open the file: set ``names``, ``num_rows`` and (if stored) ``meta``."""

    @abstractmethod
    def column(self, name: str) -> np.ndarray:
        """One whole numeric column (read on its own, so memory stays at the arrays read)."""

    @abstractmethod
    def batches(self, names: list[str], chunk: int) -> Iterator[dict[str, np.ndarray]]:
        """The columns ``names`` in pieces of at most ``chunk`` rows."""

    @classmethod
    @abstractmethod
    def write(cls, path: Path, columns: dict[str, np.ndarray], meta: dict[str, str], target: Path) -> None:
        """Write ``columns`` (and, where the format stores it, ``meta``) to ``path`` in this format.

        ``path`` is the temporary file; ``target`` the name it will have (``.csv.gz`` means gzip).
        """

    @classmethod
    def metadata(cls, path: Path, tree: str | None = None) -> dict[str, str]:
        """The file's ``gammastar.*`` metadata ({} for formats that store none)."""
        return cls(path, tree).meta if cls.stores_metadata else {}

    @classmethod
    def row_count(cls, path: Path, tree: str | None = None) -> int | None:
        """Number of pairs if it is cheap to know without reading the file, else None."""
        return cls(path, tree).num_rows

    @classmethod
    def is_large(cls, path: Path) -> bool:
        """Too big to read into memory at once: stream it (more than :data:`STREAM_ROWS` pairs)."""
        return cls(path).num_rows > STREAM_ROWS

    @contextmanager
    def read_errors(self) -> Iterator[None]:
        """Turn Arrow and OS errors while reading into one-line GammastarErrors."""
        try:
            yield
        except (pa.ArrowException, OSError, EOFError) as exc:
            raise GammastarError(f"{self.path}: cannot read as {self.format}: {first_line(exc, 10_000)}") from None


def arrow_column(path: Path, col: pa.ChunkedArray | pa.Array, name: str) -> np.ndarray:
    """A numeric, complete Arrow column as numpy (the checks Parquet and CSV share)."""
    if not (pa.types.is_floating(col.type) or pa.types.is_integer(col.type)):
        raise GammastarError(f"{path}: column {name} has type {col.type}, expected numbers")
    if col.null_count:
        raise GammastarError(f"{path}: {col.null_count} row(s) have an empty value in column {name}")
    return np.asarray(col.to_numpy(zero_copy_only=False))


def arrow_slices(path: Path, table: pa.Table, names: list[str], chunk: int) -> Iterator[dict[str, np.ndarray]]:
    """Columns of ``table`` as numpy arrays, in pieces of at most ``chunk`` rows, checked like whole columns."""
    for start in range(0, table.num_rows, chunk):
        part = table.slice(start, chunk)
        yield {n: arrow_column(path, part.column(n), n) for n in names}


def arrow_table(columns: dict[str, np.ndarray], meta: dict[str, str]) -> pa.Table:
    """Columns and key-value metadata as one Arrow table (what the Arrow-based writers take)."""
    return pa.table(columns).replace_schema_metadata(metadata_bytes(meta) or None)


def metadata_bytes(meta: dict[str, str]) -> dict[bytes, bytes]:
    """Key-value metadata as bytes; strings from non-UTF-8 file names keep their bytes (surrogateescape)."""
    return {k.encode(errors="surrogateescape"): v.encode(errors="surrogateescape") for k, v in meta.items()}
