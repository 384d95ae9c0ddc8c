"""Beyond one process: generation sharded over a Dask cluster.

``--workers N`` starts a local cluster of N worker processes; ``--scheduler
ADDRESS`` joins a running one (``dask scheduler`` and ``dask worker ADDRESS``
on other hosts, or ``dask-jobqueue`` on SLURM/HTCondor).  The workers read
the model from its path, so it must be a path they can see.

A distributed ``generate`` writes one file per chunk of the serial run
(``part-00000.parquet``, ...): a chunk's events depend on the seed and the
chunk's number only, so the shards read in order are the serial file's rows,
identical.  Each shard is written to a temporary name and renamed when
complete (:func:`gammastar.io.atomic.atomic_path`); a failed task is retried
by Dask, and a worker that dies mid-write leaves only its temporary file,
which the run removes at the end.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .errors import GammastarError
from .flow.generate import Generator
from .io.events import EVENT_FORMATS, EventStream, write_events

__all__ = ["cluster", "generate_shards", "shard_name", "ShardedRun"]

#: attempts after the first a shard gets when its worker fails
RETRIES = 2

_GENERATORS: dict[tuple[str, str, float], Generator] = {}


@contextmanager
def cluster(workers: int | None = None, scheduler: str | None = None) -> Iterator[Any]:
    """A ``distributed.Client``: on a local cluster of ``workers`` processes, or on the scheduler at ``scheduler``."""
    if (workers is None) == (scheduler is None):
        raise GammastarError("give either --workers N (a local cluster) or --scheduler ADDRESS (a running one)")
    import logging

    from distributed import Client, LocalCluster

    logging.getLogger("distributed").setLevel(logging.ERROR)  # its INFO lines would bury ours
    if scheduler is not None:
        try:
            client = Client(scheduler, timeout="20s")
        except (OSError, TimeoutError) as exc:
            raise GammastarError(f"cannot reach the Dask scheduler at {scheduler}: {exc}") from None
        with client:
            yield client
        return
    if workers is None or workers < 1:
        raise GammastarError(f"--workers must be at least 1, not {workers}")
    # one thread per worker process: generation is numpy (and torch) work that holds the GIL in between
    with LocalCluster(n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=None) as lc, \
            Client(lc) as client:
        yield client


def shard_name(j: int, fmt: str) -> str:
    """The file name of shard ``j`` in format ``fmt``: ``part-00012.parquet``."""
    suffix = {f.format: f.suffixes[0] for f in EVENT_FORMATS}[fmt]
    return f"part-{j:05d}{suffix}"


def _generator(model: str, device: str) -> Generator:
    """The worker's generator for ``model`` (loaded once per worker process and file version)."""
    key = (str(model), device, os.stat(model).st_mtime)
    if key not in _GENERATORS:
        _GENERATORS.clear()
        _GENERATORS[key] = Generator.load(model, device)
    return _GENERATORS[key]


def _stream(gen: Generator, kind: str, request: dict[str, Any]) -> EventStream:
    return gen.aprime_events(**request) if kind == "aprime" else gen.mcp_events(**request)


def _write_shard(model: str, device: str, kind: str, request: dict[str, Any], j: int, path: str, fmt: str
                 ) -> tuple[int, float]:
    """Make chunk ``j`` of the run and write it to ``path``; (events, sum of weights)."""
    stream = _stream(_generator(model, device), kind, request)
    assert stream.tasks is not None
    chunk = stream.tasks[j]()
    meta = {**stream.metadata, "shard": j, "shards": len(stream.tasks)}
    n = len(chunk["weight"])
    write_events(path, EventStream(stream.info, n, [chunk], meta), fmt, progress=False)
    return n, float(chunk["weight"].sum())


@dataclass(frozen=True)
class ShardedRun:
    """What a distributed generation wrote."""

    out_dir: Path
    files: list[Path]
    n_events: int
    sum_weights: float
    metadata: dict[str, Any]


def generate_shards(client: Any, model: str | Path, kind: str, request: dict[str, Any], out_dir: str | Path,
                    fmt: str = "parquet", device: str = "cpu", progress: bool = True) -> ShardedRun:
    """Generate ``kind`` ("aprime" or "mcp") events as ``request`` asks (the keywords of
    :meth:`Generator.aprime_events` or :meth:`Generator.mcp_events`), one shard per chunk, on ``client``.

    The request is checked here first (the model's range, the yield), so a bad
    one is one error before any task starts.
    """
    from distributed import as_completed
    from tqdm import tqdm

    model, out_dir = Path(model), Path(out_dir)
    local = _stream(Generator.load(model), kind, request)  # checks the request; the workers load their own
    assert local.tasks is not None
    n_shards = len(local.tasks)
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise GammastarError(f"cannot make {out_dir}: {exc.strerror or exc}") from None
    old = sorted(p.name for p in out_dir.glob("part-*") if not p.name.startswith("."))
    if old:
        raise GammastarError(f"{out_dir} already holds shards ({old[0]}, ...): give a new or empty directory")
    files = [out_dir / shard_name(j, fmt) for j in range(n_shards)]
    futures = [client.submit(_write_shard, str(model.resolve()), device, kind, request, j, str(files[j]), fmt,
                             key=f"gammastar-shard-{j}-{os.getpid()}-{id(files)}", retries=RETRIES, pure=False)
               for j in range(n_shards)]
    n, total = 0, 0.0
    try:
        with tqdm(total=n_shards, desc=f"writing {out_dir.name}/", unit="shard", delay=1.0, disable=not progress) as bar:
            for fut in as_completed(futures):
                k, w = fut.result()
                n, total = n + k, total + w
                bar.update(1)
    except Exception as exc:
        client.cancel(futures)
        if isinstance(exc, GammastarError):
            raise
        raise GammastarError(f"a shard failed after {RETRIES} retries: {type(exc).__name__}: {exc}") from None
    finally:
        for tmp in out_dir.glob(".part-*.partial"):  # left by workers that died while writing
            tmp.unlink(missing_ok=True)
    return ShardedRun(out_dir, files, n, total, local.metadata)
