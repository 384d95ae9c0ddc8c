"""Plots of a search: the A' lifetime and branching ratios, the reach in (mass, eps) with the existing bounds, and
where detector-level A' decay in a volume (in the house style of :mod:`gammastar.figures`)."""

from __future__ import annotations

import warnings
from pathlib import Path

import matplotlib
import matplotlib.pyplot as plt
import numpy as np

from ..figures import PlotLabel, decorate, save_figure, shade_runs, styled
from ..physics.channels import CHANNELS
from ..physics.decays import AprimeDecay
from .contour import ReachContour
from .experiment import Experiment

__all__ = ["plot_widths", "plot_reach", "plot_decay_vertices"]


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
               band_label: str = "statistical and width-model band", extrapolated: np.ndarray | None = None,
               extrapolated_high: np.ndarray | None = None, low_at_end: np.ndarray | None = None,
               high_at_end: np.ndarray | None = None) -> Path:
    """The reach in (mass, eps), log-log: the contour, a band (the envelope of ``band``'s contours) and the
    existing bounds shaded grey with their names.  Edges flagged per mass in ``low_at_end`` and ``high_at_end``
    are the eps grid's end, not the reach's: they are drawn dotted.  Masses
    ``extrapolated`` (the data cover less than 90% of what the experiment accepts at the lower edge) are shaded; an
    upper edge ``extrapolated_high`` is dashed.  The legend sits below the frame."""
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
        none = np.zeros(mm.size, dtype=bool)
        at_bottom = none if low_at_end is None else np.asarray(low_at_end)[ok]
        at_top = none if high_at_end is None else np.asarray(high_at_end)[ok]
        ax.plot(mm, np.where(at_bottom, np.nan, lo), color="C0", lw=2, zorder=4,
                label=rf"$N_\mathrm{{signal}} \geq {contour.threshold:g}$")
        beyond = none if extrapolated_high is None else np.asarray(extrapolated_high)[ok]
        ax.plot(mm, np.where(at_top | beyond, np.nan, hi), color="C0", lw=2, zorder=4)
        if beyond.any():  # dashed over each flagged point and out to its neighbours
            ax.plot(mm, np.where(_and_neighbours(beyond) & ~at_top, hi, np.nan), color="C0", lw=2, ls="--", zorder=4,
                    label="upper edge where the data thin out (extrapolated)")
        for end, edge in ((at_top, hi), (at_bottom, lo)):
            if end.any():  # over each point at the grid's end and out to its neighbours: the line stays joined
                ax.plot(mm, np.where(_and_neighbours(end), edge, np.nan), color="C0", lw=1, ls=":", zorder=4)
        if (at_top | at_bottom).any():
            ax.plot([], [], color="C0", lw=1, ls=":", label="the eps grid's end (the reach goes beyond)")
        for k in (0, -1):  # the ends of the mass grid (or of the data), not edges of the reach
            ax.plot([mm[k], mm[k]], [lo[k], hi[k]], color="C0", lw=1, ls=":", zorder=4)
    if extrapolated is not None and np.any(extrapolated):
        shade_runs((ax,), m, extrapolated, "data cover < 90% of what it accepts (extrapolated)", "#fde0c5", log=True)
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlim(lo_x, hi_x)
    ax.set_ylim(lo_y, hi_y)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    decorate(ax, None, legend=False)
    if label is not None and label.beam:
        ax.set_title(label.beam, loc="right", fontsize=13)
    # below the frame: inside, wherever it went, it hid a part of some reach or of the bounds it is compared with
    leg = ax.legend(frameon=False, loc="upper center", bbox_to_anchor=(0.5, -0.12), ncol=2, title=title,
                    title_fontsize=12, fontsize=12)
    leg._legend_box.align = "center"  # type: ignore[attr-defined]
    return save_figure(fig, path)


def _and_neighbours(flags: np.ndarray) -> np.ndarray:
    """The flagged points and those beside them: a line over them joins the line drawn over the others."""
    return np.asarray(flags | np.r_[flags[1:], False] | np.r_[False, flags[:-1]])


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
