"""Scans that finish: masses that cannot be estimated are marked, the others come out as if asked alone."""

import json

import numpy as np
import pyarrow.csv as pacsv
import pytest

import gammastar


def test_a_scan_returns_the_reachable_masses(run, dalitz_parquet):
    """The Dalitz mock ends at 0.958 GeV: 1.02 and 3.1 are out of reach, 0.905 has too few pairs at 5 MeV."""
    rc, out, err = run("rates", "aprime", "--data", dalitz_parquet, "--mass", "0.5,0.78,1.02,3.1", "--json")
    assert rc == 0, err
    d = json.loads(out)
    alone = [json.loads(run("rates", "aprime", "--data", dalitz_parquet, "--mass", m, "--json")[1]) for m in ("0.5", "0.78")]
    assert d["n_per_eps2"][:2] == [a["n_per_eps2"][0] for a in alone]
    assert d["n_per_eps2"][2:] == [None, None] and d["n_err"][2:] == [None, None]
    assert [f["mass"] for f in d["failed"]] == [1.02, 3.1]
    assert all("above the data's reach" in f["reason"] for f in d["failed"])
    assert "2 of 4 mass values could not be estimated" in err and "inside the data's range" in err
    # the table marks them
    rc, out, _ = run("rates", "aprime", "--data", dalitz_parquet, "--mass", "0.5,1.02")
    assert rc == 0 and "   1.02000  failed: m = 1.02 GeV is above the data's reach" in out


def test_statistics_failures_name_the_bandwidth(run, dalitz_parquet):
    rc, out, err = run("rates", "photon", "--data", dalitz_parquet, "--mass", "0.4,0.905", "--bandwidth", "0.005",
                       "--json")
    d = json.loads(out)
    assert rc == 0 and d["n_v"][1] is None and d["dn_ll_dm"][1] is None and d["n_v"][0] > 0
    assert "too few pairs" in d["failed"][0]["reason"] and "--bandwidth" in err


def test_no_mass_estimated_is_an_error(run, dalitz_parquet):
    rc, out, err = run("rates", "aprime", "--data", dalitz_parquet, "--mass", "1.5:3:0.5")
    assert rc == 2 and out == "" and err.startswith("error: 4 of 4 mass values could not be estimated")


def test_mcp_scans_finish_too(run, dalitz_parquet):
    rc, out, err = run("rates", "mcp", "--data", dalitz_parquet, "--mchi", "0.1,0.3,0.475,0.6", "--json")
    d = json.loads(out)
    assert rc == 0 and d["n_pairs_per_eps2"][0] > d["n_pairs_per_eps2"][1] > 0
    assert d["n_pairs_per_eps2"][2:] == [None, None] and [f["m_chi"] for f in d["failed"]] == [0.475, 0.6]
    assert "2 of 4 m_chi values could not be estimated" in err


def test_the_api_marks_failures_with_nan(dalitz_mock):
    data, _, _ = dalitz_mock
    res = gammastar.aprime_yield(data, [0.4, 2.0])
    assert np.isfinite(res.n_per_eps2[0]) and np.isnan(res.n_per_eps2[1])
    assert [(f.mass, f.kind) for f in res.failed] == [(2.0, "range")]
    with pytest.raises(gammastar.GammastarError, match="above the data's reach"):
        gammastar.aprime_yield(data, [2.0])


def test_csv_tables_with_their_metadata(run, dalitz_parquet, tmp_path):
    out_csv = tmp_path / "ap.csv.gz"
    rc, out, err = run("rates", "aprime", "--data", dalitz_parquet, "--mass", "0.3,0.5,1.5", "--json", "--csv", out_csv)
    assert rc == 0, err
    d = json.loads(out)
    table = pacsv.read_csv(out_csv).to_pydict()
    assert table["mass"] == d["mass"]
    np.testing.assert_array_equal(table["n_per_eps2"][:2], d["n_per_eps2"][:2])
    assert table["n_per_eps2"][2] is None and "above the data's reach" in table["failed"][2] and not table["failed"][0]
    side = json.loads((tmp_path / "ap.csv.gz.meta.json").read_text())
    assert side["file"] == "ap.csv.gz" and side["metadata"]["gammastar.normalization"] == d["normalization"]
    assert float(side["metadata"]["gammastar.n_collisions"]) == d["n_collisions"]
    rc, _, err = run("rates", "aprime", "--data", dalitz_parquet, "--mass", "0.3", "--csv", dalitz_parquet)
    assert rc == 2 and "error:" in err and str(dalitz_parquet) in err


def test_photon_plot(run, dalitz_parquet, tmp_path):
    rc, _, err = run("rates", "photon", "--data", dalitz_parquet, "--mass", "0.25:0.9:0.05", "--plot", tmp_path / "p.png")
    assert rc == 0 and (tmp_path / "p.png").stat().st_size > 10_000 and "plot:" in err
