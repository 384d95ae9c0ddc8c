"""data_coverage: said where the data cover what an experiment accepts, and where they do not (a spectrometer's window).

Two CI-size models of the same Dalitz mock: one trained on every pair, one on the pairs a dimuon spectrometer
would see (3.3 < y_lab < 4.3).  The experiments look forward (an NA62-like volume) and off axis (CHARM-like).
"""

import json

import numpy as np
import pyarrow.parquet as pq
import pytest

pytest.importorskip("torch")
pytest.importorskip("zuko")

import gammastar  # noqa: E402
from gammastar.physics.kinematics import pair_kinematics  # noqa: E402
from gammastar.reach.experiment import load_experiment  # noqa: E402
from gammastar.reach.signal import decay_probability, signal_grid  # noqa: E402
from gammastar.truth.cocktail import DALITZ, MockConfig  # noqa: E402
from gammastar.truth.direct import direct_aprime_events  # noqa: E402

VOLUMES = {
    "NA62-like": 'z_start_m = 80\nz_end_m = 155\nshape = "circle"\nradius_m = 1.0',
    "CHARM-like": 'z_start_m = 480\nz_end_m = 515\nshape = "rectangle"\nhalf_x_m = 1.5\nhalf_y_m = 1.5\ncentre_x_m = 5.0',
}


def _experiment(tmp_path, name):
    path = tmp_path / f"{name}.toml"
    path.write_text(f'name = "{name}"\nbeam_energy_gev = 400\nn_collisions = 1e20\n[decay_volume]\n{VOLUMES[name]}\n'
                    '[detection]\nfinal_states = ["ee", "mumu"]\n')
    return path


@pytest.fixture(scope="module")
def window_model(train_data, small_flow, tmp_path_factory):
    y = pair_kinematics(train_data.pos, train_data.neg).y
    seen = train_data.select((y > 3.3) & (y < 4.3))
    model = gammastar.train(seen, gammastar.FlowConfig(seed=3, **{**small_flow, "epochs": 4}), progress=False)
    return model.save(tmp_path_factory.mktemp("window") / "window.pt")


@pytest.mark.slow
def test_full_data_cover_the_volumes_as_the_truth_says(model_file, tmp_path):
    """On data of full acceptance the coverage is ~1, and it is the truth's: the share of direct-decay A' accepted
    (decay-weighted) that lie in the model's support."""
    gen = gammastar.Generator.load(model_file)
    for name in VOLUMES:
        ex = load_experiment(_experiment(tmp_path, name))
        v = ex.decay_volume
        g = signal_grid(gen, ex, [0.3, 0.45], [3e-8], n_events=50_000, seed=2)
        for i, m in enumerate((0.3, 0.45)):
            t, _ = direct_aprime_events(MockConfig(sources=DALITZ), m, 1_000_000, seed=9)
            hit = v.shape.crossed_at(v.z_end, t[:, :3])
            p = decay_probability(m / (t[hit, 2] * gammastar.aprime_decay([m]).ctau_m_eps1[0]), [3e-8], v.z_start,
                                  v.z_end)[:, 0]
            y = 0.5 * np.log((t[hit, 3] + t[hit, 2]) / (t[hit, 3] - t[hit, 2]))
            truth = np.sum(p * gen.support.contains(m, np.hypot(t[hit, 0], t[hit, 1]), y)) / p.sum()
            estimate = g.reshaped("data_coverage")[i][0]
            assert estimate >= 0.9 and abs(estimate - truth) < 0.03, (name, m, estimate, truth)


@pytest.mark.slow
def test_windowed_data_are_flagged_and_said(model_file, window_model, tmp_path, run):
    for name in VOLUMES:
        exp_path = _experiment(tmp_path, name)
        for model, covered in ((model_file, True), (window_model, False)):
            out = tmp_path / f"{name}-{covered}"
            rc, _, err = run("reach", "aprime", "--model", model, "--experiment", exp_path, "--mass", "0.25:0.5:0.05",
                             "--eps", "1e-9:1e-4:30", "--n-events", "20000", "--out", out)
            assert rc == 0, err
            rows = json.loads((out / "reach.json").read_text())["contour"]
            coverage = np.array([r["data_coverage"] for r in rows])
            table = pq.read_table(out / "signal.parquet").to_pydict()
            assert {"data_coverage", "extrapolated"} <= set(table)
            if covered:
                assert np.all(coverage >= 0.9) and not any(r["extrapolated"] for r in rows)
                assert "warning:" not in err
            else:
                assert np.all(coverage <= 0.6) and all(r["extrapolated"] for r in rows), (name, coverage)
                warning = [line for line in err.splitlines() if line.startswith("warning:") and "data cover" in line]
                assert len(warning) == 1 and "it needs y" in warning[0] and "the data hold y 3" in warning[0]


@pytest.mark.slow
def test_mcp_coverage(model_file, window_model, tmp_path, run):
    """The same for chi crossing a small downstream detector (each chi pair at its own mass)."""
    path = tmp_path / "mcp.toml"
    path.write_text('name = "small"\nbeam_energy_gev = 400\nn_collisions = 1e18\n[decay_volume]\n'
                    + VOLUMES["NA62-like"] + '\n[detection]\nfinal_states = ["ee"]\n[mcp_detector]\nz_m = 100\n'
                    'shape = "rectangle"\nhalf_x_m = 0.5\nhalf_y_m = 0.5\nmodel = "scintillator"\nlayers = 2\n'
                    'npe_per_layer = 1e4\n')
    for model, covered in ((model_file, True), (window_model, False)):
        out = tmp_path / f"mcp-{covered}"
        rc, _, err = run("reach", "mcp", "--model", model, "--experiment", path, "--mchi", "0.12,0.2",
                         "--eps", "1e-4:1e-1:10", "--n-events", "20000", "--out", out)
        assert rc == 0, err
        coverage = [r["data_coverage"] for r in json.loads((out / "reach.json").read_text())["contour"]]
        assert (min(coverage) >= 0.9) if covered else (max(coverage) <= 0.6), coverage
        assert ("data cover" in err) is not covered
