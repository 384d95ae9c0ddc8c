"""Physics formulas against independent numbers: analytic limits, PDG values, PHYSICS.md checks."""

import numpy as np
import pytest
from scipy import integrate

from gammastar.physics import formfactors as ff
from gammastar.physics.formulas import (
    br_pseudoscalar_to_gamma_aprime,
    br_vector_to_pseudoscalar_aprime,
    dalitz_pseudoscalar_dgamma_dm,
    dalitz_vector_dgamma_dm,
    kallen,
    phi_l,
    r_chi,
    r_lepton,
    sqrt_s_fixed_target,
    y_beam,
)
from gammastar.physics.pdg import ALPHA, BR, mass

M_E, M_MU = 0.51099895e-3, 0.1056583755  # PHYSICS.md section 5


def test_pdg_masses_match_physics_table():
    table = {"e": M_E, "mu": M_MU, "pi0": 0.1349768, "eta": 0.547862, "etap": 0.95778,
             "rho": 0.77526, "omega": 0.78266, "phi": 1.019461}
    for name, value in table.items():
        assert mass(name) == pytest.approx(value, rel=2e-6), name


def test_kallen_function():
    # lambda(a, b, c) = (a - (sqrt b + sqrt c)^2)(a - (sqrt b - sqrt c)^2)
    a, b, c = 1.2**2, 0.3**2, 0.5**2
    expected = (a - (0.3 + 0.5) ** 2) * (a - (0.3 - 0.5) ** 2)
    assert kallen(a, b, c) == pytest.approx(expected, rel=1e-12)
    assert kallen(4.0, 0.0, 0.0) == pytest.approx(16.0)
    assert kallen(a, b, c) == pytest.approx(kallen(c, a, b))  # symmetric
    assert kallen(1.0, 0.25, 0.25) == pytest.approx(0.0, abs=1e-15)  # at threshold M = m1 + m2


def test_r_lepton_limits():
    m = np.array([0.1, 2 * M_MU, 2 * M_MU * np.sqrt(2), 100.0])
    r = r_lepton(m, M_MU)
    assert r[0] == 0.0 and r[1] == 0.0  # below and at threshold
    assert r[2] == pytest.approx(1.25 * np.sqrt(0.5), rel=1e-12)  # x = 1/8
    assert r[3] == pytest.approx(1.0, abs=1e-5)  # massless limit
    assert np.all(np.diff(r_lepton(np.linspace(0.22, 3, 100), M_MU)) > 0)


def test_r_chi_limits():
    assert r_chi(50.0, 0.1, "scalar") == pytest.approx(0.25, rel=1e-4)
    assert r_chi(50.0, 0.1, "fermion") == pytest.approx(1.0, rel=1e-4)
    assert r_chi(0.19, 0.1, "scalar") == 0.0
    # near threshold the scalar is P-wave (beta^3), the fermion S-wave (beta)
    m = 0.2 * (1 + 1e-4)
    beta = np.sqrt(1 - 4 * 0.01 / m**2)
    assert r_chi(m, 0.1, "scalar") == pytest.approx(0.25 * beta**3, rel=1e-9)
    assert r_chi(m, 0.1, "fermion") == pytest.approx(1.5 * beta, rel=1e-3)
    with pytest.raises(ValueError):
        r_chi(1.0, 0.1, "vector")


def test_fixed_target_kinematics():
    assert sqrt_s_fixed_target(400.0) == pytest.approx(27.4, abs=0.05)
    assert sqrt_s_fixed_target(158.0) == pytest.approx(17.3, abs=0.05)
    m_p = 0.93827208943
    p = np.sqrt(400.0**2 - m_p**2)
    # E - p = m^2/(E + p) avoids the cancellation in the textbook form
    assert y_beam(400.0) == pytest.approx(0.5 * np.log((400.0 + p) ** 2 / m_p**2), rel=1e-12)
    assert y_beam(400.0) == pytest.approx(6.8, abs=0.06)


def test_pi0_dalitz_kroll_wada():
    """Gamma(pi0 -> g ee)/Gamma(gg) with |F| = 1: PHYSICS.md 0.011851 and the leading-log formula.

    Leading-log: (2 alpha/3 pi)(2 ln(M/m_e) - 7/2), exact up to O(m_e^2/M^2 ln) ~ 1e-4 relative.
    PDG 0.01174/0.98823 = 0.01188 includes radiative corrections (~0.3%).
    """
    m_pi = mass("pi0")
    val, _ = integrate.quad(lambda m: dalitz_pseudoscalar_dgamma_dm(m, m_pi, M_E), 2 * M_E, m_pi,
                            points=[2.02 * M_E], limit=200)
    leading_log = 2 * ALPHA / (3 * np.pi) * (2 * np.log(m_pi / M_E) - 3.5)
    assert val == pytest.approx(0.011851, abs=1e-6)
    assert val == pytest.approx(leading_log, rel=2e-4)
    assert val == pytest.approx(BR["pi0->gee"] / BR["pi0->gg"], rel=5e-3)


def _integrate(f, lo, hi):
    return integrate.quad(f, lo, hi, limit=400, epsrel=1e-10)[0]


def test_eta_dalitz_mumu_with_na60_form_factor():
    """BR(eta -> g mu mu) = 3.24e-4 (PHYSICS.md quad) vs PDG (3.1 +- 0.4)e-4: within 1 sigma."""
    m_eta = mass("eta")
    ratio = _integrate(lambda m: dalitz_pseudoscalar_dgamma_dm(
        m, m_eta, M_MU, ff.pole_ff2(m, ff.NA60_INV_LAMBDA2_ETA)), 2 * M_MU, m_eta)
    br = ratio * BR["eta->gg"]
    assert br == pytest.approx(3.24e-4, rel=5e-3)
    assert abs(br - 3.1e-4) < 0.4e-4


def test_etap_and_omega_dalitz_against_physics_md():
    m_etap, m_om, m_pi = mass("etap"), mass("omega"), mass("pi0")
    etap = _integrate(lambda m: dalitz_pseudoscalar_dgamma_dm(
        m, m_etap, M_MU, ff.regularised_pole_ff2(m, 1.7, 0.10)), 2 * M_MU, m_etap) * BR["etap->gg"]
    assert etap == pytest.approx(1.14e-4, rel=0.01)
    assert etap == pytest.approx(1.09e-4, rel=0.25)  # PDG, +-25%
    om_mu = _integrate(lambda m: dalitz_vector_dgamma_dm(
        m, m_om, m_pi, M_MU, ff.pole_ff2(m, ff.NA60_INV_LAMBDA2_OMEGA)), 2 * M_MU, m_om - m_pi) * BR["omega->pi0g"]
    assert om_mu == pytest.approx(1.03e-4, rel=0.01)
    om_mu_pointlike = _integrate(lambda m: dalitz_vector_dgamma_dm(m, m_om, m_pi, M_MU), 2 * M_MU, m_om - m_pi)
    assert om_mu_pointlike * BR["omega->pi0g"] == pytest.approx(0.46e-4, rel=0.01)
    om_ee = integrate.quad(lambda m: dalitz_vector_dgamma_dm(
        m, m_om, m_pi, M_E, ff.pole_ff2(m, ff.NA60_INV_LAMBDA2_OMEGA)), 2 * M_E, m_om - m_pi,
        points=[2.02 * M_E, 0.01], limit=400)[0] * BR["omega->pi0g"]
    assert om_ee == pytest.approx(7.9e-4, rel=0.01)
    assert abs(om_ee - 7.7e-4) < 0.6e-4  # PDG (7.7 +- 0.6)e-4


def test_correspondence_reproduces_direct_aprime_formulas():
    """N_V = dN_ll/dm / phi_l equals BR(P -> g A')/eps^2 (two formulas of PHYSICS.md)."""
    m = np.linspace(0.22, 0.54, 17)
    m_eta = mass("eta")
    f2 = ff.pole_ff2(m, 1.9)
    dll = BR["eta->gg"] * dalitz_pseudoscalar_dgamma_dm(m, m_eta, M_MU, f2)
    np.testing.assert_allclose(dll / phi_l(m, M_MU),
                               br_pseudoscalar_to_gamma_aprime(m, m_eta, BR["eta->gg"], f2), rtol=1e-12)
    m_om, m_pi = mass("omega"), mass("pi0")
    dll_v = BR["omega->pi0g"] * dalitz_vector_dgamma_dm(m, m_om, m_pi, M_E)
    np.testing.assert_allclose(dll_v / phi_l(m, M_E),
                               br_vector_to_pseudoscalar_aprime(m, m_om, m_pi, BR["omega->pi0g"]), rtol=1e-12)
    # and the A' BR at m -> 0 is twice the gamma gamma one (two photons to pick)
    assert br_pseudoscalar_to_gamma_aprime(1e-6, m_eta, BR["eta->gg"]) == pytest.approx(2 * BR["eta->gg"])
