"""Beams: a fixed target or a collider, said on stderr when assumed, checked against the pairs, kept in models,
and written to events; generated events never carry more than the collision has."""

import json

import numpy as np
import pytest

import gammastar
from gammastar.flow.generate import Generator
from gammastar.io.pairs import write_dileptons
from gammastar.physics.beams import Beam
from gammastar.physics.kinematics import boost, collins_soper_angles, from_pt_y_phi, isotropic_directions
from gammastar.samples import EventSample

M_P = 0.93827208943
M_MU = 0.1056583755


def test_beam_kinematics_against_formulas():
    ft = Beam.fixed_target(400.0)
    assert ft.sqrt_s == pytest.approx(np.sqrt(2 * M_P**2 + 2 * M_P * 400.0), rel=1e-12)  # 27.43 GeV
    assert ft.max_energy == pytest.approx(400.0 + M_P) and Beam.collider(13000).max_energy == 13000
    a, b = Beam.collider(13000).momenta()
    assert a[2] == -b[2] and a[3] + b[3] == 13000 and a[3] ** 2 - a[2] ** 2 == pytest.approx(M_P**2, rel=1e-6)
    assert Beam.from_text(Beam.collider(8000).to_text()) == Beam.collider(8000)
    assert Beam.from_text("158") == Beam.fixed_target(158)
    with pytest.raises(gammastar.GammastarError, match="exceed the proton mass"):
        Beam.fixed_target(0.5)


def _z_pairs(n, rng, sqrt_s=13000.0):
    """Z -> mu mu at a collider: Breit-Wigner masses, exponential pT, rapidity within the acceptance."""
    m = 91.1876 + 2.4952 / 2 * np.tan(np.pi * (rng.random(n) - 0.5))
    m = np.clip(m, 60, 120)
    z = from_pt_y_phi(rng.exponential(8.0, n), rng.normal(0, 1.2, n), rng.uniform(-np.pi, np.pi, n), m)
    k = np.sqrt(m**2 / 4 - M_MU**2)
    d = isotropic_directions(n, rng)
    e = np.sqrt(k**2 + M_MU**2)
    beta = z[:, :3] / z[:, 3:4]
    return boost(np.column_stack([k[:, None] * d, e]), beta), boost(np.column_stack([-k[:, None] * d, e]), beta)


def test_collins_soper_at_a_collider_is_the_textbook_formula():
    """cos theta_CS = 2 (l+^+ l-^- - l+^- l-^+) / (m sqrt(m^2 + pT^2)), l^+- = (E +- pz)/sqrt 2.

    The formula holds for massless leptons and beams: it is off by O(m_mu^2/m^2) ~ 1e-6 at the Z.
    """
    pos, neg = _z_pairs(2_000, np.random.default_rng(4))
    cos_t, _ = collins_soper_angles(pos, neg, Beam.collider(13000))
    pair = pos + neg
    m2 = pair[:, 3] ** 2 - np.sum(pair[:, :3] ** 2, axis=1)
    pt2 = pair[:, 0] ** 2 + pair[:, 1] ** 2
    plus = lambda p: (p[:, 3] + p[:, 2]) / np.sqrt(2)  # noqa: E731
    minus = lambda p: (p[:, 3] - p[:, 2]) / np.sqrt(2)  # noqa: E731
    want = 2 * (plus(pos) * minus(neg) - minus(pos) * plus(neg)) / np.sqrt(m2 * (m2 + pt2))
    assert np.abs(cos_t - want).max() < 10 * (M_MU / 60.0) ** 2  # masses from 60 GeV up
    assert np.abs(cos_t - want).max() > 0  # (the two computations are independent)


@pytest.fixture(scope="module")
def z_file(tmp_path_factory):
    rng = np.random.default_rng(1)
    pos, neg = _z_pairs(20_000, rng)
    data = EventSample(pos, neg, np.ones(len(pos)), "mu", 1e9)
    return write_dileptons(tmp_path_factory.mktemp("z") / "zmumu.parquet", data)


def test_collider_data_need_collider_beams(run, z_file, tmp_path):
    rc, _, err = run("rates", "aprime", "--data", z_file, "--mass", "91")
    assert rc == 2 and "assuming p (400 GeV) on fixed target" in err
    assert "20000 of 20000 pairs (100%) are beyond" in err and "--beam-energy" in err and "--collider" in err
    rc, out, err = run("rates", "aprime", "--data", z_file, "--mass", "80,91,100", "--collider", "13000", "--json")
    assert rc == 0, err
    d = json.loads(out)
    assert d["beam"] == "collider:13000" and all(v > 0 for v in d["n_per_eps2"]) and "assuming" not in err
    rc, _, err = run("rates", "aprime", "--data", z_file, "--mass", "91", "--collider", "8000", "--beam-energy", "400")
    assert rc == 2 and "not both" in err


def test_a_few_mismeasured_pairs_are_dropped_and_counted(tmp_path, dalitz_mock):
    data, _, _ = dalitz_mock
    pos, neg = data.pos[:50_000].copy(), data.neg[:50_000].copy()
    pos[:7, 2] = 5_000.0  # seven 5 TeV muons in a 400 GeV beam
    pos[:7, 3] = np.sqrt(np.sum(pos[:7, :3] ** 2, axis=1) + M_MU**2)
    path = write_dileptons(tmp_path / "p.parquet", EventSample(pos, neg, np.ones(len(pos)), "mu", 1e9,
                                                               beam=Beam.fixed_target(400)))
    with pytest.warns(UserWarning, match="7 pair\\(s\\) beyond what p \\(400 GeV\\) on fixed target"):
        got = gammastar.read_dileptons(path)
    assert len(got) == len(pos) - 7 and got.beam == Beam.fixed_target(400)


def test_collider_models_write_collider_beams(run, z_file, tmp_path):
    pytest.importorskip("zuko")
    model = tmp_path / "z.pt"
    rc, out, err = run("train", "--data", z_file, "--collider", "13000", "--out", model, "--epochs", "2",
                       "--hidden", "16,16", "--transforms", "1", "--json")
    assert rc == 0, err
    assert json.loads(out)["beam"] == "collider:13000"
    assert gammastar.load_model(model).config.beam == Beam.collider(13000)
    # what the command prints is the model's own summary of its training
    summary = gammastar.load_model(model).summary()
    assert json.loads(out) == {"model": str(model), **json.loads(json.dumps(summary.to_dict()))}
    assert summary.epochs_run <= 2 and summary.replicas == 0 and summary.pair_features[0] == "pt_probit"
    import pyhepmc

    rc, _, err = run("generate", "aprime", "--model", model, "--mass", "91", "--n-events", "300", "--out",
                     tmp_path / "a.hepmc", "--decay")
    assert rc == 0, err
    with pyhepmc.open(tmp_path / "a.hepmc") as f:
        ev = f.read()
    beams = [p.momentum for p in ev.particles if p.status == 4]
    assert [b.e for b in beams] == pytest.approx([6500.0, 6500.0]) and beams[0].pz == pytest.approx(-beams[1].pz)
    # a model's beams are its data's: validating with other beams is refused
    rc, _, err = run("validate", "--model", model, "--data", z_file, "--beam-energy", "400", "--out", tmp_path / "v")
    assert rc == 2 and "not the model's" in err


def test_generated_events_never_exceed_the_collision(tiny_model):
    """A model told its beam had 60 GeV (its pairs come from 400 GeV): the tails beyond 60.9 GeV are redrawn."""
    import dataclasses

    full = Generator(tiny_model).aprime(0.4, 20_000, seed=3)
    assert (full["e"] > 60.94).mean() > 0.05  # the 400 GeV model puts many A' above what 60 GeV allows
    config = tiny_model.flow.config
    tiny_model.flow.config = dataclasses.replace(config, beam_energy=60.0)
    try:
        ev = Generator(tiny_model).aprime(0.4, 20_000, seed=3)
        mcp = Generator(tiny_model).mcp(0.15, 5_000, seed=3)
    finally:
        tiny_model.flow.config = config
    assert ev["e"].max() <= Beam.fixed_target(60.0).max_energy
    assert ev["weight"].sum() == pytest.approx(full["weight"].sum(), rel=1e-12)
    assert (mcp["e_pos"] + mcp["e_neg"]).max() <= Beam.fixed_target(60.0).max_energy
