"""The pair features: the pT probit against the reference law it is built on, and its inverse."""

import numpy as np
import pytest
from scipy import stats

from gammastar.flow.features import pair_from_raw, pt_from_probit, pt_probit, raw_pair_features


def test_the_reference_law_becomes_a_standard_normal():
    """pT drawn from dN/d^2pT ~ exp(-pT/T) (a Gamma(2, T) law in pT, drawn by numpy) is exactly N(0, 1) in the
    probit feature, tails included: the feature is that law's probit, nothing fitted."""
    t = 0.23
    pt = np.random.default_rng(5).gamma(2.0, t, 400_000)
    x = pt_probit(pt, t)
    assert stats.kstest(x, "norm").pvalue > 1e-3
    for cut in (-4.0, -3.0, 3.0):  # the tails hold what a standard normal holds (binomial errors)
        want = stats.norm.cdf(cut) if cut < 0 else stats.norm.sf(cut)
        got = np.mean(x < cut) if cut < 0 else np.mean(x > cut)
        assert abs(got - want) < 5 * np.sqrt(want / pt.size)


def test_small_pt_lies_in_the_splines_range():
    """At small pT any law with a finite density per d^2pT has F ~ c pT^2: the probit of pT = 1 MeV at T = 0.2 GeV
    is Phi^-1(pT^2 / (2 T^2)) to O(pT/T), a Gaussian tail, inside zuko's spline range [-5, 5] (log pT is ~-9
    standard deviations there)."""
    t, pt = 0.2, np.array([1e-3, 3e-3])
    np.testing.assert_allclose(pt_probit(pt, t), stats.norm.ppf(pt**2 / (2 * t**2)), rtol=2e-3)
    assert np.all(pt_probit(pt, t) > -5)


def test_round_trips():
    pt = np.geomspace(1e-6, 60.0, 500)
    np.testing.assert_allclose(pt_from_probit(pt_probit(pt, 0.2), 0.2), pt, rtol=1e-10)
    rng = np.random.default_rng(1)
    v = {"pt": rng.gamma(2, 0.2, 100), "y": rng.normal(3, 1, 100), "phi": rng.uniform(-np.pi, np.pi, 100)}
    for features in (["pt_probit", "y"], ["log_pt", "y", "phi"]):
        back = pair_from_raw(raw_pair_features(v, features, 0.2), features, 0.2)
        for key in back:
            np.testing.assert_allclose(back[key], v[key], rtol=1e-9)
    with pytest.raises(ValueError, match="unknown pair feature"):
        raw_pair_features(v, ["eta"])
