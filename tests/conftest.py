"""Shared fixtures: the built-in mock at CI size, and the shared reference data."""

from __future__ import annotations

from pathlib import Path

import pytest

from gammastar.io.pairs import write_dileptons
from gammastar.truth.cocktail import DALITZ, MockConfig
from gammastar.truth.mock import generate_mock

SHARED = Path(__file__).resolve().parents[2] / "shared"


@pytest.fixture(scope="session")
def shared_dir() -> Path:
    if not (SHARED / "PHYSICS.md").exists():
        pytest.skip(f"reference data ../shared not found at {SHARED}")
    return SHARED


@pytest.fixture(scope="session")
def dalitz_mock():
    """4e5 dimuon pairs from the four Dalitz sources: (dataset, source ids, truth)."""
    return generate_mock(MockConfig(n_events=400_000, seed=2026, sources=DALITZ), progress=False)


@pytest.fixture(scope="session")
def dalitz_parquet(dalitz_mock, tmp_path_factory) -> Path:
    data, sid, _ = dalitz_mock
    return write_dileptons(tmp_path_factory.mktemp("mock") / "dalitz.parquet", data, {"source_id": sid})


# A CI-sized flow: 1e5 Dalitz pairs, a few epochs (the full-size one is trained in bench/).
SMALL = dict(epochs=8, hidden=(48, 48), batch_size=2048)


@pytest.fixture(scope="session")
def small_flow() -> dict:
    """The CI-sized flow settings (give them to FlowConfig)."""
    return dict(SMALL)


@pytest.fixture(scope="session")
def train_data():
    return generate_mock(MockConfig(n_events=100_000, seed=21, sources=DALITZ), progress=False)[0]


@pytest.fixture(scope="session")
def model_file(train_data, tmp_path_factory) -> Path:
    pytest.importorskip("zuko")
    from gammastar.flow.networks import FlowConfig
    from gammastar.flow.train import train

    model = train(train_data, FlowConfig(seed=3, **SMALL), progress=False)
    return model.save(tmp_path_factory.mktemp("model") / "small.pt")


@pytest.fixture(scope="session")
def tiny_data():
    """5e3 Dalitz dimuon pairs."""
    return generate_mock(MockConfig(n_events=5_000, seed=22, sources=DALITZ), progress=False)[0]


@pytest.fixture(scope="session")
def tiny_model(tiny_data):
    """A one-epoch model on :func:`tiny_data` (a second to train): for what generation and validation do,
    not for how well (that is the CI-size model's job, in the slow tests)."""
    pytest.importorskip("zuko")
    from gammastar.flow.networks import FlowConfig
    from gammastar.flow.train import train

    return train(tiny_data, FlowConfig(seed=1, epochs=1, hidden=(8,), transforms=1, batch_size=1024), progress=False)


@pytest.fixture(scope="session")
def gen(model_file):
    from gammastar.flow.generate import Generator

    return Generator.load(model_file)


@pytest.fixture
def run(capsys):
    """The CLI run in-process, as a user would run it: (exit status, stdout, stderr)."""
    from gammastar.cli import main

    def _run(*args):
        rc = main([str(a) for a in args])
        out, err = capsys.readouterr()
        return rc, out, err

    return _run


@pytest.fixture(scope="session")
def dask_client():
    """A local Dask cluster of 2 worker processes, shared by the tests that distribute work."""
    pytest.importorskip("distributed")
    from gammastar.distributed import cluster

    with cluster(workers=2) as client:
        yield client
