"""Issue 21: detector-level events -- A' decaying in the volume with every visible final state, chi at the mCP
detector -- against the reach's counts, the decay law, the geometry, and in every output format."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq
import pytest
from scipy import stats

from gammastar.physics.channels import CHANNELS, channel_shares
from gammastar.physics.decays import aprime_decay
from gammastar.reach.events import (
    APRIME_DETECTOR_COLUMNS,
    MCP_DETECTOR_COLUMNS,
    aprime_at_detector,
    aprime_detector_tasks,
    mcp_detector_tasks,
)
from gammastar.reach.experiment import load_experiment
from gammastar.reach.mcp import mcp_signal_grid
from gammastar.reach.signal import signal_grid

TOML = (Path(__file__).parents[2] / "examples" / "toy-dump.toml").read_text()


def _experiment(tmp_path, name="toy", **changes):
    text = TOML
    for old, new in changes.items():
        text = text.replace(old, new)
    path = tmp_path / f"{name}.toml"
    path.write_text(text)
    return load_experiment(path), path


def _sum_and_error(w: np.ndarray, kept: float) -> tuple[float, float]:
    """The sum of the weights and its Monte Carlo error: the events' spread, and the pilot's share kept (binomial
    over its 2e5 draws)."""
    total = float(w.sum())
    return total, total * math.hypot(w.std() / w.mean() / math.sqrt(w.size), math.sqrt((1 - kept) / (kept * 2e5)))


@pytest.mark.parametrize("case", ["leptons", "hadrons", "daughters"])
def test_weights_sum_to_the_reach(gen, tmp_path, case):
    """The weights of the events add up to reach aprime's n_signal at the same (m, eps), within both Monte Carlo
    errors: in the long-lived and the short-lived regime, with hadrons, and with every daughter required to reach
    the end plane inside the shape."""
    changes = {}
    if case != "leptons":
        changes['final_states = ["ee", "mumu"]'] = 'final_states = ["ee", "mumu", "hadrons"]'
    if case == "daughters":
        changes["daughters_in_acceptance = false"] = "daughters_in_acceptance = true"
        changes["radius_m = 2.5"] = "radius_m = 1.0"
    experiment, _ = _experiment(tmp_path, **changes)
    m = 0.45
    for eps in (1e-7, 2e-6):
        tasks, summary = aprime_detector_tasks(gen, experiment, m, 40_000, eps, seed=3)
        weights = np.concatenate([t()["weight"] for t in tasks])
        reach = signal_grid(gen, experiment, [m], [eps], n_events=200_000, seed=4)
        total, err = _sum_and_error(weights, summary["kept_share"])
        want, want_err = reach.n_signal[0], reach.n_signal_mc_err[0]
        assert abs(total - want) < 4 * math.hypot(err, want_err), (case, eps, total, want, err, want_err)


def test_decay_points_lie_on_the_line_of_flight_and_follow_the_decay_law(gen, tmp_path):
    """Each decay point is on its A' line, inside the volume, at the time the A' takes to get there; its z follows
    the exponential law truncated to the volume (KS of F(z) against uniform); the A' crosses the end plane inside
    the shape."""
    experiment, _ = _experiment(tmp_path)
    m, eps = 0.4, 3e-7
    ev = aprime_at_detector(gen, experiment, m, 30_000, eps, seed=5)
    assert tuple(ev) == APRIME_DETECTOR_COLUMNS
    slope = ev["vz_m"] / ev["pz"]
    np.testing.assert_allclose(ev["vx_m"], ev["px"] * slope, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(ev["vy_m"], ev["py"] * slope, rtol=1e-12, atol=1e-12)
    assert np.all((ev["vz_m"] >= 50) & (ev["vz_m"] <= 100))
    speed = np.sqrt(ev["px"] ** 2 + ev["py"] ** 2 + ev["pz"] ** 2) / ev["e"]  # in c
    distance = np.sqrt(ev["vx_m"] ** 2 + ev["vy_m"] ** 2 + ev["vz_m"] ** 2)
    np.testing.assert_allclose(ev["vt_ns"], distance / (speed * 0.299792458), rtol=1e-9)
    x_end, y_end = ev["px"] / ev["pz"] * 100, ev["py"] / ev["pz"] * 100
    assert np.all(np.hypot(x_end, y_end) <= 2.5)
    # the law, written out: l_z = (p_z/m) c tau / eps^2, F(z) = (1 - e^-(z - z0)/l) / (1 - e^-(z1 - z0)/l)
    length = ev["pz"] / m * aprime_decay([m]).ctau_m_eps1[0] / eps**2
    u = -np.expm1(-(ev["vz_m"] - 50) / length) / -np.expm1(-50 / length)
    assert stats.kstest(u, "uniform").pvalue > 1e-3
    assert 0.2 < np.median(length) / 50 < 20  # neither flat nor piled up: the law is tested where it bends
    # and the A' are not uniform in z: the test would see a flat law
    assert stats.kstest((ev["vz_m"] - 50) / 50, "uniform").pvalue < 1e-6


def test_every_daughter_reaches_the_detector_when_asked(gen, tmp_path):
    """With daughters_in_acceptance, every daughter of every channel, from the decay point, crosses z_end inside the
    shape; without it, some do not (the requirement has teeth)."""
    hadrons = {'final_states = ["ee", "mumu"]': 'final_states = ["ee", "mumu", "hadrons"]', "radius_m = 2.5": "radius_m = 1.0"}
    for required in (True, False):
        experiment, _ = _experiment(tmp_path, f"d{required}", **hadrons,
                                    **{"daughters_in_acceptance = false": f"daughters_in_acceptance = {str(required).lower()}"})
        ev = aprime_at_detector(gen, experiment, 0.5, 20_000, 1e-6, seed=6)
        inside = np.ones(len(ev["weight"]), dtype=bool)
        for k in (1, 2, 3):
            there = ev[f"pid_d{k}"] != 0
            with np.errstate(divide="ignore", invalid="ignore"):  # empty slots (0) and daughters flying sideways
                t = (100 - ev["vz_m"]) / ev[f"pz_d{k}"]
                x, y = ev["vx_m"] + t * ev[f"px_d{k}"], ev["vy_m"] + t * ev[f"py_d{k}"]
            inside &= ~there | ((ev[f"pz_d{k}"] > 0) & (np.hypot(x, y) <= 1.0 + 1e-9))
        assert inside.all() if required else inside.mean() < 0.9
        assert {c.name for c in CHANNELS if CHANNELS.index(c) in set(ev["channel"])} >= {"ee", "mumu", "pipi"}


def test_channel_shares_among_the_events(gen, tmp_path):
    """Without daughter requirements the channels appear with their shares of the visible BR (binomial), their
    daughters conserve four-momentum, pi0 and K_S undecayed."""
    experiment, _ = _experiment(tmp_path, **{'final_states = ["ee", "mumu"]': 'final_states = ["ee", "mumu", "hadrons"]'})
    n = 40_000
    ev = aprime_at_detector(gen, experiment, 0.5, n, 1e-6, seed=7)
    shares = channel_shares(0.5, ["ee", "mumu", "hadrons"])
    counts = np.bincount(ev["channel"], minlength=len(CHANNELS))[shares.index()]
    p = shares.probabilities
    assert np.all(np.abs(counts - n * p) < 5 * np.sqrt(n * p * (1 - p)) + 1)
    aprime = np.column_stack([ev[c] for c in ("px", "py", "pz", "e")])
    total = sum(np.column_stack([ev[f"{c}_d{k}"] for c in ("px", "py", "pz", "e")]) for k in (1, 2, 3))
    np.testing.assert_allclose(total, aprime, atol=1e-12 * aprime[:, 3].max())


def test_detector_events_in_every_format(model_file, tmp_path, run):
    """generate aprime --experiment writes every format: the Parquet columns of the contract, HepMC3 with the decay
    vertex (mm) and the A' of status 2, LHE with the A' proper decay length; the summary line states the expected
    signal; the same with hadrons in HepMC3 (three pions)."""
    _, path = _experiment(tmp_path, **{'final_states = ["ee", "mumu"]': 'final_states = ["hadrons"]'})
    base = ["generate", "aprime", "--model", model_file, "--mass", "0.78", "--eps", "1e-6", "--experiment", path,
            "--n-events", "200", "--seed", "2"]
    rc, _, err = run(*base, "--out", tmp_path / "a.parquet")
    assert rc == 0, err
    assert "sum of weights" in err and "signal events in 1e+18 collisions" in err and "as reach aprime" in err
    table = pq.read_table(tmp_path / "a.parquet")
    assert tuple(table.column_names) == APRIME_DETECTOR_COLUMNS and table.num_rows == 200
    meta = {k.decode(): v.decode() for k, v in table.schema.metadata.items()}
    assert float(meta["gammastar.expected_signal"]) > 0 and json.loads(meta["gammastar.final_states"]) == ["hadrons"]
    cols = table.to_pydict()
    for fmt in ("csv", "root", "hepmc3", "lhe"):
        rc, _, err = run(*base, "--out", tmp_path / f"a.{fmt}")
        assert rc == 0, err
    hep = pytest.importorskip("pyhepmc")
    with hep.open(tmp_path / "a.hepmc3") as f:
        events = list(f)
    assert len(events) == 200
    for i in (0, 57, 199):
        ev = events[i]
        aprime = [p for p in ev.particles if p.pid == 4900022][0]
        assert aprime.status == 2
        pos = aprime.end_vertex.position
        assert (pos.x, pos.y, pos.z) == pytest.approx((cols["vx_m"][i] * 1e3, cols["vy_m"][i] * 1e3,
                                                       cols["vz_m"][i] * 1e3), rel=1e-12)
        assert pos.t == pytest.approx(cols["vt_ns"][i] * 299.792458, rel=1e-12)
        pids = sorted(p.pid for p in aprime.end_vertex.particles_out)
        assert pids == sorted(cols[f"pid_d{k}"][i] for k in (1, 2, 3) if cols[f"pid_d{k}"][i])
        assert ev.weights[0] == pytest.approx(cols["weight"][i], rel=1e-12)
    assert any(len(ev.particles) == 6 for ev in events)  # two protons, the A' and three pions
    pylhe = pytest.importorskip("pylhe")
    lhe = list(pylhe.LHEFile.fromfile(str(tmp_path / "a.lhe")).events)
    aprime = [p for p in lhe[3].particles if p.id == 4900022][0]
    # c tau (mm) is the proper flight to the decay point: z m / p_z
    assert aprime.lifetime == pytest.approx(cols["vz_m"][3] * 1e3 * 0.78 / cols["pz"][3], rel=1e-12)


def test_bad_requests_are_one_line(model_file, tmp_path, run):
    _, path = _experiment(tmp_path)
    base = ["generate", "aprime", "--model", model_file, "--mass", "0.45", "--experiment", path, "--n-events", "100",
            "--out", tmp_path / "x.parquet"]
    rc, _, err = run(*base)
    assert rc == 2 and "--experiment needs --eps" in err and "\n" not in err.strip()
    rc, _, err = run(*base, "--eps", "1e-2")  # decays within millimetres of the target
    assert rc == 2 and "no A' of mass 0.45 GeV reaches" in err and "eps below" in err and "\n" not in err.strip()
    below = float(err.split("eps below ")[1].split()[0])
    rc, _, err = run(*base, "--eps", f"{below / 2:g}")  # the range it says can
    assert rc == 0, err
    assert not (tmp_path / "y.parquet").exists()
    _, closed = _experiment(tmp_path, "closed", **{'final_states = ["ee", "mumu"]': 'final_states = ["hadrons"]'})
    rc, _, err = run(*base[:5], "0.25", "--experiment", closed, "--eps", "1e-6", "--n-events", "100", "--out",
                     tmp_path / "z.parquet")
    assert rc == 2 and "none of the final states hadrons is open" in err
    rc, _, err = run("generate", "mcp", "--model", model_file, "--mchi", "0.1", "--experiment", "ship", "--eps", "1e-3",
                     "--n-events", "100", "--out", tmp_path / "m.parquet")
    assert rc == 2 and "no [mcp_detector]" in err


def test_mcp_events_at_the_detector(gen, tmp_path):
    """chi-chibar pairs with at least one chi crossing the mCP detector: the crossing points lie in its shape (NaN
    for a chi that misses), and the weights add up to reach mcp's n_signal."""
    experiment, _ = _experiment(tmp_path)
    eps = 3e-3
    tasks, summary = mcp_detector_tasks(gen, experiment, 0.1, 20_000, "fermion", eps, seed=8)
    ev = {k: np.concatenate([c[k] for c in (t() for t in tasks)]) for k in MCP_DETECTOR_COLUMNS} if len(tasks) > 1 \
        else tasks[0]()
    assert tuple(ev) == MCP_DETECTOR_COLUMNS
    crossed = {leg: np.isfinite(ev[f"x_{leg}_m"]) for leg in ("pos", "neg")}
    assert np.all(crossed["pos"] | crossed["neg"]) and not np.all(crossed["pos"] & crossed["neg"])
    for leg in ("pos", "neg"):
        x, y = ev[f"x_{leg}_m"][crossed[leg]], ev[f"y_{leg}_m"][crossed[leg]]
        assert np.all((np.abs(x) <= 0.5) & (np.abs(y) <= 0.5))
        np.testing.assert_allclose(x, ev[f"px_{leg}"][crossed[leg]] / ev[f"pz_{leg}"][crossed[leg]] * 100, rtol=1e-12)
    reach = mcp_signal_grid(gen, experiment, [0.1], [eps], "fermion", n_events=400_000, seed=9)
    total, err = _sum_and_error(ev["weight"], summary["kept_share"])
    assert abs(total - reach.n_signal[0]) < 4 * math.hypot(err, reach.n_signal_mc_err[0])


def test_mcp_detector_events_from_the_command_line(model_file, tmp_path, run):
    """generate mcp --experiment: Parquet with the crossing points; HepMC3 with them as the chi's attributes."""
    toml = Path(__file__).parents[2] / "examples" / "toy-dump.toml"
    base = ["generate", "mcp", "--model", model_file, "--mchi", "0.1", "--eps", "3e-3", "--experiment", toml,
            "--n-events", "300", "--seed", "4"]
    rc, _, err = run(*base, "--out", tmp_path / "chi.parquet")
    assert rc == 0, err
    assert "crossing toy-dump's mCP detector" in err and "detected chi in 1e+18 collisions" in err
    cols = pq.read_table(tmp_path / "chi.parquet").to_pydict()
    rc, _, err = run(*base, "--out", tmp_path / "chi.hepmc3")
    assert rc == 0, err
    hep = pytest.importorskip("pyhepmc")
    with hep.open(tmp_path / "chi.hepmc3") as f:
        events = list(f)
    assert len(events) == 300
    for i in (0, 150, 299):
        chi = [p for p in events[i].particles if p.pid == 9000001][0]
        if np.isfinite(cols["x_pos_m"][i]):
            assert chi.attributes["x_m"].astype(float) == pytest.approx(cols["x_pos_m"][i], rel=1e-12)
        else:
            assert "x_m" not in chi.attributes


def test_plot_of_the_decay_vertices(model_file, tmp_path, run):
    _, path = _experiment(tmp_path)
    base = ["generate", "aprime", "--model", model_file, "--mass", "0.45", "--n-events", "2000", "--out",
            tmp_path / "a.parquet"]
    rc, _, err = run(*base, "--eps", "3e-7", "--experiment", path, "--plot", tmp_path / "v.png")
    assert rc == 0, err
    assert (tmp_path / "v.png").read_bytes()[:4] == b"\x89PNG"
    rc, _, err = run(*base[:-1], tmp_path / "b.parquet", "--plot", tmp_path / "w.png")
    assert rc == 2 and "give --experiment" in err and not (tmp_path / "b.parquet").exists()
