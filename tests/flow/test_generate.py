"""The generator and the sampling chain as modules, on a tiny model: what they return, not how good the model is."""


import numpy as np
import pyarrow.parquet as pq
import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("zuko")

import gammastar  # noqa: E402
from gammastar.errors import GammastarError  # noqa: E402
from gammastar.flow.sample import decay_angles, given_pairs, h_tensor, sample_pairs  # noqa: E402
from gammastar.physics.beams import Beam  # noqa: E402

M_MU = 0.1056583755


def _p4(ev, suffix=""):
    return np.column_stack([ev[f"{c}{suffix}"] for c in ("px", "py", "pz", "e")])


def _m2(p):
    return p[:, 3] ** 2 - np.sum(p[:, :3] ** 2, axis=1)


def test_aprime_events_and_their_metadata(tiny_model, tiny_data, tmp_path):
    path = tiny_model.save(tmp_path / "tiny.pt")
    gen = gammastar.Generator.load(path)
    events = gen.aprime_events(0.35, 2_500, eps=1e-3, seed=4, decay=True)
    chunks = list(events.chunks)
    ev = {k: np.concatenate([c[k] for c in chunks]) for k in chunks[0]}
    meta = events.metadata
    rates = gammastar.aprime_yield(tiny_data, [0.35])
    assert meta["expected_yield"] == pytest.approx(rates.n_per_eps2[0] * 1e-6, rel=1e-12)
    assert meta["expected_yield_err"] == pytest.approx(rates.n_err[0] * 1e-6, rel=1e-12)
    assert ev["weight"].sum() == pytest.approx(meta["expected_yield"], rel=1e-12)
    assert (meta["kind"], meta["mass"], meta["n_events"], meta["decay"], meta["model"]) == ("aprime", 0.35, 2_500, True, str(path))
    assert meta["normalization"] == "per_collision" and meta["version"] == gammastar.__version__
    assert (events.info.kind, events.info.mass, events.info.lepton, events.info.beam) == ("aprime", 0.35, "mu", Beam.fixed_target(400.0))
    a, lp, lm = _p4(ev), _p4(ev, "_pos"), _p4(ev, "_neg")
    np.testing.assert_allclose(np.sqrt(_m2(a)), 0.35, rtol=1e-9)
    np.testing.assert_allclose(lp + lm, a, rtol=0, atol=1e-9 * np.abs(a).max())
    np.testing.assert_allclose(_m2(lp), M_MU**2, rtol=1e-5)
    out = gammastar.write_events(tmp_path / "a.parquet", gen.aprime_events(0.35, 2_500, eps=1e-3, seed=4, decay=True),
                                 progress=False)
    t = pq.read_table(out)
    np.testing.assert_array_equal(t.column("px_pos").to_numpy(), ev["px_pos"])
    assert float(t.schema.metadata[b"gammastar.expected_yield"]) == meta["expected_yield"]


def test_mcp_events_follow_the_data(tiny_model, tiny_data):
    gen = gammastar.Generator(tiny_model)
    events = gen.mcp_events(0.12, 3_000, spin="scalar", eps=1e-2, seed=2)
    chunks = list(events.chunks)
    ev = {k: np.concatenate([c[k] for c in chunks]) for k in chunks[0]}
    np.testing.assert_allclose(_m2(_p4(ev, "_pos")), 0.12**2, rtol=1e-6)
    np.testing.assert_allclose(_m2(_p4(ev, "_neg")), 0.12**2, rtol=1e-6)
    pair_m = np.sqrt(_m2(_p4(ev, "_pos") + _p4(ev, "_neg")))
    assert pair_m.min() > 2 * 0.12 and pair_m.max() <= tiny_model.mass_range[1] * (1 + 1e-4)
    exact = gammastar.mcp_yield(tiny_data, [0.12], spin="scalar")  # sum over pairs; the generator sums fine bins
    assert ev["weight"].sum() == pytest.approx(exact.n_pairs_per_eps2[0] * 1e-4, rel=1e-4)
    assert events.metadata["incomplete"] is False and gen.mcp_events(0.05, 10).metadata["incomplete"] is True


def test_chunks_seeds_and_reproducibility(tiny_model):
    gen = gammastar.Generator(tiny_model)
    sizes = [len(c["px"]) for c in gen.iter_aprime(0.3, 25_000, seed=9, chunk=10_000)]
    assert sizes == [10_000, 10_000, 5_000]
    a, b, c = gen.aprime(0.3, 5_000, seed=9), gen.aprime(0.3, 5_000, seed=9), gen.aprime(0.3, 5_000, seed=10)
    assert np.array_equal(a["px"], b["px"]) and not np.array_equal(a["px"], c["px"])
    m1, m2 = gen.mcp(0.15, 2_000, seed=3), gen.mcp(0.15, 2_000, seed=3)
    assert np.array_equal(m1["pz_neg"], m2["pz_neg"])


def test_requests_outside_the_model_are_errors(tiny_model, tmp_path):
    gen = gammastar.Generator(tiny_model)
    with pytest.raises(GammastarError, match="below the pair threshold"):
        gen.aprime_events(0.2, 10)
    with pytest.raises(GammastarError, match="outside the model's trained range"):
        gen.aprime_events(5.0, 10)
    with pytest.raises(GammastarError, match="`spin` must be 'fermion' or 'scalar'"):
        gen.mcp_events(0.1, 10, spin="vector")
    with pytest.raises(GammastarError, match="above the model's highest pair mass"):
        gen.mcp_events(tiny_model.mass_range[1] / 2 + 0.01, 10)
    with pytest.raises(GammastarError, match="eps must be positive"):
        gen.aprime(0.3, 10, eps=-1)
    path = tiny_model.save(tmp_path / "m.pt")
    if not torch.cuda.is_available():
        with pytest.raises(GammastarError, match="no CUDA device is available here"):
            gammastar.Generator.load(path, "cuda")
    with pytest.raises(GammastarError, match="unknown device 'tpu'"):
        gammastar.Generator.load(path, "tpu")


def test_the_sampling_chain(tiny_model):
    """Pairs stay on the device until H is made; H is a physical hadronic tensor; torch's global RNG is untouched."""
    flow = tiny_model.flow
    m = np.linspace(0.25, 0.5, 4_000)
    before = torch.random.get_rng_state()
    pairs = sample_pairs(flow, m, seed=5)
    assert torch.equal(before, torch.random.get_rng_state())
    assert pairs.z.device == flow.device and pairs.z.dtype == torch.float32 and pairs.z.shape == (4_000, 2)
    assert np.array_equal(sample_pairs(flow, m, seed=5).features(), pairs.features())
    h = h_tensor(flow, pairs)
    np.testing.assert_allclose(np.trace(h, axis1=1, axis2=2), 1.0, atol=1e-6)
    np.testing.assert_allclose(h, np.transpose(h, (0, 2, 1)), atol=1e-7)
    assert np.linalg.eigvalsh(h).min() > -1e-6
    # the same features given from the host give the same H (float32 on the device either way)
    np.testing.assert_array_equal(h_tensor(flow, given_pairs(flow, m, pairs.features())), h)
    cos_t, phi = decay_angles(flow, pairs, np.full(m.size, 0.5), lambda nhn, b2: 1.0 - b2 * nhn, np.random.default_rng(1))
    assert np.all(np.abs(cos_t) <= 1) and np.all(np.abs(phi) <= np.pi)


def test_a_modelled_azimuth_is_drawn_from_the_flow(tiny_data, tmp_path):
    """Pairs whose azimuth is not uniform (here every pair turned into -pi/4 < phi < pi/4): phi becomes a flow
    feature, no table is made or stored, and A' (with decays) and chi pairs come from the flow itself."""
    from gammastar.flow.networks import FlowConfig
    from gammastar.flow.train import train

    pair = tiny_data.pos + tiny_data.neg
    turn = np.random.default_rng(1).uniform(-np.pi / 4, np.pi / 4, len(pair)) - np.arctan2(pair[:, 1], pair[:, 0])

    def rotate(p4):
        c, s = np.cos(turn), np.sin(turn)
        return np.column_stack([c * p4[:, 0] - s * p4[:, 1], s * p4[:, 0] + c * p4[:, 1], p4[:, 2], p4[:, 3]])

    data = gammastar.EventSample(rotate(tiny_data.pos), rotate(tiny_data.neg), tiny_data.weight, tiny_data.lepton,
                                 tiny_data.n_collisions)
    model = train(data, FlowConfig(seed=1, epochs=2, hidden=(16,), transforms=1, batch_size=1024), progress=False)
    assert not model.tabulates_pairs and model.density is None and "phi" in model.flow.pair_features
    back = gammastar.load_model(model.save(tmp_path / "phi.pt"))
    assert back.density is None
    gen = gammastar.Generator(back)
    ev = gen.aprime(0.4, 20_000, seed=2, decay=True)
    phi = np.arctan2(ev["py"], ev["px"])
    assert np.mean(np.abs(phi) < np.pi / 2) > 0.9  # the learned azimuth, not a uniform one (0.5)
    np.testing.assert_allclose(_m2(_p4(ev, "_pos") + _p4(ev, "_neg")), 0.4**2, rtol=1e-6)
    chi = gen.mcp(0.12, 5_000, spin="scalar", seed=3)
    np.testing.assert_allclose(_m2(_p4(chi, "_pos")), 0.12**2, rtol=1e-6)


def test_drawing_toward_a_window_is_exact_importance_sampling(tiny_model):
    """A' drawn only from the table cells (and azimuths) that can reach a small off-axis detector, weighted by
    the share they hold, give what every direction drawn gives, with far less noise; and no A' that hits the
    detector comes from a cell the window leaves out."""
    from gammastar.reach.experiment import Shape

    gen = gammastar.Generator(tiny_model)
    shape, z, m = Shape("rectangle", half_x=0.5, half_y=0.5, centre_x=1.5), 100.0, 0.4
    window = shape.angular_window(z)

    def hits(ev):
        p = _p4(ev)[:, :3]
        return shape.crossed_at(z, p), p

    every = gen.aprime(m, 400_000, seed=1)
    hit, p = hits(every)
    share = gen.window_share(m, window)
    assert 0 < share < 0.1 and hit.sum() > 500
    toward = gen.aprime(m, 100_000, seed=2, window=window)
    hit_w, p_w = hits(toward)
    assert toward["weight"].sum() == pytest.approx(every["weight"].sum() * share, rel=1e-12)
    for f, f_w in ((hit, hit_w), (hit / p[:, 2], hit_w / np.where(hit_w, p_w[:, 2], 1.0))):
        a, a_err = f.mean(), f.std() / np.sqrt(f.size)
        b, b_err = share * f_w.mean(), share * f_w.std() / np.sqrt(f_w.size)
        assert abs(a - b) < 4 * np.hypot(a_err, b_err)
        assert b_err < 0.5 * a_err  # 4 times fewer events, and still the smaller error
    density = gen.density
    lo, hi = density.cell_angles(m)
    pt = np.hypot(p[hit, 0], p[hit, 1])
    y = np.arcsinh(p[hit, 2] / np.sqrt(pt**2 + m**2))
    cells = density.cell_of(gen.flow.pair_to_features({"pt": pt, "y": y}))
    assert np.all((hi[cells] >= window.theta_min) & (lo[cells] <= window.theta_max))
