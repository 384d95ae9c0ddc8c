"""Parquet pair files (``.parquet``, ``.pq``), with ``gammastar.*`` key-value metadata."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from .base import PairFile, arrow_column, arrow_slices, arrow_table

__all__ = ["ParquetPairs"]


class ParquetPairs(PairFile):
    """Columns are read one at a time, so reading never holds the whole table beside the arrays it fills."""

    format = "parquet"
    suffixes = (".parquet", ".pq")
    listed = (".parquet",)
    stores_metadata = True

    def _open(self, tree: str | None) -> None:
        self._pf = pq.ParquetFile(self.path)
        schema = self._pf.schema_arrow
        # surrogateescape: damaged or non-UTF-8 metadata bytes still give strings (and round-trip)
        self.meta = {k.decode(errors="surrogateescape"): v.decode(errors="surrogateescape")
                     for k, v in (schema.metadata or {}).items()}
        self.names = list(schema.names)
        self.num_rows = self._pf.metadata.num_rows

    def column(self, name: str) -> np.ndarray:
        with self.read_errors():
            col = self._pf.read(columns=[name]).column(0)
        return arrow_column(self.path, col, name)

    def batches(self, names: list[str], chunk: int) -> Iterator[dict[str, np.ndarray]]:
        pf = self._pf
        with self.read_errors():
            # one row group at a time: iter_batches over the whole file reads ahead and
            # holds most of a large file in memory (measured: 1.1 GB for 1e7 pairs, 0.25 GB this way)
            for i in range(pf.metadata.num_row_groups):
                if pf.metadata.row_group(i).num_rows <= 4 * chunk:
                    parts: Iterator[pa.Table] = iter([pf.read_row_group(i, columns=names)])
                else:
                    parts = (pa.Table.from_batches([b]) for b in pf.iter_batches(batch_size=chunk, row_groups=[i],
                                                                                   columns=names))
                for t in parts:
                    yield from arrow_slices(self.path, t, names, chunk)

    @classmethod
    def write(cls, path: Path, columns: dict[str, np.ndarray], meta: dict[str, str], target: Path) -> None:
        pq.write_table(arrow_table(columns, meta), path)
