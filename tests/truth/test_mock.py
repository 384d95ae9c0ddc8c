"""The built-in cocktail: reproducibility, normalisation, spectra and angular laws against formulas."""

import numpy as np
import pytest
from scipy import integrate, stats

from gammastar.errors import GammastarError
from gammastar.physics.kinematics import boost, pair_kinematics
from gammastar.physics.pdg import BR, mass
from gammastar.truth.cocktail import DALITZ, SOURCES, MockConfig, direct_aprime_yield, direct_mcp_yield, parse_sources
from gammastar.truth.direct import direct_aprime_events
from gammastar.truth.mock import generate_mock
from gammastar.truth.production import decay_gamma_star  # the decay step, tested in isolation

M_MU = 0.1056583755


def test_same_seed_same_events_and_different_seed_differs():
    cfg = MockConfig(n_events=5000, seed=11)
    a, sa, _ = generate_mock(cfg, progress=False)
    b, sb, _ = generate_mock(cfg, progress=False)
    c, _, _ = generate_mock(MockConfig(n_events=5000, seed=12), progress=False)
    np.testing.assert_array_equal(a.pos, b.pos)
    np.testing.assert_array_equal(a.neg, b.neg)
    np.testing.assert_array_equal(sa, sb)
    assert not np.array_equal(a.pos, c.pos)


def test_normalisation_and_truth_record(dalitz_mock):
    data, sid, truth = dalitz_mock
    srcs = truth["sources"]
    total = sum(s["pairs_per_collision"] for s in srcs.values())
    assert data.n_collisions == pytest.approx(400_000 / total, rel=1e-12)
    # PHYSICS.md integrated BRs with these form factors
    assert srcs["eta"]["br_ll"] == pytest.approx(3.24e-4, rel=0.01)
    assert srcs["etap"]["br_ll"] == pytest.approx(1.14e-4, rel=0.01)
    assert srcs["omega"]["br_ll"] == pytest.approx(1.03e-4, rel=0.01)
    # per-source counts follow the multinomial split
    for name, s in srcs.items():
        expected = 400_000 * s["pairs_per_collision"] / total
        assert abs(s["n_generated"] - expected) < 5 * np.sqrt(expected) + 1, name
        assert np.sum(sid == SOURCES.index(name)) == s["n_generated"]
    assert truth["aprime"]["n_per_eps2"][10] == pytest.approx(
        direct_aprime_yield(truth["aprime"]["mass"][10], DALITZ), rel=1e-12)


def test_dalitz_mass_spectrum_follows_formula(dalitz_mock):
    """Binned eta-Dalitz pair masses vs the integrated Kroll-Wada formula: chi2 test."""
    data, sid, _ = dalitz_mock
    m = data.mass[sid == SOURCES.index("eta")]
    edges = np.linspace(2 * M_MU, mass("eta"), 41)
    counts, _ = np.histogram(m, edges)
    alpha = 1 / 137.035999
    m_eta = mass("eta")

    def dens(t):  # (4 alpha/3 pi t)(1-t^2/M^2)^3 |F|^2 R_mu, written out independently
        x = M_MU**2 / t**2
        return 4 * alpha / (3 * np.pi * t) * (1 - t**2 / m_eta**2) ** 3 / (1 - 1.934 * t**2) ** 2 \
            * (1 + 2 * x) * np.sqrt(max(1 - 4 * x, 0))

    prob = np.array([integrate.quad(dens, a, b)[0] for a, b in zip(edges[:-1], edges[1:], strict=True)])
    expected = m.size * prob / prob.sum()
    chi2 = np.sum((counts - expected) ** 2 / expected)
    assert stats.chi2.sf(chi2, len(counts) - 1) > 1e-3, chi2


def test_kroll_wada_decay_angle():
    """gamma* -> mu mu at fixed mass: <cos^2 theta> about the polarisation axis matches 1 + c^2 + a s^2."""
    rng = np.random.default_rng(5)
    n, m = 200_000, 0.3
    axis = np.tile([0.0, 0.0, 1.0], (n, 1))
    vstar = np.tile([0.0, 0.0, 0.0, m], (n, 1))
    lp, lm = decay_gamma_star(vstar, np.full(n, m), M_MU, axis, rng)
    c = lp[:, 2] / np.linalg.norm(lp[:, :3], axis=1)
    a = 4 * M_MU**2 / m**2
    expected = (2 / 3 + 2 / 5 + a * (2 / 3 - 2 / 5)) / (2 + 2 / 3 + a * 4 / 3)
    sigma = np.std(c**2) / np.sqrt(n)
    assert abs(np.mean(c**2) - expected) < 4 * sigma
    assert abs(np.mean(c**2) - 1 / 3) > 10 * sigma  # not isotropic
    np.testing.assert_allclose(lp + lm, vstar, atol=1e-12)
    # complex scalars from a transverse gamma*: n.H.n ~ sin^2 theta, so <cos^2> = 1/5
    sp, _ = decay_gamma_star(vstar, np.full(n, m), 0.1, axis, rng, spin="scalar")
    cs = sp[:, 2] / np.linalg.norm(sp[:, :3], axis=1)
    assert abs(np.mean(cs**2) - 0.2) < 4 * np.std(cs**2) / np.sqrt(n)


def test_vector_meson_kinematics_follow_mt_scaling():
    """omega -> mu mu pairs are the parent: <m_T - m> = T (m + 2T)/(m + T), y ~ N(y_beam/2, 1), isotropic decay."""
    cfg = MockConfig(n_events=100_000, seed=3, sources=("omega_ll",))
    data, _, truth = generate_mock(cfg, progress=False)
    k = pair_kinematics(data.pos, data.neg)
    near = np.abs(k.m - mass("omega")) < 0.02
    mt = np.sqrt(k.pt[near] ** 2 + k.m[near] ** 2)
    t, mm = cfg.temperature, k.m[near]
    expected = np.mean(t * (mm + 2 * t) / (mm + t))
    assert abs(np.mean(mt - mm) - expected) < 4 * np.std(mt - mm) / np.sqrt(near.sum())
    assert abs(k.y.mean() - truth["y_cm"]) < 4 / np.sqrt(k.y.size)
    assert abs(k.y.std() - 1.0) < 0.02
    # isotropic in the pair rest frame: <cos^2> = 1/3 about the pair direction
    p = data.pos + data.neg
    beta = p[:, :3] / p[:, 3:4]
    lp = boost(data.pos, -beta)
    c = np.einsum("ij,ij->i", lp[:, :3], beta) / np.linalg.norm(lp[:, :3], axis=1) / np.linalg.norm(beta, axis=1)
    assert abs(np.mean(c**2) - 1 / 3) < 4 * np.std(c**2) / np.sqrt(c.size)


def test_electron_cocktail_consistent_with_pdg_ee_branching():
    """Two-body vector decays are normalised to BR(mu mu); the e e rate then follows: PDG BR(omega -> ee)."""
    data, sid, truth = generate_mock(MockConfig(n_events=1000, seed=1, lepton="e", sources=("omega_ll",)),
                                     progress=False)
    br_ee = truth["sources"]["omega_ll"]["br_ll"]
    assert br_ee == pytest.approx(BR["omega->ee"], rel=0.03)  # PDG (7.38 +- 0.13)e-5
    assert data.lepton == "e" and data.mass.min() > 2 * mass("e")


def test_pi0_dalitz_is_in_the_electron_cocktail_only():
    """pi0 -> gamma e e: Kroll-Wada with the slope gives the PDG BR(pi0 -> gamma e e) = (1.174 +- 0.035)%; the muon
    cocktail leaves it out (m_pi0 < 2 m_mu)."""
    _, sid, truth = generate_mock(MockConfig(n_events=20_000, seed=2, lepton="e"), progress=False)
    assert truth["sources"]["pi0"]["br_ll"] == pytest.approx(BR["pi0->gee"], abs=0.035e-2)
    # pi0 Dalitz pairs dominate the electron cocktail: its share of pairs is the truth's, within 4 sigma
    share = truth["sources"]["pi0"]["pairs_per_collision"] / sum(v["pairs_per_collision"]
                                                                 for v in truth["sources"].values())
    got = np.mean(sid == SOURCES.index("pi0"))
    assert abs(got - share) < 4 * np.sqrt(share * (1 - share) / sid.size) and share > 0.5
    _, _, mu = generate_mock(MockConfig(n_events=1000, seed=2), progress=False)
    assert "pi0" not in mu["sources"]
    with pytest.raises(GammastarError, match="make no mu pairs"):
        generate_mock(MockConfig(n_events=1000, sources=("pi0",)), progress=False)


def test_source_selection():
    assert parse_sources("dalitz") == DALITZ
    assert parse_sources("eta,eta,omega") == ("eta", "omega")
    with pytest.raises(GammastarError, match="unknown source"):
        parse_sources("eta,kaon")


def test_direct_mcp_yield_matches_adaptive_quadrature():
    """The vectorised truth integral vs scipy.integrate.quad of the same N_V(m) phi_chi(m)."""
    from gammastar.physics.formulas import r_chi
    from gammastar.truth.cocktail import cocktail_sources

    alpha = 1 / 137.035999
    for spin in ("fermion", "scalar"):
        for mc in (0.05, 0.2):
            lo = max(2 * mc, 2 * M_MU)
            ref = 0.0
            for name in SOURCES:
                src = cocktail_sources()[name]
                pts = [p for p in src.resonances if lo < p < src.m_hi] or None
                ref += integrate.quad(lambda t, src=src, mc=mc, spin=spin: float(src.n_v(t) * 2 * alpha * r_chi(t, mc, spin)
                                                                                / (3 * np.pi * t)),
                                      lo, src.m_hi, points=pts, limit=400, epsrel=1e-10)[0]
            got = direct_mcp_yield([mc], spin, SOURCES, m_min=2 * M_MU)[0]
            assert got == pytest.approx(ref, rel=1e-5), (spin, mc)


def test_direct_aprime_events_have_the_mass_and_the_yield():
    cfg = MockConfig(sources=DALITZ)
    p4, n_per_eps2 = direct_aprime_events(cfg, 0.4, 20_000, seed=1)
    m = np.sqrt(p4[:, 3] ** 2 - np.sum(p4[:, :3] ** 2, axis=1))
    np.testing.assert_allclose(m, 0.4, rtol=1e-6)
    assert n_per_eps2 == pytest.approx(float(direct_aprime_yield(0.4, DALITZ)), rel=1e-12)
