"""A' decay channels: angular laws for known polarisations, the three-pion Dalitz density, the shares against the
shipped table, four-momentum conservation, and the truncated decay-position law."""

from __future__ import annotations

import csv
from importlib import resources

import numpy as np
import pytest
from scipy import stats

from gammastar.errors import GammastarError
from gammastar.physics.angular import direction
from gammastar.physics.beams import Beam
from gammastar.physics.channels import (
    CHANNELS,
    channel_shares,
    decay_channel,
    decay_mixture,
    kaon_charged_fraction,
    three_pion_dalitz,
)
from gammastar.physics.decays import decay_positions
from gammastar.physics.kinematics import _cs_axes, boost, collins_soper_angles, from_pt_y_phi

BEAM = Beam()
CHANNEL = {c.name: c for c in CHANNELS}
TRANSVERSE = [0.5, 0.5, 0.0, 0.0, 0.0, 0.0]  # H components xx, yy, zz, xy, xz, yz
LONGITUDINAL = [0.0, 0.0, 1.0, 0.0, 0.0, 0.0]


def _aprime(m: float, n: int, rng: np.random.Generator) -> np.ndarray:
    return from_pt_y_phi(rng.exponential(0.4, n), rng.normal(3.0, 1.0, n), rng.uniform(-np.pi, np.pi, n), np.full(n, m))


def _law_cdf(a: float, b: float, polarisation: str):
    """CDF in cos(theta_CS) of a law a + b n.H.n for H transverse (n.H.n = (1 - c^2)/2) or longitudinal (c^2)."""
    if polarisation == "T":
        def integral(c):  # of a + b (1 - x^2)/2 from -1 to c
            return a * (c + 1) + b / 2 * ((c + 1) - (c**3 + 1) / 3)
    else:
        def integral(c):  # of a + b x^2
            return a * (c + 1) + b * (c**3 + 1) / 3
    return lambda c: integral(np.asarray(c)) / integral(1.0)


# (channel, a, b) of the law a + b n.H.n: leptons 1 - beta^2 n.H.n, two spin-0 n.H.n, pi0 gamma 1 - n.H.n
def _law(name: str, m: float) -> tuple[float, float]:
    channel = CHANNEL[name]
    if channel.law == "dirac":
        return 1.0, -(1.0 - 4 * channel.masses[0] ** 2 / m**2)
    return (0.0, 1.0) if channel.law == "scalar" else (1.0, -1.0)


@pytest.mark.parametrize("name", ["mumu", "pipi", "pi0gamma", "K+K-", "KSKL"])
@pytest.mark.parametrize("polarisation", ["T", "L"])
def test_two_body_angular_laws_for_a_known_polarisation(name, polarisation):
    """cos(theta) of the first daughter in the Collins-Soper frame (measured back from the lab momenta) follows the
    channel's law for H transverse and longitudinal (KS); and not the other polarisation's (the test has teeth)."""
    rng = np.random.default_rng(11)
    n, m = 20_000, 1.1
    pair = _aprime(m, n, rng)
    h = np.tile(TRANSVERSE if polarisation == "T" else LONGITUDINAL, (n, 1))
    first, second = decay_channel(pair, h, CHANNEL[name], rng, BEAM)
    cos_t, _ = collins_soper_angles(first, second, BEAM)
    a, b = _law(name, m)
    assert stats.kstest(cos_t, _law_cdf(a, b, polarisation)).pvalue > 1e-3
    other = "L" if polarisation == "T" else "T"
    assert stats.kstest(cos_t, _law_cdf(a, b, other)).pvalue < 1e-6


def test_general_polarisation_moments():
    """For a law a + b n.H.n and any H (tr H = 1): E[n n^T] = [a/3 + b (1 + 2H)/15] / (a + b/3)."""
    rng = np.random.default_rng(12)
    n, m = 200_000, 0.9
    g = rng.normal(size=(3, 3))
    hm = g @ g.T
    hm /= np.trace(hm)
    h = np.tile([hm[0, 0], hm[1, 1], hm[2, 2], hm[0, 1], hm[0, 2], hm[1, 2]], (n, 1))
    pair = _aprime(m, n, rng)
    for name in ("ee", "pipi", "pi0gamma"):
        first, second = decay_channel(pair, h, CHANNEL[name], rng, BEAM)
        d = direction(*collins_soper_angles(first, second, BEAM))
        a, b = _law(name, m)
        want = (a / 3 * np.eye(3) + b * (np.eye(3) + 2 * hm) / 15) / (a + b / 3)
        np.testing.assert_allclose(d.T @ d / n, want, atol=5 * 0.3 / np.sqrt(n))


def _rest_frame(pair: np.ndarray, daughters: list[np.ndarray]) -> list[np.ndarray]:
    return [boost(d, -pair[:, :3] / pair[:, 3:4]) for d in daughters]


@pytest.mark.parametrize("polarisation", ["T", "L"])
def test_three_pion_plane_normal_follows_n_h_n(polarisation):
    """The normal of the pi+ pi- pi0 plane (p+ x p- in the A' rest frame, on the Collins-Soper axes) follows N.H.N."""
    rng = np.random.default_rng(13)
    n, m = 20_000, 0.78
    pair = _aprime(m, n, rng)
    h = np.tile(TRANSVERSE if polarisation == "T" else LONGITUDINAL, (n, 1))
    p_p, p_m, _ = _rest_frame(pair, decay_channel(pair, h, CHANNEL["3pi"], rng, BEAM))
    normal = np.cross(p_p[:, :3], p_m[:, :3])
    normal /= np.linalg.norm(normal, axis=1)[:, None]
    _, _, z = _cs_axes(pair, BEAM, 0.93827208943)
    cos_t = np.einsum("ij,ij->i", normal, z)
    assert stats.kstest(cos_t, _law_cdf(0.0, 1.0, polarisation)).pvalue > 1e-3
    assert stats.kstest(cos_t, _law_cdf(0.0, 1.0, "L" if polarisation == "T" else "T")).pvalue < 1e-6


def _dalitz_weight(m: float, s_p0: np.ndarray, s_m0: np.ndarray) -> np.ndarray:
    """|p+ x p-|^2 |sum of rho propagators|^2 from the invariants (written out here, from the Kibble function)."""
    mc, m0, m_rho, g_rho = 0.13957039, 0.1349768, 0.77526, 0.1474
    s_pm = m**2 + 2 * mc**2 + m0**2 - s_p0 - s_m0
    # in the A' rest frame E+ = (m^2 + mc^2 - s_-0) / 2m, E- likewise; |p+ x p-|^2 = |p+|^2 |p-|^2 - (p+.p-)^2
    ep, em = (m**2 + mc**2 - s_m0) / (2 * m), (m**2 + mc**2 - s_p0) / (2 * m)
    pp2, pm2 = ep**2 - mc**2, em**2 - mc**2
    dot = ep * em - (s_pm - 2 * mc**2) / 2  # from s_+- = 2 mc^2 + 2 (E+ E- - p+.p-)
    bw = sum(1 / (m_rho**2 - s - 1j * m_rho * g_rho) for s in (s_pm, s_p0, s_m0))
    return np.clip(pp2 * pm2 - dot**2, 0, None) * np.abs(bw) ** 2


@pytest.mark.parametrize("m", [0.78, 1.02, 1.6])
def test_three_pion_dalitz_density(m):
    """The distribution of s_{+0} against the integral of the matrix element over s_{-0} (chi^2 of a histogram), and
    unlike pure phase space where the rho bands are inside the plot."""
    rng = np.random.default_rng(14)
    n = 100_000
    s_p0, s_m0 = three_pion_dalitz(m, n, rng)
    lo, hi = (0.13957039 + 0.1349768) ** 2, (m - 0.13957039) ** 2
    edges = np.linspace(lo, hi, 26)
    grid = np.linspace(lo, hi, 1201)
    centres = 0.5 * (grid[1:] + grid[:-1])
    a, b = np.meshgrid(centres, centres, indexing="ij")
    w = _dalitz_weight(m, a, b).sum(axis=1)
    expected = np.histogram(centres, edges, weights=w)[0]
    expected = expected / expected.sum() * n
    got = np.histogram(s_p0, edges)[0]
    chi2 = np.sum((got - expected) ** 2 / expected)
    assert chi2 < 25 + 5 * np.sqrt(2 * 25), chi2
    flat = np.histogram(centres, edges, weights=(_dalitz_weight(m, a, b) > 0).sum(axis=1))[0]
    flat = flat / flat.sum() * n
    assert np.sum((got - flat) ** 2 / flat) > 200


@pytest.mark.parametrize("name", [c.name for c in CHANNELS])
def test_daughters_conserve_four_momentum_and_have_their_masses(name):
    rng = np.random.default_rng(15)
    n, m = 5000, 1.3
    pair = _aprime(m, n, rng)
    h = np.tile([0.3, 0.3, 0.4, 0.05, -0.02, 0.0], (n, 1))
    ds = decay_channel(pair, h, CHANNEL[name], rng, BEAM)
    np.testing.assert_allclose(sum(ds[1:], ds[0]), pair, rtol=0, atol=1e-12 * pair[:, 3].max())
    for d, mass in zip(ds, CHANNEL[name].masses, strict=True):
        got = np.sqrt(np.clip(d[:, 3] ** 2 - np.sum(d[:, :3] ** 2, axis=1), 0, None))
        np.testing.assert_allclose(got, mass, atol=2e-5 * pair[:, 3].max())  # rounding of E^2 - p^2 at ~100 GeV


def _table_row(m: float) -> dict[str, float]:
    ref = resources.files("gammastar") / "data" / "aprime_decays" / "foresee2025.csv"
    rows = list(csv.DictReader(ref.open()))
    masses = np.array([float(r["mass_gev"]) for r in rows])
    return {k: float(np.interp(m, masses, [float(r[k]) for r in rows])) for k in rows[0]}


@pytest.mark.parametrize("m", [0.45, 0.78, 1.02, 1.5])
def test_channel_shares_are_the_table(m):
    """Each hadronic channel's BR is the FORESEE 2025 column at that mass, K K split by the phi's ratio carried by
    the P-wave phase space; leptons as aprime_decay; what the table does not split is reported, not generated."""
    row = _table_row(m)
    shares = channel_shares(m, ["ee", "mumu", "hadrons"])
    got = dict(zip([c.name for c in shares.channels], shares.br, strict=True))
    for name, column in (("pipi", "br_pipi"), ("3pi", "br_3pi"), ("pi0gamma", "br_pi0gamma")):
        if row[column] > 0:
            assert got[name] == pytest.approx(row[column], rel=1e-9)
    kk = got.get("K+K-", 0.0) + got.get("KSKL", 0.0)
    assert kk == pytest.approx(row["br_kk"], rel=1e-9, abs=1e-15)
    assert got["ee"] == pytest.approx(row["br_ee"], rel=2e-3)
    hadrons = row["br_pipi"] + row["br_3pi"] + row["br_pi0gamma"] + row["br_kk"]
    assert shares.untabulated == pytest.approx(row["br_hadrons"] - hadrons, abs=2e-3 * row["br_hadrons"] + 1e-12)


def test_kaon_split_at_the_phi_is_the_measured_ratio():
    """K+K- / K_S K_L is 0.491/0.339 at the phi (PDG), and elsewhere that times the change of (p*_{K+}/p*_{K0})^3."""
    def ratio(m):
        f = kaon_charged_fraction([m])[0]
        return f / (1 - f)

    def p3(m, mk):
        return (m**2 / 4 - mk**2) ** 1.5

    m_phi, m_kc, m_k0 = 1.019461, 0.493677, 0.497611
    assert ratio(m_phi) == pytest.approx(0.491 / 0.339, rel=1e-4)
    for m in (1.1, 1.5, 5.0):
        want = 0.491 / 0.339 * (p3(m, m_kc) / p3(m, m_k0)) / (p3(m_phi, m_kc) / p3(m_phi, m_k0))
        assert ratio(m) == pytest.approx(want, rel=1e-4)
    assert kaon_charged_fraction([0.992])[0] == 1.0  # below the K_S K_L threshold every K K is charged


def test_mixture_draws_each_channel_by_its_share():
    rng = np.random.default_rng(16)
    n, m = 100_000, 1.02
    shares = channel_shares(m, ["ee", "mumu", "hadrons"])
    d = decay_mixture(_aprime(m, n, rng), np.tile(TRANSVERSE, (n, 1)), shares, rng, BEAM)
    counts = np.bincount(d.channel, minlength=len(CHANNELS))[shares.index()]
    p = shares.probabilities
    assert np.all(np.abs(counts - n * p) < 5 * np.sqrt(n * p * (1 - p)) + 1)
    three = d.channel == CHANNELS.index(CHANNEL["3pi"])
    assert np.all(d.present[three]) and not np.any(d.present[~three, 2])
    np.testing.assert_array_equal(d.pid[three], np.tile([211, -211, 111], (three.sum(), 1)))


def test_final_states_a_mass_lacks_are_errors():
    with pytest.raises(GammastarError, match="only up to 2 GeV"):
        channel_shares(2.5, ["hadrons"])
    with pytest.raises(GammastarError, match="none of the final states mumu is open"):
        channel_shares(0.2, ["mumu"])
    assert [c.name for c in channel_shares(2.5, ["ee", "mumu"]).channels] == ["ee", "mumu"]


@pytest.mark.parametrize("l_z", [0.5, 20.0, 1e4])
def test_decay_positions_follow_the_truncated_exponential(l_z):
    """Against exponential decays (z = -l_z log u) kept when inside [z_lo, z_hi] (two-sample KS), for a short, a
    comparable and a long decay length."""
    rng = np.random.default_rng(17)
    z_lo, z_hi = 30.0, 80.0
    z = decay_positions(np.full(50_000, l_z), z_lo, z_hi, rng.random(50_000))
    assert np.all((z >= z_lo) & (z <= z_hi))
    # the reference: decays from z_lo on (memoryless), kept inside the interval
    ref = z_lo + rng.exponential(l_z, 2_000_000)
    ref = ref[ref <= z_hi][:50_000]
    assert stats.ks_2samp(z, ref).pvalue > 1e-3
