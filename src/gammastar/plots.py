"""Plots people would rather look at than tables: matplotlib with mplhep's styling, headless.

Every plot says what it shows: ``gammastar`` above the frame on the left,
the beam on the right, and the sample and normalisation inside
(:class:`PlotLabel`, from a sample by :func:`plot_label`).  Where a reference
(truth, a direct formula, the data) is drawn, a ratio panel is drawn below.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import wraps
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from matplotlib.axes import Axes  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

from .io.atomic import atomic_path  # noqa: E402
from .physics.channels import CHANNELS  # noqa: E402
from .physics.decays import AprimeDecay  # noqa: E402
from .rates.yields import AprimeYield, McpYield, PhotonYield  # noqa: E402
from .reach.contour import ReachContour  # noqa: E402
from .reach.experiment import Experiment  # noqa: E402

if TYPE_CHECKING:
    from .rates.compare import Comparison
    from .samples import Sample

__all__ = ["PlotLabel", "plot_label", "plot_formats", "save_figure", "style", "styled", "figure", "decorate", "decorate_row",
           "plot_photon",
           "plot_aprime", "plot_mcp", "plot_mass_spectrum"]

_LEPTON_TEX = {"mu": r"\mu", "e": "e"}
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


def _ratio_band(rx: Axes, x: np.ndarray, n: np.ndarray, e: np.ndarray, ref_x: np.ndarray, ref_y: np.ndarray,
                color: str = "C0") -> None:
    """The 1-sigma band (n +- e) / reference, where the reference (interpolated at ``x``) is positive."""
    ref = np.interp(x, ref_x, ref_y)
    good = ref > 0
    rx.fill_between(x[good], ((n - e) / ref)[good], ((n + e) / ref)[good], color=color, alpha=0.35, lw=0)


def _ratio_frame(rx: Axes, ylabel: str, span: float = 0.2) -> None:
    """The ratio panel's line at 1, its range and its label."""
    rx.axhline(1.0, color="k", lw=1)
    rx.set_ylim(1 - span, 1 + span)
    rx.set_ylabel(ylabel)


@styled
def plot_photon(result: PhotonYield, path: str | Path, label: PlotLabel | None = None) -> Path:
    """dN_ll/dm (points with errors) above N_V(m) (1-sigma band): the measured spectrum and what it implies."""
    lt = _LEPTON_TEX[result.lepton]
    fig, axes = plt.subplots(2, 1, figsize=(8, 8), sharex=True, gridspec_kw={"hspace": 0.06})
    top, bottom = axes
    m = result.mass
    top.errorbar(m, result.dn_ll_dm, result.dn_ll_dm_err, fmt="o", ms=3, color="k", lw=1,
                 label=rf"$dN_{{{lt}{lt}}}/dm$ (local estimate)")
    top.set_yscale("log")
    top.set_ylabel(rf"$dN_{{{lt}{lt}}}/dm$ [GeV$^{{-1}}$]")
    n, e = result.n_v, result.n_v_err
    bottom.fill_between(m, n - e, n + e, color="C0", alpha=0.35, lw=0, label=r"$N_V(m)$ $\pm1\sigma$")
    bottom.plot(m, n, color="C0", lw=1)
    bottom.set_yscale("log")
    bottom.set_ylabel(r"$N_V$")
    bottom.set_xlabel(rf"$m_{{{lt}{lt}}}$ = $m_V$ [GeV]")
    decorate(top, label)
    bottom.legend(frameon=False, loc="upper right")
    return save_figure(fig, path)


@styled
def plot_aprime(result: AprimeYield, path: str | Path, truth: dict | None = None, label: PlotLabel | None = None) -> Path:
    """A' yield per eps^2 vs mass: the data-driven 1-sigma band, and the truth (with a ratio panel) if given.

    ``truth`` maps a label to ``(mass, n_per_eps2)`` arrays; the first is the ratio's reference.
    """
    fig, axes = figure(bool(truth))
    ax = axes[0, 0]
    m, n, e = result.mass, result.n_per_eps2, result.n_err
    lt = _LEPTON_TEX[result.lepton]
    ax.fill_between(m, n - e, n + e, color="C0", alpha=0.35, lw=0, label=rf"from $\gamma^*\to{lt}{lt}$ $\pm1\sigma$")
    ax.plot(m, n, color="C0", lw=1)
    for k, (lab, (tm, tn)) in enumerate((truth or {}).items()):
        ax.plot(tm, tn, color="k", ls=["-", "--", ":", "-."][k % 4], lw=1.2, label=lab)
    ax.set_yscale("log")
    shown = n[np.isfinite(n) & (n > 0)]
    if shown.size:  # the data's range, with room for the legend above (a reference may fall far below)
        ax.set_ylim(0.2 * float(shown.min()), float(shown.max()) * 1e3)
    ax.set_ylabel(r"$N_{A'}/\varepsilon^2$")
    if truth:
        _ratio_band(axes[1, 0], m, n, e, *next(iter(truth.values())))
        _ratio_frame(axes[1, 0], "data / truth")
    axes[-1, 0].set_xlabel(r"$m_{A'}$ [GeV]")
    decorate(ax, label)
    return save_figure(fig, path)


@styled
def plot_mcp(results: list[McpYield], path: str | Path, truth: dict | None = None, label: PlotLabel | None = None) -> Path:
    """mCP pair yield per eps^2 vs m_chi for one or more spins; truth lines (and a ratio panel) optional.

    ``truth`` maps a spin to ``(m_chi, n_pairs_per_eps2)``.
    """
    has_truth = bool(truth) and any(r.spin in (truth or {}) for r in results)
    fig, axes = figure(has_truth)
    ax = axes[0, 0]
    for k, res in enumerate(results):
        c = f"C{k}"
        n, e = res.n_pairs_per_eps2, res.n_err
        ax.fill_between(res.m_chi, n - e, n + e, color=c, alpha=0.35, lw=0)
        ax.plot(res.m_chi, n, color=c, lw=1, label=f"{res.spin}, data-driven")
        if truth and res.spin in truth:
            tm, tn = truth[res.spin]
            ax.plot(tm, tn, color=c, ls="--", lw=1.2, label=f"{res.spin}, direct formula")
            _ratio_band(axes[1, 0], res.m_chi, n, e, tm, tn, c)
    if has_truth:
        _ratio_frame(axes[1, 0], "data / formula")
    if results:
        for a in axes[:, 0]:
            a.set_xlim(0.0, max(r.m_chi.max() for r in results) * 1.02)
            a.axvspan(0.0, results[0].m_min / 2, color="0.85", zorder=0,
                      label=r"$2m_\chi < m_{min}$: visible part only" if a is ax else None)
    ax.set_yscale("log")
    axes[-1, 0].set_xlabel(r"$m_\chi$ [GeV]")
    ax.set_ylabel(r"$N_{\chi\bar\chi}/\varepsilon^2$")
    decorate(ax, label)
    return save_figure(fig, path)


@styled
def plot_mass_spectrum(
    mass: np.ndarray, weight: np.ndarray, path: str | Path, lepton: str, scale: float = 1.0,
    groups: dict[str, np.ndarray] | None = None, label: PlotLabel | None = None,
) -> Path:
    """dN/dm of the pairs, stacked by ``groups`` (label -> boolean mask) when given."""
    import mplhep

    lt = _LEPTON_TEX[lepton]
    hi = float(np.quantile(mass, 0.9995)) if mass.size else 1.0
    edges = np.linspace(mass.min(), hi, 241)
    width = edges[1] - edges[0]
    fig, axes = figure(False)
    ax = axes[0, 0]
    if groups:
        labels = list(groups)
        hists = [np.histogram(mass[groups[g]], edges, weights=weight[groups[g]] * scale / width)[0] for g in labels]
        colors = [plt.get_cmap("tab10")(i % 10) for i in range(len(labels))]  # one colour per source
        mplhep.histplot(hists, edges, stack=True, histtype="fill", alpha=0.75, label=labels, color=colors, ax=ax)
    h, _ = np.histogram(mass, edges, weights=weight * scale / width)
    mplhep.histplot(h, edges, histtype="step", color="k", label="all", ax=ax)
    ax.set_yscale("log")
    ax.set_xlabel(rf"$m_{{{lt}{lt}}}$ [GeV]")
    ax.set_ylabel(rf"$dN_{{{lt}{lt}}}/dm$ [GeV$^{{-1}}$]")
    ax.set_ylim(top=float(np.nanmax(h)) * 300)  # room for the legend above the peaks
    decorate(ax, label, fontsize=11, ncol=2)
    return save_figure(fig, path)


@styled
def plot_widths(decay: AprimeDecay, path: str | Path, others: dict[str, AprimeDecay] | None = None) -> Path:
    """A' c tau at eps = 1 (top) and branching ratios (bottom) vs mass; ``others`` (label -> decays on the same
    masses) are drawn as thin lines for comparison (e.g. the two shipped tables)."""
    fig, (top, bottom) = plt.subplots(2, 1, figsize=(8, 8), sharex=True, gridspec_kw={"hspace": 0.06})
    m = decay.mass
    top.plot(m, decay.ctau_m_eps1, color="k", lw=1.5, label="used")
    for k, (lab, other) in enumerate((others or {}).items()):
        top.plot(other.mass, other.ctau_m_eps1, color=f"C{k + 3}", lw=1, ls="--", label=lab)
    top.set_yscale("log")
    top.set_ylabel(r"$c\tau$ at $\varepsilon = 1$ [m]")
    for key, lab, c, ls in (("br_ee", r"$e^+e^-$", "C0", "-"), ("br_mumu", r"$\mu^+\mu^-$", "C1", "--"),
                            ("br_hadrons", "hadrons", "C2", "-")):
        bottom.plot(m, getattr(decay, key), color=c, lw=1.5, ls=ls, label=lab)
    bottom.set_ylim(0, 1.05)
    bottom.set_ylabel("branching ratio")
    bottom.set_xlabel(r"$m_{A'}$ [GeV]")
    if m[-1] > 10 * m[0]:
        bottom.set_xscale("log")
    decorate(top, None, legend=False)
    top.legend(frameon=False, loc="upper right", title=r"$c\tau \propto 1/\varepsilon^2$", title_fontsize=12)
    bottom.legend(frameon=False, loc="center left")
    return save_figure(fig, path)


@styled
def plot_reach(contour: ReachContour, path: str | Path, band: list[ReachContour] | None = None,
               bounds: dict[str, np.ndarray] | None = None, title: str = "", label: PlotLabel | None = None,
               ylabel: str = r"$\varepsilon$", xlabel: str = r"$m_{A'}$ [GeV]",
               band_label: str = "statistical and width-model band", eps_top: float | None = None,
               extrapolated: np.ndarray | None = None, extrapolated_high: np.ndarray | None = None) -> Path:
    """The reach in (mass, eps), log-log: the contour, a band (the envelope of ``band``'s contours) and the
    existing bounds shaded grey with their names.  An upper edge at ``eps_top`` (the grid's last eps) is the
    grid's end, not the reach's: it is drawn dotted.  Masses ``extrapolated`` (the data cover less than 90% of
    what the experiment accepts at the lower edge) are shaded; an upper edge ``extrapolated_high`` is dashed."""
    fig, ax = plt.subplots(figsize=(8.5, 6.5))
    m = contour.mass
    ok = np.isfinite(contour.eps_low)
    lo_x, hi_x = float(m.min()) / 1.5, float(m.max()) * 1.5
    shown = np.concatenate([contour.eps_low[ok], contour.eps_high[ok]])
    lo_y = float(shown.min()) / 30 if shown.size else 1e-9
    hi_y = float(shown.max()) * 30 if shown.size else 1e-2
    for name, outline in (bounds or {}).items():
        x, y = outline[:, 0], outline[:, 1]
        if x.max() < lo_x or x.min() > hi_x or y.max() < lo_y or y.min() > hi_y:
            continue
        ax.fill(x, y, color="0.85", ec="0.6", lw=0.6, zorder=1)
        inside = (x > lo_x) & (x < hi_x) & (y > lo_y) & (y < hi_y)
        if inside.sum() > 2:
            lx, ly = np.exp(np.mean(np.log(x[inside]))), np.exp(np.mean(np.log(y[inside])))
            ax.text(lx, ly, name, fontsize=9, color="0.35", ha="center", va="center", zorder=2)
    if band:
        stack_lo = np.array([c.eps_low for c in band])
        stack_hi = np.array([c.eps_high for c in band])
        with np.errstate(invalid="ignore"), warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # masses where no variant reaches the threshold
            for s in (stack_lo, stack_hi):
                ax.fill_between(m, np.nanmin(s, axis=0), np.nanmax(s, axis=0), color="C0", alpha=0.3, lw=0, zorder=3)
        ax.fill_between([], [], [], color="C0", alpha=0.3, lw=0, label=band_label)
    if ok.any():
        mm, lo, hi = m[ok], contour.eps_low[ok], contour.eps_high[ok]
        ax.plot(mm, lo, color="C0", lw=2, zorder=4, label=rf"$N_\mathrm{{signal}} \geq {contour.threshold:g}$")
        at_top = np.zeros(mm.size, dtype=bool) if eps_top is None else hi >= eps_top * (1 - 1e-9)
        beyond = np.zeros(mm.size, dtype=bool) if extrapolated_high is None else np.asarray(extrapolated_high)[ok]
        ax.plot(mm, np.where(at_top | beyond, np.nan, hi), color="C0", lw=2, zorder=4)
        if beyond.any():  # dashed over each flagged point and out to its neighbours
            near = beyond | np.r_[beyond[1:], False] | np.r_[False, beyond[:-1]]
            ax.plot(mm, np.where(near & ~at_top, hi, np.nan), color="C0", lw=2, ls="--", zorder=4,
                    label="upper edge where the data thin out (extrapolated)")
        if at_top.any():
            ax.plot(mm, np.where(at_top, hi, np.nan), color="C0", lw=1, ls=":", zorder=4)
        for k in (0, -1):  # the ends of the mass grid (or of the data), not edges of the reach
            ax.plot([mm[k], mm[k]], [lo[k], hi[k]], color="C0", lw=1, ls=":", zorder=4)
    if extrapolated is not None and np.any(extrapolated):
        _shade_runs((ax,), m, extrapolated, "data cover < 90% of what it accepts (extrapolated)", "#fde0c5", log=True)
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlim(lo_x, hi_x)
    ax.set_ylim(lo_y, hi_y)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    decorate(ax, None, legend=False)
    if label is not None and label.beam:
        ax.set_title(label.beam, loc="right", fontsize=13)
    leg = ax.legend(frameon=True, framealpha=0.75, edgecolor="none", loc="upper right", title=title, title_fontsize=12)
    leg._legend_box.align = "right"  # type: ignore[attr-defined]
    return save_figure(fig, path)


def _shade_runs(axes: tuple[Any, ...], x: np.ndarray, flags: np.ndarray, label: str, color: str,
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


@styled
def plot_comparison(comp: Comparison, path: str | Path, label: PlotLabel | None = None) -> Path:
    """The data-driven yield (1-sigma band) against every model variant, and each variant / data-driven below.

    Masses where the model side lacks what the data hold (``model_incomplete``) are shaded.
    """
    fig, axes = figure(True, width=9.0)
    ax, rx = axes[0, 0], axes[1, 0]
    x, n, e = comp.x, comp.data_driven, comp.data_driven_err
    lt = _LEPTON_TEX.get(comp.lepton, comp.lepton)
    # the data on top of the models: their band is what the models are to be judged against
    ax.fill_between(x, n - e, n + e, color="C0", alpha=0.5, lw=0, zorder=3)
    ax.plot(x, n, color="k", lw=1.4, zorder=4, label=rf"data-driven ($\gamma^*\to{lt}{lt}$) $\pm1\sigma$")
    styles = {"pointlike": ":", "vmd": "--", "na60": "-"}
    # a colour per set of multiplicities, a line style per set of form factors
    mults = list(dict.fromkeys(tuple(sorted(v.multiplicity.items())) for v in comp.variants.values()))
    for name, y in comp.models.items():
        v = comp.variants[name]
        color = f"C{1 + mults.index(tuple(sorted(v.multiplicity.items()))) % 9}"
        ax.plot(x, np.where(y > 0, y, np.nan), color=color, ls=styles.get(v.form_factors, "-."), lw=1.3, label=name)
        with np.errstate(divide="ignore", invalid="ignore"):
            rx.plot(x, np.where((y > 0) & (n > 0), y / n, np.nan), color=color, ls=styles.get(v.form_factors, "-."),
                    lw=1.3)
    good = n > 0
    rx.fill_between(x[good], (1 - e / n)[good], (1 + e / n)[good], color="C0", alpha=0.5, lw=0, zorder=3)
    rx.axhline(1.0, color="k", lw=1.4, zorder=4)
    rx.set_yscale("log")
    ratios = [y / n for y in comp.models.values() if np.any((y > 0) & good)]
    finite = np.concatenate([r[np.isfinite(r) & (r > 0)] for r in ratios]) if ratios else np.array([])
    lo, hi = (float(finite.min()), float(finite.max())) if finite.size else (0.5, 2.0)
    rx.set_ylim(min(lo, 0.5) / 1.3, max(hi, 2.0) * 1.3)
    rx.set_ylabel("model / data")
    # where the data hold more than meson decays
    _shade_runs((ax, rx), x, comp.model_incomplete, "data beyond meson decays", "0.88")
    ax.set_yscale("log")
    shown = n[np.isfinite(n) & (n > 0)]
    if shown.size:  # the data's range (models far below it are cut), with room for the legend above
        top = max([float(shown.max())] + [float(np.nanmax(y)) for y in comp.models.values() if np.any(y > 0)])
        ax.set_ylim(0.1 * float(shown.min()), top * 30)
    if comp.key == "mass":
        ax.set_ylabel(r"$N_{A'}/\varepsilon^2$ per collision")
        rx.set_xlabel(r"$m_{A'}$ [GeV]")
    else:
        ax.set_ylabel(rf"$N_{{\chi\bar\chi}}/\varepsilon^2$ per collision ({comp.spin})")
        rx.set_xlabel(r"$m_\chi$ [GeV]")
    decorate(ax, label, ncol=2, fontsize=10)
    return save_figure(fig, path)


_CHANNEL_LABELS = {"ee": r"$e^+e^-$", "mumu": r"$\mu^+\mu^-$", "pipi": r"$\pi^+\pi^-$", "3pi": r"$\pi^+\pi^-\pi^0$",
                   "pi0gamma": r"$\pi^0\gamma$", "K+K-": r"$K^+K^-$", "KSKL": r"$K_SK_L$"}


@styled
def plot_decay_vertices(events: dict[str, np.ndarray], experiment: Experiment, path: str | Path, title: str = "",
                        label: PlotLabel | None = None) -> Path:
    """Where detector-level A' decay (:func:`gammastar.reach.events.aprime_detector_events`), weighted by the signal
    they stand for: a side view (z, x) of the volume with its acceptance from the target, and the signal per metre
    along z by decay channel."""
    fig, (side, along) = plt.subplots(1, 2, figsize=(15, 6), gridspec_kw={"wspace": 0.25})
    v = experiment.decay_volume
    w = events["weight"]
    z_bins = np.linspace(v.z_start, v.z_end, 61)
    span = v.shape.radius if v.shape.kind == "circle" else v.shape.half_x
    x_bins = np.linspace(v.shape.centre_x - 1.1 * span, v.shape.centre_x + 1.1 * span, 61)
    h, _, _ = np.histogram2d(events["vz_m"], events["vx_m"], [z_bins, x_bins], weights=w)
    h = np.where(h > 0, h, np.nan) / (np.diff(z_bins)[:, None] * np.diff(x_bins)[None, :])
    top = float(np.nanmax(h)) if np.isfinite(h).any() else 1.0
    mesh = side.pcolormesh(z_bins, x_bins, h.T, cmap="viridis", rasterized=True,
                           norm=matplotlib.colors.LogNorm(vmin=top * 1e-4, vmax=top))  # four decades: the rest is noise
    fig.colorbar(mesh, ax=side, label=r"signal events / m$^2$", pad=0.02)
    for k, edge in enumerate((v.shape.centre_x - span, v.shape.centre_x + span)):  # lines from the target
        side.plot([v.z_start, v.z_end], [edge * v.z_start / v.z_end, edge], color="C3", lw=1.5, ls="--",
                  label="acceptance (lines from the target)" if k == 0 else None)
    side.legend(frameon=False, loc="upper right", fontsize=12)
    side.set_xlabel(r"$z$ of the decay [m]")
    side.set_ylabel(r"$x$ of the decay [m]")
    names = np.array([c.name for c in CHANNELS])
    present = [k for k in range(len(CHANNELS)) if np.any(events["channel"] == k)]
    stack = [np.histogram(events["vz_m"][events["channel"] == k], z_bins, weights=w[events["channel"] == k])[0]
             / np.diff(z_bins) for k in present]
    import mplhep

    mplhep.histplot(stack, z_bins, stack=True, histtype="fill", ax=along, alpha=0.8,
                    label=[_CHANNEL_LABELS.get(str(names[k]), str(names[k])) for k in present])
    along.set_xlabel(r"$z$ of the decay [m]")
    along.set_ylabel("signal events / m")
    along.set_xlim(v.z_start, v.z_end)
    along.set_ylim(0, 1.45 * float(np.sum(stack, axis=0).max()))  # room for the legend above the stack
    decorate(side, None, legend=False)
    if label is not None and label.beam:
        along.set_title(label.beam, loc="right", fontsize=13)
    along.legend(frameon=False, loc="upper right", title=title, title_fontsize=12)
    return save_figure(fig, path)
