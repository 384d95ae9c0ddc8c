"""Per-mass results: one shape for every yield, and the same three views of it."""

from __future__ import annotations

import numpy as np
import pytest

import gammastar
from gammastar.results import FailedMass, PerMassResult


def test_every_yield_has_the_same_views(dalitz_mock):
    data, _, _ = dalitz_mock
    ap = gammastar.aprime_yield(data, [0.3, 0.5, 2.0])
    chi = gammastar.mcp_yield(data, [0.1, 0.6], spin="scalar")
    ph = gammastar.photon_yield(data, [0.3, 2.0])
    for res, value, error in ((ap, ap.n_per_eps2, ap.n_err), (chi, chi.n_pairs_per_eps2, chi.n_err),
                              (ph, ph.n_v, ph.n_v_err)):
        assert isinstance(res, PerMassResult) and all(isinstance(f, FailedMass) for f in res.failed)
        # 2 GeV is beyond the mock; above 2 m_chi = 1.2 GeV it has no pair
        assert res.failed and res.failed[0].kind in ("range", "statistics")
        table = res.to_table()
        assert table.num_rows == res.masses.size and table.column_names[0] == res.axis
        np.testing.assert_array_equal(table.column(res.value_field).to_numpy(), value)
        reasons = table.column("failed").to_pylist()
        assert reasons[-1] == res.failed[0].reason and reasons[0] is None
        h = res.to_hist()
        np.testing.assert_array_equal(h.values(), value)
        np.testing.assert_allclose(np.sqrt(h.variances()), error)
        d = res.to_dict()
        assert d["failed"] == [{res.axis: float(res.masses[-1]), "reason": res.failed[0].reason}]
        # where the numbers come from travels with them
        assert (d["data"], d["n_collisions"]) == (data.source, data.n_collisions) == (
            res.provenance["data"], res.provenance["n_collisions"])


def test_comparisons_are_per_mass_results_too(dalitz_mock):
    data, _, _ = dalitz_mock
    comp = gammastar.aprime_comparison(data, [0.3, 0.5, 2.0])
    chi = gammastar.mcp_comparison(data, [0.1, 0.2], "scalar")
    for c, axis in ((comp, "mass"), (chi, "m_chi")):
        assert isinstance(c, PerMassResult) and c.axis == axis
        table = c.to_table()
        assert table.column_names[0] == axis and table.num_rows == c.x.size
        np.testing.assert_array_equal(table.column("data_driven").to_numpy(), c.data_driven)
        np.testing.assert_array_equal(c.to_hist().values(), c.data_driven)
        assert c.to_dict()["data"] == data.source
    assert [f.mass for f in comp.failed] == [2.0] and comp.to_dict()["failed"][0]["mass"] == 2.0


def test_reach_grids_record_failures_like_the_yields(gen, tmp_path):
    from gammastar.reach.signal import signal_grid

    grid = signal_grid(gen, gammastar.reach.load_experiment("ship"), [0.4, 50.0], [1e-7, 1e-6], n_events=2000)
    assert [(f.mass, f.kind) for f in grid.failed] == [(50.0, "model")]  # beyond the model's masses
    d = grid.to_dict()
    assert d["failed"] == [{"mass": 50.0, "reason": grid.failed[0].reason}] and len(d["n_signal"]) == 4
    assert grid.to_table().num_rows == 4 and np.isnan(grid.to_table().column("n_signal").to_numpy()[-1])
    # the attribute has the column's name now; the old one warns
    with pytest.warns(DeprecationWarning, match="n_signal_alt is now n_signal_width_alt"):
        np.testing.assert_array_equal(grid.n_signal_alt, grid.to_table().column("n_signal_width_alt").to_numpy())
