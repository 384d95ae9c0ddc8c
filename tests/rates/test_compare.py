"""Data-driven vs model-based: the built-in variants against independent formula evaluations, the data-driven
column against the rates, the JSON contract, user variants."""

from __future__ import annotations

import json

import numpy as np
import pytest
from scipy import integrate

import gammastar
from gammastar.errors import GammastarError
from gammastar.rates.compare import BUILTIN_VARIANTS, Variant, aprime_comparison, mcp_comparison, model_incomplete, read_variants

# PDG values written out here (not taken from the package): masses (GeV), BR(P -> gamma gamma), BR(V -> P gamma)
M = {"pi0": 0.1349768, "eta": 0.547862, "etap": 0.95778, "omega": 0.78266, "phi": 1.01946, "rho": 0.77526}
GAMMA_RHO = 0.1474  # rho(770)0, PDG
BR_GG = {"pi0": 0.98823, "eta": 0.3936, "etap": 0.0231}
BR_VPG = {"omega": ("pi0", 0.0835), "phi": ("eta", 0.01303)}
NA27 = {"pi0": 3.87, "eta": 0.30, "etap": 0.12 * 0.39, "omega": 0.39, "phi": 0.019}
PYTHIA8 = {"pi0": 5.1, "eta": 0.58, "etap": 0.061, "omega": 0.66, "phi": 0.023}
ALPHA = 1 / 137.035999


def _ff2(kind, parent, m):
    if kind == "pointlike":
        return 1.0
    if kind == "vmd":
        l2 = M["rho"] ** 2
        if parent == "etap":  # width-regularised where the range crosses the pole
            return l2 * (l2 + GAMMA_RHO**2) / ((l2 - m**2) ** 2 + l2 * GAMMA_RHO**2)
        return 1 / (1 - m**2 / l2) ** 2
    return {"pi0": (1 + 0.032 * m**2 / M["pi0"] ** 2) ** 2, "eta": 1 / (1 - 1.934 * m**2) ** 2,
            "etap": (1 / 1.7) * (1 / 1.7 + 0.01) / ((1 / 1.7 - m**2) ** 2 + 0.01 / 1.7),
            "omega": 1 / (1 - 2.223 * m**2) ** 2, "phi": 1 / (1 - m**2 / M["phi"] ** 2) ** 2}[parent]


def _n_v(mult, kind, parent, m):
    """One channel's A' per collision per eps^2 at m, from the textbook formulas."""
    if parent in BR_GG:
        if m >= M[parent]:
            return 0.0
        return mult[parent] * 2 * BR_GG[parent] * (1 - m**2 / M[parent] ** 2) ** 3 * _ff2(kind, parent, m)
    recoil, br = BR_VPG[parent]
    mv, mp = M[parent], M[recoil]
    if m >= mv - mp:
        return 0.0
    lam = (mv**2 - mp**2 - m**2) ** 2 - 4 * mp**2 * m**2
    return mult[parent] * br * (np.sqrt(lam) / (mv**2 - mp**2)) ** 3 * _ff2(kind, parent, m)


@pytest.mark.parametrize("name", sorted(BUILTIN_VARIANTS))
def test_builtin_variants_against_the_formulas(name):
    mult_name, kind = name.split("-")
    mult = {"na27": NA27, "pythia8": PYTHIA8}[mult_name]
    masses = [0.005, 0.05, 0.1, 0.13, 0.2, 0.3, 0.45, 0.5, 0.6, 0.7, 0.9]
    expected = [sum(_n_v(mult, kind, p, m) for p in mult) for m in masses]
    np.testing.assert_allclose(BUILTIN_VARIANTS[name].aprime(masses), expected, rtol=1e-3)
    # the issue's own example: na27-pointlike for the eta alone, 2 BR(eta -> gamma gamma)(1 - m^2/m_eta^2)^3 x 0.30
    if name == "na27-pointlike":
        eta_only = Variant("eta", {"eta": 0.30}, "pointlike")
        np.testing.assert_allclose(eta_only.aprime([0.3]), 2 * 0.3936 * (1 - 0.09 / M["eta"] ** 2) ** 3 * 0.30,
                                   rtol=1e-3)


@pytest.mark.parametrize("spin", ["fermion", "scalar"])
def test_chi_pairs_of_a_variant_against_adaptive_quadrature(spin):
    """Dalitz chi pairs: N_V(m) (2 alpha / 3 pi m) R_chi(m) over m > 2 m_chi, integrated independently."""
    m_chi, m_min = 0.12, 0.25

    def r_chi(m):
        b2 = 1 - 4 * m_chi**2 / m**2
        return np.sqrt(b2) * (1 + 2 * m_chi**2 / m**2) if spin == "fermion" else 0.25 * b2**1.5

    for name in ("na27-na60", "pythia8-vmd"):
        mult_name, kind = name.split("-")
        mult = {"na27": NA27, "pythia8": PYTHIA8}[mult_name]
        total = 0.0
        for p in mult:
            end = M[p] if p in BR_GG else M[p] - M[BR_VPG[p][0]]
            lo = max(2 * m_chi, m_min)
            if lo < end:
                total += integrate.quad(lambda m, p=p, mult=mult, kind=kind: _n_v(mult, kind, p, m) * 2 * ALPHA / (3 * np.pi * m) * r_chi(m),
                                        lo, end, limit=200, epsrel=1e-10)[0]
        np.testing.assert_allclose(BUILTIN_VARIANTS[name].mcp([m_chi], spin, m_min), [total], rtol=1e-3)


def test_the_data_driven_column_is_the_rates(dalitz_mock):
    data, _, _ = dalitz_mock
    masses = [0.25, 0.4, 0.5, 0.65]
    comp = aprime_comparison(data, masses)
    rates = gammastar.aprime_yield(data, masses)
    np.testing.assert_array_equal(comp.data_driven, rates.n_per_eps2)
    np.testing.assert_array_equal(comp.data_driven_err, rates.n_err)
    assert list(comp.models) == sorted(BUILTIN_VARIANTS, key=list(BUILTIN_VARIANTS).index) and len(comp.models) == 6
    assert comp.model_incomplete.tolist() == [False, False, False, True]
    spread = comp.model_spread
    np.testing.assert_allclose(spread, np.max(list(comp.models.values()), axis=0) / np.min(list(comp.models.values()),
                                                                                        axis=0))
    # the mock is NA27's multiplicities with the measured form factors: that variant closes on the data
    pull = (comp.models["na27-na60"] - comp.data_driven) / comp.data_driven_err
    assert np.all(np.abs(pull[:3]) < 4), pull
    chi = mcp_comparison(data, [0.05, 0.1], "scalar")
    np.testing.assert_array_equal(chi.data_driven, gammastar.mcp_yield(data, [0.05, 0.1], spin="scalar").n_pairs_per_eps2)


def test_cli_json_contract_and_plot(run, dalitz_parquet, tmp_path):
    rc, out, err = run("compare", "aprime", "--data", dalitz_parquet, "--mass", "0.3,0.5,0.7", "--json",
                       "--plot", tmp_path / "c.png")
    assert rc == 0, err
    d = json.loads(out)
    assert {"mass", "data_driven", "data_driven_err", "models", "model_spread", "normalization", "lepton",
            "model_incomplete"} <= set(d)
    assert set(d["models"]) == set(BUILTIN_VARIANTS) and d["mass"] == [0.3, 0.5, 0.7] and d["lepton"] == "mu"
    assert d["normalization"] == "per_collision" and d["model_incomplete"] == [False, False, True]
    assert (tmp_path / "c.png").stat().st_size > 10_000
    rc, out, err = run("compare", "mcp", "--data", dalitz_parquet, "--mchi", "0.05,0.1", "--spin", "scalar", "--json")
    assert rc == 0, err
    d = json.loads(out)
    assert d["m_chi"] == [0.05, 0.1] and d["spin"] == "scalar" and len(d["models"]["na27-na60"]) == 2


def test_user_variants_and_other_beams(run, dalitz_parquet, tmp_path):
    toml = tmp_path / "v.toml"
    toml.write_text('[variants.half]\nbeam_energy = 400\nform_factors = "na60"\n'
                    'multiplicity = { eta = 0.15, etap = 0.0234, omega = 0.195, phi = 0.0095 }\n')
    v = read_variants(toml)["half"]
    np.testing.assert_allclose(v.aprime([0.3, 0.45]), 0.5 * BUILTIN_VARIANTS["na27-na60"].aprime([0.3, 0.45]), rtol=1e-12)
    rc, out, err = run("compare", "aprime", "--data", dalitz_parquet, "--mass", "0.3", "--json", "--variants", toml)
    assert rc == 0 and len(json.loads(out)["models"]) == 7
    # data from other beams: the built-in (400 GeV) variants are left out, and the command says so
    rc, out, err = run("compare", "aprime", "--data", dalitz_parquet, "--mass", "0.3", "--json", "--beam-energy", 158,
                       "--variants", toml)
    assert rc == 0 and list(json.loads(out)["models"]) == ["half"]
    assert "only the variants given are compared" in err and "variant half is for 400 GeV" in err
    for text, fragment in (('[variants.x]\nform_factors = "nope"\nmultiplicity = { eta = 1 }\n', "form_factors"),
                           ('[variants.x]\nform_factors = "vmd"\nmultiplicity = { kaon = 1 }\n', "unknown meson"),
                           ('[variants.x]\nform_factors = "vmd"\nmultiplicity = { eta = -1 }\n', ">= 0"),
                           ('[other]\n', "only [variants.NAME]"), ("not toml [", "not valid TOML")):
        toml.write_text(text)
        rc, _, err = run("compare", "aprime", "--data", dalitz_parquet, "--mass", "0.3", "--variants", toml)
        assert rc == 2 and fragment in err and "Traceback" not in err, err
    d = gammastar.read_dileptons(dalitz_parquet)
    with pytest.raises(GammastarError, match="per collision"):  # a sample without n_collisions: per sample
        aprime_comparison(gammastar.EventSample(d.pos, d.neg, d.weight, d.lepton, None), [0.3])


def test_incomplete_masses():
    assert model_incomplete([0.3, 0.5, 0.59, 0.61, 0.78, 1.02]).tolist() == [False, False, False, True, True, True]


def test_compare_says_what_share_of_the_phase_space_the_data_see(dalitz_mock, tmp_path, run):
    """Pairs seen through a spectrometer's rapidity window (3.3 < y < 4.3) hold a minority of the phase space; the
    model-based yields count all of it: data_coverage says so, and stderr warns.  Full acceptance: ~1, no warning."""
    from gammastar.io.pairs import write_dileptons
    from gammastar.physics.kinematics import pair_kinematics

    data, _, _ = dalitz_mock
    y = pair_kinematics(data.pos, data.neg).y
    window = write_dileptons(tmp_path / "window.parquet", data.select((y > 3.3) & (y < 4.3)))
    full = write_dileptons(tmp_path / "full.parquet", data)
    for path, seen in ((full, True), (window, False)):
        rc, out, err = run("compare", "aprime", "--data", path, "--mass", "0.25:0.45:0.1", "--json")
        assert rc == 0, err
        coverage = json.loads(out)["data_coverage"]
        if seen:
            assert min(coverage) >= 0.9 and "phase space" not in err
        else:
            # a third of the pairs lie in the window; the reference, wider in rapidity than the mock, says less
            assert max(coverage) <= 0.5 and "the data hold pairs in" in err
