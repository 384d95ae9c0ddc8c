"""Pair-file readers as modules: the registry, every format's columns, chunks and metadata, float32 files."""

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
import pytest

import gammastar
from gammastar.errors import GammastarError
from gammastar.io.columns import open_pairs
from gammastar.io.pairs import N_COLLISIONS_KEY, PAIR_COLUMNS, read_dileptons, write_dileptons
from gammastar.io.readers import PAIR_FORMATS, listed_suffixes, reader_for
from gammastar.io.readers.csv import CsvPairs
from gammastar.io.readers.parquet import ParquetPairs
from gammastar.io.readers.root import RootPairs

M_MU = 0.1056583755
N = 5_000


@pytest.fixture(scope="module")
def pairs(dalitz_mock):
    data, _, _ = dalitz_mock
    return gammastar.EventSample(data.pos[:N], data.neg[:N], np.linspace(0.5, 1.5, N), "mu", 2.5e7)


def _columns(sample):
    return {name: (sample.pos if j < 4 else sample.neg)[:, j % 4] for j, name in enumerate(PAIR_COLUMNS)}


def _mass_by_hand(cols):
    """Pair mass from the stored 3-momenta and the muon mass, written out here (float64).

    (E1 + E2)^2 - |p|^2 cancels digits for fast pairs: ~ (E/m)^2 x 1e-16, below 1e-9 for E/m < 1e3.
    """
    p = {k: np.asarray(v, dtype=float) for k, v in cols.items()}
    e = [np.sqrt(p[f"px_{s}"] ** 2 + p[f"py_{s}"] ** 2 + p[f"pz_{s}"] ** 2 + M_MU**2) for s in ("pos", "neg")]
    px, py, pz = (p[f"{c}_pos"] + p[f"{c}_neg"] for c in ("px", "py", "pz"))
    return np.sqrt((e[0] + e[1]) ** 2 - px**2 - py**2 - pz**2)


@pytest.mark.parametrize("name,fmt", [("a.parquet", ParquetPairs), ("A.PQ", ParquetPairs), ("a.csv", CsvPairs),
                                      ("a.CSV.gz", CsvPairs), ("a.root", RootPairs)])
def test_registry_picks_the_format_from_the_name(name, fmt):
    assert reader_for(name) is fmt


def test_registry_errors_name_what_is_accepted():
    assert listed_suffixes() == ".parquet, .csv, .csv.gz or .root"
    with pytest.raises(GammastarError, match=r"unknown file type '\.txt'; expected \.parquet, \.csv, \.csv\.gz or \.root"):
        reader_for("pairs.txt")
    with pytest.raises(GammastarError, match="binned spectrum table"):
        reader_for("HEPData-Table1.yaml")
    # every format declares what the registry needs
    for fmt in PAIR_FORMATS:
        assert fmt.format and fmt.suffixes and set(fmt.listed) <= set(fmt.suffixes)


@pytest.mark.parametrize("name", ["p.parquet", "p.csv", "p.csv.gz", "p.root"])
def test_every_format_round_trips_the_pairs(pairs, tmp_path, name):
    path = write_dileptons(tmp_path / name, pairs)
    f = open_pairs(path)
    assert f.num_rows == N and set(PAIR_COLUMNS) <= set(f.names)
    for j, col in enumerate(PAIR_COLUMNS):
        np.testing.assert_array_equal(f.column(col), (pairs.pos if j < 4 else pairs.neg)[:, j % 4])
    np.testing.assert_array_equal(f.column("weight"), pairs.weight)
    # metadata only where the format stores it
    back = read_dileptons(path)
    assert back.n_collisions == (2.5e7 if f.stores_metadata else None)
    assert (N_COLLISIONS_KEY in f.meta) == f.stores_metadata
    np.testing.assert_allclose(back.mass, _mass_by_hand(_columns(pairs)), rtol=1e-9)


@pytest.mark.parametrize("name", ["p.parquet", "p.csv", "p.root"])
def test_chunks_add_up_to_the_whole_file(pairs, tmp_path, name):
    path = write_dileptons(tmp_path / name, pairs)
    f = open_pairs(path)
    parts = list(f.batches(["px_pos", "weight"], 1_300))
    assert [len(p["px_pos"]) for p in parts][:3] == [1_300] * 3 and max(len(p["weight"]) for p in parts) <= 1_300
    np.testing.assert_array_equal(np.concatenate([p["px_pos"] for p in parts]), pairs.pos[:, 0])
    np.testing.assert_array_equal(np.concatenate([p["weight"] for p in parts]), pairs.weight)


def test_parquet_row_groups_larger_than_a_chunk(pairs, tmp_path):
    """A row group of more than 4 chunks is read in batches, not whole."""
    path = tmp_path / "rg.parquet"
    pq.write_table(pa.table(_columns(pairs)), path, row_group_size=N)
    parts = list(open_pairs(path).batches(["px_pos"], 1_000))
    assert len(parts) == 5 and all(len(p["px_pos"]) == 1_000 for p in parts)


def test_float32_files_are_read(pairs, tmp_path):
    """float32 columns (as detectors store them): E < |p| by rounding is allowed, masses from the 3-momenta."""
    cols32 = {k: v.astype(np.float32) for k, v in _columns(pairs).items()}
    pq.write_table(pa.table(cols32), tmp_path / "f32.parquet")
    import uproot

    with uproot.recreate(tmp_path / "f32.root") as f:
        f.mktree("events", {k: np.float32 for k in cols32}).extend(cols32)
    expected = _mass_by_hand(cols32)
    for name in ("f32.parquet", "f32.root"):
        data = read_dileptons(tmp_path / name)
        assert data.lepton == "mu" and len(data) == N
        np.testing.assert_allclose(data.mass, expected, rtol=1e-9)


def test_integer_weights_and_extra_columns(pairs, tmp_path):
    cols = {**_columns(pairs), "weight": np.arange(N) % 3 + 1, "run": np.full(N, 7), "Muon_pt_extra": np.ones(N)}
    pacsv.write_csv(pa.table(cols), tmp_path / "x.csv")
    data = read_dileptons(tmp_path / "x.csv")
    np.testing.assert_array_equal(data.weight, np.arange(N) % 3 + 1)
    assert data.weight.dtype == np.float64


def test_other_column_names_are_named_as_missing(pairs, tmp_path):
    cols = {k.replace("_pos", "_a").replace("_neg", "_b"): v for k, v in _columns(pairs).items()}
    pq.write_table(pa.table(cols), tmp_path / "z.parquet")
    with pytest.raises(GammastarError, match="missing column\\(s\\) px_pos, py_pos, pz_pos, e_pos, px_neg.*the file has "
                       "px_a, .*`columns=KEY=NAME,...`"):
        open_pairs(tmp_path / "z.parquet")
    # per-leg names without the charges: what that layout lacks is named
    legs = {k.replace("_pos", "1").replace("_neg", "2"): v for k, v in _columns(pairs).items()}
    pq.write_table(pa.table(legs), tmp_path / "legs.parquet")
    with pytest.raises(GammastarError, match="missing column\\(s\\) q1, q2 "):
        open_pairs(tmp_path / "legs.parquet")


def test_non_numeric_and_empty_values(pairs, tmp_path):
    cols = dict(_columns(pairs))
    cols["px_pos"] = np.array(["a"] * N)
    pq.write_table(pa.table(cols), tmp_path / "s.parquet")
    with pytest.raises(GammastarError, match="column px_pos has type string, expected numbers"):
        read_dileptons(tmp_path / "s.parquet")
    cols["px_pos"] = pa.array([1.0, None] + [1.0] * (N - 2))
    pq.write_table(pa.table(cols), tmp_path / "n.parquet")
    with pytest.raises(GammastarError, match="1 row\\(s\\) have an empty value in column px_pos"):
        read_dileptons(tmp_path / "n.parquet")


def test_root_jagged_branch_is_refused(tmp_path):
    import awkward as ak
    import uproot

    cols = {c: np.ones(3) for c in PAIR_COLUMNS}
    with uproot.recreate(tmp_path / "j.root") as f:
        f.mktree("events", {**{c: np.float64 for c in PAIR_COLUMNS[1:]}, "px_pos": ak.Array([[1.0]] * 3).type.content})
        f["events"].extend({**{c: cols[c] for c in PAIR_COLUMNS[1:]}, "px_pos": ak.Array([[1.0], [2.0], []])})
    with pytest.raises(GammastarError, match="branch px_pos is not a flat numeric branch"):
        read_dileptons(tmp_path / "j.root")


def test_large_files_are_streamed_by_size(pairs, tmp_path, monkeypatch):
    """The streaming decision is the format's: rows for Parquet, bytes for CSV."""
    from gammastar.io.readers import base

    small = write_dileptons(tmp_path / "s.parquet", pairs)
    assert not ParquetPairs.is_large(small)
    monkeypatch.setattr(base, "STREAM_ROWS", N - 1)
    assert ParquetPairs.is_large(small)
    assert not CsvPairs.is_large(write_dileptons(tmp_path / "s.csv", pairs))
    assert CsvPairs.row_count(tmp_path / "s.csv") is None and ParquetPairs.row_count(small) == N
