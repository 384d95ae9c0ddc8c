"""``gammastar reach aprime|mcp``: signal counts in an experiment and the reach in (mass, eps)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import click
import numpy as np

import gammastar
from gammastar.flow.density import GRID
from gammastar.io.atomic import check_output
from gammastar.physics.formulas import check_spin
from gammastar.reach.coverage import EXTRAPOLATED_BELOW
from gammastar.reach.experiment import PRESETS, load_experiment
from gammastar.reach.search import Reach, aprime_reach, mcp_reach
from gammastar.reach.signal import parse_eps_spec

from .common import POSITIVE, SEED, Count, F, note


def _run_options(generated: str) -> Callable[[F], F]:
    """--model, --n-events, --seed, --threshold, --out and --device, as both reach commands take them."""

    def add(f: F) -> F:
        f = click.option("--device", default="cpu", show_default=True)(f)
        f = click.option("--out", "out_dir", type=click.Path(file_okay=False, path_type=Path), required=True)(f)
        f = click.option("--threshold", type=POSITIVE, default=2.3, show_default=True,
                         help="Signal events that make the reach (2.3: 90% CL with no background).")(f)
        f = click.option("--seed", type=SEED, default=0, show_default=True)(f)
        f = click.option("--n-events", type=Count(1e8), default=100_000, show_default=True,
                         help=f"{generated} generated per mass.")(f)
        return click.option("--model", "model_path", type=click.Path(path_type=Path), required=True,
                            help="A trained model (.pt).")(f)

    return add


@click.group()
def reach() -> None:
    """Signal events in an experiment and the reach in (mass, eps)."""


@reach.command("aprime")
@click.option("--experiment", "experiment_spec", required=True,
              help=f"A preset ({', '.join(PRESETS)}) or a TOML file (schema: docs/reach.md).")
@click.option("--mass", "mass_spec", required=True, help="A' masses: LO:HI:STEP or a comma list, GeV.")
@click.option("--eps", "eps_spec", required=True, help="Couplings: LO:HI:N (N log-spaced) or a comma list.")
@_run_options("A' events")
@click.option("--grid", type=click.IntRange(16, 2000), default=None,
              help=f"Cells per axis of the (log pT, y) table the A' are drawn from [default: the model's own table, "
                   f"{GRID} cells]; another number tabulates the flow afresh (its cost goes as the square).")
def aprime(model_path: Path, experiment_spec: str, mass_spec: str, eps_spec: str, n_events: int, seed: int,
           threshold: float, out_dir: Path, grid: int | None, device: str) -> None:
    """A' signal counts on a (mass, eps) grid: DIR/signal.parquet (and .csv), DIR/reach.json, DIR/reach.png."""
    check_output(out_dir, model_path, directory=True)
    experiment = load_experiment(experiment_spec)
    masses = gammastar.parse_mass_spec(mass_spec)
    eps = parse_eps_spec(eps_spec)
    gen = gammastar.Generator.load(model_path, device, grid=grid)
    result = aprime_reach(gen, experiment, masses, eps, n_events=n_events, seed=seed, threshold=threshold,
                          progress=True)
    _report(result, "A'", out_dir)


@reach.command("mcp")
@click.option("--experiment", "experiment_spec", required=True,
              help="A TOML file with an [mcp_detector] table (schema: docs/reach.md).")
@click.option("--mchi", "mchi_spec", required=True, help="chi masses: LO:HI:STEP or a comma list, GeV.")
@click.option("--spin", type=click.Choice(["fermion", "scalar"]), default="fermion", show_default=True)
@click.option("--eps", "eps_spec", required=True, help="Charges (units of e): LO:HI:N (N log-spaced) or a comma list.")
@_run_options("chi pairs")
def mcp(model_path: Path, experiment_spec: str, mchi_spec: str, spin: str, eps_spec: str, n_events: int, seed: int,
        threshold: float, out_dir: Path, device: str) -> None:
    """Detected chi (both of each pair) on an (m_chi, eps) grid: DIR/signal.parquet (and .csv), reach.json, reach.png."""
    check_output(out_dir, model_path, directory=True)
    experiment = load_experiment(experiment_spec)
    if experiment.mcp_detector is None:
        raise gammastar.GammastarError(f"experiment {experiment_spec}: no [mcp_detector] table to detect chi with")
    m_chi = gammastar.parse_mass_spec(mchi_spec)
    eps = parse_eps_spec(eps_spec)
    gen = gammastar.Generator.load(model_path, device)
    result = mcp_reach(gen, experiment, m_chi, eps, spin=check_spin(spin), n_events=n_events,
                       seed=seed, threshold=threshold, progress=True)
    partial = result.provenance["incomplete"]
    if partial:
        note(f"warning: at {len(partial)} m_chi (from {partial[0]:g} GeV) the data do not reach down to 2 m_chi: "
             "the counts are those of the pairs the data see, a lower bound")
    _report(result, "chi", out_dir)


def _report(result: Reach, what: str, out_dir: Path) -> None:
    """Write the reach's files, and say what it found: the experiment, where the data run out, the reach."""
    result.save(out_dir)
    masses, threshold, contour = result.masses, result.threshold, result.contour
    note(f"{result.experiment.describe()}")
    if result.signals.replicas == 0:
        note("note: n_signal_err is the yield's statistical error alone: the model has no replicas for the uncertainty "
             "of its kinematics (train it with --replicas K, or add them with train --from-model)")
    _say_coverage(result, what)
    failed = result.signals.failed
    if failed:
        note(f"warning: {len(failed)} of {masses.size} masses have no yield (NaN rows, null edges): "
             f"{failed[0].reason}; ask for masses inside the model's data")
    reached = np.isfinite(contour.eps_low)
    if reached.any():
        note(f"reach ({threshold:g} events) at {int(reached.sum())} of {masses.size} masses: eps from "
             f"{np.nanmin(contour.eps_low):.3g} to {np.nanmax(contour.eps_high):.3g}")
    else:
        note(f"no mass reaches {threshold:g} signal events on this eps grid")
    for ends, which, eps_end, way in ((result.low_at_grid_end, "smallest", result.eps[0], "lower"),
                                      (result.high_at_grid_end, "largest", result.eps[-1], "higher")):
        if ends.any():
            at = masses[ends]
            where = f"{at[0]:g} GeV" if at.size == 1 else f"{at.size} of {masses.size} masses ({at.min():g}-{at.max():g} GeV)"
            note(f"warning: at {where} the signal is "
                 f"still above {threshold:g} at the grid's {which} eps ({eps_end:.3g}): the reach goes {way} than "
                 f"shown (dotted in reach.png; eps_{'low' if way == 'lower' else 'high'}_at_grid_end in reach.json); "
                 "extend --eps")
    click.echo(f"wrote {out_dir / 'signal.parquet'}, signal.csv, reach.json and reach.png")


def _say_coverage(result: Reach, what: str) -> None:
    """A warning where the counts rest on the model's extrapolation (data_coverage < 0.9 at the lower edge, or in
    the long-lived limit), naming the ranges the experiment needs and those the data hold; a note for upper edges."""
    if not result.known_coverage:
        note("note: the model records no map of where its data are (trained by an older gammastar): data_coverage "
             "is unknown; train it again to have it")
        return
    masses, low, high, name = result.masses, result.coverage_low, result.coverage_high, result.experiment.name
    flagged = np.flatnonzero(low < EXTRAPOLATED_BELOW)
    if flagged.size:
        infos = [result.signals.coverage[i] for i in flagged if result.signals.coverage[i] is not None]
        needs = [c.needs for c in infos if c is not None and c.needs]
        holds = [c.holds for c in infos if c is not None and c.holds]

        def span(ranges: list[dict[str, tuple[float, float]]], key: str, fmt: str) -> str:
            lo, hi = min(r[key][0] for r in ranges), max(r[key][1] for r in ranges)
            return f"{lo:{fmt}}-{hi:{fmt}}"

        need = f"; it needs y {span(needs, 'y', '.2f')}, pT {span(needs, 'pt', '.3g')} GeV (90% of the accepted {what})" \
            if needs else ""
        hold = f"; the data hold y {span(holds, 'y', '.2f')}, pT {span(holds, 'pt', '.3g')} GeV there" if holds \
            else "; the data hold no pairs there"
        note(f"warning: at {flagged.size} of {masses.size} masses ({masses[flagged[0]]:g}-{masses[flagged[-1]]:g} GeV) "
             f"the data cover {np.nanmin(low[flagged]):.0%}-{np.nanmax(low[flagged]):.0%} of what {name} accepts "
             f"(data_coverage < {EXTRAPOLATED_BELOW:g}: extrapolated){need}{hold}")
    thin = np.flatnonzero(high < EXTRAPOLATED_BELOW)
    if thin.size:
        note(f"note: at {thin.size} masses the upper edge of the reach rests on {what} where the data thin out "
             f"(data_coverage_high {np.nanmin(high):.0%}-{np.nanmax(high[thin]):.0%}); it is drawn dashed")
