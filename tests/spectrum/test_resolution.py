"""Issue 11: narrow resonances seen with a detector's mass resolution, unfolded by a forward-folded local fit."""

import json

import numpy as np
import pytest

import gammastar
from gammastar.samples import SpectrumSample
from gammastar.spectrum.estimator import MassSpectrum
from gammastar.spectrum.resolution import parse_resolution
from gammastar.truth.cocktail import SOURCES, MockConfig, direct_aprime_yield
from gammastar.truth.mock import generate_mock

M_MU = 0.1056583755
#: the omega and phi peaks (PDG) and 20 MeV either side
PEAKS = [0.76266, 0.78266, 0.80266, 0.99946, 1.01946, 1.03946]


@pytest.fixture(scope="module")
def smeared():
    """The full cocktail (omega, phi as Breit-Wigners) seen with a 10 MeV Gaussian mass resolution."""
    data, _, _ = generate_mock(MockConfig(n_events=600_000, seed=17, sources=SOURCES), progress=False)
    m = data.mass + np.random.default_rng(3).normal(0.0, 0.010, len(data))
    spec = MassSpectrum.from_pairs(m, data.weight, M_MU, lepton="mu")
    return SpectrumSample(spec, "mu", data.n_collisions, "smeared mock", len(data)), data


def test_unfolding_restores_the_unsmeared_yields(smeared):
    sample, _ = smeared
    truth = direct_aprime_yield(PEAKS, SOURCES)
    got = gammastar.aprime_yield(sample, PEAKS, mass_resolution=0.010)
    tolerance = np.maximum(3 * got.n_err, 0.10 * truth)
    assert np.all(np.abs(got.n_per_eps2 - truth) < tolerance), (got.n_per_eps2 / truth, got.n_err / truth)
    assert not got.resolution_limited.any() and got.resonance == ("omega",) * 3 + ("phi",) * 3
    # without the resolution: far off, and flagged
    plain = gammastar.aprime_yield(sample, PEAKS)
    assert plain.resolution_limited.all()
    assert plain.n_per_eps2[1] < 0.6 * truth[1] and plain.n_per_eps2[4] < 0.6 * truth[4]  # the peaks, smeared away


def test_perfect_resolution_resolves_the_phi(smeared):
    """With no smearing the phi (4.2 MeV wide) is still narrower than the minimum window: --mass-resolution 0."""
    _, data = smeared
    truth = direct_aprime_yield([1.01946], SOURCES)
    plain = gammastar.aprime_yield(data, [1.01946])
    fixed = gammastar.aprime_yield(data, [1.01946], mass_resolution=0.0)
    assert plain.n_per_eps2[0] < 0.9 * truth[0] and plain.resolution_limited[0]
    assert abs(fixed.n_per_eps2[0] - truth[0]) < max(3 * fixed.n_err[0], 0.05 * truth[0])


def test_resolution_inputs(tmp_path, run, dalitz_parquet):
    (tmp_path / "res.csv").write_text("mass,sigma\n0.2,0.004\n1.0,0.012\n")
    res = parse_resolution(tmp_path / "res.csv")
    assert res(0.6) == pytest.approx(0.008) and res(2.0) == pytest.approx(0.012)
    assert parse_resolution("0.01")(0.3) == 0.01
    for bad in ("-0.01", tmp_path / "none.csv"):
        with pytest.raises(gammastar.GammastarError, match="mass resolution|neither a number"):
            parse_resolution(bad)
    rc, out, err = run("rates", "aprime", "--data", dalitz_parquet, "--mass", "0.5,0.78", "--mass-resolution",
                       tmp_path / "res.csv", "--json")
    assert rc == 0, err
    d = json.loads(out)
    assert d["resonance"] == [None, "omega"] and d["resolution_limited"] == [False, False]


def test_models_keep_the_resolution(train_data, tmp_path):
    pytest.importorskip("zuko")
    from gammastar.flow.networks import FlowConfig

    sample = gammastar.EventSample(train_data.pos, train_data.neg, train_data.weight, "mu", train_data.n_collisions,
                                   mass_resolution=parse_resolution(0.0))
    model = gammastar.train(sample, FlowConfig(epochs=1, hidden=(8,), transforms=1, batch_size=4096), progress=False)
    back = gammastar.load_model(model.save(tmp_path / "m.pt"))
    assert back.config.resolution is not None and back.config.resolution(0.5) == 0.0
    gen = gammastar.Generator(back)
    want = gammastar.aprime_yield(sample, [0.5], mass_resolution=0.0).n_per_eps2[0]
    assert gen.aprime_yield(0.5).n_per_eps2[0] == pytest.approx(want, rel=1e-9)
