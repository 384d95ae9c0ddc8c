"""Pythia8 cross-check backend: data-driven yields from Pythia8 dileptons vs Pythia's own meson multiplicities.

The tests that run Pythia need the optional extra (``pip install 'gammastar[pythia]'``,
package pythia8mc) and are skipped without it; the rest check the backend's
physics inputs and its error without Pythia.
"""

import json
import sys

import numpy as np
import pyarrow.parquet as pq
import pytest

import gammastar
from gammastar.cli import main
from gammastar.errors import GammastarError
from gammastar.physics.pdg import BR, mass, width
from gammastar.truth.pythia import PythiaConfig, _Dalitz, available, parse_pythia_sources

M_MU = 0.1056583755
needs_pythia = pytest.mark.skipif(
    not available(), reason="pythia8mc not installed (optional extra: pip install 'gammastar[pythia]')"
)


def _channel(name, parent, recoil, br_key):
    kind = "dalitz_p" if recoil == "gamma" else "dalitz_v"
    m_rec = 0.0 if recoil == "gamma" else mass(recoil)
    return _Dalitz(name, 0, kind, 0, mass(parent), m_rec, BR[br_key], mass("rho"), width("rho"))


def test_pythia_dalitz_inputs_match_pdg_and_section_3():
    """The eta channel as Pythia samples it (rho-pole form factor) reproduces PDG BR(eta -> gamma mu mu)."""
    eta = _channel("eta", "eta", "gamma", "eta->gg")
    # PDG 3.1 +- 0.4 e-4 (PHYSICS.md section 5); the rho pole gives a little less than NA60's 3.24e-4
    assert eta.br_ll(M_MU) == pytest.approx(3.1e-4, abs=0.4e-4)
    # for a pseudoscalar Pythia's weight is section 3's formula: the form factor is the only input
    m = np.array([0.25, 0.4])
    ff2 = eta.ff2(m)
    np.testing.assert_allclose(eta.n_v_per_meson(m), 2 * BR["eta->gg"] * (1 - m**2 / mass("eta") ** 2) ** 3 * ff2)
    # Pythia's vector phase space tends to section 3's Kallen factor at small m, and is smaller near the end point
    om = _channel("omega", "omega", "pi0", "omega->pi0g")

    def kallen3(t):
        mv2, mp2 = mass("omega") ** 2, mass("pi0") ** 2
        return ((mv2 - t**2) ** 2 - 2 * (mv2 + t**2) * mp2 + mp2**2) ** 1.5 / (mv2 - mp2) ** 3

    small, late = 0.01, 0.6
    assert om.n_v_per_meson(small) / (BR["omega->pi0g"] * om.ff2(small) * kallen3(small)) == pytest.approx(1, abs=1e-3)
    assert om.n_v_per_meson(late) < 0.5 * BR["omega->pi0g"] * om.ff2(late) * kallen3(late)


def test_pythia_dalitz_sampling_is_exact_for_the_sources_used():
    """Pythia's accept-reject weight stays <= 1 for the sources used; eta' crosses 1 at the rho pole (why it is left out)."""
    for ch in (_channel("pi0", "pi0", "gamma", "pi0->gg"), _channel("eta", "eta", "gamma", "eta->gg"),
               _channel("omega", "omega", "pi0", "omega->pi0g"), _channel("phi", "phi", "eta", "phi->etag")):
        assert ch.max_accept_weight(0.51099895e-3) <= 1.0, ch.name
        assert ch.max_accept_weight(M_MU) <= 1.0, ch.name
    etap = _channel("etap", "etap", "gamma", "etap->gg")
    assert etap.max_accept_weight(M_MU) > 1.0


def test_pythia_sources():
    assert parse_pythia_sources(None, "mu") == ("eta", "omega", "phi")
    assert parse_pythia_sources("all", "e") == ("pi0", "eta", "omega", "phi")
    with pytest.raises(GammastarError, match="no mumu source 'pi0'"):
        parse_pythia_sources("pi0", "mu")
    with pytest.raises(GammastarError, match="no ee source 'rho_ll'"):
        parse_pythia_sources("eta,rho_ll", "e")


def test_missing_pythia_is_a_clear_error(monkeypatch, tmp_path, capsys):
    monkeypatch.setitem(sys.modules, "pythia8mc", None)  # import fails as if not installed
    rc = main(["mock", "--generator", "pythia8", "--n-events", "100", "--out", str(tmp_path / "p.parquet")])
    err = capsys.readouterr().err
    assert rc == 2 and "pip install 'gammastar[pythia]'" in err and "Traceback" not in err
    assert not (tmp_path / "p.parquet").exists()


# ----------------------------------------------------------------- with Pythia


@pytest.fixture(scope="module")
def pythia_sample():
    from gammastar.truth.pythia import generate_pythia

    return generate_pythia(PythiaConfig(n_events=60_000, seed=11), progress=False)


@needs_pythia
def test_aprime_from_pythia_matches_its_multiplicities(pythia_sample):
    """Issue acceptance: data-driven A' yields agree with the truth from Pythia's own multiplicities."""
    data, sid, truth = pythia_sample
    assert data.n_collisions == truth["n_collisions"] and len(data) >= 60_000
    masses = np.linspace(0.25, 0.6, 8)
    res = gammastar.aprime_yield(data, masses)
    expected = np.interp(masses, truth["aprime"]["mass"], truth["aprime"]["n_per_eps2"])
    pulls = (res.n_per_eps2 - expected) / res.n_err
    assert np.all(np.abs(pulls) < 3), pulls
    assert np.sum(pulls**2) / len(pulls) < 3
    # every meson was counted and gave exactly one pair
    for name, s in truth["sources"].items():
        assert np.sum(sid == s["source_id"]) == s["n_generated"], name


@needs_pythia
@pytest.mark.parametrize("spin", ["fermion", "scalar"])
def test_mcp_from_pythia_matches_its_multiplicities(pythia_sample, spin):
    data, _, truth = pythia_sample
    m_chi = np.array([0.05, 0.1, 0.15, 0.2])
    res = gammastar.mcp_yield(data, m_chi, spin=spin)
    expected = np.interp(m_chi, truth["mcp"]["m_chi"], truth["mcp"][spin]["n_pairs_per_eps2_visible"])
    assert np.all(np.abs(res.n_pairs_per_eps2 - expected) < 3 * res.n_err + 1e-3 * expected), res.n_pairs_per_eps2 / expected


@needs_pythia
def test_pythia_mock_from_the_command_line_is_reproducible(tmp_path, capsys):
    for name in ("a", "b"):
        rc = main(["mock", "--generator", "pythia8", "--n-events", "300", "--seed", "3", "--lepton", "e",
                   "--out", str(tmp_path / f"{name}.parquet")])
        assert rc == 0, capsys.readouterr().err
    ta, tb = pq.read_table(tmp_path / "a.parquet"), pq.read_table(tmp_path / "b.parquet")
    assert ta.equals(tb) and ta.num_rows >= 300
    truth = json.loads((tmp_path / "a.parquet.truth.json").read_text())
    assert set(truth["sources"]) == {"pi0", "eta", "omega", "phi"}
    # pi0 Dalitz pairs dominate an electron sample
    assert truth["sources"]["pi0"]["pairs_per_collision"] > 5 * truth["sources"]["eta"]["pairs_per_collision"]
    m = gammastar.read_dileptons(tmp_path / "a.parquet").mass
    assert np.all(m > 2 * 0.51099895e-3) and np.all(m[ta.column("source_id").to_numpy() == 0] < mass("pi0"))


#: What Pythia needs to read gammastar's LHE files (README): the protons stand for the beams and
#: the hadronic rest of the collision is not written, so no parton level and no conservation check;
#: FSR off keeps the leptons as written (with it on, Pythia adds QED radiation off them).
LHE_SETTINGS = ["Beams:frameType = 4", "PartonLevel:ISR = off", "PartonLevel:MPI = off", "PartonLevel:FSR = off",
                "PartonLevel:Remnants = off", "Check:event = off", "Next:numberCount = 0", "Print:quiet = on"]


def _read_with_pythia(path):
    import pythia8mc

    from gammastar.truth.pythia import _xmldoc

    py = pythia8mc.Pythia(_xmldoc(pythia8mc), False)
    for s in [*LHE_SETTINGS, f"Beams:LHEF = {path}"]:
        assert py.readString(s), s
    assert py.init()
    events, failed, weights = [], 0, []
    while True:
        if not py.next():
            if py.infoPython().atEndOfFile():
                break
            failed += 1
            continue
        ev = py.event
        events.append([(ev[i].id(), ev[i].isFinal(), ev[i].px(), ev[i].py(), ev[i].pz(), ev[i].e())
                       for i in range(ev.size())])
        weights.append(py.infoPython().weight())
    _read_with_pythia.weights = (np.array(weights), py.infoPython().weightSum())
    return events, failed


@pytest.mark.slow
@needs_pythia
@pytest.mark.parametrize("kind", ["aprime", "mcp"])
def test_pythia_reads_our_lhe_files(model_file, tmp_path, kind):
    """Issue: LHE readable by Pythia's LHE reader; every event read, momenta as in the Parquet output."""
    n = 300
    what = ["aprime", "--mass", "0.4", "--decay"] if kind == "aprime" else ["mcp", "--mchi", "0.1"]
    for ext in ("lhe", "parquet"):
        assert main(["generate", what[0], "--model", str(model_file), "--n", str(n), "--seed", "5",
                     "--out", str(tmp_path / f"ev.{ext}"), *what[1:]]) == 0
    events, failed = _read_with_pythia(tmp_path / "ev.lhe")
    assert failed == 0 and len(events) == n
    ref = pq.read_table(tmp_path / "ev.parquet").to_pydict()
    # the weights as written (IDWTUP = -4): each event's, and their sum the expected yield per collision
    weights, weight_sum = _read_with_pythia.weights
    np.testing.assert_allclose(weights, ref["weight"], rtol=1e-12)
    expected = float(pq.read_schema(tmp_path / "ev.parquet").metadata[b"gammastar.expected_yield"])
    assert weight_sum == pytest.approx(expected, rel=1e-9)
    if kind == "aprime":
        a = np.array([next(p[2:] for p in ev if p[0] == 4900022) for ev in events])
        a_ref = np.column_stack([ref[c] for c in ("px", "py", "pz", "e")])
        # final-state muons from the A', adding up to it
        mu = np.array([np.sum([p[2:] for p in ev if abs(p[0]) == 13 and p[1]], axis=0) for ev in events])
        assert all(sum(1 for p in ev if abs(p[0]) == 13 and p[1]) == 2 for ev in events)
        np.testing.assert_allclose(mu, a, rtol=0, atol=1e-9 * np.abs(a).max())
    else:
        a = np.array([next(p[2:] for p in ev if p[0] == 9000001) for ev in events])
        a_ref = np.column_stack([ref[f"{c}_pos"] for c in ("px", "py", "pz", "e")])  # chi = +9000001
    np.testing.assert_allclose(a, a_ref, rtol=0, atol=1e-9 * np.abs(a_ref).max())
