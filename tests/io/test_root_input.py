"""ROOT inputs: flat pair trees, NanoAOD-like lepton collections, like-sign background subtraction."""

import json

import numpy as np
import pytest

ak = pytest.importorskip("awkward")
uproot = pytest.importorskip("uproot")

import gammastar  # noqa: E402
from gammastar.cli import main  # noqa: E402
from gammastar.errors import GammastarError  # noqa: E402
from gammastar.io.pairs import write_dileptons
from gammastar.physics.kinematics import pair_kinematics  # noqa: E402
from gammastar.samples import EventSample  # noqa: E402
from gammastar.truth.cocktail import DALITZ, MockConfig  # noqa: E402
from gammastar.truth.mock import generate_mock  # noqa: E402

MASSES = [0.3, 0.4, 0.5]


def _pt_eta_phi(p4):
    pt = np.hypot(p4[:, 0], p4[:, 1])
    return pt, np.arcsinh(p4[:, 2] / pt), np.arctan2(p4[:, 1], p4[:, 0])


def _nano(path, pos, neg, rng, n_bkg_mean=0.0):
    """One event per signal pair, plus Poisson(n_bkg_mean) uncorrelated muons of random charge."""
    n = len(pos)
    n_bkg = rng.poisson(n_bkg_mean, n) if n_bkg_mean else np.zeros(n, dtype=int)
    total = int(n_bkg.sum())
    bp4_pt = rng.exponential(0.7, total) + 0.05
    beta = rng.normal(3.4, 1.0, total)
    bphi = rng.uniform(-np.pi, np.pi, total)
    bq = rng.choice([-1, 1], total)
    sp, se, sf = _pt_eta_phi(pos)
    np_, ne, nf = _pt_eta_phi(neg)
    counts = 2 + n_bkg
    offsets = np.concatenate([[0], np.cumsum(n_bkg)])
    pt, eta, phi, q = [], [], [], []
    for i in range(n):
        b = slice(offsets[i], offsets[i + 1])
        pt.append(np.r_[sp[i], np_[i], bp4_pt[b]])
        eta.append(np.r_[se[i], ne[i], beta[b]])
        phi.append(np.r_[sf[i], nf[i], bphi[b]])
        q.append(np.r_[1, -1, bq[b]])
    flat = {k: np.concatenate(v) for k, v in (("pt", pt), ("eta", eta), ("phi", phi), ("charge", q))}
    muon = ak.zip({k: ak.unflatten(v.astype(np.int32 if k == "charge" else np.float32), counts)
                   for k, v in flat.items()})
    with uproot.recreate(path) as f:
        f.mktree("Events", {"Muon": muon.type.content}).extend({"Muon": muon})
    return path


@pytest.fixture(scope="module")
def nano_files(tmp_path_factory):
    d = tmp_path_factory.mktemp("nano")
    data, _, _ = generate_mock(MockConfig(n_events=120_000, seed=31, sources=DALITZ), progress=False)
    rng = np.random.default_rng(5)
    signal = _nano(d / "signal.root", data.pos, data.neg, rng)
    mixed = _nano(d / "nano.root", data.pos, data.neg, rng, n_bkg_mean=1.0)
    return signal, mixed, data.n_collisions


# uncorrelated random muons make a few pairs with more energy than a 400 GeV collision has: dropped with a
# warning (tests/cli/test_beams.py tests that); the like-sign subtraction sees the same kinematics on both sides
@pytest.mark.filterwarnings("ignore:.*beyond what p \\(400 GeV\\)")
def test_like_sign_subtraction_recovers_the_signal(nano_files):
    signal, mixed, n_coll = nano_files
    sig = gammastar.read_dileptons(signal, leptons="Muon", n_collisions=n_coll)
    sub = gammastar.read_dileptons(mixed, leptons="Muon", background="like-sign", n_collisions=n_coll)
    raw = gammastar.read_dileptons(mixed, leptons="Muon", n_collisions=n_coll)
    assert sub.lepton == "mu" and (sub.weight < 0).any() and len(raw) > 2 * len(sig)
    a = gammastar.aprime_yield(sig, MASSES, bandwidth=0.02)
    b = gammastar.aprime_yield(sub, MASSES, bandwidth=0.02)
    c = gammastar.aprime_yield(raw, MASSES, bandwidth=0.02)
    # the signal is common to both: their difference is the background's fluctuation, < 3 sigma of the subtracted
    assert np.all(np.abs(b.n_per_eps2 - a.n_per_eps2) < 3 * b.n_err), (b.n_per_eps2 / a.n_per_eps2 - 1, b.n_err / b.n_per_eps2)
    assert np.all(b.n_err > a.n_err)  # the subtraction's statistical price is in the error
    assert np.all(c.n_per_eps2 - a.n_per_eps2 > 10 * c.n_err)  # without it, the background is plainly there


def test_signal_pairs_from_lepton_collection_match_the_pairs(nano_files):
    signal, _, _ = nano_files
    data, _, _ = generate_mock(MockConfig(n_events=120_000, seed=31, sources=DALITZ), progress=False)
    sig = gammastar.read_dileptons(signal, leptons="Muon")
    np.testing.assert_allclose(np.sort(sig.mass), np.sort(data.mass), rtol=1e-5)  # float32 pt, eta, phi


def test_cli_like_sign_example(nano_files, capsys):
    _, mixed, n_coll = nano_files
    rc = main(["rates", "aprime", "--data", str(mixed), "--tree", "Events", "--leptons", "Muon", "--background",
               "like-sign", "--n-collisions", str(n_coll), "--mass", "0.3:0.5:0.1", "--json"])
    out = capsys.readouterr().out
    assert rc == 0 and json.loads(out)["lepton"] == "mu"


def test_cuts_remove_leptons(nano_files):
    signal, _, _ = nano_files
    all_pairs = gammastar.read_dileptons(signal, leptons="Muon")
    cut = gammastar.read_dileptons(signal, leptons="Muon", min_pt=0.5, max_abs_eta=4.0)
    k = pair_kinematics(all_pairs.pos, all_pairs.neg)
    assert 0 < len(cut) < len(all_pairs)
    for p in (cut.pos, cut.neg):
        pt = np.hypot(p[:, 0], p[:, 1])
        assert pt.min() >= 0.5 - 1e-6 and np.abs(np.arcsinh(p[:, 2] / pt)).max() <= 4.0 + 1e-6
    assert k.m.size == len(all_pairs)


def test_flat_pair_tree_equals_parquet(dalitz_mock, tmp_path):
    data, _, _ = dalitz_mock
    sub = EventSample(data.pos[:20_000], data.neg[:20_000], data.weight[:20_000], "mu", 1e9)
    r = gammastar.read_dileptons(write_dileptons(tmp_path / "pairs.root", sub), n_collisions=1e9)
    p = gammastar.read_dileptons(write_dileptons(tmp_path / "pairs.parquet", sub), n_collisions=1e9)
    np.testing.assert_array_equal(r.pos, p.pos)
    np.testing.assert_array_equal(gammastar.aprime_yield(r, [0.3]).n_per_eps2, gammastar.aprime_yield(p, [0.3]).n_per_eps2)


def test_bad_root_inputs(nano_files, tmp_path):
    signal, _, _ = nano_files
    with pytest.raises(GammastarError, match="no tree 'Evts' \\(trees and RNTuples: Events\\)"):
        gammastar.read_dileptons(signal, leptons="Muon", tree="Evts")
    with pytest.raises(GammastarError, match="no lepton collection 'Electron'"):
        gammastar.read_dileptons(signal, leptons="Electron")
    with pytest.raises(GammastarError, match="no lepton collection 'Tau'"):
        gammastar.read_dileptons(signal, leptons="Tau")
    with pytest.raises(GammastarError, match="no Muon leptons"):
        gammastar.read_dileptons(signal, leptons="Muon", min_pt=1e4)
    empty = tmp_path / "empty.root"
    none = ak.Array([[], []], with_name=None)
    muon = ak.zip({"pt": ak.values_astype(none, np.float32), "eta": ak.values_astype(none, np.float32),
                   "phi": ak.values_astype(none, np.float32), "charge": ak.values_astype(none, np.int32)})
    with uproot.recreate(empty) as f:
        f.mktree("Events", {"Muon": muon.type.content}).extend({"Muon": muon})
    with pytest.raises(GammastarError, match="no Muon leptons"):
        gammastar.read_dileptons(empty, leptons="Muon")
    (tmp_path / "junk.root").write_bytes(b"not root" * 50)
    with pytest.raises(GammastarError, match="cannot read as ROOT"):
        gammastar.read_dileptons(tmp_path / "junk.root", leptons="Muon")
    with pytest.raises(GammastarError, match="missing column.*`leptons=Muon`"):
        gammastar.read_dileptons(signal)  # a NanoAOD file read as a pair tree
