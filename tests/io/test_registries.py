"""A new format is one class registered in one place: a toy Feather pair format and a toy NumPy event format."""

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pyarrow.feather as feather
import pytest

import gammastar
from gammastar.io import events as event_registry
from gammastar.io import readers as pair_registry
from gammastar.io.events.base import EventSink
from gammastar.io.readers.base import PairFile, arrow_column, arrow_slices, arrow_table


class FeatherPairs(PairFile):
    """What a contributor writes for a new input format (the README's example)."""

    format, suffixes, listed, stores_metadata = "feather", (".feather",), (".feather",), True

    def _open(self, tree: str | None) -> None:
        self._table = feather.read_table(self.path)
        self.names, self.num_rows = self._table.column_names, self._table.num_rows
        self.meta = {k.decode(): v.decode() for k, v in (self._table.schema.metadata or {}).items()}

    def column(self, name: str) -> np.ndarray:
        return arrow_column(self.path, self._table.column(name), name)

    def batches(self, names: list[str], chunk: int) -> Iterator[dict[str, np.ndarray]]:
        yield from arrow_slices(self.path, self._table, names, chunk)

    @classmethod
    def write(cls, path: Path, columns: dict[str, np.ndarray], meta: dict[str, str], target: Path) -> None:
        feather.write_feather(arrow_table(columns, meta), path)


class NpzSink(EventSink):
    """What a contributor writes for a new output format."""

    format, suffixes = "npz", (".npz",)

    def __init__(self, path: Path, info: object, meta: dict[str, str]) -> None:
        self.path, self.parts = path, []

    def write(self, chunk: dict[str, np.ndarray]) -> None:
        self.parts.append(chunk)

    def close(self) -> None:
        with open(self.path, "wb") as f:  # np.savez would append .npz to the temporary name
            np.savez(f, **{k: np.concatenate([p[k] for p in self.parts]) for k in self.parts[0]})


@pytest.fixture
def registered(monkeypatch):
    monkeypatch.setattr(pair_registry, "PAIR_FORMATS", (*pair_registry.PAIR_FORMATS, FeatherPairs))
    monkeypatch.setattr(event_registry, "EVENT_FORMATS", (*event_registry.EVENT_FORMATS, NpzSink))


def test_a_new_input_format_works_everywhere(registered, dalitz_mock, tmp_path):
    data, _, _ = dalitz_mock
    n = 20_000
    sub = gammastar.EventSample(data.pos[:n], data.neg[:n], data.weight[:n], "mu", 1e9)
    path = gammastar.write_dileptons(tmp_path / "pairs.feather", sub)  # writing
    assert pair_registry.listed_suffixes().endswith(".root or .feather")
    one = gammastar.open_sample(path)  # reading, with its metadata
    assert one.n_collisions == 1e9 and len(one) == n
    (tmp_path / "dir").mkdir()
    for i in range(2):
        part = gammastar.EventSample(sub.pos[i::2], sub.neg[i::2], sub.weight[i::2], "mu", 5e8)
        gammastar.write_dileptons(tmp_path / "dir" / f"p{i}.feather", part)
    streamed = gammastar.open_sample(tmp_path / "dir", chunk_size=3_000, progress=False)  # directories, chunks
    assert isinstance(streamed, gammastar.SpectrumSample) and streamed.n_collisions == 1e9
    a, b = gammastar.aprime_yield(one, [0.3, 0.45]), gammastar.aprime_yield(streamed, [0.3, 0.45])
    np.testing.assert_allclose(b.n_per_eps2, a.n_per_eps2, rtol=1e-9)


def test_a_new_output_format_works_everywhere(registered, tiny_model, tmp_path):
    gen = gammastar.Generator(tiny_model)
    path = gammastar.write_events(tmp_path / "a.npz", gen.aprime_events(0.3, 2_500, seed=1), progress=False)
    with np.load(path) as z:
        assert z["px"].size == 2_500 and z["weight"].sum() == pytest.approx(gen.aprime_yield(0.3).n_per_eps2[0], rel=1e-12)
    assert event_registry.format_from_path("x.dat", "npz") == "npz"
    assert [p.name for p in tmp_path.iterdir()] == ["a.npz"]  # and no temporary file left
