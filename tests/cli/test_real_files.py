"""Files as experiments write them, through the command line: NanoAOD collections as TTree and RNTuple, a flat
two-leg tree with its own names, Cartesian collections, float32 everywhere.

Every file holds the same pairs as a Parquet file in our schema (legs in random order, float32), so every
one must give that file's yields: the float32 rounding moves masses by ~1e-7, far below the statistical
error, so they agree to 1% of it.
"""

import json

import numpy as np
import pytest

ak = pytest.importorskip("awkward")
uproot = pytest.importorskip("uproot")

from gammastar.io.pairs import write_dileptons  # noqa: E402
from gammastar.samples import EventSample  # noqa: E402
from gammastar.truth.cocktail import DALITZ, MockConfig  # noqa: E402
from gammastar.truth.mock import generate_mock  # noqa: E402

MASSES = "0.3,0.5"


def _polar(p):
    pt = np.hypot(p[:, 0], p[:, 1])
    return pt, np.arcsinh(p[:, 2] / pt), np.arctan2(p[:, 1], p[:, 0])


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    d = tmp_path_factory.mktemp("real")
    data, _, _ = generate_mock(MockConfig(n_events=40_000, seed=7, sources=DALITZ), progress=False)
    n = len(data)
    rng = np.random.default_rng(1)
    swap = rng.random(n) < 0.5
    a, b = np.where(swap[:, None], data.neg, data.pos), np.where(swap[:, None], data.pos, data.neg)
    qa = np.where(swap, -1, 1)
    counts = np.full(n, 2)

    def jagged(x, y, dtype):
        return ak.unflatten(np.column_stack([x, y]).ravel().astype(dtype), counts)

    pa, pb = _polar(a), _polar(b)
    muon = {k: jagged(pa[i], pb[i], np.float32) for i, k in enumerate(("pt", "eta", "phi"))}
    muon["charge"] = jagged(qa, -qa, np.int32)
    jet = ak.unflatten(rng.exponential(30, n).astype(np.float32), np.ones(n, int))
    with uproot.recreate(d / "nano.root") as f:
        f.mktree("Events", {"Muon": ak.zip(muon).type.content, "Jet_pt": jet.type}).extend(
            {"Muon": ak.zip(muon), "Jet_pt": jet})
    with uproot.recreate(d / "nano_rntuple.root") as f:
        f.mkrntuple("Events", ak.Array({**{f"Muon_{k}": v for k, v in muon.items()}, "Jet_pt": jet}))
    # CMS open-data dimuon names, float32 legs in either order, and 3% same-sign rows to be dropped
    ss = int(0.03 * n)
    flat = {f"{c}{leg}": np.concatenate([p[:, j], p[:ss, j]]).astype(np.float32)
            for leg, p in (("1", a), ("2", b)) for j, c in enumerate(("px", "py", "pz", "E"))}
    flat["Q1"], flat["Q2"] = (np.concatenate([q, np.ones(ss)]).astype(np.int32) for q in (qa, -qa))
    flat["Run"] = np.ones(n + ss, np.int32)
    with uproot.recreate(d / "dimuon.root") as f:
        f.mktree("mumu", {k: v.dtype for k, v in flat.items()}).extend(flat)
    with uproot.recreate(d / "dimuon_rntuple.root") as f:
        f.mkrntuple("mumu", flat)
    renamed = {k.replace("1", "_a").replace("2", "_b"): v for k, v in flat.items()}
    with uproot.recreate(d / "renamed.root") as f:
        f.mktree("t", {k: v.dtype for k, v in renamed.items()}).extend(renamed)
    cart = {c: jagged(a[:, j], b[:, j], np.float32) for j, c in enumerate(("Px", "Py", "Pz", "E"))}
    cart["Charge"] = jagged(qa, -qa, np.int32)
    with uproot.recreate(d / "cartesian.root") as f:
        f.mktree("muons", {"Muon": ak.zip(cart).type.content}).extend({"Muon": ak.zip(cart)})
    # the reference: the same pairs in our schema, float32-rounded like the files
    ref = EventSample(data.pos.astype(np.float32).astype(float), data.neg.astype(np.float32).astype(float),
                      data.weight, "mu")
    return d, write_dileptons(d / "pairs.parquet", ref), data.n_collisions


def _yields(run, *args):
    rc, out, err = run("rates", "aprime", *args, "--mass", MASSES, "--json")
    assert rc == 0, err
    return json.loads(out)


@pytest.mark.parametrize("how", [
    ("nano.root", "--leptons", "Muon"),
    ("nano_rntuple.root", "--leptons", "muon"),
    ("nano_rntuple.root:Events", "--leptons", "MUON"),
    ("dimuon.root",),                        # per-leg names found in any case: E1 -> e1, Q1 -> q1
    ("dimuon_rntuple.root", "--tree", "mumu"),
    ("renamed.root:t", "--columns", "px1=px_a,py1=py_a,pz1=pz_a,e1=E_a,q1=Q_a,px2=px_b,py2=py_b,pz2=pz_b,e2=E_b,q2=Q_b"),
    ("cartesian.root", "--leptons", "Muon"),
], ids=["nano-ttree", "nano-rntuple", "nano-colon", "legs-ttree", "legs-rntuple", "legs-mapped", "cartesian"])
def test_every_kind_of_file_gives_the_yields_of_its_pairs(run, files, how):
    d, ref_path, n_coll = files
    ref = _yields(run, "--data", ref_path, "--n-collisions", n_coll)
    got = _yields(run, "--data", f"{d / how[0]}", *how[1:], "--n-collisions", n_coll)
    assert got["lepton"] == "mu"
    diff = np.abs(np.subtract(got["n_per_eps2"], ref["n_per_eps2"]))
    assert np.all(diff < 0.01 * np.array(ref["n_err"])), (got, ref)


def test_photon_yields_and_notes_for_a_two_leg_tree(run, files):
    d, ref_path, _ = files
    rc, out, err = run("rates", "photon", "--data", d / "dimuon.root", "--mass", MASSES, "--json")
    assert rc == 0 and "1200 same-sign rows dropped" in err and "--background like-sign" in err
    rc, ref, _ = run("rates", "photon", "--data", ref_path, "--mass", MASSES, "--json")
    np.testing.assert_allclose(json.loads(out)["n_v"], json.loads(ref)["n_v"], rtol=1e-3)


def test_like_sign_subtraction_with_per_leg_charges(run, files):
    """The 3% same-sign rows (++ only, so the -- count is zero): the geometric mean subtracts nothing."""
    d, ref_path, _ = files
    a = _yields(run, "--data", d / "dimuon.root", "--background", "like-sign")
    b = _yields(run, "--data", ref_path)
    np.testing.assert_allclose(a["n_per_eps2"], b["n_per_eps2"], rtol=1e-3)


def test_what_does_not_fit_is_named(run, files):
    d, _, _ = files
    rc, _, err = run("rates", "aprime", "--data", d / "nano.root", "--leptons", "Tau", "--mass", "0.3")
    assert rc == 2 and "no lepton collection 'Tau'" in err and "collections there:" in err and "Muon" in err
    rc, _, err = run("rates", "aprime", "--data", d / "nano.root", "--leptons", "Jet", "--mass", "0.3")
    assert rc == 2 and "collection 'Jet' has Jet_pt, neither" in err
    rc, _, err = run("rates", "aprime", "--data", d / "nano.root", "--mass", "0.3")
    assert rc == 2 and "missing column(s) px_pos" in err and "--leptons Muon" in err
    rc, _, err = run("rates", "aprime", "--data", d / "renamed.root", "--columns", "e1=Energy", "--mass", "0.3")
    assert rc == 2 and "e1=Energy: no such column" in err and "E_a" in err
    rc, _, err = run("rates", "aprime", "--data", d / "renamed.root", "--columns", "energy=E_a", "--mass", "0.3")
    assert rc == 2 and "unknown key(s) energy" in err
    rc, _, err = run("rates", "aprime", "--data", d / "dimuon.root:other", "--mass", "0.3")
    assert rc == 2 and "no tree 'other' (trees and RNTuples: mumu)" in err
    rc, _, err = run("rates", "aprime", "--data", d / "dimuon.root:mumu", "--tree", "x", "--mass", "0.3")
    assert rc == 2 and "give one" in err


def test_float32_rounding_passes_and_unphysical_rows_fail(run, files, tmp_path):
    d, ref_path, _ = files
    import pyarrow.parquet as pq

    table = pq.read_table(ref_path)
    cols = {k: table[k].to_numpy().copy() for k in table.column_names}
    # float32-rounded values kept in float64: |p| may exceed E by rounding and must pass
    over = (np.sqrt(cols["px_pos"] ** 2 + cols["py_pos"] ** 2 + cols["pz_pos"] ** 2) - cols["e_pos"]) / cols["e_pos"]
    cols["e_pos"][:50] = np.sqrt(cols["px_pos"][:50] ** 2 + cols["py_pos"][:50] ** 2 + cols["pz_pos"][:50] ** 2) * (1 - 3e-7)
    write = tmp_path / "rounded.parquet"
    import pyarrow as pa

    pq.write_table(pa.table(cols), write)
    rc, _, err = run("rates", "aprime", "--data", write, "--mass", "0.3", "--lepton", "mu")
    assert rc == 0, err
    assert over.max() < 5e-7
    cols["e_pos"][60] *= 0.999  # a really unphysical row
    pq.write_table(pa.table(cols), write)
    rc, _, err = run("rates", "aprime", "--data", write, "--mass", "0.3", "--lepton", "mu")
    assert rc == 2 and "1 row(s) are unphysical, E < |p| (first at row 60)" in err


def test_pt_eta_phi_legs_take_the_pdg_mass_and_need_the_flavour(run, files, tmp_path):
    import pyarrow as pa
    import pyarrow.parquet as pq

    import gammastar

    d, ref_path, _ = files
    ref = gammastar.read_dileptons(ref_path)
    cols = {}
    for leg, p in (("1", ref.neg), ("2", ref.pos)):  # the negative lepton first: oriented by the charges
        for name, v in zip(("PT", "ETA", "PHI"), _polar(p), strict=True):
            cols[f"{name}_{leg}"] = v
    cols["c1"], cols["c2"] = -np.ones(len(ref)), np.ones(len(ref))
    pq.write_table(pa.table(cols), tmp_path / "polar.parquet")
    mapping = {"pt1": "PT_1", "eta1": "ETA_1", "phi1": "PHI_1", "q1": "c1", "pt2": "PT_2", "eta2": "ETA_2",
               "phi2": "PHI_2", "q2": "c2"}
    spec = ",".join(f"{k}={v}" for k, v in mapping.items())
    rc, _, err = run("rates", "aprime", "--data", tmp_path / "polar.parquet", "--columns", spec, "--mass", "0.3")
    assert rc == 2 and "need the lepton flavour" in err
    got = _yields(run, "--data", tmp_path / "polar.parquet", "--columns", spec, "--lepton", "mu")
    want = _yields(run, "--data", ref_path)
    np.testing.assert_allclose(got["n_per_eps2"], want["n_per_eps2"], rtol=1e-6)
    # the same through the API, with a mapping
    data = gammastar.open_sample(tmp_path / "polar.parquet", columns=mapping, lepton="mu")
    for got_p, want_p in ((data.pos, ref.pos), (data.neg, ref.neg)):
        np.testing.assert_allclose(got_p[:, :3], want_p[:, :3], rtol=1e-9, atol=1e-12)
        np.testing.assert_allclose(got_p[:, 3], want_p[:, 3], rtol=1e-6)  # the reference E is float32-rounded


@pytest.mark.slow  # trains a flow; CI runs it with -m slow
def test_train_and_validate_take_the_same_input_options(run, files, tmp_path):
    pytest.importorskip("zuko")
    d, _, n_coll = files
    model = tmp_path / "m.pt"
    rc, _, err = run("train", "--data", f"{d / 'nano_rntuple.root'}:Events", "--leptons", "muon", "--n-collisions", n_coll,
                     "--beam-energy", "400", "--out", model, "--epochs", "1", "--hidden", "8", "--transforms", "1")
    assert rc == 0, err
    rc, out, err = run("validate", "--model", model, "--data", d / "dimuon.root", "--tree", "mumu",
                       "--background", "like-sign", "--n-events", "3000", "--out", tmp_path / "v", "--json")
    assert rc == 0, err
    v = json.loads(out)
    assert v["n_pairs"] == 3000 and 0.3 < v["classifier"]["overall"]["auc"] < 0.8
    rc, _, err = run("validate", "--model", model, "--data", d / "cartesian.root", "--leptons", "Muon",
                     "--max-pairs", "2000", "--out", tmp_path / "v2")
    assert rc == 0 and (tmp_path / "v2" / "validation.json").exists(), err
    # a resolution the model was not trained with is refused (the flow learned the smeared data)
    rc, _, err = run("validate", "--model", model, "--data", d / "cartesian.root", "--leptons", "Muon",
                     "--mass-resolution", "0.01", "--out", tmp_path / "v3")
    assert rc == 2 and err.startswith("error: --mass-resolution is not the model's (none)") and "\n" not in err.strip()
