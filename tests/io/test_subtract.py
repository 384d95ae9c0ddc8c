"""Pairs that are not gamma*: a simulated eta -> mu mu peak subtracted with --subtract restores N_V at m_eta."""

import json
import warnings

import numpy as np
import pytest

import gammastar
from gammastar.io.pairs import write_dileptons
from gammastar.physics.beams import Beam
from gammastar.physics.kinematics import boost, from_pt_y_phi, isotropic_directions
from gammastar.samples import EventSample

M_ETA, M_MU = 0.547862, 0.1056583755
SIGMA = 0.010  # the mass resolution the two-body peak is seen with


def eta_mumu(n, rng):
    """eta -> mu mu as a detector with 10 MeV resolution sees it: two-body decays of a parent of mass N(m_eta, sigma)."""
    m = rng.normal(M_ETA, SIGMA, n)
    parent = from_pt_y_phi(rng.exponential(0.3, n), np.clip(rng.normal(3.37, 1.0, n), 0.5, 6.0), rng.uniform(-np.pi, np.pi, n), m)
    k = np.sqrt(m**2 / 4 - M_MU**2)
    d = isotropic_directions(n, rng)
    e = np.sqrt(k**2 + M_MU**2)
    beta = parent[:, :3] / parent[:, 3:4]
    return boost(np.column_stack([k[:, None] * d, e]), beta), boost(np.column_stack([-k[:, None] * d, e]), beta)


@pytest.fixture(scope="module")
def samples(dalitz_mock, tmp_path_factory):
    d = tmp_path_factory.mktemp("sub")
    data, _, _ = dalitz_mock
    rng = np.random.default_rng(11)
    n_inj = 3_000
    pos, neg = eta_mumu(n_inj, rng)
    beam = Beam.fixed_target(400)
    mixed = EventSample(np.concatenate([data.pos, pos]), np.concatenate([data.neg, neg]), np.ones(len(data) + n_inj),
                        "mu", data.n_collisions, beam=beam)
    clean = EventSample(data.pos, data.neg, data.weight, "mu", data.n_collisions, beam=beam)
    sim_pos, sim_neg = eta_mumu(5 * n_inj, rng)  # an independent simulation, 5x the data's collisions
    sim = EventSample(sim_pos, sim_neg, np.ones(5 * n_inj), "mu", 5 * data.n_collisions, beam=beam)
    return (write_dileptons(d / "mixed.parquet", mixed), write_dileptons(d / "clean.parquet", clean),
            write_dileptons(d / "eta_mumu.parquet", sim), data.n_collisions)


def _ap(run, *args):
    rc, out, err = run("rates", "aprime", *args, "--mass", f"{M_ETA},0.4", "--bandwidth", "0.02", "--json")
    assert rc == 0, err
    return json.loads(out), err


def test_subtracting_eta_mumu_restores_n_v_at_m_eta(run, samples):
    mixed, clean, sim, _ = samples
    ref, _ = _ap(run, "--data", clean)
    biased, err = _ap(run, "--data", mixed)
    assert "eta -> l+ l- pairs (not gamma*)" in err and "--subtract" in err
    assert biased["n_per_eps2"][0] - ref["n_per_eps2"][0] > 5 * biased["n_err"][0]  # the peak is plainly there
    fixed, err = _ap(run, "--data", mixed, "--subtract", sim)
    assert "not gamma*" not in err
    assert abs(fixed["n_per_eps2"][0] - ref["n_per_eps2"][0]) < 3 * fixed["n_err"][0]
    assert fixed["n_err"][0] > ref["n_err"][0]  # the subtraction's statistics are in the error
    assert fixed["n_per_eps2"][1] == pytest.approx(ref["n_per_eps2"][1], rel=1e-12)  # far from the peak: untouched
    # the simulation's collisions from the flag instead of its metadata, and streamed the same
    again, _ = _ap(run, "--data", mixed, "--subtract", sim, "--subtract-n-collisions", 5 * samples[3])
    assert again["n_per_eps2"] == fixed["n_per_eps2"]
    streamed = gammastar.aprime_yield(gammastar.open_sample(mixed, stream=True, subtract=[sim], progress=False),
                                      [M_ETA], bandwidth=0.02)
    assert streamed.n_per_eps2[0] == pytest.approx(fixed["n_per_eps2"][0], rel=1e-9)


def test_subtraction_needs_both_normalisations(run, samples, tmp_path):
    mixed, clean, sim, n = samples
    data = gammastar.read_dileptons(sim)
    bare = write_dileptons(tmp_path / "bare.csv", EventSample(data.pos, data.neg, data.weight, "mu"))
    (tmp_path / "bare.csv.meta.json").unlink()
    rc, _, err = run("rates", "aprime", "--data", mixed, "--subtract", bare, "--mass", "0.5")
    assert rc == 2 and "--subtract-n-collisions" in err
    rc, _, err = run("rates", "aprime", "--data", mixed, "--subtract", sim, "--subtract-n-collisions", "1",
                     "--subtract-n-collisions", "2", "--mass", "0.5")
    assert rc == 2 and "give one per file" in err
    rc, _, err = run("rates", "aprime", "--data", mixed, "--subtract", sim, "--n-collisions", "1e9", "--mass", "0.5")
    assert rc == 0, err


def test_the_mock_is_known_to_hold_gamma_star_pairs_only(dalitz_parquet):
    data = gammastar.read_dileptons(dalitz_parquet)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        gammastar.aprime_yield(data, [M_ETA])
