"""Validation of a trained flow against held-out dilepton data.

For every held-out pair the flow generates one pair at the *same* mass
(pair kinematics from the pair flow, decay angles from the learned
lepton law 1 - beta_l^2 n.H.n), so
data and flow share the mass spectrum and any difference is the flow's.  Then:

* a classifier two-sample test: a gradient-boosted classifier
  (scikit-learn ``HistGradientBoostingClassifier``) is trained on half of
  data-vs-flow and its ROC AUC measured on the other half (0.5 = the flow is
  indistinguishable), overall and per mass window, with the Hanley-McNeil
  standard error;
* binned KL divergences KL(data || flow) of every variable (1-D) and of every
  pair of variables (2-D);
* ratio plots data/flow with statistical bands (PNG);
* a JSON summary of all numbers (:meth:`Validation.to_dict`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from itertools import combinations
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import GammastarError, renamed
from ..figures import plot_label
from ..io.atomic import write_text
from ..io.jsontext import dumps
from ..physics.angular import decay_law
from ..samples import Sample
from .features import pair_variables
from .model import TrainedModel
from .plots import ratio_plots
from .sample import decay_angles, sample_pairs

__all__ = ["VARIABLES", "Auc", "ClassifierTest", "FlowComparison", "Validation", "flow_twins", "classifier_auc",
           "binned_kl", "kl_divergences", "hanley_mcneil_error", "validate"]

VARIABLES = ("m", "log_pt", "y", "phi", "cos_cs", "phi_cs")


@dataclass(frozen=True)
class Auc:
    """ROC AUC of data vs flow (None when one class is absent) with its Hanley-McNeil error, on ``n`` events.

    ``lo``, ``hi``: the mass window (GeV), or None for all masses.
    """

    auc: float | None
    auc_err: float | None
    n: int
    lo: float | None = None
    hi: float | None = None

    def to_dict(self) -> dict[str, Any]:
        d = {"auc": self.auc, "auc_err": self.auc_err, "n": self.n}
        return d if self.lo is None else {"lo": self.lo, "hi": self.hi, **d}


@dataclass(frozen=True)
class ClassifierTest:
    """The classifier two-sample test: overall and per mass window."""

    overall: Auc
    windows: list[Auc] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {"overall": self.overall.to_dict(), "windows": [w.to_dict() for w in self.windows]}


@dataclass(frozen=True)
class FlowComparison:
    """Data vs flow on a set of pairs: classifier test, binned KL divergences (1-D per variable, 2-D per pair)."""

    n_pairs: int
    classifier: ClassifierTest
    kl_1d: dict[str, float]
    kl_2d: dict[str, float]

    @property
    def max_kl_1d(self) -> float:
        return max(self.kl_1d.values())


@dataclass(frozen=True)
class Validation(FlowComparison):
    """A model against held-out data; ``holdout`` compares inside the mass window left out of training."""

    holdout_mass: tuple[float, float] | None = None
    holdout: FlowComparison | None = None

    def to_dict(self) -> dict[str, Any]:
        """The ``validation.json`` summary."""
        d: dict[str, Any] = {
            "n_pairs": self.n_pairs,
            "classifier": self.classifier.to_dict(),
            "kl_1d": self.kl_1d,
            "kl_2d": self.kl_2d,
            "max_kl_1d": self.max_kl_1d,
            "holdout_mass": list(self.holdout_mass) if self.holdout_mass else None,
        }
        if self.holdout is not None:
            h = self.holdout
            d["holdout"] = {"classifier": h.classifier.to_dict(), "kl_1d": h.kl_1d, "kl_2d": h.kl_2d,
                            "n_pairs": h.n_pairs}
        return d


def flow_twins(model: TrainedModel, m: np.ndarray, seed: int = 0, chunk: int = 200_000) -> dict[str, np.ndarray]:
    """One flow-generated pair per mass in ``m``: the variables of :data:`VARIABLES`."""
    rng = np.random.default_rng([seed, 99])
    out: dict[str, list[np.ndarray]] = {k: [] for k in VARIABLES}
    flow = model.flow
    for j, start in enumerate(range(0, m.size, chunk)):
        mm = m[start : start + chunk]
        pairs = sample_pairs(flow, mm, seed * 1000 + 2 * j)
        v = flow.features_to_pair(pairs.features())
        b2 = 1.0 - 4.0 * model.m_lepton**2 / mm**2
        cos_t, phi_cs = decay_angles(flow, pairs, b2, decay_law("fermion"), rng)
        out["m"].append(mm)
        out["log_pt"].append(np.log(v["pt"]))
        out["y"].append(v["y"])
        out["phi"].append(v["phi"] if "phi" in v else rng.uniform(-np.pi, np.pi, mm.size))
        out["cos_cs"].append(cos_t)
        out["phi_cs"].append(phi_cs)
    return {k: np.concatenate(x) for k, x in out.items()}


def hanley_mcneil_error(auc: float, n_pos: float, n_neg: float) -> float:
    """Standard error of a ROC AUC (Hanley & McNeil, Radiology 143 (1982) 29)."""
    q1, q2 = auc / (2 - auc), 2 * auc**2 / (1 + auc)
    var = (auc * (1 - auc) + (n_pos - 1) * (q1 - auc**2) + (n_neg - 1) * (q2 - auc**2)) / (n_pos * n_neg)
    return float(math.sqrt(max(var, 0.0)))


def _features(v: dict[str, np.ndarray], names: tuple[str, ...]) -> np.ndarray:
    return np.column_stack([v[k] for k in names])


def classifier_auc(
    data: dict[str, np.ndarray], flow: dict[str, np.ndarray], weight: np.ndarray | None = None,
    names: tuple[str, ...] = VARIABLES, seed: int = 0, windows: list[tuple[float, float]] | None = None,
) -> ClassifierTest:
    """Classifier two-sample test: ROC AUC (and its error) of data vs flow, overall and per mass window."""
    from sklearn.ensemble import HistGradientBoostingClassifier
    from sklearn.metrics import roc_auc_score

    x = np.vstack([_features(data, names), _features(flow, names)])
    n_d, n_f = len(data["m"]), len(flow["m"])
    y = np.r_[np.ones(n_d), np.zeros(n_f)]
    w = np.r_[np.ones(n_d) if weight is None else weight, np.ones(n_f)]
    m = np.r_[data["m"], flow["m"]]
    rng = np.random.default_rng(seed)
    test = rng.random(y.size) < 0.5
    clf = HistGradientBoostingClassifier(max_iter=200, early_stopping=True, random_state=seed)
    clf.fit(x[~test], y[~test], sample_weight=w[~test])
    score = clf.predict_proba(x[test])[:, 1]

    def auc_in(sel: np.ndarray, lo: float | None = None, hi: float | None = None) -> Auc:
        yy, ss, ww = y[test][sel], score[sel], w[test][sel]
        if yy.min() == yy.max():
            return Auc(None, None, int(sel.sum()), lo, hi)
        auc = float(roc_auc_score(yy, ss, sample_weight=ww))
        return Auc(auc, hanley_mcneil_error(auc, (yy == 1).sum(), (yy == 0).sum()), int(sel.sum()), lo, hi)

    overall = auc_in(np.ones(test.sum(), dtype=bool))
    return ClassifierTest(overall, [auc_in((m[test] >= lo) & (m[test] < hi), lo, hi) for lo, hi in windows or []])


def _edges(a: np.ndarray, bins: int) -> np.ndarray:
    """Equal-width bins over the central 99.8% of ``a``."""
    lo, hi = np.quantile(a, [0.001, 0.999])
    return np.linspace(lo, hi, bins + 1)


def binned_kl(p_counts: np.ndarray, q_counts: np.ndarray) -> float:
    """KL(p || q) of two binned samples (normalised; empty q bins get half a count)."""
    p = np.clip(p_counts, 0, None).astype(float).ravel()
    q = np.clip(q_counts, 0, None).astype(float).ravel()
    q = np.where(q > 0, q, 0.5)
    p, q = p / p.sum(), q / q.sum()
    nz = p > 0
    return float(np.sum(p[nz] * np.log(p[nz] / q[nz])))


def kl_divergences(
    data: dict[str, np.ndarray], flow: dict[str, np.ndarray], weight: np.ndarray | None,
    names: tuple[str, ...] = VARIABLES, bins_1d: int = 50, bins_2d: int = 20,
) -> tuple[dict[str, float], dict[str, float]]:
    """1-D and 2-D binned KL(data || flow) for every variable and pair of variables."""
    out_1d, out_2d = {}, {}
    edges = {k: _edges(data[k], bins_1d) for k in names}
    for k in names:
        h_d, _ = np.histogram(data[k], edges[k], weights=weight)
        h_f, _ = np.histogram(flow[k], edges[k])
        out_1d[k] = binned_kl(h_d, h_f)
    for a, b in combinations(names, 2):
        ea = np.linspace(edges[a][0], edges[a][-1], bins_2d + 1)
        eb = np.linspace(edges[b][0], edges[b][-1], bins_2d + 1)
        h_d, _, _ = np.histogram2d(data[a], data[b], [ea, eb], weights=weight)
        h_f, _, _ = np.histogram2d(flow[a], flow[b], [ea, eb])
        out_2d[f"{a}:{b}"] = binned_kl(h_d, h_f)
    return out_1d, out_2d


def compare(data: dict[str, np.ndarray], flow: dict[str, np.ndarray], weight: np.ndarray | None, seed: int = 0,
            windows: list[tuple[float, float]] | None = None) -> FlowComparison:
    """Classifier test and KL divergences of data vs flow pairs (same masses)."""
    kl_1d, kl_2d = kl_divergences(data, flow, weight)
    return FlowComparison(len(data["m"]), classifier_auc(data, flow, weight, seed=seed, windows=windows), kl_1d, kl_2d)


def default_windows(m: np.ndarray, n: int = 6) -> list[tuple[float, float]]:
    """Mass windows with equal numbers of pairs."""
    q = np.quantile(m, np.linspace(0, 1, n + 1))
    q[-1] = np.nextafter(q[-1], np.inf)
    return [(float(a), float(b)) for a, b in zip(q[:-1], q[1:], strict=True)]


def validate(
    model: TrainedModel, data: Sample, out_dir: str | Path, holdout: tuple[float, float] | None = None,
    seed: int = 0, max_pairs: int = 500_000,
) -> Validation:
    """Compare the flow with held-out ``data``; write plots and ``validation.json`` to ``out_dir``.

    ``data`` is any sample whose pairs are in memory.  ``holdout`` is the mass
    window reported separately (default: the one the model was trained
    without).  At most ``max_pairs`` held-out pairs are used.
    """
    events = data.events()
    out_dir = Path(out_dir)
    if events.lepton != model.lepton:
        raise GammastarError(f"held-out data are {events.lepton}{events.lepton} pairs, the model was trained on "
                             f"{model.lepton}{model.lepton}")
    v = pair_variables(events, model.config.beam)
    lo, hi = model.mass_range
    inside = (v["m"] >= lo) & (v["m"] <= hi)
    if inside.sum() < 200:
        raise GammastarError(f"only {int(inside.sum())} held-out pairs inside the model's mass range {lo:.4g}-{hi:.4g} GeV")
    idx = np.flatnonzero(inside)
    if idx.size > max_pairs:
        idx = np.sort(np.random.default_rng(seed).choice(idx, max_pairs, replace=False))
    d = {k: v[k][idx] for k in VARIABLES}
    w = events.weight[idx]
    label = plot_label(data)
    f = flow_twins(model, d["m"], seed=seed)
    if holdout is None and model.config.holdout_mass:
        holdout = (model.config.holdout_mass[0], model.config.holdout_mass[1])
    windows = default_windows(d["m"]) + ([holdout] if holdout else [])
    overall = compare(d, f, w, seed=seed, windows=windows)
    inside_window, sel = None, None
    if holdout:
        sel = (d["m"] >= holdout[0]) & (d["m"] < holdout[1])
        if sel.sum() >= 200:
            inside_window = compare({k: x[sel] for k, x in d.items()}, {k: x[sel] for k, x in f.items()}, w[sel],
                                    seed=seed)
    # the directory only now, with every number in hand: a run that fails (a damaged model whose flow is read only
    # when sampled, data the model cannot serve) leaves nothing behind
    out_dir.mkdir(parents=True, exist_ok=True)
    if inside_window is not None and sel is not None:
        held = {k: x[sel] for k, x in d.items()}
        ratio_plots(held, {k: x[sel] for k, x in f.items()}, w[sel], out_dir / "ratios_holdout.png",
                    {k: _edges(held[k], 50) for k in VARIABLES}, label=label)
    ratio_plots(d, f, w, out_dir / "ratios.png", {k: _edges(d[k], 50) for k in VARIABLES}, label=label)
    result = Validation(overall.n_pairs, overall.classifier, overall.kl_1d, overall.kl_2d, holdout, inside_window)
    write_text(out_dir / "validation.json", dumps(result.to_dict()))
    return result


#: the names of earlier releases (they warn)
__getattr__ = renamed(__name__, {"Comparison": "FlowComparison"}, lambda name: globals()[name])
