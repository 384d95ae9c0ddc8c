"""Parquet (with the metadata as key-value pairs) and CSV through pyarrow's streaming writers."""

from __future__ import annotations

from abc import abstractmethod
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from ..readers.base import metadata_bytes
from .base import Chunk, EventInfo, EventSink

__all__ = ["ParquetSink", "CsvSink"]


class _ArrowSink(EventSink):
    """Tables through a pyarrow writer opened on the first chunk (its schema)."""

    def __init__(self, path: Path, info: EventInfo, meta: dict[str, str]) -> None:
        self.path, self.meta = path, meta
        self.writer: Any = None

    @abstractmethod
    def _open(self, schema: pa.Schema) -> Any:
        """The pyarrow writer for ``schema``."""

    def write(self, chunk: Chunk) -> None:
        if self.writer is None:
            # no column has missing values: declared so, Parquet writes no definition levels (30% of its time)
            self.schema = pa.schema([pa.field(c, pa.from_numpy_dtype(v.dtype), nullable=False) for c, v in chunk.items()])
            self.writer = self._open(self.schema)
        self.writer.write_table(pa.table(chunk, schema=self.schema))

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()


class ParquetSink(_ArrowSink):
    """Row groups as the chunks come; ``gammastar.*`` metadata in the schema."""

    format = "parquet"
    suffixes = (".parquet", ".pq")

    def write(self, chunk: Chunk) -> None:
        if self.writer is None:  # the columns whose values repeat, seen in the first chunk's first values
            self.repeating = [c for c, v in chunk.items() if np.unique(v[:4096]).size <= 64]
        super().write(chunk)

    def _open(self, schema: pa.Schema) -> Any:
        # dictionary encoding only where values repeat (weights of one value, or +-one for mCP; particle codes and
        # channels); on the momenta, and on weights that vary, it is tried and abandoned for every page, which
        # doubled the time to write
        # snappy and min/max statistics likewise only there: momenta do not compress (the file was 0.03% smaller
        # with snappy) and their statistics are not worth 17% of the time to write
        return pq.ParquetWriter(self.path, schema.with_metadata(metadata_bytes(self.meta)),
                                use_dictionary=self.repeating or False,
                                compression={c: "snappy" if c in self.repeating else "none" for c in schema.names},
                                write_statistics=self.repeating or False)


class CsvSink(_ArrowSink):
    """Plain CSV with a header line; the metadata in a sidecar ``NAME.meta.json``."""

    format = "csv"
    suffixes = (".csv",)
    sidecar = True

    def _open(self, schema: pa.Schema) -> Any:
        return pacsv.CSVWriter(str(self.path), schema)
