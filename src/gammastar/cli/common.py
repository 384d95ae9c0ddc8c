"""What the command groups share: option sets, number types, notes on stderr, tables or JSON on stdout."""

from __future__ import annotations

import math
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

import gammastar
from gammastar.io.acceptance import acceptance_file
from gammastar.io.atomic import check_output
from gammastar.io.jsontext import dumps
from gammastar.io.readers import listed_suffixes
from gammastar.io.subtract import subtractions
from gammastar.physics.beams import Beam

from .flags import as_flags

__all__ = ["Count", "Number", "POSITIVE", "NON_NEGATIVE", "SEED", "MOCK_MAX", "GENERATE_MAX", "F", "note", "data_options",
           "rates_options", "cluster_options", "open_data", "beam_option", "check_not_input", "header", "emit", "parse_window", "check_disk", "plot_option"]

F = TypeVar("F", bound=Callable[..., Any])


class Count(click.ParamType):  # type: ignore[type-arg]  # generic in click's stubs only
    """A whole number that may be written 1e6, from 1 to ``maximum``."""

    name = "count"

    def __init__(self, maximum: float = 1e12) -> None:
        self.maximum = maximum

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> int:
        try:
            f = float(value)
        except (TypeError, ValueError):
            self.fail(f"{value!r} is not a number", param, ctx)
        if not f.is_integer() or f < 1:
            self.fail(f"{value!r} is not a positive whole number", param, ctx)
        if f > self.maximum:
            self.fail(f"{value!r} is above the maximum {self.maximum:.0e}", param, ctx)
        return int(f)


class Number(click.ParamType):  # type: ignore[type-arg]
    """A finite float in (``low``, ``high``] (``low`` itself allowed with ``closed``)."""

    name = "float"

    def __init__(self, low: float = 0.0, high: float = math.inf, closed: bool = False) -> None:
        self.low, self.high, self.closed = low, high, closed

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> float:
        try:
            f = float(value)
        except (TypeError, ValueError):
            self.fail(f"{value!r} is not a number", param, ctx)
        above = f >= self.low if self.closed else f > self.low
        if not (math.isfinite(f) and above and f <= self.high):
            lo = "[" if self.closed else "("
            hi = "inf)" if math.isinf(self.high) else f"{self.high:g}]"
            self.fail(f"{value!r} is not a finite number in {lo}{self.low:g}, {hi}", param, ctx)
        return f


#: what the built-in cocktail holds in memory at once (about 200 bytes a pair)
MOCK_MAX = 1e8
#: events one generate run writes
GENERATE_MAX = 1e11
POSITIVE = Number()
NON_NEGATIVE = Number(closed=True)
SEED = click.IntRange(min=0)


def note(msg: str) -> None:
    """A line for the user on stderr (stdout stays clean for tables and JSON), the library's words as flags."""
    click.echo(as_flags(msg), err=True)


def data_options(f: F) -> F:
    """--data and the options that say how to read it (the keywords of :func:`gammastar.open_sample`)."""
    f = click.option("--mass-resolution", default=None, metavar="SIGMA|FILE.csv",
                     help="The detector's Gaussian mass resolution: GeV, or a CSV of mass, sigma. Near narrow "
                          "resonances (omega, phi, J/psi, ...) the yields are then unfolded from it.")(f)
    f = click.option("--subtract-n-collisions", "subtract_n", type=POSITIVE, multiple=True,
                     help="Collisions each --subtract file stands for, in the same order [its metadata].")(f)
    f = click.option("--subtract", "subtract_paths", type=click.Path(path_type=Path), multiple=True,
                     help="A simulation of pairs that are not gamma* (eta -> l l, open charm, ...), taken out with "
                          "weights -w N_data/N_sim; repeatable.")(f)
    f = click.option("--collider", type=POSITIVE, default=None, metavar="SQRT_S",
                     help="The data come from a symmetric pp collider of this sqrt(s), GeV (lab = centre of mass).")(f)
    f = click.option("--beam-energy", type=POSITIVE, default=None,
                     help="The data come from a proton beam of this energy (GeV) on a fixed target [what the file "
                          "records, else 400].")(f)
    f = click.option("--acceptance-floor", type=Number(high=1.0), default=0.01, show_default=True,
                     help="Smallest acceptance used in 1/A.")(f)
    f = click.option("--acceptance", default=None,
                     help="Acceptance map A(m, pT, y): .npz or .root[:TH3 name]; pairs get weight / A.")(f)
    f = click.option("--like-sign-bin", type=POSITIVE, default=0.01, show_default=True,
                     help="Mass bin width (GeV) of the like-sign subtraction.")(f)
    f = click.option("--like-sign-r", type=POSITIVE, default=1.0, show_default=True,
                     help="R in N_sig = N+- - 2 R sqrt(N++ N--).")(f)
    f = click.option("--max-abs-eta", type=POSITIVE, default=None, help="Lepton |eta| cut before pairing (--leptons).")(f)
    f = click.option("--min-pt", type=NON_NEGATIVE, default=None, help="Lepton pT cut (GeV) before pairing (--leptons).")(f)
    f = click.option("--background", type=click.Choice(["like-sign"]), default=None,
                     help="Subtract the combinatorial background with like-sign pairs (needs charges: --leptons or "
                          "per-leg columns q1, q2).")(f)
    f = click.option("--columns", default=None, metavar="KEY=NAME,...",
                     help="Your column names for ours: px_pos..e_neg, or per leg px1,py1,pz1,e1,q1,px2,..,q2, or "
                          "pt1,eta1,phi1,q1,pt2,..,q2; and weight.  Ours in any case are found by themselves.")(f)
    f = click.option("--leptons", default=None,
                     help="Build pairs from this event-level lepton collection of a ROOT file, any case (Muon: "
                          "Muon_pt/_eta/_phi/_charge or Muon_Px/_Py/_Pz/_E/_Charge).")(f)
    f = click.option("--tree", default=None,
                     help="ROOT TTree or RNTuple (or --data FILE.root:NAME) [events for pairs, Events with --leptons, "
                          "or the file's only one].")(f)
    f = click.option("--json", "as_json", is_flag=True, help="Print JSON to stdout instead of a table.")(f)
    f = click.option("--n-collisions", type=float, default=None,
                     help="Collisions (or protons on target) the sample stands for; yields become per collision.")(f)
    f = click.option("--lepton", type=click.Choice(["e", "mu"]), default=None,
                     help="Force the lepton flavour (default: inferred from the leptons' masses).")(f)
    f = click.option("--data", "data_path", type=click.Path(path_type=Path), required=True,
                     help=f"Dilepton pairs: {listed_suffixes()}.")(f)
    return f


def rates_options(f: F) -> F:
    """The data options, with --data or a published --spectrum table."""
    f = data_options(f)
    for p in f.__click_params__:  # type: ignore[attr-defined]
        if p.name == "data_path":
            p.required = False
            p.help = f"Dilepton pairs: {listed_suffixes()} (or use --spectrum)."
    f = cluster_options(f, "read a directory's files on")
    return click.option("--spectrum", "spectrum_path", type=click.Path(path_type=Path), default=None,
                        help="A published dN/dm table instead of events: HEPData YAML/CSV or m_lo,m_hi,value,err CSV.")(f)


def cluster_options(f: F, what: str) -> F:
    """--workers N (a local Dask cluster) and --scheduler ADDRESS (a running one)."""
    f = click.option("--scheduler", default=None, metavar="ADDRESS",
                     help=f"{what[0].upper()}{what[1:]} a running Dask cluster (e.g. tcp://host:8786).")(f)
    return click.option("--workers", type=click.IntRange(min=1), default=None,
                        help=f"{what[0].upper()}{what[1:]} a local Dask cluster of this many processes.")(f)


def beam_option(beam_energy: float | None, collider: float | None) -> Beam | None:
    """The beams ``--beam-energy`` or ``--collider`` give (not both), or None."""
    if beam_energy is not None and collider is not None:
        raise gammastar.GammastarError("give either --beam-energy (a fixed target) or --collider (a collider), not both")
    if collider is not None:
        return Beam.collider(collider)
    return Beam.fixed_target(beam_energy) if beam_energy is not None else None


def open_data(data_path: Path | None, lepton: str | None, n_collisions: float | None, opts: dict[str, Any],
              stream: bool | None = None, beam: Beam | None = None) -> gammastar.Sample:
    """The sample the options describe: ``--data`` (events) or ``--spectrum`` (a table), not both.

    The beams are ``--beam-energy``/``--collider``, else ``beam``, else what the data record.
    """
    beam = beam_option(opts.pop("beam_energy", None), opts.pop("collider", None)) or beam
    workers, scheduler = opts.pop("workers", None), opts.pop("scheduler", None)
    if workers is not None or scheduler is not None:
        from gammastar.io.stream import should_stream

        if data_path is None or not should_stream(data_path):
            raise gammastar.GammastarError("--workers and --scheduler read the files of a directory (or a file too large "
                                           "to read at once) on a Dask cluster; give --data DIR")
        from gammastar.distributed import cluster

        with cluster(workers, scheduler) as client:
            return open_data(data_path, lepton, n_collisions, {**opts, "client": client}, stream, beam)
    opts["beam"] = beam
    opts["subtract"] = subtractions(opts.pop("subtract_paths", ()), opts.pop("subtract_n", ()))
    spectrum_path = opts.pop("spectrum_path", None)
    if spectrum_path is not None:
        if data_path is not None:
            raise gammastar.GammastarError("give either --data (events) or --spectrum (a published table), not both")
        return gammastar.open_sample(spectrum_path, spectrum=True, lepton=lepton, n_collisions=n_collisions, **opts)
    if data_path is None:
        raise gammastar.GammastarError("give the dilepton data with --data FILE (or a published table with --spectrum FILE)")
    return gammastar.open_sample(data_path, stream=stream, lepton=lepton, n_collisions=n_collisions, **opts)


def check_not_input(out: Path, data_path: Path | None, opts: dict[str, Any]) -> None:
    """Refuse, before any work, an output that is the data, the spectrum table or the acceptance map."""
    acceptance = opts.get("acceptance")
    check_output(out, data_path, opts.get("spectrum_path"), acceptance_file(acceptance)[0] if acceptance else None,
                  *opts.get("subtract_paths", ()))


def header(title: str, data: gammastar.Sample) -> str:
    """The first line of a table: command, input, what it holds, normalisation."""
    norm = f"per collision (n_collisions = {data.n_collisions:.6g})" if data.n_collisions is not None else "per sample"
    beam = f", {data.beam.describe()}" if data.beam is not None else ""
    return f"# gammastar {title}: {data.source}, {data.describe()}{beam}, yields {norm}"


def emit(payload: dict[str, Any], table_rows: list[str], as_json: bool) -> None:
    """JSON or the table on stdout."""
    if as_json:
        click.echo(dumps(payload))
    else:
        click.echo("\n".join(table_rows))


def check_disk(out: Path, n: int, bytes_each: float, what: str) -> None:
    """Refuse, before any work, an output the disk holding ``out`` has no room for (with 5% to spare)."""
    parent = out.parent
    while not parent.exists() and parent != parent.parent:
        parent = parent.parent
    need, free = n * bytes_each, shutil.disk_usage(parent).free
    if need > 0.95 * free:
        raise gammastar.GammastarError(f"writing {n:.3g} {what} needs about {need / 1e9:.3g} GB, and the disk holding "
                                       f"{out} has {free / 1e9:.3g} GB free")


def _plot_path(ctx: click.Context, param: click.Parameter, value: Path | None) -> Path | None:
    if value is not None:
        from gammastar.figures import plot_formats

        formats = plot_formats()
        if value.suffix.lstrip(".").lower() not in formats:
            raise click.BadParameter(f"{str(value)!r}: a plot needs one of the extensions "
                                     f"{', '.join(sorted(formats))}", ctx, param)
    return value


def plot_option(f: F) -> F:
    """--plot FILE with an extension matplotlib can write."""
    return click.option("--plot", type=click.Path(dir_okay=False, path_type=Path), default=None, callback=_plot_path,
                        help="Also draw a plot (.png, .pdf, .svg, ...).")(f)


def parse_window(text: str | None) -> tuple[float, float] | None:
    """A mass window ``LO:HI`` (GeV), or None."""
    if text is None:
        return None
    try:
        lo, hi = (float(x) for x in text.split(":"))
    except ValueError:
        raise gammastar.GammastarError(f"mass window {text!r}: use LO:HI in GeV") from None
    if not lo < hi:
        raise gammastar.GammastarError(f"mass window {text!r}: need LO < HI")
    return lo, hi
