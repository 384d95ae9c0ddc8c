"""The command line: JSON contracts, normalisation, and one clear line for every bad input."""

import json
import subprocess
import sys

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from gammastar.io.pairs import PAIR_COLUMNS

M_MU = 0.1056583755


def assert_error(result, *fragments):
    rc, out, err = result
    assert rc == 2, (rc, err)
    lines = [line for line in err.splitlines() if line.startswith("error:")]
    assert len(lines) == 1 and "Traceback" not in err, err
    for f in fragments:
        assert f in lines[0], lines[0]


def _write_table(path, cols, meta=None):
    table = pa.table(cols)
    if meta:
        table = table.replace_schema_metadata(meta)
    if str(path).endswith(".parquet"):
        pq.write_table(table, path)
    else:
        import pyarrow.csv as pacsv

        pacsv.write_csv(table, path)
    return path


@pytest.fixture
def small_pairs(dalitz_mock):
    data, _, _ = dalitz_mock
    n = 20_000
    return {name: (data.pos if j < 4 else data.neg)[:n, j % 4].copy() for j, name in enumerate(PAIR_COLUMNS)}


# ------------------------------------------------------------------ contracts


def test_rates_aprime_json_contract(run, dalitz_parquet):
    rc, out, err = run("rates", "aprime", "--data", dalitz_parquet, "--mass", "0.3:0.5:0.1", "--json")
    assert rc == 0, err
    d = json.loads(out)
    assert {"mass", "n_per_eps2", "n_err", "normalization", "lepton"} <= set(d)
    assert d["normalization"] == "per_collision" and d["lepton"] == "mu"
    np.testing.assert_allclose(d["mass"], [0.3, 0.4, 0.5])
    assert len(d["n_per_eps2"]) == len(d["n_err"]) == 3


def test_rates_mcp_json_contract_and_incomplete(run, dalitz_parquet):
    rc, out, err = run("rates", "mcp", "--data", dalitz_parquet, "--mchi", "0.05,0.15", "--spin", "scalar", "--json")
    assert rc == 0, err
    d = json.loads(out)
    assert {"m_chi", "n_pairs_per_eps2", "n_err", "m_min", "incomplete"} <= set(d)
    assert d["m_min"] == pytest.approx(2 * M_MU) and d["incomplete"] is True
    assert "visible part only" in err and "incomplete" in err
    rc, out, _ = run("rates", "mcp", "--data", dalitz_parquet, "--mchi", "0.15", "--json")
    assert json.loads(out)["incomplete"] is False


def test_rates_photon_and_table_output(run, dalitz_parquet):
    rc, out, err = run("rates", "photon", "--data", dalitz_parquet, "--mass", "0.3", "--json")
    assert rc == 0 and {"n_v", "dn_ll_dm"} <= set(json.loads(out))
    rc, out, err = run("rates", "aprime", "--data", dalitz_parquet, "--mass", "0.3,0.4")
    assert rc == 0 and "per collision" in out and len(out.strip().splitlines()) == 4


def test_per_sample_normalisation_is_said(run, small_pairs, tmp_path):
    path = _write_table(tmp_path / "p.csv", small_pairs)
    rc, out, err = run("rates", "aprime", "--data", path, "--mass", "0.3", "--json")
    assert rc == 0 and json.loads(out)["normalization"] == "per_sample"
    assert "per sample" in err
    rc, out, err = run("rates", "aprime", "--data", path, "--mass", "0.3", "--json", "--n-collisions", "1e6")
    assert json.loads(out)["normalization"] == "per_collision"


def test_n_collisions_flag_overrides_metadata(run, small_pairs, tmp_path):
    path = _write_table(tmp_path / "p.parquet", small_pairs, {"gammastar.n_collisions": "1000"})
    a = json.loads(run("rates", "aprime", "--data", path, "--mass", "0.3", "--json")[1])
    b = json.loads(run("rates", "aprime", "--data", path, "--mass", "0.3", "--json", "--n-collisions", "4000")[1])
    assert a["n_collisions"] == 1000 and b["n_per_eps2"][0] == pytest.approx(a["n_per_eps2"][0] / 4)


def test_mock_same_seed_same_file(run, tmp_path):
    for name in ("a", "b"):
        assert run("mock", "--n-events", "2e3", "--seed", "4", "--out", tmp_path / f"{name}.parquet")[0] == 0
    ta, tb = pq.read_table(tmp_path / "a.parquet"), pq.read_table(tmp_path / "b.parquet")
    assert ta.equals(tb) and ta.schema.metadata == tb.schema.metadata
    assert float(ta.schema.metadata[b"gammastar.n_collisions"]) > 0
    truth = json.loads((tmp_path / "a.parquet.truth.json").read_text())
    assert set(truth["sources"]) == {"eta", "etap", "omega", "phi", "rho_ll", "omega_ll", "phi_ll", "continuum"}


def test_demo_end_to_end(tmp_path):
    """The README's demo command, run as a user would (small sample to stay quick)."""
    out = tmp_path / "demo"
    proc = subprocess.run([sys.executable, "-m", "gammastar", "demo", "--out", str(out), "--n-events", "2e5"],
                          capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr
    for name in ("aprime_yield.png", "mcp_yield.png", "dimuon_mass.png", "results.json", "aprime_yield.csv"):
        assert (out / name).stat().st_size > 1000, name
    res = json.loads((out / "results.json").read_text())
    ap = res["aprime"]
    rel = np.abs(np.array(ap["n_per_eps2"]) / np.array(ap["truth_n_per_eps2"]) - 1)
    # away from the narrow omega/phi peaks the demo reproduces the truth to ~5%
    mass = np.array(ap["mass"])
    smooth = (np.abs(mass - 0.782) > 0.03) & (np.abs(mass - 1.019) > 0.03) & (mass < 0.9)
    assert np.median(rel[smooth]) < 0.03


# ------------------------------------------------------------------ bad inputs


def test_missing_columns_are_named(run, small_pairs, tmp_path):
    cols = {k: v for k, v in small_pairs.items() if k not in ("e_neg", "pz_pos")}
    assert_error(run("rates", "aprime", "--data", _write_table(tmp_path / "p.parquet", cols), "--mass", "0.3"),
                 "missing column(s)", "pz_pos", "e_neg")


def test_empty_files(run, small_pairs, tmp_path):
    (tmp_path / "zero.csv").write_text("")
    assert_error(run("rates", "aprime", "--data", tmp_path / "zero.csv", "--mass", "0.3"), "empty")
    (tmp_path / "header.csv").write_text(",".join(PAIR_COLUMNS) + "\n")
    assert_error(run("rates", "aprime", "--data", tmp_path / "header.csv", "--mass", "0.3"), "no pairs")
    empty = {k: v[:0] for k, v in small_pairs.items()}
    assert_error(run("rates", "aprime", "--data", _write_table(tmp_path / "e.parquet", empty), "--mass", "0.3"),
                 "no pairs")


def test_nan_rows_are_counted(run, small_pairs, tmp_path):
    small_pairs["px_pos"][[3, 7, 9]] = np.nan
    small_pairs["e_neg"][11] = np.inf
    assert_error(run("rates", "aprime", "--data", _write_table(tmp_path / "p.parquet", small_pairs), "--mass", "0.3"),
                 "4 row(s)", "NaN or infinite", "row 3")


def test_nan_weights(run, small_pairs, tmp_path):
    small_pairs["weight"] = np.ones(small_pairs["px_pos"].size)
    small_pairs["weight"][5] = np.nan
    assert_error(run("rates", "aprime", "--data", _write_table(tmp_path / "p.parquet", small_pairs), "--mass", "0.3"),
                 "1 row(s)", "NaN")


def test_unphysical_rows(run, small_pairs, tmp_path):
    small_pairs["e_pos"][[2, 4]] = 0.5 * np.abs(small_pairs["pz_pos"][[2, 4]])
    assert_error(run("rates", "aprime", "--data", _write_table(tmp_path / "p.parquet", small_pairs), "--mass", "0.3"),
                 "2 row(s)", "E < |p|")


def test_non_lepton_mass(run, small_pairs, tmp_path):
    """Pions (m = 0.1396 GeV) are neither e nor mu."""
    p2 = small_pairs["px_pos"] ** 2 + small_pairs["py_pos"] ** 2 + small_pairs["pz_pos"] ** 2
    small_pairs["e_pos"] = np.sqrt(p2 + 0.13957**2)
    assert_error(run("rates", "aprime", "--data", _write_table(tmp_path / "p.parquet", small_pairs), "--mass", "0.3"),
                 "neither e nor mu")


def test_mixed_sample(run, small_pairs, tmp_path):
    for side in ("pos", "neg"):
        p2 = sum(small_pairs[f"p{c}_{side}"][:100] ** 2 for c in "xyz")
        small_pairs[f"e_{side}"][:100] = np.sqrt(p2 + 0.000511**2)
    assert_error(run("rates", "aprime", "--data", _write_table(tmp_path / "p.parquet", small_pairs), "--mass", "0.3"),
                 "mixed sample")


def test_forced_lepton_is_used(run, small_pairs, tmp_path):
    path = _write_table(tmp_path / "p.parquet", small_pairs)
    rc, out, _ = run("rates", "aprime", "--data", path, "--mass", "0.3", "--lepton", "mu", "--json")
    assert rc == 0 and json.loads(out)["lepton"] == "mu"


@pytest.mark.parametrize("mass,fragment", [("0.2", "below the pair threshold"), ("2.5", "above the data's reach")])
def test_mass_outside_data(run, dalitz_parquet, mass, fragment):
    assert_error(run("rates", "aprime", "--data", dalitz_parquet, "--mass", mass), fragment)


def test_too_few_pairs(run, dalitz_parquet, small_pairs, tmp_path):
    # the Dalitz mock ends at the eta' endpoint, 0.958 GeV; a handful of pairs are left above 0.9
    assert_error(run("rates", "aprime", "--data", dalitz_parquet, "--mass", "0.905", "--bandwidth", "0.005"),
                 "too few pairs")
    assert_error(run("rates", "mcp", "--data", dalitz_parquet, "--mchi", "0.475"), "too few")


def test_negative_net_yield(run, small_pairs, tmp_path):
    small_pairs["weight"] = -np.ones(small_pairs["px_pos"].size)
    path = _write_table(tmp_path / "p.parquet", small_pairs)
    assert_error(run("rates", "aprime", "--data", path, "--mass", "0.3"), "negative net yield")
    assert_error(run("rates", "mcp", "--data", path, "--mchi", "0.15"), "negative net")


def test_unknown_extension_and_unreadable_files(run, tmp_path, dalitz_parquet):
    (tmp_path / "p.txt").write_text("x")
    assert_error(run("rates", "aprime", "--data", tmp_path / "p.txt", "--mass", "0.3"), "unknown file type", ".txt")
    (tmp_path / "bad.parquet").write_bytes(b"this is not parquet at all")
    assert_error(run("rates", "aprime", "--data", tmp_path / "bad.parquet", "--mass", "0.3"), "cannot read as parquet")
    assert_error(run("rates", "aprime", "--data", tmp_path / "none.parquet", "--mass", "0.3"), "no such file")
    (tmp_path / "text.csv").write_text('px_pos,"py\n1,2\n3\n')
    assert_error(run("rates", "aprime", "--data", tmp_path / "text.csv", "--mass", "0.3"), "text.csv")


def test_bad_numbers_on_the_command_line(run, dalitz_parquet):
    assert_error(run("rates", "aprime", "--data", dalitz_parquet, "--mass", "0.3", "--n-collisions", "-5"),
                 "n_collisions must be positive")
    assert_error(run("rates", "aprime", "--data", dalitz_parquet, "--mass", "0.5:0.3:0.1"), "mass range")
    rc, _, err = run("mock", "--n-events", "abc", "--out", "x.parquet")
    assert rc == 2 and "not a number" in err and "Traceback" not in err


def test_console_script_exit_code(small_pairs, tmp_path):
    """Through a real process: non-zero exit and no traceback."""
    path = _write_table(tmp_path / "p.parquet", {k: v for k, v in small_pairs.items() if k != "e_pos"})
    proc = subprocess.run([sys.executable, "-m", "gammastar.cli", "rates", "aprime", "--data", str(path),
                           "--mass", "0.3"], capture_output=True, text=True)
    assert proc.returncode == 2 and proc.stderr.startswith(f"error: {path}: missing column(s) e_pos (")
    assert len(proc.stderr.splitlines()) == 1


def test_forced_lepton_against_the_data_warns(run, small_pairs, tmp_path):
    path = _write_table(tmp_path / "p.parquet", small_pairs)
    rc, out, err = run("rates", "aprime", "--data", path, "--mass", "0.3", "--lepton", "e", "--json")
    assert rc == 0 and json.loads(out)["lepton"] == "e"
    assert "warning:" in err and "do not all look like e" in err


def test_the_command_list_is_each_command_s_own_help_and_imports_none_of_them():
    import click

    from gammastar.cli import COMMANDS, SUMMARIES, cli

    ctx = click.Context(cli)
    for name in COMMANDS:
        assert SUMMARIES[name] == cli.get_command(ctx, name).get_short_help_str(limit=1000), name
    code = ("import sys; from gammastar.cli import main; rc = main(['--help']); "
            "print(rc, sorted(m for m in sys.modules if m.startswith('gammastar.cli.') and m != 'gammastar.cli.flags'))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert "generate  Events from a trained model" in out and out.strip().endswith("0 []")
