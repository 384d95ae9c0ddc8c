"""The tabulated pair density and H, and the guide-table cell sampler, against analytic truths."""

from __future__ import annotations

import numpy as np
import pytest

from gammastar.flow.cells import CellSampler
from gammastar.flow.density import PairDensity

RANGE = ([-3.0, -3.0], [3.0, 3.0])  # standardised features of the "training data"


def _gauss(shift):
    """log density of a unit 2-D Gaussian whose mean moves with log m by ``shift(log m)``."""
    def log_prob(z, m):
        mu = shift(np.log(m))
        return -0.5 * ((z[:, 0] - mu) ** 2 + z[:, 1] ** 2) - np.log(2 * np.pi)
    return log_prob


def test_cells_are_those_of_the_plain_inverse_cdf():
    rng = np.random.default_rng(1)
    w = rng.random(50_000) ** 6
    w[:3000] = 0.0
    w[20_000:26_000] = 0.0  # runs of empty cells
    w[40_000:41_000] = 1e-30  # and of nearly empty ones
    cells = CellSampler(w)
    u = np.concatenate([rng.random(200_000), [0.0, np.nextafter(1.0, 0.0)], cells.cdf[:1000]])
    np.testing.assert_array_equal(cells.index(u), np.searchsorted(cells.cdf, u, side="right"))
    assert cells.total == pytest.approx(w.sum(), rel=1e-12)
    with pytest.raises(ValueError):
        CellSampler(np.zeros(4))


def test_density_between_nodes_and_its_draws():
    # the mean moves by 0.5 sigma across the mass range: the interpolation must follow it
    d = PairDensity.tabulate(_gauss(lambda lm: 0.5 * (lm - np.log(0.2)) / np.log(5.0)), (0.2, 1.0), RANGE, grid=96)
    assert d.masses[0] == pytest.approx(0.2) and d.masses[-1] == pytest.approx(1.0)
    m = 0.437  # between nodes
    exact = PairDensity.tabulate(_gauss(lambda lm: 0.5 * (lm - np.log(0.2)) / np.log(5.0)), (m, m * (1 + 1e-9)),
                                 RANGE, grid=96, max_nodes=2).prob[0]
    assert 0.5 * np.abs(d.cells_at(m) - exact).sum() < 1e-3
    # draws: mean and spread of a unit Gaussian at the shifted mean (inside the +-3.5 sigma grid)
    rng = np.random.default_rng(2)
    z = d.draw(CellSampler(d.cells_at(m)), 200_000, rng)
    mu = 0.5 * np.log(m / 0.2) / np.log(5.0)
    se = 1 / np.sqrt(200_000)
    assert abs(z[:, 0].mean() - mu) < 5 * se and abs(z[:, 1].mean()) < 5 * se
    assert abs(z[:, 1].std() - 1) < 0.01  # cells of 7/96 sigma with uniform draws inside add (7/96)^2/12 in quadrature
    # per-pair masses: each from its bracketing nodes (the same mixture)
    zz = d.draw_at(np.full(200_000, m), rng)
    assert abs(zz[:, 0].mean() - mu) < 5 * se


def test_nodes_crowd_where_the_kinematics_change_fast():
    # a step of 2 sigma in the mean over 1% in mass around 0.5 GeV, as the omega does to the pairs' pT
    step = _gauss(lambda lm: 2.0 / (1.0 + np.exp(-(lm - np.log(0.5)) / 0.005)))
    d = PairDensity.tabulate(step, (0.2, 1.0), RANGE, grid=64)
    near = np.sum(np.abs(np.log(d.masses / 0.5)) < 0.03)
    far = np.sum(np.abs(np.log(d.masses / 0.25)) < 0.03)
    assert near > 3 * max(far, 1)
    gaps = np.diff(np.log(d.masses))
    assert gaps.min() < gaps.max() / 8


def test_h_is_interpolated_exactly_where_it_is_linear():
    """Trilinear interpolation is exact for H linear in log m, log pT and y (up to float32 storage)."""
    def h_field(z, m):
        a = 0.3 + 0.02 * z[:, 0] - 0.01 * z[:, 1] + 0.05 * np.log(m)
        b = 0.3 + 0.01 * z[:, 1]
        h = np.zeros((len(m), 3, 3))
        h[:, 0, 0], h[:, 1, 1], h[:, 2, 2] = a, b, 1 - a - b
        h[:, 0, 1] = h[:, 1, 0] = 0.01 * z[:, 0]
        return h

    d = PairDensity.tabulate(_gauss(lambda lm: 0 * lm), (0.2, 1.0), RANGE, grid=32, h=h_field)
    rng = np.random.default_rng(3)
    m = np.exp(rng.uniform(np.log(0.2), np.log(1.0), 5000))
    # inside the outermost centres (beyond them the table is held flat)
    z = rng.uniform(-3.0, 3.0, (5000, 2))
    np.testing.assert_allclose(d.h_at(m, z), h_field(z, m), atol=2e-7)
    np.testing.assert_allclose(np.trace(d.h_at(m, z), axis1=1, axis2=2), 1.0, atol=1e-6)
    back = PairDensity.from_arrays(d.to_arrays())
    np.testing.assert_array_equal(back.h_at(m, z), d.h_at(m, z))


def test_one_corner_drawn_per_pair_gives_the_law_of_the_interpolated_h():
    """h_draw picks one table corner with its trilinear weight: the mean is the interpolated H, and the decay
    angles follow the interpolated H's law (moments (1 + 2H)/5 of the scalar law n.H.n, PHYSICS.md 2)."""
    from gammastar.physics.angular import direction, sample_law

    corners = np.array([[0.6, 0.2, 0.2, 0.1, 0.0, 0.0], [0.2, 0.2, 0.6, 0.0, 0.1, -0.05]])

    def h_field(z, m):  # jumps between two tensors from one H-grid centre to the next: interpolation matters
        c = corners[(np.round((z[:, 0] + 3.5) * 32 / 7 - 0.5).astype(int) + np.round((z[:, 1] + 3.5) * 32 / 7 - 0.5)
                     .astype(int)) % 2]
        h = np.empty((len(m), 3, 3))
        for k, (i, j) in enumerate(((0, 0), (1, 1), (2, 2), (0, 1), (0, 2), (1, 2))):
            h[:, i, j] = h[:, j, i] = c[:, k]
        return h

    d = PairDensity.tabulate(_gauss(lambda lm: 0 * lm), (0.2, 1.0), RANGE, grid=32, h=h_field)
    n = 400_000
    m, z = np.full(n, 0.45), np.tile([[0.123, -0.456]], (n, 1))  # one point between centres
    rng = np.random.default_rng(4)
    drawn = d.h_draw(m, z, rng)
    exact = d.h_components_at(m[:1], z[:1])[0]
    assert not np.allclose(drawn[0], exact)  # a corner, not the interpolation
    np.testing.assert_allclose(drawn.mean(axis=0), exact, atol=5 * 0.25 / np.sqrt(n))
    c, f = sample_law(drawn, lambda nhn, i: nhn, rng)
    u = direction(c, f)
    h = d.h_at(m[:1], z[:1])[0]
    np.testing.assert_allclose(u.T @ u / n, (np.eye(3) + 2 * h) / 5, atol=4 * 0.3 / np.sqrt(n))
