"""Issue 12: experiment descriptions, A' signal counts and the reach, against independent numbers."""

import json
import math

import numpy as np
import pyarrow.parquet as pq
import pytest

import gammastar
from gammastar.io.jsontext import dumps
from gammastar.physics.beams import Beam
from gammastar.physics.channels import channel_shares, decay_mixture
from gammastar.reach.contour import reach_contour
from gammastar.reach.experiment import PRESETS, Shape, load_experiment
from gammastar.reach.signal import decay_probability, signal_grid
from gammastar.truth.cocktail import MockConfig, direct_aprime_yield
from gammastar.truth.direct import direct_aprime_events

TOY = """
name = "toy-dump"
beam_energy_gev = 400
n_collisions = 1e18
[decay_volume]
z_start_m = 50
z_end_m = 100
shape = "circle"
radius_m = 2.5
[detection]
final_states = ["ee", "mumu"]
efficiency = 0.8
daughters_in_acceptance = false
"""


@pytest.fixture
def toy(tmp_path):
    path = tmp_path / "toy.toml"
    path.write_text(TOY)
    return load_experiment(path)


class DirectGenerator:
    """The mock's direct meson-decay A' events (the truth) behind the Generator's interface."""

    beam = Beam.fixed_target(400.0)

    def aprime_yield(self, m):
        n = np.atleast_1d(direct_aprime_yield([m]))
        return gammastar.AprimeYield(np.array([m]), n, np.zeros(1), np.zeros(1), "per_collision", "mu")

    replicas = 0

    def window_share(self, m, window):
        return 1.0  # every direction is drawn

    def replica_ratios(self, p4, m):
        return None

    def aprime(self, m, n, seed=0, decay=False, window=None):
        p4, _ = direct_aprime_events(MockConfig(), m, n, seed=seed)
        return {"px": p4[:, 0], "py": p4[:, 1], "pz": p4[:, 2], "e": p4[:, 3]}

    def aprime_pairs(self, m, n, rng, seed=0, window=None, keep=None, polarisation=True):
        assert not polarisation  # the truth's A' carry no H here: no daughters
        return direct_aprime_events(MockConfig(), m, n, seed=seed)[0], None


def test_decay_probability_is_the_exponential_difference():
    m, ctau1, z0, z1 = 0.3, 1.42e-13, 50.0, 100.0
    p = np.array([[1.0, 0.5, 80.0], [0.0, 0.0, 5.0], [3.0, -2.0, 400.0]])
    eps = np.array([1e-8, 1e-6, 1e-5])
    a = m / (p[:, 2] * ctau1)
    got = decay_probability(a, eps, z0, z1)
    for i, (px, py, pz) in enumerate(p):
        pabs = math.sqrt(px * px + py * py + pz * pz)
        for j, e in enumerate(eps):
            lam = pabs / m * ctau1 / e**2
            cos = pz / pabs
            want = math.exp(-z0 / (lam * cos)) - math.exp(-z1 / (lam * cos))
            assert got[i, j] == pytest.approx(want, rel=1e-9, abs=1e-300)


def test_signal_counts_against_a_straightforward_sum(toy):
    masses, eps = [0.3, 0.5], np.array([1e-7, 1e-6, 1e-5])
    grid = signal_grid(DirectGenerator(), toy, masses, eps, n_events=4000, seed=3)
    dec = gammastar.aprime_decay(masses)
    for i, m in enumerate(masses):
        ev = DirectGenerator().aprime(m, 4000, seed=3 + i)
        n_v = DirectGenerator().aprime_yield(m).n_per_eps2[0]
        for j, e in enumerate(eps):
            total = 0.0
            for px, py, pz in zip(ev["px"], ev["py"], ev["pz"], strict=True):
                if pz <= 0 or (100 * px / pz) ** 2 + (100 * py / pz) ** 2 > 2.5**2:
                    continue
                length = pz / m * dec.ctau_m_eps1[i] / e**2  # decay length along z
                total += math.exp(-50 / length) - math.exp(-100 / length)
            want = 1e18 * e**2 * n_v * total / 4000 * (dec.br_ee[i] + dec.br_mumu[i]) * 0.8
            assert grid.reshaped("n_signal")[i, j] == pytest.approx(want, rel=1e-9)
    assert np.allclose(grid.reshaped("ctau_m"), dec.ctau_m_eps1[:, None] / eps**2)


def test_long_lived_reach_moves_as_collisions_to_the_minus_quarter(toy):
    """Long-lived, n_signal ~ eps^4 n_collisions: 16 times the collisions halve the lower edge of the reach."""
    eps = np.geomspace(1e-9, 1e-4, 200)
    grid = signal_grid(DirectGenerator(), toy, [0.3], eps, n_events=3000)
    n = grid.reshaped("n_signal") * 1e4  # deep in the long-lived regime (there z_end/decay length ~ 1e-3)
    low = reach_contour(np.array([0.3]), eps, n, 2.3).eps_low[0]
    low16 = reach_contour(np.array([0.3]), eps, 16 * n, 2.3).eps_low[0]
    assert low16 / low == pytest.approx(0.5, rel=0.01)


@pytest.mark.parametrize("shape", [
    Shape("circle", radius=0.1), Shape("circle", radius=1.0, centre_x=3.0, centre_y=-2.0),
    Shape("rectangle", half_x=1.5, half_y=1.5, centre_x=5.0), Shape("rectangle", half_x=2.0, half_y=3.0),
    Shape("rectangle", half_x=0.5, half_y=2.0, centre_x=-3.0, centre_y=1.0)])
def test_the_angular_window_holds_the_shape_tightly(shape):
    """Every line from the target through the shape at z lies in the window, and the window's edges are reached."""
    z = 480.0
    rng = np.random.default_rng(3)
    if shape.kind == "circle":
        r, a = shape.radius * np.sqrt(rng.random(400_000)), rng.uniform(0, 2 * np.pi, 400_000)
        x, y = shape.centre_x + r * np.cos(a), shape.centre_y + r * np.sin(a)
    else:
        x = shape.centre_x + shape.half_x * rng.uniform(-1, 1, 400_000)
        y = shape.centre_y + shape.half_y * rng.uniform(-1, 1, 400_000)
    assert np.all(shape.contains(x, y))
    w = shape.angular_window(z)
    theta = np.arctan2(np.hypot(x, y), z)
    dphi = np.remainder(np.arctan2(y, x) - w.phi_centre + np.pi, 2 * np.pi) - np.pi
    assert np.all((theta >= w.theta_min) & (theta <= w.theta_max) & (np.abs(dphi) <= w.phi_half))
    span = w.theta_max - w.theta_min
    assert theta.max() > w.theta_max - 0.01 * span and theta.min() < w.theta_min + 0.01 * span
    if w.phi_half < np.pi:
        assert np.abs(dphi).max() > 0.98 * w.phi_half


def test_presets_and_schema_errors(tmp_path, run):
    for name in PRESETS:
        ex = load_experiment(name)
        assert ex.beam_energy == 400 and ex.n_collisions > 0 and ex.sources  # every preset says where from
    bad = {"typo": TOY.replace("z_end_m", "z_ned_m"), "order": TOY.replace("z_end_m = 100", "z_end_m = 10"),
           "shape": TOY.replace('"circle"', '"hexagon"'), "state": TOY.replace('"mumu"', '"tautau"'),
           "toml": TOY + "\n[[", "unknown": TOY + "\ncolour = 1\n"}
    for what, text in bad.items():
        path = tmp_path / f"{what}.toml"
        path.write_text(text)
        rc, _, err = run("reach", "aprime", "--model", tmp_path / "none.pt", "--experiment", path, "--mass", "0.3",
                         "--eps", "1e-7:1e-5:3", "--out", tmp_path / "o")
        assert rc == 2 and err.startswith("error: experiment") and "\n" not in err.strip(), (what, err)


def test_reach_command_writes_the_three_outputs(model_file, tmp_path, run):
    (tmp_path / "toy.toml").write_text(TOY)
    out = tmp_path / "r"
    rc, _, err = run("reach", "aprime", "--model", model_file, "--experiment", tmp_path / "toy.toml",
                     "--mass", "0.3,0.5,50", "--eps", "1e-8:1e-4:12", "--n-events", "2000", "--out", out)
    assert rc == 0, err
    assert "1 of 3 masses have no yield" in err  # 50 GeV: outside the model; the others go on
    table = pq.read_table(out / "signal.parquet")
    assert table.column_names[:6] == ["mass", "eps", "n_signal", "n_signal_err", "p_decay", "ctau_m"]
    assert table.num_rows == 36 and np.isnan(table.column("n_signal").to_numpy()[-1]) and (out / "signal.csv").exists() and (out / "reach.png").stat().st_size > 0
    r = json.loads((out / "reach.json").read_text())
    assert r["threshold"] == 2.3 and [c["mass"] for c in r["contour"]] == [0.3, 0.5, 50]
    assert r["contour"][2]["eps_low"] is None and r["failed"][0]["mass"] == 50
    assert all({"mass", "eps_low", "eps_high"} <= set(c) for c in r["contour"])
    rc, _, err = run("reach", "aprime", "--model", model_file, "--experiment", tmp_path / "toy.toml",  # twice
                     "--mass", "0.3,0.3", "--eps", "1e-8:1e-4:12", "--n-events", "2000", "--out", tmp_path / "twice")
    assert rc == 0, err
    twice = json.loads((tmp_path / "twice" / "reach.json").read_text())["contour"]
    assert [c["mass"] for c in twice] == [0.3, 0.3] and twice[0]["eps_low"] is not None
    low = r["contour"][0]["eps_low"]
    assert low is not None and 1e-8 < low < r["contour"][0]["eps_high"] < 1e-4
    assert not r["contour"][0]["eps_low_at_grid_end"] and not r["contour"][0]["eps_high_at_grid_end"]
    # a grid starting inside the reach: the lower edge is the grid's end, flagged, said and drawn dotted
    start = 3 * low
    rc, _, err = run("reach", "aprime", "--model", model_file, "--experiment", tmp_path / "toy.toml",
                     "--mass", "0.3", "--eps", f"{start}:1e-4:6", "--n-events", "2000", "--out", tmp_path / "inside")
    assert rc == 0, err
    row = json.loads((tmp_path / "inside" / "reach.json").read_text())["contour"][0]
    n_first = pq.read_table(tmp_path / "inside" / "signal.parquet").column("n_signal").to_numpy()[0]
    assert n_first >= 2.3  # the count at the grid's smallest eps is above the threshold: the reach goes lower
    assert row["eps_low_at_grid_end"] and row["eps_low"] == pytest.approx(start) and not row["eps_high_at_grid_end"]
    assert "still above 2.3 at the grid's smallest eps" in err and "the reach goes lower" in err
    # the library function gives what the command wrote: reach.json is its to_dict(), signal.parquet its table
    lib = gammastar.aprime_reach(gammastar.Generator.load(model_file), tmp_path / "toy.toml", [0.3, 0.5, 50],
                                 np.geomspace(1e-8, 1e-4, 12), n_events=2000)
    assert json.loads(dumps(lib.to_dict())) == {**r, "model": str(model_file)}
    for name in table.column_names:  # NaN rows of the failed mass included
        np.testing.assert_array_equal(lib.signal_table().column(name).to_numpy(), table.column(name).to_numpy())


def test_daughters_in_acceptance(gen, tmp_path):
    """Both daughters must reach z_end inside the shape: in a huge one all but those flying backwards, fewer in a
    narrow one; p_decay is the decay probability alone either way."""
    eps = np.array([1e-7, 1e-6])
    counts = {}
    for radius, daughters in ((1e9, "false"), (1e9, "true"), (0.3, "false"), (0.3, "true")):
        path = tmp_path / f"d{radius}{daughters}.toml"
        path.write_text(TOY.replace("radius_m = 2.5", f"radius_m = {radius}")
                        .replace("daughters_in_acceptance = false", f"daughters_in_acceptance = {daughters}"))
        g = signal_grid(gen, load_experiment(path), [0.4], eps, n_events=3000, seed=2)
        counts[radius, daughters] = (g.n_signal, g.p_decay)
    # in a huge shape a daughter is lost only when it flies backwards: the ratio is that of the events with both
    # daughters forward, weighted by their decay probability
    experiment = load_experiment(tmp_path / "d1000000000.0true.toml")
    window = experiment.decay_volume.shape.angular_window(100.0)
    # the same A' and decays as the reach draws them (toward the volume; its random streams for seed 2)
    aprime, h = gen.aprime_pairs(0.4, 3000, np.random.default_rng([2, 43]), 2, window)
    shares = channel_shares(0.4, ["ee", "mumu"])
    d = decay_mixture(aprime, h, shares, np.random.default_rng([2, 47]), gen.beam)
    assert {c.name for c in shares.channels} == {"ee", "mumu"} and set(np.unique(d.channel)) == {0, 1}
    length = aprime[:, 2, None] / 0.4 * gammastar.aprime_decay([0.4]).ctau_m_eps1[0] / eps**2
    with np.errstate(over="ignore", invalid="ignore"):  # backward A' (length < 0) are masked
        p = np.where(aprime[:, 2, None] > 0, np.exp(-50 / length) - np.exp(-100 / length), 0.0)
    forward = (d.p4[0][:, 2] > 0) & (d.p4[1][:, 2] > 0)
    np.testing.assert_allclose(counts[1e9, "true"][0] / counts[1e9, "false"][0],
                               (p * forward[:, None]).sum(0) / p.sum(0), rtol=1e-9)
    assert np.all(counts[0.3, "true"][0] < counts[0.3, "false"][0])
    np.testing.assert_allclose(counts[0.3, "true"][1], counts[0.3, "false"][1], rtol=1e-12)


@pytest.mark.parametrize("shape", [Shape("circle", radius=1.0), Shape("circle", radius=0.6, centre_x=0.8, centre_y=0.3),
                                   Shape("rectangle", half_x=1.5, half_y=1.0, centre_x=0.5)])
def test_the_daughters_window_against_decay_points_one_by_one(shape):
    """P(decay in the volume with both daughters reaching its end inside the shape): the interval formula against
    decay points on a fine grid along each A' line, daughters propagated from each (the truncated exponential
    weighting them), in the long-lived and the short-lived regime."""
    from gammastar.reach.experiment import DecayVolume
    from gammastar.reach.signal import daughter_window

    rng = np.random.default_rng(4)
    n, z0, z1 = 300, 80.0, 155.0
    volume = DecayVolume(z0, z1, shape)
    direction = np.column_stack([rng.normal(0, 0.006, n), rng.normal(0, 0.006, n), np.ones(n)])
    ev = {"px": 30 * direction[:, 0], "py": 30 * direction[:, 1], "pz": 30 * direction[:, 2]}
    for leg, sign in (("pos", 1), ("neg", -1)):  # daughters a few mrad off the A', one of them sometimes backward
        ev[f"px_{leg}"] = ev["px"] / 2 + sign * rng.normal(0, 0.12, n)
        ev[f"py_{leg}"] = ev["py"] / 2 + sign * rng.normal(0, 0.12, n)
        ev[f"pz_{leg}"] = ev["pz"] / 2 + sign * rng.normal(0, 4.0, n)
    aprime = np.column_stack([ev["px"], ev["py"], ev["pz"]])
    legs = [np.column_stack([ev[f"p{c}_{leg}"] for c in "xyz"]) for leg in ("pos", "neg")]
    lo, hi = daughter_window(aprime, legs, volume)
    z = np.linspace(z0, z1, 40_001)[None, :]
    zc = 0.5 * (z[:, 1:] + z[:, :-1])
    both = np.ones((n, zc.size), dtype=bool)
    x, y = ev["px"][:, None] / ev["pz"][:, None] * zc, ev["py"][:, None] / ev["pz"][:, None] * zc
    for leg in ("pos", "neg"):
        p = np.stack(np.broadcast_arrays(*(ev[f"p{c}_{leg}"][:, None] for c in "xyz"), zc), axis=-1)[..., :3]
        both &= shape.crossed_at(z1, p, x, y, zc)
    assert 0.1 < both.any(axis=1).mean() < 0.95  # some decays seen, some not: the test has teeth
    for k in (1e-5, 0.05):  # decay rate per metre along z: long-lived, and a decay length of 20 m
        dz = np.diff(z, axis=1)
        want = (both * k * np.exp(-k * zc) * dz).sum(axis=1)
        got = np.where(lo < hi, np.exp(-k * lo) - np.exp(-k * np.where(lo < hi, hi, lo)), 0.0)
        np.testing.assert_allclose(got, want, rtol=2e-3, atol=2e-4 * want.max())


def test_an_experiment_that_accepts_nothing_is_an_error(tiny_model, tmp_path, run):
    """A volume 80 degrees off the beam for a model whose pairs all fly within 20 degrees of it, and final states
    closed at every mass asked for: one line each, not a table of zeros."""
    import dataclasses

    table = tiny_model.pair_density()
    _, hi = table.cell_angles(0.45)  # (every cell's angles shrink as the mass grows)
    forward = dataclasses.replace(table, prob=np.where(hi[None, :] < np.radians(20), table.prob, 0).astype(np.float32))
    gen = gammastar.Generator(dataclasses.replace(tiny_model, density=forward))
    path = tmp_path / "aside.toml"
    path.write_text(TOY.replace("z_start_m = 50", "z_start_m = 0.5").replace("z_end_m = 100", "z_end_m = 1")
                    .replace("radius_m = 2.5", "radius_m = 0.1\ncentre_x_m = 6.0"))
    with pytest.raises(gammastar.GammastarError, match="no A' of the model reaches .* mrad"):
        signal_grid(gen, load_experiment(path), [0.3, 0.4], [1e-7, 1e-6], n_events=1000)
    path.write_text(TOY.replace('["ee", "mumu"]', '["hadrons"]'))  # closed below 2 m_pi = 0.279 GeV
    model = tiny_model.save(tmp_path / "tiny.pt")
    rc, _, err = run("reach", "aprime", "--model", model, "--experiment", path, "--mass", "0.22,0.25",
                     "--eps", "1e-7:1e-5:3", "--n-events", "1000", "--out", tmp_path / "o")
    assert rc == 2 and "none of the final states" in err and "\n" not in err.strip()
