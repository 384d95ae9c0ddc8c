"""``gammastar rates photon|aprime|mcp``: yields vs mass from dilepton data or a published table."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import click
import numpy as np

import gammastar
from gammastar.results import MCP_REMEDIES, REMEDIES, summary

from .common import POSITIVE, check_not_input, emit, header, note, open_data, plot_option, rates_options


@click.group()
def rates() -> None:
    """Yields vs mass from dilepton data: photon, aprime, mcp."""


_bandwidth_option = click.option(
    "--bandwidth", type=POSITIVE, default=None,
    help="Fixed half-width (GeV) of the local spectrum estimate; adaptive by default.")
_csv_option = click.option("--csv", "csv_path", type=click.Path(dir_okay=False, path_type=Path), default=None,
                           help="Also write the table as CSV (.csv or .csv.gz; metadata in NAME.meta.json).")


def _outputs(data_path: Path | None, opts: dict[str, Any], *paths: Path | None) -> None:
    """Refuse, before any work, an output that is an input."""
    for p in paths:
        if p is not None:
            check_not_input(p, data_path, opts)


def _report(title: str, data: gammastar.Sample, res: Any, columns: str, row: Callable[[int], str], as_json: bool,
            csv_path: Path | None, key: str = "mass", remedies: dict[str, str] = REMEDIES) -> None:
    """The table (failed masses marked) or JSON on stdout, the CSV, and the failures summarised on stderr."""
    payload = res.to_dict()
    reasons = {f.mass: f.reason for f in res.failed}
    xs = getattr(res, key)
    rows = [header(title, data), columns]
    rows += [f"{x:10.5f}  failed: {reasons[x]}" if x in reasons else row(i) for i, x in enumerate(xs)]
    emit(payload, rows, as_json)
    if csv_path is not None:
        from gammastar.io.results import write_yield_csv

        note(f"table: {write_yield_csv(csv_path, payload, key)}")
    if res.failed:
        note(f"warning: {summary(res.failed, len(xs), 'm_chi' if key == 'm_chi' else 'mass', remedies)}")
    limited = getattr(res, "resolution_limited", None)
    if limited is not None and limited.any():
        names = ", ".join(dict.fromkeys(r for r in res.resonance if r))
        note(f"note: {int(limited.sum())} mass(es) within 3 half-widths of {names} are resolution_limited: there the "
             "value is N_V averaged over the window (and the detector's resolution), not the A' yield at that mass; "
             "give the detector's resolution with --mass-resolution SIGMA|FILE.csv to unfold it")


@rates.command()
@rates_options
@click.option("--mass", "mass_spec", required=True, help="LO:HI:STEP or a comma list, GeV.")
@_bandwidth_option
@plot_option
@_csv_option
def photon(data_path: Path | None, lepton: str | None, n_collisions: float | None, as_json: bool, mass_spec: str,
           bandwidth: float | None, plot: Path | None, csv_path: Path | None, **opts: Any) -> None:
    """Off-shell photon yield N_V(m) and dN_ll/dm: the model-independent product."""
    masses = gammastar.parse_mass_spec(mass_spec)
    _outputs(data_path, opts, plot, csv_path)
    data = open_data(data_path, lepton, n_collisions, opts)
    res = gammastar.photon_yield(data, masses, bandwidth=bandwidth, progress=True)

    def row(i: int) -> str:
        return (f"{res.mass[i]:10.5f} {res.n_v[i]:11.4e} {res.n_v_err[i]:9.2e} {res.dn_ll_dm[i]:11.4e} "
                f"{res.dn_ll_dm_err[i]:9.2e} {res.bandwidth[i]:8.4f}")

    _report("rates photon", data, res, "# mass[GeV]      N_V      N_V_err   dN_ll/dm[1/GeV]  err   half-width[GeV]",
            row, as_json, csv_path)
    if plot:
        from gammastar.figures import plot_label
        from gammastar.rates.plots import plot_photon

        note(f"plot: {plot_photon(res, plot, plot_label(data))}")


@rates.command()
@rates_options
@click.option("--mass", "mass_spec", required=True, help="A' masses: LO:HI:STEP or a comma list, GeV.")
@_bandwidth_option
@plot_option
@_csv_option
def aprime(data_path: Path | None, lepton: str | None, n_collisions: float | None, as_json: bool, mass_spec: str,
           bandwidth: float | None, plot: Path | None, csv_path: Path | None, **opts: Any) -> None:
    """Dark photons produced per collision for eps = 1 (multiply by eps^2)."""
    masses = gammastar.parse_mass_spec(mass_spec)
    _outputs(data_path, opts, plot, csv_path)
    data = open_data(data_path, lepton, n_collisions, opts)
    res = gammastar.aprime_yield(data, masses, bandwidth=bandwidth, progress=True)

    def row(i: int) -> str:
        n, e = res.n_per_eps2[i], res.n_err[i]
        return f"{res.mass[i]:10.5f} {n:11.4e} {e:9.2e} {e / abs(n) if n else np.inf:8.1%} {res.bandwidth[i]:8.4f}"

    _report("rates aprime", data, res, "# mass[GeV]  N_A'/eps^2    error    rel.err  half-width[GeV]", row, as_json,
            csv_path)
    if plot:
        from gammastar.figures import plot_label
        from gammastar.rates.plots import plot_aprime

        note(f"plot: {plot_aprime(res, plot, label=plot_label(data))}")


@rates.command()
@rates_options
@click.option("--mchi", "mchi_spec", required=True, help="m_chi values: LO:HI:STEP or a comma list, GeV.")
@click.option("--spin", type=click.Choice(["fermion", "scalar"]), default="fermion", show_default=True)
@plot_option
@_csv_option
def mcp(data_path: Path | None, lepton: str | None, n_collisions: float | None, as_json: bool, mchi_spec: str,
        spin: str, plot: Path | None, csv_path: Path | None, **opts: Any) -> None:
    """Millicharged chi-chibar pairs per collision for eps = 1 (multiply by eps^2)."""
    m_chi = gammastar.parse_mass_spec(mchi_spec)
    _outputs(data_path, opts, plot, csv_path)
    data = open_data(data_path, lepton, n_collisions, opts)
    res = gammastar.mcp_yield(data, m_chi, spin=spin, progress=True)
    if res.incomplete:
        below = (f"below 2 m_{data.lepton} = {res.m_min:.4g} GeV" if res.m_min <= 2 * data.m_lepton else
                 f"below {res.m_min:.4g} GeV, where they start")
        note(f"note: for m_chi < {res.m_min / 2:.4g} GeV the data cannot see pair masses {below}; those yields are "
             "the visible part only (incomplete)")

    def row(i: int) -> str:
        return (f"{res.m_chi[i]:10.5f} {res.n_pairs_per_eps2[i]:11.4e} {res.n_err[i]:9.2e}"
                f"{'  incomplete' if res.incomplete_at[i] else ''}")

    _report(f"rates mcp ({spin})", data, res,
            f"# m_chi[GeV]  N_pairs/eps^2   error   (pair masses above {res.m_min:.4g} GeV only)", row, as_json,
            csv_path, "m_chi", MCP_REMEDIES)
    if plot:
        from gammastar.figures import plot_label
        from gammastar.rates.plots import plot_mcp

        note(f"plot: {plot_mcp([res], plot, label=plot_label(data))}")
