"""Event files in every format read back by the field's own readers: same events, same momenta, same weights."""

import os
import signal
import subprocess
import sys
import time

import numpy as np
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
import pytest

pytest.importorskip("zuko")
pyhepmc = pytest.importorskip("pyhepmc")
pylhe = pytest.importorskip("pylhe")
uproot = pytest.importorskip("uproot")

from gammastar.cli import main  # noqa: E402
from gammastar.errors import GammastarError  # noqa: E402
from gammastar.io.events import APRIME_ID, CHI_ID, format_from_path  # noqa: E402

N = 1500
P4 = ("px", "py", "pz", "e")


def _generate(model_file, path, *extra):
    args = ["generate", *extra[:1], "--model", str(model_file), "--n", str(N), "--out", str(path), "--seed", "7",
            "--eps", "0.01", *extra[1:]]
    assert main(args) == 0


def _reference(model_file, tmp_path, kind, *extra):
    ref = tmp_path / f"ref_{kind}.parquet"
    _generate(model_file, ref, kind, *extra)
    return pq.read_table(ref).to_pydict()


def _hepmc_events(path):
    with pyhepmc.open(str(path)) as f:
        return list(f)


def _lhe_events(path):
    return list(pylhe.LHEFile.fromfile(str(path)).events)


@pytest.mark.slow
def test_aprime_with_decay_in_every_format(model_file, tmp_path):
    ref = _reference(model_file, tmp_path, "aprime", "--mass", "0.4", "--decay")
    a_ref = np.column_stack([ref[c] for c in P4])
    pos_ref = np.column_stack([ref[f"{c}_pos"] for c in P4])
    neg_ref = np.column_stack([ref[f"{c}_neg"] for c in P4])
    w_ref = np.array(ref["weight"])
    expected = float(pq.read_schema(tmp_path / "ref_aprime.parquet").metadata[b"gammastar.expected_yield"])
    assert w_ref.sum() == pytest.approx(expected, rel=1e-12)
    # the daughters add up to the A', which has the requested mass
    np.testing.assert_allclose(pos_ref + neg_ref, a_ref, rtol=0, atol=1e-9 * np.abs(a_ref).max())
    m_mu = 0.1056583755
    np.testing.assert_allclose(pos_ref[:, 3] ** 2 - np.sum(pos_ref[:, :3] ** 2, axis=1), m_mu**2, rtol=1e-5)

    _generate(model_file, tmp_path / "a.csv", "aprime", "--mass", "0.4", "--decay")
    csv = pacsv.read_csv(tmp_path / "a.csv").to_pydict()
    np.testing.assert_allclose(np.column_stack([csv[c] for c in P4]), a_ref, rtol=1e-12)

    _generate(model_file, tmp_path / "a.root", "aprime", "--mass", "0.4", "--decay")
    assert uproot.open(tmp_path / "a.root").classnames()["events;1"] == "TTree"
    root = uproot.open(tmp_path / "a.root")["events"].arrays(library="np")
    np.testing.assert_array_equal(np.column_stack([root[c] for c in P4]), a_ref)
    np.testing.assert_array_equal(root["weight"], w_ref)

    _generate(model_file, tmp_path / "a.hepmc", "aprime", "--mass", "0.4", "--decay")
    events = _hepmc_events(tmp_path / "a.hepmc")
    assert len(events) == N
    weights = []
    for i, ev in enumerate(events):
        ap = [p for p in ev.particles if p.pid == APRIME_ID]
        assert len(ap) == 1 and ap[0].status == 2
        np.testing.assert_allclose(list(ap[0].momentum), a_ref[i], rtol=1e-9)
        kids = ap[0].end_vertex.particles_out
        assert sorted(p.pid for p in kids) == [-13, 13] and all(p.status == 1 for p in kids)
        np.testing.assert_allclose(np.sum([list(p.momentum) for p in kids], axis=0), a_ref[i], rtol=1e-9)
        assert [p.status for p in ev.particles if p.pid == 2212] == [4, 4]
        weights.append(ev.weight())
    assert np.sum(weights) == pytest.approx(expected, rel=1e-9)
    assert events[0].momentum_unit == pyhepmc.Units.GEV and events[0].length_unit == pyhepmc.Units.MM

    _generate(model_file, tmp_path / "a.lhe", "aprime", "--mass", "0.4", "--decay")
    lhe = _lhe_events(tmp_path / "a.lhe")
    assert len(lhe) == N
    for i, ev in enumerate(lhe):
        ap = [p for p in ev.particles if p.id == APRIME_ID][0]
        np.testing.assert_allclose([ap.px, ap.py, ap.pz, ap.e], a_ref[i], rtol=1e-9)
        leptons = [p for p in ev.particles if abs(p.id) == 13]
        np.testing.assert_allclose(np.sum([[p.px, p.py, p.pz, p.e] for p in leptons], axis=0), a_ref[i], rtol=1e-9)
        assert all(p.mother1 == 3 for p in leptons) and ev.particles[0].status == -1
    assert np.sum([ev.eventinfo.weight for ev in lhe]) == pytest.approx(expected, rel=1e-9)
    # the documented convention: signed weighted events, XSECUP = the sum of the weights, XMAXUP = the largest
    init = pylhe.LHEFile.fromfile(str(tmp_path / "a.lhe")).init
    info, proc = init.initInfo, init.procInfo[0]
    assert info.weightingStrategy == -4 and (info.energyA, info.energyB) == pytest.approx((400.0, 0.93827208943))
    assert proc.xSection == pytest.approx(expected, rel=1e-12)
    assert proc.unitWeight == pytest.approx(max(abs(ev.eventinfo.weight) for ev in lhe), rel=1e-12)


@pytest.mark.slow
def test_mcp_in_hepmc3_and_lhe(model_file, tmp_path):
    ref = _reference(model_file, tmp_path, "mcp", "--mchi", "0.15", "--spin", "scalar")
    chi = np.column_stack([ref[f"{c}_pos"] for c in P4])
    _generate(model_file, tmp_path / "c.hepmc", "mcp", "--mchi", "0.15", "--spin", "scalar")
    events = _hepmc_events(tmp_path / "c.hepmc")
    assert len(events) == N
    for i, ev in enumerate(events):
        out = {p.pid: p for p in ev.particles if p.status == 1}
        assert set(out) == {CHI_ID, -CHI_ID}
        np.testing.assert_allclose(list(out[CHI_ID].momentum), chi[i], rtol=1e-9)
    _generate(model_file, tmp_path / "c.lhe", "mcp", "--mchi", "0.15", "--spin", "scalar")
    lhe = _lhe_events(tmp_path / "c.lhe")
    assert len(lhe) == N and {p.id for p in lhe[0].particles if p.status == 1} == {CHI_ID, -CHI_ID}
    assert np.sum([ev.eventinfo.weight for ev in lhe]) == pytest.approx(np.sum(ref["weight"]), rel=1e-9)


def test_format_choice():
    assert format_from_path("x.hepmc") == "hepmc3" and format_from_path("x.txt", "lhe") == "lhe"
    with pytest.raises(GammastarError, match="cannot tell the format"):
        format_from_path("x.txt")


@pytest.mark.slow
def test_killed_generate_leaves_no_file(model_file, tmp_path):
    out = tmp_path / "big.parquet"
    proc = subprocess.Popen([sys.executable, "-m", "gammastar", "generate", "aprime", "--model", str(model_file),
                             "--mass", "0.4", "--n", "5e6", "--out", str(out)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.time() + 120
    while not list(tmp_path.glob(".big.parquet.*.partial")) and time.time() < deadline and proc.poll() is None:
        time.sleep(0.1)
    assert list(tmp_path.glob(".big.parquet.*.partial")), "generation never started writing"
    time.sleep(0.5)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    assert not out.exists()
