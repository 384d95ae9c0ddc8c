"""Form factors against the NA60 2016 measured points (shared/data)."""

import numpy as np
import pytest

from gammastar.physics import formfactors as ff


def test_regularised_pole_limits():
    m = np.linspace(0.0, 0.7, 15)
    assert ff.regularised_pole_ff2(0.0, 1.7, 0.1) == pytest.approx(1.0)
    np.testing.assert_allclose(ff.regularised_pole_ff2(m, 1.7, 1e-7), ff.pole_ff2(m, 1.7), rtol=1e-8)
    peak = ff.regularised_pole_ff2(np.sqrt(1 / 1.7), 1.7, 0.1)
    assert np.isfinite(peak) and peak == pytest.approx((1 / 1.7 + 0.01) / 0.01, rel=1e-12)


def test_pole_fit_to_na60_points(shared_dir):
    pts = ff.read_form_factor_points(shared_dir / "data" / "na60_2016_transition_form_factors.csv")
    assert len(pts["eta"].m) == 14 and len(pts["omega"].m) == 22
    eta, eta_err, _ = ff.fit_pole(pts["eta"])
    om, om_err, om_chi2 = ff.fit_pole(pts["omega"])
    # PHYSICS.md: 1.90 +- 0.02 (eta), 2.18 +- 0.01 (omega, chi2 16/21)
    assert eta == pytest.approx(1.90, abs=0.01) and eta_err == pytest.approx(0.02, abs=0.01)
    assert om == pytest.approx(2.18, abs=0.01) and om_err == pytest.approx(0.01, abs=0.006)
    assert om_chi2 == pytest.approx(16, abs=1.5)
    # consistent with NA60's published values within their stat+syst errors
    assert abs(eta - ff.NA60_INV_LAMBDA2_ETA) < np.hypot(0.067, 0.050)
    assert abs(om - ff.NA60_INV_LAMBDA2_OMEGA) < np.hypot(0.026, 0.037)
