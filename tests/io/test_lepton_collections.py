"""Pairs from event-level lepton collections (NanoAOD-style TTrees), and the like-sign weights, as a module."""

import numpy as np
import pytest

ak = pytest.importorskip("awkward")
uproot = pytest.importorskip("uproot")

from gammastar.errors import GammastarError  # noqa: E402
from gammastar.io.readers.lepton_collections import like_sign_weights, pairs_from_events  # noqa: E402

M_MU = 0.1056583755

# three events: (+ -), (+ + -), (-): 1 + 2 opposite-sign pairs, one ++ pair
EVENTS = {
    "pt": [[1.0, 2.0], [0.5, 3.0, 1.5], [0.7]],
    "eta": [[0.1, -1.2], [2.0, 0.3, -0.4], [1.0]],
    "phi": [[0.5, -2.0], [1.0, 3.0, -0.1], [0.0]],
    "charge": [[1, -1], [1, 1, -1], [-1]],
}


def _p4(pt, eta, phi, m=M_MU):
    """(px, py, pz, E) from pT, eta, phi, written out here."""
    px, py, pz = pt * np.cos(phi), pt * np.sin(phi), pt * np.sinh(eta)
    return np.array([px, py, pz, np.sqrt(px**2 + py**2 + pz**2 + m**2)])


def _lepton(ev, i):
    return _p4(EVENTS["pt"][ev][i], EVENTS["eta"][ev][i], EVENTS["phi"][ev][i])


@pytest.fixture(scope="module")
def nano(tmp_path_factory):
    """A NanoAOD-style TTree: float32 Muon_pt/eta/phi, int32 Muon_charge, plus an unrelated branch."""
    path = tmp_path_factory.mktemp("nano") / "nano.root"
    muon = ak.zip({k: ak.values_astype(ak.Array(v), np.int32 if k == "charge" else np.float32) for k, v in EVENTS.items()})
    with uproot.recreate(path) as f:
        f.mktree("Events", {"Muon": muon.type.content, "run": np.int32}).extend({"Muon": muon, "run": np.ones(3, np.int32)})
    return path


def test_opposite_sign_pairs_of_every_event(nano):
    lp = pairs_from_events(nano, "Muon")
    assert (lp.n_opposite, lp.n_plus_plus, lp.n_minus_minus, lp.lepton) == (3, 1, 0, "mu")
    # expected (positive, negative) pairs, from the table above
    expected = [(_lepton(0, 0), _lepton(0, 1)), (_lepton(1, 0), _lepton(1, 2)), (_lepton(1, 1), _lepton(1, 2))]
    got = sorted(zip(lp.pos.tolist(), lp.neg.tolist(), strict=True))
    want = sorted(zip([p.tolist() for p, _ in expected], [n.tolist() for _, n in expected], strict=True))
    np.testing.assert_allclose(np.array(got), np.array(want), rtol=1e-6)  # float32 pt, eta, phi
    np.testing.assert_array_equal(lp.weight, np.ones(3))


def test_cuts_act_on_leptons_before_pairing(nano):
    lp = pairs_from_events(nano, "Muon", min_pt=0.9)  # drops the 0.5 and 0.7 GeV muons
    assert (lp.n_opposite, lp.n_plus_plus) == (2, 0)
    lp = pairs_from_events(nano, "Muon", max_abs_eta=1.5)  # drops eta = 2.0
    assert (lp.n_opposite, lp.n_plus_plus) == (2, 0)


def test_like_sign_pairs_join_with_negative_weights(nano):
    lp = pairs_from_events(nano, "Muon", background="like-sign")
    # one ++ pair and no -- pair in its bin: the geometric mean is zero, so the pair carries nothing and is dropped
    assert len(lp.weight) == 3 and np.all(lp.weight == 1)


def test_like_sign_weights_against_the_formula():
    """Every bin sums to -2 R sqrt(N++ N--), shared equally by its like-sign pairs."""
    rng = np.random.default_rng(1)
    n_pp = np.array([4, 9, 1, 0, 16])
    n_mm = np.array([1, 4, 25, 3, 9])
    width = 0.01
    m, plus = [], []
    for k, (a, b) in enumerate(zip(n_pp, n_mm, strict=True)):
        m += list(0.3 + width * (k + rng.random(a + b)))
        plus += [True] * a + [False] * b
    m, plus = np.array(m), np.array(plus)
    for r in (1.0, 0.8):
        w = like_sign_weights(m, plus, 0.3, r, width)
        k = np.floor((m - 0.3) / width).astype(int)
        sums = np.bincount(k, weights=w)
        np.testing.assert_allclose(sums, -2 * r * np.sqrt(n_pp * n_mm), rtol=1e-12)
        total = n_pp + n_mm
        np.testing.assert_allclose(w, (-2 * r * np.sqrt(n_pp * n_mm) / total)[k], rtol=1e-12)
    with pytest.raises(GammastarError, match="must be positive"):
        like_sign_weights(m, plus, 0.3, 1.0, 0.0)


def test_errors_name_the_problem(nano, tmp_path):
    with pytest.raises(GammastarError, match="no lepton collection 'Tau'.*collections there: Muon"):
        pairs_from_events(nano, "Tau")
    with pytest.raises(GammastarError, match="no lepton collection 'Electron'"):
        pairs_from_events(nano, "Electron")
    with pytest.raises(GammastarError, match="unknown background method"):
        pairs_from_events(nano, "Muon", background="mixed-event")
    with pytest.raises(GammastarError, match="no tree 'Evts' \\(trees and RNTuples: Events\\)"):
        pairs_from_events(nano, "Muon", tree="Evts")
    with pytest.raises(GammastarError, match="no such file"):
        pairs_from_events(tmp_path / "none.root", "Muon")
