"""The N_V(m) estimator on toy spectra with a known truth: bias, error coverage, signed weights."""

import numpy as np
import pytest

from gammastar.errors import GammastarError
from gammastar.spectrum.estimator import MassSpectrum

M_MU = 0.1056583755
ALPHA = 1 / 137.035999


def phi_mu(m):
    """2 alpha R_mu / (3 pi m), written out here independently of the package."""
    x = M_MU**2 / m**2
    return 2 * ALPHA / (3 * np.pi * m) * (1 + 2 * x) * np.sqrt(np.clip(1 - 4 * x, 0, None))


def sample(n_v, n, rng, lo=2 * M_MU, hi=1.0):
    """Masses drawn from n_v(m) * phi_mu(m) by inverse CDF on a fine grid."""
    grid = lo + (hi - lo) * np.linspace(0, 1, 400_001) ** 2
    dens = n_v(grid) * phi_mu(grid)
    cdf = np.concatenate([[0], np.cumsum(0.5 * (dens[1:] + dens[:-1]) * np.diff(grid))])
    return np.interp(rng.uniform(0, cdf[-1], n), cdf, grid), cdf[-1]


def pulls_for(n_v, masses, n_events=200_000, n_toys=16, seed=0, **kw):
    """Pulls (estimate - truth)/error over toys, with truth scaled to the sample."""
    rng = np.random.default_rng(seed)
    out, rel = [], []
    for _ in range(n_toys):
        n = rng.poisson(n_events)
        m, total = sample(n_v, n, rng)
        spec = MassSpectrum.from_pairs(m, np.ones(n), M_MU)
        # events are Poisson with mean n_events: truth N_V in event units is n_v * n_events / total
        truth = n_v(masses) * n_events / total
        pts = [spec.estimate(x, **kw) for x in masses]
        est = np.array([p.n_v for p in pts])
        err = np.array([p.n_v_err for p in pts])
        out.append((est - truth) / err)
        rel.append(err / truth)
    return np.array(out), np.array(rel)


def _check(pulls):
    n = pulls.size
    # mean pull 0 within 4 sigma of its statistical spread; width 1 within ~ 4/sqrt(2n)
    assert abs(pulls.mean()) < 4 / np.sqrt(n), pulls.mean(axis=0)
    assert abs(pulls.std() - 1) < 4 / np.sqrt(2 * n), pulls.std()
    # no mass point biased: its mean pull over toys is within 4/sqrt(n_toys) of 0 (+ 0.5 for residual bias)
    assert np.all(np.abs(pulls.mean(axis=0)) < 4 / np.sqrt(pulls.shape[0]) + 0.5), pulls.mean(axis=0)


def test_smooth_spectrum_including_threshold_region():
    masses = np.array([0.215, 0.22, 0.25, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9])
    pulls, rel = pulls_for(lambda m: np.exp(-m / 0.2) * (1 + m), masses)
    _check(pulls)


def test_steep_dalitz_like_edge():
    """eta-like (1 - m^2/M^2)^3 pole-enhanced piece ending at 0.55 GeV on a flat floor."""
    def n_v(m):
        x = np.clip(1 - m**2 / 0.55**2, 0, None)
        return 0.05 + x**3 / (1 - 1.9 * m**2) ** 2

    masses = np.array([0.3, 0.45, 0.5, 0.53, 0.55, 0.57, 0.6, 0.7])
    pulls, _ = pulls_for(n_v, masses, seed=1)
    _check(pulls)


def test_narrow_resonance_bandwidth_shrinks():
    """At a 10 MeV wide peak the adaptive window stays narrow; far from it, it widens."""
    def n_v(m):
        return 0.2 + 0.005 / ((m - 0.6) ** 2 + 0.005**2)

    rng = np.random.default_rng(3)
    m, _ = sample(n_v, 300_000, rng)
    spec = MassSpectrum.from_pairs(m, np.ones(m.size), M_MU)
    at_peak = spec.estimate(0.6)
    away = spec.estimate(0.9)
    assert at_peak.bandwidth <= 0.006 < away.bandwidth


def test_signed_weights_background_subtraction():
    """Signal + background (w=+1) minus an independent background sample (w=-1) recovers the signal."""
    rng = np.random.default_rng(7)
    sig = lambda m: np.exp(-m / 0.25)  # noqa: E731
    bkg = lambda m: 3 * np.ones_like(m)  # noqa: E731
    masses = np.array([0.25, 0.35, 0.5, 0.65])
    pulls = []
    for _ in range(12):
        ms, ts = sample(sig, 100_000, rng)
        mb1, tb = sample(bkg, 150_000, rng)
        mb2, _ = sample(bkg, 150_000, rng)
        m = np.concatenate([ms, mb1, mb2])
        w = np.concatenate([np.ones(ms.size + mb1.size), -np.ones(mb2.size)])
        spec = MassSpectrum.from_pairs(m, w, M_MU)
        pts = [spec.estimate(x) for x in masses]
        truth = sig(masses) * 100_000 / ts
        est = np.array([p.n_v for p in pts])
        err = np.array([p.n_v_err for p in pts])
        # the error includes the background's fluctuations: above the signal-only error at equal width
        sig_only = MassSpectrum.from_pairs(ms, np.ones(ms.size), M_MU)
        for x in masses:
            assert spec.estimate(x, bandwidth=0.03).n_v_err > 1.5 * sig_only.estimate(x, bandwidth=0.03).n_v_err
        pulls.append((est - truth) / err)
    pulls = np.array(pulls)
    assert abs(pulls.mean()) < 4 / np.sqrt(pulls.size)
    assert 0.6 < pulls.std() < 1.4


def test_fixed_bandwidth_is_unbiased_for_quadratic_n_v():
    """A local quadratic reproduces a quadratic N_V exactly: only statistics remain, even at 2 m_mu."""
    masses = np.array([0.2114, 0.22, 0.3, 0.5])
    pulls, _ = pulls_for(lambda m: 1 + 3 * (m - 0.4) ** 2, masses, seed=5, bandwidth=0.1)
    _check(pulls)


def test_out_of_range_masses_are_errors():
    rng = np.random.default_rng(0)
    m, _ = sample(lambda m: np.ones_like(m), 10_000, rng, hi=0.8)
    spec = MassSpectrum.from_pairs(m, np.ones(m.size), M_MU, lepton="mu")
    with pytest.raises(GammastarError, match="threshold 2 m_mu"):
        spec.estimate(0.2)
    with pytest.raises(GammastarError, match="above the data's reach"):
        spec.estimate(0.81)
    sparse = MassSpectrum.from_pairs(np.array([0.3, 0.31, 0.9]), np.ones(3), M_MU)
    with pytest.raises(GammastarError, match="too few pairs"):
        sparse.estimate(0.5)
    neg = MassSpectrum.from_pairs(m, -np.ones(m.size), M_MU)
    with pytest.raises(GammastarError, match="negative net yield"):
        neg.estimate(0.5)


def test_arrays_round_trip_gives_identical_estimates():
    rng = np.random.default_rng(2)
    m, _ = sample(lambda m: np.exp(-m / 0.3), 50_000, rng)
    spec = MassSpectrum.from_pairs(m, np.ones(m.size), M_MU, lepton="mu")
    back = MassSpectrum.from_arrays(spec.to_arrays(), M_MU, spec.rel_bin, "mu")
    for x in (0.25, 0.5, 0.8):
        assert back.estimate(x) == spec.estimate(x)
    assert back.m_max == spec.m_max == m.max()
