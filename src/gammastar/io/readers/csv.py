"""CSV pair files (``.csv``, gzip-compressed ``.csv.gz``), read and written with pyarrow.

The metadata (n_collisions, beam, ...) live in a sidecar ``NAME.meta.json``
(:mod:`gammastar.io.sidecar`), written with the file and read with it.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv

from ..sidecar import read_sidecar, write_sidecar
from .base import PairFile, arrow_column, arrow_slices, arrow_table

__all__ = ["CsvPairs"]


class CsvPairs(PairFile):
    """Metadata in the sidecar; the row count is known only by reading the file."""

    format = "csv"
    suffixes = (".csv", ".csv.gz")
    listed = (".csv", ".csv.gz")
    stores_metadata = True

    def _open(self, tree: str | None) -> None:
        self.meta = {k: str(v) for k, v in read_sidecar(self.path).items()}
        self._table = pacsv.read_csv(self.path)
        self.names = self._table.column_names
        self.num_rows = self._table.num_rows

    def column(self, name: str) -> np.ndarray:
        with self.read_errors():
            col = self._table.column(name)
        return arrow_column(self.path, col, name)

    def batches(self, names: list[str], chunk: int) -> Iterator[dict[str, np.ndarray]]:
        with self.read_errors():
            reader = pacsv.open_csv(self.path, read_options=pacsv.ReadOptions(block_size=16 << 20))
            for b in reader:  # blocks are by bytes: cut them to at most ``chunk`` rows
                yield from arrow_slices(self.path, pa.Table.from_batches([b]), names, chunk)

    @classmethod
    def write(cls, path: Path, columns: dict[str, np.ndarray], meta: dict[str, str], target: Path) -> None:
        table = arrow_table(columns, meta)
        if target.name.lower().endswith(".gz"):
            with pa.CompressedOutputStream(str(path), "gzip") as stream:
                pacsv.write_csv(table, stream)
        else:
            pacsv.write_csv(table, str(path))
        write_sidecar(path, target, meta)

    @classmethod
    def metadata(cls, path: Path, tree: str | None = None) -> dict[str, str]:
        return {k: str(v) for k, v in read_sidecar(path).items()}

    @classmethod
    def row_count(cls, path: Path, tree: str | None = None) -> int | None:
        return None

    @classmethod
    def is_large(cls, path: Path) -> bool:
        """More than 1.5 GB of text (about 2e7 pairs)."""
        return path.stat().st_size > 1.5e9
