"""The house style every gammastar plot shares: matplotlib with mplhep's styling.

Every plot says what it shows: ``gammastar`` above the frame on the left,
the beam on the right, and the sample and normalisation inside
(:class:`PlotLabel`, from a sample by :func:`plot_label`).  Where a reference
(truth, a direct formula, the data) is drawn, a ratio panel is drawn below
(:func:`figure`, :func:`ratio_band`, :func:`ratio_frame`).  Figures are saved
atomically (:func:`save_figure`).  Nothing here chooses a backend: the
command line draws off screen, a notebook inline.

The plots themselves live beside what they show: :mod:`gammastar.rates.plots`,
:mod:`gammastar.flow.plots`, :mod:`gammastar.reach.plots`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import wraps
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from .io.atomic import atomic_path

if TYPE_CHECKING:
    from .samples import Sample

__all__ = ["PlotLabel", "plot_label", "plot_formats", "save_figure", "style", "styled", "figure", "decorate",
           "decorate_row", "ratio_band", "ratio_frame", "shade_runs", "LEPTON_TEX"]

LEPTON_TEX = {"mu": r"\mu", "e": "e"}


F = TypeVar("F", bound=Callable[..., Any])


@dataclass(frozen=True)
class PlotLabel:
    """What a plot is of: the sample (one line), the beam (or ""), the normalisation."""

    sample: str = ""
    beam: str = ""
    normalization: str = "per_sample"

    @property
    def per(self) -> str:
        return "per collision" if self.normalization == "per_collision" else "per sample"


def plot_label(sample: Sample) -> PlotLabel:
    """The label of plots made from ``sample``."""
    beam = getattr(sample, "beam", None)
    return PlotLabel(f"{Path(sample.source).name or sample.source}: {sample.describe()}",
                     beam.describe() if beam is not None else "", sample.normalization)


def plot_formats() -> set[str]:
    """File extensions matplotlib can write (png, pdf, svg, ...)."""
    fig = plt.figure()
    try:
        return set(fig.canvas.get_supported_filetypes())
    finally:
        plt.close(fig)


def save_figure(fig: Figure, path: str | Path, dpi: int = 120) -> Path:
    """Save and close ``fig`` atomically, in the format of the file extension."""
    path = Path(path)
    with atomic_path(path) as tmp:
        fig.savefig(tmp, dpi=dpi, format=path.suffix.lstrip(".").lower() or "png", bbox_inches="tight")
    plt.close(fig)
    return path


@contextmanager
def style() -> Iterator[None]:
    """The house style (mplhep's ROOT style at a size for two panels) while the block runs."""
    import mplhep

    # ROOT's look at a size that leaves room for two panels and long axis labels
    with plt.style.context([mplhep.style.ROOT, {"font.size": 16, "axes.labelsize": 19, "xtick.labelsize": 15,
                                                "ytick.labelsize": 15, "legend.fontsize": 14}]):
        yield


def styled(f: F) -> F:
    """Draw ``f``'s figure in the house style (mplhep's ROOT style)."""

    @wraps(f)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        with style():
            return f(*args, **kwargs)

    return wrapper  # type: ignore[return-value]


def figure(ratio: bool, width: float = 8.0, ncols: int = 1) -> tuple[Figure, np.ndarray]:
    """A figure with a main panel and, with ``ratio``, a ratio panel below it; axes as a (rows, cols) array."""
    if ratio:
        fig, axes = plt.subplots(2, ncols, figsize=(width, 7.5), sharex="col", squeeze=False,
                                 gridspec_kw={"height_ratios": [3, 1], "hspace": 0.06})
    else:
        fig, axes = plt.subplots(1, ncols, figsize=(width, 6), squeeze=False)
    return fig, axes


def decorate(ax: Axes, label: PlotLabel | None, legend: bool = True, **legend_options: Any) -> None:
    """The house label: gammastar and the beam above the frame, the sample and normalisation as the legend's title."""
    import mplhep

    mplhep.label.exp_label(exp="gammastar", text="", llabel="", rlabel=(label.beam if label else ""), ax=ax, loc=0,
                           fontsize=15)
    title = f"{label.sample}\nyields {label.per}" if label is not None else None
    if legend and ax.get_legend_handles_labels()[0]:
        options = {"frameon": False, "loc": "upper right", "title_fontsize": 12, **legend_options}
        ax.legend(title=title, **options)._legend_box.align = "right"  # type: ignore[attr-defined]
    elif title:
        ax.text(0.97, 0.96, title, transform=ax.transAxes, fontsize=12, va="top", ha="right", color="0.25")


def decorate_row(axes: list[Axes], label: PlotLabel | None) -> None:
    """The house label over a row of panels: gammastar and the sample on the left, the beam on the right."""
    import mplhep

    mplhep.label.exp_label(exp="gammastar", text="", llabel=label.sample if label else "", rlabel="", ax=axes[0],
                           loc=0, fontsize=15)
    if label is not None and label.beam:
        axes[-1].set_title(label.beam, loc="right", fontsize=13)


def ratio_band(rx: Axes, x: np.ndarray, n: np.ndarray, e: np.ndarray, ref_x: np.ndarray, ref_y: np.ndarray,
                color: str = "C0") -> None:
    """The 1-sigma band (n +- e) / reference, where the reference (interpolated at ``x``) is positive."""
    ref = np.interp(x, ref_x, ref_y)
    good = ref > 0
    rx.fill_between(x[good], ((n - e) / ref)[good], ((n + e) / ref)[good], color=color, alpha=0.35, lw=0)


def ratio_frame(rx: Axes, ylabel: str, span: float = 0.2) -> None:
    """The ratio panel's line at 1, its range and its label."""
    rx.axhline(1.0, color="k", lw=1)
    rx.set_ylim(1 - span, 1 + span)
    rx.set_ylabel(ylabel)


def shade_runs(axes: tuple[Any, ...], x: np.ndarray, flags: np.ndarray, label: str, color: str,
                log: bool = False) -> None:
    """Shade the runs of flagged points, each out to the midpoints with its neighbours (geometric on a log axis);
    the first axes carries the legend entry."""
    t = np.log(x) if log else np.asarray(x, dtype=float)
    step = t[1] - t[0] if t.size > 1 else 0.0
    edges = np.concatenate([[t[0] - step / 2], 0.5 * (t[1:] + t[:-1]), [t[-1] + (t[-1] - t[-2]) / 2 if t.size > 1 else 0]])
    edges = np.exp(edges) if log else edges
    runs = np.flatnonzero(np.diff(np.r_[0, np.asarray(flags, dtype=int), 0])).reshape(-1, 2)
    for a in axes:
        for k, (i, j) in enumerate(runs):
            a.axvspan(edges[i], edges[j], color=color, lw=0, zorder=0, label=label if a is axes[0] and k == 0 else None)
