"""Parquet (with the metadata as key-value pairs) and CSV through pyarrow's streaming writers."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from .base import Chunk, EventInfo, EventSink

__all__ = ["ParquetSink", "CsvSink"]


class ParquetSink(EventSink):
    """Row groups as the chunks come; ``gammastar.*`` metadata in the schema."""

    format = "parquet"
    suffixes = (".parquet", ".pq")

    def __init__(self, path: Path, info: EventInfo, meta: dict[str, str]) -> None:
        self.path, self.meta = path, meta
        self.writer: Any = None

    def _open(self, schema: pa.Schema) -> Any:
        return pq.ParquetWriter(self.path, schema.with_metadata(self.meta))

    def write(self, chunk: Chunk) -> None:
        table = pa.table(chunk)
        if self.writer is None:
            self.writer = self._open(table.schema)
        self.writer.write_table(table)

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()


class CsvSink(ParquetSink):
    """Plain CSV with a header line (no metadata)."""

    format = "csv"
    suffixes = (".csv",)

    def _open(self, schema: pa.Schema) -> Any:
        return pacsv.CSVWriter(str(self.path), schema)
