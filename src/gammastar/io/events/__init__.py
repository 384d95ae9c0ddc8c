"""Event writers, one module per format, behind one registry: Parquet, CSV, ROOT, HepMC3, LHE.

Events (an :class:`~.base.EventStream` of chunks from
:class:`gammastar.Generator`) are streamed to a temporary file next to the
target and renamed on success: an interrupted run never leaves a file that
looks complete.  A new format is an :class:`~.base.EventSink` subclass in a
new module, added to :data:`EVENT_FORMATS`.
"""

from __future__ import annotations

import json
import os
from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import suppress
from functools import partial
from itertools import islice, repeat
from pathlib import Path

from ...errors import GammastarError
from ..atomic import WriteBack, atomic_path
from ..sidecar import write_sidecar
from .arrow import CsvSink, ParquetSink
from .base import APRIME_ID, CHI_ID, Chunk, EventInfo, EventSink, EventStream
from .hepmc3 import HepMC3Sink
from .lhe import LheSink
from .root import RootSink

__all__ = ["EVENT_FORMATS", "FORMATS", "SUFFIXES", "APRIME_ID", "CHI_ID", "EventInfo", "EventStream", "format_from_path",
           "write_events"]

#: The event-file formats.  A new format is an EventSink subclass in a new module, added here.
EVENT_FORMATS: tuple[type[EventSink], ...] = (ParquetSink, CsvSink, RootSink, HepMC3Sink, LheSink)
#: threads making chunks while one is written (where the stream has independent tasks)
MAKERS = max(1, min(4, os.cpu_count() or 1))
#: Their names, for ``--format``.
FORMATS = tuple(f.format for f in EVENT_FORMATS)
#: Their file-name suffixes.
SUFFIXES = tuple(s for f in EVENT_FORMATS for s in f.suffixes)


def _sink(fmt: str) -> type[EventSink]:
    return {f.format: f for f in EVENT_FORMATS}[fmt]


def format_from_path(path: str | Path, fmt: str | None = None) -> str:
    """The output format: ``fmt`` if given, else from the file extension."""
    names = tuple(f.format for f in EVENT_FORMATS)
    if fmt is not None:
        if fmt not in names:
            raise GammastarError(f"unknown format {fmt!r}; choose from {', '.join(names)}")
        return fmt
    by_suffix = {s: f.format for f in EVENT_FORMATS for s in f.suffixes}
    suffix = Path(path).suffix.lower()
    if suffix not in by_suffix:
        raise GammastarError(f"{path}: cannot tell the format from {suffix or 'no extension'!r}; use "
                             f"{', '.join(sorted(by_suffix))} or `fmt={'|'.join(names)}`")
    return by_suffix[suffix]


def write_events(path: str | Path, events: EventStream, fmt: str | None = None, progress: bool = True,
                 observe: Callable[[Chunk], None] | None = None) -> Path:
    """Stream ``events`` to ``path`` in ``fmt`` (default: from the extension), atomically.

    The stream's metadata (JSON-able values) is stored as ``gammastar.*``
    key-value metadata (Parquet), TObjStrings (ROOT), the run's tool version
    (HepMC3), a comment (LHE) or a sidecar ``NAME.meta.json`` (CSV).
    ``observe``, if given, sees every chunk in order as it is written: sums,
    a first look for a plot.
    """
    from tqdm import tqdm

    path = Path(path)
    sink_type = _sink(format_from_path(path, fmt))
    meta = {f"gammastar.{k}": (v if isinstance(v, str) else json.dumps(v)) for k, v in events.metadata.items()}
    with atomic_path(path) as tmp:
        sink = sink_type(tmp, events.info, meta)
        try:
            with WriteBack(tmp) as disk, \
                    tqdm(total=events.n, desc=f"writing {path.name}", unit="ev", delay=1.0, disable=not progress) as bar:
                for ch in _made_ahead(events):
                    sink.write(ch)
                    disk.poke()
                    if observe is not None:
                        observe(ch)
                    bar.update(len(ch["weight"]))
        except BaseException:
            with suppress(Exception):  # the first error is the one to report
                sink.close()
            raise
        sink.close()
        if sink_type.sidecar:
            write_sidecar(tmp, path, meta)
    return path


def _made_ahead(events: EventStream) -> Iterator[Chunk]:
    """The chunks in order, made in threads ahead of the one being written.

    Making a chunk (numpy, torch) and encoding one (pyarrow) both spend most of
    their time outside the GIL, so they overlap: the stream's independent
    ``tasks`` on :data:`MAKERS` threads, or its ``chunks`` one ahead.
    """
    if events.tasks is not None:
        tasks: Iterator[Callable[[], Chunk | None]] = iter(events.tasks)
        workers = MAKERS
    else:
        tasks = repeat(partial(next, iter(events.chunks), None))
        workers = 1  # an iterator makes its chunks one after another
    pool = ThreadPoolExecutor(workers, thread_name_prefix="gammastar-chunks")
    ahead: deque[Future[Chunk | None]] = deque(pool.submit(t) for t in islice(tasks, workers + 1))
    try:
        while ahead and (chunk := ahead.popleft().result()) is not None:
            ahead.extend(pool.submit(t) for t in islice(tasks, 1))
            yield chunk
    finally:
        for f in ahead:
            f.cancel()
        pool.shutdown(wait=True)
