"""Large inputs read in chunks: the same yields as reading everything at once."""

import json

import numpy as np
import pytest

import gammastar
from gammastar.cli import main
from gammastar.errors import GammastarError
from gammastar.io.pairs import write_dileptons
from gammastar.io.stream import iter_dileptons, scan_dileptons
from gammastar.samples import EventSample


@pytest.fixture(scope="module")
def parts(dalitz_mock, tmp_path_factory):
    data, _, _ = dalitz_mock
    d = tmp_path_factory.mktemp("parts")
    n = len(data)
    cuts = [0, n // 3, 2 * n // 3, n]
    for i, (a, b) in enumerate(zip(cuts[:-1], cuts[1:], strict=True)):
        part = EventSample(data.pos[a:b], data.neg[a:b], data.weight[a:b], "mu",
                               data.n_collisions * (b - a) / n)  # each part stands for its share of collisions
        write_dileptons(d / f"part{i}.parquet" if i < 2 else d / f"part{i}.csv", part)
    return d


def test_directory_streamed_equals_in_memory(dalitz_mock, parts):
    data, _, _ = dalitz_mock
    sample = scan_dileptons(parts, n_collisions=data.n_collisions, chunk_size=50_000, progress=False)
    assert len(sample) == len(data) and sample.lepton == "mu"
    masses = [0.25, 0.4, 0.6]
    a = gammastar.aprime_yield(sample, masses)
    b = gammastar.aprime_yield(data, masses)
    np.testing.assert_allclose(a.n_per_eps2, b.n_per_eps2, rtol=1e-9)
    np.testing.assert_allclose(a.n_err, b.n_err, rtol=1e-9)
    for spin in ("fermion", "scalar"):
        m = gammastar.mcp_yield(sample, [0.05, 0.15, 0.25], spin=spin)
        e = gammastar.mcp_yield(data, [0.05, 0.15, 0.25], spin=spin)
        np.testing.assert_allclose(m.n_pairs_per_eps2, e.n_pairs_per_eps2, rtol=1e-4)  # fine bins vs exact
        # errors: g(mean m)^2 vs mean g^2 within a bin differ where g = R_chi/R_l is steep (next to 2 m_mu)
        np.testing.assert_allclose(m.n_err, e.n_err, rtol=1e-2)


def test_chunks_are_bounded_and_complete(dalitz_mock, parts):
    data, _, _ = dalitz_mock
    sizes = [len(c) for c in iter_dileptons(parts, chunk_size=40_000, progress=False)]
    assert sum(sizes) == len(data) and len(sizes) > 3
    assert max(sizes) <= 40_000


def test_cli_streams_directories(dalitz_mock, parts, capsys, tmp_path):
    data, _, _ = dalitz_mock
    want = gammastar.aprime_yield(data, [0.4]).n_per_eps2[0]
    # the parts' n_collisions (Parquet metadata, the CSV part's sidecar) add up to the whole sample's
    rc = main(["rates", "aprime", "--data", str(parts), "--mass", "0.4", "--json"])
    captured = capsys.readouterr()
    assert rc == 0 and "reading it in chunks" in captured.err
    assert json.loads(captured.out)["n_per_eps2"][0] == pytest.approx(want, rel=1e-9)
    # a CSV part without its sidecar: the normalisation is unknown
    bare = tmp_path / "bare"
    bare.mkdir()
    for f in parts.iterdir():
        if not f.name.endswith(".meta.json"):
            (bare / f.name).write_bytes(f.read_bytes())
    rc = main(["rates", "aprime", "--data", str(bare), "--mass", "0.4", "--json"])
    assert rc == 2 and "2 of 3 files carry gammastar.n_collisions" in capsys.readouterr().err
    rc = main(["rates", "aprime", "--data", str(bare), "--mass", "0.4", "--json", "--n-collisions", str(data.n_collisions)])
    captured = capsys.readouterr()
    assert rc == 0 and json.loads(captured.out)["n_per_eps2"][0] == pytest.approx(want, rel=1e-9)
    assert main(["train", "--data", str(parts), "--out", "m.pt"]) == 2
    assert "needs the pairs in memory" in capsys.readouterr().err


def test_parquet_parts_sum_their_n_collisions(dalitz_mock, parts, tmp_path):
    data, _, _ = dalitz_mock
    only_parquet = tmp_path / "pq"
    only_parquet.mkdir()
    for f in parts.glob("*.parquet"):
        (only_parquet / f.name).write_bytes(f.read_bytes())
    sample = scan_dileptons(only_parquet, progress=False)
    assert sample.n_collisions == pytest.approx(data.n_collisions * (2 * len(data) // 3) / len(data), rel=1e-6)
    (tmp_path / "empty").mkdir()
    with pytest.raises(GammastarError, match="no .parquet"):
        scan_dileptons(tmp_path / "empty", progress=False)


def test_files_read_on_dask_workers_give_the_serial_spectrum(dalitz_mock, parts, dask_client, run):
    """Each worker bins whole files; the sums, added in file order, are the serial ones (the same spectrum)."""
    data, _, _ = dalitz_mock
    serial = scan_dileptons(parts, chunk_size=50_000, progress=False)
    spread = scan_dileptons(parts, chunk_size=50_000, progress=False, client=dask_client)
    assert len(spread) == len(serial) == len(data) and spread.n_collisions == serial.n_collisions
    for k, v in serial.spectrum.to_arrays().items():
        np.testing.assert_array_equal(spread.spectrum.to_arrays()[k], v)
    # through the command line, with the cluster it starts: the yields of the serial streaming run
    args = ("rates", "aprime", "--data", parts, "--mass", "0.25,0.4,0.6", "--json")
    rc, out, err = run(*args)
    rc2, out2, err2 = run(*args, "--workers", 2)
    assert rc == rc2 == 0, err2
    a, b = json.loads(out), json.loads(out2)
    np.testing.assert_allclose(b["n_per_eps2"], a["n_per_eps2"], rtol=1e-12)
    np.testing.assert_allclose(b["n_err"], a["n_err"], rtol=1e-12)
    rc, _, err = run("rates", "aprime", "--data", parts / "part0.parquet", "--mass", "0.4", "--workers", 2)
    assert rc == 2 and "give --data DIR" in err


def test_a_wildcard_pattern_is_a_list_of_files(dalitz_mock, parts, dask_client, run):
    """--data 'DIR/part[01].parquet': the files it matches, streamed like a directory of them (also on workers)."""
    data, _, _ = dalitz_mock
    pattern = parts / "part[01].parquet"
    two = scan_dileptons(pattern, progress=False, client=dask_client)
    first_two = sum(len(c) for f in ("part0.parquet", "part1.parquet") for c in iter_dileptons(parts / f, progress=False))
    assert len(two) == first_two < len(data)
    rc, out, err = run("rates", "aprime", "--data", pattern, "--mass", "0.4", "--json", "--n-collisions", 1e9)
    assert rc == 0, err
    np.testing.assert_allclose(json.loads(out)["n_per_eps2"], gammastar.aprime_yield(two, [0.4]).n_per_eps2 *
                               two.n_collisions / 1e9, rtol=1e-12)
    rc, _, err = run("rates", "aprime", "--data", parts / "nothing*.parquet", "--mass", "0.4")
    assert rc == 2 and "no file matches" in err
