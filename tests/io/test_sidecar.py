"""CSV outputs keep their metadata in a sidecar NAME.meta.json that the readers pick up, and only while it fits."""

import json
import logging

import numpy as np
import pytest

import gammastar
from gammastar.io.sidecar import read_sidecar, sidecar_path


def test_mock_csv_gz_keeps_n_collisions(run, tmp_path):
    out = tmp_path / "mock.csv.gz"
    assert run("mock", "--n-events", "5e3", "--seed", "3", "--out", out)[0] == 0
    assert sidecar_path(out).name == "mock.csv.gz.meta.json"
    pq_out = tmp_path / "mock.parquet"
    assert run("mock", "--n-events", "5e3", "--seed", "3", "--out", pq_out)[0] == 0
    a, b = gammastar.read_dileptons(out), gammastar.read_dileptons(pq_out)
    assert a.n_collisions == b.n_collisions and a.n_collisions > 0
    assert a.metadata["gammastar.beam_energy"] == b.metadata["gammastar.beam_energy"]
    rc, res, _ = run("rates", "aprime", "--data", out, "--mass", "0.3", "--json")
    assert rc == 0 and json.loads(res)["normalization"] == "per_collision"


def test_a_sidecar_that_no_longer_fits_is_ignored(run, tmp_path, caplog):
    out = tmp_path / "m.csv"
    assert run("mock", "--n-events", "3e3", "--seed", "5", "--out", out)[0] == 0
    assert "gammastar.n_collisions" in read_sidecar(out)
    caplog.set_level(logging.INFO, logger="gammastar")
    text = out.read_text().splitlines()
    out.write_text("\n".join(text[:-5]) + "\n")  # the file changed after the sidecar was written
    assert read_sidecar(out) == {}
    assert "describes another version of m.csv" in caplog.text
    assert gammastar.read_dileptons(out).n_collisions is None
    sidecar_path(out).write_text("{not json")
    assert read_sidecar(out) == {} and "not a gammastar sidecar" in caplog.text


def test_generated_csv_events_carry_their_metadata(run, model_file, tmp_path):
    pytest.importorskip("zuko")
    out = tmp_path / "ap.csv"
    rc, _, err = run("generate", "aprime", "--model", model_file, "--n", "500", "--mass", "0.4", "--out", out)
    assert rc == 0, err
    meta = read_sidecar(out)
    assert float(meta["gammastar.expected_yield"]) == pytest.approx(np.loadtxt(out, delimiter=",", skiprows=1,
                                                                               usecols=4).sum(), rel=1e-6)
