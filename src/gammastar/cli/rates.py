"""``gammastar rates photon|aprime|mcp``: yields vs mass from dilepton data or a published table."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click
import numpy as np

import gammastar

from .common import POSITIVE, check_not_input, emit, header, note, open_data, plot_option, rates_options


@click.group()
def rates() -> None:
    """Yields vs mass from dilepton data: photon, aprime, mcp."""


_bandwidth_option = click.option(
    "--bandwidth", type=POSITIVE, default=None,
    help="Fixed half-width (GeV) of the local spectrum estimate; adaptive by default.")


@rates.command()
@rates_options
@click.option("--mass", "mass_spec", required=True, help="LO:HI:STEP or a comma list, GeV.")
@_bandwidth_option
def photon(data_path: Path | None, lepton: str | None, n_collisions: float | None, as_json: bool, mass_spec: str,
           bandwidth: float | None, **opts: Any) -> None:
    """Off-shell photon yield N_V(m) and dN_ll/dm: the model-independent product."""
    masses = gammastar.parse_mass_spec(mass_spec)
    data = open_data(data_path, lepton, n_collisions, opts)
    res = gammastar.photon_yield(data, masses, bandwidth=bandwidth, progress=True)
    rows = [header("rates photon", data),
            "# mass[GeV]      N_V      N_V_err   dN_ll/dm[1/GeV]  err   half-width[GeV]"]
    rows += [f"{m:10.5f} {n:11.4e} {e:9.2e} {d:11.4e} {de:9.2e} {h:8.4f}"
             for m, n, e, d, de, h in zip(res.mass, res.n_v, res.n_v_err, res.dn_ll_dm, res.dn_ll_dm_err, res.bandwidth,
                                          strict=True)]
    emit({**res.to_dict(), "n_collisions": data.n_collisions, "data": data.source}, rows, as_json)


@rates.command()
@rates_options
@click.option("--mass", "mass_spec", required=True, help="A' masses: LO:HI:STEP or a comma list, GeV.")
@_bandwidth_option
@plot_option
def aprime(data_path: Path | None, lepton: str | None, n_collisions: float | None, as_json: bool, mass_spec: str,
           bandwidth: float | None, plot: Path | None, **opts: Any) -> None:
    """Dark photons produced per collision for eps = 1 (multiply by eps^2)."""
    masses = gammastar.parse_mass_spec(mass_spec)
    if plot is not None:
        check_not_input(plot, data_path, opts)
    data = open_data(data_path, lepton, n_collisions, opts)
    res = gammastar.aprime_yield(data, masses, bandwidth=bandwidth, progress=True)
    rows = [header("rates aprime", data), "# mass[GeV]  N_A'/eps^2    error    rel.err  half-width[GeV]"]
    rows += [f"{m:10.5f} {n:11.4e} {e:9.2e} {e / abs(n) if n else np.inf:8.1%} {h:8.4f}"
             for m, n, e, h in zip(res.mass, res.n_per_eps2, res.n_err, res.bandwidth, strict=True)]
    emit({**res.to_dict(), "n_collisions": data.n_collisions, "data": data.source}, rows, as_json)
    if plot:
        from gammastar.plots import plot_aprime

        note(f"plot: {plot_aprime(res, plot)}")


@rates.command()
@rates_options
@click.option("--mchi", "mchi_spec", required=True, help="m_chi values: LO:HI:STEP or a comma list, GeV.")
@click.option("--spin", type=click.Choice(["fermion", "scalar"]), default="fermion", show_default=True)
@plot_option
def mcp(data_path: Path | None, lepton: str | None, n_collisions: float | None, as_json: bool, mchi_spec: str,
        spin: str, plot: Path | None, **opts: Any) -> None:
    """Millicharged chi-chibar pairs per collision for eps = 1 (multiply by eps^2)."""
    m_chi = gammastar.parse_mass_spec(mchi_spec)
    if plot is not None:
        check_not_input(plot, data_path, opts)
    data = open_data(data_path, lepton, n_collisions, opts)
    res = gammastar.mcp_yield(data, m_chi, spin=spin, progress=True)
    if res.incomplete:
        note(f"note: for m_chi < m_{data.lepton} = {data.m_lepton:.4g} GeV the data cannot see pair masses "
             f"below 2 m_{data.lepton} = {res.m_min:.4g} GeV; those yields are the visible part only (incomplete)")
    rows = [header(f"rates mcp ({spin})", data),
            f"# m_chi[GeV]  N_pairs/eps^2   error   (pair masses above {res.m_min:.4g} GeV only)"]
    rows += [f"{m:10.5f} {n:11.4e} {e:9.2e}{'  incomplete' if inc else ''}"
             for m, n, e, inc in zip(res.m_chi, res.n_pairs_per_eps2, res.n_err, res.incomplete_at, strict=True)]
    emit({**res.to_dict(), "n_collisions": data.n_collisions, "data": data.source}, rows, as_json)
    if plot:
        from gammastar.plots import plot_mcp

        note(f"plot: {plot_mcp([res], plot)}")
