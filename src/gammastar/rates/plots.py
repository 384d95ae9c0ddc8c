"""Plots of the rates: the photon spectrum and N_V, the A' and mCP yields, the pair-mass spectrum, and the
data-driven yields against the meson-decay models (in the house style of :mod:`gammastar.figures`)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import matplotlib.pyplot as plt
import numpy as np

from ..figures import LEPTON_TEX, PlotLabel, decorate, figure, ratio_band, ratio_frame, save_figure, shade_runs, styled
from .yields import AprimeYield, McpYield, PhotonYield

if TYPE_CHECKING:
    from .compare import YieldComparison

__all__ = ["plot_photon", "plot_aprime", "plot_mcp", "plot_mass_spectrum", "plot_comparison"]


@styled
def plot_photon(result: PhotonYield, path: str | Path, label: PlotLabel | None = None) -> Path:
    """dN_ll/dm (points with errors) above N_V(m) (1-sigma band): the measured spectrum and what it implies."""
    lt = LEPTON_TEX[result.lepton]
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
def plot_aprime(result: AprimeYield, path: str | Path, truth: dict[str, Any] | None = None, label: PlotLabel | None = None) -> Path:
    """A' yield per eps^2 vs mass: the data-driven 1-sigma band, and the truth (with a ratio panel) if given.

    ``truth`` maps a label to ``(mass, n_per_eps2)`` arrays; the first is the ratio's reference.
    """
    fig, axes = figure(bool(truth))
    ax = axes[0, 0]
    m, n, e = result.mass, result.n_per_eps2, result.n_err
    lt = LEPTON_TEX[result.lepton]
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
        ratio_band(axes[1, 0], m, n, e, *next(iter(truth.values())))
        ratio_frame(axes[1, 0], "data / truth")
    axes[-1, 0].set_xlabel(r"$m_{A'}$ [GeV]")
    decorate(ax, label)
    return save_figure(fig, path)


@styled
def plot_mcp(results: list[McpYield], path: str | Path, truth: dict[str, Any] | None = None, label: PlotLabel | None = None) -> Path:
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
            ratio_band(axes[1, 0], res.m_chi, n, e, tm, tn, c)
    if has_truth:
        ratio_frame(axes[1, 0], "data / formula")
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

    lt = LEPTON_TEX[lepton]
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
def plot_comparison(comp: YieldComparison, path: str | Path, label: PlotLabel | None = None) -> Path:
    """The data-driven yield (1-sigma band) against every model variant, and each variant / data-driven below.

    Masses where the model side lacks what the data hold (``model_incomplete``) are shaded.
    """
    fig, axes = figure(True, width=9.0)
    ax, rx = axes[0, 0], axes[1, 0]
    x, n, e = comp.x, comp.data_driven, comp.data_driven_err
    lt = LEPTON_TEX.get(comp.lepton, comp.lepton)
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
    shade_runs((ax, rx), x, comp.model_incomplete, "data beyond meson decays", "0.88")
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
