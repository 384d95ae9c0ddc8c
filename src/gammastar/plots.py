"""Plots people would rather look at than tables (matplotlib, headless)."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

from .io.atomic import atomic_path  # noqa: E402
from .rates.yields import AprimeYield, McpYield  # noqa: E402

_LEPTON_TEX = {"mu": r"\mu", "e": "e"}


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
        fig.savefig(tmp, dpi=dpi, format=path.suffix.lstrip(".").lower() or "png")
    plt.close(fig)
    return path


def _per(normalization: str) -> str:
    return "per collision" if normalization == "per_collision" else "per sample"


def plot_aprime(result: AprimeYield, path: str | Path, truth: dict | None = None) -> Path:
    """A' yield per eps^2 vs mass: the data-driven 1-sigma band, and the truth if given.

    ``truth`` maps a label to ``(mass, n_per_eps2)`` arrays.
    """
    has_truth = bool(truth)
    fig, axes = plt.subplots(
        2 if has_truth else 1, 1, figsize=(7, 6 if has_truth else 4.5), sharex=True,
        gridspec_kw={"height_ratios": [3, 1]} if has_truth else None, squeeze=False,
    )
    ax = axes[0, 0]
    m, n, e = result.mass, result.n_per_eps2, result.n_err
    ax.fill_between(m, n - e, n + e, color="C0", alpha=0.35, lw=0, label=r"data-driven $\pm1\sigma$")
    ax.plot(m, n, color="C0", lw=1)
    styles = ["-", "--", ":", "-."]
    for k, (label, (tm, tn)) in enumerate((truth or {}).items()):
        ax.plot(tm, tn, color="k", ls=styles[k % 4], lw=1.2, label=label)
    ax.set_yscale("log")
    ax.set_ylabel(rf"$N_{{A'}}/\varepsilon^2$ ({_per(result.normalization)})")
    ax.set_title(rf"Dark-photon yield from $\gamma^* \to {_LEPTON_TEX[result.lepton]}^+{_LEPTON_TEX[result.lepton]}^-$")
    ax.legend(frameon=False)
    if truth:
        tm, tn = next(iter(truth.values()))
        ref = np.interp(m, tm, tn)
        good = ref > 0
        r = axes[1, 0]
        r.fill_between(m[good], ((n - e) / ref)[good], ((n + e) / ref)[good], color="C0", alpha=0.35, lw=0)
        r.axhline(1.0, color="k", lw=1)
        r.set_ylim(0.8, 1.2)
        r.set_ylabel("data / truth")
    axes[-1, 0].set_xlabel(r"$m_{A'}$ [GeV]")
    fig.tight_layout()
    return save_figure(fig, path)


def plot_mcp(results: list[McpYield], path: str | Path, truth: dict | None = None) -> Path:
    """mCP pair yield per eps^2 vs m_chi for one or more spins, truth lines optional.

    ``truth`` maps a spin to ``(m_chi, n_pairs_per_eps2)``.
    """
    fig, ax = plt.subplots(figsize=(7, 4.5))
    for k, res in enumerate(results):
        c = f"C{k}"
        n, e = res.n_pairs_per_eps2, res.n_err
        ax.fill_between(res.m_chi, n - e, n + e, color=c, alpha=0.35, lw=0)
        ax.plot(res.m_chi, n, color=c, lw=1, label=f"{res.spin}, data-driven")
        if truth and res.spin in truth:
            tm, tn = truth[res.spin]
            ax.plot(tm, tn, color=c, ls="--", lw=1.2, label=f"{res.spin}, direct formula")
    if results:
        ax.set_xlim(0.0, max(r.m_chi.max() for r in results) * 1.02)
        ax.axvspan(0.0, results[0].m_min / 2, color="0.85", zorder=0,
                   label=r"$2m_\chi < 2m_\ell$: visible part only")
    ax.set_yscale("log")
    ax.set_xlabel(r"$m_\chi$ [GeV]")
    ax.set_ylabel(rf"$N_{{\chi\bar\chi}}/\varepsilon^2$ ({_per(results[0].normalization)})" if results else "")
    ax.set_title("Millicharged-particle pair yield")
    ax.legend(frameon=False, fontsize=8)
    fig.tight_layout()
    return save_figure(fig, path)


def plot_mass_spectrum(
    mass: np.ndarray, weight: np.ndarray, path: str | Path, lepton: str, scale: float = 1.0,
    normalization: str = "per_sample", groups: dict[str, np.ndarray] | None = None,
) -> Path:
    """dN/dm of the pairs, stacked by ``groups`` (label -> boolean mask) when given."""
    lt = _LEPTON_TEX[lepton]
    hi = float(np.quantile(mass, 0.9995)) if mass.size else 1.0
    edges = np.linspace(mass.min(), hi, 241).tolist()
    width = edges[1] - edges[0]
    fig, ax = plt.subplots(figsize=(7, 4.5))
    if groups:
        labels = list(groups)
        ax.hist([mass[groups[g]] for g in labels], bins=edges, weights=[weight[groups[g]] * scale / width for g in labels],
                stacked=True, histtype="stepfilled", alpha=0.7, label=labels)
        ax.legend(frameon=False, fontsize=8, ncol=2)
    ax.hist(mass, bins=edges, weights=weight * scale / width, histtype="step", color="k", label="all")
    ax.set_yscale("log")
    ax.set_xlabel(rf"$m_{{{lt}{lt}}}$ [GeV]")
    ax.set_ylabel(rf"$dN_{{{lt}{lt}}}/dm$ [GeV$^{{-1}}$, {_per(normalization)}]")
    ax.set_title("Dilepton mass spectrum")
    fig.tight_layout()
    return save_figure(fig, path)
