"""Plots of the flow against data: distributions and their ratio, variable by variable (the house style of
:mod:`gammastar.figures`)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ..figures import PlotLabel, decorate_row, figure, save_figure, style

__all__ = ["ratio_plots"]

#: axis labels of the pair variables
LABELS = {"m": r"$m$ [GeV]", "log_pt": r"$\log(p_T/\mathrm{GeV})$", "y": "$y$", "phi": r"$\phi$",
          "cos_cs": r"$\cos\theta_{CS}$", "phi_cs": r"$\phi_{CS}$"}


def ratio_plots(data: dict[str, np.ndarray], flow: dict[str, np.ndarray], weight: np.ndarray | None, path: Path,
                edges: dict[str, np.ndarray], label: PlotLabel | None = None) -> Path:
    """Data and flow distributions with the data/flow ratio and its statistical band, one panel per variable (those
    of ``edges``, each with its bin edges)."""
    names = tuple(edges)
    with style():
        fig, axes = figure(True, width=3.4 * len(names), ncols=len(names))
        w_d = weight if weight is not None else np.ones(len(data["m"]))
        norm = w_d.sum() / len(flow["m"])
        for i, k in enumerate(names):
            e = edges[k]
            h_d, _ = np.histogram(data[k], e, weights=w_d)
            v_d, _ = np.histogram(data[k], e, weights=w_d**2)
            h_f, _ = np.histogram(flow[k], e)
            c = 0.5 * (e[1:] + e[:-1])
            ax, rx = axes[0, i], axes[1, i]
            ax.stairs(h_f * norm, e, color="C1", label="flow")
            ax.errorbar(c, h_d, np.sqrt(v_d), fmt=".", color="k", ms=3, label="data")
            ax.set_yticks([])
            ok = (h_f > 0) & (h_d > 0)
            r = np.full(c.size, np.nan)
            r_err = np.full(c.size, np.nan)
            r[ok] = h_d[ok] / (h_f[ok] * norm)
            r_err[ok] = r[ok] * np.sqrt(v_d[ok] / h_d[ok] ** 2 + 1.0 / h_f[ok])
            rx.fill_between(c, r - r_err, r + r_err, color="0.7", step="mid", lw=0)
            rx.plot(c, r, drawstyle="steps-mid", color="k", lw=1)
            rx.axhline(1.0, color="C1", lw=1)
            rx.set_ylim(0.8, 1.2)
            rx.set_xlabel(LABELS[k])
        axes[0, 0].legend(frameon=False)
        axes[1, 0].set_ylabel("data / flow")
        decorate_row(list(axes[0]), label)
        return save_figure(fig, path, dpi=110)
