"""open_sample: every input the CLI takes, as a Sample the rates and the flow consume without asking its type."""

import logging

import numpy as np
import pytest

import gammastar
from gammastar.errors import GammastarError
from gammastar.io.pairs import write_dileptons
from gammastar.physics.beams import Beam

N = 30_000


@pytest.fixture(scope="module")
def files(dalitz_mock, tmp_path_factory):
    """One file, a directory of two, and a 10 MeV table of the same pairs."""
    data, _, _ = dalitz_mock
    d = tmp_path_factory.mktemp("open")
    sub = gammastar.EventSample(data.pos[:N], data.neg[:N], data.weight[:N], "mu", data.n_collisions * N / len(data))
    single = write_dileptons(d / "single.parquet", sub)
    (d / "dir").mkdir()
    for i, (a, b) in enumerate([(0, N // 2), (N // 2, N)]):
        part = gammastar.EventSample(sub.pos[a:b], sub.neg[a:b], sub.weight[a:b], "mu", sub.n_collisions * (b - a) / N)
        write_dileptons(d / "dir" / f"part{i}.parquet", part)
    edges = np.arange(0.212, 0.962, 0.01)
    w, _ = np.histogram(sub.mass, edges)
    keep = w > 0
    rows = [f"{a!r},{b!r},{c / 0.01 / sub.n_collisions!r},{float(np.sqrt(c)) / 0.01 / sub.n_collisions!r}"
            for a, b, c in zip(edges[:-1][keep].tolist(), edges[1:][keep].tolist(), w[keep].tolist(), strict=True)]
    (d / "table.csv").write_text("m_lo,m_hi,value,err\n" + "\n".join(rows) + "\n")
    return {"sub": sub, "single": single, "dir": d / "dir", "table": d / "table.csv"}


def test_each_input_becomes_its_kind_of_sample(files):
    single = gammastar.open_sample(files["single"])
    streamed = gammastar.open_sample(files["dir"], progress=False)
    table = gammastar.open_sample(files["table"], spectrum=True, lepton="mu")
    assert isinstance(single, gammastar.EventSample) and isinstance(streamed, gammastar.SpectrumSample)
    assert isinstance(table, gammastar.PublishedSpectrum)
    assert single.describe() == streamed.describe() == f"{N} mumu pairs"
    assert table.describe().startswith("published mumu spectrum, ") and table.n_collisions is None
    # the directory's parts add their n_collisions
    assert streamed.n_collisions == pytest.approx(single.n_collisions, rel=1e-12)


def test_the_rates_take_any_sample(files):
    """The same pairs held three ways: streamed equals in memory; the 10 MeV table agrees within errors."""
    single = gammastar.open_sample(files["single"])
    streamed = gammastar.open_sample(files["single"], stream=True, chunk_size=7_000, progress=False)
    table = gammastar.open_sample(files["table"], spectrum=True, lepton="mu")
    a, b, c = (gammastar.aprime_yield(s, [0.3, 0.5]) for s in (single, streamed, table))
    np.testing.assert_allclose(b.n_per_eps2, a.n_per_eps2, rtol=1e-9)
    assert np.all(np.abs(c.n_per_eps2 - a.n_per_eps2) < 3 * np.hypot(a.n_err, c.n_err))
    m = [gammastar.mcp_yield(s, [0.15], spin="scalar") for s in (single, streamed, table)]
    assert m[1].n_pairs_per_eps2[0] == pytest.approx(m[0].n_pairs_per_eps2[0], rel=1e-4)  # fine bins vs exact sum
    assert abs(m[2].n_pairs_per_eps2[0] / m[0].n_pairs_per_eps2[0] - 1) < 0.01
    assert m[0].n_err_sys is None and m[2].n_err_sys is not None


def test_what_needs_events_refuses_bins(files):
    streamed = gammastar.open_sample(files["dir"], progress=False)
    table = gammastar.open_sample(files["table"], spectrum=True, lepton="mu")
    with pytest.raises(GammastarError, match="needs the pairs in memory"):
        gammastar.train(streamed)
    with pytest.raises(GammastarError, match="is a binned spectrum table, and this needs events"):
        table.events()
    with pytest.raises(GammastarError, match="needs the pairs in memory"):
        gammastar.open_sample(files["dir"], stream=False)
    with pytest.raises(GammastarError, match="is a binned spectrum table, and this needs events"):
        gammastar.open_sample(files["table"])
    single = gammastar.open_sample(files["single"])
    assert single.events() is single


def test_options_that_do_not_apply_are_errors(files):
    with pytest.raises(GammastarError, match=r"apply to events, not to a spectrum table \(`spectrum=True`\)"):
        gammastar.open_sample(files["table"], spectrum=True, lepton="mu", acceptance="acc.npz")
    with pytest.raises(GammastarError, match="cannot be streamed"):
        gammastar.open_sample(files["dir"], leptons="Muon")
    with pytest.raises(GammastarError, match="needs the leptons' charges"):
        gammastar.open_sample(files["single"], background="like-sign")


def test_notes_go_to_the_gammastar_logger(files, caplog, tmp_path):
    caplog.set_level(logging.INFO, logger="gammastar")
    gammastar.open_sample(files["dir"], progress=False)
    assert "reading it in chunks" in caplog.text
    caplog.clear()
    sub = files["sub"]
    per_sample = write_dileptons(tmp_path / "p.csv", gammastar.EventSample(sub.pos, sub.neg, sub.weight, "mu"))
    s = gammastar.open_sample(per_sample)
    assert s.normalization == "per_sample" and "yields are per sample" in caplog.text
    caplog.clear()
    gammastar.open_sample(files["single"])  # its file does not record the beams
    assert "assuming p (400 GeV) on fixed target" in caplog.text
    caplog.clear()
    gammastar.open_sample(files["single"], beam=Beam.fixed_target(400))
    assert caplog.text == ""


def test_n_collisions_is_checked_once_for_every_sample(files):
    for bad in (-1.0, 0.0, float("nan"), "many"):
        with pytest.raises(GammastarError, match="n_collisions must be"):
            gammastar.open_sample(files["single"], n_collisions=bad)
        with pytest.raises(GammastarError, match="n_collisions must be"):
            gammastar.open_sample(files["dir"], n_collisions=bad, progress=False)
        with pytest.raises(GammastarError, match="n_collisions must be"):
            gammastar.open_sample(files["table"], spectrum=True, lepton="mu", n_collisions=bad)


def test_reading_options_travel_as_one_object(dalitz_parquet):
    import dataclasses

    opts = gammastar.ReadOptions(n_collisions=2e9, lepton="mu")
    a = gammastar.open_sample(dalitz_parquet, opts, progress=False)
    b = gammastar.open_sample(dalitz_parquet, n_collisions=2e9, lepton="mu", progress=False)
    c = gammastar.open_sample(dalitz_parquet, opts, n_collisions=4e9, progress=False)  # a keyword overrides
    assert a.n_collisions == b.n_collisions == 2e9 and c.n_collisions == 4e9 and np.array_equal(a.weight, b.weight)
    streamed = gammastar.open_sample(dalitz_parquet, opts, stream=True, progress=False)
    assert streamed.n_collisions == 2e9 and len(streamed) == len(a)
    with pytest.raises(dataclasses.FrozenInstanceError):
        opts.lepton = "e"  # type: ignore[misc]
    with pytest.raises(TypeError, match="n_colisions"):
        gammastar.open_sample(dalitz_parquet, n_colisions=1e9)
