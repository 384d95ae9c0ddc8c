"""Closure: data-driven A' and mCP yields from the mock vs the direct formulas of PHYSICS.md section 3."""

import json

import hist
import numpy as np
import pytest

import gammastar
from gammastar.errors import GammastarError
from gammastar.io.pairs import write_dileptons
from gammastar.samples import EventSample
from gammastar.truth.cocktail import DALITZ, MockConfig, direct_aprime_yield, direct_mcp_yield
from gammastar.truth.mock import generate_mock

M_MU = 0.1056583755


def test_aprime_closure_on_dalitz_mock(dalitz_mock):
    """Issue acceptance: nine masses 0.25-0.8 GeV, within max(3 n_err, 5%), n_err < 20%, chi2/ndf < 3."""
    data, _, _ = dalitz_mock
    masses = np.linspace(0.25, 0.8, 9)
    res = gammastar.aprime_yield(data, masses)
    truth = direct_aprime_yield(masses, DALITZ)
    diff = np.abs(res.n_per_eps2 - truth)
    assert np.all(diff < np.maximum(3 * res.n_err, 0.05 * truth)), (res.n_per_eps2 / truth - 1)
    assert np.all(res.n_err < 0.2 * res.n_per_eps2)
    pulls = (res.n_per_eps2 - truth) / res.n_err
    assert np.sum(pulls**2) / len(pulls) < 3
    assert res.normalization == "per_collision" and res.lepton == "mu"


@pytest.mark.parametrize("spin", ["fermion", "scalar"])
def test_mcp_closure_on_dalitz_mock(dalitz_mock, spin):
    """Issue acceptance: m_chi 0.05-0.25 GeV within 5% of the direct formula over the visible region."""
    data, _, _ = dalitz_mock
    m_chi = np.linspace(0.05, 0.25, 9)
    res = gammastar.mcp_yield(data, m_chi, spin=spin)
    truth = direct_mcp_yield(m_chi, spin, DALITZ, m_min=2 * M_MU)
    np.testing.assert_allclose(res.n_pairs_per_eps2, truth, rtol=0.05)
    # and within the statistical error too (4 sigma, errors are ~0.2-1%)
    assert np.all(np.abs(res.n_pairs_per_eps2 - truth) < 4 * res.n_err + 1e-3 * truth)
    np.testing.assert_array_equal(res.incomplete_at, m_chi < M_MU)
    assert res.incomplete and res.m_min == pytest.approx(2 * M_MU)


def test_electron_closure_reaches_below_dimuon_threshold():
    data, _, _ = generate_mock(MockConfig(n_events=300_000, seed=9, lepton="e", sources=("eta", "omega")),
                               progress=False)
    masses = np.array([0.05, 0.15, 0.3, 0.45])
    res = gammastar.aprime_yield(data, masses)
    truth = direct_aprime_yield(masses, ("eta", "omega"))
    assert np.all(np.abs(res.n_per_eps2 - truth) < np.maximum(3 * res.n_err, 0.05 * truth))
    mc = gammastar.mcp_yield(data, [0.05, 0.1], spin="scalar")
    assert not mc.incomplete  # electrons see down to 2 m_e
    np.testing.assert_allclose(mc.n_pairs_per_eps2,
                               direct_mcp_yield([0.05, 0.1], "scalar", ("eta", "omega"), 2 * 0.51099895e-3), rtol=0.02)


def test_pi0_dalitz_closure_for_electrons():
    """Below the pi0 mass the electron cocktail is pi0 -> gamma A' (with eta and omega Dalitz beneath it)."""
    sources = ("pi0", "eta", "omega")
    data, _, _ = generate_mock(MockConfig(n_events=300_000, seed=5, lepton="e", sources=sources), progress=False)
    masses = np.array([0.01, 0.03, 0.05, 0.08, 0.10])
    res = gammastar.aprime_yield(data, masses)
    truth = direct_aprime_yield(masses, sources)
    assert np.all(direct_aprime_yield(masses, ("pi0",)) > 0.5 * truth)
    assert np.all(np.abs(res.n_per_eps2 - truth) < 3 * res.n_err), ((res.n_per_eps2 - truth) / res.n_err)


def test_photon_yield_and_dilepton_density(dalitz_mock):
    data, _, _ = dalitz_mock
    ph = gammastar.photon_yield(data, [0.3, 0.4])
    ap = gammastar.aprime_yield(data, [0.3, 0.4])
    np.testing.assert_allclose(ph.n_v, ap.n_per_eps2)
    # dN_ll/dm integrates, over a 10 MeV window, to the fraction of pairs there
    m = data.mass
    for x, d in zip(ph.mass, ph.dn_ll_dm, strict=True):
        frac = np.sum(np.abs(m - x) < 0.005) / data.n_collisions
        assert d * 0.01 == pytest.approx(frac, rel=0.05)


def test_yields_per_sample_without_n_collisions(dalitz_mock):
    data, _, _ = dalitz_mock
    per_sample = EventSample(data.pos, data.neg, data.weight, "mu")
    a = gammastar.aprime_yield(per_sample, [0.4])
    b = gammastar.aprime_yield(data, [0.4])
    assert a.normalization == "per_sample"
    assert a.n_per_eps2[0] == pytest.approx(b.n_per_eps2[0] * data.n_collisions, rel=1e-12)


def test_csv_and_parquet_give_identical_results(dalitz_mock, tmp_path):
    data, _, _ = dalitz_mock
    sub = EventSample(data.pos[:50_000], data.neg[:50_000], data.weight[:50_000], "mu", 1e9)
    results = []
    for name in ("pairs.parquet", "pairs.csv", "pairs.csv.gz"):
        path = write_dileptons(tmp_path / name, sub)
        d = gammastar.read_dileptons(path, n_collisions=1e9)
        results.append((gammastar.aprime_yield(d, "0.25:0.5:0.05"), gammastar.mcp_yield(d, [0.12])))
    for ap, mc in results[1:]:
        np.testing.assert_array_equal(ap.n_per_eps2, results[0][0].n_per_eps2)
        np.testing.assert_array_equal(ap.n_err, results[0][0].n_err)
        np.testing.assert_array_equal(mc.n_pairs_per_eps2, results[0][1].n_pairs_per_eps2)


def test_mass_spec_parsing():
    np.testing.assert_allclose(gammastar.parse_mass_spec("0.25:0.8:0.05"), np.arange(0.25, 0.8001, 0.05))
    np.testing.assert_allclose(gammastar.parse_mass_spec("0.3, 0.5"), [0.3, 0.5])
    for bad in ("0.3:0.2:0.1", "a,b", "0.1:0.2", "0.1:0.5:0", "-0.1", ""):
        with pytest.raises(GammastarError):
            gammastar.parse_mass_spec(bad)


def test_spectra_and_yields_as_hist(dalitz_mock):
    """hist.Hist views: the fine bins hold every pair's weight; yields one bin per mass with variance err^2."""
    data, _, _ = dalitz_mock
    h = data.mass_spectrum().to_hist()
    assert h.sum().value == pytest.approx(data.weight.sum(), rel=1e-12)
    assert h.sum().variance == pytest.approx(np.sum(data.weight**2), rel=1e-12)
    part = h[hist.loc(0.5):hist.loc(0.6)]
    lo, hi = part.axes[0].edges[0], part.axes[0].edges[-1]
    assert abs(lo - 0.5) < 1e-4 and abs(hi - 0.6) < 1e-4
    assert part.sum().value == np.sum((data.mass >= lo) & (data.mass < hi))
    ap = gammastar.aprime_yield(data, [0.3, 0.4, 0.6, 2.0])
    ha = ap.to_hist()
    assert ha.axes[0].size == 4 and ha.axes[0].index(0.4) == 1 and ha.axes[0].index(0.6) == 2
    np.testing.assert_array_equal(ha.values()[:3], ap.n_per_eps2[:3])
    np.testing.assert_allclose(ha.variances()[:3], ap.n_err[:3] ** 2)
    assert np.isnan(ha.values()[3])  # 2 GeV is beyond the data: NaN, like the result
    mc = gammastar.mcp_yield(data, [0.1, 0.2], spin="scalar").to_hist()
    assert mc.axes[0].name == "m_chi" and mc.values()[0] > mc.values()[1] > 0


def test_mcp_yields_say_when_the_data_start_above_threshold(dalitz_mock, tmp_path):
    """Issue 11: m_min is where the data start. Pairs cut at 0.4 GeV: m_chi < 0.2 GeV is the visible part only."""
    data, _, _ = dalitz_mock
    keep = data.mass > 0.4
    cut = EventSample(data.pos[keep], data.neg[keep], data.weight[keep], "mu", data.n_collisions)
    m_chi = np.array([0.01, 0.05, 0.15, 0.25])
    res = gammastar.mcp_yield(cut, m_chi, spin="fermion")
    assert res.m_min == pytest.approx(cut.mass.min()) and res.m_min > 0.4
    np.testing.assert_array_equal(res.incomplete_at, 2 * m_chi < res.m_min)
    # the visible part is still reported: the sum over the pairs there, the direct formula above 0.4 GeV
    visible = direct_mcp_yield(m_chi[:3], "fermion", DALITZ, m_min=res.m_min)
    assert np.all(np.abs(res.n_pairs_per_eps2[:3] - visible) < 4 * res.n_err[:3] + 0.02 * visible)
    full = gammastar.mcp_yield(data, m_chi, spin="fermion")
    np.testing.assert_array_equal(full.incomplete_at, m_chi < M_MU)  # from threshold: only m_chi < m_mu
    assert np.all(res.n_pairs_per_eps2[:2] < 0.8 * full.n_pairs_per_eps2[:2])  # what the cut hides


def test_mcp_yields_from_a_table_that_starts_late():
    """An e+e- table from 0.2 GeV: the light m_chi are flagged, not silently low."""
    from gammastar.samples import PublishedSpectrum

    lo = np.arange(0.2, 0.8, 0.01)
    value = np.exp(-lo / 0.15)
    table = PublishedSpectrum(lo, lo + 0.01, value, 0.01 * value, 0.0 * value, "e", None, "toy")
    res = gammastar.mcp_yield(table, [0.01, 0.05, 0.15], spin="scalar")
    assert res.m_min == pytest.approx(0.2) and list(res.incomplete_at) == [True, True, False]


def test_masses_near_narrow_resonances_are_flagged(run, dalitz_parquet):
    """Issue 11: within 3 half-widths (plus 3 widths) of omega or phi, the value is a smoothed N_V: flagged."""
    from particle import Particle

    peaks = {"omega": Particle.from_pdgid(223), "phi": Particle.from_pdgid(333)}
    masses = [0.5, 0.7, 0.77, 0.7827, 0.8, 0.9]
    rc, out, err = run("rates", "aprime", "--data", dalitz_parquet, "--mass", ",".join(map(str, masses)), "--json")
    assert rc == 0, err
    d = json.loads(out)
    for m, h, name, limited in zip(masses, d["bandwidth"], d["resonance"], d["resolution_limited"], strict=True):
        near = [n for n, p in peaks.items() if abs(m - p.mass / 1000) <= 3 * h + 3 * p.width / 1000]
        assert (name is not None) == bool(near) == limited and (name in near if near else True)
    assert d["resolution_limited"][3] and d["resonance"][3] == "omega" and not d["resolution_limited"][0]
    assert "resolution_limited" in err and "not the A' yield" in err
