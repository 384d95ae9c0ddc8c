"""The pair decay-angle laws (PHYSICS.md section 2) sampled exactly: moments against their analytic values."""

import numpy as np

from gammastar.physics.angular import direction, sample_law, transverse_cos_theta


def _random_h(rng, n):
    a = rng.normal(size=(3, 3))
    h = a @ a.T
    return np.broadcast_to(h / np.trace(h), (n, 3, 3))


def test_angular_laws_against_analytic_moments():
    """Lepton law 1 - b^2 n.H.n: E[n n^T] = [1/3 - b^2 (1 + 2H)/15] / (1 - b^2/3); scalar law n.H.n: (1 + 2H)/5."""
    rng = np.random.default_rng(4)
    n = 400_000
    h = _random_h(rng, n)
    for b2 in (1.0, 0.5):
        c, f = sample_law(h, lambda nhn, i, b2=b2: 1.0 - b2 * nhn, rng)
        d = direction(c, f)
        got = d.T @ d / n
        expected = (np.eye(3) / 3 - b2 * (np.eye(3) + 2 * h[0]) / 15) / (1 - b2 / 3)
        np.testing.assert_allclose(got, expected, atol=4 * 0.3 / np.sqrt(n))
    c, f = sample_law(h, lambda nhn, i: nhn, rng)
    d = direction(c, f)
    np.testing.assert_allclose(d.T @ d / n, (np.eye(3) + 2 * h[0]) / 5, atol=4 * 0.3 / np.sqrt(n))


def test_fermion_mcp_law_is_the_physics_md_mixture():
    """PHYSICS.md 2: for beta_chi < beta_l the law is isotropic with probability (1-b)/(1-b+b(1-beta_l^2/3))."""
    rng = np.random.default_rng(8)
    n = 400_000
    h = _random_h(rng, n)
    b2_l, b2_x = 0.8, 0.3
    c, f = sample_law(h, lambda nhn, i: 1.0 - b2_x * nhn, rng)
    direct = direction(c, f)
    b = b2_x / b2_l
    iso = rng.random(n) < (1 - b) / (1 - b + b * (1 - b2_l / 3))
    cl, fl = sample_law(h, lambda nhn, i: 1.0 - b2_l * nhn, rng)
    mix = np.where(iso[:, None], direction(rng.uniform(-1, 1, n), rng.uniform(-np.pi, np.pi, n)), direction(cl, fl))
    np.testing.assert_allclose(direct.T @ direct / n, mix.T @ mix / n, atol=4 * 0.3 * np.sqrt(2 / n))


def test_transverse_law_moments():
    """A transverse gamma* (H = diag(1/2, 1/2, 0)): <cos^2> = 1/5 for scalars; Kroll-Wada for fermions."""
    rng = np.random.default_rng(3)
    n = 300_000
    cs = transverse_cos_theta(np.full(n, 0.4), 0.1, "scalar", rng)
    assert abs(np.mean(cs**2) - 0.2) < 4 * np.std(cs**2) / np.sqrt(n)
    m, m_f = 0.3, 0.1056583755
    a = 4 * m_f**2 / m**2
    cf = transverse_cos_theta(np.full(n, m), m_f, "fermion", rng)
    # int c^2 (1 + c^2 + a (1 - c^2)) dc / int (1 + c^2 + a (1 - c^2)) dc over [-1, 1]
    expected = (2 / 3 + 2 / 5 + a * (2 / 3 - 2 / 5)) / (2 + 2 / 3 + a * 4 / 3)
    assert abs(np.mean(cf**2) - expected) < 4 * np.std(cf**2) / np.sqrt(n)
    assert np.all(np.abs(cf) <= 1) and np.all(np.abs(cs) <= 1)


def test_components_and_matrices_give_the_same_draws():
    rng = np.random.default_rng(5)
    h = _random_h(rng, 1000)
    comp = np.column_stack([h[:, 0, 0], h[:, 1, 1], h[:, 2, 2], h[:, 0, 1], h[:, 0, 2], h[:, 1, 2]])
    a = sample_law(h, lambda nhn, i: nhn, np.random.default_rng(6))
    b = sample_law(comp, lambda nhn, i: nhn, np.random.default_rng(6))
    np.testing.assert_array_equal(a, b)
