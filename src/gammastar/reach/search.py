"""The reach of a search: signal counts on a (mass, eps) grid, the contour where they reach a threshold, its band.

:func:`aprime_reach` (``gammastar reach aprime``) and :func:`mcp_reach`
(``gammastar reach mcp``) count the signal an experiment expects at every
(mass, eps) of a grid (:func:`~.signal.signal_grid`,
:func:`~.mcp.mcp_signal_grid`), find per mass the couplings between which the
count exceeds ``threshold`` (:func:`~.contour.reach_contour`: 2.3 events is
90% CL with no background), and the same edges with the counts moved by their
1-sigma error (``stat_up``, ``stat_down``) and, for A', with the other shipped
decay table (``width_alt``).  Each edge carries the share of what the
experiment accepts there that lies where the data have pairs
(``data_coverage``; below 0.9 the count is the model's extrapolation).

The result, :class:`Reach`, is what the command writes: ``to_dict()`` is
``reach.json``, ``signal_table()`` is ``signal.parquet``, and :meth:`Reach.save`
writes both with the picture.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from ..errors import GammastarError
from ..figures import PlotLabel
from ..io.atomic import atomic_path, write_text
from ..io.jsontext import dumps
from ..physics.formulas import Spin
from .contour import ReachContour, reach_contour, shipped_bounds
from .coverage import EXTRAPOLATED_BELOW, edge_coverage
from .experiment import Experiment, load_experiment
from .mcp import McpSignalGrid, mcp_signal_grid
from .plots import plot_reach
from .signal import SignalGrid, signal_grid

__all__ = ["Reach", "aprime_reach", "mcp_reach"]


@dataclass(frozen=True)
class Reach:
    """The reach of one search in (mass, eps): the signal grid, the contour at ``threshold`` and its band.

    ``coverage_low`` and ``coverage_high`` are, per mass, the data's coverage at the contour's lower and upper edge
    (NaN where unknown or where no edge); ``provenance`` says what was run (model, events, seed, ...).
    """

    kind: Literal["aprime", "mcp"]
    signals: SignalGrid | McpSignalGrid
    masses: np.ndarray
    eps: np.ndarray
    threshold: float
    contour: ReachContour
    band: dict[str, ReachContour]
    coverage_low: np.ndarray
    coverage_high: np.ndarray
    experiment: Experiment
    provenance: dict[str, Any] = field(default_factory=dict)
    #: the label of its plot: the beams and the normalisation of the model's yields
    label: PlotLabel | None = None

    @property
    def axis(self) -> str:
        """The name of the mass axis: ``mass`` (A') or ``m_chi``."""
        return "mass" if self.kind == "aprime" else "m_chi"

    @property
    def known_coverage(self) -> bool:
        """Whether the model records where its data are (models of older releases do not)."""
        c = self.signals.data_coverage
        return c is not None and bool(np.isfinite(c).any())

    @property
    def extrapolated(self) -> np.ndarray:
        """Per mass, whether the lower edge rests on the model's extrapolation (data_coverage < 0.9)."""
        return self.coverage_low < EXTRAPOLATED_BELOW

    @property
    def low_at_grid_end(self) -> np.ndarray:
        """Per mass, whether the lower edge is the grid's smallest eps: the count is still above the threshold
        there, so the reach goes lower than the grid shows."""
        return self.contour.at_grid_end(self.eps)[0]

    @property
    def high_at_grid_end(self) -> np.ndarray:
        """Per mass, whether the upper edge is the grid's largest eps (the reach goes higher than the grid)."""
        return self.contour.at_grid_end(self.eps)[1]

    def to_dict(self) -> dict[str, Any]:
        """What ``reach.json`` holds: the threshold, per mass the edges (and whether each is the grid's end rather
        than the reach's), their band and coverage, the failures, the experiment and the provenance."""
        out = self.contour.to_dict(self.band, self.axis)
        for row, low, high, low_end, high_end in zip(out["contour"], self.coverage_low, self.coverage_high,
                                                     self.low_at_grid_end, self.high_at_grid_end, strict=True):
            row.update({"data_coverage": _number(low), "extrapolated": _flag(low), "data_coverage_high": _number(high),
                        "extrapolated_high": _flag(high), "eps_low_at_grid_end": bool(low_end),
                        "eps_high_at_grid_end": bool(high_end)})
        out.update({"failed": [f.to_dict(self.axis) for f in self.signals.failed], "experiment": self.experiment.name,
                    "n_collisions": self.experiment.n_collisions, "replicas": self.signals.replicas,
                    **self.provenance})
        return out

    def signal_table(self) -> pa.Table:
        """The signal counts, one row per (mass, eps), mass-major (``signal.parquet``)."""
        return self.signals.to_table()

    def plot(self, path: str | Path) -> Path:
        """The reach over the existing bounds, with its band and the extrapolated masses shaded."""
        aprime = self.kind == "aprime"
        model = Path(str(self.provenance.get("model", ""))).name or "the model"
        what = "A'" if aprime else "chi"
        return plot_reach(
            self.contour, path, list(self.band.values()), shipped_bounds(self.kind),
            title=f"{self.experiment.name}\n{what} from {model}", label=self.label,
            xlabel=r"$m_{A'}$ [GeV]" if aprime else r"$m_\chi$ [GeV]",
            ylabel=r"$\varepsilon$" if aprime else r"$\varepsilon = Q/e$",
            band_label="statistical and width-model band" if "width_alt" in self.band else "statistical band",
            extrapolated=self.extrapolated, extrapolated_high=self.coverage_high < EXTRAPOLATED_BELOW,
            low_at_end=self.low_at_grid_end, high_at_end=self.high_at_grid_end)

    def save(self, out_dir: str | Path) -> Path:
        """``signal.parquet`` and ``signal.csv``, ``reach.json`` and ``reach.png`` in ``out_dir`` (each file written
        under a temporary name and renamed when complete)."""
        out_dir = Path(out_dir)
        out_dir.mkdir(parents=True, exist_ok=True)
        table = self.signal_table()
        with atomic_path(out_dir / "signal.parquet") as tmp:
            pq.write_table(table, tmp, compression="zstd")
        with atomic_path(out_dir / "signal.csv") as tmp:
            pacsv.write_csv(table, tmp)
        write_text(out_dir / "reach.json", dumps(self.to_dict()) + "\n")
        self.plot(out_dir / "reach.png")
        return out_dir


def aprime_reach(generator: Any, experiment: Experiment | str, masses: Any, eps: Any, *, n_events: int = 100_000,
                 seed: int = 0, threshold: float = 2.3, progress: bool = False) -> Reach:
    """The A' reach of ``experiment`` (an :class:`~.experiment.Experiment`, a preset's name or a TOML file) on the
    grid ``masses`` x ``eps``, from ``generator``'s A' (``n_events`` generated per mass)."""
    exp = experiment if isinstance(experiment, Experiment) else load_experiment(experiment)
    masses, eps = np.atleast_1d(np.asarray(masses, dtype=float)), np.atleast_1d(np.asarray(eps, dtype=float))
    signals = signal_grid(generator, exp, masses, eps, n_events=n_events, seed=seed, progress=progress)
    alt = signals.reshaped("n_signal_width_alt")
    return _reach("aprime", signals, masses, eps, threshold, generator, exp, alt if np.isfinite(alt).any() else None, {
        "model": generator.source, "n_events": n_events, "seed": seed,
        "band": "eps_low_/eps_high_ with the signal at +-1 sigma of the data (stat_up, stat_down) and with the "
                "other decay table (width_alt)"})


def mcp_reach(generator: Any, experiment: Experiment | str, m_chi: Any, eps: Any, *, spin: Spin = "fermion",
              n_events: int = 100_000, seed: int = 0, threshold: float = 2.3, progress: bool = False) -> Reach:
    """The millicharged-particle reach of ``experiment``'s mCP detector on the grid ``m_chi`` x ``eps`` (charges in
    units of e), from ``generator``'s chi-chibar pairs of ``spin`` (``n_events`` pairs per m_chi)."""
    exp = experiment if isinstance(experiment, Experiment) else load_experiment(experiment)
    if exp.mcp_detector is None:
        raise GammastarError(f"experiment {exp.origin or exp.name}: no [mcp_detector] table to detect chi with")
    m_chi, eps = np.atleast_1d(np.asarray(m_chi, dtype=float)), np.atleast_1d(np.asarray(eps, dtype=float))
    signals = mcp_signal_grid(generator, exp, m_chi, eps, spin=spin, n_events=n_events, seed=seed, progress=progress)
    partial = [float(m) for m in m_chi if 2 * m < generator.model.mass_range[1] and generator.mcp_incomplete(float(m))]
    return _reach("mcp", signals, m_chi, eps, threshold, generator, exp, None, {
        "model": generator.source, "spin": spin, "n_events": n_events, "seed": seed, "incomplete": partial,
        "band": "eps_low_/eps_high_ with the signal at +-1 sigma of the data (stat_up, stat_down)"})


def _reach(kind: Literal["aprime", "mcp"], signals: SignalGrid | McpSignalGrid, masses: np.ndarray, eps: np.ndarray,
           threshold: float, generator: Any, experiment: Experiment, alt: np.ndarray | None,
           provenance: dict[str, Any]) -> Reach:
    """The contour and band of ``signals``, and the data's coverage at its edges."""
    if len(signals.failed) == masses.size:
        raise GammastarError(f"no mass could be estimated: {signals.failed[0].reason}")
    n = signals.reshaped("n_signal")
    contour = reach_contour(masses, eps, n, threshold)
    rel = np.divide(signals.reshaped("n_signal_err"), n, out=np.zeros_like(n), where=n > 0)
    band = {"stat_up": reach_contour(masses, eps, n * (1 + rel), threshold),
            "stat_down": reach_contour(masses, eps, n * np.clip(1 - rel, 0, None), threshold)}
    if alt is not None:
        band["width_alt"] = reach_contour(masses, eps, np.where(np.isfinite(alt), alt, n), threshold)
    known = signals.data_coverage is not None and np.isfinite(signals.data_coverage).any()
    low, high = (edge_coverage(eps, signals.reshaped("data_coverage"), contour) if known
                 else (np.full(masses.size, np.nan),) * 2)
    label = PlotLabel(f"{experiment.name}, {experiment.n_collisions:.3g} collisions", generator.beam.describe(),
                      generator.model.normalization)
    return Reach(kind, signals, masses, eps, threshold, contour, band, low, high, experiment, provenance, label)


def _number(x: float) -> float | None:
    return float(x) if np.isfinite(x) else None


def _flag(x: float) -> bool | None:
    return bool(x < EXTRAPOLATED_BELOW) if np.isfinite(x) else None
