"""Training the flow on dilepton pairs: a weighted maximum-likelihood fit with early stopping.

The loss is the weighted negative log-likelihood
``-sum_i w_i log q(x_i | c_i) / sum_i w_i`` of the pair kinematics and the
decay angles together.  Its minimiser is the flow closest (in KL divergence)
to the weighted density, which with signed weights (background subtraction)
is the subtracted density, as long as that is non-negative; each mini-batch
uses the training set's mean weight as normaliser, so batches with a net
negative weight still give unbiased gradients.  90/10 train/validation split,
Adam with the learning rate halved when the validation loss stalls, early
stopping keeping the best epoch; a fixed seed gives identical weights.
"""

from __future__ import annotations

import copy
import dataclasses
import math
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from scipy import stats

from .. import __version__
from ..errors import GammastarError
from ..physics.angular import direction
from ..samples import EventSample, Sample
from .model import (
    FlowConfig,
    KinematicsFlow,
    TrainedModel,
    angular_log_prob,
    check_device,
    h_from_raw,
    pair_variables,
    raw_pair_features,
)
from .modelfile import file_sha256

if TYPE_CHECKING:
    import torch

__all__ = ["train", "phi_uniformity_pvalue"]


def phi_uniformity_pvalue(phi: np.ndarray, weight: np.ndarray, bins: int = 36) -> float:
    """p-value of a flat azimuth: chi2 of the weighted phi histogram against its mean."""
    h, _ = np.histogram(phi, bins=bins, range=(-np.pi, np.pi), weights=weight)
    v, _ = np.histogram(phi, bins=bins, range=(-np.pi, np.pi), weights=weight**2)
    mean = h.sum() / bins
    chi2 = float(np.sum((h - mean) ** 2 / np.maximum(v, 1e-300)))
    return float(stats.chi2.sf(chi2, bins - 1))


def _weighted_mean_std(x: np.ndarray, w: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    mean = np.sum(w[:, None] * x, axis=0) / w.sum()
    var = np.sum(w[:, None] * (x - mean) ** 2, axis=0) / w.sum()
    return mean, np.sqrt(np.maximum(var, 1e-12))


def _check_config(config: FlowConfig) -> None:
    check_device(config.device)
    if config.epochs < 1 or config.batch_size < 1:
        raise GammastarError("epochs and batch size must be at least 1")
    if not 0.0 < config.val_fraction < 0.5:
        raise GammastarError(f"validation fraction must be in (0, 0.5), not {config.val_fraction}")


def _training_pairs(data: EventSample, config: FlowConfig) -> tuple[dict[str, np.ndarray], np.ndarray]:
    """The pairs' variables and weights outside the held-out mass window."""
    v = pair_variables(data, config.beam)
    w = data.weight
    keep = np.ones(len(w), dtype=bool)
    if config.holdout_mass is not None:
        lo, hi = config.holdout_mass
        if not lo < hi:
            raise GammastarError(f"holdout mass window must have LO < HI, not {lo}:{hi}")
        keep = (v["m"] < lo) | (v["m"] > hi)
    if keep.sum() < 100:
        raise GammastarError(f"only {int(keep.sum())} pairs to train on; need at least 100")
    v = {k: x[keep] for k, x in v.items()}
    w = w[keep]
    if w.sum() <= 0:
        raise GammastarError("the training pairs have a non-positive net weight")
    return v, w


def _new_flow(config: FlowConfig, v: dict[str, np.ndarray], w: np.ndarray, modelled_phi: bool) -> KinematicsFlow:
    """A fresh network with the standardisation of these pairs' features."""
    pair_features = ["log_pt", "y"] + (["phi"] if modelled_phi else [])
    raw_pair = raw_pair_features(v, modelled_phi)
    pair_mean, pair_std = _weighted_mean_std(raw_pair, w)
    logm_mean, logm_std = _weighted_mean_std(np.log(v["m"])[:, None], w)
    norm = {"pair_mean": pair_mean.tolist(), "pair_std": pair_std.tolist(),
            "logm_mean": float(logm_mean[0]), "logm_std": float(logm_std[0])}
    return KinematicsFlow(config, pair_features, norm)


def _fit(
    flow: KinematicsFlow, t: dict[str, torch.Tensor], train_idx: np.ndarray, val_idx: np.ndarray, w_train_mean: float,
    w_val_sum: float, config: FlowConfig, progress: bool,
) -> tuple[list[dict[str, Any]], float]:
    """Mini-batch Adam with early stopping; leaves the best epoch's weights in ``flow``.

    ``w_train_mean`` normalises every batch's loss, ``w_val_sum`` the validation loss.
    """
    import torch
    from tqdm import tqdm

    params = list(flow.pair.parameters()) + list(flow.hnet.parameters())
    opt = torch.optim.Adam(params, lr=config.learning_rate)
    sched = torch.optim.lr_scheduler.ReduceLROnPlateau(opt, factor=0.5, patience=1)
    gen = torch.Generator().manual_seed(config.seed)
    train_t = torch.as_tensor(train_idx, device=flow.device)
    val_t = torch.as_tensor(val_idx, device=flow.device)

    def batch_nll(idx: torch.Tensor) -> torch.Tensor:
        lp = flow.pair(t["m"][idx]).log_prob(t["z"][idx]) + angular_log_prob(
            h_from_raw(flow.hnet(t["a"][idx])), t["n"][idx], t["b2"][idx])
        return -(t["w"][idx] * lp).sum()

    def val_loss() -> float:
        with torch.no_grad():
            total = sum(float(batch_nll(val_t[i : i + 65536])) for i in range(0, len(val_t), 65536))
        return total / w_val_sum

    best, best_state, bad_epochs = math.inf, None, 0
    history: list[dict[str, Any]] = []
    n_batches = math.ceil(len(train_idx) / config.batch_size)
    t0 = time.time()
    bar = tqdm(total=config.epochs * n_batches, desc="train", unit="batch", disable=not progress, delay=1.0)
    for epoch in range(config.epochs):
        order = train_t[torch.randperm(len(train_t), generator=gen).to(flow.device)]
        # the running loss stays on the device (float64): reading it every batch would wait for the GPU every batch
        running_t = torch.zeros((), dtype=torch.float64, device=flow.device)
        for b in range(n_batches):
            idx = order[b * config.batch_size : (b + 1) * config.batch_size]
            loss = batch_nll(idx) / (w_train_mean * len(idx))
            opt.zero_grad()
            loss.backward()
            opt.step()
            lv = loss.detach().double()
            running_t = 0.98 * running_t + 0.02 * lv if b else lv
            bar.update(1)
            if b % 20 == 0 and progress:
                bar.set_postfix(epoch=epoch + 1, loss=f"{float(running_t):.4f}", best_val=f"{best:.4f}")
        running = float(running_t)
        vl = val_loss()
        sched.step(vl)
        history.append({"epoch": epoch + 1, "train_loss": running, "val_loss": vl,
                        "lr": opt.param_groups[0]["lr"], "seconds": time.time() - t0})
        if not math.isfinite(vl):
            raise GammastarError(f"training diverged at epoch {epoch + 1} (validation loss {vl})")
        if vl < best - 1e-5:
            best, best_state, bad_epochs = vl, copy.deepcopy(flow.state_dict()), 0
        else:
            bad_epochs += 1
            if bad_epochs >= config.patience:
                break
    bar.close()
    assert best_state is not None  # the first finite validation loss is always the best so far
    flow.load_state_dict(best_state)
    return history, best


def train(data: Sample, config: FlowConfig | None = None, progress: bool = True) -> TrainedModel:
    """Train the pair flow and the angular network on ``data``; returns the best model on the validation split.

    ``data`` is any :class:`~gammastar.samples.Sample` whose pairs are in
    memory (streamed samples and tables refuse with a one-line error).
    Reproducible: the same data and ``config.seed`` give the same weights on
    the same device and thread count.
    """
    events = data.events()  # before importing torch: a binned sample is refused at once
    import torch

    config = config or FlowConfig()
    if config.mass_resolution is None and data.mass_resolution is not None:  # the model keeps the sample's
        config = dataclasses.replace(config, mass_resolution=data.mass_resolution.points())
    _check_config(config)
    torch.manual_seed(config.seed)
    rng = np.random.default_rng(config.seed)

    v, w = _training_pairs(events, config)
    p_phi = phi_uniformity_pvalue(v["phi"], w)
    flow = _new_flow(config, v, w, modelled_phi=not p_phi > 1e-3)

    mctx = flow.mass_context(v["m"])
    z = flow.pair_to_features(v)
    beta2 = 1.0 - 4.0 * events.m_lepton**2 / v["m"] ** 2
    perm = rng.permutation(len(w))
    n_val = max(1, int(round(config.val_fraction * len(w))))
    val_idx, train_idx = perm[:n_val], perm[n_val:]
    t = {"m": flow.tensor(mctx), "z": flow.tensor(z), "n": flow.tensor(direction(v["cos_cs"], v["phi_cs"])),
         "b2": flow.tensor(beta2), "w": flow.tensor(w)}
    t["a"] = flow.angle_inputs(t["m"], t["z"])
    w_train_mean = float(w[train_idx].mean())
    w_val_sum = float(w[val_idx].sum())
    if w_train_mean <= 0 or w_val_sum <= 0:
        raise GammastarError("training or validation split has a non-positive net weight; use more pairs")
    history, best = _fit(flow, t, train_idx, val_idx, w_train_mean, w_val_sum, config, progress)

    provenance: dict[str, Any] = {
        "source": events.source,
        "n_pairs": int(len(events)),
        "n_train": int(len(train_idx)),
        "n_val": int(len(val_idx)),
        "holdout_mass": list(config.holdout_mass) if config.holdout_mass else None,
        "gammastar_version": __version__,
        "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "best_val_loss": best,
    }
    if Path(events.source).is_file():
        provenance["source_sha256"] = file_sha256(events.source)
    model = TrainedModel(
        flow, events.mass_spectrum(), events.lepton, events.n_collisions, (float(v["m"].min()), float(v["m"].max())),
        (z.min(axis=0).tolist(), z.max(axis=0).tolist()), p_phi, provenance, history,
    )
    if model.tabulates_pairs:
        model.pair_density()  # tabulated once here, stored with the model
    return model
