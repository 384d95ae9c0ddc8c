"""Where the data have pairs (the support) and the coverage formula, on samples built to have known holes and edges."""

import numpy as np
import pytest

from gammastar.physics.beams import Beam
from gammastar.physics.reference import reference_cells, reference_log_density, sample_reference
from gammastar.rates.support import Support, coverage


def _box(n, m=(0.38, 0.42), pt=(0.0, 1.0), y=(3.0, 4.5), seed=1):
    rng = np.random.default_rng(seed)
    return (rng.uniform(*m, n), rng.uniform(*pt, n), rng.uniform(*y, n), np.ones(n))


def test_the_support_ends_where_the_data_end():
    s = Support.from_pairs(*_box(200_000))
    at = np.array
    assert np.all(s.contains(0.4, at([0.05, 0.5, 0.9]), at([3.2, 3.8, 4.3])))
    # beyond the data's rapidity and pT edges, whatever the cell size: nothing is claimed
    assert not np.any(s.contains(0.4, at([0.5, 0.5, 3.0]), at([2.2, 5.3, 3.8])))
    # pairs within 10% in mass support a mass; farther ones do not
    assert s.contains(0.44, at([0.5]), at([3.8]))[0] and not s.contains(0.5, at([0.5]), at([3.8]))[0]
    r = s.ranges(0.4)
    assert r["y"][0] <= 3.0 and 4.5 <= r["y"][1] < 5.0 and r["pt"][0] == 0.0 and r["pt"][1] >= 1.0
    back = Support.from_arrays(s.to_arrays())
    np.testing.assert_array_equal(back.counts, s.counts)
    assert back.contains(0.4, at([0.5]), at([3.8]))[0]


def test_holes_are_closed_and_pt_zero_is_a_boundary():
    m, pt, y, w = _box(100_000, pt=(0.03, 1.0))
    hole = (y > 3.5) & (y < 4.0) & (pt > 0.3) & (pt < 0.45)  # a one-cell hole inside the data
    s = Support.from_pairs(m[~hole], pt[~hole], y[~hole], w[~hole])
    assert s.contains(0.4, np.array([0.37]), np.array([3.75]))[0]
    # no pair below 25 MeV, but pT = 0 is a boundary of phase space, not an edge of the data: the first cell is
    # closed across it ...
    assert s.contains(0.4, np.array([0.01]), np.array([3.75]))[0]
    # ... which it is not for data that start at 1 GeV (a trigger threshold is an edge)
    hard = Support.from_pairs(*_box(100_000, pt=(1.0, 2.0)))
    assert not hard.contains(0.4, np.array([0.01, 0.4]), np.array([3.75, 3.75])).any()


def test_pairs_below_the_acceptance_floor_and_negative_weights_are_not_support():
    m, pt, y, w = _box(50_000)
    low = y > 4.0
    s = Support.from_pairs(m, pt, y, w, measured=~low)
    assert not s.contains(0.4, np.array([0.5]), np.array([4.4]))[0] and s.contains(0.4, np.array([0.5]), np.array([3.2]))[0]
    s = Support.from_pairs(m, pt, y, np.where(low, -1.0, 1.0))
    assert not s.contains(0.4, np.array([0.5]), np.array([4.4]))[0]


def test_coverage_normalises_the_reference_row_by_row():
    # three rapidity rows: the model fills rows 0 and 1, row 2 has no support; the reference is twice the model
    # in row 1 and holds an accepted 0.3 outside the support in row 2
    model_rows, ref_rows = np.array([0.5, 0.4, 0.0]), np.array([0.5, 0.8, 0.0])
    unsupported = np.array([[0.0], [0.0], [0.3]])
    supported = np.array([0.6])
    # row 2 takes c from one row inside its nearest supported row (row 0): c = 1
    assert coverage(supported, model_rows, ref_rows, unsupported)[0] == pytest.approx(0.6 / (0.6 + 0.3))
    # a row with support keeps its own c: U in row 1 counts half
    assert coverage(supported, model_rows, ref_rows, np.array([[0.0], [0.3], [0.0]]))[0] == pytest.approx(0.6 / 0.75)
    # nothing accepted: undefined; no support anywhere: 0
    assert np.isnan(coverage(np.array([0.0]), model_rows, ref_rows, np.zeros((3, 1))))[0]
    assert coverage(np.array([0.0]), np.zeros(3), np.zeros(3), unsupported)[0] == 0.0


def test_the_reference_law():
    """dN/dpT ~ pT exp(-m_T/T) at fixed y (its samples against the density), Gaussian in y_cm of Landau's width,
    nothing beyond the kinematic limit."""
    rng = np.random.default_rng(3)
    m = np.full(200_000, 0.4)
    pt, y = sample_reference(m, Beam.collider(13_000.0), rng)  # |y| < 10.4 = 3.5 widths: the Gaussian whole
    assert abs(np.mean(y)) < 0.03 and np.std(y) == pytest.approx(np.sqrt(np.log(13_000 / 1.8765)), rel=0.01)
    beam = Beam.fixed_target(400.0)
    pt, y = sample_reference(m, beam, rng)
    y_cm = y - 0.5 * np.arccosh(400.0 / 0.93827208816)
    assert np.all(np.abs(y_cm) < np.arccosh(beam.sqrt_s / (2 * np.sqrt(pt**2 + 0.16))))
    # mean m_T - m of m_T exp(-m_T/T) above m: T (m + 2T) / (m + T) (independent of the sampler's mixture)
    mt = np.sqrt(pt**2 + 0.16)
    assert np.mean(mt - 0.4) == pytest.approx(0.2 * (0.4 + 0.4) / (0.4 + 0.2), rel=0.01)
    ex, ey, prob = reference_cells(0.4, beam)
    assert prob.sum() == pytest.approx(1.0) and np.all(np.isfinite(reference_log_density(pt, y, 0.4, beam)))
    assert reference_log_density(np.array([0.1]), np.array([3.44 + 4.3]), 0.4, beam)[0] == -np.inf
