"""Issue 12: millicharged particles in a downstream detector (`gammastar reach mcp`)."""

import json
import math
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq
import pytest

import gammastar
from gammastar.io.jsontext import dumps
from gammastar.reach.experiment import McpDetector, Shape
from gammastar.reach.mcp import detection_probability, electron_recoil_cross_section

ALPHA, M_E, HBARC = 1 / 137.035999084, 0.51099895e-3, 1.973269804e-16

TOML = (Path(__file__).parents[2] / "examples" / "toy-dump.toml").read_text()  # with an [mcp_detector]


def test_scintillator_probability_scales_as_eps_to_twice_the_layers():
    det = McpDetector(100.0, Shape("circle", radius=1.0), "scintillator", layers=4, npe_per_layer=1e5)
    eps = np.array([1e-6, 2e-6])  # eps^2 N_pe = 1e-7: deep in the small-charge regime
    p = detection_probability(det, np.array([10.0]), 0.1, eps)[0]
    assert p[1] / p[0] == pytest.approx(2.0**8, rel=1e-5)
    assert p[0] == pytest.approx((1e-12 * 1e5) ** 4, rel=1e-5)
    assert detection_probability(det, np.array([10.0]), 0.1, np.array([1.0]))[0, 0] == pytest.approx(1.0)


def test_electron_recoil_is_rutherford_at_small_recoil():
    """E_r << E: dsigma/dE_r -> 2 pi alpha^2 eps^2 / (m_e E_r^2), so sigma = 2 pi alpha^2 eps^2 (1/E1 - 1/E2) / m_e."""
    e1, e2, eps = 1e-3, 1e-2, 1e-2
    got = electron_recoil_cross_section(np.array([100.0]), 0.05, np.array([eps]), e1, e2)[0, 0]
    want = 2 * math.pi * ALPHA**2 * eps**2 * (1 / e1 - 1 / e2) / M_E * HBARC**2
    assert got == pytest.approx(want, rel=1e-3)
    # above the kinematic maximum recoil nothing is seen
    assert electron_recoil_cross_section(np.array([0.06]), 0.05, np.array([eps]), 1.0, 2.0)[0, 0] == 0.0


def test_reach_mcp_writes_the_three_outputs(model_file, tmp_path, run):
    (tmp_path / "mq.toml").write_text(TOML)
    out = tmp_path / "r"
    rc, _, err = run("reach", "mcp", "--model", model_file, "--experiment", tmp_path / "mq.toml", "--mchi", "0.12,0.2",
                     "--spin", "scalar", "--eps", "1e-5:1e-1:20", "--n-events", "3000", "--out", out)
    assert rc == 0, err
    t = pq.read_table(out / "signal.parquet")
    assert t.column_names[:5] == ["m_chi", "eps", "n_signal", "n_signal_err", "p_detect"] and t.num_rows == 40
    n = t.column("n_signal").to_numpy().reshape(2, 20)
    eps = t.column("eps").to_numpy()[:20]
    # small charges: eps^2 (pairs) x eps^8 (four layers) = eps^10
    assert n[0, 1] / n[0, 0] == pytest.approx((eps[1] / eps[0]) ** 10, rel=1e-3)
    r = json.loads((out / "reach.json").read_text())
    assert [c["m_chi"] for c in r["contour"]] == [0.12, 0.2] and r["spin"] == "scalar"
    assert (out / "reach.png").stat().st_size > 0
    lib = gammastar.mcp_reach(gammastar.Generator.load(model_file), tmp_path / "mq.toml", [0.12, 0.2],
                              np.geomspace(1e-5, 1e-1, 20), spin="scalar", n_events=3000)
    assert json.loads(dumps(lib.to_dict())) == {**r, "model": str(model_file)} and lib.signal_table().equals(t)
    (tmp_path / "no.toml").write_text(TOML.split("[mcp_detector]")[0])
    rc, _, err = run("reach", "mcp", "--model", model_file, "--experiment", tmp_path / "no.toml", "--mchi", "0.12",
                     "--eps", "1e-5:1e-1:5", "--out", tmp_path / "r2")
    assert rc == 2 and "no [mcp_detector]" in err
