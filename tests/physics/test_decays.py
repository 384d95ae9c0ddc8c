"""Issue 12, requirement 1: A' lifetime and branching ratios (`gammastar widths`, `gammastar.aprime_decay`)."""

import json
import math

import numpy as np
import pytest

import gammastar
from gammastar.physics.decays import shipped_table

HBARC = 1.973269804e-16  # GeV m (PDG)
ALPHA = 1 / 137.035999084
M_E, M_MU, M_PI = 0.51099895e-3, 0.1056583755, 0.13957039


def leptonic_ctau(m):
    """c tau at eps = 1 from Gamma = sum_l alpha m/3 (1 + 2 r) sqrt(1 - 4 r), r = m_l^2/m^2 (PHYSICS.md section 4)."""
    width = 0.0
    for m_l in (M_E, M_MU):
        r = (m_l / m) ** 2
        if 4 * r < 1:
            width += ALPHA * m / 3 * (1 + 2 * r) * math.sqrt(1 - 4 * r)
    return HBARC / width


def test_exact_leptonic_widths_below_two_pions():
    masses = np.array([0.002, 0.05, 0.2, 0.215, 0.27])
    dec = gammastar.aprime_decay(masses)
    want = np.array([leptonic_ctau(m) for m in masses])
    np.testing.assert_allclose(dec.ctau_m_eps1, want, rtol=1e-6)
    assert dec.table == ("leptonic",) * 5
    np.testing.assert_allclose(dec.br_ee + dec.br_mumu, 1.0, rtol=1e-12)
    assert dec.br_mumu[2] == 0.0 and dec.br_mumu[3] > 0  # 2 m_mu = 0.2113 GeV
    # the shipped tables agree with the formula there (PHYSICS.md: to 1e-3)
    for name in ("foresee2025", "darkcast"):
        t = shipped_table(name)
        inside = (t.mass > 0.01) & (t.mass < 2 * M_PI - 0.005)
        formula = np.array([leptonic_ctau(m) for m in t.mass[inside]])
        assert np.max(np.abs(t.ctau[inside] / formula - 1)) < 2e-3, name


def test_reference_numbers_of_physics_md():
    dec = gammastar.aprime_decay([0.3, 0.78])
    assert dec.ctau_m_eps1[0] == pytest.approx(1.42e-13, rel=0.01) and dec.br_mumu[0] == pytest.approx(0.466, abs=0.002)
    assert dec.ctau_m_eps1[1] == pytest.approx(5.2e-15, rel=0.03) and dec.br_mumu[1] == pytest.approx(0.050, abs=0.002)
    np.testing.assert_allclose(dec.ctau(1e-3), dec.ctau_m_eps1 * 1e6)
    assert dec.ctau([1e-3, 1e-4]).shape == (2, 2)


def test_tables_in_their_ranges_and_the_spread_between_them():
    dec = gammastar.aprime_decay([0.5, 1.5, 2.5, 9.9])
    assert dec.table == ("foresee2025", "foresee2025", "darkcast", "darkcast")
    assert 0 < dec.ctau_model_spread[0] < 0.03 and dec.ctau_model_spread[2] == 0.0  # only darkcast at 2.5 GeV
    total = dec.br_ee + dec.br_mumu + dec.br_hadrons
    np.testing.assert_allclose(total[:3], 1.0, atol=2e-3)
    assert 0.8 < total[3] < 0.9  # tau tau takes the rest at 9.9 GeV
    with pytest.raises(gammastar.GammastarError, match="give one that does with `widths=FILE`"):
        gammastar.aprime_decay([11.0])
    with pytest.raises(gammastar.GammastarError, match="cannot decay"):
        gammastar.aprime_decay([0.0005])


def test_cli_json_contract_and_a_user_table(run, tmp_path):
    rc, out, err = run("widths", "--mass", "0.1,0.5", "--json")
    assert rc == 0, err
    d = json.loads(out)
    assert {"mass", "ctau_m_eps1", "br_ee", "br_mumu", "br_hadrons", "table"} <= set(d)
    assert d["mass"] == [0.1, 0.5] and d["table"] == ["leptonic", "foresee2025"]
    user = tmp_path / "mine.csv"
    user.write_text("mass_gev,ctau_m_eps1,br_ee,br_mumu,br_hadrons\n0.2,1e-13,0.5,0.3,0.2\n3.0,1e-14,0.2,0.2,0.6\n")
    rc, out, err = run("widths", "--mass", "0.1,1.6", "--widths", user, "--json")
    assert rc == 0, err
    d = json.loads(out)
    assert d["table"] == ["leptonic", "mine.csv"]
    # linear in the width 1/c tau: at 1.6 GeV, halfway between 1e13 and 1e14
    assert d["ctau_m_eps1"][1] == pytest.approx(1 / (0.5 * (1e13 + 1e14)), rel=1e-9)
    assert d["br_hadrons"][1] == pytest.approx(0.4)
    rc, out, err = run("widths", "--mass", "0.01:3:0.01", "--plot", tmp_path / "w.png")
    assert rc == 0 and (tmp_path / "w.png").stat().st_size > 0 and "spread" in out
    user.write_text("mass_gev,ctau_m_eps1,br_ee\n0.2,1e-13,0.5\n")
    rc, _, err = run("widths", "--mass", "0.5", "--widths", user)
    assert rc == 2 and err.startswith("error: decay table ") and "br_mumu" in err and "\n" not in err.strip()
