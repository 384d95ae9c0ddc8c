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

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .cluster import cluster
from .errors import GammastarError
from .flow.generate import Generator
from .io.events import EVENT_FORMATS, EventStream, write_events
from .reach.events import aprime_detector_events, mcp_detector_events
from .reach.experiment import load_experiment

__all__ = ["cluster", "generate_shards", "plan_shards", "run_shards", "shard_name", "ShardPlan", "ShardedRun"]

#: attempts after the first a shard gets when its worker fails
RETRIES = 2

_GENERATORS: dict[tuple[str, str, float], Generator] = {}
_STREAMS: dict[tuple[str, str, str, str], tuple[Generator, EventStream]] = {}


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
    """The run's events; with an ``experiment`` in the request (a preset or a TOML path the workers can read),
    detector-level ones (:mod:`gammastar.reach.events`)."""
    if "experiment" in request:
        rest = {k: v for k, v in request.items() if k != "experiment"}
        experiment = load_experiment(request["experiment"])
        if kind == "aprime":
            return aprime_detector_events(gen, experiment, **rest)
        return mcp_detector_events(gen, experiment, **rest)
    return gen.aprime_events(**request) if kind == "aprime" else gen.mcp_events(**request)


def _worker_stream(model: str, device: str, kind: str, request: dict[str, Any]) -> EventStream:
    """The run's stream on a worker, made once per worker and request (a detector-level run measures its share of
    draws kept first: once, not per shard)."""
    key = (model, device, kind, json.dumps(request, sort_keys=True))
    gen = _generator(model, device)
    if _STREAMS.get(key, (None,))[0] is not gen:
        _STREAMS.clear()
        _STREAMS[key] = (gen, _stream(gen, kind, request))
    return _STREAMS[key][1]


def _write_shard(model: str, device: str, kind: str, request: dict[str, Any], j: int, path: str, fmt: str
                 ) -> tuple[int, float]:
    """Make chunk ``j`` of the run and write it to ``path``; (events, sum of weights)."""
    stream = _worker_stream(model, device, kind, request)
    assert stream.tasks is not None
    chunk = stream.tasks[j]()
    meta = {**stream.metadata, "shard": j, "shards": len(stream.tasks)}
    n = len(chunk["weight"])
    write_events(path, EventStream(stream.info, n, [chunk], meta), fmt, progress=False)
    return n, float(chunk["weight"].sum())


@dataclass(frozen=True)
class ShardPlan:
    """A checked request for a sharded generation: where each shard goes, and the run's metadata."""

    model: Path
    kind: str
    request: dict[str, Any]
    fmt: str
    out_dir: Path
    files: list[Path]
    metadata: dict[str, Any]


@dataclass(frozen=True)
class ShardedRun:
    """What a distributed generation wrote."""

    out_dir: Path
    files: list[Path]
    n_events: int
    sum_weights: float
    metadata: dict[str, Any]


def plan_shards(model: str | Path, kind: str, request: dict[str, Any], out_dir: str | Path, fmt: str = "parquet"
                ) -> ShardPlan:
    """Check ``kind`` ("aprime" or "mcp") and ``request`` (the keywords of :meth:`Generator.aprime_events` or
    :meth:`Generator.mcp_events`; with ``experiment``, of :func:`~gammastar.reach.events.aprime_detector_events` or
    :func:`~gammastar.reach.events.mcp_detector_events`) against the model here, before any cluster work, and make
    ``out_dir``."""
    model, out_dir = Path(model), Path(out_dir)
    local = _stream(Generator.load(model), kind, request)  # the model's range, the yield: one error, at once
    assert local.tasks is not None
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise GammastarError(f"cannot make {out_dir}: {exc.strerror or exc}") from None
    old = sorted(p.name for p in out_dir.glob("part-*") if not p.name.startswith("."))
    if old:
        raise GammastarError(f"{out_dir} already holds shards ({old[0]}, ...): give a new or empty directory")
    files = [out_dir / shard_name(j, fmt) for j in range(len(local.tasks))]
    return ShardPlan(model.resolve(), kind, dict(request), fmt, out_dir, files, local.metadata)


def run_shards(client: Any, plan: ShardPlan, device: str = "cpu", progress: bool = True) -> ShardedRun:
    """Generate the planned shards on ``client``'s workers; each reads the model from its path."""
    from distributed import as_completed
    from tqdm import tqdm

    futures = [client.submit(_write_shard, str(plan.model), device, plan.kind, plan.request, j, str(path), plan.fmt,
                             key=f"gammastar-shard-{j}-{os.getpid()}-{id(plan)}", retries=RETRIES, pure=False)
               for j, path in enumerate(plan.files)]
    n, total = 0, 0.0
    try:
        with tqdm(total=len(futures), desc=f"writing {plan.out_dir.name}/", unit="shard", delay=1.0,
                  disable=not progress) as bar:
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
        for tmp in plan.out_dir.glob(".part-*.partial"):  # left by workers that died while writing
            tmp.unlink(missing_ok=True)
    return ShardedRun(plan.out_dir, plan.files, n, total, plan.metadata)


def generate_shards(client: Any, model: str | Path, kind: str, request: dict[str, Any], out_dir: str | Path,
                    fmt: str = "parquet", device: str = "cpu", progress: bool = True) -> ShardedRun:
    """Generate ``kind`` events as ``request`` asks, one shard per chunk of the serial run, on ``client``
    (:func:`plan_shards`, then :func:`run_shards`)."""
    return run_shards(client, plan_shards(model, kind, request, out_dir, fmt), device, progress)
