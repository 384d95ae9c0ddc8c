"""``gammastar reach aprime|mcp``: signal counts in an experiment and the reach in (mass, eps)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import click
import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

import gammastar
from gammastar.flow.density import GRID
from gammastar.io.atomic import atomic_path, check_output, write_text
from gammastar.io.jsontext import dumps
from gammastar.reach.contour import reach_contour, shipped_bounds
from gammastar.reach.coverage import EXTRAPOLATED_BELOW, edge_coverage
from gammastar.reach.experiment import PRESETS, load_experiment
from gammastar.reach.mcp import mcp_signal_grid
from gammastar.reach.signal import parse_eps_spec, signal_grid

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
              help=f"A preset ({', '.join(PRESETS)}) or a TOML file (schema in the README).")
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
    signals = signal_grid(gen, experiment, masses, eps, n_events=n_events, seed=seed, progress=True)
    alt = signals.reshaped("n_signal_alt")
    _write(out_dir, signals, masses, eps, threshold, gen, experiment, {
        "model": str(model_path), "n_events": n_events, "seed": seed,
        "band": "eps_low_/eps_high_ with the signal at +-1 sigma of the data (stat_up, stat_down) and with the "
                "other decay table (width_alt)"}, alt if np.isfinite(alt).any() else None, "mass", "A'")


@reach.command("mcp")
@click.option("--experiment", "experiment_spec", required=True,
              help="A TOML file with an [mcp_detector] table (schema in the README).")
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
    signals = mcp_signal_grid(gen, experiment, m_chi, eps, spin=spin, n_events=n_events, seed=seed, progress=True)
    partial = [float(m) for m in m_chi if 2 * m < gen.model.mass_range[1] and gen.mcp_incomplete(float(m))]
    if partial:
        note(f"warning: at {len(partial)} m_chi (from {partial[0]:g} GeV) the data do not reach down to 2 m_chi: "
             "the counts are those of the pairs the data see, a lower bound")
    _write(out_dir, signals, m_chi, eps, threshold, gen, experiment,
           {"model": str(model_path), "spin": spin, "n_events": n_events, "seed": seed, "incomplete": partial,
            "band": "eps_low_/eps_high_ with the signal at +-1 sigma of the data (stat_up, stat_down)"},
           None, "m_chi", "chi")


def _write(out_dir: Path, signals: Any, masses: np.ndarray, eps: np.ndarray, threshold: float, gen: Any,
           experiment: Any, extra: dict[str, Any], alt: np.ndarray | None, key: str, what: str) -> None:
    """The three outputs of a reach command: signal.parquet/.csv, reach.json, reach.png; and what it found."""
    if len(signals.failed) == masses.size:
        raise gammastar.GammastarError(f"no mass could be estimated: {signals.failed[0]['reason']}")
    out_dir.mkdir(parents=True, exist_ok=True)
    table = pa.table(signals.columns())
    with atomic_path(out_dir / "signal.parquet") as tmp:
        pq.write_table(table, tmp, compression="zstd")
    with atomic_path(out_dir / "signal.csv") as tmp:
        pacsv.write_csv(table, tmp)
    n = signals.reshaped("n_signal")
    contour = reach_contour(masses, eps, n, threshold)
    rel = np.divide(signals.reshaped("n_signal_err"), n, out=np.zeros_like(n), where=n > 0)
    band = {"stat_up": reach_contour(masses, eps, n * (1 + rel), threshold),
            "stat_down": reach_contour(masses, eps, n * np.clip(1 - rel, 0, None), threshold)}
    if alt is not None:
        band["width_alt"] = reach_contour(masses, eps, np.where(np.isfinite(alt), alt, n), threshold)
    result = contour.to_dict(band, key)
    known = signals.data_coverage is not None and np.isfinite(signals.data_coverage).any()
    low, high = (edge_coverage(eps, signals.reshaped("data_coverage"), contour.eps_low, contour.eps_high) if known
                 else (np.full(masses.size, np.nan),) * 2)
    for row, c_low, c_high in zip(result["contour"], low, high, strict=True):
        row.update({"data_coverage": _number(c_low), "extrapolated": _flag(c_low), "data_coverage_high": _number(c_high),
                    "extrapolated_high": _flag(c_high)})
    result.update({"failed": list(signals.failed), "experiment": experiment.name,
                   "n_collisions": experiment.n_collisions, "replicas": signals.replicas, **extra})
    write_text(out_dir / "reach.json", dumps(result) + "\n")
    from gammastar.figures import PlotLabel
    from gammastar.reach.plots import plot_reach

    label = PlotLabel(f"{experiment.name}, {experiment.n_collisions:.3g} collisions", gen.beam.describe(),
                      gen.model.normalization)
    is_aprime = key == "mass"
    plot_reach(contour, out_dir / "reach.png", list(band.values()), shipped_bounds("aprime" if is_aprime else "mcp"),
               title=f"{experiment.name}\n{what} from {Path(gen.source).name or 'the model'}", label=label,
               xlabel=r"$m_{A'}$ [GeV]" if is_aprime else r"$m_\chi$ [GeV]",
               ylabel=r"$\varepsilon$" if is_aprime else r"$\varepsilon = Q/e$",
               band_label="statistical and width-model band" if alt is not None else "statistical band",
               eps_top=float(eps[-1]), extrapolated=low < EXTRAPOLATED_BELOW, extrapolated_high=high < EXTRAPOLATED_BELOW)
    reached = np.isfinite(contour.eps_low)
    note(f"{experiment.describe()}")
    if signals.replicas == 0:
        note("note: n_signal_err is the yield's statistical error alone: the model has no replicas for the uncertainty "
             "of its kinematics (train it with --replicas K, or add them with train --from-model)")
    _say_coverage(signals, masses, low, high, what, experiment.name, known)
    if signals.failed:
        note(f"warning: {len(signals.failed)} of {masses.size} masses have no yield (NaN rows, null edges): "
             f"{signals.failed[0]['reason']}; ask for masses inside the model's data")
    if reached.any():
        note(f"reach ({threshold:g} events) at {int(reached.sum())} of {masses.size} masses: eps from "
             f"{np.nanmin(contour.eps_low):.3g} to {np.nanmax(contour.eps_high):.3g}")
    else:
        note(f"no mass reaches {threshold:g} signal events on this eps grid")
    click.echo(f"wrote {out_dir / 'signal.parquet'}, signal.csv, reach.json and reach.png")


def _number(x: float) -> float | None:
    return float(x) if np.isfinite(x) else None


def _flag(x: float) -> bool | None:
    return bool(x < EXTRAPOLATED_BELOW) if np.isfinite(x) else None


def _say_coverage(signals: Any, masses: np.ndarray, low: np.ndarray, high: np.ndarray, what: str, name: str,
                  known: bool) -> None:
    """A warning where the counts rest on the model's extrapolation (data_coverage < 0.9 at the lower edge, or in
    the long-lived limit), naming the ranges the experiment needs and those the data hold; a note for upper edges."""
    if not known:
        note("note: the model records no map of where its data are (trained by an older gammastar): data_coverage "
             "is unknown; train it again to have it")
        return
    flagged = np.flatnonzero(low < EXTRAPOLATED_BELOW)
    if flagged.size:
        infos = [signals.coverage[i] for i in flagged if signals.coverage[i] is not None]
        needs = [c.needs for c in infos if c.needs]
        holds = [c.holds for c in infos if c.holds]

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
