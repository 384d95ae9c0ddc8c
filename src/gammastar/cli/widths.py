"""``gammastar widths``: A' lifetime and branching ratios versus mass."""

from __future__ import annotations

from pathlib import Path

import click
import numpy as np

import gammastar
from gammastar.io.jsontext import dumps
from gammastar.physics.decays import TABLES, aprime_decay, shipped_table
from gammastar.physics.pdg import mass

from .common import note, plot_option


@click.command("widths")
@click.option("--mass", "mass_spec", required=True, help="A' masses: LO:HI:STEP or a comma list, GeV.")
@click.option("--widths", "widths_path", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Your table above 2 m_pi (CSV: mass_gev, ctau_m_eps1, br_ee, br_mumu, br_hadrons) "
                   f"[{TABLES[0]} up to 2 GeV, {TABLES[1]} up to 10 GeV].")
@click.option("--json", "as_json", is_flag=True, help="Print JSON to stdout instead of a table.")
@plot_option
def widths(mass_spec: str, widths_path: Path | None, as_json: bool, plot: Path | None) -> None:
    """A' c tau at eps = 1 (metres; scales as 1/eps^2) and branching ratios: exact below 2 m_pi, tabulated above."""
    masses = gammastar.parse_mass_spec(mass_spec)
    dec = aprime_decay(masses, widths_path)
    if as_json:
        click.echo(dumps(dec.to_dict()))
    else:
        click.echo("# A' decays (c tau scales as 1/eps^2; spread = |foresee2025/darkcast - 1| in c tau where both cover)")
        click.echo("# mass[GeV]  ctau[m,eps=1]  BR(ee)   BR(mumu)  BR(had)   spread  table")
        for i in range(dec.mass.size):
            click.echo(f"{dec.mass[i]:10.5f}  {dec.ctau_m_eps1[i]:12.4e}  {dec.br_ee[i]:7.4f}  {dec.br_mumu[i]:7.4f}  "
                       f"{dec.br_hadrons[i]:7.4f}  {dec.ctau_model_spread[i]:6.1%}  {dec.table[i]}")
    if plot:
        from gammastar.reach.plots import plot_widths

        grid = np.geomspace(dec.mass.min(), dec.mass.max(), 2000) if dec.mass.size > 1 else dec.mass
        others = {}
        if widths_path is None:
            for name in TABLES:
                t = shipped_table(name)
                inside = grid[(grid >= max(t.mass[0], 2 * mass("pi+"))) & (grid <= t.mass[-1])]
                if inside.size:
                    others[name] = aprime_decay(inside, t)
        note(f"plot: {plot_widths(aprime_decay(grid, widths_path), plot, others)}")
