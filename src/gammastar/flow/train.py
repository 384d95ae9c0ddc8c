"""Training a model on dilepton pairs: the flow's fit (:mod:`.fit`), its table, and the model it makes.

The fit is a weighted maximum-likelihood fit with early stopping
(:mod:`.fit`); the model keeps the fitted networks, the pair-density table
tabulated from them (:mod:`.density`), the data's mass spectrum (for the
normalisation) and the provenance.
"""

from __future__ import annotations

import dataclasses
import time
from pathlib import Path
from typing import Any

import numpy as np
from scipy import stats

from .. import __version__
from ..errors import GammastarError
from ..samples import Sample
from .fit import fit_flow, new_flow, training_pairs
from .model import TrainedModel
from .modelfile import file_sha256
from .networks import FlowConfig, check_device
from .replicas import fit_replicas

__all__ = ["train", "add_replicas", "phi_uniformity_pvalue"]


def phi_uniformity_pvalue(phi: np.ndarray, weight: np.ndarray, bins: int = 36) -> float:
    """p-value of a flat azimuth: chi2 of the weighted phi histogram against its mean."""
    h, _ = np.histogram(phi, bins=bins, range=(-np.pi, np.pi), weights=weight)
    v, _ = np.histogram(phi, bins=bins, range=(-np.pi, np.pi), weights=weight**2)
    mean = h.sum() / bins
    chi2 = float(np.sum((h - mean) ** 2 / np.maximum(v, 1e-300)))
    return float(stats.chi2.sf(chi2, bins - 1))


def _check_config(config: FlowConfig) -> None:
    check_device(config.device)
    if config.epochs < 1 or config.batch_size < 1:
        raise GammastarError("epochs and batch size must be at least 1")
    if not 0.0 < config.val_fraction < 0.5:
        raise GammastarError(f"validation fraction must be in (0, 0.5), not {config.val_fraction}")



def train(data: Sample, config: FlowConfig | None = None, progress: bool = True, replicas: int = 0,
          workers: int | None = None) -> TrainedModel:
    """Train the pair flow and the angular network on ``data``; returns the best model on the validation split.

    ``data`` is any :class:`~gammastar.samples.Sample` whose pairs are in
    memory (streamed samples and tables refuse with a one-line error).
    Reproducible: the same data and ``config.seed`` give the same weights on
    the same device and thread count.  With ``replicas`` K > 0, K more flows
    are fitted to bootstrap resamples of the data (:mod:`.replicas`; on
    ``workers`` processes, by default one per core) and kept with the model:
    the uncertainty of the kinematics from the finite data.
    """
    if replicas < 0:
        raise GammastarError(f"the number of replicas must be at least 1 (or 0 for none), not {replicas}")
    events = data.events()  # before importing torch: a binned sample is refused at once
    config = config or FlowConfig()
    if config.mass_resolution is None and data.mass_resolution is not None:  # the model keeps the sample's
        config = dataclasses.replace(config, mass_resolution=data.mass_resolution.points())
    _check_config(config)
    pairs = training_pairs(events, config)
    p_phi = phi_uniformity_pvalue(pairs.v["phi"], pairs.w)
    flow = new_flow(config, pairs, modelled_phi=not p_phi > 1e-3)
    fit = fit_flow(flow, pairs, progress)

    provenance: dict[str, Any] = {
        "source": events.source,
        "n_pairs": int(len(events)),
        "n_train": fit.n_train,
        "n_val": fit.n_val,
        "holdout_mass": list(config.holdout_mass) if config.holdout_mass else None,
        "gammastar_version": __version__,
        "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "best_val_loss": fit.best_val_loss,
        "replicas": replicas,
    }
    if Path(events.source).is_file():
        provenance["source_sha256"] = file_sha256(events.source)
    m, z = pairs.v["m"], flow.pair_to_features(pairs.v)
    model = TrainedModel(
        flow, events.mass_spectrum(), events.lepton, events.n_collisions, (float(m.min()), float(m.max())),
        (z.min(axis=0).tolist(), z.max(axis=0).tolist()), p_phi, provenance, fit.history, support=pairs.support(),
    )
    if model.tabulates_pairs:
        model.pair_density()  # tabulated once here, stored with the model
    if replicas:
        model.replicas = fit_replicas(model, pairs, replicas, workers, progress)
    return model


def add_replicas(model: TrainedModel, data: Sample, count: int, workers: int | None = None,
                 progress: bool = True) -> TrainedModel:
    """``model`` with ``count`` replicas fitted to resamples of ``data``, which must be the pairs it was trained on
    (checked by the number of pairs, and by the file's SHA-256 where the model recorded it)."""
    if model.flow.pair_features[0] != "pt_probit":
        raise GammastarError("this model was trained by an older gammastar (pairs in log pT): train it again with "
                             "`replicas=K` to have replicas")
    events = data.events()
    sha = model.provenance.get("source_sha256")
    same_file = sha is None or not Path(events.source).is_file() or file_sha256(events.source) == sha
    if len(events) != model.provenance.get("n_pairs") or not same_file:
        raise GammastarError(f"{events.source} is not the data the model was trained on "
                             f"({model.provenance.get('source', '?')}, {model.provenance.get('n_pairs', '?')} pairs)")
    pairs = training_pairs(events, model.config)
    model.replicas = fit_replicas(model, pairs, count, workers, progress)
    model.provenance["replicas"] = count
    return model
