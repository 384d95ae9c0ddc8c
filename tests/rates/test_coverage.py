"""Issue 11, requirement 2: the quoted errors cover, near narrow structure too.

Toy spectra with a known N_V(m): a smooth falling continuum, a Dalitz-like edge (a kink at
0.55 GeV), and an omega-like Breit-Wigner (PDG mass and width) on top, with pairs drawn
from N_V phi_mu.  Over many seeds the pulls (estimate - truth) / error must have mean ~0
and rms ~1: the issue's bounds, |mean| < 0.3 and rms in 0.8-1.25, are 4 standard errors
of the mean and 4-5 of the rms for the 200 seeds used here (1.3 of the mean for 20 seeds).
"""

import numpy as np
import pytest

import gammastar
from gammastar.physics import pdg
from gammastar.physics.formulas import phi_l
from gammastar.samples import SpectrumSample
from gammastar.spectrum.estimator import MassSpectrum

M_MU = pdg.mass("mu")
M_OMEGA, G_OMEGA = pdg.mass("omega"), pdg.width("omega")
N_SEEDS = 200
N_PAIRS = 100_000


def toy_n_v(m):
    m = np.asarray(m, dtype=float)
    continuum = m**-3.0 * np.exp(-m / 0.6)
    edge = 6.0 * np.clip(1.0 - m / 0.55, 0.0, None) ** 1.5
    omega = 2.0 * (M_OMEGA * G_OMEGA) ** 2 / ((m * m - M_OMEGA**2) ** 2 + (M_OMEGA * G_OMEGA) ** 2)
    return continuum + edge + omega


@pytest.fixture(scope="module")
def toy_cdf():
    grid = np.linspace(2 * M_MU, 1.6, 400_001)
    density = toy_n_v(grid) * phi_l(grid, M_MU)
    cdf = np.concatenate([[0.0], np.cumsum(0.5 * (density[1:] + density[:-1]) * np.diff(grid))])
    return grid, cdf


def toy_sample(toy_cdf, seed, sigma):
    """One toy: Poisson(N_PAIRS) pairs, masses smeared by a Gaussian of ``sigma`` (pairs below 2 m_mu lost)."""
    grid, cdf = toy_cdf
    rng = np.random.default_rng(seed)
    mass = np.interp(rng.random(rng.poisson(N_PAIRS)) * cdf[-1], cdf, grid)
    if sigma:
        mass = mass + rng.normal(0.0, sigma, mass.size)
        mass = mass[mass > 2 * M_MU]
    weight = np.full(mass.size, cdf[-1] / N_PAIRS)  # sum of weights estimates the integral of N_V phi
    spectrum = MassSpectrum.from_pairs(mass, weight, M_MU, lepton="mu")
    return SpectrumSample(spectrum, "mu", 1.0, f"toy {seed}", mass.size)


def pulls(toy_cdf, masses, sigma, mass_resolution):
    out = []
    for seed in range(N_SEEDS):
        got = gammastar.aprime_yield(toy_sample(toy_cdf, 4000 + seed, sigma), masses, mass_resolution=mass_resolution)
        out.append((got.n_per_eps2 - toy_n_v(masses)) / got.n_err)
    return np.array(out)


def check(p, masses):
    mean, rms = p.mean(axis=0), np.sqrt((p**2).mean(axis=0))
    table = {f"{m:.4f}": (round(a, 2), round(b, 2)) for m, a, b in zip(masses, mean, rms, strict=True)}
    assert np.all(np.abs(mean) < 0.3) and np.all((rms > 0.8) & (rms < 1.25)), table


@pytest.mark.slow
def test_smooth_threshold_and_edge(toy_cdf):
    masses = np.array([0.215, 0.25, 0.40, 0.50, 0.53, 0.56])  # threshold at 0.2113, edge at 0.55
    check(pulls(toy_cdf, masses, 0.0, None), masses)


@pytest.mark.slow
def test_narrow_resonance_perfect_resolution(toy_cdf):
    masses = M_OMEGA + np.array([-0.03, -0.02, 0.0, 0.02, 0.03])
    check(pulls(toy_cdf, masses, 0.0, 0.0), masses)


@pytest.mark.slow
def test_narrow_resonance_10_mev_resolution(toy_cdf):
    masses = np.concatenate([[0.25, 0.40, 0.50], M_OMEGA + np.array([-0.03, -0.02, 0.0, 0.02, 0.03])])
    check(pulls(toy_cdf, masses, 0.010, 0.010), masses)


def test_unflagged_estimate_does_not_cover_a_resolved_peak(toy_cdf):
    """Without --mass-resolution the omega peak is flagged, and rightly: its estimate is biased low."""
    got = gammastar.aprime_yield(toy_sample(toy_cdf, 1, 0.0), [M_OMEGA])
    assert got.resolution_limited[0] and got.resonance == ("omega",)
    assert got.n_per_eps2[0] < toy_n_v(M_OMEGA) - 2 * got.n_err[0]
