"""Acceptance maps: events thinned by a known A(m, pT, y) and corrected by 1/A give back the full yields."""

import numpy as np
import pytest

import gammastar
from gammastar.cli import main
from gammastar.errors import GammastarError
from gammastar.io.acceptance import AcceptanceMap, read_acceptance
from gammastar.io.pairs import write_dileptons
from gammastar.physics.kinematics import pair_kinematics
from gammastar.samples import EventSample

EDGES = (np.linspace(0.2, 1.0, 17), np.linspace(0.0, 5.0, 26), np.linspace(-2.0, 10.0, 25))


def _map():
    m, pt, y = (0.5 * (e[1:] + e[:-1]) for e in EDGES)
    a = (0.25 + 0.5 / (1 + np.exp(-(pt[None, :, None] - 0.8) / 0.3)) * np.exp(-((y[None, None, :] - 3.4) / 3) ** 2)
         + 0.1 * m[:, None, None])
    return np.clip(a, 0.0, 1.0)


def test_thinned_and_corrected_gives_back_the_yields(dalitz_mock, tmp_path):
    data, _, _ = dalitz_mock
    a = _map()
    amap = AcceptanceMap(*EDGES, a)
    k = pair_kinematics(data.pos, data.neg)
    inside = (k.pt < 5.0) & (k.y > -2) & (k.y < 10) & (data.mass < 1.0)
    keep = inside & (np.random.default_rng(1).random(len(data)) < amap(data.mass * inside + 0.3 * ~inside,
                                                                          k.pt * inside, k.y * inside))
    thinned = EventSample(data.pos[keep], data.neg[keep], data.weight[keep], "mu", data.n_collisions)
    full = EventSample(data.pos[inside], data.neg[inside], data.weight[inside], "mu", data.n_collisions)
    np.savez(tmp_path / "acc.npz", m_edges=EDGES[0], pt_edges=EDGES[1], y_edges=EDGES[2], acceptance=a)
    path = write_dileptons(tmp_path / "thinned.parquet", thinned)
    corrected = gammastar.read_dileptons(path, acceptance=tmp_path / "acc.npz")
    masses = [0.3, 0.4, 0.5]
    c = gammastar.aprime_yield(corrected, masses)
    f = gammastar.aprime_yield(full, masses)
    assert np.all(np.abs(c.n_per_eps2 - f.n_per_eps2) < 3 * c.n_err)
    mc = gammastar.mcp_yield(corrected, [0.15])
    mf = gammastar.mcp_yield(full, [0.15])
    assert abs(mc.n_pairs_per_eps2[0] - mf.n_pairs_per_eps2[0]) < 3 * mc.n_err[0]
    assert gammastar.aprime_yield(gammastar.read_dileptons(path), [0.4]).n_per_eps2[0] < 0.6 * f.n_per_eps2[1]


def test_floor_warning_and_bad_maps(dalitz_mock, tmp_path, capsys):
    data, _, _ = dalitz_mock
    a = _map()
    a[:, :4, :] = 0.005  # nearly blind at low pT
    np.savez(tmp_path / "low.npz", m_edges=EDGES[0], pt_edges=EDGES[1], y_edges=EDGES[2], acceptance=a)
    k = pair_kinematics(data.pos, data.neg)
    inside = (k.pt < 5.0) & (k.y > -2) & (k.y < 10) & (data.mass < 1.0)
    sub = EventSample(data.pos[inside][:20_000], data.neg[inside][:20_000], np.ones(20_000), "mu", 1e9)
    path = write_dileptons(tmp_path / "d.parquet", sub)
    with pytest.warns(UserWarning, match=r"% of the acceptance-corrected weight comes from .* hit the floor 0.01"):
        gammastar.read_dileptons(path, acceptance=tmp_path / "low.npz")
    bad = a.copy()
    bad[0, 0, 0] = -0.1
    np.savez(tmp_path / "neg.npz", m_edges=EDGES[0], pt_edges=EDGES[1], y_edges=EDGES[2], acceptance=bad)
    assert main(["rates", "aprime", "--data", str(path), "--mass", "0.4", "--acceptance", str(tmp_path / "neg.npz")]) == 2
    assert "acceptance must lie in [0, 1]" in capsys.readouterr().err
    with pytest.raises(GammastarError, match="edges must increase"):
        AcceptanceMap(EDGES[0][::-1], EDGES[1], EDGES[2], a)
    np.savez(tmp_path / "nokey.npz", m_edges=EDGES[0])
    with pytest.raises(GammastarError, match="needs m_edges, pt_edges, y_edges, acceptance"):
        read_acceptance(tmp_path / "nokey.npz")
    small = AcceptanceMap(np.linspace(0.3, 0.5, 3), EDGES[1], EDGES[2], a[:2])
    with pytest.raises(GammastarError, match="outside the map"):
        gammastar.read_dileptons(path, acceptance=small)


def test_root_th3_map(tmp_path):
    uproot = pytest.importorskip("uproot")
    hist = pytest.importorskip("hist")
    h = hist.Hist(*(hist.axis.Variable(e) for e in EDGES))
    h.view()[...] = _map()
    with uproot.recreate(tmp_path / "acc.root") as f:
        f["acc"] = h
    amap = read_acceptance(f"{tmp_path / 'acc.root'}:acc")
    np.testing.assert_allclose(amap.values, _map())
    np.testing.assert_allclose(read_acceptance(tmp_path / "acc.root").values, _map())
