"""Replicas: importance weights against direct draws from each replica, their place in the signal errors, fitting
them anywhere (serially or on workers) to the same numbers, and the model file that keeps them."""

import dataclasses

import numpy as np
import pyarrow.parquet as pq
import pytest

pytest.importorskip("torch")
pytest.importorskip("zuko")

import gammastar  # noqa: E402
from gammastar.flow.density import ReplicaTables  # noqa: E402
from gammastar.reach.experiment import load_experiment  # noqa: E402
from gammastar.reach.signal import signal_grid  # noqa: E402

TOY = """
name = "toy"
beam_energy_gev = 400
n_collisions = 1e18
[decay_volume]
z_start_m = 80
z_end_m = 155
shape = "circle"
radius_m = 1.0
[detection]
final_states = ["ee", "mumu"]
"""


def _tilted(model, *slopes):
    """Replica tables: the model's cells tilted smoothly, exp(a z_pT + b z_y) for each (a, b) in ``slopes``."""
    table = model.pair_density()
    cx, cy = 0.5 * (table.ex[1:] + table.ex[:-1]), 0.5 * (table.ey[1:] + table.ey[:-1])
    zx, zy = np.repeat(cx, cy.size), np.tile(cy, cx.size)
    prob = np.stack([table.prob * np.exp(a * zx + b * zy).astype(np.float32) for a, b in slopes])
    return ReplicaTables(prob, [{"seed": float(i)} for i in range(len(slopes))])


def _as_replica(model, prob):
    """The model with the table ``prob`` in place of its own: what replica r generates."""
    return dataclasses.replace(model, density=dataclasses.replace(model.pair_density(), prob=prob, _nodes={}),
                               replicas=None)


def test_importance_weights_give_each_replicas_own_average(tiny_model):
    """The model's events weighted by p_r / p average to what replica r's own events average to."""
    model = dataclasses.replace(tiny_model, replicas=_tilted(tiny_model, (0.5, 0.0), (0.0, -0.4)))
    gen = gammastar.Generator(model)
    m = 0.4
    ev = gen.aprime(m, 200_000, seed=1)
    p4 = np.column_stack([ev[k] for k in ("px", "py", "pz", "e")])
    ratios = gen.replica_ratios(p4, m)
    assert ratios.shape == (2, p4.shape[0])

    def observables(p):
        theta = np.arctan2(np.hypot(p[:, 0], p[:, 1]), p[:, 2])
        return np.column_stack([theta < 0.01, (theta < 0.01) / p[:, 2], np.log(np.hypot(p[:, 0], p[:, 1]))])

    f = observables(p4)
    for r in range(2):
        own = gammastar.Generator(_as_replica(tiny_model, model.replicas.prob[r])).aprime(m, 200_000, seed=2)
        g = observables(np.column_stack([own[k] for k in ("px", "py", "pz", "e")]))
        weighted = (ratios[r][:, None] * f).mean(axis=0)
        err = np.hypot((ratios[r][:, None] * f).std(axis=0), g.std(axis=0)) / np.sqrt(len(g))
        assert np.all(np.abs(weighted - g.mean(axis=0)) < 4 * err), (r, weighted, g.mean(axis=0), err)
        assert np.mean(ratios[r]) == pytest.approx(1.0, abs=5 * ratios[r].std() / np.sqrt(ratios.shape[1]))


def test_signal_errors_carry_the_replicas_spread(tiny_model, tmp_path):
    path = tmp_path / "toy.toml"
    path.write_text(TOY)
    ex = load_experiment(path)
    eps = np.array([1e-7, 1e-6, 3e-6])
    plain = signal_grid(gammastar.Generator(tiny_model), ex, [0.3, 0.45], eps, n_events=20_000, seed=1)
    assert plain.replicas == 0 and np.all(plain.n_signal_kin_err == 0)
    same = dataclasses.replace(tiny_model, replicas=ReplicaTables(np.stack([tiny_model.pair_density().prob] * 3), [{}] * 3))
    flat = signal_grid(gammastar.Generator(same), ex, [0.3, 0.45], eps, n_events=20_000, seed=1)
    np.testing.assert_array_equal(flat.n_signal, plain.n_signal)  # replicas change the errors, never the counts
    np.testing.assert_allclose(flat.n_signal_err, plain.n_signal_err, rtol=1e-12)  # identical replicas: no spread
    tilted = dataclasses.replace(tiny_model, replicas=_tilted(tiny_model, (0.3, 0.2), (-0.2, 0.1), (0.1, -0.3)))
    gen = gammastar.Generator(tilted)
    g = signal_grid(gen, ex, [0.3, 0.45], eps, n_events=20_000, seed=1)
    assert g.replicas == 3
    np.testing.assert_array_equal(g.n_signal, plain.n_signal)
    # the spread, recomputed here from each replica's weighted acceptance
    window = ex.decay_volume.shape.angular_window(ex.decay_volume.z_end)
    for i, m in enumerate((0.3, 0.45)):
        # the reach's A' (drawn toward the volume, from its random stream for this mass)
        p4, _ = gen.aprime_pairs(m, 20_000, np.random.default_rng([1 + i, 43]), 1 + i, window, polarisation=False)
        hit = np.hypot(155 * p4[:, 0] / p4[:, 2], 155 * p4[:, 1] / p4[:, 2]) <= 1.0
        a = m / (p4[:, 2] * gammastar.aprime_decay([m]).ctau_m_eps1[0])
        p = hit[:, None] * (np.exp(-80 * np.outer(a, eps**2)) - np.exp(-155 * np.outer(a, eps**2)))
        per_replica = gen.replica_ratios(p4, m) @ p
        want = per_replica.std(axis=0, ddof=1) / p.sum(axis=0)
        np.testing.assert_allclose(g.reshaped("n_signal_kin_err")[i] / g.reshaped("n_signal")[i], want, rtol=1e-6)
        assert np.all(want > 0.01)
    stat = plain.n_signal_err
    np.testing.assert_allclose(g.n_signal_err, np.hypot(stat, g.n_signal_kin_err), rtol=1e-9)


def test_bad_replica_requests(tiny_model, run, tmp_path):
    rc, _, err = run("train", "--data", tmp_path / "none.parquet", "--out", tmp_path / "m.pt", "--replicas", "0")
    assert rc == 2 and "--replicas must be at least 1" in err
    path = tiny_model.save(tmp_path / "tiny.pt")
    rc, _, err = run("train", "--data", tmp_path / "none.parquet", "--out", tmp_path / "m2.pt", "--from-model", path)
    assert rc == 2 and "give --replicas K" in err


@pytest.mark.slow
def test_replicas_fit_the_same_anywhere_and_live_in_the_model_file(tiny_data, tmp_path, run):
    from gammastar.flow.fit import training_pairs
    from gammastar.flow.model import load_model
    from gammastar.flow.replicas import fit_replicas
    from gammastar.io.pairs import write_dileptons

    cfg = gammastar.FlowConfig(seed=2, epochs=1, hidden=(8,), transforms=1, batch_size=1024)
    model = gammastar.train(tiny_data, cfg, progress=False, replicas=2, workers=1)
    pairs = training_pairs(tiny_data, model.config)
    on_workers = fit_replicas(model, pairs, 2, workers=2, progress=False)
    np.testing.assert_array_equal(on_workers.prob, model.replicas.prob)  # one torch thread wherever a replica is fitted
    assert not np.array_equal(model.replicas.prob[0], model.replicas.prob[1])
    assert not np.allclose(model.replicas.prob[0], model.pair_density().prob)
    path = model.save(tmp_path / "r.pt")
    back = load_model(path)
    assert back.replicas.count == 2 and back.replicas.stored is None  # read when first used
    np.testing.assert_array_equal(back.replicas.prob, model.replicas.prob)
    # the command line: a reach with the replicas' spread, and replicas added to a model trained without them
    data = write_dileptons(tmp_path / "d.parquet", tiny_data)
    (tmp_path / "toy.toml").write_text(TOY)
    rc, _, err = run("reach", "aprime", "--model", path, "--experiment", tmp_path / "toy.toml", "--mass", "0.3,0.4",
                     "--eps", "1e-7:1e-5:4", "--n-events", "5000", "--out", tmp_path / "reach")
    assert rc == 0, err
    table = pq.read_table(tmp_path / "reach" / "signal.parquet").to_pydict()
    assert all(k >= 0 for k in table["n_signal_kin_err"]) and max(table["n_signal_kin_err"]) > 0
    assert '"replicas": 2' in (tmp_path / "reach" / "reach.json").read_text() and "no replicas" not in err
    rc, _, err = run("train", "--data", data, "--out", tmp_path / "p.pt", "--epochs", "1", "--hidden", "8",
                     "--transforms", "1", "--seed", "3")
    assert rc == 0, err
    rc, out, err = run("train", "--data", data, "--from-model", tmp_path / "p.pt", "--replicas", "2", "--workers", "1",
                       "--out", tmp_path / "p2.pt")
    assert rc == 0 and "with 2 replicas" in out, err
    assert load_model(tmp_path / "p2.pt").replicas.count == 2
    other = write_dileptons(tmp_path / "other.parquet", gammastar.EventSample(tiny_data.pos[:4000], tiny_data.neg[:4000],
                                                                               tiny_data.weight[:4000], "mu", 1e9))
    rc, _, err = run("train", "--data", other, "--from-model", tmp_path / "p.pt", "--replicas", "2",
                     "--out", tmp_path / "p3.pt")
    assert rc == 2 and "is not the data the model was trained on" in err
