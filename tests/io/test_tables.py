"""Published binned spectra: a HEPData table made from known events gives the events' yields."""

import json

import numpy as np
import pytest

yaml = pytest.importorskip("yaml")

import gammastar  # noqa: E402
from gammastar.cli import main  # noqa: E402
from gammastar.errors import GammastarError  # noqa: E402
from gammastar.io.readers.tables import read_spectrum  # noqa: E402
from gammastar.truth.cocktail import DALITZ, direct_aprime_yield, direct_mcp_yield  # noqa: E402

M_MU = 0.1056583755
WIDTH = 0.01


def _binned(data, width=WIDTH):
    """dN/dm per collision in bins of ``width`` from 2 m_mu, with Poisson errors, and a 5% systematic."""
    edges = np.arange(0.212, data.mass.max() + width, width)
    w, _ = np.histogram(data.mass, edges, weights=data.weight)
    w2, _ = np.histogram(data.mass, edges, weights=data.weight**2)
    keep = w > 0
    lo, hi = edges[:-1][keep], edges[1:][keep]
    value = w[keep] / width / data.n_collisions
    stat = np.sqrt(w2[keep]) / width / data.n_collisions
    return lo, hi, value, stat, 0.05 * value


def _write_yaml(path, lo, hi, value, stat, sys):
    doc = {
        "independent_variables": [{"header": {"name": "M", "units": "GeV"},
                                   "values": [{"low": float(a), "high": float(b)} for a, b in zip(lo, hi, strict=True)]}],
        "dependent_variables": [{"header": {"name": "dN/dM", "units": "1/GeV"}, "values": [
            {"value": float(v), "errors": [{"symerror": float(e), "label": "stat"}, {"symerror": float(s), "label": "sys"}]}
            for v, e, s in zip(value, stat, sys, strict=True)]}],
    }
    path.write_text(yaml.safe_dump(doc))
    return path


def _write_hepdata_csv(path, lo, hi, value, stat, sys):
    rows = ["#: name: Table 1", "M [GeV],M [GeV] LOW,M [GeV] HIGH,dN/dM [1/GeV],stat +,stat -,sys +,sys -"]
    rows += [f"{0.5 * (a + b)!r},{a!r},{b!r},{v!r},{e!r},{-e!r},{s!r},{-s!r}"
             for a, b, v, e, s in zip(*(np.asarray(x).tolist() for x in (lo, hi, value, stat, sys)), strict=True)]
    path.write_text("\n".join(rows) + "\n")
    return path


@pytest.fixture(scope="module")
def tables(dalitz_mock, tmp_path_factory):
    d = tmp_path_factory.mktemp("tables")
    data, _, _ = dalitz_mock
    b = _binned(data)
    plain = d / "plain.csv"
    plain.write_text("m_lo,m_hi,value,err\n" + "".join(f"{a!r},{c!r},{v!r},{e!r}\n"
                                                      for a, c, v, e, _ in zip(*(x.tolist() for x in b), strict=True)))
    return {"yaml": _write_yaml(d / "t.yaml", *b), "csv": _write_hepdata_csv(d / "t.csv", *b), "plain": plain}


def test_table_gives_the_events_aprime_yields(dalitz_mock, tables):
    """Same events binned in 10 MeV: A' yields within the binning error, and within the closure bounds."""
    data, _, _ = dalitz_mock
    masses = np.array([0.25, 0.3, 0.4, 0.5, 0.6])
    events = gammastar.aprime_yield(data, masses)
    table = gammastar.aprime_yield(read_spectrum(tables["yaml"], lepton="mu"), masses)
    assert table.normalization == "per_sample"  # the table's own normalisation, here per collision
    # the table is the same events: differences come from the coarser resolution (h >= 16 MeV vs >= 3 MeV)
    assert np.all(np.abs(table.n_per_eps2 - events.n_per_eps2) < 3 * np.maximum(table.n_err, events.n_err))
    truth = direct_aprime_yield(masses, DALITZ)
    assert np.all(np.abs(table.n_per_eps2 - truth) < np.maximum(3 * table.n_err, 0.05 * truth))
    # 5% fully correlated systematic per bin -> 5% on the yield
    np.testing.assert_allclose(table.n_err_sys / table.n_per_eps2, 0.05, rtol=1e-6)


def test_all_table_formats_agree(tables):
    res = [gammastar.aprime_yield(read_spectrum(tables[k], lepton="mu"), [0.3, 0.45]) for k in ("yaml", "csv", "plain")]
    for r in res[1:]:
        np.testing.assert_allclose(r.n_per_eps2, res[0].n_per_eps2, rtol=1e-12)
        np.testing.assert_allclose(r.n_err, res[0].n_err, rtol=1e-12)


@pytest.mark.parametrize("spin", ["fermion", "scalar"])
def test_table_mcp_yields(dalitz_mock, tables, spin):
    data, _, _ = dalitz_mock
    m_chi = [0.05, 0.15, 0.25]
    events = gammastar.mcp_yield(data, m_chi, spin=spin)
    table = gammastar.mcp_yield(read_spectrum(tables["yaml"], lepton="mu"), m_chi, spin=spin)
    # N_V taken constant within 10 MeV bins: sub-percent
    np.testing.assert_allclose(table.n_pairs_per_eps2, events.n_pairs_per_eps2, rtol=0.01)
    np.testing.assert_allclose(table.n_pairs_per_eps2, direct_mcp_yield(m_chi, spin, DALITZ, 2 * M_MU), rtol=0.02)
    assert table.incomplete


def test_cli_spectrum(tables, capsys):
    rc = main(["rates", "aprime", "--spectrum", str(tables["yaml"]), "--lepton", "mu", "--mass", "0.3,0.4", "--json"])
    out = json.loads(capsys.readouterr().out)
    assert rc == 0 and len(out["n_per_eps2"]) == 2 and len(out["n_err_sys"]) == 2
    rc = main(["rates", "mcp", "--spectrum", str(tables["csv"]), "--lepton", "mu", "--mchi", "0.15", "--json"])
    assert rc == 0 and json.loads(capsys.readouterr().out)["incomplete"] is False
    # event-level commands say they need events
    assert main(["train", "--data", str(tables["yaml"]), "--out", "m.pt"]) == 2
    assert "needs events" in capsys.readouterr().err
    assert main(["train", "--data", str(tables["plain"]), "--out", "m.pt"]) == 2
    assert "needs events" in capsys.readouterr().err


def test_bad_tables(tables, tmp_path):
    lo, hi = [0.25, 0.26, 0.27], [0.26, 0.27, 0.28]
    bad = tmp_path / "x.yaml"
    bad.write_text("independent_variables: []\n")
    with pytest.raises(GammastarError, match="not a HEPData table"):
        read_spectrum(bad, lepton="mu")
    bad.write_text("a: [1, 2\n")
    with pytest.raises(GammastarError, match="not valid YAML"):
        read_spectrum(bad, lepton="mu")
    _write_yaml(bad, [0.25, 0.27, 0.26], [0.26, 0.28, 0.27], [1, 1, 1], [0.1] * 3, [0] * 3)
    with pytest.raises(GammastarError, match="not increasing"):
        read_spectrum(bad, lepton="mu")
    _write_yaml(bad, lo, hi, [1, 1, 1], [0.1, -0.1, 0.1], [0] * 3)
    with pytest.raises(GammastarError, match="negative uncertainties"):
        read_spectrum(bad, lepton="mu")
    _write_yaml(bad, lo, hi, [1, 1, 1], [0.1] * 3, [0] * 3)
    with pytest.raises(GammastarError, match="lepton flavour"):
        read_spectrum(bad)
    spec = read_spectrum(bad, lepton="mu")
    with pytest.raises(GammastarError, match="below the data's lowest mass bin"):
        gammastar.aprime_yield(spec, [0.22])
    plain = tmp_path / "p.csv"
    plain.write_text("m_lo,m_hi,value,err\n0.25,0.26,1.0\n")
    with pytest.raises(GammastarError, match="row 1 has 3 fields"):
        read_spectrum(plain, lepton="mu")
    plain.write_text("a,b,c\n1,2,3\n")
    with pytest.raises(GammastarError, match="not a spectrum table"):
        read_spectrum(plain, lepton="mu")
    _write_yaml(bad, [0.2, 0.26], [0.26, 0.27], [1, 1], [0.1] * 2, [0] * 2)
    with pytest.raises(GammastarError, match="below 2 m_mu"):
        read_spectrum(bad, lepton="mu")
