"""``gammastar compare aprime|mcp``: the data-driven yields next to model-based predictions of the same numbers."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click
import numpy as np

import gammastar
from gammastar.rates.support import EXTRAPOLATED_BELOW

from .common import emit, header, note, open_data, plot_option, rates_options


@click.group()
def compare() -> None:
    """Data-driven yields against meson-decay models (multiplicities x form factors): aprime, mcp."""


_variants_option = click.option(
    "--variants", "variants_path", type=click.Path(dir_okay=False, path_type=Path), default=None,
    help="A TOML file of your own variants ([variants.NAME]: multiplicity, form_factors, beam_energy); added to the "
         "built-in na27|pythia8 x pointlike|vmd|na60 for 400 GeV p-p.")


def _report(title: str, data: gammastar.Sample, comp: Any, as_json: bool, plot: Path | None) -> None:
    from gammastar.figures import plot_label
    from gammastar.rates.plots import plot_comparison

    for line in comp.notes:
        note(f"note: {line}")
    names = list(comp.models)
    spread = comp.model_spread
    rows = [header(title, data), f"# {comp.key:>9}  data-driven    error  " + " ".join(f"{n:>17}" for n in names)
            + "  max/min  beyond-mesons"]
    for i, x in enumerate(comp.x):
        rows.append(f"{x:11.5f} {comp.data_driven[i]:11.4e} {comp.data_driven_err[i]:9.2e}  "
                    + " ".join(f"{comp.models[n][i]:17.4e}" for n in names)
                    + f"  {spread[i]:7.3g}  {'yes' if comp.model_incomplete[i] else 'no'}")
    emit(comp.to_dict(), rows, as_json)
    if plot:
        note(f"plot: {plot_comparison(comp, plot, plot_label(data))}")
    coverage = comp.data_coverage
    partial = np.flatnonzero(coverage < EXTRAPOLATED_BELOW) if coverage is not None else np.array([], dtype=int)
    if partial.size:
        note(f"warning: at {partial.size} of {comp.x.size} points ({comp.x[partial[0]]:g}-{comp.x[partial[-1]]:g} GeV) "
             f"the data hold pairs in {np.nanmin(coverage[partial]):.0%}-{np.nanmax(coverage[partial]):.0%} of the phase "
             "space (data_coverage; the rest weighed with a reference density): the data-driven yields count what the "
             "data see, the model-based ones every pair; correct the data with --acceptance to compare like with like")
    finite = spread[np.isfinite(spread) & ~comp.model_incomplete]
    if finite.size:
        rel = comp.data_driven_err / np.where(comp.data_driven > 0, comp.data_driven, np.inf)
        note(f"note: the variants spread by a factor {finite.min():.3g}-{finite.max():.3g} where they cover the data; "
             f"the data-driven error is {np.nanmedian(rel):.1%} (median)")


def _variants(path: Path | None) -> dict[str, Any] | None:
    from gammastar.rates.compare import read_variants

    return read_variants(path) if path is not None else None


@compare.command("aprime")
@rates_options
@click.option("--mass", "mass_spec", required=True, help="A' masses: LO:HI:STEP or a comma list, GeV.")
@_variants_option
@plot_option
def aprime(data_path: Path | None, lepton: str | None, n_collisions: float | None, as_json: bool, mass_spec: str,
           variants_path: Path | None, plot: Path | None, **opts: Any) -> None:
    """A' per collision (eps = 1): rates aprime vs the meson decays under each variant."""
    from gammastar.rates.compare import aprime_comparison

    masses = gammastar.parse_mass_spec(mass_spec)
    variants = _variants(variants_path)
    data = open_data(data_path, lepton, n_collisions, opts)
    _report("compare aprime", data, aprime_comparison(data, masses, variants), as_json, plot)


@compare.command("mcp")
@rates_options
@click.option("--mchi", "mchi_spec", required=True, help="m_chi values: LO:HI:STEP or a comma list, GeV.")
@click.option("--spin", type=click.Choice(["fermion", "scalar"]), default="fermion", show_default=True)
@_variants_option
@plot_option
def mcp(data_path: Path | None, lepton: str | None, n_collisions: float | None, as_json: bool, mchi_spec: str,
        spin: str, variants_path: Path | None, plot: Path | None, **opts: Any) -> None:
    """chi-chibar pairs per collision (eps = 1): rates mcp vs the meson Dalitz decays under each variant."""
    from gammastar.rates.compare import mcp_comparison

    m_chi = gammastar.parse_mass_spec(mchi_spec)
    variants = _variants(variants_path)
    data = open_data(data_path, lepton, n_collisions, opts)
    _report(f"compare mcp ({spin})", data, mcp_comparison(data, m_chi, spin, variants), as_json, plot)
