"""Generation on a 2-worker local Dask cluster: shards identical to the serial file, failures retried."""

from __future__ import annotations

import os
import signal
import threading
import time

import numpy as np
import pyarrow.dataset as pads
import pyarrow.parquet as pq
import pytest

pytest.importorskip("distributed")
pytest.importorskip("zuko")

from gammastar.distributed import generate_shards  # noqa: E402
from gammastar.errors import GammastarError  # noqa: E402
from gammastar.flow.generate import APRIME_CHUNK, MCP_CHUNK  # noqa: E402


@pytest.fixture(scope="module")
def client(dask_client):
    return dask_client


@pytest.fixture(scope="module")
def model(tiny_model, tmp_path_factory):
    return tiny_model.save(tmp_path_factory.mktemp("dist") / "model.pt")


def _dataset(d):
    return pads.dataset(d, format="parquet").to_table()  # the files in name order: part-00000, part-00001, ...


def test_aprime_shards_are_the_serial_rows(run, model, tmp_path):
    n = 2 * APRIME_CHUNK + 12_345  # three shards, the last one short
    rc, _, err = run("generate", "aprime", "--model", model, "--mass", "0.4", "--n", n, "--seed", 5,
                     "--out", tmp_path / "serial.parquet")
    assert rc == 0, err
    rc, _, err = run("generate", "aprime", "--model", model, "--mass", "0.4", "--n", n, "--seed", 5,
                     "--out", tmp_path / "shards", "--workers", 2)
    assert rc == 0, err
    assert "in 3 shards" in err
    assert sorted(p.name for p in (tmp_path / "shards").iterdir()) == [f"part-0000{j}.parquet" for j in range(3)]
    serial, sharded = pq.read_table(tmp_path / "serial.parquet"), _dataset(tmp_path / "shards")
    assert sharded.num_rows == n and sharded.equals(serial.select(sharded.column_names))
    meta = pq.read_schema(tmp_path / "shards" / "part-00002.parquet").metadata
    assert meta[b"gammastar.shard"] == b"2" and meta[b"gammastar.shards"] == b"3"
    # a directory that already holds shards is refused, not mixed
    rc, _, err = run("generate", "aprime", "--model", model, "--mass", "0.4", "--n", 1000,
                     "--out", tmp_path / "shards", "--workers", 2)
    assert rc == 2 and "already holds shards" in err


@pytest.mark.slow  # a Dask cluster of its own; CI runs it with -m slow
def test_a_running_scheduler_is_used_with_its_address(client, run, model, tmp_path):
    """--scheduler ADDRESS: the command joins a cluster started elsewhere (here the tests' own)."""
    address = client.scheduler.address
    rc, _, err = run("generate", "mcp", "--model", model, "--mchi", "0.15", "--n", MCP_CHUNK + 5, "--seed", 2,
                     "--out", tmp_path / "chi", "--scheduler", address)
    assert rc == 0, err
    rc, _, err = run("generate", "mcp", "--model", model, "--mchi", "0.15", "--n", MCP_CHUNK + 5, "--seed", 2,
                     "--out", tmp_path / "chi.parquet")
    assert rc == 0, err
    assert _dataset(tmp_path / "chi").equals(pq.read_table(tmp_path / "chi.parquet"))
    # a request the model cannot serve is refused before any cluster is asked
    rc, _, err = run("generate", "aprime", "--model", model, "--mass", "50", "--n", 10, "--out", tmp_path / "no",
                     "--scheduler", "tcp://127.0.0.1:1")
    assert rc == 2 and "outside the model's trained range" in err


@pytest.mark.slow  # a Dask cluster of its own; CI runs it with -m slow
def test_mcp_shards_are_the_serial_rows(client, model, tmp_path):
    from gammastar import Generator, write_events

    n = 2 * MCP_CHUNK + 999
    request = {"m_chi": 0.15, "n": n, "spin": "scalar", "eps": 1e-3, "seed": 8}
    run = generate_shards(client, model, "mcp", request, tmp_path / "mcp", progress=False)
    write_events(tmp_path / "serial.parquet", Generator.load(model).mcp_events(**request), progress=False)
    serial = pq.read_table(tmp_path / "serial.parquet")
    sharded = _dataset(tmp_path / "mcp")
    assert len(run.files) == 3 and run.n_events == n and sharded.equals(serial.select(sharded.column_names))
    np.testing.assert_allclose(run.sum_weights, serial.column("weight").to_numpy().sum(), rtol=1e-12)


@pytest.mark.slow  # a Dask cluster of its own; CI runs it with -m slow
def test_other_formats_are_written_per_shard(client, model, tmp_path):
    run = generate_shards(client, model, "aprime", {"m_aprime": 0.4, "n": APRIME_CHUNK + 10, "seed": 1},
                          tmp_path / "csv", fmt="csv", progress=False)
    assert [p.name for p in run.files] == ["part-00000.csv", "part-00001.csv"]
    assert all(p.exists() and p.with_name(p.name + ".meta.json").exists() for p in run.files)


def test_a_bad_request_fails_before_any_shard(client, model, tmp_path):
    with pytest.raises(GammastarError, match="outside the model's trained range"):
        generate_shards(client, model, "aprime", {"m_aprime": 50.0, "n": 10}, tmp_path / "bad", progress=False)
    assert not (tmp_path / "bad").exists() or not any((tmp_path / "bad").iterdir())


@pytest.mark.slow  # a Dask cluster of its own; CI runs it with -m slow
def test_a_shard_that_keeps_failing_is_one_error_and_no_shard_is_partial(client, model, tmp_path):
    """Workers without the device asked for: every attempt fails, the run stops with the workers' one-line error."""
    import torch

    if torch.cuda.is_available():
        pytest.skip("this machine has a CUDA device: the workers would not fail")
    out = tmp_path / "failing"
    with pytest.raises(GammastarError, match="no CUDA device"):
        generate_shards(client, model, "aprime", {"m_aprime": 0.4, "n": 2 * APRIME_CHUNK}, out, device="cuda",
                        progress=False)
    assert not list(out.glob("part-*")) and not list(out.glob(".*.partial"))


@pytest.mark.slow
def test_a_killed_worker_is_retried_and_the_shards_are_still_identical(client, model, tmp_path):
    """SIGKILL one worker mid-run: Dask reruns its shard elsewhere; the dataset is still the serial file's rows."""
    from gammastar import Generator, write_events

    request = {"m_aprime": 0.4, "n": 6 * APRIME_CHUNK, "seed": 9}
    pids = list(client.run(os.getpid).values())
    done: dict = {}
    worker = threading.Thread(target=lambda: done.update(run=generate_shards(client, model, "aprime", request,
                                                                             tmp_path / "killed", progress=False)))
    worker.start()
    time.sleep(2.0)
    os.kill(pids[0], signal.SIGKILL)
    worker.join(timeout=300)
    assert "run" in done and done["run"].n_events == request["n"]
    write_events(tmp_path / "serial.parquet", Generator.load(model).aprime_events(**request), progress=False)
    assert _dataset(tmp_path / "killed").equals(pq.read_table(tmp_path / "serial.parquet"))
    assert not list((tmp_path / "killed").glob(".*.partial"))


def test_detector_level_shards_are_the_serial_rows(client, model, tmp_path):
    """generate aprime --experiment in shards: each worker measures the same pilot share, so the shards in order are
    the serial file's rows, weights and all; the experiment travels as its TOML path."""
    from pathlib import Path

    from gammastar import Generator, write_events
    from gammastar.reach.events import CHUNK, aprime_detector_events
    from gammastar.reach.experiment import load_experiment

    toml = Path(__file__).parents[2] / "examples" / "toy-dump.toml"
    n = CHUNK + 1234
    request = {"m_aprime": 0.4, "n": n, "eps": 1e-6, "seed": 3, "experiment": str(toml)}
    run = generate_shards(client, model, "aprime", request, tmp_path / "det", progress=False)
    stream = aprime_detector_events(Generator.load(model), load_experiment(toml), 0.4, n, 1e-6, seed=3)
    write_events(tmp_path / "serial.parquet", stream, progress=False)
    serial, sharded = pq.read_table(tmp_path / "serial.parquet"), _dataset(tmp_path / "det")
    assert len(run.files) == 2 and run.n_events == n and sharded.equals(serial.select(sharded.column_names))
    assert "vz_m" in sharded.column_names and run.metadata["experiment"] == "toy-dump"
